// Outcomes reach a backtest's engines when they reached production, not at their own dates: a
// chargeback dated the day after an order but reported ten days later was unknown to the scorings
// in between. The known answer: what an engine decided, live, on a clock, with the chargeback
// reported late, and recorded as the engine records (TrafficRecorder as its observer).
import { describe, expect, it } from 'vitest';
import { Engine } from '../../services/core/engine.ts';
import { ALL_FEATURES } from '../../services/core/features.ts';
import { scoreRequestSchema, type Decision } from '../../services/core/schemas.ts';
import { DEFAULT_RULESET_PATH, readRulesetFile } from '../../services/adapters/files/ruleset-file.ts';
import { DEFAULT_RATES_PATH, readRatesFile } from '../../services/adapters/files/rates-file.ts';
import { MemoryVelocityStore } from '../../services/adapters/memory/velocity-store.ts';
import { TrafficRecorder } from '../../services/recording/recorder.ts';
import { RECORD_VERSION, type RecordLine } from '../../services/recording/record.ts';
import { TrafficBuilder } from '../../models/backtest/traffic.ts';
import { runBacktest, type Configuration } from '../../models/backtest/backtest.ts';

const DAY = 86_400_000;
const t0 = Date.parse('2026-11-02T10:00:00Z');

interface Production {
  order(transactionId: string, at: number): Promise<void>;
  /** An outcome of `o1`, dated `at`, reported at `reportedAt`. */
  chargeback(at: number, reportedAt: number): Promise<void>;
}

/**
 * Production, in small: an engine on a clock, recording what it scores and the outcomes it is told.
 * Its markers live `markerDays` (production's archive keeps what an outcome needs for 180 days).
 */
