// A breach scan holds every card labelled in its longest window: past its budget
// (LEAKGUARD_CPP_SCAN_MAX_CARDS, by default half of the engine's heap) the engine's scan tests the
// most recent cards that fit instead of exhausting the heap, counts it and warns. And it hands the
// event loop a turn while it tests them: the scorings on its engine go between.
import { createHash } from 'node:crypto';
import { getHeapStatistics } from 'node:v8';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MemoryCardHistoryStore } from '../../services/adapters/memory/card-history-store.ts';
import { MemoryWatchlistStore } from '../../services/adapters/memory/watchlist-store.ts';
import type { FraudLabel, VisitRecord } from '../../services/breach/history.ts';
import { BreachScanner, SCAN_BYTES_PER_CARD } from '../../services/breach/scanner.ts';
import type { Runtime } from '../../services/runtime.ts';
import { DAY, mulberry32 } from '../support/cpp-world.ts';
import { RedisServer } from '../support/redis-server.ts';
import { openRuntime } from '../support/runtime-on.ts';

const T0 = Date.parse('2026-03-01T00:00:00Z');

let redisServer: RedisServer;
beforeAll(async () => {
  redisServer = await RedisServer.start();
});
afterAll(() => redisServer.stop());

async function metric(runtime: Runtime, name: string): Promise<number | undefined> {
  const { values } = await runtime.metrics.registry.getSingleMetric(name)!.get();
  return values[0]?.value;
}

it("an engine's scan past its budget tests the newest cards that fit, counts it and warns; within it, none of that", async () => {
  const engines = await Promise.all(
    ['5', '2', '12'].map((max) => openRuntime({ REDIS_URL: redisServer.url, LEAKGUARD_CPP_SCAN_MAX_CARDS: max })),
  );
  try {
    const [five, two, twelve] = engines.map((e) => e.runtime);
    const { history } = five!.breach!;
    // Three cards labelled on each of the last two days, a second apart: five fit, six do not.
    const card = (i: number) => Buffer.alloc(32, i).toString('base64url');
    await history.recordVisits(
      Array.from({ length: 6 }, (_, i) => ({ card: card(i), bin: '411111', merchantId: 'shop', at: T0 + 5 * DAY })),
    );
    await history.recordFrauds(
      Array.from({ length: 6 }, (_, i) => ({
        card: card(i),
        at: T0 + (i < 3 ? 8 : 9) * DAY + 3_600_000 + i * 1000,
        source: 'chargeback' as const,
      })),
    );
    const at = T0 + 9 * DAY + 7_200_000;
    const report = await five!.breach!.scan(at);
    // The newest day's three, then the newest two of the day before.
    const from = T0 + 8 * DAY + 3_601_000;
    expect(report).toMatchObject({ truncated: true, scannedFrom: from, fraudulentCards: 5 });
    expect(await metric(five!, 'leakguard_cpp_scans_truncated_total')).toBe(1);
    expect(await metric(five!, 'leakguard_cpp_scan_last_budget_used_ratio')).toBe(1);
    expect(await metric(five!, 'leakguard_cpp_scan_last_covered_days')).toBeCloseTo((at - from) / DAY, 9);
    const warning = engines[0]!.lines.map((l) => JSON.parse(l)).find((l) => /scan truncated/.test(l.msg));
    expect(warning).toMatchObject({ maxCards: 5, scannedFrom: new Date(from).toISOString() });

    // Not even the newest day fits: its newest two.
    expect(await two!.breach!.scan(at)).toMatchObject({
      truncated: true,
      scannedFrom: T0 + 9 * DAY + 3_604_000,
      fraudulentCards: 2,
    });

    // Within the budget: the whole 30 days, nothing counted, no warning.
    expect(await twelve!.breach!.scan(at)).toMatchObject({
      truncated: false,
      scannedFrom: at - 30 * DAY,
      fraudulentCards: 6,
    });
    expect(await metric(twelve!, 'leakguard_cpp_scans_truncated_total')).toBe(0);
    expect(await metric(twelve!, 'leakguard_cpp_scan_last_covered_days')).toBe(30);
    expect(await metric(twelve!, 'leakguard_cpp_scan_last_budget_used_ratio')).toBe(0.5);
    expect(engines[2]!.lines.filter((l) => /scan truncated/.test(l))).toEqual([]);
  } finally {
    await Promise.all(engines.map((e) => e.dispose()));
  }
});

it("budgets half of the engine's heap by default", async () => {
  const engine = await openRuntime({ REDIS_URL: redisServer.url });
  try {
    const { maxCards } = engine.runtime.breach!.scanner.options;
    expect(maxCards).toBe(Math.floor(getHeapStatistics().heap_size_limit / 2 / SCAN_BYTES_PER_CARD));
    expect(maxCards).toBeGreaterThan(100_000);
  } finally {
    await engine.dispose();
  }
});

it('hands the event loop a turn while it tests many fraudulent cards: a timer due meanwhile fires before the scan ends', async () => {
  // 30,000 fraudulent cards of 3 merchants each among 2,000, on the embedded stores (whose reads
  // take no turn of the event loop: only the detection's own turns can let the timer in).
  const history = new MemoryCardHistoryStore();
  const rnd = mulberry32(3);
  const visits: VisitRecord[] = [];
  const frauds: FraudLabel[] = [];
  for (let i = 0; i < 30_000; i++) {
    const card = createHash('sha256').update(`many-${i}`).digest('base64url');
    for (let j = 0; j < 3; j++)
      visits.push({ card, bin: '411111', merchantId: `m${Math.floor(rnd() * 2_000)}`, at: T0 + rnd() * 50 * DAY });
    frauds.push({ card, at: T0 + (55 + rnd() * 4) * DAY, source: 'chargeback' });
  }
  await history.recordVisits(visits);
  await history.recordFrauds(frauds);
  let scanning = true;
  let firedWhileScanning = false;
  const timer = setTimeout(() => (firedWhileScanning = scanning), 1);
  const report = await new BreachScanner(history, new MemoryWatchlistStore()).scan(T0 + 60 * DAY);
  scanning = false;
  clearTimeout(timer);
  expect(report.fraudulentCards).toBe(30_000);
  expect(firedWhileScanning).toBe(true);
});
