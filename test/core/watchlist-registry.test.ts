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
});
