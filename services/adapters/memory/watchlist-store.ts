// Watchlists in process: the embedded default, with the same semantics as the Redis store
// (same packed entries, same merge rules) and an append-only journal under the state directory
// so that events, listed cards (as fingerprint slots, never card numbers) and statistics survive
// a restart.
import { appendFileSync, existsSync, mkdirSync, statSync, truncateSync } from 'node:fs';
import { readJournal, type TornTail } from '../files/journal-file.ts';
import { watchlistBucketKey } from '../redis/keys.ts';
import { JournalUnavailable } from '../store-unavailable.ts';
import { dirname } from 'node:path';
import type { HitRecord } from '../../core/velocity.ts';
import {
  decodeEntry,
  encodeEntry,
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
  countsInEventStatistics,
  hitBefore,
  hitMatches,
  issuerView,
  listedAgain,
  withoutEvents,
} from '../../core/watchlist.ts';

type JournalRecord =
  | { t: 'event'; event: CompromiseEvent }
  // A card's bucket key, field (hex) and expiry tag, and 1 when it is known (CardToList): journaled so, replayed the same.
  | {
      t: 'add';
      seq: number;
      mask: number;
      now: number;
      cards: ([string, string, number] | [string, string, number, 1])[];
    }
  | { t: 'remove'; slots: [string, string][]; events?: number[] }
  | { t: 'ranges'; issuerId: string; ranges: BinRange[] }
  | { t: 'hit'; hit: HitRecord; recordedAt: number };

interface Stats {
  listed: number;
  removed: number;
  hits: number;
  lastHit: number;
  merchants: Set<string>;
}

const RECORD_TYPES: ReadonlySet<unknown> = new Set<JournalRecord['t']>(['event', 'add', 'remove', 'ranges', 'hit']);

// Entries by their Redis names (bucket key / field): the journal of earlier versions holds them so.
const slotKey = (bucket: string, fieldHex: string) => `${bucket}/${fieldHex}`;

export class MemoryWatchlistStore implements WatchlistStore {
  private readonly entries = new Map<string, Buffer>();
  private readonly events = new Map<number, CompromiseEvent>();
  private readonly stats = new Map<number, Stats>();
  private readonly ranges = new Map<string, BinRange[]>();
  /** Per issuer, oldest first; positions as a Redis stream numbers its entries (time, then rank in the millisecond). */
  private readonly hits = new Map<string, { recordedAt: number; hit: HitRecord; pos: HitPosition }[]>();
  private readonly journal: string | undefined;
  private replaying = false;

  /** The incomplete last line dropped from the journal at start (a write cut short by a crash): to be logged. */
  readonly torn: TornTail | undefined;

  /**
   * Throws JournalCorrupt when the journal cannot be read whole (a line in the middle that is not a
   * record): the store does not start on part of its state. A torn last line is dropped (`torn`).
   */
  constructor(journalPath?: string) {
    this.journal = journalPath;
    if (journalPath && existsSync(journalPath)) {
      this.replaying = true;
      this.torn = readJournal(journalPath, (value) => {
        const t = (value as { t?: unknown } | null)?.t;
        if (typeof value !== 'object' || value === null || !RECORD_TYPES.has(t))
          return 'not a watchlist journal record';
        try {
          this.apply(value as JournalRecord);
          return undefined;
        } catch {
          return `a "${String(t)}" record that does not hold what one holds`;
        }
      });
      this.replaying = false;
    }
  }

  /**
   * A record appended to the journal, before the change is made in memory: a change the journal
   * did not take (its disk full) is not made at all, so that a retry makes it, and journals it,
   * rather than finding it made and journaling nothing (lost at the next start). Throws
   * JournalUnavailable (answered 503, Retry-After) when the journal cannot be written.
   */
  private write(record: JournalRecord): void {
    if (!this.journal || this.replaying) return;
    let size: number | undefined;
    try {
      mkdirSync(dirname(this.journal), { recursive: true, mode: 0o700 });
      size = existsSync(this.journal) ? statSync(this.journal).size : 0;
      appendFileSync(this.journal, `${JSON.stringify(record)}\n`, { mode: 0o600 });
    } catch (error) {
      // Part of the line may have been written before the disk filled: cut off, or the next record
      // would continue it and the journal could not be read at the next start.
      if (size !== undefined)
        try {
          if (statSync(this.journal).size > size) truncateSync(this.journal, size);
        } catch {
          // Nothing more to do here: the journal is not writable.
        }
      throw new JournalUnavailable(error);
    }
  }

  private statsOf(seq: number): Stats {
    let s = this.stats.get(seq);
    if (!s) this.stats.set(seq, (s = { listed: 0, removed: 0, hits: 0, lastHit: 0, merchants: new Set() }));
    return s;
  }

