import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../models/simulator/csv.ts';
import { datasetFromBatches } from '../../models/simulator/csv.ts';
import { HANDBOOK_DEFAULTS, generateHandbook } from '../../models/simulator/handbook.ts';
import { computeOffline } from '../../models/features/offline.ts';
import {
  chargebackAt,
  describeLabels,
  labelArrivals,
  labelsFromFlags,
  PUBLISHED_LABELS,
  targetFromFlag,
} from '../../models/features/labels.ts';
import { chargebackDueMs } from '../../models/replay/engine-replay.ts';
import { prepare, trainingCutoff, withTarget } from '../../models/evaluation/evaluate.ts';
import { HANDBOOK_FEATURE_SET } from '../../services/model/definitions.ts';

const DAY = 86_400;
const names = HANDBOOK_FEATURE_SET.features.map((f) => f.name);
const risk30 = names.indexOf('TERMINAL_ID_RISK_30DAY_WINDOW');
const riskCols = names.flatMap((n, i) => (n.startsWith('TERMINAL_ID_RISK') ? [i] : []));

/** Rows [day, card, terminal, fraud], one an hour apart within the day (time order). */
function dataset(rows: [number, number, number, number][], auth?: string[]): Dataset {
  const n = rows.length;
  return {
    n,
    transactionId: Float64Array.from(rows, (_, i) => 1000 + i),
    epochSeconds: Float64Array.from(rows, (r, i) => r[0] * DAY + (i % 24) * 60),
    customer: Int32Array.from(rows, (r) => r[1]),
    terminal: Int32Array.from(rows, (r) => r[2]),
    amount: Float64Array.from(rows, () => 10),
    timeSeconds: Float64Array.from(rows, (r, i) => r[0] * DAY + (i % 24) * 60),
    timeDays: Int32Array.from(rows, (r) => r[0]),
    fraud: Uint8Array.from(rows, (r) => r[3]),
    scenario: Uint8Array.from(rows, (r) => (r[3] ? 2 : 0)),
    extra: new Map(auth ? [['AUTH_RESULT', auth]] : []),
  };
}

