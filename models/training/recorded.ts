// Training rows from a deployment's own recording (services/recording/: every scoring, outcome and
// analyst's label the engines kept, card-free). The recorded traffic is replayed through the engine
// in event time exactly as a backtest replays it (models/backtest/replay.ts: fresh in-memory stores,
// outcomes reaching the engine when they reached production, the lists' answers as recorded), and
// each scoring's model vector is built from the features the engine computed for it then, by the
// function serving uses (servingVector): what a model learns here is what it will be shown live.
//
// Labels are what the recording came to know of each transaction: fraud when charged back as fraud
// (not reversed) or labelled fraud by an analyst (not withdrawn), legitimate otherwise. Two kinds of
// transaction never get a chance to be charged back, so "no chargeback" says nothing of them: those
// production declined, and those whose 3-D Secure challenge failed (a fraudster holding stolen card
// data cannot pass it, nor can a holder who gives up). Unless an analyst labelled them they are left
// out, not taught as legitimate; `failedChallenges: 'fraud'` counts a failed challenge as fraud.
import { createHash } from 'node:crypto';
import { servingVector } from '../../services/model/serving.ts';
import type { FeatureSet } from '../../services/model/definitions.ts';
import { recordKey } from '../../services/recording/record.ts';
import { firstAt } from '../backtest/backtest.ts';
import { replayConfiguration, type Configuration, type ReplayWindow } from '../backtest/replay.ts';
import type { Traffic } from '../backtest/traffic.ts';

const DAY_MS = 86_400_000;

export interface RecordedTrainingOptions {
  /** The configuration in force: the counters are production's only when replayed as production scored. */
  configuration: Configuration;
  featureSet: FeatureSet;
  /** Rows scored in [from, to) are used; default from: the first scoring plus the warm-up, so every row has its history. */
  from?: number;
  to?: number;
  /** Days before `from` replayed to build the counters only (velocity windows reach 30 days, delayed ones 37). */
  warmupDays: number;
  /** The window's last calendar days are the test rows (held out of training), the others the training rows; 0: none. */
  testDays: number;
  failedChallenges: 'leave-out' | 'fraud';
  onProgress?: (done: number, total: number) => void;
}

/** Rows of one split: the model vectors one after the other, a label per row and its event time. */
export interface RowSplit {
  values: Float64Array<ArrayBuffer>;
  labels: Uint8Array<ArrayBuffer>;
  at: Float64Array<ArrayBuffer>;
  rows: number;
}

export interface RecordedTrainingSet {
  names: string[];
  cols: number;
  train: RowSplit;
  test: RowSplit;
  window: { from: number; to: number; testFrom: number | undefined };
  counts: {
    /** Scorings replayed only to build the counters (before `from`). */
    warmup: number;
    /** Scorings in the window. */
    scored: number;
    /** Window scorings used as rows (train and test). */
    used: number;
    frauds: number;
    /** Why a frauds label was given, strongest first (a row counts once, under its first). */
    fraudBy: { chargeback: number; analyst: number; challengeFailed: number };
    /** Analysts' "legitimate" labels among the rows. */
    labelledLegitimate: number;
    /** Window scorings left out, by reason. */
    leftOut: { declined: number; challengeFailed: number; notScored: number };
  };
  /** How late the recording reaches: its last scoring or the last outcome reported, whichever is later. */
  labelsKnownUntil: number;
  /**
   * Days from order to reported chargeback, over the replayed transactions charged back (as far as
   * the recording shows: one reported after it ends is not among them); NaN without any.
   */
  chargebackDays: { count: number; p50: number; p95: number };
  /** sha256 of the rows used (their recorded lines) and their labels: two trainings on other data differ. */
  fingerprint: string;
}

/** The recording's outcomes and labels, by transaction: what a row's label is drawn from. */
function outcomeKeys(traffic: Traffic, outcome: string): Set<string> {
  return new Set(traffic.outcomes.filter((o) => o.outcome === outcome).map(recordKey));
}

