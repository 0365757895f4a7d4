// Training on a deployment's own recorded traffic (models/training/recorded.ts, `npm run model --
// train-recorded`). The known answers come from production in small: an engine on a clock, scoring
// a month of orders of 120 cards and recording them as the engines do (TrafficRecorder), with a
// fraud ring (large orders late in the evening, each from a new device, shipped abroad) charged back days later.
// The rows must be the very vectors production's engine computed, the labels what the recording
// came to know, and the artifact one the engine serves.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../services/core/engine.ts';
import { ALL_FEATURES } from '../../services/core/features.ts';
import { scoreRequestSchema } from '../../services/core/schemas.ts';
import { DEFAULT_RULESET_PATH, readRulesetFile } from '../../services/adapters/files/ruleset-file.ts';
import { DEFAULT_RATES_PATH, readRatesFile } from '../../services/adapters/files/rates-file.ts';
import { loadScoringModel } from '../../services/adapters/files/model-file.ts';
import { MemoryVelocityStore } from '../../services/adapters/memory/velocity-store.ts';
import { TrafficRecorder } from '../../services/recording/recorder.ts';
import type { RecordLine } from '../../services/recording/record.ts';
import { ENGINE_FEATURE_SET } from '../../services/model/definitions.ts';
import { servingVector } from '../../services/model/serving.ts';
import { TrafficBuilder } from '../../models/backtest/traffic.ts';
import type { Configuration } from '../../models/backtest/replay.ts';
import { recordedTrainingSet, type RecordedTrainingSet } from '../../models/training/recorded.ts';
import { labelMaturityWarning } from '../../models/cli/train-recorded.ts';
import { HANDBOOK_DEFAULTS, type HandbookOptions } from '../../models/simulator/handbook.ts';
import { BREACH_DEFAULTS, type BreachOptions } from '../../models/simulator/breach.ts';
import { readDataset } from '../../models/simulator/csv.ts';
import { simulate } from '../../models/simulator/run.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const t0 = Date.parse('2026-09-01T00:00:00Z');
const DAYS = 30;
const CARD_COUNT = 120;

