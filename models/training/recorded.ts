// Training rows from a deployment's own recording (services/recording/: every scoring, outcome and
// analyst's label the engines kept, card-free), or from a merchant's export of plain /v1/score
// requests (`npm run replay`'s file: each line's `label` and one `outcome` at `outcomeAt`) before it
// goes live. The traffic is replayed through the engine
// in event time exactly as a backtest replays it (models/backtest/replay.ts: fresh in-memory stores,
// outcomes reaching the engine when they reached production, the lists' answers as recorded), and
// each scoring's model vector is built from the features the engine computed for it then, by the
// function serving uses (servingVector): what a model learns here is what it will be shown live.
//
// A row's label is what was known of its transaction by a cut-off: fraud when charged back as fraud
// (not reversed) or labelled fraud by an analyst (not withdrawn), legitimate otherwise. Some
// transactions never get a chance to be charged back, so "no chargeback" says nothing of them: those
// production (a recording's decision; an export has none) or the issuer declined, and those whose 3-D Secure challenge failed (a fraudster
// holding stolen card data cannot pass it, nor can a holder who gives up). Unless an analyst labelled
// them they are left out, not taught as legitimate; `failedChallenges: 'fraud'` counts a failed
// challenge as fraud. Rows need time for their chargebacks to come: the window ends that long
// (the label horizon) before the recording does.
import { createHash } from 'node:crypto';
import { servingVector } from '../../services/model/serving.ts';
import type { FeatureSet } from '../../services/model/definitions.ts';
import { joinKey } from '../../services/recording/record.ts';
import { firstAt } from '../backtest/backtest.ts';
import { replayConfiguration, type Configuration, type ReplayWindow } from '../backtest/replay.ts';
import { labelTruth, type AnalystLabel, type Traffic } from '../backtest/traffic.ts';

const DAY_MS = 86_400_000;
/** A row's label in a split: 0 legitimate, 1 fraud, LEFT_OUT when nothing could be known of it. */
export const LEFT_OUT = 255;
/** Chargebacks of card-not-present fraud mostly come within ~60 days of the order (networks allow 120). */
const ASSUMED_LABEL_DAYS = 60;
/** Orders this old at the recording's end have had every chargeback they will get: their delays measure the horizon. */
const SETTLED_DAYS = 120;
/** Settled chargebacks needed to measure the horizon rather than assume it. */
const MIN_MEASURED = 20;

/** A window or horizon that leaves nothing to train on: the caller's flags, said in their words. */
export class TrainingWindowError extends Error {}

export interface RecordedTrainingOptions {
  /**
   * The configuration in force (its ruleset and rates: production's counters are replayed only as
   * production scored). Its model is not run: no feature depends on it.
   */
  configuration: Configuration;
  featureSet: FeatureSet;
  /** Rows scored in [from, to) are used; default from: the first scoring plus the warm-up, so every row has its history. */
  from?: number;
  /** Default: the recording's end less the label horizon (midnight UTC), so that every row's chargebacks could come. */
  to?: number;
  /** Days before `from` replayed to build the counters only (velocity windows reach 30 days, delayed ones 37). */
  warmupDays: number;
  /** The window's last calendar days (UTC) are the test rows; 0: none. */
  testDays: number;
  /** Days a row needs after it for its chargebacks to have come; default: measured on the recording (labelHorizon). */
  labelDays?: number;
  failedChallenges: 'leave-out' | 'fraud';
  onProgress?: (done: number, total: number) => void;
}

export interface LabelHorizon {
  days: number;
  /** given (--label-days), measured (95 % of the settled chargebacks came within it), or assumed (too few settled to measure). */
  basis: 'given' | 'measured' | 'assumed';
  /** Chargebacks of orders at least SETTLED_DAYS before the recording's end: what a measure rests on. */
  settled: number;
}

