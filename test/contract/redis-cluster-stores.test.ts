// Every Redis-backed store besides the velocity store, on a real 3-master Redis Cluster
// (test/support/redis-cluster.ts): API keys, watchlist events and cards (a batch spread over every
// master, statuses in input order), negative and allow-lists, the flagged-decision queue, the
// key migration (a no-op there), and what makes engines one deployment: the API rate limit and
// the console's login limit counted once across engines. The single-Redis runs of the same stores
// are in watchlist-store.test.ts, key-migration.test.ts, test/console/ and test/http/shared-rate-limit.test.ts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REDIS_KEYS, watchlistBucketKey } from '../../services/adapters/redis/keys.ts';
import type { Cluster } from 'ioredis';
import { createApiKey, hashApiKey } from '../../services/auth/api-keys.ts';
import { API_KEY_KEYS, RedisApiKeyStore } from '../../services/adapters/redis/api-key-store.ts';
import { connectRedis, isCluster, whenReady } from '../../services/adapters/redis/connection.ts';
import { migrateKeyLayout } from '../../services/adapters/redis/key-migration.ts';
import { RedisWatchlistStore } from '../../services/adapters/redis/watchlist-store.ts';
import { watchlistKeys } from '../../services/adapters/redis/watchlist-keys.ts';
import { RedisFlaggedQueue } from '../../services/adapters/redis/flagged-queue.ts';
import type { FlaggedDecision } from '../../services/cases/model.ts';
import { RedisNegativeListStore } from '../../services/adapters/redis/negative-list-store.ts';
import { loginAttemptsKey, RedisLoginRateLimiter } from '../../services/console/session.ts';
import { fingerprintWith } from '../../services/core/card.ts';
import { decodeEntry, elementMask, entrySlot, type AddStatus } from '../../services/core/watchlist.ts';
import { flagged } from '../console/fixtures.ts';
import { keySlot, RedisCluster } from '../support/redis-cluster.ts';
import { RedisServer } from '../support/redis-server.ts';
import { FIXTURE_CARD_KEY, FIXTURE_EVENT, FIXTURE_NOW } from '../support/watchlist-fixtures.ts';
import { buildTestApp } from '../support/app.ts';

const KEY = FIXTURE_CARD_KEY;
const fp = (i: number) => fingerprintWith(KEY, `card-${i}`);
const NOW = FIXTURE_NOW;
const EVENT = FIXTURE_EVENT;

let cluster: RedisCluster;
let redis: Cluster;
const clients: Cluster[] = [];
/** A new application client on the cluster (as connectRedis builds it from REDIS_CLUSTER_NODES). */
async function client(): Promise<Cluster> {
  const c = connectRedis({ clusterNodes: cluster.seeds });
  c.on('error', () => {});
  await whenReady(c, 10_000);
  if (!isCluster(c)) throw new Error('not a cluster client');
  clients.push(c);
  return c;
}

beforeAll(async () => {
  cluster = await RedisCluster.start({ masters: 3 });
  redis = await client();
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await cluster?.stop();
});
beforeEach(() => cluster.flushAll());

/** The masters holding some keys' slots now. */
const mastersOf = async (keys: string[]) =>
  new Set(await Promise.all(keys.map(async (k) => (await cluster.masterOf(k)).port)));

describe('API keys on a cluster', () => {
  it('inserts (one MULTI: both hashes share the {apikeys} slot), finds, lists and revokes', async () => {
    expect(keySlot(API_KEY_KEYS.records)).toBe(keySlot(API_KEY_KEYS.byHash));
    const store = new RedisApiKeyStore(redis);
    const a = await createApiKey(store, { role: 'merchant', merchantId: 'shop-1' });
    const b = await createApiKey(store, { role: 'issuer', issuerId: 'bank-a' }, new Date(Date.now() + 1000));
    // Another engine sees them at once.
    const other = new RedisApiKeyStore(await client());
    expect(await other.findByHash(hashApiKey(a.key))).toEqual(a.record);
    expect((await other.list()).map((r) => r.id)).toEqual([a.record.id, b.record.id]);
    expect(await other.revoke(b.record.id, '2026-09-01T00:00:00Z', 'admin')).toBe(true);
    expect(await store.findByHash(hashApiKey(b.key))).toMatchObject({
      revokedAt: '2026-09-01T00:00:00Z',
      revokedBy: 'admin',
    });
    expect(await store.revoke('key_none', '2026-09-01T00:00:00Z')).toBe(false);
  });
});

