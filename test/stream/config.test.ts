// A bad setting of `npm run stream` says which variable and what it takes, and stops the process
// with exit status 2 (docs/stream-messages.md, Configuration): a number that is not one, and a
// metrics port another process holds.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../services/config.ts';
import { loadStreamConfig } from '../../streams/config.ts';
import { TEST_CARD_KEY } from '../support/app.ts';
import { RedisServer } from '../support/redis-server.ts';
import { REPO } from './support.ts';

const base = { REDIS_URL: 'redis://127.0.0.1:1', KAFKA_BROKERS: '127.0.0.1:9' };

describe('numeric stream settings', () => {
  it('name the variable and ask for a whole number in range', () => {
    for (const value of ['abc', '1.5', '0', '10001', ' ', '0x10', '1e3']) {
      const error = (() => {
        try {
          loadStreamConfig({ ...base, LEAKGUARD_STREAM_CONCURRENCY: value });
        } catch (e) {
          return e;
        }
      })();
      expect(error, value).toBeInstanceOf(ConfigError);
      expect((error as Error).message, value).toContain(
        'LEAKGUARD_STREAM_CONCURRENCY: must be a whole number from 1 to 10000',
      );
      expect((error as Error).message, value).not.toContain('NaN');
    }
    expect(loadStreamConfig({ ...base, LEAKGUARD_STREAM_CONCURRENCY: '32' }).LEAKGUARD_STREAM_CONCURRENCY).toBe(32);
  });
});

describe('a metrics port in use', () => {
  let redis: RedisServer;
  let holder: Server;
  let port: number;
  const stateDir = mkdtempSync(join(tmpdir(), 'lg-stream-config-'));

  beforeAll(async () => {
    redis = await RedisServer.start();
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    port = (holder.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => holder?.close(resolve));
    await redis?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('stops npm run stream with exit 2, naming STREAM_METRICS_PORT, without a stack trace', () => {
    const run = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'streams/main.ts'], {
      cwd: REPO,
      env: {
        PATH: process.env.PATH ?? '',
        KAFKA_BROKERS: '127.0.0.1:9',
        REDIS_URL: redis.url,
        LOG_LEVEL: 'warn',
        STREAM_METRICS_PORT: String(port),
        LEAKGUARD_CARD_KEY: TEST_CARD_KEY,
        LEAKGUARD_STATE_DIR: stateDir,
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.stderr).toContain(`STREAM_METRICS_PORT: port ${port} on 127.0.0.1 is in use`);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.status).toBe(2);
  });
});
