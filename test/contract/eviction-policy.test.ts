// Redis's eviction policy, on a real Redis and a real Redis Cluster: every key Leakguard writes has a
// time to live, so any maxmemory-policy but noeviction may drop counters, markers and stored
// responses silently under memory pressure. The engine reads the policy of every master when it
// starts (and every ten minutes): leakguard_redis_evicting_nodes counts the masters that evict, and
// an error names them, the policy and the remedy.
import { describe, expect, it } from 'vitest';
import { mastersOf } from '../../services/adapters/redis/connection.ts';
import type { Runtime } from '../../services/runtime.ts';
import { withRuntime } from '../support/runtime-on.ts';
import { singleAndCluster } from '../support/single-and-cluster.ts';

describe.each(singleAndCluster())("Redis's eviction policy on $name", ({ open, env }) => {
  const withEngine = async (
    policy: string,
    run: (runtime: Runtime, lines: string[], masters: number) => Promise<void>,
  ) => {
    const redis = await open();
    const nodes = mastersOf(redis);
    await Promise.all(nodes.map((node) => node.call('CONFIG', 'SET', 'maxmemory-policy', policy)));
    try {
      await withRuntime(env(), (runtime, lines) => run(runtime, lines, nodes.length));
    } finally {
      await Promise.all(nodes.map((node) => node.call('CONFIG', 'SET', 'maxmemory-policy', 'noeviction')));
      redis.disconnect();
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
