// The engine's view of compromise events (status, exposure, what leaked) and of issuers' BIN ranges
// (who is shown a hit: decided at scoring, with the card's full number): small maps, kept in process
// so that scoring never waits for them; refreshed from the store every few seconds so that other
// instances' changes (a retraction, new ranges) arrive, and updated at once for this instance's own.
import type { BinRange, CompromiseEvent, EventView, WatchlistStore } from './core/watchlist.ts';
import { eventView } from './core/watchlist.ts';

export class WatchlistRegistry {
  private views = new Map<number, EventView>();
  /** Undefined until first read: a hit recorded meanwhile is left to the 6-digit check (shownToIssuer). */
  private ranges: Map<string, readonly BinRange[]> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly store: WatchlistStore;

  constructor(store: WatchlistStore) {
    this.store = store;
  }

  get events(): ReadonlyMap<number, EventView> {
    return this.views;
  }

  /** Each issuer's BIN ranges, as this engine knows them; undefined until they were read once. */
  get binRanges(): ReadonlyMap<string, readonly BinRange[]> | undefined {
    return this.ranges;
  }

  private generation = 0;
  private readonly localChanges = new Map<number, { view: EventView; generation: number }>();
  private readonly localRanges = new Map<string, { ranges: readonly BinRange[]; generation: number }>();

  async refresh(): Promise<void> {
    const startedAt = this.generation;
    // The events first: ranges set before an event was made are read with it (its hits need them).
    const fresh = await this.store.eventViews();
    const freshRanges = await this.store.allBinRanges();
    // A change made here while the store was being read is newer than what the read returned.
    for (const [seq, change] of this.localChanges) {
      if (change.generation > startedAt) fresh.set(seq, change.view);
      else this.localChanges.delete(seq);
    }
    const ranges = new Map<string, readonly BinRange[]>(freshRanges);
    for (const [issuerId, change] of this.localRanges) {
      if (change.generation > startedAt) ranges.set(issuerId, change.ranges);
      else this.localRanges.delete(issuerId);
    }
    this.views = fresh;
    this.ranges = ranges;
  }

  changed(event: CompromiseEvent): void {
    const view = eventView(event);
    this.localChanges.set(event.seq, { view, generation: ++this.generation });
    const next = new Map(this.views);
    next.set(event.seq, view);
    this.views = next;
  }

  /** An issuer's ranges set here: the hits this engine records from now on are decided by them. */
  rangesChanged(issuerId: string, ranges: readonly BinRange[]): void {
    this.localRanges.set(issuerId, { ranges, generation: ++this.generation });
    // Before the first read, one issuer's ranges alone would hide every other issuer's hits.
    if (!this.ranges) return;
    const next = new Map(this.ranges);
    next.set(issuerId, ranges);
    this.ranges = next;
  }

  start(intervalMs: number, onError: (error: unknown) => void): void {
    this.timer = setInterval(() => void this.refresh().catch(onError), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
