// The engine's view of compromise events (status, exposure, what leaked): a small map, kept in
// process so that scoring never waits for it; refreshed from the store every few seconds so that
// other instances' changes (a retraction) arrive, and updated at once for this instance's own.
import type { CompromiseEvent, EventView, WatchlistStore } from './core/watchlist.ts';
import { eventView } from './core/watchlist.ts';

export class WatchlistRegistry {
  private views = new Map<number, EventView>();
  private timer: NodeJS.Timeout | undefined;
  private readonly store: WatchlistStore;

  constructor(store: WatchlistStore) {
    this.store = store;
  }

  get events(): ReadonlyMap<number, EventView> {
    return this.views;
  }

  private generation = 0;
  private readonly localChanges = new Map<number, { view: EventView; generation: number }>();

  async refresh(): Promise<void> {
    const startedAt = this.generation;
    const fresh = await this.store.eventViews();
    // A change made here while the store was being read is newer than what the read returned.
    for (const [seq, change] of this.localChanges) {
      if (change.generation > startedAt) fresh.set(seq, change.view);
      else this.localChanges.delete(seq);
    }
    this.views = fresh;
  }

  changed(event: CompromiseEvent): void {
    const view = eventView(event);
    this.localChanges.set(event.seq, { view, generation: ++this.generation });
    const next = new Map(this.views);
    next.set(event.seq, view);
    this.views = next;
  }

  start(intervalMs: number, onError: (error: unknown) => void): void {
    this.timer = setInterval(() => void this.refresh().catch(onError), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
