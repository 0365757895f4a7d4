// Watchlists on Redis: packed card entries in 65,536 bucket hashes (listpack-encoded), each its
// own Redis Cluster slot; event metadata, statistics and hit streams under one hash tag, `{w}`
// (watchlist-keys.ts). Works on a single Redis and on a cluster alike: a script touches the keys
// of one slot only, a batch of cards is sent as one script call per slot group (the whole batch
// on a single Redis, one bucket on a cluster), issued concurrently (ioredis pipelines them per node).
import {
  eventIdOf,
  eventView,
  type AddStatus,
  type BinRange,
  type BinRangeConflict,
  firstBinRangeConflict,
  type CardToList,
  type CompromiseEvent,
  type CompromiseEventInput,
  type EntrySlot,
  type EventStatistics,
  patchFor,
  type EventChange,
  matchesEventQuery,
  type EventQuery,
  type EventView,
  type HitPosition,
  type HitQuery,
  type Page,
  type StoredHit,
  type WatchlistStore,
  HIT_SCAN_BUDGET,
  hitMatches,
  issuerView,
} from '../../core/watchlist.ts';
import type { HitRecord } from '../../core/velocity.ts';
import { watchlistBucketKey } from './keys.ts';
import { isCluster, type RedisClient } from './connection.ts';
import { LuaScript, read } from './lua.ts';
import { watchlistKeys as K } from './watchlist-keys.ts';

// The entry's codec is one file, prepended to both scripts.
const withEntry = (name: string) =>
  new LuaScript(
    `${LuaScript.file('watchlist-entry.lua', import.meta.url).source}\n${LuaScript.file(name, import.meta.url).source}`,
  );
const ADD = withEntry('watchlist-add.lua');
const REMOVE = withEntry('watchlist-remove.lua');
/** KEYS[1] an event's hash; ARGV[1] the version read, ARGV[2] the new one: written only over the one read. */
const REPLACE_EVENT = new LuaScript(`
if redis.call('HGET', KEYS[1], 'm') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'm', ARGV[2])
return 1
`);
/**
 * KEYS[1] the BIN ranges' hash; ARGV[1] an issuer, ARGV[2] its new ranges, then every issuer and
 * ranges as read: written only over the hash as read, so that two issuers' ranges checked against
 * each other (firstBinRangeConflict) are never written past each other.
 */
const REPLACE_BIN_RANGES = new LuaScript(`
local all = redis.call('HGETALL', KEYS[1])
if #all ~= #ARGV - 2 then return 0 end
local read = {}
for i = 3, #ARGV, 2 do read[ARGV[i]] = ARGV[i + 1] end
for i = 1, #all, 2 do
  if read[all[i]] ~= all[i + 1] then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`);
/** Changes to one event at once are rare (analysts, scans, issuers): a few attempts settle them. */
const EVENT_UPDATE_ATTEMPTS = 20;

const STATUS: Record<string, AddStatus> = { n: 'new', a: 'added', d: 'duplicate' };
/** A card in watchlist-add.lua's packed argument: field (8 bytes) | expiry tag (uint16 BE). */
const PACKED_CARD_BYTES = 10;

/**
 * Indices of `items` grouped by `groupOf`, each group in input order (a card listed twice in one
 * batch meets itself in the same script call, in order).
 */
function groupIndices<T>(items: readonly T[], groupOf: (item: T) => string): number[][] {
  const groups = new Map<string, number[]>();
  items.forEach((item, i) => {
    const g = groupOf(item);
    const list = groups.get(g);
    if (list) list.push(i);
    else groups.set(g, [i]);
  });
  return [...groups.values()];
}

const parsedRanges = (raw: Record<string, string>): Map<string, BinRange[]> =>
  new Map(Object.entries(raw).map(([issuerId, json]) => [issuerId, JSON.parse(json) as BinRange[]]));

const parseStreamId = (id: string): HitPosition => {
  const dash = id.indexOf('-');
  return { ms: Number(id.slice(0, dash)), seq: Number(id.slice(dash + 1)) };
};

/** The stream id just before a position (XREVRANGE's end is inclusive; exclusive ranges need Redis 6.2). */
function idBefore(p: HitPosition): HitPosition | null {
  if (p.seq > 0) return { ms: p.ms, seq: p.seq - 1 };
  if (p.ms > 0) return { ms: p.ms - 1, seq: Number.MAX_SAFE_INTEGER };
  return null;
}

