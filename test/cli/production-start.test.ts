// `NODE_ENV=production npm start` without Redis: no demo merchant, issuer, admin key or analyst is
// created, no key is ever printed (not even from a demo file an earlier development run left
// behind), and /metrics is refused without a scrape token.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.ts';

const root = new URL('../..', import.meta.url).pathname;
const stateDir = mkdtempSync(join(tmpdir(), 'lg-prod-start-'));
const LEFT_BEHIND = {
  merchantKey: `lgm_${'m'.repeat(43)}`,
  issuerKey: `lgi_${'i'.repeat(43)}`,
  adminKey: `lga_${'a'.repeat(43)}`,
};
let engine: ChildProcess;
let base: string;
let out = '';

beforeAll(async () => {
  writeFileSync(join(stateDir, 'demo-credentials.json'), JSON.stringify(LEFT_BEHIND), { mode: 0o600 });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  engine = spawn(process.execPath, [join(root, 'services/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      LEAKGUARD_CARD_KEY: 'b'.repeat(64),
      LEAKGUARD_DATA_KEY: 'c'.repeat(64),
      LEAKGUARD_AUDIT_KEY: 'e'.repeat(64),
      LEAKGUARD_STATE_DIR: stateDir,
      PORT: String(port),
      REDIS_URL: '',
      DATABASE_URL: '',
      LEAKGUARD_METRICS_TOKEN: '',
      LEAKGUARD_TRUST_PROXY: '',
      LEAKGUARD_MODEL: 'off',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  engine.stdout!.on('data', (d) => (out += d.toString()));
  engine.stderr!.on('data', (d) => (out += d.toString()));
  // Until the case database is open too: nothing is created later either.
  const end = Date.now() + 120_000;
  while (!out.includes('no console admin yet') && engine.exitCode === null && Date.now() < end)
    await new Promise((r) => setTimeout(r, 200));
  if (!out.includes('no console admin yet')) throw new Error(`engine did not start:\n${out}`);
}, 150_000);
afterAll(() => {
  if (engine?.exitCode === null) engine.kill('SIGTERM');
});

describe('npm start in production, embedded', () => {
  it('creates no demo credentials and prints no API key', async () => {
    expect(out).toContain('Listening on');
    expect(out).not.toMatch(/lg[mia]_[A-Za-z0-9_-]{20,}/);
    expect(JSON.parse(readFileSync(join(stateDir, 'demo-credentials.json'), 'utf8'))).toEqual(LEFT_BEHIND);
    expect(out).toContain('demo credentials are not used in production');
    const keys = join(stateDir, 'api-keys.json');
    if (existsSync(keys)) expect(JSON.stringify(JSON.parse(readFileSync(keys, 'utf8')))).not.toContain('"role"');
    // The demo merchant does not exist: the left-behind key is refused like any unknown key.
    const res = await fetch(`${base}/v1/score`, {
      method: 'POST',
      headers: { authorization: `Bearer ${LEFT_BEHIND.merchantKey}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(401);
  });

  it('warns, once, that without a trusted TLS proxy the console may be on plain HTTP (Secure cookies dropped)', () => {
    const lines = out.split('\n').filter((l) => l.includes('no LEAKGUARD_TRUST_PROXY in production'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).level).toBe(40);
    expect(lines[0]).toContain('Secure cookies');
  });

  it('refuses /metrics without a configured scrape token', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(403);
    expect((await res.json()).error).toContain('LEAKGUARD_METRICS_TOKEN');
  });
});
