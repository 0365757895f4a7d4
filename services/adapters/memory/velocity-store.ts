// Velocity store in process: the embedded default. Executes the same counter plan as
// record-and-read.lua, step for step; the contract tests hold the two to the same answers.
import {
  keys, outcomePlan, readingFrom, RESPONSE_TTL_MS,
  type CounterPlan, type HitRecord, type StoreReading, type VelocityStore,
} from '../../core/velocity.ts';
import { SortedSets } from './sorted-sets.ts';
import type { MemoryWatchlistStore } from './watchlist-store.ts';

/** What the memory store needs of the negative lists: a synchronous key check. */
export interface KeyPresence {
  has(key: string): boolean;
}

const HOUR = 3_600_000;

/** The reading a marker keeps until its response is stored (watchlist entries as hex). */
function serializeReading(r: StoreReading): string {
  const watchlist = r.watchlist && { entries: r.watchlist.entries.map((e) => e?.toString('hex') ?? null), usesSinceListed: r.watchlist.usesSinceListed };
  return JSON.stringify({ velocity: r.velocity, watchlist, lists: r.lists });
}

function parseReading(saved: string): Omit<StoreReading, 'status'> {
  const r = JSON.parse(saved) as { velocity: StoreReading['velocity']; watchlist?: { entries: (string | null)[]; usesSinceListed: number }; lists?: boolean[] };
  return {
    velocity: r.velocity,
    ...(r.watchlist ? { watchlist: { entries: r.watchlist.entries.map((e) => (e === null ? null : Buffer.from(e, 'hex'))), usesSinceListed: r.watchlist.usesSinceListed } } : {}),
    ...(r.lists ? { lists: r.lists } : {}),
  };
}

export class MemoryVelocityStore implements VelocityStore {
  private readonly db: SortedSets;
  private readonly sweeper: NodeJS.Timeout;
  private readonly watchlist: MemoryWatchlistStore | undefined;
  private readonly lists: KeyPresence | undefined;

  constructor(options: { now?: () => number; watchlist?: MemoryWatchlistStore; lists?: KeyPresence } = {}) {
    this.db = new SortedSets(options.now ?? Date.now);
    this.watchlist = options.watchlist;
    this.lists = options.lists;
    this.sweeper = setInterval(() => this.db.sweep(), 60_000).unref();
  }