describe('watchlists on a cluster', () => {
  it('keeps events, external ids, statuses and BIN ranges in the {w} slot', async () => {
    const store = new RedisWatchlistStore(redis);
    const a = await store.createEvent(EVENT, 'bank-a', new Date('2026-09-01T00:00:00Z'));
    expect(a).toMatchObject({ created: true, event: { id: 'ce_1', issuerId: 'bank-a' } });
    expect(await store.createEvent(EVENT, 'bank-a', new Date())).toEqual({ event: a.event, created: false });
    await store.createEvent(EVENT, 'bank-b', new Date());
    expect((await store.listEvents()).map((e) => e.id)).toEqual(['ce_1', 'ce_2']);
    expect((await store.listEvents('bank-b')).map((e) => e.id)).toEqual(['ce_2']);
    expect((await store.updateEvent(2, { status: 'closed' }, new Date()))?.status).toBe('closed');
    expect((await store.eventViews()).get(2)).toMatchObject({ status: 'closed', issuerId: 'bank-b' });
    await store.setBinRanges('bank-a', [{ from: '411111', to: '411199' }]);
    expect(await store.getBinRanges('bank-a')).toEqual([{ from: '411111', to: '411199' }]);
    expect(await store.getBinRanges('bank-b')).toEqual([]);
    // Every issuer's, for the engine's registry (who is shown a hit is decided at scoring).
    expect(await store.allBinRanges()).toEqual(new Map([['bank-a', [{ from: '411111', to: '411199' }]]]));
    const slots = new Set(
      [
        watchlistKeys.seq,
        watchlistKeys.events,
        watchlistKeys.externalIds,
        watchlistKeys.binRanges,
        watchlistKeys.event(1),
        watchlistKeys.eventMerchants(1),
        watchlistKeys.hits('bank-a'),
      ].map(keySlot),
    );
    expect(slots.size).toBe(1);
  });

  it('lists a batch spread over every master: one letter per card in input order, duplicates within the batch included', async () => {
    const store = new RedisWatchlistStore(redis);
    await store.createEvent(EVENT, 'bank-a', new Date());
    await store.createEvent({ ...EVENT, externalId: 'breach-2' }, 'bank-a', new Date());
    const cards = Array.from({ length: 600 }, (_, i) => ({ slot: entrySlot(fp(i)), expiryTag: i % 7 }));
    expect((await mastersOf(cards.slice(0, 60).map((c) => watchlistBucketKey(c.slot.bucket)))).size).toBe(3);
    // Card 0 twice in the batch: new, then duplicate (the same call meets it twice, in order).
    const batch = [...cards.slice(0, 300), cards[0]!];
    const first = await store.addCards(1, elementMask(['pan', 'cvv']), batch, NOW);
    expect(first).toEqual([...Array<AddStatus>(300).fill('new'), 'duplicate']);
    // A second event: some already listed (added), some new; the first event again: duplicates.
    const second = await store.addCards(2, elementMask(['pan', 'expiry']), cards.slice(200, 400), NOW + 5);
    expect(second).toEqual([...Array<AddStatus>(100).fill('added'), ...Array<AddStatus>(100).fill('new')]);
    expect(await store.addCards(1, elementMask(['pan']), cards.slice(250, 310), NOW + 9)).toEqual([
      ...Array<AddStatus>(50).fill('duplicate'),
      ...Array<AddStatus>(10).fill('added'),
    ]);
    expect(await store.eventStatistics(1)).toMatchObject({ cardsListed: 310, cardsRemoved: 0 });
    expect(await store.eventStatistics(2)).toMatchObject({ cardsListed: 200 });

    const entries = await store.getEntries([cards[0]!.slot, cards[250]!.slot, cards[305]!.slot, cards[599]!.slot]);
    expect(decodeEntry(entries[0]!)).toEqual({
      elements: elementMask(['pan', 'cvv']),
      firstListedAt: NOW,
      eventSeqs: [1],
      eventTags: [0],
    });
    expect(decodeEntry(entries[1]!)).toEqual({
      elements: elementMask(['pan', 'cvv', 'expiry']),
      firstListedAt: NOW,
      eventSeqs: [1, 2],
      eventTags: [250 % 7, 250 % 7],
    });
    expect(decodeEntry(entries[2]!)).toMatchObject({ firstListedAt: NOW + 5, eventSeqs: [2, 1] });
    expect(entries[3]).toBeNull();
  });

  it('removes cards across slots and counts the removals per event', async () => {
    const store = new RedisWatchlistStore(redis);
    await store.createEvent(EVENT, 'bank-a', new Date());
    await store.createEvent({ ...EVENT, externalId: 'breach-2' }, 'bank-a', new Date());
    const slots = Array.from({ length: 100 }, (_, i) => entrySlot(fp(i)));
    await store.addCards(
      1,
      1,
      slots.slice(0, 80).map((slot) => ({ slot, expiryTag: 0 })),
      NOW,
    );
    await store.addCards(
      2,
      1,
      slots.slice(60, 100).map((slot) => ({ slot, expiryTag: 0 })),
      NOW,
    );
    // 50..99: 30 in event 1 only... 50..59 in 1, 60..79 in both, 80..99 in 2; plus a card never listed and one twice.
    const removing = [...slots.slice(50, 100), entrySlot(fp(1000)), slots[55]!];
    expect((await mastersOf(removing.map((s) => watchlistBucketKey(s.bucket)))).size).toBe(3);
    expect(await store.removeCards(removing)).toBe(50);
    expect(await store.eventStatistics(1)).toMatchObject({ cardsListed: 80, cardsRemoved: 30 });
    expect(await store.eventStatistics(2)).toMatchObject({ cardsListed: 40, cardsRemoved: 40 });
    expect((await store.getEntries(slots.slice(48, 52))).map((e) => e !== null)).toEqual([true, true, false, false]);
    expect(await store.removeCards(removing)).toBe(0);
  });

  it('gives the same answers as a single Redis, card for card', async () => {
    const server = await RedisServer.start();
    const single = await whenReady(connectRedis(server.url));
    try {
      const run = async (store: RedisWatchlistStore) => {
        await store.createEvent(EVENT, 'bank-a', new Date(0));
        await store.createEvent({ ...EVENT, externalId: 'breach-2' }, 'bank-a', new Date(0));
        const cards = Array.from({ length: 400 }, (_, i) => ({ slot: entrySlot(fp(i % 350)), expiryTag: i % 3 }));
        const statuses = [
          await store.addCards(1, 3, cards.slice(0, 250), NOW),
          await store.addCards(2, 5, cards.slice(150), NOW + 1),
        ];
        const removed = await store.removeCards(cards.slice(100, 120).map((c) => c.slot));
        const entries = (await store.getEntries(cards.map((c) => c.slot))).map((e) => e?.toString('hex') ?? null);
        return { statuses, removed, entries, stats: [await store.eventStatistics(1), await store.eventStatistics(2)] };
      };
      const onCluster = await run(new RedisWatchlistStore(redis));
      expect(await run(new RedisWatchlistStore(single))).toEqual(onCluster);
      expect(onCluster.removed).toBe(20);
    } finally {
      single.disconnect();
      await server.stop();
    }
  });

  it('keeps listing, reading and removing while a slot of buckets moves to another master', async () => {
    const store = new RedisWatchlistStore(redis);
    await store.createEvent(EVENT, 'bank-a', new Date());
    await store.createEvent({ ...EVENT, externalId: 'breach-2' }, 'bank-a', new Date());
    // Cards of four different buckets that share one slot, and cards elsewhere.
    const slot = keySlot(watchlistBucketKey(entrySlot(fp(0)).bucket));
    const moving: ReturnType<typeof entrySlot>[] = [];
    const buckets = new Set<string>();
    for (let i = 0; buckets.size < 4 || moving.length < 12; i++) {
      const s = entrySlot(fp(i));
      if (keySlot(watchlistBucketKey(s.bucket)) !== slot || (buckets.size >= 4 && !buckets.has(s.bucket))) continue;
      buckets.add(s.bucket);
      moving.push(s);
    }
    const elsewhere = Array.from({ length: 50 }, (_, i) => entrySlot(fp(100_000 + i))).filter(
      (s) => keySlot(watchlistBucketKey(s.bucket)) !== slot,
    );
    const all = [...moving, ...elsewhere].map((s) => ({ slot: s, expiryTag: 0 }));
    expect(await store.addCards(1, 1, all, NOW)).toEqual(all.map(() => 'new'));
    const from = await cluster.masterOfSlot(slot);
    const to = cluster.nodes.find((n) => n.role === 'master' && n !== from)!;
    const move = cluster.moveSlotSlowly(slot, to, { batch: 1, delayMs: 150 });
    await move.started;
    // Half moved: some of the slot's buckets answer from the new master (ASK), some from the old.
    expect(move.keysMoved).toBeGreaterThan(0);
    expect(move.keysMoved).toBeLessThan(buckets.size);
    expect(await store.addCards(2, 2, all, NOW + 1)).toEqual(all.map(() => 'added'));
    expect((await store.getEntries(moving)).map((e) => decodeEntry(e!)!.eventSeqs)).toEqual(moving.map(() => [1, 2]));
    expect(await store.removeCards(moving.slice(0, 6))).toBe(6);
    await move.done;
    expect((await cluster.masterOfSlot(slot)).id).toBe(to.id);
    expect((await store.getEntries(moving)).map((e) => e !== null)).toEqual(moving.map((_, i) => i >= 6));
    expect(await store.eventStatistics(1)).toMatchObject({ cardsListed: all.length, cardsRemoved: 6 });
    expect(await store.eventStatistics(2)).toMatchObject({ cardsListed: all.length, cardsRemoved: 6 });
  });

  it("reads an issuer's hits from its stream in the {w} slot", async () => {
    const store = new RedisWatchlistStore(redis);
    const hit = (t: string, events: string[]) => ({
      at: '2026-09-02T10:00:00.000Z',
      merchantId: 'shop-1',
      transactionId: t,
      amount: 100,
      currency: 'EUR',
      decision: 'challenge',
      score: 55,
      card: '411111******1111',
      bin: '411111',
      eventIds: events,
    });
    // Written as the velocity store's record-hit.lua writes them: field h, the hit's JSON with its routing fields.
    await redis.xadd(
      watchlistKeys.hits('bank-a'),
      '*',
      'h',
      JSON.stringify({ ...hit('t1', ['ce_1']), eventSeqs: [1], issuerIds: ['bank-a'] }),
    );
    await redis.xadd(
      watchlistKeys.hits('bank-a'),
      '*',
      'h',
      JSON.stringify({ ...hit('t2', ['ce_2']), eventSeqs: [2], issuerIds: ['bank-a'] }),
    );
    // Each read with the time it was recorded (the stream id's).
    const recorded = (h: ReturnType<typeof hit>) => ({ ...h, recordedAt: expect.stringMatching(/^\d{4}-/) });
    expect(await store.listHits('bank-a', { limit: 10 })).toEqual([
      recorded(hit('t2', ['ce_2'])),
      recorded(hit('t1', ['ce_1'])),
    ]);
    expect(await store.listHits('bank-a', { limit: 10, eventId: 'ce_1' })).toEqual([recorded(hit('t1', ['ce_1']))]);
    expect(await store.listHits('bank-b', { limit: 10 })).toEqual([]);
  });
});

