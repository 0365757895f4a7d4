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
import { RecordedProduction } from '../support/recorded-production.ts';
import type { RecordLine } from '../../services/recording/record.ts';
import { ENGINE_FEATURE_SET } from '../../services/model/definitions.ts';
import { servingVector } from '../../services/model/serving.ts';
import { TrafficBuilder, type Traffic } from '../../models/backtest/traffic.ts';
import type { Configuration } from '../../models/backtest/replay.ts';
import { labelHorizon, LEFT_OUT, recordedTrainingSet } from '../../models/training/recorded.ts';
import { readDataset } from '../../models/simulator/csv.ts';
import { simulateSmallBreach } from '../support/small-breach.ts';

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

/**
 * The model_score an engine serving the artifact at `path` gives a card's usual order and a ring's
 * order of another card, day 40: what a trained model must tell apart.
 */
async function servedScores(path: string, merchantId: string): Promise<{ genuine: number; ring: number }> {
  const model = loadScoringModel(path, { amountReference: readRatesFile(DEFAULT_RATES_PATH).reference });
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
    const result = await engine.score(merchantId, order(o));
    if (result.kind !== 'scored') throw new Error('not scored');
    return result.evidence!.features.model_score as number;
  };
  const genuine = await score({ id: 'n-1', card: 5, at: t0 + 40 * DAY, fraud: false });
  const ring = await score({ id: 'n-2', card: 6, at: t0 + 40 * DAY + 22 * HOUR, fraud: true });
  return { genuine, ring };
}