describe('fraud labels as serving sees them (chargebacks: late, partial, none for declined)', () => {
  const opts = { ...HANDBOOK_DEFAULTS, customers: 300, terminals: 600, days: 60, seed: 3 };
  const ds = datasetFromBatches(opts.startDate, generateHandbook(opts));

  it("the published assumption (all frauds, 7 days) gives the ground truth's features bit for bit", () => {
    const truth = computeOffline(ds, HANDBOOK_FEATURE_SET);
    const published = computeOffline(ds, HANDBOOK_FEATURE_SET, 0, ds.n, labelArrivals(ds, PUBLISHED_LABELS));
    expect(Buffer.from(published.values.buffer).equals(Buffer.from(truth.values.buffer))).toBe(true);
    expect(truth.values.some((v, i) => i % truth.cols === risk30 && v > 0)).toBe(true);
  });

  it('no chargeback: every terminal risk is 0, the other features are unchanged', () => {
    const truth = computeOffline(ds, HANDBOOK_FEATURE_SET);
    const none = computeOffline(
      ds,
      HANDBOOK_FEATURE_SET,
      0,
      ds.n,
      labelArrivals(ds, { ...PUBLISHED_LABELS, share: 0 }),
    );
    let riskNonZero = 0,
      otherDiffer = 0;
    none.values.forEach((v, i) => {
      if (riskCols.includes(i % none.cols)) riskNonZero += v === 0 ? 0 : 1;
      else otherDiffer += v === truth.values[i] ? 0 : 1;
    });
    expect({ riskNonZero, otherDiffer }).toEqual({ riskNonZero: 0, otherDiffer: 0 });
  });

  it('a fraud counts in its terminal windows only once its chargeback has arrived', () => {
    // terminal 5: a fraud on day 0, then one genuine row a day on days 1..40
    const rows: [number, number, number, number][] = [[0, 1, 5, 1]];
    for (let d = 1; d <= 40; d++) rows.push([d, 2, 5, 0]);
    const small = dataset(rows);
    const labels = { delayMinDays: 20, delayMaxDays: 20, share: 1, seed: 1 };
    const arrivals = labelArrivals(small, labels);
    expect(arrivals[0]).toBe(small.epochSeconds[0]! + 20 * DAY);
    const risk = (a?: Float64Array) =>
      Array.from(
        { length: small.n },
        (_, r) => computeOffline(small, HANDBOOK_FEATURE_SET, 0, small.n, a).values[r * names.length + risk30]!,
      );
    const truth = risk(),
      late = risk(arrivals);
    // the ground truth sees it from day 7 (past the 7-day delay) to day 36 (37 days back); the 20-day label from day 20
    for (let d = 1; d <= 40; d++) {
      expect(truth[d]! > 0, `truth, day ${d}`).toBe(d >= 7 && d <= 36);
      expect(late[d]! > 0, `20-day labels, day ${d}`).toBe(d >= 20 && d <= 36);
    }
    // a chargeback later than the windows' reach is never counted
    const never = risk(labelArrivals(small, { ...labels, delayMinDays: 40, delayMaxDays: 40 }));
    expect(never.every((v) => v === 0)).toBe(true);
  });

  it('draws delay and coverage per transaction: seeded, within the range, about the share asked', () => {
    const a = { delayMinDays: 7, delayMaxDays: 60, share: 0.5, seed: 4 };
    const at = Array.from({ length: 4000 }, (_, id) => chargebackAt(id, 1_000_000, a));
    const charged = at.filter(Number.isFinite);
    expect(charged.length / at.length).toBeGreaterThan(0.46);
    expect(charged.length / at.length).toBeLessThan(0.54);
    for (const t of charged) {
      expect(t).toBeGreaterThanOrEqual(1_000_000 + 7 * DAY);
      expect(t).toBeLessThanOrEqual(1_000_000 + 60 * DAY);
    }
    expect(new Set(charged.map((t) => Math.floor((t - 1_000_000) / (7 * DAY)))).size).toBeGreaterThan(6);
    expect(Array.from({ length: 4000 }, (_, id) => chargebackAt(id, 1_000_000, a))).toEqual(at);
    const other = Array.from({ length: 4000 }, (_, id) => chargebackAt(id, 1_000_000, { ...a, seed: 5 }));
    expect(other).not.toEqual(at);
  });

  it('no chargeback for a fraud the issuer or the engine declined', () => {
    const small = dataset(
      [
        [0, 1, 5, 1],
        [0, 2, 5, 1],
        [0, 3, 5, 0],
      ],
      ['approved', 'declined', 'approved'],
    );
    const arrivals = labelArrivals(small, PUBLISHED_LABELS);
    expect(arrivals[0]).toBe(small.epochSeconds[0]! + 7 * DAY);
    expect(arrivals[1]).toBe(Infinity);
    expect(arrivals[2]).toBe(Infinity);
    // the engine replay: the same, and a fraud the engine itself declined never completed either
    expect(chargebackDueMs(small, 0, 'approve', PUBLISHED_LABELS)).toBe((small.epochSeconds[0]! + 7 * DAY) * 1000);
    expect(chargebackDueMs(small, 0, 'challenge', PUBLISHED_LABELS)).toBe((small.epochSeconds[0]! + 7 * DAY) * 1000);
    expect(chargebackDueMs(small, 0, 'decline', PUBLISHED_LABELS)).toBe(Infinity);
    expect(chargebackDueMs(small, 1, 'approve', PUBLISHED_LABELS)).toBe(Infinity);
    expect(chargebackDueMs(small, 2, 'approve', PUBLISHED_LABELS)).toBe(Infinity);
  });

  it('the protocol computes its features from the labels it is given, and says which', () => {
    const split = { trainStart: '2018-05-10', trainDays: 7, delayDays: 7, testDays: 7 };
    const published = prepare(ds, HANDBOOK_FEATURE_SET, split);
    const none = prepare(ds, HANDBOOK_FEATURE_SET, split, true, { ...PUBLISHED_LABELS, share: 0 });
    expect(published.labels).toEqual(PUBLISHED_LABELS);
    const riskSum = (x: Float64Array) =>
      riskCols.reduce((s, c) => s + x.filter((_, i) => i % names.length === c).reduce((a, b) => a + b, 0), 0);
    expect(riskSum(published.features.testX)).toBeGreaterThan(0);
    expect(riskSum(none.features.testX)).toBe(0);
    expect(riskSum(none.features.trainX.values)).toBe(0);
    // the training targets and test truth stay the ground truth
    expect(none.features.testY).toEqual(published.features.testY);
    expect(describeLabels(PUBLISHED_LABELS)).toBe(
      "labels: every completed fraud charged back 7 days after the transaction, none for declined ones (the published protocol's assumption; production labels arrive later and fewer); the terminal windows count a fraud once its chargeback has arrived (within 37 days)",
    );
    expect(describeLabels({ delayMinDays: 7, delayMaxDays: 60, share: 0.5, seed: 2 })).toMatch(
      /^labels: 50 % of completed frauds charged back 7–60 days \(uniform\) after the transaction, none for declined ones, draw seed 2;/,
    );
  });

  it('trains on the frauds charged back by the cut-off when asked; the ground truth by default', () => {
    const split = { trainStart: '2018-05-10', trainDays: 7, delayDays: 7, testDays: 7 };
    const cutoff = trainingCutoff(split);
    expect(new Date(cutoff * 1000).toISOString()).toBe('2018-05-24T00:00:00.000Z');
    const truth = prepare(ds, HANDBOOK_FEATURE_SET, split);
    const truthY = ds.fraud.slice(truth.split.train[0], truth.split.train[1]);
    expect(truth.features.trainY).toEqual(truthY);
    expect(withTarget(ds, truth, HANDBOOK_FEATURE_SET, 'truth')).toBe(truth);
    expect(truth.target).toMatchObject({ target: 'truth', frauds: truth.target.truthFrauds });
    expect(truth.target.description).toMatch(/^target: the ground truth \(\d+ frauds in the training rows/);
    // Published labels (every fraud, 7 days): each train-week fraud is charged back by the cut-off.
    const published = withTarget(ds, truth, HANDBOOK_FEATURE_SET, 'chargebacks');
    expect(published.features.trainY).toEqual(truthY);
    // Later and fewer: a fraud counts only once its chargeback has arrived by the cut-off.
    const late = prepare(ds, HANDBOOK_FEATURE_SET, split, true, {
      ...PUBLISHED_LABELS,
      delayMinDays: 7,
      delayMaxDays: 60,
      share: 0.5,
    });
    const known = withTarget(ds, late, HANDBOOK_FEATURE_SET, 'chargebacks');
    let kept = 0;
    for (let k = 0; k < known.features.trainY.length; k++) {
      const row = late.split.train[0] + k;
      expect(known.features.trainY[k]).toBe(ds.fraud[row] && late.arrivals[row]! <= cutoff ? 1 : 0);
      kept += known.features.trainY[k]!;
    }
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(late.target.truthFrauds);
    expect(known.target).toMatchObject({ target: 'chargebacks', cutoff: '2018-05-24T00:00:00.000Z', frauds: kept });
    expect(known.target.description).toBe(
      `target: the frauds charged back by 2018-05-24T00:00:00.000Z, the training cut-off (${kept} of the ${late.target.truthFrauds} frauds in the training rows; the rest learnt as genuine)`,
    );
    // the features and the test truth are untouched; the data fingerprint says the labels changed
    expect(known.features.trainX).toBe(late.features.trainX);
    expect(known.features.testY).toEqual(late.features.testY);
    expect(known.fingerprint).not.toBe(late.fingerprint);
    expect(targetFromFlag(undefined)).toEqual({ target: 'truth' });
    expect(targetFromFlag('chargebacks')).toEqual({ target: 'chargebacks' });
    expect(targetFromFlag('labels')).toEqual({ problem: '--target: truth or chargebacks, not labels' });
  });

  it('reads the flags: MIN-MAX or N days, a share from 0 to 1, a seed; says what is wrong', () => {
    const flags = (v: Record<string, string>) => labelsFromFlags((f) => v[f]);
    expect(flags({})).toEqual(PUBLISHED_LABELS);
    expect(flags({ 'chargeback-delay-days': '7-60', 'chargeback-share': '0.5', 'chargeback-seed': '3' })).toEqual({
      delayMinDays: 7,
      delayMaxDays: 60,
      share: 0.5,
      seed: 3,
    });
    expect(flags({ 'chargeback-delay-days': '14' })).toMatchObject({ delayMinDays: 14, delayMaxDays: 14 });
    expect(flags({ 'chargeback-delay-days': '60-7' })).toBe(
      '--chargeback-delay-days: MIN (60) must not be more than MAX (7)',
    );
    expect(flags({ 'chargeback-delay-days': 'soon' })).toMatch(/^--chargeback-delay-days: MIN-MAX or N days/);
    expect(flags({ 'chargeback-share': '1.5' })).toBe('--chargeback-share: a share from 0 to 1, not 1.5');
    expect(flags({ 'chargeback-seed': '-1' })).toMatch(/^--chargeback-seed: a whole number/);
  });
});