describe('negative lists on a cluster', () => {
  it('reads entries of many slots with one GET each, and keeps their TTLs', async () => {
    const store = new RedisNegativeListStore(redis);
    const devices = Array.from({ length: 30 }, (_, i) => `dev-${i}`);
    expect((await mastersOf(devices.map((d) => REDIS_KEYS.negative('device', d)))).size).toBe(3);
    await store.add('device', 'dev-17', 60_000, 1);
    await store.add('email', 'mail-1', 60_000, 2);
    await store.add('shipping', 'addr-1', 1, 3); // expires at once
    await new Promise((r) => setTimeout(r, 20));
    expect(
      await store.matches({ device: devices, ip: ['ip-1'], email: ['mail-0', 'mail-1'], shipping: ['addr-1'] }),
    ).toEqual(['device', 'email']);
    expect(await store.matches({})).toEqual([]);
    expect(await redis.get(REDIS_KEYS.negative('device', 'dev-17'))).toBe('1');
    expect(await redis.pttl(REDIS_KEYS.negative('device', 'dev-17'))).toBeGreaterThan(50_000);

    const cards = Array.from({ length: 10 }, (_, i) => fp(i));
    await store.allowCard('shop-1', cards[7]!, 60_000, 4);
    expect(await store.isCardAllowed('shop-1', cards)).toBe(true);
    expect(await store.isCardAllowed('shop-2', cards)).toBe(false);
    expect(await store.isCardAllowed('shop-1', [])).toBe(false);
    expect(await redis.get(REDIS_KEYS.allow('shop-1', cards[7]!))).toBe('4');
  });
});