export class RedisWatchlistStore implements WatchlistStore {
  private readonly redis: RedisClient;
  /** Which cards may share one script call: all of them on a single Redis, one bucket's (one slot's) on a cluster. */
  private readonly groupOf: (slot: EntrySlot) => string;

  constructor(redis: RedisClient) {
    this.redis = redis;
    this.groupOf = isCluster(redis) ? (slot) => slot.bucket : () => '';
  }

  async createEvent(
    input: Omit<CompromiseEventInput, 'issuerId'>,
    issuerId: string,
    now: Date,
  ): Promise<{ event: CompromiseEvent; created: boolean }> {
    const externalKey = `${issuerId}\u0000${input.externalId}`;
    const existing = await this.redis.hget(K.externalIds, externalKey);
    if (existing) return { event: await this.claimed(Number(existing)), created: false };
    const seq = await this.redis.incr(K.seq);
    const event: CompromiseEvent = {
      ...input,
      id: eventIdOf(seq),
      seq,
      issuerId,
      status: 'open',
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    };
    // Written before the external id is claimed: whoever finds the claim finds the event (two
    // scans naming one merchant at once; a claimer that dies before it lists the event, below).
    await this.redis.hset(K.event(seq), 'm', JSON.stringify(event));
    // Another request may have claimed the external id meanwhile: the first claim wins.
    if ((await this.redis.hsetnx(K.externalIds, externalKey, String(seq))) === 0) {
      await this.redis.del(K.event(seq));
      return { event: await this.claimed(Number(await this.redis.hget(K.externalIds, externalKey))), created: false };
    }
    await this.redis.sadd(K.events, String(seq));
    return { event, created: true };
  }

  /** An event found by its external id, listed in case its creator stopped between claim and listing. */
  private async claimed(seq: number): Promise<CompromiseEvent> {
    const [event] = await Promise.all([this.getEvent(seq), this.redis.sadd(K.events, String(seq))]);
    if (!event) throw new Error(`compromise event ${seq} is claimed by its external id but not stored`);
    return event;
  }

  async getEvent(seq: number): Promise<CompromiseEvent | undefined> {
    const raw = await this.redis.hget(K.event(seq), 'm');
    return raw ? (JSON.parse(raw) as CompromiseEvent) : undefined;
  }

  async listEvents(issuerId?: string): Promise<CompromiseEvent[]> {
    const seqs = (await this.redis.smembers(K.events)).map(Number).sort((a, b) => a - b);
    return this.eventsOf(seqs, { issuerId });
  }

  private async eventsOf(seqs: number[], query: Omit<EventQuery, 'after' | 'limit'>): Promise<CompromiseEvent[]> {
    if (seqs.length === 0) return [];
    // One slot ({w}): one pipeline to one node.
    const pipeline = this.redis.pipeline();
    for (const s of seqs) pipeline.hget(K.event(s), 'm');
    const rows = (await pipeline.exec()) ?? [];
    return rows
      .map(([, raw]) => (raw ? (JSON.parse(raw as string) as CompromiseEvent) : undefined))
      .filter((e): e is CompromiseEvent => e !== undefined && matchesEventQuery(e, query));
  }

  /** Events are few (one per breach): their numbers are read whole, their metadata a chunk at a time until the page is full. */
  async pageEvents(query: EventQuery): Promise<Page<CompromiseEvent, number>> {
    const seqs = (await this.redis.smembers(K.events))
      .map(Number)
      .filter((s) => query.after === undefined || s > query.after)
      .sort((a, b) => a - b);
    const found: CompromiseEvent[] = [];
    const chunk = Math.max(query.limit + 1, 100);
    for (let i = 0; i < seqs.length && found.length <= query.limit; i += chunk)
      found.push(...(await this.eventsOf(seqs.slice(i, i + chunk), query)));
    const items = found.slice(0, query.limit);
    const hasMore = found.length > query.limit;
    return { items, hasMore, next: hasMore ? (items.at(-1)?.seq ?? null) : null };
  }