  private apply(r: JournalRecord): AddStatus[] | number | void {
    switch (r.t) {
      case 'event':
        this.events.set(r.event.seq, r.event);
        return;
      case 'ranges':
        this.ranges.set(r.issuerId, r.ranges);
        return;
      case 'add': {
        const out: AddStatus[] = [];
        for (const [bucket, fieldHex, tag, known] of r.cards) {
          const key = slotKey(bucket, fieldHex);
          const old = this.entries.get(key);
          const entry = old ? decodeEntry(old) : null;
          if (!entry) {
            this.entries.set(
              key,
              encodeEntry({ elements: r.mask, firstListedAt: r.now, eventSeqs: [r.seq], eventTags: [tag] }),
            );
            out.push(known ? 'duplicate' : 'new');
          } else {
            const again = listedAgain(entry, r.seq, r.mask, tag);
            const encoded = encodeEntry(again.entry);
            if (!encoded.equals(old!)) this.entries.set(key, encoded);
            out.push(known ? 'duplicate' : again.status);
          }
        }
        this.statsOf(r.seq).listed += out.filter((s) => s !== 'duplicate').length;
        return out;
      }
      case 'remove': {
        let removed = 0;
        const only = r.events === undefined ? undefined : new Set(r.events);
        for (const [bucket, fieldHex] of r.slots) {
          const key = slotKey(bucket, fieldHex);
          const entry = this.entries.has(key) ? decodeEntry(this.entries.get(key)!) : null;
          if (!entry) continue;
          const { entry: left, taken } = withoutEvents(entry, only);
          if (taken.length === 0) continue;
          if (left) this.entries.set(key, encodeEntry(left));
          else this.entries.delete(key);
          removed++;
          for (const seq of taken) this.statsOf(seq).removed++;
        }
        return removed;
      }
      case 'hit': {
        for (const issuer of r.hit.issuerIds) {
          let list = this.hits.get(issuer);
          if (!list) this.hits.set(issuer, (list = []));
          const last = list.at(-1)?.pos;
          const pos =
            last && last.ms >= r.recordedAt ? { ms: last.ms, seq: last.seq + 1 } : { ms: r.recordedAt, seq: 0 };
          list.push({ recordedAt: r.recordedAt, hit: r.hit, pos });
        }
        for (const seq of r.hit.eventSeqs) {
          // Only the hits the event's issuer is shown (as the engine decided; a hit without that, by
          // the issuer's BIN ranges as they are when the hit is recorded).
          const issuerId = this.events.get(seq)?.issuerId;
          if (issuerId === undefined || !countsInEventStatistics(issuerId, r.hit, this.ranges.get(issuerId) ?? []))
            continue;
          const s = this.statsOf(seq);
          s.hits++;
          s.merchants.add(r.hit.merchantId);
          s.lastHit = Math.max(s.lastHit, r.recordedAt);
        }
        return;
      }
    }
  }

  /** Journaled first, then made: nothing changes in memory that the journal did not take. */
  private commit<T>(record: JournalRecord): T {
    this.write(record);
    return this.apply(record) as T;
  }

  /** The packed entry of a slot: used by the memory velocity store inside its single step. */
  lookup(slot: EntrySlot): Buffer | null {
    return this.entries.get(slotKey(watchlistBucketKey(slot.bucket), slot.field.toString('hex'))) ?? null;
  }

  recordHit(hit: HitRecord, recordedAt: number): void {
    this.commit({ t: 'hit', hit, recordedAt });
  }

  async createEvent(
    input: Omit<CompromiseEventInput, 'issuerId'>,
    issuerId: string,
    now: Date,
  ): Promise<{ event: CompromiseEvent; created: boolean }> {
    const existing = [...this.events.values()].find(
      (e) => e.issuerId === issuerId && e.externalId === input.externalId,
    );
    if (existing) return { event: existing, created: false };
    const seq = this.events.size + 1;
    const event: CompromiseEvent = {
      ...input,
      id: eventIdOf(seq),
      seq,
      issuerId,
      status: 'open',
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    };
    this.commit({ t: 'event', event });
    return { event, created: true };
  }

  async getEvent(seq: number): Promise<CompromiseEvent | undefined> {
    return this.events.get(seq);
  }

  async listEvents(issuerId?: string): Promise<CompromiseEvent[]> {
    return [...this.events.values()]
      .filter((e) => issuerId === undefined || e.issuerId === issuerId)
      .sort((a, b) => a.seq - b.seq);
  }

  async pageEvents(query: EventQuery): Promise<Page<CompromiseEvent, number>> {
    const events = (await this.listEvents(query.issuerId)).filter(
      (e) => (query.after === undefined || e.seq > query.after) && matchesEventQuery(e, query),
    );
    const items = events.slice(0, query.limit);
    const hasMore = events.length > query.limit;
    return { items, hasMore, next: hasMore ? (items.at(-1)?.seq ?? null) : null };
  }

  async updateEvent(seq: number, change: EventChange, now: Date): Promise<CompromiseEvent | undefined> {
    const event = this.events.get(seq);
    if (!event) return undefined;
    // Read, changed and written in one turn of the event loop: atomic.
    const updated = { ...event, ...patchFor(change, event), updatedAt: now.toISOString() };
    this.commit({ t: 'event', event: updated });
    return updated;
  }

