// Offline feature computation: every feature of a set for a range of rows of a dataset in time
// order, with sliding windows per entity. Amounts are summed in integer cents so that the offline
// and online paths produce bit-identical values.
import type { Dataset } from '../simulator/csv.ts';
import {
  DAY_SECONDS,
  rowKind,
  rowValue,
  windowValue,
  type FeatureSet,
  type WindowFeature,
} from '../../services/model/definitions.ts';

export interface FeatureMatrix {
  names: string[];
  rows: number;
  cols: number;
  /** Row-major values. */
  values: Float64Array;
  /** Dataset row index of each matrix row. */
  source: Int32Array;
}

export const toCents = (amount: number) => Math.round(amount * 100);

/** Rows of each entity in time order, as one CSR structure (stable: dataset order is kept). */
function groupBy(ids: Int32Array): { offsets: Int32Array; rows: Int32Array; index: Map<number, number> } {
  const index = new Map<number, number>();
  const counts: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    let g = index.get(ids[i]!);
    if (g === undefined) {
      g = counts.length;
      index.set(ids[i]!, g);
      counts.push(0);
    }
    counts[g]!++;
  }
  const offsets = new Int32Array(counts.length + 1);
  for (let g = 0; g < counts.length; g++) offsets[g + 1] = offsets[g]! + counts[g]!;
  const fill = offsets.slice(0, counts.length);
  const rows = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) rows[fill[index.get(ids[i]!)!]!++] = i;
  return { offsets, rows, index };
}

export function assertTimeOrder(ds: Dataset): void {
  for (let i = 1; i < ds.n; i++) {
    if (ds.epochSeconds[i]! < ds.epochSeconds[i - 1]!) throw new Error(`dataset not in time order at row ${i}`);
  }
}

/**
 * Features of dataset rows [from, to) (all history before `from` is used for windows).
 * Window semantics: rows j of the same entity, at or before row i in dataset order, with
 * t_i − (delay + days)·D < t_j ≤ t_i − delay·D (delay 0: the current row is included).
 * Fraud counts: with `arrivals` (epoch seconds at which each row's fraud label, a chargeback,
 * arrives; Infinity: never — features/labels.ts), a fraud counts only once its label has arrived,
 * arrivals[j] ≤ t_i, as serving counts reported chargebacks; without, every fraud counts (the
 * ground truth).
 */
export function computeOffline(
  ds: Dataset,
  fs: FeatureSet,
  from = 0,
  to = ds.n,
  arrivals?: Float64Array,
): FeatureMatrix {
  assertTimeOrder(ds);
  const cols = fs.features.length;
  const rows = Math.max(0, to - from);
  const values = new Float64Array(rows * cols);
  const source = new Int32Array(rows);
  for (let r = 0; r < rows; r++) source[r] = from + r;

  fs.features.forEach((f, c) => {
    if (f.kind !== 'window') {
      for (let r = 0; r < rows; r++)
        values[r * cols + c] = rowValue(rowKind(f), ds.amount[from + r]!, ds.epochSeconds[from + r]!);
    }
  });

  const windowCols = fs.features
    .map((f, c) => [f, c] as const)
    .filter((x): x is readonly [WindowFeature, number] => x[0].kind === 'window');
  for (const entity of ['customer', 'terminal'] as const) {
    const mine = windowCols.filter(([f]) => f.entity === entity);
    if (mine.length === 0) continue;
    const g = groupBy(entity === 'customer' ? ds.customer : ds.terminal);
    const agg = { count: 0, amountSum: 0, frauds: 0 };
    for (let e = 0; e + 1 < g.offsets.length; e++) {
      const start = g.offsets[e]!,
        end = g.offsets[e + 1]!;
      const len = end - start;
      // prefix sums over this entity's rows (cents are exact in doubles)
      const cents = new Float64Array(len + 1),
        frauds = new Float64Array(len + 1),
        times = new Float64Array(len);
      // with label arrivals: the frauds' positions, to count those whose label has arrived
      const fraudAt: number[] = [];
      for (let k = 0; k < len; k++) {
        const row = g.rows[start + k]!;
        times[k] = ds.epochSeconds[row]!;
        cents[k + 1] = cents[k]! + toCents(ds.amount[row]!);
        frauds[k + 1] = frauds[k]! + ds.fraud[row]!;
        if (ds.fraud[row]) fraudAt.push(row);
      }
      for (const [f, c] of mine) {
        const span = (f.delayDays + f.days) * DAY_SECONDS,
          delay = f.delayDays * DAY_SECONDS;
        let lo = 0; // first k with t_k > t_i − span
        let hi = 0; // first k with t_k > t_i − delay (delay 0: k = i + 1)
        for (let k = 0; k < len; k++) {
          const row = g.rows[start + k]!;
          const t = times[k]!;
          while (lo < len && times[lo]! <= t - span) lo++;
          if (delay === 0) hi = k + 1;
          else while (hi < len && times[hi]! <= t - delay) hi++;
          if (row < from || row >= to) continue;
          const a = Math.min(lo, hi);
          agg.count = hi - a;
          agg.amountSum = (cents[hi]! - cents[a]!) / 100;
          if (arrivals) {
            let known = 0;
            for (let q = frauds[a]!; q < frauds[hi]!; q++) if (arrivals[fraudAt[q]!]! <= t) known++;
            agg.frauds = known;
          } else agg.frauds = frauds[hi]! - frauds[a]!;
          values[(row - from) * cols + c] = windowValue(f.stat, agg);
        }
      }
    }
  }
  return { names: fs.features.map((f) => f.name), rows, cols, values, source };
}

/** Dataset rows whose TX_DATETIME date is within [fromDate, toDate] (inclusive), as a row range. */
export function rowRange(ds: Dataset, fromDate: string, toDate: string): [number, number] {
  const lo = Date.parse(`${fromDate}T00:00:00Z`) / 1000,
    hi = Date.parse(`${toDate}T00:00:00Z`) / 1000 + DAY_SECONDS;
  let a = 0;
  while (a < ds.n && ds.epochSeconds[a]! < lo) a++;
  let b = a;
  while (b < ds.n && ds.epochSeconds[b]! < hi) b++;
  return [a, b];
}