export interface RecordedTrainingSet {
  names: string[];
  cols: number;
  /** What the rows were read from: the engines' recording or a merchant's export of requests. */
  source: Traffic['kind'];
  /** The window's scorings that the engine scored, in time order: their model vectors one after the other. */
  rows: number;
  values: Float64Array<ArrayBuffer>;
  at: Float64Array<ArrayBuffer>;
  /** Each row's label as the recording knows it (LEFT_OUT: nothing could be known): the artifact's. */
  labels: Uint8Array<ArrayBuffer>;
  /**
   * Each train-period row's label as known when the test days began: the evaluated forest learns
   * only what a deployment training then could have (no chargeback reported during the test days).
   */
  labelsAtTestStart: Uint8Array<ArrayBuffer>;
  /** Rows [0, testStartRow) are the train period's, [testStartRow, rows) the test days'. */
  testStartRow: number;
  /**
   * Rows [0, evaluationEndRow) are those a deployment training when the test days began would have
   * learnt from: old enough then, by the label horizon, for their chargebacks to have come (the
   * younger ones' frauds read legitimate yet, and they look most like the test days' rows).
   */
  evaluationEndRow: number;
  window: { from: number; to: number; testFrom: number | undefined };
  /** The recording's end: its last scoring or the last outcome reported, whichever is later. */
  recordingEnd: number;
  /** The recording's first scoring: the rows' counters hold no history before it. */
  recordingStart: number;
  horizon: LabelHorizon;
  /** Where rows end by default: the recording's end less the horizon, at midnight UTC (exclusive). */
  matureUntil: number;
  /** The window ends after matureUntil (a --to given later than the default). */
  immature: boolean;
  counts: {
    /** Scorings replayed only to build the counters (before `from`). */
    warmup: number;
    /** Scorings in the window. */
    scored: number;
    /** Rows with a label (the artifact's). */
    labelled: number;
    frauds: number;
    /** Why a fraud label was given, strongest first (a row counts once, under its first). */
    fraudBy: { chargeback: number; analyst: number; challengeFailed: number };
    /** Analysts' "legitimate" labels among the rows. */
    labelledLegitimate: number;
    /** Window scorings left out, by reason: declined (by production or the issuer), failed challenge, not scored. */
    leftOut: { declined: number; challengeFailed: number; notScored: number };
    /**
     * Rows read legitimate for want of any fraud label, where a chargeback was unlikely to come
     * whatever the truth: refunded orders (a merchant refunds on a fraud alert too), orders held for
     * review that no analyst decided. Kept as legitimate; counted so that their share is seen.
     */
    unconfirmed: { refunded: number; reviewUndecided: number };
    /** Outcomes recorded without the time they were reported (records before version 3): replayed at their own date. */
    outcomesWithoutReportedAt: number;
  };
  /** sha256 of the feature set's name, every row's vector and both labellings: two trainings on other rows differ. */
  fingerprint: string;
}

/** The recording's end: its last scoring or the last outcome reported, whichever is later. */
function recordingEnd(traffic: Traffic): number {
  let end = traffic.at[traffic.count - 1] ?? -Infinity;
  for (const x of traffic.outcomes) end = Math.max(end, x.reportedAt);
  return end;
}

/**
 * How long a row needs for its chargebacks to come: given, or the 95th percentile of the delays
 * (order to report) of the chargebacks of orders old enough to have had all theirs (the younger
 * ones' long delays are not in the recording yet: measuring them would come out short), or
 * ASSUMED_LABEL_DAYS when fewer than MIN_MEASURED such chargebacks.
 */
export function labelHorizon(traffic: Traffic, end: number, labelDays?: number): LabelHorizon {
  const settledBefore = end - SETTLED_DAYS * DAY_MS;
  const delays = traffic.chargebackTimes
    .filter((c) => c.at <= settledBefore)
    .map((c) => Math.max(0, c.reportedAt - c.at) / DAY_MS)
    .sort((a, b) => a - b);
  if (labelDays !== undefined) return { days: labelDays, basis: 'given', settled: delays.length };
  if (delays.length < MIN_MEASURED) return { days: ASSUMED_LABEL_DAYS, basis: 'assumed', settled: delays.length };
  const p95 = delays[Math.min(delays.length - 1, Math.ceil(0.95 * delays.length) - 1)]!;
  return { days: Math.max(1, Math.ceil(p95)), basis: 'measured', settled: delays.length };
}

/** When each outcome that bears on a label was first reported, per transaction. */
interface OutcomeTimes {
  chargeback?: number;
  reversed?: number;
  failed?: number;
  declined?: number;
  refund?: number;
}
const OUTCOME_FIELD: Record<string, keyof OutcomeTimes> = {
  chargeback: 'chargeback',
  chargeback_reversed: 'reversed',
  challenge_failed: 'failed',
  declined: 'declined',
  refund: 'refund',
};

function outcomeTimes(traffic: Traffic): Map<string, OutcomeTimes> {
  const times = new Map<string, OutcomeTimes>();
  for (const o of traffic.outcomes) {
    const field = OUTCOME_FIELD[o.outcome];
    if (!field) continue;
    const key = joinKey(o);
    const t = times.get(key) ?? {};
    t[field] = Math.min(t[field] ?? Infinity, o.reportedAt);
    times.set(key, t);
  }
  return times;
}

