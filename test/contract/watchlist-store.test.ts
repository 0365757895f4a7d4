// The watchlist contract, held against every store (memory, a real Redis, a real Redis Cluster), including the
// lookup and hit recording that happen in the velocity store's single round trip.
import { mkdtempSync, renameSync, symlinkSync, unlinkSync } from 'node:fs';
import { REDIS_KEYS } from '../../services/adapters/redis/keys.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryVelocityStore } from '../../services/adapters/memory/velocity-store.ts';
import { MemoryWatchlistStore } from '../../services/adapters/memory/watchlist-store.ts';
import { RedisVelocityStore } from '../../services/adapters/redis/velocity-store.ts';
import { connectRedis, whenReady } from '../../services/adapters/redis/connection.ts';
import { RedisWatchlistStore } from '../../services/adapters/redis/watchlist-store.ts';
import { JournalUnavailable, unavailableStore } from '../../services/adapters/store-unavailable.ts';
import { fingerprintWith } from '../../services/core/card.ts';
import { buildCounterPlan, type HitRecord, type VelocityStore } from '../../services/core/velocity.ts';
import {
  decodeEntry,
  elementMask,
  entrySlot,
  EventConflict,
  liveExpiryTag,
  SEVERAL_EXPIRIES,
  type HitPosition,
  type HitQuery,
  type WatchlistStore,
} from '../../services/core/watchlist.ts';
import { RedisCluster } from '../support/redis-cluster.ts';
import { RedisServer } from '../support/redis-server.ts';
import { FIXTURE_CARD_KEY, FIXTURE_EVENT, FIXTURE_NOW } from '../support/watchlist-fixtures.ts';

const KEY = FIXTURE_CARD_KEY;
const slotOf = (pan: string) => entrySlot(fingerprintWith(KEY, pan));
const NOW = FIXTURE_NOW;
const EVENT = FIXTURE_EVENT;

let redisServer: RedisServer;
let cluster: RedisCluster;
beforeAll(async () => {
  [redisServer, cluster] = await Promise.all([RedisServer.start(), RedisCluster.start()]);
});
afterAll(() => Promise.all([redisServer.stop(), cluster.stop()]));

interface Pair {
  watchlist: WatchlistStore;
  velocity: VelocityStore;
}
const subjects: { name: string; open(): Promise<Pair> }[] = [
  {
    name: 'memory',
    open: async () => {
      const watchlist = new MemoryWatchlistStore();
      return { watchlist, velocity: new MemoryVelocityStore({ watchlist }) };
    },
  },
  {
    name: 'redis',
    open: async () => {
      const redis = await whenReady(connectRedis(redisServer.url));
      await redis.flushall();
      return { watchlist: new RedisWatchlistStore(redis), velocity: new RedisVelocityStore(redis) };
    },
  },
  {
    name: 'redis cluster',
    open: async () => {
      await cluster.flushAll();
      const redis = await whenReady(connectRedis({ clusterNodes: cluster.seeds }));
      return { watchlist: new RedisWatchlistStore(redis), velocity: new RedisVelocityStore(redis) };
    },
  },
];

