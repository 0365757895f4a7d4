// How full Redis is, on a real Redis and a real Redis Cluster: under noeviction a master at its
// maxmemory refuses writes and scorings are degraded. The engine reads INFO memory of every master
// when it starts (and every 30 s): leakguard_redis_memory_used_ratio is the fullest master's share
// of its maxmemory, -1 when none has one; over 85 % a warning names the master and the remedies.
import { describe, expect, it } from 'vitest';
import { mastersOf } from '../../services/adapters/redis/connection.ts';
import { fullest } from '../../services/adapters/redis/memory-headroom.ts';
import type { Runtime } from '../../services/runtime.ts';
import { withRuntime } from '../support/runtime-on.ts';
import { singleAndCluster } from '../support/single-and-cluster.ts';

const usedMemory = async (node: ReturnType<typeof mastersOf>[number]) =>
  Number(/^used_memory:(\d+)/m.exec(await node.info('memory'))![1]);

describe.each(singleAndCluster())('Redis memory headroom on $name', ({ open, env }) => {
  /** `maxmemory` of each master from its used memory (0: no limit). */
  const withEngine = async (
    maxOf: (used: number) => number,
    run: (runtime: Runtime, lines: string[]) => Promise<void>,
  ) => {
    const redis = await open();
    const nodes = mastersOf(redis);
    await Promise.all(
      nodes.map(async (node) => node.call('CONFIG', 'SET', 'maxmemory', String(maxOf(await usedMemory(node))))),
    );
    try {
      await withRuntime(env(), run);
    } finally {
      await Promise.all(nodes.map((node) => node.call('CONFIG', 'SET', 'maxmemory', '0')));
      redis.disconnect();
    }
  };
  const ratio = async (runtime: Runtime) => (await runtime.metrics.redisMemoryUsedRatio.get()).values[0]?.value;
  const warnings = (lines: string[]) => lines.filter((l) => l.includes('% full'));

  it("gives the fullest master's share of its maxmemory, and says nothing while there is room", async () => {
    await withEngine(
      (used) => used * 10,
      async (runtime, lines) => {
        await expect.poll(() => ratio(runtime), { timeout: 5_000 }).toBeGreaterThan(0.05);
        expect(await ratio(runtime)).toBeLessThan(0.2);
        expect(warnings(lines)).toEqual([]);
      },
    );
  });

  it('warns over 85 %, naming the master and the remedies', async () => {
    await withEngine(
      (used) => Math.ceil(used / 0.9),
      async (runtime, lines) => {
        await expect.poll(() => ratio(runtime), { timeout: 5_000 }).toBeGreaterThan(0.85);
        expect(warnings(lines)).toHaveLength(1);
        const warning = JSON.parse(warnings(lines)[0]!) as { level: number; node: string; msg: string };
        expect(warning.level).toBe(40);
        expect(warning.node).toMatch(/:\d+$/);
        expect(warning.msg).toContain('LEAKGUARD_MARKER_RETENTION_DAYS');
      },
    );
  });
});

describe('the fullest master', () => {
  it('is the one using the largest share of its maxmemory; masters without one are left out, and none when no master has one (the gauge then reads -1)', () => {
    const node = (name: string, used: number, max: number) => ({ node: name, used, max });
    expect(fullest([node('a:1', 900, 1000), node('b:1', 5000, 0), node('c:1', 95, 100)])).toEqual({
      ...node('c:1', 95, 100),
      ratio: 0.95,
    });
    expect(fullest([node('a:1', 900, 0), node('b:1', 5000, 0)])).toBeUndefined();
    expect(fullest([])).toBeUndefined();
  });
});
