import { describe, expect, it } from 'vitest';
import { MemoryWatchlistStore } from '../../services/adapters/memory/watchlist-store.ts';
import type { EventView } from '../../services/core/watchlist.ts';
import { WatchlistRegistry } from '../../services/watchlist-registry.ts';

const EVENT = {
  externalId: 'e',
  source: 's',
  description: '',
  exposureStart: '2026-01-01T00:00:00Z',
  exposureEnd: '2026-02-01T00:00:00Z',
  discoveredAt: '2026-03-01T00:00:00Z',
  dataElements: ['pan' as const],
  confidence: 'confirmed' as const,
};

describe('watchlist registry', () => {
  it('never loses a local change to a refresh that read the store before it', async () => {
    const store = new MemoryWatchlistStore();
    let release!: (v: Map<number, EventView>) => void;
    const slowStore = Object.assign(Object.create(store), {
      eventViews: () => new Promise<Map<number, EventView>>((r) => (release = r)),
    });
    const registry = new WatchlistRegistry(slowStore);
    const refreshing = registry.refresh(); // reads an empty store...
    const { event } = await store.createEvent(EVENT, 'i1', new Date());
    registry.changed(event); // ...while an event is created here
    release(new Map());
    await refreshing;
    expect(registry.events.get(event.seq)?.status).toBe('open');
  });

  it("takes issuers' BIN ranges set on another engine at its refresh, and its own at once", async () => {
    const store = new MemoryWatchlistStore();
    const registry = new WatchlistRegistry(store);
    await store.setBinRanges('i1', [{ from: '55555555', to: '55555555' }]); // through another engine
    await store.setBinRanges('i2', [{ from: '55555500', to: '55555554' }]);
    // Not read yet: unknown, not empty (a hit recorded now is left to the 6-digit check), even with
    // one issuer's ranges set here (as PUT /v1/issuers/{id}/bin-ranges does: the store, then the registry).
    await store.setBinRanges('i3', [{ from: '411111', to: '411111' }]);
    registry.rangesChanged('i3', [{ from: '411111', to: '411111' }]);
    expect(registry.binRanges).toBeUndefined();
    await registry.refresh();
    expect(registry.binRanges?.get('i1')).toEqual([{ from: '55555555', to: '55555555' }]);
    expect(registry.binRanges?.get('i3')).toEqual([{ from: '411111', to: '411111' }]);
    await store.setBinRanges('i2', []);
    registry.rangesChanged('i2', []);
    expect(registry.binRanges?.get('i2')).toEqual([]);

    // Set here while a refresh reads the store as it was: the refresh does not undo it.
    let release: (() => void) | undefined;
    let reads = 0;
    const slowStore = Object.assign(Object.create(store), {
      allBinRanges: async () => {
        const before = await store.allBinRanges();
        if (++reads === 2) await new Promise<void>((r) => (release = r));
        return before;
      },
    });
    const slow = new WatchlistRegistry(slowStore);
    await slow.refresh();
    const refreshing = slow.refresh();
    while (!release) await new Promise((r) => setTimeout(r, 1));
    const ranges = [{ from: '55555556', to: '55555559' }];
    await store.setBinRanges('i1', ranges);
    slow.rangesChanged('i1', ranges);
    expect(slow.binRanges?.get('i1')).toEqual(ranges);
    release();
    await refreshing;
    expect(slow.binRanges?.get('i1')).toEqual(ranges);
  });
});
