// Velocity store in process: the embedded default. Executes the same counter plan as
// counters.lua, step for step; the contract tests hold the two to the same answers.
import {
  checkWithdrawalOrder,
  combineReading,
  encodeRawReading,
  firstListedSeconds,
  parseRawReading,
  logMember,
  outcomePlan,
  markedTransaction,
  parseLogMember,
  isTransactionMember,
  tagOfInLogMember,
  retentionOf,
  type CounterPlan,
  type MarkedTransaction,
  type HitRecord,
  type RawReading,
  type SlotGroup,
  type StoreReading,
  type VelocityStore,
  type Retention,
  type CountingReference,
} from '../../core/velocity.ts';
import type { EntityKind } from '../../core/entities.ts';
import {
  appendMarkerEntities,
  keptReading,
  keptValue,
  markerEntities,
  MARKER_ENTITY_FIELDS,
} from '../../core/store-keys.ts';
import { REDIS_KEYS } from '../redis/keys.ts';
import { SortedSets } from './sorted-sets.ts';
import type { MemoryWatchlistStore } from './watchlist-store.ts';

/** What the memory store needs of the negative lists: a synchronous key check. */
export interface KeyPresence {
  has(key: string): boolean;
}

const HOUR = 3_600_000;

export class MemoryVelocityStore implements VelocityStore {
  /** The same names as in Redis: a plan built for either store runs on both. */
  readonly keys = REDIS_KEYS;
  private readonly db: SortedSets;
  private readonly sweeper: NodeJS.Timeout;
  private readonly watchlist: MemoryWatchlistStore | undefined;
  private readonly lists: KeyPresence | undefined;

  /** How long a transaction's marker and its stored response live (LEAKGUARD_MARKER_RETENTION_DAYS, LEAKGUARD_RESPONSE_RETENTION_HOURS). */
  private readonly retention: Retention;

  constructor(
    options: { now?: () => number; watchlist?: MemoryWatchlistStore; lists?: KeyPresence } & Partial<Retention> = {},
  ) {
    this.db = new SortedSets(options.now ?? Date.now);
    this.retention = retentionOf(options);
    this.watchlist = options.watchlist;
    this.lists = options.lists;
    this.sweeper = setInterval(() => this.db.sweep(), 60_000).unref();
  }

  async recordAndRead(plan: CounterPlan): Promise<StoreReading> {
    const { db } = this;
    // The claim (counters.lua claimMarker, step for step).
    let status: 'new' | 'pending' = 'new';
    let t = plan.at;
    let tail = plan.tail;
    const known = db.hget(plan.marker, 'h');
    if (known !== undefined) {
      if (known !== plan.payloadHash) return { status: 'conflict' };
      const stored = db.get(plan.response);
      if (stored !== undefined) return { status: 'replay', storedResponse: stored };
      status = 'pending';
      t = Number(db.hget(plan.marker, 't'));
      const kept = keptReading(db.get(plan.kept), plan.layout);
      if (kept !== undefined) return { status, countedAt: t, ...combineReading(plan, parseRawReading(kept), t) };
      // Counted, no reading kept: record again (changes nothing already recorded) and read.
      tail = db.hget(plan.marker, 'a') ?? tail;
    } else {
      const entities: string[] = [];
      appendMarkerEntities(plan.entities, entities);
      // No claim time: as on one Redis, a claim and its recording are one step (counters.lua claimFrom).
      const fields: Record<string, string> = { h: plan.payloadHash, t: String(t), a: tail };
      for (let i = 0; i < entities.length; i += 2) fields[entities[i]!] = entities[i + 1]!;
      db.hset(plan.marker, fields);
      db.expire(plan.marker, this.retention.markerTtlMs);
    }

    const entries = (plan.watch?.slots ?? []).map((slot) => this.watchlist?.lookup(slot) ?? null);
    const since = firstListedSeconds(entries);
    const raw: RawReading = {
      entries: entries.map((e) => e?.toString('hex') ?? ''),
      groups: plan.groups.map((g) => this.runGroup(g, t, logMember(plan.ref, tail), plan.ref, since).map(String)),
    };
    db.set(plan.kept, keptValue(plan.layout, encodeRawReading(raw)), this.retention.responseTtlMs);
    const reading: StoreReading = { status, ...combineReading(plan, raw, t) };
    if (status === 'pending') reading.countedAt = t;
    return reading;
  }

  /** One after the other: what a batch must equal. */
  async recordAndReadMany(plans: readonly CounterPlan[]): Promise<StoreReading[]> {
    const readings: StoreReading[] = [];
    for (const plan of plans) readings.push(await this.recordAndRead(plan));
    return readings;
  }

