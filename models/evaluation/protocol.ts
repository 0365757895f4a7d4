// The handbook's single-split protocol (spec §4): train week, delay week, test week, known
// compromised cards removed from the test set.
import type { Dataset } from '../simulator/csv.ts';
import { computeOffline, rowRange, type FeatureMatrix } from '../features/offline.ts';
import type { FeatureSet } from '../../services/model/definitions.ts';

export interface SplitOptions {
  trainStart: string;
  trainDays: number;
  delayDays: number;
  testDays: number;
}
const DAY_SECONDS = 86_400;

export const HANDBOOK_SPLIT: SplitOptions = { trainStart: '2018-07-25', trainDays: 7, delayDays: 7, testDays: 7 };

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

export interface Split {
  options: SplitOptions;
  /** Dataset row range of the train week. */
  train: [number, number];
  /** Dataset rows of the test week that remain after removing known compromised cards. */
  test: Int32Array;
  /** Test day index (0..testDays−1) of each test row. */
  testDay: Int32Array;
  removedTestRows: number;
  knownCardsAtEnd: number;
}

export function handbookSplit(ds: Dataset, o: SplitOptions = HANDBOOK_SPLIT, requireTest = true): Split {
  const train = rowRange(ds, o.trainStart, addDays(o.trainStart, o.trainDays - 1));
  if (train[1] <= train[0]) throw new Error(`no transactions in the train period from ${o.trainStart}`);
  // Days are calendar days (of TX_DATETIME, as the periods' date ranges), counted from the calendar
  // train start: not from the first day with rows, which is later when the data starts after it.
  const startDay = Date.parse(`${o.trainStart}T00:00:00Z`) / 86_400_000;
  const known = new Set<number>();
  for (let i = train[0]; i < train[1]; i++) if (ds.fraud[i]) known.add(ds.customer[i]!);
  const byDay = new Map<number, number[]>();
  const [a, b] = rowRange(
    ds,
    addDays(o.trainStart, o.trainDays + o.delayDays - 1),
    addDays(o.trainStart, o.trainDays + o.delayDays + o.testDays - 1),
  );
  for (let i = Math.min(a, train[0]); i < b; i++) {
    const d = Math.floor(ds.epochSeconds[i]! / DAY_SECONDS);
    let l = byDay.get(d);
    if (!l) byDay.set(d, (l = []));
    l.push(i);
  }
  const test: number[] = [],
    testDay: number[] = [];
  let removed = 0;
  for (let day = 0; day < o.testDays; day++) {
    for (const i of byDay.get(startDay + o.trainDays + day - 1) ?? []) if (ds.fraud[i]) known.add(ds.customer[i]!);
    for (const i of byDay.get(startDay + o.trainDays + o.delayDays + day) ?? []) {
      if (known.has(ds.customer[i]!)) removed++;
      else {
        test.push(i);
        testDay.push(day);
      }
    }
  }
  if (test.length === 0 && requireTest)
    throw new Error(`no test transactions after ${o.trainStart} + ${o.trainDays + o.delayDays} days`);
  return {
    options: o,
    train,
    test: Int32Array.from(test),
    testDay: Int32Array.from(testDay),
    removedTestRows: removed,
    knownCardsAtEnd: known.size,
  };
}

export interface SplitFeatures {
  trainX: FeatureMatrix;
  trainY: Uint8Array;
  testX: Float64Array;
  testY: Uint8Array;
  cols: number;
}

/** Features of the train rows and the kept test rows (one offline pass over the span). */
/** The dataset rows a split's features cover: from the first training row to the last test row. */
export function splitRows(split: Split): [number, number] {
  return [split.train[0], split.test.length ? split.test[split.test.length - 1]! + 1 : split.train[1]];
}

/**
 * `computed`: the features of `splitRows(split)` when they were computed elsewhere (an engine replay).
 * `arrivals`: when each row's fraud label arrives (features/labels.ts); without, the ground truth.
 */