  async recordAndRead(plan: CounterPlan): Promise<StoreReading> {
    const { db } = this;
    const t = plan.at;
    let write = true;
    let status: StoreReading['status'] = 'new';
    const known = db.hget(plan.marker, 'h');
    if (known !== undefined) {
      if (known !== plan.payloadHash) return { status: 'conflict' };
      const stored = db.get(plan.response);
      if (stored !== undefined) return { status: 'replay', storedResponse: stored };
      // Counted before, response never stored: the reading taken when it was counted (as record-and-read.lua).
      const saved = db.hget(plan.marker, 'r');
      if (saved !== undefined && db.hget(plan.marker, 'rl') === plan.layout) {
        return { status: 'pending', countedAt: Number(db.hget(plan.marker, 't')), ...parseReading(saved) };
      }
      status = 'pending';
      write = false;
    } else {
      db.hset(plan.marker, { h: plan.payloadHash, e: plan.entitiesJson, t: String(t) });
      db.expire(plan.marker, plan.markerTtlMs);
    }

    const values: number[] = [];
    const remember = (key: string, member: string, retention: number, cap: number, onlyGreater: boolean) => {
      db.zadd(key, t, member, onlyGreater);
      db.trimBelow(key, t - retention);
      if (cap > 0) db.cap(key, cap);
      db.expire(key, retention + HOUR);
    };
    const counts = (read: string[], windows: number[]) => {
      for (const w of windows) values.push(read.reduce((n, k) => n + db.count(k, t - w, t), 0));
    };

    for (const op of plan.ops) {
      if (op.op === 'log') {
        if (write) remember(op.write, op.member, op.retentionMs, op.cap, false);
        counts(op.read, op.counts);
        if (op.amounts.length || op.smalls.length) {
          const horizon = Math.max(0, ...op.amounts, ...op.smalls);
          // Members are `ref|cents|small`: parsed once per row, not once per window.
          const rows = op.read.flatMap((k) => db.range(k, t - horizon, t)).map(([m, s]) => {
            const bar = m.lastIndexOf('|', m.length - 3);
            return { age: t - s, cents: Number(m.slice(bar + 1, m.length - 2)), small: m.endsWith('|1') };
          });
          for (const w of op.amounts) values.push(rows.reduce((sum, r) => (r.age < w ? sum + r.cents : sum), 0));
          for (const w of op.smalls) values.push(rows.reduce((n, r) => (r.age < w && r.small ? n + 1 : n), 0));
        }
      } else if (op.op === 'distinct') {
        if (write) remember(op.write, op.member, op.retentionMs, 0, true);
        if (op.read.length === 1) counts(op.read, op.windows);
        else {
          const horizon = Math.max(0, ...op.windows);
          const lastSeen = new Map<string, number>();
          for (const k of op.read) for (const [m, s] of db.range(k, t - horizon, t)) lastSeen.set(m, Math.max(s, lastSeen.get(m) ?? -Infinity));
          for (const w of op.windows) values.push([...lastSeen.values()].filter((s) => t - s < w).length);
        }
      } else if (op.op === 'delayed') {
        if (write) remember(op.write, op.member, op.retentionMs, op.cap, false);
        const hi = t - op.delayMs;
        // A saturated log keeps only its newest events: both counts start at its oldest one.
        let floor = -Infinity;
        for (const k of op.read) if (db.size(k) >= op.cap) floor = Math.max(floor, db.first(k)![1] - 1);
        const lows = op.windows.map((w) => Math.max(hi - w, floor));
        for (const lo of lows) values.push(op.read.reduce((n, k) => n + db.count(k, lo, hi), 0));
        for (const lo of lows) values.push(op.frauds.reduce((n, k) => n + db.count(k, lo, hi), 0));
      } else {
        counts(op.read, op.windows);
      }
    }
    const reading: StoreReading = { status, velocity: readingFrom(plan, values) };
    if (plan.watch) {
      const entries = plan.watch.slots.map((slot) => this.watchlist?.lookup(slot) ?? null);
      const first = entries.find((e) => e !== null);
      const since = first ? first.readUInt32BE(2) * 1000 : undefined;
      const usesSinceListed = since === undefined ? 0 : plan.watch.cardLogs.reduce((n, k) => n + db.range(k, since, t - 1).length, 0);
      reading.watchlist = { entries, usesSinceListed };
    }
    if (plan.lists) {
      const has = (k: string) => this.lists?.has(k) ?? false;
      reading.lists = [...plan.lists.negative.map((g) => g.keys.some(has)), plan.lists.allow.some(has)];
    }
    if (write) db.hset(plan.marker, { r: serializeReading(reading), rl: plan.layout });
    return reading;
  }

  async saveResponse(plan: CounterPlan, response: string, hit?: HitRecord): Promise<void> {
    this.db.set(plan.response, response, RESPONSE_TTL_MS);
    this.db.hdel(plan.marker, 'r');
    this.db.hdel(plan.marker, 'rl');
    if (hit && this.watchlist && this.db.hsetnx(plan.marker, 'hit', '1')) this.watchlist.recordHit(hit, Date.now());
  }

  async recordOutcome(merchantId: string, transactionId: string, outcome: string, at: number): Promise<'recorded' | 'duplicate' | 'unknown'> {
    const marker = keys.marker(merchantId, transactionId);
    const entitiesJson = this.db.hget(marker, 'e');
    if (entitiesJson === undefined) return 'unknown';
    if (!this.db.hsetnx(marker, `o:${outcome}`, String(at))) return 'duplicate';
    const member = `${merchantId}:${transactionId}`;
    const p = outcomePlan(entitiesJson, outcome);
    for (const key of p.counted) {
      this.db.zadd(key, at, member);
      this.db.trimBelow(key, at - p.retentionMs);
      this.db.expire(key, p.retentionMs + HOUR);
    }
    // Fraud labels join at the transaction's own time, kept on its marker.
    const txAt = Number(this.db.hget(marker, 't'));
    for (const key of p.labels) {
      this.db.zadd(key, txAt, member);
      this.db.trimBelow(key, txAt - p.labelRetentionMs);
      this.db.cap(key, p.labelCap);
      this.db.expire(key, p.labelRetentionMs + HOUR);
    }
    return 'recorded';
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}