  /** One slot group (counters.lua runGroup, step for step). */
  private runGroup(
    group: SlotGroup,
    t: number,
    logMember: string,
    ref: string,
    since: number | undefined,
  ): (number | string)[] {
    const { db } = this;
    const out: (number | string)[] = [];
    const remember = (
      key: string,
      member: string,
      retention: number,
      cap: number,
      onlyGreater: boolean,
      distinctMembers: readonly string[] = [],
      formerMembers: readonly { of: number; member: string }[] = [],
    ) => {
      // A distinct member's earlier forms go first, their latest time passed on to it (counters.lua replaceFormers).
      const times = distinctMembers.map(() => t);
      for (const { of, member: former } of formerMembers) {
        const seen = db.zscore(key, former);
        if (seen === undefined) continue;
        times[of] = Math.max(times[of]!, seen);
        db.zrem(key, former);
      }
      db.zadd(key, t, member, onlyGreater);
      distinctMembers.forEach((m, i) => db.zadd(key, times[i]!, m, true));
      db.trimBelow(key, t - retention);
      if (cap > 0) db.cap(key, cap);
      db.expire(key, retention + HOUR);
    };
    /** A member's forms under the previous card key leave the key (counters.lua retireForms, step for step). */
    const retireForms = (key: string, member: string, forms: readonly string[], keep: boolean) => {
      let latest: number | undefined;
      for (const form of forms) {
        const seen = db.zscore(key, form);
        if (seen === undefined || (!keep && seen > t)) continue;
        db.zrem(key, form);
        latest = Math.max(latest ?? seen, seen);
      }
      if (keep && latest !== undefined) db.zadd(key, latest, member, true);
    };
    const counts = (key: string, windows: number[]) => {
      for (const w of windows) out.push(db.count(key, t - w, t));
    };
    /** A log's transactions, or the distinct members it keeps with a tag (velocity.ts sharesLog), over (t − horizon, t]. */
    const logRows = (key: string, horizon: number) =>
      db.range(key, t - horizon, t).filter(([m]) => isTransactionMember(m));
    const taggedRows = (key: string, horizon: number, tag: string) =>
      db.range(key, t - horizon, t).filter(([m]) => m.startsWith(tag));
    for (const op of group.ops) {
      switch (op.op) {
        case 'log': {
          if (op.write)
            remember(op.key, logMember, op.retentionMs, op.cap, false, op.distinctMembers, op.formerMembers);
          if (!op.amounts.length && !op.smalls.length) {
            counts(op.key, op.counts);
            break;
          }
          const horizon = Math.max(0, ...op.counts, ...op.amounts, ...op.smalls);
          // Members parsed once per row, not once per window.
          const rows = logRows(op.key, horizon).map(([m, s]) => ({ age: t - s, ...parseLogMember(m) }));
          for (const w of op.counts) out.push(rows.reduce((n, r) => (r.age < w ? n + 1 : n), 0));
          for (const w of op.amounts) out.push(rows.reduce((sum, r) => (r.age < w ? sum + r.cents : sum), 0));
          for (const w of op.smalls) out.push(rows.reduce((n, r) => (r.age < w && r.small ? n + 1 : n), 0));
          break;
        }
        case 'distinct': {
          if (op.write) remember(op.key, op.member, op.retentionMs, 0, true);
          if (op.retire) retireForms(op.key, op.member, op.retire, op.union || op.write);
          if (!op.inLog && !op.union) {
            counts(op.key, op.windows);
            break;
          }
          // Kept in the log (members tagged `#<letter>`, written with the transaction), or a union's rows.
          const horizon = Math.max(0, ...op.windows);
          const rows = op.inLog
            ? taggedRows(op.key, horizon, tagOfInLogMember(op.member))
            : db.range(op.key, t - horizon, t);
          if (op.union) out.push(rows.length, ...rows.flat());
          else for (const w of op.windows) out.push(rows.filter(([, s]) => t - s < w).length);
          break;
        }
        case 'delayed': {
          if (op.write) remember(op.key, ref, op.retentionMs, op.cap, false);
          const hi = t - op.delayMs;
          // A saturated log keeps only its newest events: both counts start at its oldest one.
          const floor = db.size(op.key) >= op.cap ? db.first(op.key)![1] - 1 : -Infinity;
          const lows = op.windows.map((w) => Math.max(hi - w, floor));
          for (const lo of lows) out.push(lo < hi ? db.count(op.key, lo, hi) : 0);
          for (const lo of lows) out.push(lo < hi ? db.count(op.frauds, lo, hi) : 0);
          break;
        }
        case 'count':
          counts(op.key, op.windows);
          break;
        case 'since':
          out.push(
            since === undefined ? 0 : logRows(op.key, op.horizonMs).filter(([, s]) => s > since * 1000 && s < t).length,
          );
          break;
        case 'exists':
          out.push(this.lists?.has(op.key) ? 1 : 0);
          break;
      }
    }
    return out;
  }