export function splitFeatures(
  ds: Dataset,
  split: Split,
  fs: FeatureSet,
  computed?: FeatureMatrix,
  arrivals?: Float64Array,
): SplitFeatures {
  const [from, to] = splitRows(split);
  const all = computed ?? computeOffline(ds, fs, from, to, arrivals);
  const cols = all.cols;
  const nTrain = split.train[1] - split.train[0];
  const trainX: FeatureMatrix = {
    ...all,
    rows: nTrain,
    values: all.values.slice(0, nTrain * cols),
    source: all.source.slice(0, nTrain),
  };
  const trainY = ds.fraud.slice(split.train[0], split.train[1]);
  const testX = new Float64Array(split.test.length * cols);
  const testY = new Uint8Array(split.test.length);
  split.test.forEach((row, k) => {
    testX.set(all.values.subarray((row - from) * cols, (row - from + 1) * cols), k * cols);
    testY[k] = ds.fraud[row]!;
  });
  return { trainX, trainY, testX, testY, cols };
}

const dateOfEpoch = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10);

/** The dates from `from` to `to`, both included. */
function datesBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

/** Consecutive dates as ranges, `a..b` (or `a` alone). */
export function dateRanges(dates: readonly string[]): string {
  const parts: string[] = [];
  let start: string | undefined, prev: string | undefined;
  for (const d of dates) {
    if (prev !== undefined && addDays(prev, 1) === d) {
      prev = d;
      continue;
    }
    if (start !== undefined) parts.push(start === prev ? start : `${start}..${prev}`);
    start = prev = d;
  }
  if (start !== undefined) parts.push(start === prev ? start : `${start}..${prev}`);
  return parts.join(', ');
}

/**
 * What the data holds of a split's periods: the test dates its kept test rows actually cover (the
 * protocol's test week may run past the data), and the feature history before the train period
 * (windows reach `historyDays` back: a training row with less history has truncated windows, unlike
 * anything served after the engine has run that long).
 */
export interface SplitCoverage {
  /** The protocol's test period. */
  testPeriod: { from: string; to: string; days: number };
  /** The dates of the test rows: first, last, how many distinct dates; undefined without test rows. */
  testCovered: { from: string; to: string; days: number } | undefined;
  /** Test-period dates with no test row. */
  missingTestDates: string[];
  /** Days of history the features need before the train period, from this date (train start − historyDays). */
  historyDays: number;
  historyFrom: string;
  /** The data's first date. */
  dataFrom: string;
  /** History dates (historyFrom .. the day before the train period) the data does not hold. */
  missingHistoryDates: string[];
}

export function splitCoverage(ds: Dataset, split: Split, historyDays: number): SplitCoverage {
  const o = split.options;
  const testFrom = addDays(o.trainStart, o.trainDays + o.delayDays);
  const testTo = addDays(testFrom, o.testDays - 1);
  const seen = new Set<string>();
  for (const row of split.test) seen.add(dateOfEpoch(ds.epochSeconds[row]!));
  const covered = [...seen].sort();
  const dataFrom = ds.n > 0 ? dateOfEpoch(ds.epochSeconds[0]!) : o.trainStart;
  const historyFrom = addDays(o.trainStart, -historyDays);
  const lastHistoryDay = addDays(o.trainStart, -1);
  return {
    testPeriod: { from: testFrom, to: testTo, days: o.testDays },
    testCovered: covered.length ? { from: covered[0]!, to: covered.at(-1)!, days: covered.length } : undefined,
    missingTestDates: datesBetween(testFrom, testTo).filter((d) => !seen.has(d)),
    historyDays,
    historyFrom,
    dataFrom,
    missingHistoryDates:
      dataFrom > historyFrom
        ? datesBetween(historyFrom, dataFrom <= lastHistoryDay ? addDays(dataFrom, -1) : lastHistoryDay)
        : [],
  };
}

/** The warnings a coverage calls for, one line each (none when the data covers everything). */
export function coverageWarnings(c: SplitCoverage): string[] {
  const out: string[] = [];
  if (c.testCovered && c.missingTestDates.length > 0)
    out.push(
      `the test period ${c.testPeriod.from}..${c.testPeriod.to} is not fully covered: the test rows cover ${c.testCovered.days} of its ${c.testPeriod.days} days (${c.testCovered.from}..${c.testCovered.to}); no data on ${dateRanges(c.missingTestDates)}: the metrics are over the covered days only`,
    );
  if (c.missingHistoryDates.length > 0)
    out.push(
      `the features need ${c.historyDays} days of history before the train period (from ${c.historyFrom}); the data starts ${c.dataFrom}: ${c.missingHistoryDates.length} days missing (${dateRanges(c.missingHistoryDates)}), so the first training rows' windows are truncated`,
    );
  return out;
}
