// An engine whose DATABASE_URL does not answer yet waits for it, saying so in one line a retry
// (`PostgreSQL not reachable yet: ECONNREFUSED 127.0.0.1:1, retrying in 0.2s`): the error's stack,
// the same every time, only at debug.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectionFailureSummary } from '../../services/adapters/postgres/sql-client.ts';
import { freePort } from '../support/ports.ts';

const root = new URL('../..', import.meta.url).pathname;
let engine: ChildProcess | undefined;
afterEach(() => {
  if (engine?.exitCode === null) engine.kill('SIGTERM');
  engine = undefined;
});

async function start(logLevel: string): Promise<string[]> {
  const port = await freePort();
  let out = '';
  engine = spawn(process.execPath, [join(root, 'services/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LEAKGUARD_STATE_DIR: mkdtempSync(join(tmpdir(), 'lg-db-down-')),
      PORT: String(port),
      REDIS_URL: '',
      DATABASE_URL: 'postgres://leakguard:secret-password@127.0.0.1:1/leakguard',
      LEAKGUARD_MODEL: 'off',
      LOG_LEVEL: logLevel,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  engine.stdout!.on('data', (d) => (out += d.toString()));
  engine.stderr!.on('data', (d) => (out += d.toString()));
  const retries = () => out.split('\n').filter((l) => l.includes('PostgreSQL not reachable yet'));
  const end = Date.now() + 60_000;
  while (retries().length < 3 && engine.exitCode === null && Date.now() < end)
    await new Promise((r) => setTimeout(r, 100));
  engine.kill('SIGTERM');
  return out.split('\n');
}

describe('DATABASE_URL not reachable', () => {
  it('logs one line per retry at warn, naming the failure and the delay, without the stack', async () => {
    const lines = await start('info');
    const retries = lines.filter((l) => l.includes('PostgreSQL not reachable yet'));
    expect(retries.length, lines.join('\n')).toBeGreaterThanOrEqual(3);
    const logged = retries.map((l) => JSON.parse(l) as { level: number; msg: string; err?: unknown });
    expect(logged.map((l) => l.msg).slice(0, 3)).toEqual([
      'PostgreSQL not reachable yet: ECONNREFUSED 127.0.0.1:1, retrying in 0.2s',
      'PostgreSQL not reachable yet: ECONNREFUSED 127.0.0.1:1, retrying in 0.4s',
      'PostgreSQL not reachable yet: ECONNREFUSED 127.0.0.1:1, retrying in 0.8s',
    ]);
    for (const l of logged) {
      expect(l.level).toBe(40);
      expect(l.err).toBeUndefined();
    }
    const all = lines.join('\n');
    expect(all).not.toMatch(/\n\s+at /);
    expect(all).not.toContain('"stack"');
    expect(all).not.toContain('secret-password');
  });

  it('keeps the stack for debug', async () => {
    const lines = await start('debug');
    const debug = lines.filter((l) => l.includes('PostgreSQL connection failure'));
    expect(debug.length).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(debug[0]!).level).toBe(20);
    expect(debug[0]).toContain('"stack"');
  });

  it('summarises a connection failure in one line', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
      address: '127.0.0.1',
      port: 5432,
    });
    expect(connectionFailureSummary(refused)).toBe('ECONNREFUSED 127.0.0.1:5432');
    // localhost: one attempt per address, in an AggregateError whose message is empty.
    const both = Object.assign(new AggregateError([{ ...refused, address: '::1' }, refused], ''), {
      code: 'ECONNREFUSED',
    });
    expect(connectionFailureSummary(both)).toBe('ECONNREFUSED ::1:5432, 127.0.0.1:5432');
    expect(connectionFailureSummary(Object.assign(new Error('getaddrinfo ENOTFOUND db'), { code: 'ENOTFOUND' }))).toBe(
      'getaddrinfo ENOTFOUND db',
    );
    expect(connectionFailureSummary(new Error('Connection terminated unexpectedly\n    at x'))).toBe(
      'Connection terminated unexpectedly',
    );
    expect(
      connectionFailureSummary(Object.assign(new Error('the database system is starting up'), { code: '57P03' })),
    ).toBe('57P03: the database system is starting up');
  });
});