async function recordProduction(script: (p: Production) => Promise<void>, markerDays = 35) {
  let clock = t0;
  const lines: RecordLine[] = [];
  const recorder = new TrafficRecorder({
    sink: { write: async (batch) => void lines.push(...batch), close: async () => {} },
    flushMs: 60_000,
  });
  const ruleset = readRulesetFile(DEFAULT_RULESET_PATH, new Set(ALL_FEATURES));
  const rates = readRatesFile(DEFAULT_RATES_PATH);
  const store = new MemoryVelocityStore({ now: () => clock, markerTtlMs: markerDays * DAY });
  const engine = new Engine({
    store,
    keyring: { primary: { id: 'k', secret: Buffer.alloc(32, 7) } },
    ruleset: () => ruleset,
    rates: () => rates,
    deadlineMs: 60_000,
    now: () => clock,
    observer: {
      scored: (merchantId, request, result) => recorder.scored(merchantId, request, result),
      outcomeRecorded: (merchantId, transactionId, outcome, at, reportedAt) =>
        recorder.outcome(merchantId, transactionId, outcome, at, reportedAt),
    },
  });
  const decided: Record<string, Decision> = {};
  const order = async (transactionId: string, at: number) => {
    clock = at;
    const result = await engine.score(
      'm1',
      scoreRequestSchema.parse({
        transactionId,
        // 1,500 EUR, HIGH_AMOUNT: step-up evidence that CARD_PRIOR_CHARGEBACK_30D takes to a challenge
        amount: 150_000,
        currency: 'EUR',
        channel: 'ecommerce',
        occurredAt: new Date(at).toISOString(),
        card: { number: '4111111111111111', expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
      }),
    );
    if (result.kind !== 'scored') throw new Error('not scored');
    decided[transactionId] = result.response.decision;
  };
  await script({
    order,
    async chargeback(at, reportedAt) {
      clock = reportedAt;
      expect(await engine.recordOutcome('m1', 'o1', 'chargeback', at)).toBe('recorded');
    },
  });
  await recorder.close();
  await store.close();
  return { lines, decided };
}

async function backtest(lines: RecordLine[]) {
  const builder = new TrafficBuilder('recording');
  lines.forEach((l, i) => builder.add(l.json, `recording:${i + 1}`));
  const traffic = builder.finish();
  expect(traffic.refused).toBe(0);
  const inForce: Configuration = {
    label: 'in force',
    ruleset: DEFAULT_RULESET_PATH,
    model: null,
    rates: DEFAULT_RATES_PATH,
  };
  return runBacktest(traffic, { baseline: inForce, candidate: { ...inForce, label: 'candidate' }, inProcess: true });
}

describe('a late outcome', () => {
  it('is recorded with when it was reported, and replayed then: the orders before it are decided as production did', async () => {
    const { lines, decided } = await recordProduction(async (p) => {
      await p.order('o1', t0);
      await p.order('o2', t0 + 2 * DAY);
      // Reported on day 10, dated day 1 (the dispute's date): counted from day 1, known from day 10.
      await p.chargeback(t0 + 3_600_000, t0 + 10 * DAY);
      await p.order('o3', t0 + 11 * DAY);
    });
    // What production decided: o2 before the chargeback was known, o3 after.
    expect(decided).toEqual({ o1: 'approve', o2: 'approve', o3: 'challenge' });
    const outcome = lines.map((l) => JSON.parse(l.json) as Record<string, unknown>).find((r) => r.kind === 'outcome');
    expect(outcome).toEqual({
      kind: 'outcome',
      v: RECORD_VERSION,
      merchantId: 'm1',
      transactionId: 'o1',
      outcome: 'chargeback',
      at: new Date(t0 + 3_600_000).toISOString(),
      reportedAt: new Date(t0 + 10 * DAY).toISOString(),
    });

    const report = await backtest(lines);
    expect(report.notReproduced).toEqual([]);
    expect(report.recorded).toMatchObject({ compared: 3, agreed: 3 });
    // o1 is fraud; stopped by neither (approved before its chargeback, in production as in the replay).
    expect(report.transactions).toMatchObject({ reported: 3, fraud: 1 });
    expect(report.results[0].fraudStopped.count).toBe(0);
    expect(report.reasons.find((r) => r.code === 'CARD_PRIOR_CHARGEBACK_30D')?.count).toEqual([1, 1]);
  });

  it('reported after the replay store would have let its transaction go still counts, as production found it in its archive', async () => {
    // A dispute filed on day 40 for an order of day 0, reported on day 41: production finds the
    // order in its archive (here: markers kept 180 days), the replay's store has let it go (35 days).
    const { lines, decided } = await recordProduction(async (p) => {
      await p.order('o1', t0);
      await p.chargeback(t0 + 40 * DAY, t0 + 41 * DAY);
      await p.order('o2', t0 + 42 * DAY);
    }, 180);
    expect(decided).toEqual({ o1: 'approve', o2: 'challenge' });
    const report = await backtest(lines);
    expect(report.notReproduced).toEqual([]);
    expect(report.recorded).toMatchObject({ compared: 2, agreed: 2 });
    expect(report.reasons.find((r) => r.code === 'CARD_PRIOR_CHARGEBACK_30D')?.count).toEqual([1, 1]);
  });

  it('recorded before version 3 (no reportedAt) is replayed at its own time, as before', () => {
    const builder = new TrafficBuilder('recording');
    const line = (transactionId: string, at: string, reportedAt?: string) =>
      JSON.stringify({
        kind: 'outcome',
        v: 2,
        merchantId: 'm1',
        transactionId,
        outcome: 'chargeback',
        at,
        ...(reportedAt ? { reportedAt } : {}),
      });
    builder.add(line('old', '2026-11-05T00:00:00.000Z'), 'r:1');
    builder.add(line('late', '2026-11-01T00:00:00.000Z', '2026-11-20T00:00:00.000Z'), 'r:2');
    // Dated a minute ahead of its arrival (the engine takes up to 5): from its date.
    builder.add(line('ahead', '2026-11-10T00:01:00.000Z', '2026-11-10T00:00:00.000Z'), 'r:3');
    const traffic = builder.finish();
    expect(traffic.refused).toBe(0);
    expect(
      traffic.outcomes.map((o) => [
        o.transactionId,
        new Date(o.at).toISOString(),
        new Date(o.reportedAt).toISOString(),
      ]),
    ).toEqual([
      ['old', '2026-11-05T00:00:00.000Z', '2026-11-05T00:00:00.000Z'],
      ['ahead', '2026-11-10T00:01:00.000Z', '2026-11-10T00:01:00.000Z'],
      ['late', '2026-11-01T00:00:00.000Z', '2026-11-20T00:00:00.000Z'],
    ]);
  });
});