describe.each(subjects)('watchlist store contract: $name', (subject) => {
  let s: Pair;
  beforeEach(async () => {
    s = await subject.open();
    return () => s.velocity.close();
  });

  it('creates one event of many created at once with one external id (two scans naming one merchant): each finds it', async () => {
    const all = await Promise.all(
      Array.from({ length: 10 }, () =>
        s.watchlist.createEvent({ ...EVENT, externalId: 'cpp:shop-1' }, 'leakguard', new Date()),
      ),
    );
    expect(all.filter((r) => r.created)).toHaveLength(1);
    const made = all.find((r) => r.created)!.event;
    for (const r of all) expect(r.event).toEqual(made);
    expect((await s.watchlist.listEvents('leakguard')).map((e) => e.id)).toEqual([made.id]);
  });

  it('creates events idempotently per issuer and external id, lists them per issuer', async () => {
    const a = await s.watchlist.createEvent(EVENT, 'bank-a', new Date('2026-09-01T00:00:00Z'));
    expect(a.created).toBe(true);
    expect(a.event).toMatchObject({ id: 'ce_1', seq: 1, issuerId: 'bank-a', status: 'open', externalId: 'breach-1' });
    const again = await s.watchlist.createEvent(EVENT, 'bank-a', new Date());
    expect(again).toEqual({ event: a.event, created: false });
    const b = await s.watchlist.createEvent(EVENT, 'bank-b', new Date());
    expect(b.event.id).toBe('ce_2');
    expect((await s.watchlist.listEvents('bank-a')).map((e) => e.id)).toEqual(['ce_1']);
    expect((await s.watchlist.listEvents()).map((e) => e.id)).toEqual(['ce_1', 'ce_2']);
    const retracted = await s.watchlist.updateEvent(1, { status: 'retracted' }, new Date());
    expect(retracted?.status).toBe('retracted');
    expect((await s.watchlist.eventViews()).get(1)).toMatchObject({
      status: 'retracted',
      issuerId: 'bank-a',
      confirmed: true,
    });
    expect(await s.watchlist.getEvent(99)).toBeUndefined();
  });

  it('applies changes made from the event as it stands atomically: of ten at once that each allow one review, one lands', async () => {
    await s.watchlist.createEvent(EVENT, 'bank-a', new Date());
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        s.watchlist.updateEvent(
          1,
          (current) => {
            if (current.status !== 'open') throw new EventConflict('closed already');
            return { status: 'closed', confidence: i % 2 ? 'suspected' : 'confirmed' };
          },
          new Date(),
        ),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(refused).toHaveLength(9);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(EventConflict);
    // A plain patch and a change from the current event, one after the other, both kept.
    await s.watchlist.updateEvent(1, { status: 'retracted' }, new Date());
    const last = await s.watchlist.updateEvent(1, (current) => ({ status: current.status }), new Date());
    expect(last).toMatchObject({
      status: 'retracted',
      confidence: outcomes.findIndex((o) => o.status === 'fulfilled') % 2 ? 'suspected' : 'confirmed',
    });
  });

  it('lists cards compactly: new, added to another event, duplicate; merges what leaked', async () => {
    await s.watchlist.createEvent(EVENT, 'bank-a', new Date());
    await s.watchlist.createEvent(
      { ...EVENT, externalId: 'breach-2', dataElements: ['pan', 'name'] },
      'bank-a',
      new Date(),
    );
    const cards = ['4111111111111111', '5555555555554444'].map((pan) => ({ slot: slotOf(pan), expiryTag: 0 }));
    expect(await s.watchlist.addCards(1, elementMask(['pan', 'cvv']), cards, NOW)).toEqual(['new', 'new']);
    expect(await s.watchlist.addCards(1, elementMask(['pan', 'cvv']), cards, NOW + 5)).toEqual([
      'duplicate',
      'duplicate',
    ]);
    expect(
      await s.watchlist.addCards(
        2,
        elementMask(['pan', 'name']),
        [{ slot: slotOf('4111111111111111'), expiryTag: 777 }],
        NOW + 9,
      ),
    ).toEqual(['added']);
    const [entry] = await s.watchlist.getEntries([slotOf('4111111111111111')]);
    expect(decodeEntry(entry!)).toEqual({
      elements: elementMask(['pan', 'cvv', 'name']),
      firstListedAt: NOW,
      eventSeqs: [1, 2],
      eventTags: [0, 777],
    });
    expect((await s.watchlist.eventStatistics(1)).cardsListed).toBe(2);
    expect((await s.watchlist.eventStatistics(2)).cardsListed).toBe(1);
    // One event: 8 bytes + 4; each further event 4 more and its own expiry tag (2).
    expect(entry!.length).toBe(12 + 6);
  });

  it('lists a known card (the event listed it under the previous key) as a duplicate, out of the listed count', async () => {
    await s.watchlist.createEvent(EVENT, 'bank-a', new Date());
    await s.watchlist.createEvent({ ...EVENT, externalId: 'breach-2' }, 'bank-a', new Date());
    // Enough cards to spread over buckets (and a cluster's nodes): every other one known.
    const cards = Array.from({ length: 300 }, (_, i) => ({
      slot: entrySlot(fingerprintWith(KEY, `pan-${i}`)),
      expiryTag: 7,
      known: i % 2 === 0,
    }));
    expect(await s.watchlist.addCards(1, 1, cards, NOW)).toEqual(cards.map((c) => (c.known ? 'duplicate' : 'new')));
    expect((await s.watchlist.eventStatistics(1)).cardsListed).toBe(150);
    // Listed under this key all the same: the rotation carries them over.
    for (const entry of await s.watchlist.getEntries(cards.map((c) => c.slot)))
      expect(decodeEntry(entry!)).toEqual({ elements: 1, firstListedAt: NOW, eventSeqs: [1], eventTags: [7] });
    // Known in another event's upload: added to its entry, reported as that event's duplicate.
    expect(await s.watchlist.addCards(2, 2, [{ ...cards[1]!, known: true }], NOW + 1)).toEqual(['duplicate']);
    expect(decodeEntry((await s.watchlist.getEntries([cards[1]!.slot]))[0]!)?.eventSeqs).toEqual([1, 2]);
    expect((await s.watchlist.eventStatistics(2)).cardsListed).toBe(0);
    // Again without the flag: what the entry says.
    expect(
      await s.watchlist.addCards(
        1,
        1,
        cards.slice(0, 2).map(({ known: _, ...c }) => c),
        NOW + 2,
      ),
    ).toEqual(['duplicate', 'duplicate']);
    expect((await s.watchlist.eventStatistics(1)).cardsListed).toBe(150);
  });

  it('meets a card listed twice in one batch in order, and keeps every leaked expiry of a card sent again', async () => {
    await s.watchlist.createEvent(EVENT, 'bank-a', new Date());
    const card = (pan: string, expiryTag: number) => ({ slot: slotOf(pan), expiryTag });
    const batch = [card('4111111111111111', 0), card('5555555555554444', 9), card('4111111111111111', 0)];
    expect(await s.watchlist.addCards(1, 1, batch, NOW)).toEqual(['new', 'new', 'duplicate']);
    expect((await s.watchlist.eventStatistics(1)).cardsListed).toBe(2);
    // Sent again with an expiry: still a duplicate, the expiry tag is kept; without one, it is not erased.
    expect(await s.watchlist.addCards(1, 1, [card('4111111111111111', 321)], NOW + 1)).toEqual(['duplicate']);
    expect(await s.watchlist.addCards(1, 1, [card('4111111111111111', 0)], NOW + 2)).toEqual(['duplicate']);
    const [first, second] = await s.watchlist.getEntries([slotOf('4111111111111111'), slotOf('5555555555554444')]);
    expect(decodeEntry(first!)).toEqual({ elements: 1, firstListedAt: NOW, eventSeqs: [1], eventTags: [321] });
    expect(decodeEntry(second!)).toEqual({ elements: 1, firstListedAt: NOW, eventSeqs: [1], eventTags: [9] });
    expect(first!.length).toBe(12);
    // Another expiry for a listed card, in this event or another: either may be what leaked ("several").
    expect(await s.watchlist.addCards(1, 1, [card('5555555555554444', 10)], NOW + 3)).toEqual(['duplicate']);
    await s.watchlist.createEvent({ ...EVENT, externalId: 'breach-2' }, 'bank-a', new Date());
    expect(await s.watchlist.addCards(2, 1, [card('4111111111111111', 322)], NOW + 4)).toEqual(['added']);
    const [again, other] = await s.watchlist.getEntries([slotOf('4111111111111111'), slotOf('5555555555554444')]);
    // Each event keeps its own: several across them, merged at lookup (liveExpiryTag).
    expect(decodeEntry(again!)).toMatchObject({ eventTags: [321, 322], eventSeqs: [1, 2] });
    expect(liveExpiryTag(decodeEntry(again!)!, new Set([1, 2]))).toBe(SEVERAL_EXPIRIES);
    expect(decodeEntry(other!)).toMatchObject({ eventTags: [SEVERAL_EXPIRIES] });
    // Listed again with one of them, or none: still several.
    expect(await s.watchlist.addCards(1, 1, [card('4111111111111111', 321)], NOW + 5)).toEqual(['duplicate']);
    expect(decodeEntry((await s.watchlist.getEntries([slotOf('4111111111111111')]))[0]!)?.eventTags).toEqual([
      321, 322,
    ]);
    expect(await s.watchlist.addCards(2, 1, [card('4111111111111111', 0)], NOW + 6)).toEqual(['duplicate']);
    expect(await s.watchlist.addCards(2, 1, [card('4111111111111111', 323)], NOW + 7)).toEqual(['duplicate']);
    expect(decodeEntry((await s.watchlist.getEntries([slotOf('4111111111111111')]))[0]!)?.eventTags).toEqual([
      321,
      SEVERAL_EXPIRIES,
    ]);
  });

  it("keeps each event's expiry apart, a single event's entry as small as before: a retracted event's no longer decides", async () => {
    for (const id of ['wrong', 'right', 'third'])
      await s.watchlist.createEvent({ ...EVENT, externalId: id }, 'bank-a', new Date());
    const slot = slotOf('4111111111111111');
    expect(await s.watchlist.addCards(1, 1, [{ slot, expiryTag: 5 }], NOW)).toEqual(['new']);
    expect((await s.watchlist.getEntries([slot]))[0]!.length).toBe(12);
    expect(await s.watchlist.addCards(2, 1, [{ slot, expiryTag: 0 }], NOW + 1)).toEqual(['added']);
    let entry = decodeEntry((await s.watchlist.getEntries([slot]))[0]!)!;
    expect(entry).toMatchObject({ eventSeqs: [1, 2], eventTags: [5, 0] });
    // Event 1 retracted: what event 2 says alone, no expiry.
    expect(liveExpiryTag(entry, new Set([2]))).toBe(0);
    expect(liveExpiryTag(entry, new Set([1, 2]))).toBe(5);
    expect(await s.watchlist.addCards(3, 1, [{ slot, expiryTag: 6 }], NOW + 2)).toEqual(['added']);
    entry = decodeEntry((await s.watchlist.getEntries([slot]))[0]!)!;
    expect(entry).toMatchObject({ eventSeqs: [1, 2, 3], eventTags: [5, 0, 6], firstListedAt: NOW });
    expect(liveExpiryTag(entry, new Set([2, 3]))).toBe(6);
    expect(liveExpiryTag(entry, new Set([1, 2, 3]))).toBe(SEVERAL_EXPIRIES);
    expect(await s.watchlist.removeCards([slot])).toBe(1);
    for (const seq of [1, 2, 3]) expect((await s.watchlist.eventStatistics(seq)).cardsRemoved).toBe(1);
  });

  it('removes cards from every event and counts the removals per event', async () => {
    await s.watchlist.createEvent(EVENT, 'bank-a', new Date());
    await s.watchlist.createEvent({ ...EVENT, externalId: 'breach-2' }, 'bank-a', new Date());
    const slot = slotOf('4111111111111111');
    await s.watchlist.addCards(1, 1, [{ slot, expiryTag: 0 }], NOW);
    await s.watchlist.addCards(2, 1, [{ slot, expiryTag: 0 }], NOW);
    expect(await s.watchlist.removeCards([slot, slotOf('5555555555554444')])).toBe(1);
    expect(await s.watchlist.getEntries([slot])).toEqual([null]);
    expect((await s.watchlist.eventStatistics(1)).cardsRemoved).toBe(1);
    expect((await s.watchlist.eventStatistics(2)).cardsRemoved).toBe(1);
  });

  it("takes cards off some events only: another event's listing stays with its expiry, an entry with no event left goes", async () => {
    for (const id of ['bank-a-1', 'bank-b-1', 'bank-a-2'])
      await s.watchlist.createEvent({ ...EVENT, externalId: id }, 'bank-a', new Date());
    const [shared, alone] = [slotOf('4111111111111111'), slotOf('5555555555554444')];
    await s.watchlist.addCards(
      1,
      1,
      [
        { slot: shared, expiryTag: 11 },
        { slot: alone, expiryTag: 0 },
      ],
      NOW,
    );
    await s.watchlist.addCards(2, 1, [{ slot: shared, expiryTag: 22 }], NOW + 1);
    await s.watchlist.addCards(
      3,
      1,
      [
        { slot: shared, expiryTag: 33 },
        { slot: alone, expiryTag: 0 },
      ],
      NOW + 2,
    );
    // Events 1 and 3 (one issuer's): the shared card keeps event 2, the other card goes.
    expect(await s.watchlist.removeCards([shared, alone, slotOf('4012888888881881')], [1, 3])).toBe(2);
    const [left, gone] = await s.watchlist.getEntries([shared, alone]);
    expect(gone).toBeNull();
    expect(decodeEntry(left!)).toMatchObject({ eventSeqs: [2], eventTags: [22], firstListedAt: NOW });
    expect(left!.length).toBe(12);
    expect((await s.watchlist.eventStatistics(1)).cardsRemoved).toBe(2);
    expect((await s.watchlist.eventStatistics(2)).cardsRemoved).toBe(0);
    expect((await s.watchlist.eventStatistics(3)).cardsRemoved).toBe(2);
    // Off an event that does not list it: nothing taken, nothing counted.
    expect(await s.watchlist.removeCards([shared], [1])).toBe(0);
    expect(await s.watchlist.removeCards([shared], [])).toBe(0);
    expect(await s.watchlist.removeCards([shared], [2])).toBe(1);
    expect(await s.watchlist.getEntries([shared])).toEqual([null]);
    expect((await s.watchlist.eventStatistics(2)).cardsRemoved).toBe(1);
  });

  it('keeps BIN ranges per issuer', async () => {
    expect(await s.watchlist.getBinRanges('bank-a')).toEqual([]);
    await s.watchlist.setBinRanges('bank-a', [{ from: '411111', to: '411199' }]);
    expect(await s.watchlist.getBinRanges('bank-a')).toEqual([{ from: '411111', to: '411199' }]);
  });

  it("refuses an issuer's range that shares BINs with another issuer's, and changes nothing", async () => {
    expect(await s.watchlist.setBinRanges('bank-a', [{ from: '411111', to: '411199' }])).toBeUndefined();
    // 41119950 is under 411199 (a 6-digit range covers each 8-digit one under it).
    const ranges = [
      { from: '401288', to: '401288' },
      { from: '41119950', to: '41119999' },
    ];
    expect(await s.watchlist.setBinRanges('bank-b', ranges)).toEqual({
      index: 1,
      otherIssuerId: 'bank-a',
      otherRange: { from: '411111', to: '411199' },
    });
    expect(await s.watchlist.getBinRanges('bank-b')).toEqual([]);
    // Beside it, an issuer's own ranges may overlap each other, and the issuer may replace them.
    const own = [
      { from: '411111', to: '411150' },
      { from: '41115000', to: '41119999' },
    ];
    expect(await s.watchlist.setBinRanges('bank-a', own)).toBeUndefined();
    expect(await s.watchlist.setBinRanges('bank-b', [{ from: '411200', to: '411299' }])).toBeUndefined();
    expect(Object.fromEntries(await s.watchlist.allBinRanges())).toEqual({
      'bank-a': own,
      'bank-b': [{ from: '411200', to: '411299' }],
    });
  });

  it('lets only one of two issuers registering the same BINs at once have them', async () => {
    const results = await Promise.all(
      ['bank-a', 'bank-b', 'bank-c'].map((issuer) =>
        s.watchlist.setBinRanges(issuer, [{ from: '520000', to: '520099' }]),
      ),
    );
    expect(results.filter((r) => r === undefined)).toHaveLength(1);
    const owners = [...(await s.watchlist.allBinRanges())].filter(([, ranges]) => ranges.length > 0);
    expect(owners).toHaveLength(1);
    expect(results.filter((r) => r?.otherIssuerId === owners[0]![0])).toHaveLength(2);
  });

  it('finds a listed card in the scoring round trip and records its hit once per transaction', async () => {
    await s.watchlist.createEvent(EVENT, 'bank-a', new Date());
    await s.watchlist.setBinRanges('bank-a', [{ from: '411111', to: '411199' }]);
    const fp = fingerprintWith(KEY, '4111111111111111');
    await s.watchlist.addCards(1, elementMask(EVENT.dataElements), [{ slot: entrySlot(fp), expiryTag: 42 }], NOW);
    const facts = (id: string, at: number, more = {}) => ({
      merchantId: 'shop-1',
      transactionId: id,
      payloadHash: id,
      occurredAt: at,
      amountCents: 100,
      small: false,
      entities: { card: [fp], merchant: ['shop-1'], ...more },
      watchlist: [entrySlot(fp)],
    });
    const at = NOW * 1000 + 60_000;
    // The card's log keeps its distinct devices and addresses too: they are no uses.
    await s.velocity.recordAndRead(
      buildCounterPlan(facts('t0', at - 10_000, { device: ['dev-0'], shipping: ['addr-0'] }), REDIS_KEYS),
    );
    const plan = buildCounterPlan(facts('t1', at), REDIS_KEYS);
    const reading = await s.velocity.recordAndRead(plan);
    expect(reading.watchlist!.usesSinceListed).toBe(1);
    expect(decodeEntry(reading.watchlist!.entries[0]!)).toMatchObject({ eventTags: [42], eventSeqs: [1] });
    const hit: HitRecord = {
      at: new Date(at).toISOString(),
      merchantId: 'shop-1',
      transactionId: 't1',
      amount: 100,
      currency: 'EUR',
      decision: 'challenge',
      score: 55,
      card: '411111******1111',
      bin: '411111',
      eventIds: ['ce_1'],
      eventSeqs: [1],
      issuerIds: ['bank-a'],
    };
    await s.velocity.saveResponse(plan, '{}', hit);
    await s.velocity.saveResponse(plan, '{}', hit); // a redelivery: the hit counts once
    const hits = await s.watchlist.listHits('bank-a', { limit: 10 });
    expect(hits).toEqual([
      {
        at: hit.at,
        merchantId: 'shop-1',
        transactionId: 't1',
        amount: 100,
        currency: 'EUR',
        decision: 'challenge',
        score: 55,
        card: '411111******1111',
        bin: '411111',
        eventIds: ['ce_1'],
        // When it was recorded (the store's clock), which `from`, `to` and the cursor measure.
        recordedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    ]);
    expect(await s.watchlist.listHits('bank-a', { limit: 10, eventId: 'ce_9' })).toEqual([]);
    expect(await s.watchlist.listHits('bank-b', { limit: 10 })).toEqual([]);
    const stats = await s.watchlist.eventStatistics(1);
    expect(stats).toMatchObject({ hits: 1, distinctMerchants: 1 });
    expect(stats.lastHitAt).not.toBeNull();
    const unlisted = await s.velocity.recordAndRead(
      buildCounterPlan({ ...facts('t2', at), watchlist: [slotOf('5555555555554444')] }, REDIS_KEYS),
    );
    expect(unlisted.watchlist).toEqual({ entries: [null], usesSinceListed: 0 });
  });

  it("shows and counts a hit for the issuers the engine found the card's full number in the ranges of (shownTo), whatever its 6-digit BIN", async () => {
    // Two issuers under the 6-digit BIN 555555, each with an 8-digit range; both list the card.
    await s.watchlist.createEvent(EVENT, 'bank-a', new Date());
    await s.watchlist.createEvent(EVENT, 'bank-b', new Date());
    await s.watchlist.setBinRanges('bank-a', [{ from: '55555555', to: '55555555' }]);
    // bank-b's ranges hold other cards of the hit's 6-digit BIN: the engine's decision, not the BIN, says who is shown it.
    await s.watchlist.setBinRanges('bank-b', [{ from: '55555500', to: '55555554' }]);
    const at = NOW * 1000 + 60_000;
    const hit: HitRecord = {
      at: new Date(at).toISOString(),
      merchantId: 'shop-1',
      transactionId: 't-b8',
      amount: 100,
      currency: 'EUR',
      decision: 'challenge',
      score: 55,
      card: '555555******4444',
      bin: '555555',
      eventIds: ['ce_1', 'ce_2'],
      eventSeqs: [1, 2],
      issuerIds: ['bank-a', 'bank-b'],
      shownTo: ['bank-a'],
    };
    const fp = fingerprintWith(KEY, '5555555555554444');
    const plan = buildCounterPlan(
      {
        merchantId: 'shop-1',
        transactionId: 't-b8',
        payloadHash: 't-b8',
        occurredAt: at,
        amountCents: 100,
        small: false,
        entities: { card: [fp], merchant: ['shop-1'] },
      },
      REDIS_KEYS,
    );
    await s.velocity.saveResponse(plan, '{}', hit);
    const asIssuer = async (issuerId: string) =>
      s.watchlist.listHits(issuerId, { limit: 10, binRanges: await s.watchlist.getBinRanges(issuerId) });
    const shown = await asIssuer('bank-a');
    expect(shown.map((h) => h.transactionId)).toEqual(['t-b8']);
    // Routing fields are the store's own.
    expect(shown[0]).not.toHaveProperty('shownTo');
    expect(shown[0]).not.toHaveProperty('issuerIds');
    expect(await asIssuer('bank-b')).toEqual([]);
    expect(await s.watchlist.eventStatistics(1)).toMatchObject({ hits: 1, distinctMerchants: 1 });
    expect(await s.watchlist.eventStatistics(2)).toMatchObject({ hits: 0, distinctMerchants: 0 });
    expect(await s.watchlist.allBinRanges()).toEqual(
      new Map([
        ['bank-a', [{ from: '55555555', to: '55555555' }]],
        ['bank-b', [{ from: '55555500', to: '55555554' }]],
      ]),
    );
  });

  it('pages hits newest first, every filter applied before the limit, with no gap or repeat', async () => {
    await s.watchlist.createEvent(EVENT, 'bank-a', new Date());
    await s.watchlist.createEvent({ ...EVENT, externalId: 'breach-2' }, 'bank-a', new Date());
    await s.watchlist.setBinRanges('bank-a', [{ from: '411111', to: '411199' }]);
    // 40 hits: every 9th on event 2 (a filter that matches rarely), every 3rd on a BIN outside bank-a's ranges.
    const N = 40;
    const rare = (i: number) => i % 9 === 4;
    const foreign = (i: number) => i % 3 === 1;
    const merchantOf = (i: number) => (i % 4 === 0 ? 'shop-2' : 'shop-1');
    const decisionOf = (i: number) => (i % 5 === 0 ? 'approve' : 'challenge');
    for (let i = 0; i < N; i++) {
      const hit: HitRecord = {
        at: new Date(NOW * 1000 + i * 1000).toISOString(),
        merchantId: merchantOf(i),
        transactionId: `p${i}`,
        amount: 100,
        currency: 'EUR',
        decision: decisionOf(i),
        score: 55,
        card: foreign(i) ? '401288******1881' : '411111******1111',
        bin: foreign(i) ? '401288' : '411111',
        eventIds: [rare(i) ? 'ce_2' : 'ce_1'],
        eventSeqs: [rare(i) ? 2 : 1],
        issuerIds: ['bank-a'],
      };
      const fp = fingerprintWith(KEY, '4111111111111111');
      const plan = buildCounterPlan(
        {
          merchantId: merchantOf(i),
          transactionId: `p${i}`,
          payloadHash: `p${i}`,
          occurredAt: NOW * 1000 + i * 1000,
          amountCents: 100,
          small: false,
          entities: { card: [fp], merchant: [merchantOf(i)] },
        },
        REDIS_KEYS,
      );
      await s.velocity.saveResponse(plan, '{}', hit);
    }
    const newestFirst = Array.from({ length: N }, (_, i) => `p${N - 1 - i}`);
    const walk = async (query: Omit<HitQuery, 'after'>) => {
      const pages: { ids: string[]; hasMore: boolean }[] = [];
      let after: HitPosition | undefined;
      for (let guard = 0; guard < 100; guard++) {
        const page = await s.watchlist.pageHits('bank-a', { ...query, after });
        pages.push({ ids: page.items.map((h) => h.transactionId), hasMore: page.hasMore });
        if (!page.hasMore) {
          expect(page.next).toBeNull();
          return pages;
        }
        expect(page.next).not.toBeNull();
        after = page.next!;
      }
      throw new Error('the pages never end');
    };

    const all = await walk({ limit: 7 });
    expect(all.flatMap((p) => p.ids)).toEqual(newestFirst);
    expect(all.map((p) => p.ids.length)).toEqual([7, 7, 7, 7, 7, 5]);
    expect(all.map((p) => p.hasMore)).toEqual([true, true, true, true, true, false]);
    // A page that ends exactly at the last hit says so.
    expect((await walk({ limit: 20 })).map((p) => [p.ids.length, p.hasMore])).toEqual([
      [20, true],
      [20, false],
    ]);
    expect(await s.watchlist.listHits('bank-a', { limit: 3 })).toHaveLength(3);

    // A rare filter still fills its pages: the limit counts matching hits.
    const rareIds = newestFirst.filter((id) => rare(Number(id.slice(1))));
    const rarePages = await walk({ limit: 2, eventId: 'ce_2' });
    expect(rarePages.flatMap((p) => p.ids)).toEqual(rareIds);
    expect(rarePages.slice(0, -1).every((p) => p.ids.length === 2)).toBe(true);

    // The merchant and decision filters, alone and together, before the limit.
    const index = (id: string) => Number(id.slice(1));
    expect((await walk({ limit: 3, merchantId: 'shop-2' })).flatMap((p) => p.ids)).toEqual(
      newestFirst.filter((id) => merchantOf(index(id)) === 'shop-2'),
    );
    const approvedAtShop1 = newestFirst.filter(
      (id) => decisionOf(index(id)) === 'approve' && merchantOf(index(id)) === 'shop-1',
    );
    expect(approvedAtShop1.length).toBeGreaterThan(2);
    const approvedPages = await walk({ limit: 2, merchantId: 'shop-1', decision: 'approve' });
    expect(approvedPages.flatMap((p) => p.ids)).toEqual(approvedAtShop1);
    expect(approvedPages[0]!.ids).toHaveLength(2);

    // BIN ranges and the event filter together, before the limit.
    const own = newestFirst.filter((id) => !foreign(Number(id.slice(1))) && !rare(Number(id.slice(1))));
    const ownPages = await walk({ limit: 4, eventId: 'ce_1', binRanges: [{ from: '411111', to: '411199' }] });
    expect(ownPages.flatMap((p) => p.ids)).toEqual(own);
    expect(ownPages.slice(0, -1).every((p) => p.ids.length === 4)).toBe(true);
    // Each event's statistics count the hits its issuer is shown, never those outside its BIN ranges
    // (an admin may list any card in an issuer's event).
    const shown = (event: 1 | 2) =>
      newestFirst.filter((id) => !foreign(Number(id.slice(1))) && rare(Number(id.slice(1))) === (event === 2));
    expect(own).toEqual(shown(1));
    for (const event of [1, 2] as const)
      expect((await s.watchlist.eventStatistics(event)).hits, `ce_${event}`).toBe(shown(event).length);

    // A scan budget spent answers a short page with hasMore; continuing loses nothing.
    const budgeted = await walk({ limit: 5, eventId: 'ce_2', scanBudget: 6 });
    expect(budgeted.flatMap((p) => p.ids)).toEqual(rareIds);
    expect(budgeted.some((p) => p.hasMore && p.ids.length < 5)).toBe(true);

    // A position after the oldest hit: nothing more; other issuers: nothing.
    expect(await s.watchlist.pageHits('bank-a', { limit: 5, after: { ms: 0, seq: 0 } })).toEqual({
      items: [],
      hasMore: false,
      next: null,
    });
    expect((await s.watchlist.pageHits('bank-b', { limit: 5 })).items).toEqual([]);
  });

  it('pages events oldest first, the issuer filter applied before the limit', async () => {
    for (let i = 1; i <= 9; i++)
      await s.watchlist.createEvent(
        { ...EVENT, externalId: `breach-${i}` },
        i % 4 === 0 ? 'bank-a' : 'bank-b',
        new Date(),
      );
    const walk = async (issuerId: string | undefined, limit: number) => {
      const pages: string[][] = [];
      let after: number | undefined;
      for (;;) {
        const page = await s.watchlist.pageEvents({ issuerId, after, limit });
        pages.push(page.items.map((e) => e.id));
        if (!page.hasMore) return pages;
        after = page.next!;
      }
    };
    expect(await walk(undefined, 4)).toEqual([
      ['ce_1', 'ce_2', 'ce_3', 'ce_4'],
      ['ce_5', 'ce_6', 'ce_7', 'ce_8'],
      ['ce_9'],
    ]);
    expect(await walk('bank-a', 1)).toEqual([['ce_4'], ['ce_8']]);
    expect(await walk('bank-b', 3)).toEqual([['ce_1', 'ce_2', 'ce_3'], ['ce_5', 'ce_6', 'ce_7'], ['ce_9']]);
    expect(await s.watchlist.pageEvents({ issuerId: 'bank-c', limit: 3 })).toEqual({
      items: [],
      hasMore: false,
      next: null,
    });
    // Status and externalId, applied before the limit too.
    for (const seq of [2, 3, 6]) await s.watchlist.updateEvent(seq, { status: 'retracted' }, new Date());
    const retracted = await s.watchlist.pageEvents({ issuerId: 'bank-b', status: 'retracted', limit: 2 });
    expect(retracted.items.map((e) => e.id)).toEqual(['ce_2', 'ce_3']);
    expect(retracted.hasMore).toBe(true);
    expect((await s.watchlist.pageEvents({ status: 'open', limit: 3, after: 3 })).items.map((e) => e.id)).toEqual([
      'ce_4',
      'ce_5',
      'ce_7',
    ]);
    expect((await s.watchlist.pageEvents({ externalId: 'breach-8', limit: 3 })).items.map((e) => e.id)).toEqual([
      'ce_8',
    ]);
    expect((await s.watchlist.pageEvents({ issuerId: 'bank-b', externalId: 'breach-8', limit: 3 })).items).toEqual([]);
  });
});

describe('embedded watchlist persistence', () => {
  it('keeps events, cards, statistics and ranges across a restart, and never a card number', async () => {
    const journal = join(mkdtempSync(join(tmpdir(), 'lg-wl-')), 'watchlist.journal');
    const first = new MemoryWatchlistStore(journal);
    await first.createEvent(EVENT, 'bank-a', new Date());
    await first.addCards(1, 1, [{ slot: slotOf('4111111111111111'), expiryTag: 0 }], NOW);
    await first.setBinRanges('bank-a', [{ from: '411111', to: '411199' }]);
    const second = new MemoryWatchlistStore(journal);
    expect((await second.listEvents()).map((e) => e.externalId)).toEqual(['breach-1']);
    expect((await second.eventStatistics(1)).cardsListed).toBe(1);
    expect(await second.getBinRanges('bank-a')).toHaveLength(1);
    expect(await second.getEntries([slotOf('4111111111111111')])).not.toEqual([null]);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(journal, 'utf8')).not.toContain('4111111111111111');
  });

  it('makes no change its journal does not take (a full disk): refused unavailable, made and journaled when retried, found after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-wl-'));
    const journal = join(dir, 'watchlist.journal');
    // The disk fills up: the journal's writes go to /dev/full (ENOSPC); freed, they go to the file again.
    const full = () => {
      renameSync(journal, join(dir, 'aside'));
      symlinkSync('/dev/full', journal);
    };
    const freed = () => {
      unlinkSync(journal);
      renameSync(join(dir, 'aside'), journal);
    };
    const first = new MemoryWatchlistStore(journal);
    await first.createEvent(EVENT, 'bank-a', new Date('2026-09-01T00:00:00Z'));
    await first.createEvent({ ...EVENT, externalId: 'breach-2' }, 'bank-a', new Date('2026-09-01T00:00:00Z'));
    const slots = ['4111111111111111', '5555555555554444', '4012888888881881'].map(slotOf);
    await first.addCards(1, 1, [{ slot: slots[0]!, expiryTag: 0 }], NOW);
    await first.addCards(2, 1, [{ slot: slots[2]!, expiryTag: 0 }], NOW);
    const state = async (store: MemoryWatchlistStore) => ({
      events: await store.listEvents(),
      entries: await store.getEntries(slots),
      statistics: [await store.eventStatistics(1), await store.eventStatistics(2)],
      ranges: await store.allBinRanges(),
      hits: await store.listHits('bank-a', { limit: 10 }),
    });
    const before = await state(first);
    const hit: HitRecord = {
      at: '2026-11-01T00:00:00.000Z',
      merchantId: 'shop-1',
      transactionId: 'tx-1',
      amount: 100,
      currency: 'EUR',
      decision: 'challenge',
      score: 70,
      card: '411111******1111',
      bin: '411111',
      eventIds: ['ce_1'],
      eventSeqs: [1],
      issuerIds: ['bank-a'],
    };
    // Every change the store makes, each refused while the disk is full.
    const changes: [string, () => Promise<unknown>][] = [
      ['create an event', () => first.createEvent({ ...EVENT, externalId: 'breach-3' }, 'bank-a', new Date())],
      ['retract', () => first.updateEvent(1, { status: 'retracted' }, new Date())],
      ['close', () => first.updateEvent(2, { status: 'closed' }, new Date())],
      ['change', () => first.updateEvent(2, () => ({ confidence: 'suspected' }), new Date())],
      [
        'list new cards',
        () =>
          first.addCards(
            1,
            1,
            [
              { slot: slots[1]!, expiryTag: 0 },
              { slot: slots[1]!, expiryTag: 3 },
            ],
            NOW,
          ),
      ],
      ['list a listed card with another expiry', () => first.addCards(1, 1, [{ slot: slots[0]!, expiryTag: 9 }], NOW)],
      ['list a card in another event', () => first.addCards(2, 1, [{ slot: slots[0]!, expiryTag: 0 }], NOW)],
      ['remove cards', () => first.removeCards([slots[0]!, slots[2]!])],
      ['remove cards from one event', () => first.removeCards([slots[2]!], [2])],
      ['set BIN ranges', () => first.setBinRanges('bank-a', [{ from: '411111', to: '411199' }])],
      ['record a hit', async () => first.recordHit(hit, Date.parse('2026-11-01T00:00:01Z'))],
    ];
    full();
    for (const [name, change] of changes) {
      const error = await change().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, name).toBeInstanceOf(JournalUnavailable);
      expect(unavailableStore(error), name).toBe('journal');
      expect(await state(first), name).toEqual(before);
    }
    freed();
    // The same calls again, the disk freed: made as if the first attempts never happened.
    expect(await first.addCards(1, 1, [{ slot: slots[1]!, expiryTag: 0 }], NOW)).toEqual(['new']);
    expect((await first.updateEvent(1, { status: 'retracted' }, new Date()))?.status).toBe('retracted');
    expect(await first.removeCards([slots[2]!], [2])).toBe(1);
    const after = await state(first);
    expect(after.statistics.map((s) => [s.cardsListed, s.cardsRemoved])).toEqual([
      [2, 0],
      [1, 1],
    ]);
    expect(await state(new MemoryWatchlistStore(journal))).toEqual(after);
  });

  it('journals a known card as known: replayed, it is not counted as listed', async () => {
    const journal = join(mkdtempSync(join(tmpdir(), 'lg-wl-')), 'watchlist.journal');
    const first = new MemoryWatchlistStore(journal);
    await first.createEvent(EVENT, 'bank-a', new Date());
    const slots = ['4111111111111111', '5555555555554444'].map(slotOf);
    expect(
      await first.addCards(
        1,
        1,
        [
          { slot: slots[0]!, expiryTag: 0, known: true },
          { slot: slots[1]!, expiryTag: 0 },
        ],
        NOW,
      ),
    ).toEqual(['duplicate', 'new']);
    const second = new MemoryWatchlistStore(journal);
    expect((await second.eventStatistics(1)).cardsListed).toBe(1);
    expect(await second.getEntries(slots)).toEqual(await first.getEntries(slots));
  });

  it('journals only what changed: a list uploaded again adds nothing; a journal of many chunks replays whole', async () => {
    const { statSync } = await import('node:fs');
    const journal = join(mkdtempSync(join(tmpdir(), 'lg-wl-')), 'watchlist.journal');
    const first = new MemoryWatchlistStore(journal);
    await first.createEvent(EVENT, 'bank-a', new Date());
    // 60,000 cards in batches: a journal of several MiB, read back a MiB at a time.
    const cards = Array.from({ length: 60_000 }, (_, i) => ({
      slot: entrySlot(fingerprintWith(KEY, `pan-${i}`)),
      expiryTag: i % 7,
    }));
    for (let i = 0; i < cards.length; i += 1_000) await first.addCards(1, 1, cards.slice(i, i + 1_000), NOW);
    const size = statSync(journal).size;
    expect(size).toBeGreaterThan(2 * (1 << 20));
    for (let i = 0; i < cards.length; i += 1_000)
      expect(new Set(await first.addCards(1, 1, cards.slice(i, i + 1_000), NOW + 1))).toEqual(new Set(['duplicate']));
    expect(statSync(journal).size).toBe(size);
    // A second expiry for one card changes its entry: journaled.
    await first.addCards(1, 1, [{ slot: cards[1]!.slot, expiryTag: 99 }], NOW + 2);
    expect(statSync(journal).size).toBeGreaterThan(size);
    const second = new MemoryWatchlistStore(journal);
    expect((await second.eventStatistics(1)).cardsListed).toBe(60_000);
    const slots = cards.map((c) => c.slot);
    expect(await second.getEntries(slots)).toEqual(await first.getEntries(slots));
  });
});