export async function recordedTrainingSet(traffic: Traffic, o: RecordedTrainingOptions): Promise<RecordedTrainingSet> {
  if (traffic.kind !== 'recording') throw new Error('training reads a recording (services/recording/)');
  if (traffic.count === 0) throw new Error('the recording holds no scoring');
  const from = o.from ?? traffic.at[0]! + o.warmupDays * DAY_MS;
  const to = o.to ?? traffic.at[traffic.count - 1]! + 1;
  const window: ReplayWindow = {
    first: firstAt(traffic.at, from - o.warmupDays * DAY_MS),
    reportFrom: firstAt(traffic.at, from),
    end: firstAt(traffic.at, to),
  };
  const scored = window.end - window.reportFrom;
  if (scored <= 0)
    throw new Error(
      `no scoring between ${iso(from)} and ${iso(to)} (the recording runs from ${iso(traffic.at[0]!)} to ${iso(traffic.at[traffic.count - 1]!)})`,
    );
  // The last testDays calendar days (UTC) of the window, the day it ends in included.
  const testFrom = o.testDays > 0 ? Math.floor((to - 1) / DAY_MS) * DAY_MS - (o.testDays - 1) * DAY_MS : undefined;
  const testStart = testFrom === undefined ? window.end : Math.max(window.reportFrom, firstAt(traffic.at, testFrom));
  const cols = o.featureSet.features.length;
  const splits = {
    train: newSplit(testStart - window.reportFrom, cols),
    test: newSplit(window.end - testStart, cols),
  };
  const chargebacks = outcomeKeys(traffic, 'chargeback');
  const reversed = outcomeKeys(traffic, 'chargeback_reversed');
  const failed = outcomeKeys(traffic, 'challenge_failed');
  /** The replayed transactions charged back, with their times: how long their chargebacks took. */
  const chargedBackAt = new Map<string, number>();
  const counts: RecordedTrainingSet['counts'] = {
    warmup: window.reportFrom - window.first,
    scored,
    used: 0,
    frauds: 0,
    fraudBy: { chargeback: 0, analyst: 0, challengeFailed: 0 },
    labelledLegitimate: 0,
    leftOut: { declined: 0, challengeFailed: 0, notScored: 0 },
  };
  const hash = createHash('sha256');
  const total = window.end - window.first;
  let scoredInWindow = 0;
  await replayConfiguration(
    traffic,
    o.configuration,
    window,
    (done) => o.onProgress?.(done, total),
    (i, input, result) => {
      const key = recordKey({ merchantId: input.merchantId, transactionId: input.request.transactionId });
      if (chargebacks.has(key)) chargedBackAt.set(key, traffic.at[i]!);
      // A scoring of the window always has its evidence here (a fresh one, no deadline in a replay).
      if (i < window.reportFrom || !result.evidence) return;
      scoredInWindow++;
      const truth = traffic.truth.get(key);
      let label: 0 | 1;
      if (truth === 'fraud') {
        label = 1;
        if (chargebacks.has(key) && !reversed.has(key)) counts.fraudBy.chargeback++;
        else counts.fraudBy.analyst++;
      } else if (truth === 'legitimate') {
        label = 0;
        counts.labelledLegitimate++;
      } else if (failed.has(key)) {
        if (o.failedChallenges === 'leave-out') return void counts.leftOut.challengeFailed++;
        label = 1;
        counts.fraudBy.challengeFailed++;
      } else if (input.recorded?.decision === 'decline') return void counts.leftOut.declined++;
      else label = 0;
      const split = i < testStart ? splits.train : splits.test;
      const row = split.rows++;
      servingVector(
        o.featureSet,
        result.evidence.features,
        result.evidence.at,
        split.values.subarray(row * cols, (row + 1) * cols),
      );
      split.labels[row] = label;
      split.at[row] = traffic.at[i]!;
      counts.used++;
      counts.frauds += label;
      hash.update(`${key}\u0000${label}\n`);
    },
  );
  // A scoring the engine refused (a currency the rate table cannot price) has no features.
  counts.leftOut.notScored = scored - scoredInWindow;
  hash.update(
    Buffer.from(
      traffic.bytes.buffer,
      traffic.bytes.byteOffset + traffic.offsets[window.first]!,
      traffic.offsets[window.end]! - traffic.offsets[window.first]!,
    ),
  );
  let labelsKnownUntil = traffic.at[traffic.count - 1]!;
  for (const x of traffic.outcomes) labelsKnownUntil = Math.max(labelsKnownUntil, x.reportedAt);
  const delays: number[] = [];
  for (const x of traffic.outcomes) {
    const at = x.outcome === 'chargeback' ? chargedBackAt.get(recordKey(x)) : undefined;
    if (at !== undefined) delays.push(Math.max(0, x.reportedAt - at) / DAY_MS);
  }
  delays.sort((a, b) => a - b);
  return {
    names: o.featureSet.features.map((f) => f.name),
    cols,
    train: trimmed(splits.train, cols),
    test: trimmed(splits.test, cols),
    window: { from, to, testFrom },
    counts,
    labelsKnownUntil,
    chargebackDays: {
      count: delays.length,
      p50: quantile(delays, 0.5),
      p95: quantile(delays, 0.95),
    },
    fingerprint: `sha256:${hash.digest('hex')}`,
  };
}

function newSplit(capacity: number, cols: number): RowSplit {
  return {
    values: new Float64Array(Math.max(0, capacity) * cols),
    labels: new Uint8Array(Math.max(0, capacity)),
    at: new Float64Array(Math.max(0, capacity)),
    rows: 0,
  };
}

/** The split's filled rows only (rows left out leave room at the end). */
function trimmed(s: RowSplit, cols: number): RowSplit {
  return {
    values: s.values.subarray(0, s.rows * cols),
    labels: s.labels.subarray(0, s.rows),
    at: s.at.subarray(0, s.rows),
    rows: s.rows,
  };
}

const iso = (t: number) => new Date(t).toISOString();

/** The q-quantile of sorted values (nearest rank); NaN for none. */
const quantile = (sorted: readonly number[], q: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : NaN;
