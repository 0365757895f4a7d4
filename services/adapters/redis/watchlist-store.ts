// Watchlists on Redis: packed card entries in 65,536 bucket hashes (listpack-encoded), event
// metadata and statistics in small hashes, hits in one stream per issuer.
import type { Redis } from 'ioredis';
import {
  eventIdOf, eventView,
  type AddStatus, type BinRange, type CardToList, type CompromiseEvent, type CompromiseEventInput, type EntrySlot,
  type EventStatistics, type EventStatus, type EventView, type HitQuery, type StoredHit, type WatchlistStore,
} from '../../core/watchlist.ts';
import { script } from './velocity-store.ts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lgWatchlistAdd(...args: (string | number | Buffer)[]): Promise<string>;
    lgWatchlistRemove(...args: (string | number | Buffer)[]): Promise<number>;
  }
}

const SEQ = 'lg:w:event-seq';
const EVENTS = 'lg:w:events';
const EXTERNAL = 'lg:w:external-ids';
const BIN_RANGES = 'lg:w:bin-ranges';
const eventKey = (seq: number) => `lg:w:ev:${seq}`;
const hitsKey = (issuerId: string) => `lg:w:hits:{${issuerId}}`;

export class RedisWatchlistStore implements WatchlistStore {
  private readonly redis: Redis;

  constructor(redis: Redis) {
    this.redis = redis;
    redis.defineCommand('lgWatchlistAdd', { lua: script('watchlist-add.lua') });
    redis.defineCommand('lgWatchlistRemove', { lua: script('watchlist-remove.lua') });
  }

  async createEvent(input: Omit<CompromiseEventInput, 'issuerId'>, issuerId: string, now: Date): Promise<{ event: CompromiseEvent; created: boolean }> {
    const externalKey = `${issuerId}\u0000${input.externalId}`;
    const existing = await this.redis.hget(EXTERNAL, externalKey);
    if (existing) return { event: (await this.getEvent(Number(existing)))!, created: false };
    const seq = await this.redis.incr(SEQ);
    // Another request may have claimed the external id meanwhile: the first claim wins.
    if ((await this.redis.hsetnx(EXTERNAL, externalKey, String(seq))) === 0) {
      return { event: (await this.getEvent(Number(await this.redis.hget(EXTERNAL, externalKey))))!, created: false };
    }
    const event: CompromiseEvent = { ...input, id: eventIdOf(seq), seq, issuerId, status: 'open', createdAt: now.toISOString(), updatedAt: now.toISOString() };
    await this.redis.multi().hset(eventKey(seq), 'm', JSON.stringify(event)).sadd(EVENTS, String(seq)).exec();
    return { event, created: true };
  }

  async getEvent(seq: number): Promise<CompromiseEvent | undefined> {
    const raw = await this.redis.hget(eventKey(seq), 'm');
    return raw ? (JSON.parse(raw) as CompromiseEvent) : undefined;
  }

  async listEvents(issuerId?: string): Promise<CompromiseEvent[]> {
    const seqs = (await this.redis.smembers(EVENTS)).map(Number).sort((a, b) => a - b);
    if (seqs.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const s of seqs) pipeline.hget(eventKey(s), 'm');
    const rows = (await pipeline.exec()) ?? [];
    return rows
      .map(([, raw]) => (raw ? (JSON.parse(raw as string) as CompromiseEvent) : undefined))
      .filter((e): e is CompromiseEvent => e !== undefined && (issuerId === undefined || e.issuerId === issuerId));
  }

  async setEventStatus(seq: number, status: EventStatus, now: Date): Promise<CompromiseEvent | undefined> {
    const event = await this.getEvent(seq);
    if (!event) return undefined;
    const updated = { ...event, status, updatedAt: now.toISOString() };
    await this.redis.hset(eventKey(seq), 'm', JSON.stringify(updated));
    return updated;
  }

  async eventStatistics(seq: number): Promise<EventStatistics> {
    const [[, stats], [, merchants]] = (await this.redis.multi().hmget(eventKey(seq), 'listed', 'removed', 'hits', 'lastHit').scard(`${eventKey(seq)}:merchants`).exec()) as [[null, (string | null)[]], [null, number]];
    const [listed, removed, hits, lastHit] = stats;
    return {
      cardsListed: Number(listed ?? 0),
      cardsRemoved: Number(removed ?? 0),
      hits: Number(hits ?? 0),
      distinctMerchants: merchants,
      lastHitAt: lastHit ? new Date(Number(lastHit)).toISOString() : null,
    };
  }

  async addCards(eventSeq: number, elementMask: number, cards: CardToList[], nowSeconds: number): Promise<AddStatus[]> {
    if (cards.length === 0) return [];
    const keys = cards.map((c) => c.slot.bucket);
    const args: (string | number | Buffer)[] = [eventSeq, elementMask, nowSeconds];
    for (const c of cards) args.push(c.slot.field, c.expiryTag);
    const letters = await this.redis.lgWatchlistAdd(keys.length + 1, ...keys, eventKey(eventSeq), ...args);
    return [...letters].map((l) => (l === 'n' ? 'new' : l === 'a' ? 'added' : 'duplicate'));
  }

  async getEntries(slots: EntrySlot[]): Promise<(Buffer | null)[]> {
    if (slots.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const s of slots) pipeline.hgetBuffer(s.bucket, s.field);
    return ((await pipeline.exec()) ?? []).map(([, v]) => (v as Buffer | null) ?? null);
  }

  async removeCards(slots: EntrySlot[]): Promise<number> {
    if (slots.length === 0) return 0;
    return this.redis.lgWatchlistRemove(slots.length, ...slots.map((s) => s.bucket), ...slots.map((s) => s.field));
  }

  async getBinRanges(issuerId: string): Promise<BinRange[]> {
    const raw = await this.redis.hget(BIN_RANGES, issuerId);
    return raw ? (JSON.parse(raw) as BinRange[]) : [];
  }

  async setBinRanges(issuerId: string, ranges: BinRange[]): Promise<void> {
    await this.redis.hset(BIN_RANGES, issuerId, JSON.stringify(ranges));
  }

  async listHits(issuerId: string, query: HitQuery): Promise<StoredHit[]> {
    // Newest first; stream ids are the times the hits were recorded.
    const rows = await this.redis.xrevrange(hitsKey(issuerId), query.to !== undefined ? String(query.to) : '+', query.from !== undefined ? String(query.from) : '-', 'COUNT', query.eventId ? query.limit * 20 : query.limit);
    const hits = rows.map(([, fields]) => JSON.parse(fields[1]!) as StoredHit & { eventSeqs?: number[]; issuerIds?: string[] });
    return hits
      .filter((h) => !query.eventId || h.eventIds.includes(query.eventId))
      .slice(0, query.limit)
      .map(({ eventSeqs: _s, issuerIds: _i, ...h }) => h);
  }

  async eventViews(): Promise<Map<number, EventView>> {
    return new Map((await this.listEvents()).map((e) => [e.seq, eventView(e)]));
  }

  async close(): Promise<void> {}
}
