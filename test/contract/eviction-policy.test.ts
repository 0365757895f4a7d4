// Redis's eviction policy, on a real Redis and a real Redis Cluster: every key Leakguard writes has a
// time to live, so any maxmemory-policy but noeviction may drop counters, markers and stored
// responses silently under memory pressure. The engine reads the policy of every master when it
// starts (and every ten minutes): leakguard_redis_evicting_nodes counts the masters that evict, and
// an error names them, the policy and the remedy.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isCluster, type RedisClient } from '../../services/adapters/redis/connection.ts';
import { loadConfig } from '../../services/config.ts';
import { createLogger } from '../../services/logger.ts';
import { createRuntime, type Runtime } from '../../services/runtime.ts';
import { TEST_CARD_KEY, TEST_DATA_KEY } from '../support/app.ts';
import { singleAndCluster } from '../support/single-and-cluster.ts';

const masters = (redis: RedisClient) => (isCluster(redis) ? redis.nodes('master') : [redis]);

describe.each(singleAndCluster())("Redis's eviction policy on $name", ({ open, env }) => {
  const withEngine = async (
    policy: string,
    run: (runtime: Runtime, lines: string[], masters: number) => Promise<void>,
  ) => {
    const stateDir = mkdtempSync(join(tmpdir(), 'lg-eviction-'));
    const lines: string[] = [];
    const redis = await open();
    const nodes = masters(redis);
    await Promise.all(nodes.map((node) => node.call('CONFIG', 'SET', 'maxmemory-policy', policy)));
    const runtime = createRuntime(
      loadConfig({
        NODE_ENV: 'test',
        LEAKGUARD_STATE_DIR: stateDir,
        LEAKGUARD_CARD_KEY: TEST_CARD_KEY,
        LEAKGUARD_DATA_KEY: TEST_DATA_KEY,
        LOG_LEVEL: 'warn',
        ...env(),
      }),
      createLogger('warn', { write: (line: string) => lines.push(line) }),
    );
    try {
      expect(await runtime.waitForStores()).toBe(true);
      await run(runtime, lines, nodes.length);
    } finally {
      await Promise.all(nodes.map((node) => node.call('CONFIG', 'SET', 'maxmemory-policy', 'noeviction')));
      redis.disconnect();
      await runtime.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  };
  const evicting = async (runtime: Runtime) => (await runtime.metrics.redisEvictingNodes.get()).values[0]?.value;

  it('counts the masters that may evict keys and says so in an error with the remedy', async () => {
    await withEngine('allkeys-lru', async (runtime, lines, count) => {
      await expect.poll(() => evicting(runtime), { timeout: 5_000 }).toBe(count);
      const errors = lines.filter((l) => l.includes('maxmemory-policy allkeys-lru'));
      expect(errors).toHaveLength(1);
      const error = JSON.parse(errors[0]!) as { level: number; nodes: { node: string; policy: string }[]; msg: string };
      expect(error.level).toBe(50);
      expect(error.nodes).toHaveLength(count);
      expect(error.msg).toContain('Set maxmemory-policy noeviction');
    });
  });

  it('counts a volatile policy too: every key the engine writes has a time to live', async () => {
    await withEngine('volatile-ttl', async (runtime, lines, count) => {
      await expect.poll(() => evicting(runtime), { timeout: 5_000 }).toBe(count);
      expect(lines.filter((l) => l.includes('maxmemory-policy volatile-ttl'))).toHaveLength(1);
    });
  });

  it('says nothing under noeviction (the gauge, -1 until the policy is read, reads 0)', async () => {
    await withEngine('noeviction', async (runtime, lines) => {
      await expect.poll(() => evicting(runtime), { timeout: 5_000 }).toBe(0);
      expect(lines.filter((l) => l.includes('maxmemory-policy'))).toEqual([]);
    });
  });
});