/** The special cases the label rules are checked on (the ring's first order of days 5 to 9, a genuine order of day 8). */
const ANALYST_FRAUD = 'f-5-0';
const REVERSED = 'f-6-0';
const FAILED_CHALLENGE = 'f-7-0';
const DECLINED_GENUINE = 'g-8-0';
const DECLINED_LABELLED = 'f-9-0';
/** Declined by the issuer (reported by the merchant at once): never charged back. */
const ISSUER_DECLINED = 'f-11-0';
/** Labelled legitimate by an analyst, then charged back as fraud: the holder's bank outweighs the analyst. */
const LEGITIMATE_THEN_CHARGED_BACK = 'f-12-0';
/** A genuine order an analyst labelled fraud, a lead reversed: no label. */
const WITHDRAWN = 'g-13-0';
/** A genuine order the merchant refunded: legitimate, counted among those no chargeback would have come for. */
const REFUNDED = 'g-14-0';
const SPECIAL = new Set([
  ANALYST_FRAUD,
  REVERSED,
  FAILED_CHALLENGE,
  DECLINED_GENUINE,
  DECLINED_LABELLED,
  ISSUER_DECLINED,
  LEGITIMATE_THEN_CHARGED_BACK,
  WITHDRAWN,
  REFUNDED,
]);

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
  const production = new RecordedProduction(t0);
  const { recorder } = production;
  const vectors = new Map<string, Float64Array>();
  const decided = new Map<string, string>();
  const chargedBack = new Set<string>();
  const engine = production.engine(undefined, (request, result) => {
    if (result.kind === 'scored' && result.evidence)
      vectors.set(
        request.transactionId,
        servingVector(ENGINE_FEATURE_SET, result.evidence.features, result.evidence.at),
      );
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
    if (o.id === REFUNDED) outcomes.push({ id: o.id, outcome: 'refund', at: o.at + DAY, reportedAt: o.at + DAY });
    if (!o.fraud || o.id === ANALYST_FRAUD || o.id === DECLINED_LABELLED) continue;
    if (o.id === FAILED_CHALLENGE)
      outcomes.push({ id: o.id, outcome: 'challenge_failed', at: o.at + 60_000, reportedAt: o.at + 60_000 });
    else if (o.id === ISSUER_DECLINED)
      outcomes.push({ id: o.id, outcome: 'declined', at: o.at, reportedAt: o.at + 60_000 });
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
      production.clock = x.reportedAt;
      expect(await engine.recordOutcome('m1', x.id, x.outcome, x.at)).toBe('recorded');
    }
    if (o.at === end) break;
    production.clock = o.at;
    const result = await engine.score('m1', order(o));
    if (result.kind !== 'scored') throw new Error(`${o.id} not scored`);
    decided.set(o.id, result.response.decision);
    if (o.id === ANALYST_FRAUD || o.id === DECLINED_LABELLED) recorder.label('m1', o.id, 'fraud', o.at + 2 * DAY);
    if (o.id === LEGITIMATE_THEN_CHARGED_BACK) recorder.label('m1', o.id, 'legitimate', o.at + DAY);
    if (o.id === WITHDRAWN) {
      recorder.label('m1', o.id, 'fraud', o.at + DAY);
      recorder.labelWithdrawn('m1', o.id, o.at + 2 * DAY);
    }
  }
  await production.close();
  // Production declined these two (the recorded decision is what the training reads).
  const declined = new Set([DECLINED_GENUINE, DECLINED_LABELLED]);
  for (const id of declined) decided.set(id, 'decline');
  return {
    decided,
    chargedBack,
    lines: production.lines.map((l) => {
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
  // The whole month as rows (to the recording's end, chargebacks 3 days in coming).
  const options = {
    configuration: inForce,
    featureSet: ENGINE_FEATURE_SET,
    warmupDays: 3,
    to: t0 + DAYS * DAY,
    labelDays: 3,
  } as const;

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
    const set = await recordedTrainingSet(t, { ...options, testDays: 7, failedChallenges: 'leave-out' });
    // Days 3..29 are rows (the first three only build the counters), the last 7 the test days.
    expect(set.window.from).toBe(t0 + 3 * DAY + 8 * HOUR);
    expect(set.window.testFrom).toBe(t0 + 23 * DAY);
    expect(set.counts.warmup).toBe(3 * CARD_COUNT);
    expect(set.counts.scored).toBe(27 * (CARD_COUNT + 3));
    expect(set.rows).toBe(set.counts.scored);
    expect(set.horizon).toEqual({ days: 3, basis: 'given', settled: 0 });
    expect(set.immature).toBe(true);
    // Left out: the orders production declined (DECLINED_GENUINE and any the rules declined) but
    // DECLINED_LABELLED, which an analyst labelled; the one the issuer declined; the failed challenge.
    const declines = [...decided].filter(([, d]) => d === 'decline').map(([id]) => id);
    expect(declines).toEqual(expect.arrayContaining([DECLINED_GENUINE, DECLINED_LABELLED]));
    for (const id of [FAILED_CHALLENGE, ISSUER_DECLINED, LEGITIMATE_THEN_CHARGED_BACK])
      expect(decided.get(id)).not.toBe('decline');
    expect(set.counts.leftOut).toEqual({ declined: declines.length, challengeFailed: 1, notScored: 0 });
    expect(set.counts.labelled).toBe(set.counts.scored - declines.length - 1);
    // The ring's chargebacks that reached production (but the reversed one) and two analysts' labels.
    expect(chargedBack.has(REVERSED)).toBe(true);
    expect(chargedBack.has(LEGITIMATE_THEN_CHARGED_BACK)).toBe(true);
    expect(set.counts.fraudBy).toEqual({ chargeback: chargedBack.size - 1, analyst: 2, challengeFailed: 0 });
    expect(set.counts.frauds).toBe(chargedBack.size + 1);
    expect(set.counts.labelledLegitimate).toBe(0);
    // The rows, in time order, are production's own vectors, bit for bit.
    const cols = ENGINE_FEATURE_SET.features.length;
    const rowIds = ids.filter((_, i) => t.at[i]! >= set.window.from);
    expect(rowIds.length).toBe(set.rows);
    const differing = rowIds.filter((id, r) => {
      const row = set.values.subarray(r * cols, (r + 1) * cols);
      const expected = vectors.get(id)!;
      return !row.every((v, c) => Object.is(v, expected[c]));
    });
    expect(differing).toEqual([]);
    const labelOf = (id: string) => set.labels[rowIds.indexOf(id)];
    expect(labelOf(REVERSED)).toBe(0);
    expect(labelOf(DECLINED_LABELLED)).toBe(1);
    expect(labelOf(ANALYST_FRAUD)).toBe(1);
    expect(labelOf(LEGITIMATE_THEN_CHARGED_BACK)).toBe(1);
    expect(labelOf(WITHDRAWN)).toBe(0);
    expect(labelOf(REFUNDED)).toBe(0);
    // Read legitimate though no chargeback was likely: the refund, and the orders production held
    // for review that no analyst decided.
    const undecided = rowIds.filter((id) => decided.get(id) === 'review' && labelOf(id) === 0);
    expect(set.counts.unconfirmed).toEqual({ refunded: 1, reviewUndecided: undecided.length });
    for (const id of [DECLINED_GENUINE, ISSUER_DECLINED, FAILED_CHALLENGE]) expect(labelOf(id)).toBe(LEFT_OUT);
    const chargedBackRing = [...chargedBack].filter((id) => !SPECIAL.has(id));
    expect(chargedBackRing.map(labelOf)).toEqual(chargedBackRing.map(() => 1));
    // The ring's last orders, whose chargebacks come after the recording ends, read as legitimate.
    const unreported = rowIds.filter((id) => /^f-2[789]-/.test(id));
    expect(unreported.length).toBe(9);
    expect(unreported.map(labelOf)).toEqual(unreported.map(() => 0));
    expect(labelOf('g-10-1')).toBe(0);

    // What a deployment training when the test days began learnt from: the rows 3 days older (the
    // horizon), with the labels known then.
    expect(set.evaluationEndRow).toBe(rowIds.findIndex((_, r) => set.at[r]! >= t0 + 20 * DAY));
    // A chargeback reported since was not known.
    expect(set.testStartRow).toBe(rowIds.findIndex((_, r) => set.at[r]! >= t0 + 23 * DAY));
    const reportedSince = rowIds.slice(0, set.testStartRow).filter((id) => /^f-2[012]-/.test(id));
    expect(reportedSince.length).toBe(9);
    expect(reportedSince.map(labelOf)).toEqual(reportedSince.map(() => 1));
    expect(reportedSince.map((id) => set.labelsAtTestStart[rowIds.indexOf(id)])).toEqual(reportedSince.map(() => 0));
    const before = rowIds.slice(0, set.testStartRow).filter((id) => /^f-1[0-9]-/.test(id) && !SPECIAL.has(id));
    expect(before.map((id) => set.labelsAtTestStart[rowIds.indexOf(id)])).toEqual(before.map(labelOf));
  });

  it('count a failed challenge as fraud when asked', async () => {
    const { lines, decided, chargedBack } = await production;
    const set = await recordedTrainingSet(traffic(lines), { ...options, testDays: 0, failedChallenges: 'fraud' });
    const declines = [...decided.values()].filter((d) => d === 'decline').length;
    expect(set.counts.leftOut).toEqual({ declined: declines, challengeFailed: 0, notScored: 0 });
    expect(set.counts.fraudBy).toEqual({ chargeback: chargedBack.size - 1, analyst: 2, challengeFailed: 1 });
    expect(set.testStartRow).toBe(set.rows);
  });

  it('end where the chargebacks could have come, or say why there is nothing to learn', async () => {
    const { lines } = await production;
    const t = traffic(lines);
    const set = await recordedTrainingSet(t, {
      configuration: inForce,
      featureSet: ENGINE_FEATURE_SET,
      warmupDays: 3,
      labelDays: 3,
      testDays: 0,
      failedChallenges: 'leave-out',
    });
    // The recording ends with its last chargeback report (day 29, 22:20 + 3 days is after it: day 29's own).
    expect(new Date(set.window.to).toISOString()).toBe('2026-09-27T00:00:00.000Z');
    expect(set.immature).toBe(false);
    // A month holds no chargeback of an order 120 days old: 60 days assumed, more than the month.
    await expect(
      recordedTrainingSet(t, {
        ...options,
        to: undefined,
        labelDays: undefined,
        testDays: 0,
        failedChallenges: 'leave-out',
      }),
    ).rejects.toThrow(
      /^no rows whose chargebacks could have come: the recording runs from 2026-09-01 to 2026-09-30, and a row needs 60 days after it \(assumed: the recording holds 0 chargebacks of orders 120 days old or more, too few to measure \(--label-days\)\)/,
    );
  });
});

