// The engines' periodic breach scans through the runtime (startScans): two engines on one Redis
// with a one-minute interval (its timer faked, the stores real): at the interval one of them scans
// and the other skips, and the turn names the one that scanned.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import { HISTORY_KEYS } from '../../services/adapters/redis/keys.ts';
import type { Runtime } from '../../services/runtime.ts';
import { RedisServer } from '../support/redis-server.ts';
import { openRuntime } from '../support/runtime-on.ts';

let redisServer: RedisServer;
beforeAll(async () => {
  redisServer = await RedisServer.start();
});
afterAll(() => redisServer.stop());

/** The runtime's scans so far, by result. */
async function scans(runtime: Runtime): Promise<Record<string, number>> {
  const { values } = await runtime.metrics.registry.getSingleMetric('leakguard_cpp_scans_total')!.get();
  return Object.fromEntries(values.map((v) => [String(v.labels.result), v.value]));
}

it('one engine of two scans at the interval, the other skips it', async () => {
  const engines = await Promise.all(
    [1, 2].map(() => openRuntime({ REDIS_URL: redisServer.url, LEAKGUARD_CPP_SCAN_MINUTES: '1' })),
  );
  const probe = new Redis(redisServer.url);
  try {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    for (const { runtime } of engines) runtime.breach!.startScans();
    vi.advanceTimersByTime(60_000);
    await vi.waitFor(
      async () => {
        const all = await Promise.all(engines.map(({ runtime }) => scans(runtime)));
        expect(all.map((s) => (s.ok ?? 0) + (s.skipped ?? 0))).toEqual([1, 1]);
      },
      { timeout: 15_000, interval: 50 },
    );
    const results = await Promise.all(engines.map(({ runtime }) => scans(runtime)));
    expect(results.map((s) => s.ok ?? 0).sort()).toEqual([0, 1]);
    expect(results.map((s) => s.skipped ?? 0).sort()).toEqual([0, 1]);
    // Every result's series exists from 0 (LeakguardBreachScansFailing sees a first failure).
    expect(results.map((s) => s.failed)).toEqual([0, 0]);
    // The turn lasts nine tenths of the interval, under the name of this process.
    expect(await probe.get(HISTORY_KEYS.scanTurn)).toMatch(new RegExp(`:${process.pid}:[0-9a-f]{6}$`));
    expect(await probe.pttl(HISTORY_KEYS.scanTurn)).toBeGreaterThan(45_000);
  } finally {
    probe.disconnect();
    // Closed while the interval timers are still the faked ones they were made with.
    await Promise.all(engines.map((e) => e.dispose()));
    vi.useRealTimers();
  }
});