  async eventStatistics(seq: number): Promise<EventStatistics> {
    const s = this.statsOf(seq);
    return {
      cardsListed: s.listed,
      cardsRemoved: s.removed,
      hits: s.hits,
      distinctMerchants: s.merchants.size,
      lastHitAt: s.lastHit ? new Date(s.lastHit).toISOString() : null,
    };
  }

  async addCards(eventSeq: number, elementMask: number, cards: CardToList[], nowSeconds: number): Promise<AddStatus[]> {
    if (cards.length === 0) return [];
    const record: JournalRecord & { t: 'add' } = {
      t: 'add',
      seq: eventSeq,
      mask: elementMask,
      now: nowSeconds,
      cards: cards.map((c) => {
        const card: [string, string, number] = [
          watchlistBucketKey(c.slot.bucket),
          c.slot.field.toString('hex'),
          c.expiryTag,
        ];
        return c.known ? [...card, 1] : card;
      }),
    };
    const before = record.cards.map(([bucket, field]) => this.entries.get(slotKey(bucket, field)));
    const statsBefore = this.stats.get(eventSeq);
    const listedBefore = statsBefore?.listed;
    const statuses = this.apply(record) as AddStatus[];
    // Only the cards whose entry changed are journaled: replayed on the state before, they make the
    // same one. A list uploaded again (as the upload's retries are) adds nothing to the journal.
    const changed = record.cards.filter(([bucket, field], i) => this.entries.get(slotKey(bucket, field)) !== before[i]);
    try {
      if (changed.length > 0) this.write({ ...record, cards: changed });
    } catch (error) {
      // Not journaled: undone (in the same turn of the event loop, so nothing saw it), so that the
      // list sent again lists these cards and journals them, rather than finding them duplicates.
      record.cards.forEach(([bucket, field], i) => {
        const old = before[i];
        if (old) this.entries.set(slotKey(bucket, field), old);
        else this.entries.delete(slotKey(bucket, field));
      });
      if (statsBefore) statsBefore.listed = listedBefore!;
      else this.stats.delete(eventSeq);
      throw error;
    }
    return statuses;
  }

  async getEntries(slots: EntrySlot[]): Promise<(Buffer | null)[]> {
    return slots.map((s) => this.lookup(s));
  }

  async removeCards(slots: EntrySlot[], onlyEvents?: readonly number[]): Promise<number> {
    if (slots.length === 0 || onlyEvents?.length === 0) return 0;
    return this.commit<number>({
      t: 'remove',
      slots: slots.map((s) => [watchlistBucketKey(s.bucket), s.field.toString('hex')]),
      ...(onlyEvents === undefined ? {} : { events: [...onlyEvents] }),
    });
  }

  async getBinRanges(issuerId: string): Promise<BinRange[]> {
    return this.ranges.get(issuerId) ?? [];
  }

  async setBinRanges(issuerId: string, ranges: BinRange[]): Promise<BinRangeConflict | undefined> {
    const conflict = firstBinRangeConflict(issuerId, ranges, this.ranges);
    if (conflict === undefined) this.commit({ t: 'ranges', issuerId, ranges });
    return conflict;
  }

  async allBinRanges(): Promise<Map<string, BinRange[]>> {
    return new Map(this.ranges);
  }

  async listHits(issuerId: string, query: HitQuery): Promise<StoredHit[]> {
    return (await this.pageHits(issuerId, query)).items;
  }

  async pageHits(issuerId: string, query: HitQuery): Promise<Page<StoredHit, HitPosition>> {
    const list = this.hits.get(issuerId) ?? [];
    const budget = query.scanBudget ?? HIT_SCAN_BUDGET;
    const items: StoredHit[] = [];
    let lastItem: HitPosition | null = null;
    let lastScanned: HitPosition | null = null;
    let scanned = 0;
    for (let i = list.length - 1; i >= 0; i--) {
      const { pos, hit } = list[i]!;
      if (query.after && !hitBefore(query.after, pos)) continue;
      // Positions are the times the hits were recorded: the same bounds as the Redis stream's.
      if (query.to !== undefined && pos.ms > query.to) continue;
      if (query.from !== undefined && pos.ms < query.from) break;
      if (scanned === budget) return { items, hasMore: true, next: lastScanned };
      scanned++;
      lastScanned = pos;
      if (!hitMatches(hit, query, issuerId)) continue;
      if (items.length === query.limit) return { items, hasMore: true, next: lastItem };
      items.push(issuerView(hit, new Date(pos.ms).toISOString()));
      lastItem = pos;
    }
    return { items, hasMore: false, next: null };
  }

  async eventViews(): Promise<Map<number, EventView>> {
    return new Map([...this.events.values()].map((e) => [e.seq, eventView(e)]));
  }

  async close(): Promise<void> {}
}
