// Embedded mode's first start: demo keys so that the README's curl works at once. Never in
// production: there a demo admin key would be a known door, and the banner a key in the logs.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApiKey, type ApiKeyStore } from './auth/api-keys.ts';
import type { BinRange, WatchlistStore } from './core/watchlist.ts';

export interface DemoCredentials {
  merchantKey: string;
  issuerKey: string;
  adminKey: string;
  [more: string]: unknown;
}

export const DEMO_MERCHANT = 'demo-merchant';
export const DEMO_ISSUER = 'demo-issuer';
/** The demo issuer's cards: the classic test Visa numbers 4111 11xx ... */
export const DEMO_BIN_RANGES: BinRange[] = [{ from: '411111', to: '411199' }];

/** Demo credentials exist only for the embedded stores, and never with NODE_ENV=production. */
export function demoCredentialsWanted(nodeEnv: string, embedded: boolean): boolean {
  return embedded && nodeEnv !== 'production';
}

export const demoCredentialsPath = (stateDir: string) => join(stateDir, 'demo-credentials.json');

/**
 * What `npm start` prints: where the file is, and the merchant and issuer keys for the README's
 * curl. Never the admin key: stdout is a log stream once the engine runs under a supervisor.
 */
export function demoBanner(
  stateDir: string,
  demo: { path: string; created: boolean; credentials: DemoCredentials },
): string {
  const c = demo.credentials;
  return (
    `\nLeakguard embedded mode (in-memory velocity store, state in ${stateDir}).\n` +
    `Demo credentials ${demo.created ? 'created' : 'loaded'}: ${demo.path} (mode 0600; the admin key is only there)\n` +
    `  merchant (${DEMO_MERCHANT}): ${c.merchantKey}\n  issuer   (${DEMO_ISSUER}):   ${c.issuerKey}  (BIN ranges ${JSON.stringify(c.issuerBinRanges ?? [])})\n\n`
  );
}

export interface DemoAnalyst {
  username: string;
  password: string;
  /** Base32, SHA-1, 6 digits, 30-second steps. */
  totpSecret: string;
}

/**
 * `analyst`: creates the demo console analyst, called when the file is written and, for a file
 * written before the console existed, once more to add it.
 */
export async function ensureDemoCredentials(
  stateDir: string,
  keys: ApiKeyStore,
  watchlist: WatchlistStore,
  analyst?: () => Promise<DemoAnalyst>,
): Promise<{ path: string; created: boolean; credentials: DemoCredentials }> {
  const path = demoCredentialsPath(stateDir);
  if (existsSync(path)) {
    const credentials = JSON.parse(readFileSync(path, 'utf8')) as DemoCredentials;
    if (analyst && !credentials.analyst) {
      credentials.analyst = await analyst();
      writeFileSync(path, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
    }
    return { path, created: false, credentials };
  }
  // Another issuer registered before the first start may hold them: the demo issuer then has none, as printed.
  const rangesTaken = (await watchlist.setBinRanges(DEMO_ISSUER, DEMO_BIN_RANGES)) !== undefined;
  const merchant = await createApiKey(keys, {
    role: 'merchant',
    merchantId: DEMO_MERCHANT,
    label: 'demo',
    actor: 'system:demo',
  });
  const issuer = await createApiKey(keys, {
    role: 'issuer',
    issuerId: DEMO_ISSUER,
    label: 'demo',
    actor: 'system:demo',
  });
  const admin = await createApiKey(keys, { role: 'admin', label: 'demo', actor: 'system:demo' });
  const credentials: DemoCredentials = {
    merchantKey: merchant.key,
    issuerKey: issuer.key,
    adminKey: admin.key,
    issuerBinRanges: rangesTaken ? [] : DEMO_BIN_RANGES,
  };
  if (analyst) credentials.analyst = await analyst();
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  return { path, created: true, credentials };
}
