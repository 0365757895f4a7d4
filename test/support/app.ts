// Builds the real app (real runtime, real adapters) for tests, with keys for every role.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createApiKey } from '../../services/auth/api-keys.ts';
import { loadConfig } from '../../services/config.ts';
import { buildApp } from '../../services/http/app.ts';
import { loadAccessConfig } from '../../services/http/access.ts';
import { createLogger } from '../../services/logger.ts';
import { createRuntime, type Runtime } from '../../services/runtime.ts';
import type { ScoreRequestInput } from '../../services/core/schemas.ts';
import { consoleOptions } from '../../services/console/options.ts';
import type { Config } from '../../services/config.ts';
import type { RedisClient } from '../../services/adapters/redis/connection.ts';

export const TEST_CARD_KEY = 'a'.repeat(64);
export const TEST_DATA_KEY = 'd'.repeat(64);

export interface TestApp {
  app: FastifyInstance;
  runtime: Runtime;
  keys: { merchant: string; otherMerchant: string; issuer: string; admin: string };
  logs: string[];
  stateDir: string;
  config: Config;
  close(): Promise<void>;
}

/**
 * `cases`: also opens the case database (PGlite unless DATABASE_URL is given) and serves the console.
 * `redis`: the client the app counts its shared rate limit and login attempts on, instead of the
 * runtime's own (a slow proxy, a server that dies); disconnected by close(). `rateLimitTimeoutMs`:
 * how long the rate limit waits for it.
 */
export async function buildTestApp(
  env: Record<string, string> = {},
  options: { cases?: boolean; redis?: RedisClient; rateLimitTimeoutMs?: number } = {},
): Promise<TestApp> {
  const stateDir = mkdtempSync(join(tmpdir(), 'lg-state-'));
  const config = loadConfig({
    LEAKGUARD_STATE_DIR: stateDir,
    LEAKGUARD_CARD_KEY: TEST_CARD_KEY,
    LEAKGUARD_DATA_KEY: TEST_DATA_KEY,
    LOG_LEVEL: 'info',
    NODE_ENV: 'test',
    // Functional tests must not depend on how busy the machine is; the failure tests set their own deadline.
    LEAKGUARD_DEADLINE_MS: '2000',
    // Rules and watchlists are tested on their own; the starter model's part has its own tests (test/http/model.test.ts).
    LEAKGUARD_MODEL: 'off',
    ...env,
  });
  const access = loadAccessConfig(env);
  const logs: string[] = [];
  const logger = createLogger(config.LOG_LEVEL, { write: (line: string) => logs.push(line) });
  const runtime = createRuntime(config, logger);
  const redis = options.redis ?? runtime.redis;
  // A start refused by the stores (another reference currency) leaves nothing open.
  const ready = await runtime.waitForStores().catch(async (error: unknown) => {
    await runtime.close();
    throw error;
  });
  if (!ready) throw new Error('test stores did not connect');
  if (options.cases) await runtime.openCases();
  const app = await buildApp({
    engine: runtime.engine,
    authenticator: runtime.authenticator,
    metrics: runtime.metrics,
    logger,
    readiness: () => runtime.readiness(),
    rulesets: runtime.rulesets,
    rates: runtime.rates,
    models: runtime.models,
    bodyLimitBytes: config.LEAKGUARD_BODY_LIMIT_BYTES,
    rateLimitPerMinute: config.LEAKGUARD_RATE_LIMIT_PER_MINUTE,
    rateLimitWithoutKeyPerMinute: config.LEAKGUARD_RATE_LIMIT_WITHOUT_KEY_PER_MINUTE,
    redis,
    ...(options.rateLimitTimeoutMs !== undefined ? { rateLimitTimeoutMs: options.rateLimitTimeoutMs } : {}),
    watchlist: {
      store: runtime.watchlist,
      registry: runtime.watchlistRegistry,
      keyring: runtime.keyring,
      uploadLimitBytes: config.LEAKGUARD_UPLOAD_LIMIT_BYTES,
      uploadThreads: config.LEAKGUARD_UPLOAD_THREADS,
      // Admins' status changes of Leakguard's own events are audited (once the case database is open).
      audit: () => runtime.cases?.audit,
    },
    ...(options.cases
      ? {
          console: consoleOptions(
            config,
            {
              get cases() {
                return runtime.cases;
              },
              watchlist: runtime.watchlist,
              watchlistRegistry: runtime.watchlistRegistry,
              frictionShares: (n?: number) => runtime.frictionShares(n),
              metrics: runtime.metrics,
              rates: runtime.rates,
              redis,
            },
            logger,
          ),
        }
      : {}),
    ...(runtime.breach ? { cppScan: (at?: number) => runtime.breach!.scan(at) } : {}),
    webhooks: () => runtime.webhooks?.service,
    metricsAccess: { token: access.metricsToken, production: config.NODE_ENV === 'production' },
    trustProxy: access.trustProxy,
    production: config.NODE_ENV === 'production',
  });
  const key = async (role: 'merchant' | 'issuer' | 'admin', tenant?: string) =>
    (
      await createApiKey(runtime.apiKeys, {
        role,
        ...(role === 'merchant' ? { merchantId: tenant } : role === 'issuer' ? { issuerId: tenant } : {}),
      })
    ).key;
  const keys = {
    merchant: await key('merchant', 'm1'),
    otherMerchant: await key('merchant', 'm2'),
    issuer: await key('issuer', 'i1'),
    admin: await key('admin'),
  };
  return {
    app,
    runtime,
    keys,
    logs,
    stateDir,
    config,
    async close() {
      await app.close();
      await runtime.close();
      options.redis?.disconnect();
    },
  };
}

let seq = 0;
export const VISA = '4111111111111111';
export const MASTERCARD = '5555555555554444';

export function scoreBody(over: Partial<ScoreRequestInput> = {}): ScoreRequestInput {
  return {
    transactionId: `order-${process.pid}-${++seq}`,
    amount: 4999,
    currency: 'EUR',
    channel: 'ecommerce',
    card: { number: VISA, expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
    ...over,
  };
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