  async updateEvent(seq: number, change: EventChange, now: Date): Promise<CompromiseEvent | undefined> {
    // Optimistic: written only over the version it was made from, else made again from the newer
    // one (an analyst's review and a scan's new evidence, a close and a retract, at once).
    for (let attempt = 1; ; attempt++) {
      const raw = await this.redis.hget(K.event(seq), 'm');
      if (!raw) return undefined;
      const event = JSON.parse(raw) as CompromiseEvent;
      const updated = { ...event, ...patchFor(change, event), updatedAt: now.toISOString() };
      if ((await REPLACE_EVENT.run(this.redis, [K.event(seq)], [raw, JSON.stringify(updated)])) === 1) return updated;
      if (attempt >= EVENT_UPDATE_ATTEMPTS)
        throw new Error(`compromise event ${seq} changed under ${attempt} updates in a row: not updated`);
    }
  }

  async eventStatistics(seq: number): Promise<EventStatistics> {
    // A pipeline, not MULTI: a full Redis refuses every command queued in a MULTI, reads included,
    // and an issuer should still see its events while it is full. One slot ({w}): one node.
    const replies = (await this.redis
      .pipeline()
      .hmget(K.event(seq), 'listed', 'removed', 'hits', 'lastHit')
      .scard(K.eventMerchants(seq))
      .exec()) as [[Error | null, (string | null)[]], [Error | null, number]];
    const failed = replies.find(([error]) => error);
    if (failed) throw failed[0];
    const [[, stats], [, merchants]] = replies;
    const [listed, removed, hits, lastHit] = stats;
    return {
      cardsListed: Number(listed ?? 0),
      cardsRemoved: Number(removed ?? 0),
      hits: Number(hits ?? 0),
      distinctMerchants: merchants,
      lastHitAt: lastHit ? new Date(Number(lastHit)).toISOString() : null,
    };
  }

  /**
   * The buckets are written first, one script call per slot group, then the event's `listed`
   * statistic once for the batch: a crash in between leaves the cards listed and the statistic
   * short by that batch (an upload retried lists them as duplicates, not again).
   */
  async addCards(eventSeq: number, elementMask: number, cards: CardToList[], nowSeconds: number): Promise<AddStatus[]> {
    if (cards.length === 0) return [];
    const header = JSON.stringify({ event: eventSeq, mask: elementMask, now: nowSeconds });
    const statuses = new Array<AddStatus>(cards.length);
    await Promise.all(
      groupIndices(cards, (c) => this.groupOf(c.slot)).map(async (group) => {
        const keys = new Array<string>(group.length);
        const packed = Buffer.allocUnsafe(PACKED_CARD_BYTES * group.length);
        group.forEach((i, j) => {
          const c = cards[i]!;
          if (c.slot.field.length !== 8) throw new RangeError('a watchlist entry field is 8 bytes');
          keys[j] = watchlistBucketKey(c.slot.bucket);
          c.slot.field.copy(packed, PACKED_CARD_BYTES * j, 0, 8);
          packed.writeUInt16BE(c.expiryTag, PACKED_CARD_BYTES * j + 8);
        });
        const letters = (await ADD.run(this.redis, keys, [header, packed])) as string;
        // A known card is listed under this key all the same, reported as the event's duplicate.
        group.forEach((i, j) => (statuses[i] = cards[i]!.known ? 'duplicate' : STATUS[letters[j]!]!));
      }),
    );
    const listed = statuses.reduce((n, s) => (s === 'duplicate' ? n : n + 1), 0);
    if (listed > 0) await this.redis.hincrby(K.event(eventSeq), 'listed', listed);
    return statuses;
  }

  async getEntries(slots: EntrySlot[]): Promise<(Buffer | null)[]> {
    if (slots.length === 0) return [];
    // One command per bucket, concurrent: written back to back to each node (lua.ts read()).
    return Promise.all(
      slots.map((s) =>
        read(
          this.redis,
          () => this.redis.hgetBuffer(watchlistBucketKey(s.bucket), s.field),
          'hget',
          [watchlistBucketKey(s.bucket), s.field],
          {
            buffers: true,
          },
        ),
      ),
    );
  }

