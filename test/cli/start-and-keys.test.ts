// The README's first command, as a user runs it: the engine process with embedded defaults,
// demo credentials, and the keys CLI working against the same state.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.ts';

const root = new URL('../..', import.meta.url).pathname;
const stateDir = mkdtempSync(join(tmpdir(), 'lg-start-'));
let engine: ChildProcess;
let base: string;
let stdout = '';
let createdKeyId = '';

const keysCli = (...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'services/cli/keys.ts'), ...args], {
    cwd: root,
    env: { ...process.env, LEAKGUARD_STATE_DIR: stateDir },
    encoding: 'utf8',
  });

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  engine = spawn(process.execPath, [join(root, 'services/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      LEAKGUARD_STATE_DIR: stateDir,
      PORT: String(port),
      REDIS_URL: '',
      LEAKGUARD_DEADLINE_MS: '2000',
      // A rotation's previous key under a misspelt name: warned of, not dropped silently.
      LEAKGUARD_PREVIOUS_CARD_KEY_FLIE: '/tmp/prev.key',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  engine.stdout!.on('data', (d) => (stdout += d.toString()));
  engine.stderr!.on('data', (d) => (stdout += d.toString()));
  const end = Date.now() + 30_000;
  while (!stdout.includes('Listening on') && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  if (!stdout.includes('Listening on')) throw new Error(`engine did not start:\n${stdout}`);
});
afterAll(() => {
  if (engine.exitCode === null) engine.kill('SIGTERM');
});

describe('npm start (embedded mode)', () => {
  it('stops before creating or printing demo keys when its port is taken (exit 2, the port named)', () => {
    const otherState = mkdtempSync(join(tmpdir(), 'lg-start-busy-'));
    const port = new URL(base).port;
    const second = spawnSync(process.execPath, [join(root, 'services/main.ts')], {
      cwd: root,
      env: { ...process.env, LEAKGUARD_STATE_DIR: otherState, PORT: port, REDIS_URL: '', DATABASE_URL: '' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(second.status, second.stderr).toBe(2);
    expect(second.stderr).toContain(`leakguard: port ${port} on 127.0.0.1 is in use`);
    expect(second.stdout).not.toContain('Demo credentials');
    expect(second.stdout).not.toMatch(/lg[mia]_[A-Za-z0-9_-]{20,}/);
    expect(existsSync(join(otherState, 'demo-credentials.json'))).toBe(false);
    // Nor is the state directory left locked.
    expect(existsSync(join(otherState, 'engine.lock'))).toBe(false);
  });

  it('creates demo credentials once, prints them and writes them with mode 0600', async () => {
    const file = join(stateDir, 'demo-credentials.json');
    const creds = JSON.parse(readFileSync(file, 'utf8'));
    expect(Object.keys(creds)).toEqual(expect.arrayContaining(['merchantKey', 'issuerKey', 'adminKey']));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(stdout).toContain(creds.merchantKey);
    // The admin key is never printed: it is in the file, which is named.
    expect(stdout).not.toContain(creds.adminKey);
    expect(stdout).toContain(file);
    expect(stdout).toContain('DEVELOPMENT CARD KEY CREATED');
    expect(stdout).toContain('DEVELOPMENT DATA KEY CREATED');
  });

  it('warns of a misspelt LEAKGUARD_* variable, naming the setting meant, and logs the card key ids it holds', () => {
    expect(stdout).toContain(
      'LEAKGUARD_PREVIOUS_CARD_KEY_FLIE is not a Leakguard setting and is ignored: did you mean LEAKGUARD_PREVIOUS_CARD_KEY_FILE?',
    );
    expect(stdout).not.toContain('/tmp/prev.key');
    const material = readFileSync(join(stateDir, 'development-card-key'), 'utf8');
    expect(stdout).toMatch(/card keys: dev-[0-9a-f]{8}, no previous key/);
    expect(stdout).toMatch(/data keys: dev-[0-9a-f]{8}, no previous key/);
    // Ids only: never the key itself.
    expect(stdout).not.toContain(material.trim());
  });

  it('scores with the demo merchant key', async () => {
    const { merchantKey } = JSON.parse(readFileSync(join(stateDir, 'demo-credentials.json'), 'utf8'));
    const res = await fetch(`${base}/v1/score`, {
      method: 'POST',
      headers: { authorization: `Bearer ${merchantKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        transactionId: 'demo-1',
        amount: 1250,
        currency: 'JPY',
        channel: 'ecommerce',
        card: { number: '4111111111111111', expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
      }),
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ transactionId: 'demo-1', decision: 'approve', degraded: false });
    // The behavioural model is part of the default deployment: the starter model the project ships.
    expect(body.checks.model).toBe('evaluated');
    expect(body.versions.model).toMatch(/^starter-engine-v\d+-sim\d+-\d+t$/);
    expect(stdout).toContain('starter');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('takes keys created and revoked by the CLI on the running engine', async () => {
    const created = keysCli('create', '--role', 'merchant', '--merchant', 'shop-7', '--json');
    expect(created.status).toBe(0);
    const { key, id } = JSON.parse(created.stdout);
    const call = () =>
      fetch(`${base}/v1/score`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          transactionId: `k-${Date.now()}`,
          amount: 100,
          currency: 'EUR',
          channel: 'pos',
          card: { number: '4111111111111111', expiryMonth: 12, expiryYear: 2030 },
        }),
      });
    expect((await call()).status).toBe(200);
    const list = keysCli('list');
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+merchant\\s+shop-7`));
    expect(list.stdout).not.toContain(key);
    const revoked = keysCli('revoke', id);
    expect(revoked.status).toBe(0);
    // The engine holds the embedded database: it carries the change into the audit log itself.
    expect(revoked.stdout).toContain('the running engine writes it to the audit log within 5 s');
    expect(keysCli('list').stdout).toMatch(new RegExp(`${id}.*REVOKED`));
    createdKeyId = id;
  });

  it('a second engine on the same state directory does not start, and says which process holds it', async () => {
    const second = spawnSync(process.execPath, [join(root, 'services/main.ts')], {
      cwd: root,
      env: { ...process.env, LEAKGUARD_STATE_DIR: stateDir, PORT: String(await freePort()), REDIS_URL: '' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(second.status).toBe(2);
    expect(second.stderr).toContain(
      `the state directory ${stateDir} is in use by another engine (process ${engine.pid})`,
    );
    // The first engine goes on serving.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('explains bad CLI usage and bad configuration', () => {
    const noRole = keysCli('create');
    expect(noRole.status).toBe(2);
    expect(noRole.stderr).toContain('--role must be one of merchant, issuer, admin');
    const noTenant = keysCli('create', '--role', 'merchant');
    expect(noTenant.stderr).toContain('a merchant key needs --merchant <id>');
    expect(keysCli('revoke', 'key_nope').status).toBe(1);
    const badPort = spawnSync(process.execPath, [join(root, 'services/main.ts')], {
      cwd: root,
      env: { ...process.env, LEAKGUARD_STATE_DIR: stateDir, PORT: 'http' },
      encoding: 'utf8',
    });
    expect(badPort.status).toBe(2);
    expect(badPort.stderr).toContain('PORT:');
    const badFlag = spawnSync(process.execPath, [join(root, 'services/main.ts'), '--port', '80'], {
      cwd: root,
      env: { ...process.env, LEAKGUARD_STATE_DIR: stateDir },
      encoding: 'utf8',
    });
    expect(badFlag.status).toBe(2);
    expect(badFlag.stderr).toContain('leakguard: no such option --port');
  });

  it(
    'has written every key change to the audit log (read after the engine stops, with the audit CLI)',
    { timeout: 180_000 },
    async () => {
      expect(createdKeyId).not.toBe('');
      const waitFor = async (done: () => boolean, ms: number) => {
        const end = Date.now() + ms;
        while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
      };
      // The case database opens after the API listens (PGlite's first start runs initdb); a clean
      // stop then audits whatever the last periodic pass had not.
      await waitFor(() => stdout.includes('Analyst console:'), 120_000);
      expect(stdout).toContain('Analyst console:');
      engine.kill('SIGTERM');
      await waitFor(() => engine.exitCode !== null, 20_000);
      const auditCli = (...args: string[]) =>
        spawnSync(process.execPath, [join(root, 'services/cli/audit.ts'), ...args], {
          cwd: root,
          env: { ...process.env, LEAKGUARD_STATE_DIR: stateDir, DATABASE_URL: '' },
          encoding: 'utf8',
        });
      const exported = auditCli('export');
      expect(exported.status, exported.stderr).toBe(0);
      const entries = exported.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { action: string; actor: string; target: string });
      const keyEntries = entries.filter((e) => e.action.startsWith('key_'));
      expect(keyEntries.filter((e) => e.target === createdKeyId).map((e) => e.action)).toEqual([
        'key_create',
        'key_revoke',
      ]);
      expect(keyEntries.find((e) => e.target === createdKeyId)!.actor).toMatch(/^cli:/);
      // The three demo keys, made at first start.
      expect(keyEntries.filter((e) => e.actor === 'system:demo')).toHaveLength(3);
      const verified = auditCli('verify');
      expect(verified.status, verified.stdout + verified.stderr).toBe(0);
      // Checked against the checkpoints the engine signed, the last one at its stop.
      expect(verified.stdout).toMatch(
        /^audit log intact: (\d+) entries, chain verified; \d+ signed checkpoints in .* hold, the furthest #\1 of /,
      );
    },
  );
});