type Why = 'chargeback' | 'analyst' | 'analystLegitimate' | 'challengeFailed' | 'declined' | 'none';

/** A transaction's label as known before `cutoff`, and why. */
function labelAsOf(
  times: OutcomeTimes | undefined,
  analyst: readonly AnalystLabel[] | undefined,
  declinedByProduction: boolean,
  cutoff: number,
  failedChallenges: RecordedTrainingOptions['failedChallenges'],
): { label: number; why: Why } {
  if (times?.chargeback !== undefined && times.chargeback < cutoff && !((times.reversed ?? Infinity) < cutoff))
    return { label: 1, why: 'chargeback' };
  const truth = analyst && labelTruth(analyst.filter((l) => l.at < cutoff));
  if (truth === 'fraud') return { label: 1, why: 'analyst' };
  if (truth === 'legitimate') return { label: 0, why: 'analystLegitimate' };
  if ((times?.failed ?? Infinity) < cutoff)
    return failedChallenges === 'fraud'
      ? { label: 1, why: 'challengeFailed' }
      : { label: LEFT_OUT, why: 'challengeFailed' };
  if (declinedByProduction || (times?.declined ?? Infinity) < cutoff) return { label: LEFT_OUT, why: 'declined' };
  return { label: 0, why: 'none' };
}

/** How the messages name what the traffic was read from. */
export const trafficNoun = (kind: Traffic['kind']) => (kind === 'recording' ? 'the recording' : 'the file');

export async function recordedTrainingSet(traffic: Traffic, o: RecordedTrainingOptions): Promise<RecordedTrainingSet> {
  const noun = trafficNoun(traffic.kind);
  if (traffic.count === 0)
    throw new TrainingWindowError(`${noun} holds no ${traffic.kind === 'recording' ? 'scoring' : 'request'}`);
  const first = traffic.at[0]!,
    last = traffic.at[traffic.count - 1]!;
  const end = recordingEnd(traffic);
  const horizon = labelHorizon(traffic, end, o.labelDays);
  const from = o.from ?? first + o.warmupDays * DAY_MS;
  const matureUntil = Math.floor((end - horizon.days * DAY_MS) / DAY_MS) * DAY_MS;
  const to = o.to ?? matureUntil;
  const span = `${noun} runs from ${day(first)} to ${day(last)}`;
  if (to <= from)
    throw new TrainingWindowError(
      o.to === undefined
        ? `no rows whose chargebacks could have come: ${span}, and a row needs ${horizon.days} days after it (${describeHorizon(horizon, traffic.kind)}); rows would start ${day(from)} (--from, --warmup-days). ${traffic.kind === 'recording' ? 'Record longer' : 'Export a longer history'}, or give --to or --label-days`
        : `--to ${day(to)} is not after the rows' start ${day(from)}`,
    );
  const window: ReplayWindow = {
    first: firstAt(traffic.at, from - o.warmupDays * DAY_MS),
    reportFrom: firstAt(traffic.at, from),
    end: firstAt(traffic.at, to),
  };
  const scored = window.end - window.reportFrom;
  if (scored <= 0) throw new TrainingWindowError(`no scoring from ${day(from)} to ${day(to - 1)}: ${span}`);
  // The last testDays calendar days (UTC) of the window, the day it ends in included.
  const testFrom = o.testDays > 0 ? Math.floor((to - 1) / DAY_MS) * DAY_MS - (o.testDays - 1) * DAY_MS : undefined;
  const cols = o.featureSet.features.length;
  const values = new Float64Array(scored * cols);
  const at = new Float64Array(scored);
  const labels = new Uint8Array(scored);
  const labelsAtTestStart = new Uint8Array(scored);
  const times = outcomeTimes(traffic);
  const counts: RecordedTrainingSet['counts'] = {
    warmup: window.reportFrom - window.first,
    scored,
    labelled: 0,
    frauds: 0,
    fraudBy: { chargeback: 0, analyst: 0, challengeFailed: 0 },
    labelledLegitimate: 0,
    leftOut: { declined: 0, challengeFailed: 0, notScored: 0 },
    unconfirmed: { refunded: 0, reviewUndecided: 0 },
    outcomesWithoutReportedAt: traffic.outcomesWithoutReportedAt,
  };
  let rows = 0,
    testStartRow = -1,
    evaluationEndRow = -1;
  const evaluationEnd = testFrom === undefined ? undefined : testFrom - horizon.days * DAY_MS;
  const total = window.end - window.first;
  await replayConfiguration(
    traffic,
    { ...o.configuration, model: null },
    window,
    (done) => o.onProgress?.(done, total),
    (i, input, result) => {
      // A scoring of the window always has its evidence here (a fresh one, no deadline in a replay).
      if (i < window.reportFrom || !result.evidence) return;
      const row = rows++;
      if (testStartRow < 0 && testFrom !== undefined && traffic.at[i]! >= testFrom) testStartRow = row;
      if (evaluationEndRow < 0 && evaluationEnd !== undefined && traffic.at[i]! >= evaluationEnd)
        evaluationEndRow = row;
      servingVector(
        o.featureSet,
        result.evidence.features,
        result.evidence.at,
        values.subarray(row * cols, (row + 1) * cols),
      );
      at[row] = traffic.at[i]!;
      const key = joinKey({ merchantId: input.merchantId, transactionId: input.request.transactionId });
      const known = times.get(key);
      const analyst = traffic.labelHistory.get(key);
      // Production's decision, recorded; a merchant's export has none (its issuer's declines are outcomes).
      const declined = input.recorded?.decision === 'decline';
      const final = labelAsOf(known, analyst, declined, Infinity, o.failedChallenges);
      labels[row] = final.label;
      labelsAtTestStart[row] =
        testFrom === undefined ? final.label : labelAsOf(known, analyst, declined, testFrom, o.failedChallenges).label;
      if (final.label === LEFT_OUT) counts.leftOut[final.why as 'declined' | 'challengeFailed']++;
      else {
        counts.labelled++;
        counts.frauds += final.label;
        if (final.why === 'analystLegitimate') counts.labelledLegitimate++;
        else if (final.label === 1) counts.fraudBy[final.why as keyof RecordedTrainingSet['counts']['fraudBy']]++;
        else if (known?.refund !== undefined) counts.unconfirmed.refunded++;
        else if (input.recorded?.decision === 'review') counts.unconfirmed.reviewUndecided++;
      }
    },
  );
  // A scoring the engine refused (a currency the rate table cannot price) has no features.
  counts.leftOut.notScored = scored - rows;
  const hash = createHash('sha256').update(`${o.featureSet.name}\n`);
  hash
    .update(values.subarray(0, rows * cols))
    .update(labels.subarray(0, rows))
    .update(labelsAtTestStart.subarray(0, rows));
  return {
    source: traffic.kind,
    names: o.featureSet.features.map((f) => f.name),
    cols,
    rows,
    values: values.subarray(0, rows * cols),
    at: at.subarray(0, rows),
    labels: labels.subarray(0, rows),
    labelsAtTestStart: labelsAtTestStart.subarray(0, rows),
    testStartRow: testStartRow < 0 ? rows : testStartRow,
    evaluationEndRow: evaluationEndRow < 0 ? rows : evaluationEndRow,
    window: { from, to, testFrom },
    recordingEnd: end,
    recordingStart: first,
    horizon,
    matureUntil,
    immature: to > matureUntil,
    counts,
    fingerprint: `sha256:${hash.digest('hex')}`,
  };
}