describe('the flagged-decision queue on a cluster', () => {
  it('delivers what one engine publishes to the consumer of another, each once, then holds nothing', async () => {
    const publisher = new RedisFlaggedQueue(redis);
    const consumer = new RedisFlaggedQueue(await client());
    const seen: FlaggedDecision[] = [];
    const errors: unknown[] = [];
    consumer.start(
      async (batch) => void seen.push(...batch),
      (e) => errors.push(e),
    );
    try {
      for (let i = 0; i < 20; i++) await publisher.publish(flagged({ transactionId: `cl-${i}` }));
      const deadline = Date.now() + 10_000;
      while (seen.length < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(seen.map((f) => f.transactionId)).toEqual(Array.from({ length: 20 }, (_, i) => `cl-${i}`));
      const drained = Date.now() + 5_000;
      while ((await publisher.pending()) > 0 && Date.now() < drained) await new Promise((r) => setTimeout(r, 50));
      expect(await publisher.pending()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await consumer.stop();
    }
  });
});

describe('the key migration on a cluster', () => {
  it('does nothing: a cluster never held the single-Redis layout', async () => {
    await redis.set('lg:neg:device:x', '1');
    expect(await migrateKeyLayout(redis)).toEqual({ renamed: 0, conflicts: 0 });
    expect(await redis.get('lg:neg:device:x')).toBe('1');
  });
});

describe('engines sharing a cluster', () => {
  it('hold one API rate limit between them, not one each', async () => {
    const env = { REDIS_CLUSTER_NODES: cluster.seeds, LEAKGUARD_RATE_LIMIT_PER_MINUTE: '5' };
    const [a, b] = await Promise.all([
      buildTestApp(env, { redis: await client() }),
      buildTestApp(env, { redis: await client() }),
    ]);
    try {
      // A key made on one engine authenticates on the other (one key store).
      const { key } = await createApiKey(a.runtime.apiKeys, { role: 'issuer', issuerId: 'bank-a' });
      const get = (app: typeof a) =>
        app.app.inject({ method: 'GET', url: '/v1/compromise-events', headers: { authorization: `Bearer ${key}` } });
      const answers: [string, number, string | undefined][] = [];
      for (const app of [a, b, a, b, b, a, b]) {
        const res = await get(app);
        answers.push([
          app === a ? 'a' : 'b',
          res.statusCode,
          res.headers['x-ratelimit-remaining'] as string | undefined,
        ]);
      }
      expect(answers).toEqual([
        ['a', 200, '4'],
        ['b', 200, '3'],
        ['a', 200, '2'],
        ['b', 200, '1'],
        ['b', 200, '0'],
        ['a', 429, '0'],
        ['b', 429, '0'],
      ]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("hold one login limit per address between them (the count lives in the address's slot)", async () => {
    const one = new RedisLoginRateLimiter(await client(), 3);
    const two = new RedisLoginRateLimiter(await client(), 3);
    const addresses = ['198.51.100.7', '2001:db8:1:2::/64', '203.0.113.9'];
    expect((await mastersOf(addresses.map(loginAttemptsKey))).size).toBeGreaterThan(1);
    const verdicts = [];
    for (const limiter of [one, two, one, two, one]) verdicts.push(await limiter.allow(addresses[0]!));
    expect(verdicts).toEqual([true, true, true, false, false]);
    // Other addresses have their own count.
    expect(await two.allow(addresses[1]!)).toBe(true);
    expect(await one.allow(addresses[2]!)).toBe(true);
    // Each engine tallies the refusals it answered (its own audit summary).
    expect(two.takeRefusals()).toEqual({ refused: 1, addresses: 1, top: [{ ip: addresses[0], refused: 1 }] });
    expect(one.takeRefusals()).toEqual({ refused: 1, addresses: 1, top: [{ ip: addresses[0], refused: 1 }] });
    // The window expires with the key.
    const ttl = await redis.pttl(loginAttemptsKey(addresses[0]!));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });
});