describe('the label horizon', () => {
  const end = Date.parse('2026-12-01T00:00:00Z');
  const withChargebacks = (delays: { ageDays: number; days: number }[]) =>
    ({
      chargebackTimes: delays.map((d) => ({
        at: end - d.ageDays * DAY,
        reportedAt: end - d.ageDays * DAY + d.days * DAY,
      })),
    }) as unknown as Traffic;

  it('is measured on chargebacks of orders old enough to have had theirs: 95 % came within it', () => {
    const settled = Array.from({ length: 100 }, (_, i) => ({ ageDays: 130 + i, days: i < 95 ? 10 + (i % 30) : 90 }));
    expect(labelHorizon(withChargebacks(settled), end)).toEqual({ days: 39, basis: 'measured', settled: 100 });
    // Recent orders' chargebacks are the quick ones so far: they do not shorten it.
    const recent = Array.from({ length: 500 }, () => ({ ageDays: 10, days: 2 }));
    expect(labelHorizon(withChargebacks([...settled, ...recent]), end)).toEqual({
      days: 39,
      basis: 'measured',
      settled: 100,
    });
  });

  it('is assumed 60 days on fewer than 20 settled chargebacks, and --label-days wins', () => {
    const few = Array.from({ length: 19 }, () => ({ ageDays: 150, days: 5 }));
    expect(labelHorizon(withChargebacks(few), end)).toEqual({ days: 60, basis: 'assumed', settled: 19 });
    expect(labelHorizon(withChargebacks(few), end, 7)).toEqual({ days: 7, basis: 'given', settled: 19 });
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

async function recordingFile(): Promise<{ dir: string; recording: string }> {
  const { lines } = await production;
  const dir = mkdtempSync(join(tmpdir(), 'lg-train-rec-'));
  const recording = join(dir, 'recording.ndjson');
  writeFileSync(recording, lines.map((l) => l.json).join('\n') + '\n');
  return { dir, recording };
}

describe('npm run model -- train-recorded', () => {
  it('trains a model on the recording that the engine serves, and finds the ring in the held-out week', async () => {
    const { dir, recording } = await recordingFile();
    const out = join(dir, 'model.json');
    const r = cli([
      ...['--source', recording, '--out', out, '--warmup-days', '3', '--label-days', '3'],
      ...['--trees', '20', '--workers', '0', '--quiet'],
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // The same rows and labels as the library gives (above), printed.
    const set = await recordedTrainingSet(traffic((await production).lines), {
      configuration: inForce,
      featureSet: ENGINE_FEATURE_SET,
      warmupDays: 3,
      labelDays: 3,
      testDays: 7,
      failedChallenges: 'leave-out',
    });
    const c = set.counts;
    expect(r.stdout).toContain(
      `rows 2026-09-04..2026-09-26: ${c.labelled} of ${c.scored} scorings, ${c.frauds} frauds (${c.fraudBy.chargeback} charged back, 2 labelled by an analyst, 0 failed challenges), 0 labelled legitimate by an analyst`,
    );
    expect(r.stdout).toContain(`left out: ${c.leftOut.declined} declined and 1 failed challenges without a label`);
    expect(r.stdout).toContain(
      `read legitimate without a fraud label, though a chargeback was unlikely to come: 1 refunded, ${c.unconfirmed.reviewUndecided} held for review and never decided`,
    );
    expect(r.stdout).toContain('label horizon 3 days (given by --label-days); the recording ends 2026-09-30');
    const test = /^test 2026-09-20\.\.2026-09-26: (\d+) transactions, (\d+) frauds: AUC (0\.9\d\d|1\.000)/m.exec(
      r.stdout,
    );
    expect(test).not.toBeNull();
    const testFrauds = Number(test![2]);
    // The ring's 21 orders of those 7 days, all charged back by the recording's end.
    expect(testFrauds).toBe(21);
    expect(r.stdout).toMatch(
      /^ {2}\(a forest trained on the \d+ rows up to 3 days before 2026-09-20, with the \d+ frauds known on 2026-09-20\)$/m,
    );
    expect(r.stdout).toContain(
      `what it would decide on days it did not learn from: npm run backtest -- --model ${out} --source ${recording} --from 2026-09-27\n  (their frauds may read as legitimate yet: chargebacks take up to 3 days; a backtest of the rows' own days is in-sample)`,
    );
    const artifact = JSON.parse(readFileSync(out, 'utf8')) as {
      modelVersion: string;
      training: {
        target: { target: string; frauds: number; description: string };
        data: { rows: number; from: string; to: string };
      };
      metrics: { auc: number; testFrauds: number; testTransactions: number; thresholds: { fraudsCaught: number }[] };
    };
    expect(artifact.modelVersion).toMatch(/^rf-recorded-engine-/);
    // The artifact learnt every labelled row, the test days' included.
    expect(artifact.training.target).toMatchObject({ target: 'chargebacks', frauds: c.frauds });
    expect(artifact.training.target.description).toMatch(
      /^target: the deployment's recorded labels known by 2026-09-30/,
    );
    expect(artifact.training.data).toMatchObject({ from: '2026-09-04', to: '2026-09-26', rows: c.labelled });
    expect(artifact.metrics.testFrauds).toBe(testFrauds);
    expect(artifact.metrics.auc).toBeGreaterThan(0.9);
    expect(artifact.metrics.thresholds[1]!.fraudsCaught).toBeGreaterThan(testFrauds / 2);
    // Nothing of a card number in what it printed or wrote.
    const text = `${r.stdout}${r.stderr}${readFileSync(out, 'utf8')}`;
    for (const card of CARDS) expect(text).not.toContain(card);

    // The engine serves it: a ring order scores far above the same card's usual order.
    const { genuine, ring } = await servedScores(out, 'm1');
    expect(ring).toBeGreaterThan(genuine + 30);
  }, 240_000);

  it('warns of rows whose chargebacks may still be coming, and refuses what it cannot train on', async () => {
    const { dir, recording } = await recordingFile();
    const late = cli([
      ...['--source', recording, '--out', join(dir, 'late.json'), '--warmup-days', '3', '--label-days', '3'],
      ...['--to', '2026-10-01', '--test-days', '0', '--trees', '5', '--workers', '0', '--quiet'],
    ]);
    expect(late.status).toBe(0);
    expect(late.stderr).toContain(
      "warning: the rows reach the recording's end, within the label horizon (3 days): the frauds of the last days may still read as legitimate (without --to the rows end 2026-09-26)",
    );
    expect(late.stdout).toContain('no test rows: the artifact carries no evaluation');
    const early = cli([
      ...['--source', recording, '--out', join(dir, 'early.json'), '--from', '2026-09-05', '--label-days', '3'],
      ...['--test-days', '0', '--trees', '5', '--workers', '0', '--quiet'],
    ]);
    expect(early.status).toBe(0);
    expect(early.stderr).toContain(
      "warning: the recording starts 2026-09-01, 33 days short of the 37 before the rows' start (2026-09-05): the first rows' counters miss that history",
    );
    const noFraud = cli([
      ...['--source', recording, '--out', join(dir, 'm.json'), '--warmup-days', '3', '--label-days', '3'],
      ...['--to', '2026-09-04T12:00:00Z', '--test-days', '0', '--quiet'],
    ]);
    expect(noFraud.status).toBe(1);
    expect(noFraud.stderr).toContain('no fraud among the rows');
    for (const [args, message] of [
      [['--source', recording], '--out ARTIFACT.json is required'],
      [['--source', recording, '--out', join(dir, 'm.json')], 'no rows whose chargebacks could have come'],
      [
        ['--source', recording, '--out', join(dir, 'm.json'), '--failed-challenges', 'maybe'],
        '--failed-challenges: leave-out or fraud, not maybe',
      ],
      [
        ['--source', recording, '--out', join(dir, 'm.json'), '--test-days=-1'],
        '--test-days: must be at least 0 and at most 365, not -1',
      ],
      [
        ['--source', recording, '--out', join(dir, 'm.json'), '--label-days', '2.5'],
        '--label-days: must be a whole number, not 2.5',
      ],
      [
        ['--source', recording, '--out', join(dir, 'm.json'), '--leaf-values', 'mean'],
        '--leaf-values: sample, all or oob, not mean',
      ],
      [['--source', recording, '--out', join(dir, 'm.json'), '--trees', '0'], '--trees: must be at least 1'],
      [['--source', join(dir, 'nowhere'), '--out', join(dir, 'm.json')], 'no such file or folder'],
    ] as const) {
      const r = cli([...args]);
      expect(r.stderr).toContain(message);
      expect(r.status).toBe(2);
    }
  }, 240_000);
});

/**
 * A merchant's own history before it goes live, as `npm run replay` reads it: the same month of
 * orders as plain /v1/score requests (card numbers and all), labelled by the file's own fields: the
 * ring's chargebacks as outcomes at the date they reached the merchant (those after the export's end
 * absent), one order labelled fraud, one chargeback reversed, one declined by the issuer, one
 * refunded, one labelled legitimate. No decision of production: there was none.
 */
const EXPORT_LABELLED_FRAUD = 'f-5-0';
const EXPORT_REVERSED = 'f-6-0';
const EXPORT_ISSUER_DECLINED = 'f-7-0';
const EXPORT_REFUNDED = 'g-14-0';
const EXPORT_LABELLED_LEGITIMATE = 'g-9-1';

function merchantExport(): {
  lines: Record<string, unknown>[];
  orders: Order[];
  outcomes: { id: string; outcome: string; at: number }[];
} {
  const end = t0 + DAYS * DAY;
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
  const outcomes: { id: string; outcome: string; at: number }[] = [];
  const lines = orders.map((o) => {
    const line: Record<string, unknown> = { ...order(o) };
    const outcome = (outcome: string, at: number) => {
      if (at >= end) return;
      line.outcome = outcome;
      line.outcomeAt = new Date(at).toISOString();
      if (outcome !== 'chargeback_reversed') outcomes.push({ id: o.id, outcome, at });
    };
    if (o.id === EXPORT_LABELLED_FRAUD) line.label = 'fraud';
    else if (o.id === EXPORT_LABELLED_LEGITIMATE) line.label = 'legitimate';
    else if (o.id === EXPORT_REFUNDED) outcome('refund', o.at + DAY);
    else if (o.id === EXPORT_ISSUER_DECLINED) outcome('declined', o.at + 60_000);
    else if (o.id === EXPORT_REVERSED) outcome('chargeback_reversed', o.at + 5 * DAY);
    else if (o.fraud) outcome('chargeback', o.at + 3 * DAY);
    return line;
  });
  return { lines, orders, outcomes };
}

/** The model vector of each order as an engine scoring the export in time order computes it, outcomes reaching it at outcomeAt. */
async function exportVectors(): Promise<Map<string, Float64Array>> {
  const { orders, outcomes } = merchantExport();
  const production = new RecordedProduction(t0);
  const vectors = new Map<string, Float64Array>();
  const engine = production.engine(undefined, (request, result) => {
    if (result.kind === 'scored' && result.evidence)
      vectors.set(
        request.transactionId,
        servingVector(ENGINE_FEATURE_SET, result.evidence.features, result.evidence.at),
      );
  });
  outcomes.sort((a, b) => a.at - b.at);
  let next = 0;
  for (const o of orders) {
    while (next < outcomes.length && outcomes[next]!.at < o.at) {
      const x = outcomes[next++]!;
      production.clock = x.at;
      expect(await engine.recordOutcome('shop-1', x.id, x.outcome, x.at)).toBe('recorded');
    }
    production.clock = o.at;
    expect((await engine.score('shop-1', order(o))).kind).toBe('scored');
  }
  await production.close();
  return vectors;
}

describe("training rows from a merchant's own requests (--requests)", () => {
  it("are the vectors the engine computes on them, labelled by the lines' label and outcome, nothing left out for a decision", async () => {
    const { lines, orders } = merchantExport();
    const builder = new TrafficBuilder('requests', { defaultMerchant: 'shop-1' });
    lines.forEach((l, i) => builder.add(JSON.stringify(l), `export:${i + 1}`));
    const t = builder.finish();
    expect(t.refused).toBe(0);
    const set = await recordedTrainingSet(t, {
      configuration: inForce,
      featureSet: ENGINE_FEATURE_SET,
      warmupDays: 3,
      to: t0 + DAYS * DAY,
      labelDays: 3,
      testDays: 7,
      failedChallenges: 'leave-out',
    });
    expect(set.source).toBe('requests');
    expect(set.counts.scored).toBe(27 * (CARD_COUNT + 3));
    expect(set.rows).toBe(set.counts.scored);
    // Only the issuer's decline is left out: whatever the replay's engine decides, no production decided them.
    expect(set.counts.leftOut).toEqual({ declined: 1, challengeFailed: 0, notScored: 0 });
    // The ring's orders from day 3 whose chargeback came by the export's end (day 26's last), but the
    // three special ones; and the one labelled fraud.
    const chargedBack = orders.filter(
      (o) =>
        o.fraud &&
        o.at + 3 * DAY < t0 + DAYS * DAY &&
        ![EXPORT_LABELLED_FRAUD, EXPORT_REVERSED, EXPORT_ISSUER_DECLINED].includes(o.id),
    ).length;
    expect(set.counts.fraudBy).toEqual({ chargeback: chargedBack, analyst: 1, challengeFailed: 0 });
    expect(set.counts.labelledLegitimate).toBe(1);
    expect(set.counts.unconfirmed).toEqual({ refunded: 1, reviewUndecided: 0 });
    expect(set.counts.outcomesWithoutReportedAt).toBe(0);
    const rowIds = orders.filter((o) => o.at >= set.window.from).map((o) => o.id);
    const labelOf = (id: string) => set.labels[rowIds.indexOf(id)];
    expect(labelOf(EXPORT_LABELLED_FRAUD)).toBe(1);
    expect(labelOf(EXPORT_REVERSED)).toBe(0);
    expect(labelOf(EXPORT_ISSUER_DECLINED)).toBe(LEFT_OUT);
    expect(labelOf(EXPORT_REFUNDED)).toBe(0);
    expect(labelOf('f-10-1')).toBe(1);
    // The rows are the engine's model vectors, bit for bit.
    const vectors = await exportVectors();
    const cols = ENGINE_FEATURE_SET.features.length;
    const differing = rowIds.filter((id, r) => {
      const row = set.values.subarray(r * cols, (r + 1) * cols);
      const expected = vectors.get(id)!;
      return !row.every((v, c) => Object.is(v, expected[c]));
    });
    expect(differing).toEqual([]);
  });
});

describe('npm run model -- train-recorded --requests', () => {
  it('warns of chargebacks without outcomeAt, and measures no label horizon on them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-train-req-undated-'));
    const file = join(dir, 'my-orders.ndjson');
    const lines = merchantExport().lines.map(({ outcomeAt, ...line }) =>
      line.outcome === 'chargeback' ? line : { ...line, ...(outcomeAt === undefined ? {} : { outcomeAt }) },
    );
    const builder = new TrafficBuilder('requests');
    lines.forEach((l, i) => builder.add(JSON.stringify(l), `export:${i + 1}`));
    const t = builder.finish();
    const chargebacks = lines.filter((l) => l.outcome === 'chargeback').length;
    expect(chargebacks).toBeGreaterThan(20);
    expect(t.outcomesWithoutReportedAt).toBe(chargebacks);
    expect(t.chargebackTimes).toEqual([]);
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const r = cli([
      ...['--requests', file, '--out', join(dir, 'own.json'), '--warmup-days', '3', '--to', '2026-09-27'],
      ...['--test-days', '0', '--trees', '5', '--workers', '0', '--quiet'],
    ]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(
      `warning: ${chargebacks} outcomes without outcomeAt: replayed at their order's time, a chargeback counts in the features of the orders after it from then`,
    );
    expect(r.stdout).toContain(
      'label horizon 60 days (assumed: the file holds 0 chargebacks of orders 120 days old or more, too few to measure (--label-days))',
    );
    expect(r.stderr + r.stdout).not.toContain('recording');
  }, 120_000);

  it("trains on a merchant's own history a model the engine serves, naming a refused line by its number alone", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-train-req-'));
    const file = join(dir, 'my-orders.ndjson');
    const lines = merchantExport().lines.map((l) => JSON.stringify(l));
    // Line 100 is refused: an amount the API refuses, beside a card number.
    const refused = { ...JSON.parse(lines[99]!), amount: -5 } as Record<string, unknown>;
    lines.splice(99, 0, JSON.stringify(refused));
    writeFileSync(file, lines.join('\n') + '\n');
    const out = join(dir, 'own.json');
    const r = cli([
      ...['--requests', file, '--merchant', 'shop-1', '--out', out, '--warmup-days', '3', '--label-days', '3'],
      ...['--trees', '20', '--workers', '0', '--quiet'],
    ]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^warning: 1 lines of the file refused: ${file}:100: amount: `));
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stdout).toContain(
      `read requests ${file}: ${3 * CARD_COUNT + 23 * (CARD_COUNT + 3)} requests replayed, ${3 * CARD_COUNT} of them before 2026-09-04`,
    );
    expect(r.stdout).toMatch(
      /^rows 2026-09-04\.\.2026-09-26: \d+ of \d+ requests, \d+ frauds \(\d+ charged back, 1 labelled in the file, 0 failed challenges\), 1 labelled legitimate in the file$/m,
    );
    expect(r.stdout).toContain('left out: 1 declined (outcome declined) and 0 failed challenges without a label');
    expect(r.stdout).toContain(
      'read legitimate without a fraud label, though a chargeback was unlikely to come: 1 refunded\n',
    );
    expect(r.stdout).toContain('label horizon 3 days (given by --label-days); the file ends 2026-09-30');
    expect(r.stdout).toMatch(/^test 2026-09-20\.\.2026-09-26: \d+ transactions, 21 frauds: AUC (0\.9\d\d|1\.000)/m);
    expect(r.stdout).toContain(
      `what it would decide on days it did not learn from: npm run replay -- ${file} --merchant shop-1 --model ${out} --from 2026-09-27`,
    );
    expect(r.stdout).not.toContain('held for review');
    expect(r.stdout).not.toContain('recording');
    const artifact = JSON.parse(readFileSync(out, 'utf8')) as {
      modelVersion: string;
      training: { target: { target: string; description: string }; data: { source: string } };
    };
    expect(artifact.modelVersion).toMatch(/^rf-requests-engine-/);
    expect(artifact.training.data.source).toBe(`requests ${file}`);
    expect(artifact.training.target.target).toBe('chargebacks');
    expect(artifact.training.target.description).toMatch(
      /^target: the merchant's own labels in requests .* known by 2026-09-30T22:20:00\.000Z: fraud chargebacks \(outcome\) and fraud labels \(label\); declined orders and failed challenges without a label left out$/,
    );
    const text = `${r.stdout}${r.stderr}${readFileSync(out, 'utf8')}`;
    for (const card of CARDS) expect(text).not.toContain(card);

    // The engine serves it: a ring order scores far above the same card's usual order.
    const { genuine, ring } = await servedScores(out, 'shop-1');
    expect(ring).toBeGreaterThan(genuine + 30);
  }, 240_000);

  it('takes one source, the recording or a file of requests, and --merchant only with --requests', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-train-req-usage-'));
    const file = join(dir, 'my-orders.ndjson');
    writeFileSync(
      file,
      merchantExport()
        .lines.slice(0, 10)
        .map((l) => JSON.stringify(l))
        .join('\n') + '\n',
    );
    const out = join(dir, 'm.json');
    for (const [args, message] of [
      [['--source', file, '--requests', file, '--out', out], '--source and --requests: one or the other'],
      [['--source', file, '--merchant', 'shop-1', '--out', out], '--merchant: only with --requests'],
      [['--merchant', 'shop-1', '--out', out], '--merchant: only with --requests'],
      [['--requests', join(dir, 'nowhere'), '--out', out], 'no such file or folder'],
      // Neither: the recording where the engines write it, which a merchant not live yet lacks.
      [
        ['--out', out],
        'records (the recording is under LEAKGUARD_RECORD_DIR, by default <state dir>/records); not live yet? --requests FILE trains on your own history',
      ],
    ] as const) {
      const r = cli([...args]);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain('usage: npm run model -- train-recorded');
      expect(r.status).toBe(2);
    }
  }, 60_000);
});

describe('npm run model -- record-simulated', () => {
  it('records a breach dataset as the engines would have, which train-recorded learns from', async () => {
    // The small breach world (40 days of it: the first breach's fraud and its chargebacks).
    const dir = mkdtempSync(join(tmpdir(), 'lg-record-sim-'));
    const data = mkdtempSync(join(tmpdir(), 'lg-record-sim-data-'));
    simulateSmallBreach(data, { days: 40 });
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

    // The issuers' declines reported at once, as a merchant would: exactly the rows the issuer declined.
    const issuerDeclined = new Set(
      Array.from({ length: ds.n }, (_, i) => i)
        .filter((i) => ds.extra.get('AUTH_RESULT')![i] === 'declined')
        .map((i) => String(ds.transactionId[i])),
    );
    const declinedOutcomes = records.filter((r) => r.outcome === 'declined').map((r) => r.transactionId);
    expect(issuerDeclined.size).toBeGreaterThan(0);
    expect(new Set(declinedOutcomes)).toEqual(issuerDeclined);

    const out = join(dir, 'own.json');
    const r = cli([
      ...['--source', recording, '--out', out, '--warmup-days', '10', '--label-days', '7'],
      ...['--trees', '10', '--workers', '0', '--quiet'],
    ]);
    expect(r.status).toBe(0);
    // Rows end a week before the data does (its chargebacks come 7 days later).
    const rows =
      /^rows 2018-04-11\.\.2018-05-02: \d+ of \d+ scorings, (\d+) frauds \((\d+) charged back, 0 labelled by an analyst/m.exec(
        r.stdout,
      );
    expect(rows).not.toBeNull();
    expect(Number(rows![1])).toBeGreaterThan(5);
    expect(rows![1]).toBe(rows![2]);
    // Every order the issuer declined in the rows is left out, never taught as legitimate.
    const leftOut = /^left out: (\d+) declined/m.exec(r.stdout);
    const inRows = Array.from({ length: ds.n }, (_, i) => i).filter(
      (i) =>
        ds.epochSeconds[i]! * 1000 >= Date.parse('2018-04-11T00:00:00Z') + ((ds.epochSeconds[0]! * 1000) % DAY) &&
        ds.epochSeconds[i]! * 1000 < Date.parse('2018-05-03T00:00:00Z') &&
        issuerDeclined.has(String(ds.transactionId[i])),
    ).length;
    expect(inRows).toBeGreaterThan(0);
    expect(Number(leftOut![1])).toBeGreaterThanOrEqual(inRows);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ training: { target: { target: 'chargebacks' } } });
  }, 240_000);
});
