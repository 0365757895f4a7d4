// Signals while the processor is still starting (here: Redis unreachable, which holds the start-up
// for up to 10 s, and Kafka unreachable): SIGHUP does not kill it, the files are read again once
// it is up; SIGTERM ends it with exit status 0, as after the start-up. The real `npm run stream`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { TEST_CARD_KEY } from '../support/app.ts';
import { ChildProcessor, waitFor } from './support.ts';

const started: ChildProcessor[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const p of started.splice(0)) if (p.running) await p.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function spawnStarting(): ChildProcessor {
  const stateDir = mkdtempSync(join(tmpdir(), 'lg-start-up-signals-'));
  dirs.push(stateDir);
  const child = new ChildProcessor({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    REDIS_URL: 'redis://127.0.0.1:1',
    KAFKA_BROKERS: '127.0.0.1:1',
    LEAKGUARD_CARD_KEY: TEST_CARD_KEY,
    LEAKGUARD_STATE_DIR: stateDir,
    STREAM_METRICS_PORT: '0',
  });
  started.push(child);
  return child;
}

const STARTED = 'Redis not reachable yet'; // the start-up's wait for Redis is over

it('SIGHUP during the start-up: the process lives on, and reads the files again once started', async () => {
  const child = spawnStarting();
  await child.waitForLog('model loaded', 30_000);
  child.signal('SIGHUP');
  await child.waitForLog('SIGHUP during start-up', 5_000);
  expect(child.logged(STARTED)).toBe(false);
  expect(child.running).toBe(true);
  await child.waitForLog(STARTED, 30_000);
  // The ruleset read again (its reload is logged as "ruleset loaded" with the version only).
  await waitFor('the files read again', () => child.logs('ruleset loaded').length === 2, 10_000);
  expect(await child.kill('SIGTERM')).toEqual({ code: 0, signal: null });
}, 60_000);

it('SIGTERM during the start-up: exit status 0', async () => {
  const child = spawnStarting();
  await child.waitForLog('model loaded', 30_000);
  child.signal('SIGTERM');
  const exit = await Promise.race([
    child.exited,
    new Promise((done) => setTimeout(() => done('still running'), 5_000)),
  ]);
  expect(exit).toEqual({ code: 0, signal: null });
  expect(child.logged(STARTED)).toBe(false);
  expect(child.logged('stopped during start-up')).toBe(true);
}, 60_000);
