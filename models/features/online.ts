// The online path: a pure reducer over window state, one transaction at a time, the way the engine
// serves velocity (record the transaction, then read its windows, current transaction included).
// State per entity is a time-ordered log of (time, cents, fraud), trimmed to the longest window:
// the same information a Redis sorted-set log counter holds. Fraud labels are read only from events
// older than a window's delay (in production they arrive as outcomes before the delay has passed).
import type { Dataset } from '../simulator/csv.ts';
import {
  DAY_SECONDS,
  rowKind,
  rowValue,
  windowValue,
  type Entity,
  type FeatureSet,
  type WindowAggregate,
  type WindowFeature,
} from '../../services/model/definitions.ts';
import { toCents, type FeatureMatrix } from './offline.ts';

export interface OnlineTransaction {
  /** The dataset's TRANSACTION_ID, when known: an engine source needs one id per transaction. */
  id?: number;
  epochSeconds: number;
  customer: number;
  terminal: number;
  amountCents: number;
  /** Known later; used only through delayed windows. */
  fraud: 0 | 1;
}

interface EntityLog {
  t: number[];
  cents: number[];
  fraud: number[];
  head: number;
}

export interface OnlineState {
  logs: Record<Entity, Map<number, EntityLog>>;
}

export function emptyOnlineState(): OnlineState {
  return { logs: { customer: new Map(), terminal: new Map() } };
}

function retentionSeconds(fs: FeatureSet, entity: Entity): number {
  let s = 0;
  for (const f of fs.features)
    if (f.kind === 'window' && f.entity === entity) s = Math.max(s, (f.days + f.delayDays) * DAY_SECONDS);
  return s;
}

/** Counter read over (now − (delay + days)·D, now − delay·D]: what a ZCOUNT-style range read returns. */
export function readWindow(log: EntityLog | undefined, now: number, f: WindowFeature): WindowAggregate {
  const agg = { count: 0, amountSum: 0, frauds: 0 };
  if (!log) return agg;
  const lo = now - (f.delayDays + f.days) * DAY_SECONDS,
    hi = now - f.delayDays * DAY_SECONDS;
  let cents = 0;
  for (let k = log.t.length - 1; k >= log.head; k--) {
    const t = log.t[k]!;
    if (t <= lo) break;
    if (t > hi) continue;
    agg.count++;
    cents += log.cents[k]!;
    agg.frauds += log.fraud[k]!;
  }
  agg.amountSum = cents / 100;
  return agg;
}

/** Records one transaction in the state and returns its feature vector (record-then-read). */
export function recordAndRead(state: OnlineState, fs: FeatureSet, tx: OnlineTransaction): Float64Array {
  for (const entity of ['customer', 'terminal'] as const) {
    const id = entity === 'customer' ? tx.customer : tx.terminal;
    let log = state.logs[entity].get(id);
    if (!log) state.logs[entity].set(id, (log = { t: [], cents: [], fraud: [], head: 0 }));
    log.t.push(tx.epochSeconds);
    log.cents.push(tx.amountCents);
    log.fraud.push(tx.fraud);
    // trim what no window can reach any more (the store's retention)
    const keepAfter = tx.epochSeconds - retentionSeconds(fs, entity);
    while (log.head < log.t.length && log.t[log.head]! <= keepAfter) log.head++;
    if (log.head > 1024 && log.head * 2 > log.t.length) {
      log.t = log.t.slice(log.head);
      log.cents = log.cents.slice(log.head);
      log.fraud = log.fraud.slice(log.head);
      log.head = 0;
    }
  }
  const out = new Float64Array(fs.features.length);
  fs.features.forEach((f, c) => {
    if (f.kind === 'window') {
      const log = state.logs[f.entity].get(f.entity === 'customer' ? tx.customer : tx.terminal);
      out[c] = windowValue(f.stat, readWindow(log, tx.epochSeconds, f));
    } else {
      out[c] = rowValue(rowKind(f), tx.amountCents / 100, tx.epochSeconds);
    }
  });
  return out;
}

/**
 * Where the online path reads its windows from: the in-memory reducer below, or the engine's
 * velocity store (features/engine-source.ts: Redis or the embedded store). Records the
 * transaction, then returns one aggregate per window feature.
 */
export interface WindowSource {
  recordAndRead(
    tx: OnlineTransaction,
    windows: readonly WindowFeature[],
  ): WindowAggregate[] | Promise<WindowAggregate[]>;
}

export class MemoryWindowSource implements WindowSource {
  readonly state = emptyOnlineState();
  private readonly fs: FeatureSet;
  constructor(fs: FeatureSet) {
    this.fs = fs;
  }
  recordAndRead(tx: OnlineTransaction, windows: readonly WindowFeature[]): WindowAggregate[] {
    recordAndRead(this.state, this.fs, tx);
    return windows.map((f) =>
      readWindow(
        this.state.logs[f.entity].get(f.entity === 'customer' ? tx.customer : tx.terminal),
        tx.epochSeconds,
        f,
      ),
    );
  }
}

/** The feature vector from window aggregates (in the feature set's window order) and the row itself. */
export function featuresFromWindows(
  fs: FeatureSet,
  tx: OnlineTransaction,
  aggregates: readonly WindowAggregate[],
): Float64Array {
  const out = new Float64Array(fs.features.length);
  let w = 0;
  fs.features.forEach((f, c) => {
    out[c] =
      f.kind === 'window'
        ? windowValue(f.stat, aggregates[w++]!)
        : rowValue(rowKind(f), tx.amountCents / 100, tx.epochSeconds);
  });
  return out;
}

export interface ParityReport {
  rows: number;
  mismatches: { row: number; feature: string; offline: number; online: number }[];
}

/** Replays a dataset through a window source in time order and compares every value with the offline matrix. */
export async function replayParity(
  ds: Dataset,
  fs: FeatureSet,
  source: WindowSource,
  offline: FeatureMatrix,
  limit = 20,
): Promise<ParityReport> {
  const windows = fs.features.filter((f): f is WindowFeature => f.kind === 'window');
  const report: ParityReport = { rows: 0, mismatches: [] };
  let extra = 0;
  for (let i = 0; i < ds.n; i++) {
    const tx: OnlineTransaction = {
      id: ds.transactionId[i]!,
      epochSeconds: ds.epochSeconds[i]!,
      customer: ds.customer[i]!,
      terminal: ds.terminal[i]!,
      amountCents: toCents(ds.amount[i]!),
      fraud: ds.fraud[i] ? 1 : 0,
    };
    const v = featuresFromWindows(fs, tx, await source.recordAndRead(tx, windows));
    const r = i - offline.source[0]!;
    report.rows++;
    if (r < 0 || r >= offline.rows) continue;
    for (let c = 0; c < v.length; c++) {
      const o = offline.values[r * offline.cols + c]!;
      if (!Object.is(o, v[c])) {
        if (report.mismatches.length < limit)
          report.mismatches.push({ row: i, feature: fs.features[c]!.name, offline: o, online: v[c]! });
        else extra++;
      }
    }
  }
  if (extra) report.mismatches.push({ row: -1, feature: `… ${extra} more`, offline: NaN, online: NaN });
  return report;
}
