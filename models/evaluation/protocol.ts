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
  let startDay = Infinity;
  const known = new Set<number>();
  for (let i = train[0]; i < train[1]; i++) {
    startDay = Math.min(startDay, ds.timeDays[i]!);
    if (ds.fraud[i]) known.add(ds.customer[i]!);
  }
  const byDay = new Map<number, number[]>();
  const [a, b] = rowRange(
    ds,
    addDays(o.trainStart, o.trainDays + o.delayDays - 1),
    addDays(o.trainStart, o.trainDays + o.delayDays + o.testDays - 1),
  );
  for (let i = Math.min(a, train[0]); i < b; i++) {
    const d = ds.timeDays[i]!;
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

/** `computed`: the features of `splitRows(split)` when they were computed elsewhere (an engine replay). */
export function splitFeatures(ds: Dataset, split: Split, fs: FeatureSet, computed?: FeatureMatrix): SplitFeatures {
  const [from, to] = splitRows(split);
  const all = computed ?? computeOffline(ds, fs, from, to);
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