  /** As addCards: the buckets first, then the events' `removed` statistics in one transaction ({w}). */
  async removeCards(slots: EntrySlot[], onlyEvents?: readonly number[]): Promise<number> {
    if (slots.length === 0 || onlyEvents?.length === 0) return 0;
    const events = onlyEvents === undefined ? '*' : JSON.stringify(onlyEvents);
    const replies = await Promise.all(
      groupIndices(slots, (s) => this.groupOf(s)).map(
        (group) =>
          REMOVE.run(
            this.redis,
            group.map((i) => watchlistBucketKey(slots[i]!.bucket)),
            [events, ...group.map((i) => slots[i]!.field)],
          ) as Promise<number[]>,
      ),
    );
    let removed = 0;
    const perEvent = new Map<number, number>();
    for (const [count, ...seqs] of replies) {
      removed += count!;
      for (const s of seqs) perEvent.set(s, (perEvent.get(s) ?? 0) + 1);
    }
    if (perEvent.size > 0) {
      const tx = this.redis.multi();
      for (const [seq, n] of perEvent) tx.hincrby(K.event(seq), 'removed', n);
      await tx.exec();
    }
    return removed;
  }

  async getBinRanges(issuerId: string): Promise<BinRange[]> {
    const raw = await this.redis.hget(K.binRanges, issuerId);
    return raw ? (JSON.parse(raw) as BinRange[]) : [];
  }

  async setBinRanges(issuerId: string, ranges: BinRange[]): Promise<BinRangeConflict | undefined> {
    for (let attempt = 1; ; attempt++) {
      const read = await this.redis.hgetall(K.binRanges);
      const conflict = firstBinRangeConflict(issuerId, ranges, parsedRanges(read));
      if (conflict !== undefined) return conflict;
      const args = [issuerId, JSON.stringify(ranges), ...Object.entries(read).flat()];
      if ((await REPLACE_BIN_RANGES.run(this.redis, [K.binRanges], args)) === 1) return undefined;
      if (attempt === EVENT_UPDATE_ATTEMPTS) throw new Error('BIN ranges kept changing while being replaced');
    }
  }

  async allBinRanges(): Promise<Map<string, BinRange[]>> {
    return parsedRanges(await this.redis.hgetall(K.binRanges));
  }

  async listHits(issuerId: string, query: HitQuery): Promise<StoredHit[]> {
    return (await this.pageHits(issuerId, query)).items;
  }

  /**
   * Hits are written by the velocity store's record-hit.lua: stream entries with the hit's JSON in
   * field `h`, their ids the times they were recorded. Read newest first in batches, filtered as
   * they come, until the page and one more hit (hasMore) are found, the stream or the time range
   * ends, or the scan budget is spent.
   */
  async pageHits(issuerId: string, query: HitQuery): Promise<Page<StoredHit, HitPosition>> {
    const budget = query.scanBudget ?? HIT_SCAN_BUDGET;
    const start = query.from !== undefined ? String(query.from) : '-';
    // The end, inclusive: before the cursor (stream ids are ms-seq), else the `to` bound.
    let end: string | null = query.to !== undefined ? String(query.to) : '+';
    if (query.after) {
      const before = idBefore(query.after);
      if (before === null) return { items: [], hasMore: false, next: null };
      if (query.to === undefined || before.ms <= query.to) end = `${before.ms}-${before.seq}`;
    }
    const items: StoredHit[] = [];
    let lastItem: HitPosition | null = null;
    let lastScanned: HitPosition | null = null;
    let scanned = 0;
    while (end !== null) {
      const count = Math.min(Math.max(2 * (query.limit + 1), 100), 1000);
      const rows = await this.redis.xrevrange(K.hits(issuerId), end, start, 'COUNT', count);
      for (const [id, fields] of rows) {
        if (scanned === budget) return { items, hasMore: true, next: lastScanned };
        scanned++;
        const pos = parseStreamId(id);
        lastScanned = pos;
        let json: string | undefined;
        for (let i = 0; i + 1 < fields.length && json === undefined; i += 2)
          if (fields[i] === 'h') json = fields[i + 1];
        if (!json) continue;
        const hit = JSON.parse(json) as HitRecord;
        if (!hitMatches(hit, query, issuerId)) continue;
        if (items.length === query.limit) return { items, hasMore: true, next: lastItem };
        // The stream id's time: what `from`, `to` and the cursor are measured against.
        items.push(issuerView(hit, new Date(pos.ms).toISOString()));
        lastItem = pos;
      }
      if (rows.length < count) break;
      const before = idBefore(lastScanned!);
      end = before === null ? null : `${before.ms}-${before.seq}`;
    }
    return { items, hasMore: false, next: null };
  }

  async eventViews(): Promise<Map<number, EventView>> {
    return new Map((await this.listEvents()).map((e) => [e.seq, eventView(e)]));
  }

  async close(): Promise<void> {}
}