/** The rows of [start, end) whose label (in `labels`) is not LEFT_OUT, as a forest's training input. */
export function labelledRows(
  set: Pick<RecordedTrainingSet, 'values' | 'cols'>,
  labels: Uint8Array,
  start: number,
  end: number,
): { values: Float64Array; labels: Uint8Array; rows: number; cols: number } {
  let n = 0;
  for (let r = start; r < end; r++) if (labels[r] !== LEFT_OUT) n++;
  const cols = set.cols;
  const out = { values: new Float64Array(n * cols), labels: new Uint8Array(n), rows: n, cols };
  let k = 0;
  for (let r = start; r < end; r++) {
    if (labels[r] === LEFT_OUT) continue;
    out.values.set(set.values.subarray(r * cols, (r + 1) * cols), k * cols);
    out.labels[k++] = labels[r]!;
  }
  return out;
}

export function describeHorizon(h: LabelHorizon, kind: Traffic['kind'] = 'recording'): string {
  return h.basis === 'given'
    ? 'given by --label-days'
    : h.basis === 'measured'
      ? `95 % of the ${h.settled} chargebacks of orders ${SETTLED_DAYS} days old or more came within it`
      : `assumed: ${trafficNoun(kind)} holds ${h.settled} chargebacks of orders ${SETTLED_DAYS} days old or more, too few to measure (--label-days)`;
}

/** The UTC calendar day of an epoch-ms time, YYYY-MM-DD. */
export const day = (t: number) => new Date(t).toISOString().slice(0, 10);