  async saveResponse(plan: CounterPlan, response: string, hit?: HitRecord): Promise<void> {
    this.db.set(plan.response, response, this.retention.responseTtlMs);
    this.db.del(plan.kept);
    if (hit && this.watchlist && this.db.hsetnx(plan.marker, 'hit', '1')) this.watchlist.recordHit(hit, Date.now());
  }

  async recordOutcome(
    merchantId: string,
    transactionId: string,
    outcome: string,
    at: number,
  ): Promise<'recorded' | 'duplicate' | 'unknown'> {
    const marker = this.keys.marker(merchantId, transactionId);
    const entities = this.entitiesOf(marker);
    if (entities === undefined) return 'unknown';
    if (!this.db.hsetnx(marker, `o:${outcome}`, String(at))) return 'duplicate';
    const countedAt = Number(this.db.hget(marker, 't'));
    await this.joinOutcome({ merchantId, transactionId, entities, countedAt }, outcome, at);
    return 'recorded';
  }

  async joinOutcome(
    { merchantId, transactionId, entities, countedAt, uncounted }: MarkedTransaction,
    outcome: string,
    at: number,
  ): Promise<void> {
    const p = outcomePlan(merchantId, transactionId, entities, outcome, this.keys, !uncounted);
    const member = p.ref;
    for (const key of p.counted) {
      this.db.zadd(key, at, member);
      this.db.trimBelow(key, at - p.retentionMs);
      this.db.expire(key, p.retentionMs + HOUR);
    }
    // Fraud labels join at the transaction's own time.
    for (const key of p.labels) {
      this.db.zadd(key, countedAt, member);
      this.db.trimBelow(key, countedAt - p.labelRetentionMs);
      this.db.cap(key, p.labelCap);
      this.db.expire(key, p.labelRetentionMs + HOUR);
    }
  }

  async withdrawOutcome(
    merchantId: string,
    transactionId: string,
    outcome: string,
    reversal: string,
    at: number,
  ): Promise<'recorded' | 'duplicate' | 'absent' | 'unknown'> {
    const marker = this.keys.marker(merchantId, transactionId);
    const entities = this.entitiesOf(marker);
    if (entities === undefined) return 'unknown';
    if (this.db.hget(marker, `o:${reversal}`) !== undefined) return 'duplicate';
    const recorded = this.db.hget(marker, `o:${outcome}`);
    if (recorded === undefined) return 'absent';
    checkWithdrawalOrder(reversal, outcome, at, recorded);
    const countedAt = Number(this.db.hget(marker, 't'));
    await this.leaveOutcome({ merchantId, transactionId, entities, countedAt }, outcome);
    return this.db.hsetnx(marker, `o:${reversal}`, String(at)) ? 'recorded' : 'duplicate';
  }

  async leaveOutcome(
    { merchantId, transactionId, entities, uncounted }: MarkedTransaction,
    outcome: string,
  ): Promise<void> {
    const p = outcomePlan(merchantId, transactionId, entities, outcome, this.keys, !uncounted);
    for (const key of [...p.counted, ...p.labels]) this.db.zrem(key, p.ref);
  }

  async transactionOf(merchantId: string, transactionId: string): Promise<{ card: string; at: number } | undefined> {
    const marker = this.keys.marker(merchantId, transactionId);
    return markedTransaction(this.entitiesOf(marker), this.db.hget(marker, 't'));
  }

  /** The entities a marker keeps (undefined: no marker). */
  private entitiesOf(marker: string): Partial<Record<EntityKind, string>> | undefined {
    if (this.db.hget(marker, 'h') === undefined) return undefined;
    return markerEntities(MARKER_ENTITY_FIELDS.map(([, field]) => this.db.hget(marker, field)));
  }

  /** The memory twin of Redis' REFERENCE_KEY: lives as long as the counters it speaks of (this process). */
  private reference: string | undefined;

  async countingReference(currency: string, replacing?: string): Promise<CountingReference> {
    const recorded = this.reference;
    const result =
      recorded === undefined
        ? 'recorded'
        : recorded === currency
          ? 'same'
          : replacing !== undefined && replacing === recorded
            ? 'replaced'
            : 'mismatch';
    if (result !== 'mismatch') this.reference = currency;
    return { result, recorded };
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}