/** A Luhn-valid test card number per index (never printed: the tests look for them in every output). */
function cardNumber(i: number): string {
  const body = `400000${String(i).padStart(9, '0')}`;
  let sum = 0;
  for (let k = 0; k < body.length; k++) {
    let d = Number(body[body.length - 1 - k]);
    if (k % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return `${body}${(10 - (sum % 10)) % 10}`;
}
const CARDS = Array.from({ length: CARD_COUNT }, (_, i) => cardNumber(i));

interface Order {
  id: string;
  card: number;
  at: number;
  fraud: boolean;
}

function order(o: Order) {
  return scoreRequestSchema.parse({
    transactionId: o.id,
    amount: o.fraud ? 45_000 : 2_000 + ((o.card * 37) % 50) * 100,
    currency: 'EUR',
    channel: 'ecommerce',
    occurredAt: new Date(o.at).toISOString(),
    card: { number: CARDS[o.card], expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
    // The ring changes device and drop address at every order: no rule on shared entities sees it.
    device: { id: o.fraud ? `ring-${o.id}` : `phone-${o.card}` },
    customer: { email: `holder${o.card}@example.com` },
    billingAddress: { line1: `${o.card} Main St`, city: 'Tokyo', postalCode: '1500002', country: 'JP' },
    shippingAddress: o.fraud
      ? { line1: `${o.id} Dock Rd`, city: 'Newark', postalCode: '07114', country: 'US' }
      : { line1: `${o.card} Main St`, city: 'Tokyo', postalCode: '1500002', country: 'JP' },
  });
}

/** The special cases the label rules are checked on (the ring's first order of days 5 to 9, a genuine order of day 8). */
const ANALYST_FRAUD = 'f-5-0';
const REVERSED = 'f-6-0';
const FAILED_CHALLENGE = 'f-7-0';
const DECLINED_GENUINE = 'g-8-0';
const DECLINED_LABELLED = 'f-9-0';
const SPECIAL = new Set([ANALYST_FRAUD, REVERSED, FAILED_CHALLENGE, DECLINED_GENUINE, DECLINED_LABELLED]);

interface Production {
  lines: RecordLine[];
  /** Production's model vector for each transaction id, as its engine computed it. */
  vectors: Map<string, Float64Array>;
  /** What production decided, by transaction id (the two declines below included). */
  decided: Map<string, string>;
  /** The orders whose fraud chargeback reached production before the recording ends. */
  chargedBack: Set<string>;
}

/**
 * A month of orders scored and recorded as production does; the ring's orders charged back 3 days
 * later, but for those production declined (never completed).
 */
async function recordProduction(): Promise<Production> {
  let clock = t0;
  const lines: RecordLine[] = [];
  const vectors = new Map<string, Float64Array>();
  const decided = new Map<string, string>();
  const chargedBack = new Set<string>();
  const recorder = new TrafficRecorder({
    sink: { write: async (batch) => void lines.push(...batch), close: async () => {} },
    flushMs: 60_000,
  });
  const ruleset = readRulesetFile(DEFAULT_RULESET_PATH, new Set(ALL_FEATURES));
  const rates = readRatesFile(DEFAULT_RATES_PATH);
  const store = new MemoryVelocityStore({ now: () => clock });
  const engine = new Engine({
    store,
    keyring: { primary: { id: 'k', secret: Buffer.alloc(32, 7) } },
    ruleset: () => ruleset,
    rates: () => rates,
    deadlineMs: 60_000,
    now: () => clock,
    // As deployed: every scoring asks the watchlist (no event here) and the analysts' lists.
    watchlistEvents: () => new Map(),
    lists: true,
    observer: {
      scored: (merchantId, request, result) => {
        recorder.scored(merchantId, request, result);
        if (result.kind === 'scored' && result.evidence)
          vectors.set(
            request.transactionId,
            servingVector(ENGINE_FEATURE_SET, result.evidence.features, result.evidence.at),
          );
      },
      outcomeRecorded: (merchantId, transactionId, outcome, at, reportedAt) =>
        recorder.outcome(merchantId, transactionId, outcome, at, reportedAt),
    },
  });
  const orders: Order[] = [];
  for (let d = 0; d < DAYS; d++) {
    for (let c = 0; c < CARD_COUNT; c++)
      orders.push({ id: `g-${d}-${c}`, card: c, at: t0 + d * DAY + (8 + (c % 12)) * HOUR + c * 1000, fraud: false });
    if (d >= 3)
      for (let k = 0; k < 3; k++)
        orders.push({
          id: `f-${d}-${k}`,
          card: (d * 7 + k * 13) % CARD_COUNT,
          at: t0 + d * DAY + (22 * HOUR + k * 600_000),
          fraud: true,
        });
  }
  orders.sort((a, b) => a.at - b.at);
  // Outcomes reach production in time order, between the orders.
  const outcomes: { id: string; outcome: string; at: number; reportedAt: number }[] = [];
  for (const o of orders) {
    if (!o.fraud || o.id === ANALYST_FRAUD || o.id === DECLINED_LABELLED) continue;
    if (o.id === FAILED_CHALLENGE)
      outcomes.push({ id: o.id, outcome: 'challenge_failed', at: o.at + 60_000, reportedAt: o.at + 60_000 });
    else {
      outcomes.push({ id: o.id, outcome: 'chargeback', at: o.at + DAY, reportedAt: o.at + 3 * DAY });
      if (o.id === REVERSED)
        outcomes.push({ id: o.id, outcome: 'chargeback_reversed', at: o.at + 4 * DAY, reportedAt: o.at + 5 * DAY });
    }
  }
  outcomes.sort((a, b) => a.reportedAt - b.reportedAt);
  let next = 0;
  const end = t0 + DAYS * DAY;
  for (const o of [...orders, { at: end } as Order]) {
    while (next < outcomes.length && outcomes[next]!.reportedAt < o.at) {
      const x = outcomes[next++]!;
      if (decided.get(x.id) === 'decline' && !SPECIAL.has(x.id)) continue;
      if (x.outcome === 'chargeback') chargedBack.add(x.id);
      clock = x.reportedAt;
      expect(await engine.recordOutcome('m1', x.id, x.outcome, x.at)).toBe('recorded');
    }
    if (o.at === end) break;
    clock = o.at;
    const result = await engine.score('m1', order(o));
    if (result.kind !== 'scored') throw new Error(`${o.id} not scored`);
    decided.set(o.id, result.response.decision);
    if (o.id === ANALYST_FRAUD || o.id === DECLINED_LABELLED) recorder.label('m1', o.id, 'fraud', o.at + 2 * DAY);
  }
  await recorder.close();
  await store.close();
  // Production declined these two (the recorded decision is what the training reads).
  const declined = new Set([DECLINED_GENUINE, DECLINED_LABELLED]);
  for (const id of declined) decided.set(id, 'decline');
  return {
    decided,
    chargedBack,
    lines: lines.map((l) => {
      const r = JSON.parse(l.json) as { kind: string; transactionId: string; decision?: string };
      return r.kind === 'scored' && declined.has(r.transactionId)
        ? { ...l, json: JSON.stringify({ ...r, decision: 'decline' }) }
        : l;
    }),
    vectors,
  };
}

const production = recordProduction();

function traffic(lines: RecordLine[]) {
  const builder = new TrafficBuilder('recording');
  lines.forEach((l, i) => builder.add(l.json, `recording:${i + 1}`));
  const t = builder.finish();
  expect(t.refused).toBe(0);
  return t;
}

const inForce: Configuration = {
  label: 'in force',
  ruleset: DEFAULT_RULESET_PATH,
  model: null,
  rates: DEFAULT_RATES_PATH,
};

describe('training rows from a recording', () => {
  it('are the vectors production computed, labelled with what the recording came to know', async () => {
    const { lines, vectors, decided, chargedBack } = await production;
    const t = traffic(lines);
    const ids = Array.from(
      { length: t.count },
      (_, i) =>
        (
          JSON.parse(Buffer.from(t.bytes.subarray(t.offsets[i]!, t.offsets[i + 1]!)).toString()) as {
            transactionId: string;
          }
        ).transactionId,
    );
    const set = await recordedTrainingSet(t, {
      configuration: inForce,
      featureSet: ENGINE_FEATURE_SET,
      warmupDays: 3,
      testDays: 7,
      failedChallenges: 'leave-out',
    });
    // Days 3..29 are rows (the first three only build the counters), the last 7 the test rows.
    expect(set.window.from).toBe(t0 + 3 * DAY + 8 * HOUR);
    expect(set.counts.warmup).toBe(3 * CARD_COUNT);
    expect(set.counts.scored).toBe(27 * (CARD_COUNT + 3));
    // Left out: the orders production declined (DECLINED_GENUINE and any the rules declined) but
    // DECLINED_LABELLED, which an analyst labelled; and the failed challenge.
    expect(decided.get(FAILED_CHALLENGE)).not.toBe('decline');
    const declines = [...decided].filter(([, d]) => d === 'decline').map(([id]) => id);
    expect(declines).toEqual(expect.arrayContaining([DECLINED_GENUINE, DECLINED_LABELLED]));
    expect(set.counts.leftOut).toEqual({ declined: declines.length - 1, challengeFailed: 1, notScored: 0 });
    expect(set.counts.used).toBe(set.counts.scored - declines.length);
    expect(set.train.rows + set.test.rows).toBe(set.counts.used);
    // The ring's chargebacks that reached production (but the reversed one) and two analysts' labels.
    expect(chargedBack.has(REVERSED)).toBe(true);
    expect(set.counts.fraudBy).toEqual({ chargeback: chargedBack.size - 1, analyst: 2, challengeFailed: 0 });
    expect(set.counts.frauds).toBe(chargedBack.size + 1);
    // The rows, in time order, are production's own vectors, bit for bit.
    const cols = ENGINE_FEATURE_SET.features.length;
    const leftOut = new Set([...declines.filter((id) => id !== DECLINED_LABELLED), FAILED_CHALLENGE]);
    const kept = ids.filter((id, i) => t.at[i]! >= set.window.from && !leftOut.has(id));
    expect(kept.length).toBe(set.counts.used);
    const rows = [
      ...Array.from({ length: set.train.rows }, (_, r) => ['train', r] as const),
      ...Array.from({ length: set.test.rows }, (_, r) => ['test', r] as const),
    ];
    let differing = 0;
    rows.forEach(([split, r], k) => {
      const row = set[split].values.subarray(r * cols, (r + 1) * cols);
      const expected = vectors.get(kept[k]!)!;
      if (!row.every((v, c) => Object.is(v, expected[c]))) differing++;
    });
    expect(differing).toBe(0);
    const labelOf = (id: string) => {
      const [split, r] = rows[kept.indexOf(id)]!;
      return set[split].labels[r];
    };
    expect(labelOf(REVERSED)).toBe(0);
    expect(labelOf(DECLINED_LABELLED)).toBe(1);
    expect(labelOf(ANALYST_FRAUD)).toBe(1);
    const chargedBackRing = [...chargedBack].filter((id) => !SPECIAL.has(id));
    expect(chargedBackRing.map(labelOf)).toEqual(chargedBackRing.map(() => 1));
    // The ring's last orders, whose chargebacks come after the recording ends, read as legitimate.
    const unreported = kept.filter((id) => /^f-2[789]-/.test(id));
    expect(unreported.length).toBeGreaterThan(0);
    expect(unreported.map(labelOf)).toEqual(unreported.map(() => 0));
    expect(labelOf('g-10-1')).toBe(0);
  });

  it('count a failed challenge as fraud when asked', async () => {
    const { lines, decided, chargedBack } = await production;
    const set = await recordedTrainingSet(traffic(lines), {
      configuration: inForce,
      featureSet: ENGINE_FEATURE_SET,
      warmupDays: 3,
      testDays: 0,
      failedChallenges: 'fraud',
    });
    const declines = [...decided.values()].filter((d) => d === 'decline').length;
    expect(set.counts.leftOut).toEqual({ declined: declines - 1, challengeFailed: 0, notScored: 0 });
    expect(set.counts.fraudBy).toEqual({ chargeback: chargedBack.size - 1, analyst: 2, challengeFailed: 1 });
    expect(set.test.rows).toBe(0);
  });
});

const root = join(import.meta.dirname, '..', '..');
function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', join(root, 'models/cli/model.ts'), 'train-recorded', ...args],
    {
      encoding: 'utf8',
      env: {
        ...process.env,
        LEAKGUARD_MODEL: 'off',
        LEAKGUARD_STATE_DIR: mkdtempSync(join(tmpdir(), 'lg-train-rec-state-')),
        ...env,
      },
      timeout: 300_000,
    },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm run model -- train-recorded', () => {
  it('trains a model on the recording that the engine serves, and finds the ring in the held-out week', async () => {
    const { lines, decided, chargedBack } = await production;
    const dir = mkdtempSync(join(tmpdir(), 'lg-train-rec-'));
    const recording = join(dir, 'recording.ndjson');
    writeFileSync(recording, lines.map((l) => l.json).join('\n') + '\n');
    const out = join(dir, 'model.json');
    const r = cli([
      '--source',
      recording,
      '--out',
      out,
      '--warmup-days',
      '3',
      '--trees',
      '20',
      '--workers',
      '0',
      '--quiet',
    ]);
    // Production's chargebacks took 3 days: the rows of the last 3 may lack theirs.
    expect(r.stderr).toContain(
      `warning: the rows end 0 days before the recording does, and 95 % of the ${chargedBack.size} chargebacks in the recording came within 3 days of their order: the frauds of the last days may still read as legitimate (--to 2026-09-27 leaves out those rows)`,
    );
    expect(r.status).toBe(0);
    const scored = 27 * (CARD_COUNT + 3);
    const declines = [...decided.values()].filter((d) => d === 'decline').length;
    const frauds = chargedBack.size + 1;
    expect(r.stdout).toContain(
      `rows 2026-09-04..2026-09-30: ${scored - declines} of ${scored} scorings, ${frauds} frauds (${chargedBack.size - 1} charged back, 2 labelled by an analyst, 0 failed challenges)`,
    );
    expect(r.stdout).toContain(`left out: ${declines - 1} declined and 1 failed challenges without a label`);
    // The held-out week: the last 7 calendar days.
    const test = /^test 2026-09-24\.\.2026-09-30: (\d+) transactions, (\d+) frauds: AUC (0\.9\d\d|1\.000)/m.exec(
      r.stdout,
    );
    expect(test).not.toBeNull();
    const testFrauds = Number(test![2]);
    expect(testFrauds).toBeGreaterThan(5);
    expect(r.stdout).toContain(
      `what it would decide: npm run backtest -- --model ${out} --source ${recording} --from 2026-09-24`,
    );
    const artifact = JSON.parse(readFileSync(out, 'utf8')) as {
      modelVersion: string;
      training: { target: { target: string; frauds: number }; data: { rows: number; from: string; to: string } };
      metrics: { auc: number; testFrauds: number; testTransactions: number };
    };
    expect(artifact.modelVersion).toMatch(/^rf-recorded-engine-/);
    expect(artifact.training.target).toMatchObject({ target: 'recorded', frauds: frauds - testFrauds });
    expect(artifact.training.data).toMatchObject({ from: '2026-09-04', to: '2026-09-23' });
    expect(artifact.training.data.rows + artifact.metrics.testTransactions).toBe(scored - declines);
    expect(artifact.metrics.testFrauds).toBe(testFrauds);
    expect(artifact.metrics.auc).toBeGreaterThan(0.9);
    // Nothing of a card number in what it printed or wrote.
    const text = `${r.stdout}${r.stderr}${readFileSync(out, 'utf8')}`;
    for (const card of CARDS) expect(text).not.toContain(card);

    // The engine serves it: a ring order scores far above the same card's usual order.
    const model = loadScoringModel(out, { amountReference: readRatesFile(DEFAULT_RATES_PATH).reference });
    let clock = t0 + 40 * DAY;
    const ruleset = readRulesetFile(DEFAULT_RULESET_PATH, new Set(ALL_FEATURES));
    const rates = readRatesFile(DEFAULT_RATES_PATH);
    const engine = new Engine({
      store: new MemoryVelocityStore({ now: () => clock }),
      keyring: { primary: { id: 'k', secret: Buffer.alloc(32, 7) } },
      ruleset: () => ruleset,
      rates: () => rates,
      deadlineMs: 60_000,
      now: () => clock,
      model: () => model,
    });
    const score = async (o: Order) => {
      clock = o.at;
      const result = await engine.score('m1', order(o));
      if (result.kind !== 'scored') throw new Error('not scored');
      return result.evidence!.features.model_score as number;
    };
    const genuine = await score({ id: 'n-1', card: 5, at: t0 + 40 * DAY, fraud: false });
    const ring = await score({ id: 'n-2', card: 6, at: t0 + 40 * DAY + 22 * HOUR, fraud: true });
    expect(ring).toBeGreaterThan(genuine + 30);
  });

  it('refuses what it cannot train on, with what to do', async () => {
    const { lines } = await production;
    const dir = mkdtempSync(join(tmpdir(), 'lg-train-rec-'));
    const recording = join(dir, 'recording.ndjson');
    // Only the first week: its one fraud label is reported after it, and the ring's orders end up in the test days.
    writeFileSync(recording, lines.map((l) => l.json).join('\n') + '\n');
    const noFraud = cli([
      '--source',
      recording,
      '--out',
      join(dir, 'm.json'),
      '--warmup-days',
      '3',
      '--to',
      '2026-09-04T12:00:00Z',
      '--test-days',
      '0',
      '--quiet',
    ]);
    expect(noFraud.status).toBe(1);
    expect(noFraud.stderr).toContain('no fraud among the training rows');
    for (const [args, message] of [
      [['--source', recording], '--out ARTIFACT.json is required'],
      [
        ['--source', recording, '--out', join(dir, 'm.json'), '--failed-challenges', 'maybe'],
        '--failed-challenges: leave-out or fraud, not maybe',
      ],
      [
        ['--source', recording, '--out', join(dir, 'm.json'), '--test-days=-1'],
        '--test-days: a whole number of days from 0 to 365, not -1',
      ],
      [['--source', recording, '--out', join(dir, 'm.json'), '--trees', '0'], '--trees: must be at least 1'],
      [['--source', join(dir, 'nowhere'), '--out', join(dir, 'm.json')], 'no such file or folder'],
    ] as const) {
      const r = cli([...args]);
      expect(r.stderr).toContain(message);
      expect(r.status).toBe(2);
    }
  });
});

describe('the warning that labels may still be coming', () => {
  const set = (o: { endDaysBefore: number; from?: number; delays?: { count: number; p95: number } }) => {
    const known = Date.parse('2026-12-01T00:00:00Z');
    return {
      labelsKnownUntil: known,
      window: { from: o.from ?? known - 200 * DAY, to: known - o.endDaysBefore * DAY, testFrom: undefined },
      chargebackDays: { count: o.delays?.count ?? 0, p50: NaN, p95: o.delays?.p95 ?? NaN },
    } as unknown as RecordedTrainingSet;
  };

  it('measures the horizon on the chargebacks the recording holds', () => {
    const measured = { count: 500, p95: 41.2 };
    expect(labelMaturityWarning(set({ endDaysBefore: 42, delays: measured }))).toBeUndefined();
    expect(labelMaturityWarning(set({ endDaysBefore: 10, delays: measured }))).toBe(
      'the rows end 10 days before the recording does, and 95 % of the 500 chargebacks in the recording came within 42 days of their order: the frauds of the last days may still read as legitimate (--to 2026-10-20 leaves out those rows)',
    );
  });

  it('assumes 60 days when the recording holds too few chargebacks, and says when it is too short', () => {
    expect(labelMaturityWarning(set({ endDaysBefore: 30, delays: { count: 19, p95: 2 } }))).toContain(
      'chargebacks come weeks after an order (most within 60 days; the recording holds too few to measure)',
    );
    expect(labelMaturityWarning(set({ endDaysBefore: 61 }))).toBeUndefined();
    expect(labelMaturityWarning(set({ endDaysBefore: 5, from: Date.parse('2026-11-01T00:00:00Z') }))).toContain(
      '(the recording is too short to leave them out: record longer)',
    );
  });
});

describe('npm run model -- record-simulated', () => {
  it('records a breach dataset as the engines would have, which train-recorded learns from', async () => {
    // Two breaches (days 20 and 34), their cards used 2–8 days later, as the breach protocol's test
    // (40 days of it: the first breach's fraud and its chargebacks).
    const hb: HandbookOptions = {
      ...HANDBOOK_DEFAULTS,
      customers: 300,
      terminals: 600,
      days: 40,
      seed: 5,
      terminalsPerDay: 1,
      customersPerDay: 1,
    };
    const breach: BreachOptions = {
      ...BREACH_DEFAULTS,
      breachDay: 20,
      breachInterval: 14,
      exposureDays: 20,
      delayMinDays: 2,
      delayMaxDays: 8,
      useShare: 0.5,
      issuerLagMinDays: 1,
      issuerLagMaxDays: 4,
      issuerCoverage: 0.8,
    };
    const dir = mkdtempSync(join(tmpdir(), 'lg-record-sim-'));
    const data = mkdtempSync(join(tmpdir(), 'lg-record-sim-data-'));
    simulate(hb, data, breach);
    const ds = readDataset(data, { keepExtra: true });
    const recording = join(dir, 'recording.ndjson');
    const recorded = spawnSync(
      process.execPath,
      [
        '--disable-warning=ExperimentalWarning',
        join(root, 'models/cli/model.ts'),
        'record-simulated',
        '--data',
        data,
        '--out',
        recording,
        '--quiet',
      ],
      { encoding: 'utf8', timeout: 300_000 },
    );
    expect(recorded.stderr).toBe('');
    expect(recorded.status).toBe(0);
    const records = readFileSync(recording, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; outcome?: string; transactionId: string; decision?: string });
    // Every transaction scored once, by the starter model; the completed frauds charged back.
    const scored = records.filter((r) => r.kind === 'scored');
    expect(scored.length).toBe(ds.n);
    expect(recorded.stdout).toContain(`scored ${ds.n} transactions`);
    expect(recorded.stdout).toContain('(model: starter-engine-v2-sim1-50t;');
    const chargebacks = new Set(records.filter((r) => r.outcome === 'chargeback').map((r) => r.transactionId));
    const frauds = new Set(
      Array.from({ length: ds.n }, (_, i) => i)
        .filter((i) => ds.fraud[i])
        .map((i) => String(ds.transactionId[i])),
    );
    expect(chargebacks.size).toBeGreaterThan(10);
    expect([...chargebacks].every((id) => frauds.has(id))).toBe(true);
    // None for a fraud the engine declined (it never completed).
    const declined = new Set(scored.filter((r) => r.decision === 'decline').map((r) => r.transactionId));
    expect([...chargebacks].some((id) => declined.has(id))).toBe(false);
    const text = readFileSync(recording, 'utf8');
    expect(text).not.toMatch(/"number"/);

    const out = join(dir, 'own.json');
    const r = cli([
      ...['--source', recording, '--out', out, '--warmup-days', '10'],
      ...['--trees', '10', '--workers', '0', '--quiet'],
    ]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^rows 2018-04-11\.\.2018-05-10: \d+ of \d+ scorings, \d+ frauds \(\d+ charged back, 0 labelled by an analyst/m,
    );
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ training: { target: { target: 'recorded' } } });
  }, 240_000);
});
