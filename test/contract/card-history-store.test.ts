// Breach discovery's card histories and scan, held against every store (memory, a real Redis, a
// real Redis Cluster): what is kept per card and per merchant, the fraud logs, the distinct-card
// estimate, and a scan of a generated breach with a known answer listing the exposed cards on an
// event of Leakguard's own.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryCardHistoryStore } from '../../services/adapters/memory/card-history-store.ts';
import { MemoryWatchlistStore } from '../../services/adapters/memory/watchlist-store.ts';
import { RedisCardHistoryStore } from '../../services/adapters/redis/card-history-store.ts';
import { connectRedis, whenReady, type RedisClient } from '../../services/adapters/redis/connection.ts';
import { HISTORY_KEYS } from '../../services/adapters/redis/keys.ts';
import { RedisWatchlistStore } from '../../services/adapters/redis/watchlist-store.ts';
import {
  EXPOSED_PAGE,
  FRAUD_PAGE,
  FRAUD_SOURCES,
  labelDay,
  slotOf,
  transactionKey,
  weekOf,
  type CardHistoryStore,
  type ExposedCard,
  type FraudLabel,
  type FraudulentCardRecord,
  type FraudulentCardVisits,
  type VisitRecord,
} from '../../services/breach/history.ts';
import { BreachScanner } from '../../services/breach/scanner.ts';
import { subIdentity } from '../../services/core/velocity.ts';
import { CPP_ISSUER, CPP_SOURCE, decodeEntry, entrySlot, type WatchlistStore } from '../../services/core/watchlist.ts';
import { DAY, mulberry32, world } from '../support/cpp-world.ts';
import { RedisCluster } from '../support/redis-cluster.ts';
import { RedisServer } from '../support/redis-server.ts';

/** A merchant's exposed cards, all pages of them. */
async function exposedAt(history: CardHistoryStore, merchantId: string, from: number, to: number) {
  const cards: ExposedCard[] = [];
  await history.merchantCards(merchantId, from, to, async (page) => {
    cards.push(...page);
  });
  return cards;
}

/** A fingerprint-shaped id (32 bytes, base64url) for a generated card. */
const fp = (card: string) => createHash('sha256').update(card).digest('base64url');
const binOf = (card: string) => (card.length % 2 === 0 ? '411111' : '555555');
const T0 = Date.parse('2026-01-01T00:00:00Z');

let redisServer: RedisServer;
let cluster: RedisCluster;
beforeAll(async () => {
  [redisServer, cluster] = await Promise.all([RedisServer.start(), RedisCluster.start()]);
});
afterAll(() => Promise.all([redisServer.stop(), cluster.stop()]));

interface Subject {
  history: CardHistoryStore;
  watchlist: WatchlistStore;
  close(): Promise<void>;
}
const OPTIONS = { retentionMs: 120 * DAY, merchantsPerCard: 5 };
const redisSubject = (redis: RedisClient): Subject => ({
  history: new RedisCardHistoryStore(redis, OPTIONS),
  watchlist: new RedisWatchlistStore(redis),
  close: async () => redis.disconnect(),
});
const subjects: { name: string; open(): Promise<Subject> }[] = [
  {
    name: 'memory',
    open: async () => ({
      history: new MemoryCardHistoryStore(OPTIONS),
      watchlist: new MemoryWatchlistStore(),
      close: async () => {},
    }),
  },
  {
    name: 'redis',
    open: async () => {
      const redis = await whenReady(connectRedis(redisServer.url));
      await redis.flushall();
      return redisSubject(redis);
    },
  },
  {
    name: 'redis cluster',
    open: async () => {
      await cluster.flushAll();
      return redisSubject(await whenReady(connectRedis({ clusterNodes: cluster.seeds })));
    },
  },
];

describe.each(subjects)('card histories: $name', (subject) => {
  let s: Subject;
  beforeEach(async () => {
    s = await subject.open();
    return () => s.close();
  });

  it("keeps a card's first and last visit per merchant, its most recent merchants within the cap, nothing past the retention", async () => {
    const card = fp('c1');
    const visit = (merchantId: string, day: number): VisitRecord => ({
      card,
      bin: '411111',
      merchantId,
      at: T0 + day * DAY,
    });
    await s.history.recordVisits([visit('m1', 10), visit('m2', 11), visit('m1', 12)]);
    await s.history.recordVisits([visit('m1', 9)]); // out of order: the earlier visit is the first
    // The first visits in their order, then the later last visits in theirs.
    expect((await s.history.visitsOf([card])).get(card)).toEqual([
      { merchantId: 'm1', at: T0 + 9 * DAY },
      { merchantId: 'm2', at: T0 + 11 * DAY },
      { merchantId: 'm1', at: T0 + 12 * DAY },
    ]);
    // Cap 5: the merchants used least recently go (m2, last on day 11; m1 was back on day 12).
    await s.history.recordVisits(['m3', 'm4', 'm5', 'm6'].map((m, i) => visit(m, 20 + i)));
    const kept = (await s.history.visitsOf([card])).get(card)!.map((v) => v.merchantId);
    expect(kept).toEqual(['m1', 'm3', 'm4', 'm5', 'm6', 'm1']);
    // 120 days later, what is older goes with the next write.
    await s.history.recordVisits([visit('m7', 145)]);
    expect((await s.history.visitsOf([card])).get(card)!.map((v) => v.merchantId)).toEqual(['m7']);
    expect((await s.history.visitsOf([fp('nobody')])).get(fp('nobody'))).toEqual([]);
    expect(await s.history.latestVisitAt()).toBe(T0 + 145 * DAY);
  });

  it('keeps a visit to a merchant whose previous visit is older than the retention', async () => {
    const card = fp('returning');
    const visit = (day: number): VisitRecord => ({ card, bin: '411111', merchantId: 'airline', at: T0 + day * DAY });
    await s.history.recordVisits([visit(0)]);
    await s.history.recordVisits([visit(130)]);
    expect((await s.history.visitsOf([card])).get(card)).toEqual([{ merchantId: 'airline', at: T0 + 130 * DAY }]);
    // Both in one batch: the visit past the retention is not kept, the other is.
    const other = fp('returning-in-one-batch');
    await s.history.recordVisits([0, 130].map((day) => ({ ...visit(day), card: other })));
    expect((await s.history.visitsOf([other])).get(other)).toEqual([{ merchantId: 'airline', at: T0 + 130 * DAY }]);
  });

  it('reads the labels of thousands of cards: every card once, at its latest episode', async () => {
    // 12,000 labels of 6,000 cards: more than one page of a day's cards in Redis.
    const labels = Array.from({ length: 6_000 }, (_, i) => [
      { card: fp(`many-${i}`), at: T0 + 50 * DAY + i, source: 'chargeback' as const, merchantId: `shop-${i % 7}` },
      { card: fp(`many-${i}`), at: T0 + 10 * DAY + i, source: 'chargeback' as const },
    ]).flat();
    await s.history.recordFrauds(labels);
    const recent = await s.history.fraudsSince(T0 + 40 * DAY);
    expect(recent).toHaveLength(6_000);
    // Each card's labels 40 days apart: two episodes, the latest from day 50.
    const byCard = new Map(recent.map((r) => [r.card, r]));
    expect(byCard.get(fp('many-4321'))).toEqual({
      card: fp('many-4321'),
      firstFraudAt: T0 + 50 * DAY + 4321,
      weight: 1,
      fraudMerchants: [`shop-${4321 % 7}`],
    });
    expect(recent.every((r) => r.firstFraudAt >= T0 + 50 * DAY)).toBe(true);
  });

  it("keeps a card's cap when one batch holds thousands of its visits", async () => {
    const card = fp('c-many');
    // 2,500 merchants in one write (one key's members beyond one ZADD's batch), then visits again.
    const visits = Array.from({ length: 2_500 }, (_, i) => ({ card, bin: '411111', merchantId: `mm${i}`, at: T0 + i }));
    await s.history.recordVisits(visits);
    await s.history.recordVisits(visits.slice(-3).map((v) => ({ ...v, at: v.at + DAY })));
    // The five it used last; the three back a day later at their first and last visits.
    expect((await s.history.visitsOf([card])).get(card)).toEqual([
      ...visits.slice(-5).map((v) => ({ merchantId: v.merchantId, at: v.at })),
      ...visits.slice(-3).map((v) => ({ merchantId: v.merchantId, at: v.at + DAY })),
    ]);
  });

  it("keeps a merchant's cards at their last visit, with BIN and watchlist slot, counted by period", async () => {
    const visits: VisitRecord[] = [];
    for (let i = 0; i < 30; i++)
      visits.push({ card: fp(`k${i}`), bin: binOf(`k${i}`), merchantId: 'shop', at: T0 + (i % 10) * DAY });
    visits.push({ card: fp('k0'), bin: binOf('k0'), merchantId: 'shop', at: T0 + 20 * DAY });
    await s.history.recordVisits(visits);
    expect(await s.history.merchantCardCount('shop', T0, T0 + 30 * DAY)).toBe(30);
    // k0's last visit is day 20; k0..k29 with i % 10 ≥ 5 are on days 5–9.
    expect(await s.history.merchantCardCount('shop', T0 + 5 * DAY, T0 + 9 * DAY)).toBe(15);
    const cards = await exposedAt(s.history, 'shop', T0 + 15 * DAY, T0 + 30 * DAY);
    expect(cards).toEqual([{ slot: slotOf(fp('k0')), bin: binOf('k0'), lastVisitAt: T0 + 20 * DAY }]);
    expect(entrySlot(cards[0]!.slot)).toEqual(entrySlot(fp('k0')));
    expect(await s.history.merchantCardCount('elsewhere', T0, T0 + 30 * DAY)).toBe(0);
  });

  it("keeps a merchant's cards at their first visit beside their last: those whose visits span a window, whatever came after", async () => {
    const visit = (card: string, day: number): VisitRecord => ({
      card: fp(card),
      bin: '411111',
      merchantId: 'shop',
      at: T0 + day * DAY,
    });
    // The window: days 10–12. 'inside' used it on day 11 and came back on day 25; 'spanning' on
    // days 5 and 25 (the histories cannot tell it from one used inside); 'after' first on day 20;
    // 'before' on day 5 only; 'late' on day 30 then, out of order, day 11.
    await s.history.recordVisits([visit('inside', 11), visit('spanning', 5), visit('after', 20), visit('before', 5)]);
    await s.history.recordVisits([visit('inside', 25), visit('spanning', 25), visit('late', 30)]);
    await s.history.recordVisits([visit('late', 11)]);
    const slots = async (firstVisitBy?: number) => {
      const cards: string[] = [];
      await s.history.merchantCards(
        'shop',
        T0 + 10 * DAY,
        T0 + 40 * DAY,
        async (page) => {
          cards.push(...page.map((c) => c.slot));
        },
        firstVisitBy,
      );
      return cards.sort();
    };
    expect(await slots()).toEqual(['inside', 'spanning', 'after', 'late'].map((c) => slotOf(fp(c))).sort());
    expect(await slots(T0 + 12 * DAY)).toEqual(['inside', 'spanning', 'late'].map((c) => slotOf(fp(c))).sort());
    // Back 130 days after its last visit: its visits there start afresh (the first one went with the retention).
    await s.history.recordVisits([visit('inside', 155)]);
    const afresh: ExposedCard[] = [];
    await s.history.merchantCards(
      'shop',
      T0 + 150 * DAY,
      T0 + 160 * DAY,
      async (page) => {
        afresh.push(...page);
      },
      T0 + 154 * DAY,
    );
    expect(afresh).toEqual([]);
  });

  it("hands a merchant's cards over in pages, in the order of their last visit, each once, many at one time", async () => {
    // 25,000 cards at one shop, 3,000 of them at one time (a second's transactions, sent to the
    // second), across the reads' page boundaries; 100 before the period asked.
    const cards = Array.from({ length: 25_100 }, (_, i) => fp(`paged-shop-${i}`));
    const atOf = (i: number) => (i < 100 ? T0 : i < 3_100 ? T0 + 5 * DAY : T0 + 5 * DAY + (i - 3_000) * 1000);
    for (let i = 0; i < cards.length; i += 5_000)
      await s.history.recordVisits(
        cards
          .slice(i, i + 5_000)
          .map((card, j) => ({ card, bin: binOf(card), merchantId: 'big-shop', at: atOf(i + j) })),
      );
    const pages: ExposedCard[][] = [];
    await s.history.merchantCards('big-shop', T0 + DAY, T0 + 30 * DAY, async (page) => {
      pages.push(page);
    });
    expect(pages.map((p) => p.length)).toEqual([EXPOSED_PAGE, EXPOSED_PAGE, 5_000]);

    // A card read last in a page visits again while the listing runs: no other card loses its turn
    // (the moved one may come again, at its new visit).
    const bySlot = new Map(cards.map((card) => [slotOf(card), card]));
    const whileMoving: ExposedCard[] = [];
    await s.history.merchantCards('big-shop', T0 + DAY, T0 + 30 * DAY, async (page) => {
      if (whileMoving.length === 0) {
        const moved = bySlot.get(page[page.length - 1]!.slot)!;
        await s.history.recordVisits([{ card: moved, bin: binOf(moved), merchantId: 'big-shop', at: T0 + 29 * DAY }]);
      }
      whileMoving.push(...page);
    });
    expect(new Set(whileMoving.map((c) => c.slot))).toEqual(new Set(cards.slice(100).map(slotOf)));
    expect(whileMoving.length).toBeLessThanOrEqual(25_001);
    const all = pages.flat();
    expect(new Set(all.map((c) => c.slot)).size).toBe(25_000);
    expect(new Set(all.map((c) => c.slot))).toEqual(new Set(cards.slice(100).map(slotOf)));
    for (let i = 1; i < all.length; i++) expect(all[i]!.lastVisitAt).toBeGreaterThanOrEqual(all[i - 1]!.lastVisitAt);
    expect(all.filter((c) => c.lastVisitAt === T0 + 5 * DAY)).toHaveLength(3_000);
    expect(await s.history.merchantCardCount('big-shop', T0 + DAY, T0 + 30 * DAY)).toBe(25_000);
  });

  it("logs each card's fraud episodes: the latest one's first fraud and most trusted source; one that began long ago is not recent", async () => {
    await s.history.recordFrauds([
      { card: fp('a'), at: T0 + 50 * DAY, source: 'engine' },
      { card: fp('a'), at: T0 + 52 * DAY, source: 'chargeback' },
      { card: fp('b'), at: T0 + 55 * DAY, source: 'analyst' },
      { card: fp('stepped-up'), at: T0 + 56 * DAY, source: 'challenge', merchantId: 'shop-4' },
      // One episode from day 10 (labels 13 days apart at most): not recent on day 40.
      { card: fp('old'), at: T0 + 10 * DAY, source: 'chargeback', merchantId: 'shop-9' },
      { card: fp('old'), at: T0 + 23 * DAY, source: 'engine' },
      { card: fp('old'), at: T0 + 36 * DAY, source: 'engine' },
      // Defrauded again 50 days after its last fraud: stolen again, a new episode.
      { card: fp('again'), at: T0 + 10 * DAY, source: 'chargeback', merchantId: 'shop-9' },
      { card: fp('again'), at: T0 + 60 * DAY, source: 'engine', merchantId: 'shop-3' },
      // Defrauded at the same merchant, by the same source, weeks apart: the later one is a new episode.
      { card: fp('repeat'), at: T0 + 5 * DAY, source: 'chargeback', merchantId: 'shop-5' },
      { card: fp('repeat'), at: T0 + 50 * DAY + 7_200_000, source: 'chargeback', merchantId: 'shop-5' },
      { card: fp('repeat'), at: T0 + 50 * DAY + 3_600_000, source: 'chargeback', merchantId: 'shop-5' },
    ]);
    const recent = (await s.history.fraudsSince(T0 + 40 * DAY)).sort((x, y) => x.firstFraudAt - y.firstFraudAt);
    expect(recent).toEqual([
      { card: fp('a'), firstFraudAt: T0 + 50 * DAY, weight: 1 },
      { card: fp('repeat'), firstFraudAt: T0 + 50 * DAY + 3_600_000, weight: 1, fraudMerchants: ['shop-5'] },
      { card: fp('b'), firstFraudAt: T0 + 55 * DAY, weight: 0.9 },
      { card: fp('stepped-up'), firstFraudAt: T0 + 56 * DAY, weight: 0.5, fraudMerchants: ['shop-4'] },
      // Its earlier episode's merchant is kept apart, with that episode's start: from then on a
      // visit there was a fraudster's, not its holder's.
      {
        card: fp('again'),
        firstFraudAt: T0 + 60 * DAY,
        weight: 0.5,
        fraudMerchants: ['shop-3'],
        earlierFrauds: [{ merchantId: 'shop-9', since: T0 + 10 * DAY }],
      },
    ]);
    expect((await s.history.fraudsSince(T0)).find((f) => f.card === fp('old'))).toEqual({
      card: fp('old'),
      firstFraudAt: T0 + 10 * DAY,
      weight: 1,
      fraudMerchants: ['shop-9'],
    });
    // Where the frauds happened is kept (a merchant where a card was defrauded is not where it leaked).
    await s.history.recordFrauds([
      { card: fp('c'), at: T0 + 60 * DAY, source: 'engine', merchantId: 'shop-2' },
      { card: fp('c'), at: T0 + 61 * DAY, source: 'chargeback', merchantId: 'shop-1' },
      { card: fp('c'), at: T0 + 62 * DAY, source: 'chargeback', merchantId: 'shop-1' },
    ]);
    expect((await s.history.fraudsSince(T0 + 58 * DAY)).find((f) => f.card === fp('c'))).toEqual({
      card: fp('c'),
      firstFraudAt: T0 + 60 * DAY,
      weight: 1,
      fraudMerchants: ['shop-1', 'shop-2'],
    });
    // Labels older than the retention (120 days) before the newest one are gone: those before day 53.
    await s.history.recordFrauds([{ card: fp('d'), at: T0 + 173 * DAY, source: 'analyst' }]);
    expect((await s.history.fraudsSince(T0)).map((f) => f.card).sort()).toEqual(
      [fp('again'), fp('b'), fp('c'), fp('d'), fp('stepped-up')].sort(),
    );
  });

  it('keeps which suspicions asked for a failed step-up: no evidence against their merchants, unless another label of the episode is', async () => {
    await s.history.recordFrauds([
      {
        card: fp('asked'),
        at: T0 + 50 * DAY,
        source: 'challenge',
        merchantId: 'shop-1',
        askedBy: ['chain-9', 'chain-8'],
      },
      { card: fp('asked'), at: T0 + 51 * DAY, source: 'challenge', merchantId: 'shop-2', askedBy: ['chain-9'] },
      { card: fp('charged'), at: T0 + 50 * DAY, source: 'challenge', merchantId: 'shop-1', askedBy: ['chain-9'] },
      { card: fp('charged'), at: T0 + 53 * DAY, source: 'chargeback', merchantId: 'shop-1' },
      // The same failed step-up reported once as asked and once not (a suspicion retracted meanwhile): it counts.
      { card: fp('both'), at: T0 + 50 * DAY, source: 'challenge', merchantId: 'shop-1', askedBy: ['chain-9'] },
      { card: fp('both'), at: T0 + 50 * DAY, source: 'challenge', merchantId: 'shop-1' },
    ]);
    const recent = await s.history.fraudsSince(T0 + 40 * DAY);
    expect(recent.find((f) => f.card === fp('asked'))).toEqual({
      card: fp('asked'),
      firstFraudAt: T0 + 50 * DAY,
      weight: 0.5,
      fraudMerchants: ['shop-1', 'shop-2'],
      notEvidenceFor: ['chain-9'],
    });
    expect(recent.find((f) => f.card === fp('charged'))).toEqual({
      card: fp('charged'),
      firstFraudAt: T0 + 50 * DAY,
      weight: 1,
      fraudMerchants: ['shop-1'],
    });
    expect(recent.find((f) => f.card === fp('both'))).toEqual({
      card: fp('both'),
      firstFraudAt: T0 + 50 * DAY,
      weight: 0.5,
      fraudMerchants: ['shop-1'],
    });
  });

  it("takes labels back (a chargeback reversed): the label's member of its day and merchant goes, the card's other labels stay", async () => {
    await s.history.recordFrauds([
      { card: fp('reversed'), at: T0 + 50 * DAY, source: 'chargeback', merchantId: 'shop-1' },
      { card: fp('kept'), at: T0 + 50 * DAY, source: 'chargeback', merchantId: 'shop-1' },
      { card: fp('kept'), at: T0 + 51 * DAY, source: 'engine', merchantId: 'shop-2' },
    ]);
    await s.history.withdrawFrauds([
      { card: fp('reversed'), at: T0 + 50 * DAY + 3_600_000, source: 'chargeback', merchantId: 'shop-1' },
      { card: fp('kept'), at: T0 + 50 * DAY, source: 'chargeback', merchantId: 'shop-1' },
      // Never labelled: nothing to take back.
      { card: fp('never'), at: T0 + 50 * DAY, source: 'chargeback', merchantId: 'shop-1' },
    ]);
    expect(await s.history.fraudsSince(T0 + 40 * DAY)).toEqual([
      { card: fp('kept'), firstFraudAt: T0 + 51 * DAY, weight: 0.5, fraudMerchants: ['shop-2'] },
    ]);
  });

  it("takes back one transaction's label only: another chargeback or analyst decision of the card, merchant and day stays", async () => {
    const at = T0 + 50 * DAY;
    const label = (card: string, source: 'chargeback' | 'analyst', hour: number, tx: string): FraudLabel => ({
      card: fp(card),
      at: at + hour * 3_600_000,
      source,
      merchantId: 'shop-1',
      transaction: transactionKey('shop-1', tx),
    });
    await s.history.recordFrauds([
      label('two-chargebacks', 'chargeback', 1, 'tx-a'),
      label('two-chargebacks', 'chargeback', 2, 'tx-b'),
      label('two-analysts', 'analyst', 1, 'tx-c'),
      label('two-analysts', 'analyst', 2, 'tx-d'),
    ]);
    // Written again (a retried flush, an effect applied twice): still one label per transaction.
    await s.history.recordFrauds([label('two-chargebacks', 'chargeback', 2, 'tx-b')]);
    await s.history.withdrawFrauds([
      label('two-chargebacks', 'chargeback', 1, 'tx-a'),
      label('two-analysts', 'analyst', 2, 'tx-d'),
    ]);
    const left = async () =>
      new Map((await s.history.fraudsSince(T0 + 40 * DAY)).map((f) => [f.card, { at: f.firstFraudAt, w: f.weight }]));
    expect(await left()).toEqual(
      new Map([
        [fp('two-chargebacks'), { at: at + 2 * 3_600_000, w: 1 }],
        [fp('two-analysts'), { at: at + 3_600_000, w: 0.9 }],
      ]),
    );
    await s.history.withdrawFrauds([
      label('two-chargebacks', 'chargeback', 2, 'tx-b'),
      label('two-analysts', 'analyst', 1, 'tx-c'),
    ]);
    expect(await left()).toEqual(new Map());
  });

  it('reads labels written before transaction keys, and a withdrawal takes such a day label back whole', async () => {
    const at = T0 + 50 * DAY;
    // As an older version wrote them: no transaction key (one member per source, merchant and day).
    await s.history.recordFrauds([
      { card: fp('old'), at, source: 'chargeback', merchantId: 'shop-1' },
      { card: fp('old-kept'), at, source: 'analyst', merchantId: 'shop-1' },
    ]);
    expect((await s.history.fraudsSince(T0 + 40 * DAY)).map((f) => f.card).sort()).toEqual(
      [fp('old'), fp('old-kept')].sort(),
    );
    await s.history.withdrawFrauds([
      {
        card: fp('old'),
        at: at + 3_600_000,
        source: 'chargeback',
        merchantId: 'shop-1',
        transaction: transactionKey('shop-1', 'tx-old'),
      },
    ]);
    expect((await s.history.fraudsSince(T0 + 40 * DAY)).map((f) => f.card)).toEqual([fp('old-kept')]);
  });

  it('estimates the distinct cards of the weeks a period overlaps', async () => {
    const visits: VisitRecord[] = [];
    for (let i = 0; i < 200; i++) {
      const card = fp(`d${i}`);
      visits.push({ card, bin: '411111', merchantId: `m${i % 7}`, at: T0 + (i % 3) * 7 * DAY });
      visits.push({ card, bin: '411111', merchantId: `m${(i + 1) % 7}`, at: T0 + 7 * DAY });
    }
    await s.history.recordVisits(visits);
    // Redis: a HyperLogLog (0.81 % standard error); memory: exact.
    expect(Math.abs((await s.history.distinctCards(T0, T0 + 21 * DAY)) - 200)).toBeLessThanOrEqual(4);
    expect(await s.history.distinctCards(T0 + 60 * DAY, T0 + 70 * DAY)).toBe(0);
    // Each card used two merchants: 400 card–merchant pairs, two merchants for the average card.
    expect(Math.abs((await s.history.cardMerchantPairs(T0, T0 + 21 * DAY))! - 400)).toBeLessThanOrEqual(12);
    expect(await s.history.cardMerchantPairs(T0 + 7 * DAY, T0 + 8 * DAY)).toBeGreaterThanOrEqual(200);
    expect(await s.history.cardMerchantPairs(T0 + 60 * DAY, T0 + 70 * DAY)).toBe(0);
  });

  it('scans a generated breach: the breached merchant only, an event of its own, its exposed cards listed', async () => {
    const w = world(7, { merchants: 400, cards: 4_000, breach: true, breachCustomers: 300 });
    const visits: VisitRecord[] = [];
    for (const [card, list] of w.histories)
      for (const v of list) visits.push({ card: fp(card), bin: binOf(card), merchantId: v.merchantId, at: T0 + v.at });
    for (let i = 0; i < visits.length; i += 5_000) await s.history.recordVisits(visits.slice(i, i + 5_000));
    await s.history.recordFrauds(
      w.input.frauds.map((f) => ({ card: fp(f.card), at: T0 + f.firstFraudAt, source: 'chargeback' as const })),
    );
    const scanner = new BreachScanner(s.history, s.watchlist, { windowsMs: [60 * DAY] });
    const at = T0 + 131 * DAY;
    const report = await scanner.scan(at);
    expect(report.findings.map((f) => f.point.merchantId)).toEqual([w.breached!.merchantId]);
    const [finding] = report.findings;
    expect(finding!.created).toBe(true);
    expect(finding!.event).toMatchObject({
      issuerId: CPP_ISSUER,
      source: CPP_SOURCE,
      confidence: 'suspected',
      status: 'open',
      externalId: `cpp:${w.breached!.merchantId}`,
      dataElements: ['pan'],
    });
    const evidence = finding!.event.evidence!;
    expect(evidence.merchantId).toBe(w.breached!.merchantId);
    expect(evidence.fraudCards).toBe(finding!.point.fraudCards);
    expect(evidence.firstFrauds).toHaveLength(finding!.point.fraudCards);
    expect(evidence.exposedCards).toBe(finding!.newlyExposed);
    expect(Object.values(evidence.exposedByBin).reduce((a, b) => a + b, 0)).toBe(evidence.exposedCards);

    // Listed: every card that used the merchant since the window opened; not a card that never went there.
    const usedSinceWindow = [...w.histories]
      .filter(([, list]) =>
        list.some((v) => v.merchantId === w.breached!.merchantId && v.at >= finding!.point.windowStart - T0),
      )
      .map(([card]) => card);
    expect(evidence.exposedCards).toBe(usedSinceWindow.length);
    const never = [...w.histories.keys()].find(
      (card) => !w.histories.get(card)!.some((v) => v.merchantId === w.breached!.merchantId),
    )!;
    const entries = await s.watchlist.getEntries([entrySlot(fp(usedSinceWindow[0]!)), entrySlot(fp(never))]);
    expect(decodeEntry(entries[0]!)!.eventSeqs).toEqual([finding!.event.seq]);
    expect(entries[1]).toBeNull();

    // Scanned again: the same event, nothing newly exposed; dismissed, nothing listed again.
    const again = await scanner.scan(at);
    expect(again.findings.map((f) => [f.event.id, f.created, f.newlyExposed])).toEqual([[finding!.event.id, false, 0]]);
    await s.watchlist.updateEvent(finding!.event.seq, { status: 'retracted' }, new Date(at));
    const dismissed = await scanner.scan(at);
    expect(dismissed.findings[0]!.event.status).toBe('retracted');
    expect(dismissed.findings[0]!.newlyExposed).toBe(0);

    // A new breach there after the dismissal: fresh frauds among its customers open a new event.
    const customers = [...w.histories]
      .filter(
        ([card, list]) =>
          list.some((v) => v.merchantId === w.breached!.merchantId) && !w.input.frauds.some((f) => f.card === card),
      )
      .map(([card]) => card)
      .slice(0, 12);
    await s.history.recordFrauds(
      customers.map((card) => ({ card: fp(card), at: at + 2 * DAY, source: 'chargeback' as const })),
    );
    const later = await scanner.scan(at + 3 * DAY);
    const reopened = later.findings.find((f) => f.point.merchantId === w.breached!.merchantId)!;
    expect(reopened.created).toBe(true);
    expect(reopened.event).toMatchObject({ externalId: `cpp:${w.breached!.merchantId}:2`, status: 'open' });
    expect(reopened.newlyExposed).toBeGreaterThan(0);
  });

  it('lists the customers of a breach first named once presumed over, those who came back after it too', async () => {
    // 2,000 cards at 3 of 200 shops over days 0–60; a breach at 'shop' on days 10–12: 40 customers,
    // every third one defrauded 3 days later at a web shop; 13 of the others (BIN 522222) back at the
    // shop on day 25, after it; one newcomer on day 25 only.
    const rnd = mulberry32(5);
    const visits: VisitRecord[] = [];
    const visit = (card: string, bin: string, merchantId: string, at: number) =>
      visits.push({ card: fp(card), bin, merchantId, at });
    for (let c = 0; c < 2_000; c++)
      for (let i = 0; i < 3; i++) visit(`c${c}`, '499999', `m${Math.floor(rnd() * 200)}`, T0 + rnd() * 60 * DAY);
    const frauds: FraudLabel[] = [];
    const returning: string[] = [];
    for (let i = 0; i < 40; i++) {
      const at = T0 + (10 + i / 20) * DAY;
      const back = i % 3 !== 0 && i % 2 === 0;
      visit(`b${i}`, back ? '522222' : '411111', 'shop', at);
      if (i % 3 === 0)
        frauds.push({ card: fp(`b${i}`), at: at + 3 * DAY, source: 'chargeback', merchantId: `web-${i % 5}` });
      if (back) returning.push(`b${i}`);
    }
    for (let i = 0; i < visits.length; i += 5_000) await s.history.recordVisits(visits.slice(i, i + 5_000));
    await s.history.recordFrauds(frauds);
    await s.history.recordVisits([
      ...returning.map((card) => ({ card: fp(card), bin: '522222', merchantId: 'shop', at: T0 + 25 * DAY })),
      { card: fp('newcomer'), bin: '522222', merchantId: 'shop', at: T0 + 25 * DAY },
    ]);
    expect(returning).toHaveLength(13);

    // First named on day 30, more than twice its cards' delay (3 days) after its last compromising visit.
    const [finding, ...others] = (await new BreachScanner(s.history, s.watchlist).scan(T0 + 30 * DAY)).findings;
    expect(others).toEqual([]);
    expect(finding!.point).toMatchObject({ merchantId: 'shop', fraudCards: 14, windowEnd: T0 + 11.95 * DAY });
    expect(finding!.event.evidence).toMatchObject({
      presumedOver: true,
      listedUntil: new Date(T0 + 11.95 * DAY).toISOString(),
      exposedCards: 40,
      exposedByBin: { '411111': 27, '522222': 13 },
    });
    const listed = await s.watchlist.getEntries([...returning, 'newcomer'].map((card) => entrySlot(fp(card))));
    expect(listed.slice(0, -1).every((entry) => entry !== null)).toBe(true);
    expect(listed.at(-1)).toBeNull();
  });

  it('dates a breach of regular customers by their last visits before their frauds, not their first ever', async () => {
    // 2,000 cards at 3 of 200 shops over days 0–60; 40 regulars at 'grocer' every week from day 0
    // to 56, whose terminals are skimmed on days 50–52; every third one defrauded on day 55.
    const rnd = mulberry32(7);
    const visits: VisitRecord[] = [];
    const visit = (card: string, merchantId: string, at: number) =>
      visits.push({ card: fp(card), bin: '411111', merchantId, at });
    for (let c = 0; c < 2_000; c++)
      for (let i = 0; i < 3; i++) visit(`c${c}`, `m${Math.floor(rnd() * 200)}`, T0 + rnd() * 60 * DAY);
    const frauds: FraudLabel[] = [];
    for (let i = 0; i < 40; i++) {
      for (let d = i % 7; d <= 56; d += 7) visit(`r${i}`, 'grocer', T0 + d * DAY);
      if (i % 3 === 0)
        frauds.push({ card: fp(`r${i}`), at: T0 + 55 * DAY, source: 'chargeback', merchantId: `web-${i % 5}` });
    }
    for (let i = 0; i < visits.length; i += 5_000) await s.history.recordVisits(visits.slice(i, i + 5_000));
    await s.history.recordFrauds(frauds);
    const [finding] = (await new BreachScanner(s.history, s.watchlist).scan(T0 + 57 * DAY)).findings;
    expect(finding!.point).toMatchObject({ merchantId: 'grocer', fraudCards: 14 });
    // Its cards' last visits there more than a day before their frauds: days 50–53 (those back on
    // days 54–56, after that, are known by their first visit alone and tell no delay).
    expect(finding!.point.windowEnd).toBe(T0 + 53 * DAY);
    expect(finding!.point.fraudDelayMs).toBe(5 * DAY);
    expect(finding!.event.exposureEnd).toBe(new Date(T0 + 53 * DAY).toISOString());
  });

  it('suspects nobody on a clean dataset', async () => {
    const w = world(12, { merchants: 400, cards: 4_000 });
    const visits: VisitRecord[] = [];
    for (const [card, list] of w.histories)
      for (const v of list) visits.push({ card: fp(card), bin: binOf(card), merchantId: v.merchantId, at: T0 + v.at });
    await s.history.recordVisits(visits);
    await s.history.recordFrauds(
      w.input.frauds.map((f) => ({ card: fp(f.card), at: T0 + f.firstFraudAt, source: 'chargeback' as const })),
    );
    const report = await new BreachScanner(s.history, s.watchlist, { windowsMs: [60 * DAY] }).scan(T0 + 131 * DAY);
    expect(report.fraudulentCards).toBeGreaterThan(5);
    expect(report.merchantsTested).toBeGreaterThan(20);
    expect(report.findings).toEqual([]);
    expect(await s.watchlist.listEvents()).toEqual([]);
  });

  it('hands a scan its fraudulent cards with their visits in pages, as fraudsSince and visitsOf give them', async () => {
    // 5,000 cards labelled in the window (a page and more), 300 before it, each at two merchants.
    const cards = Array.from({ length: 5_300 }, (_, i) => fp(`paged-${i}`));
    await s.history.recordVisits(
      cards.flatMap((card, i) => [
        { card, bin: binOf(card), merchantId: `pm${i % 7}`, at: T0 + DAY + i },
        { card, bin: binOf(card), merchantId: `pm${(i + 3) % 7}`, at: T0 + 2 * DAY + i },
      ]),
    );
    await s.history.recordFrauds(
      cards.map((card, i) => ({
        card,
        at: T0 + (i < 300 ? 10 : 40) * DAY + i,
        source: 'chargeback' as const,
        merchantId: 'cash-out',
      })),
    );
    const since = T0 + 30 * DAY;
    const pages: FraudulentCardVisits[][] = [];
    await s.history.fraudsWithVisitsSince(since, (page) => pages.push(page));
    expect(pages.map((p) => p.length)).toEqual([FRAUD_PAGE, 5_000 - FRAUD_PAGE]);
    const records = await s.history.fraudsSince(since);
    const visits = await s.history.visitsOf(records.map((r) => r.card));
    expect(pages.flat()).toEqual(records.map((record) => ({ record, visits: visits.get(record.card) })));
  });

  it("within a scan's budget, reads the newest cards that fit, days whole from the newest back, and says from when", async () => {
    // 100 cards labelled on each of days 40-44, and 20 more on days 41 and 44 (one episode, from day 41).
    const onDay = (d: number) => Array.from({ length: 100 }, (_, i) => fp(`budget-${d}-${i}`));
    const twice = Array.from({ length: 20 }, (_, i) => fp(`budget-twice-${i}`));
    const labels: FraudLabel[] = [40, 41, 42, 43, 44].flatMap((d) =>
      onDay(d).map((card, i) => ({ card, at: T0 + d * DAY + i * 1000, source: 'chargeback' as const })),
    );
    for (const d of [41, 44])
      labels.push(...twice.map((card, i) => ({ card, at: T0 + d * DAY + 3_600_000 + i, source: 'engine' as const })));
    await s.history.recordFrauds(labels);
    await s.history.recordVisits(
      [...[40, 41, 42, 43, 44].flatMap(onDay), ...twice].map((card, i) => ({
        card,
        bin: binOf(card),
        merchantId: `bm${i % 5}`,
        at: T0 + DAY + i,
      })),
    );
    const since = T0 + 30 * DAY;
    const read = async (from: number, maxCards?: number, until = Infinity) => {
      const pages: FraudulentCardVisits[][] = [];
      const budget = maxCards === undefined ? undefined : { maxCards, until };
      const read = await s.history.fraudsWithVisitsSince(from, (page) => pages.push(page), budget);
      return { covered: read.coveredSince, labelled: read.labelledCards, cards: pages.flat() };
    };
    const whole = await read(since);
    expect(whole.covered).toBe(since);
    expect(whole.labelled).toBe(520);
    expect(whole.cards).toHaveLength(520);
    expect(await read(since, 520)).toEqual(whole);

    // Days 44, 43 and 42 hold 320 cards; day 41 would add 100 more (its 20 repeated cards are held already).
    const fitted = await read(since, 320);
    expect(fitted.covered).toBe(T0 + 42 * DAY);
    // fraudsSince(from day 42)'s cards, in its order: the 20 whose episode began on day 41 are not among them.
    expect(fitted).toEqual(await read(T0 + 42 * DAY));
    expect(fitted.labelled).toBe(320);
    expect(new Set(fitted.cards.map((c) => c.record.card))).toEqual(new Set([42, 43, 44].flatMap(onDay)));
    // One card short of day 41: its newest 99, from the second one's time; as read from then on.
    const short = await read(since, 419);
    expect(short.covered).toBe(T0 + 41 * DAY + 1000);
    expect(short).toEqual(await read(T0 + 41 * DAY + 1000));
    expect(short.cards).toHaveLength(419);
    expect(short.labelled).toBe(419);
    expect((await read(since, 420)).covered).toBe(T0 + 41 * DAY);

    // The newest day alone (120 cards) does not fit: its newest 119 (the 20 repeated cards, whose
    // episode began on day 41, and 99 of its own).
    const newest = await read(since, 119);
    expect(newest.covered).toBe(T0 + 44 * DAY + 1000);
    expect(newest.labelled).toBe(119);
    expect(newest.cards.map((c) => c.record.card)).toEqual(
      (await read(T0 + 44 * DAY + 1000)).cards.map((c) => c.record.card),
    );
    expect(new Set(newest.cards.map((c) => c.record.card))).toEqual(new Set(onDay(44).slice(1)));

    // From the middle of day 40: its 50 cards labelled before then began their episodes before it
    // and take no room: 470 fit (not the 520 of whole days), the same cards as read without a budget.
    const midday = T0 + 40 * DAY + 50_000;
    const fromMidday = await read(midday);
    expect(fromMidday.cards).toHaveLength(470);
    expect(await read(midday, 470)).toEqual(fromMidday);
    expect((await read(midday, 469)).covered).toBe(T0 + 40 * DAY + 51_000);

    // Up to a scan's time: the days after it take no room (days 42, 41 with its repeated 20, then
    // not 40), and their cards are left to the scan to set aside (the 20 began on day 41).
    const upTo42 = await read(since, 220, T0 + 42 * DAY + 43_200_000);
    expect(upTo42.covered).toBe(T0 + 41 * DAY);
    expect(upTo42.labelled).toBe(220);
    expect(new Set(upTo42.cards.map((c) => c.record.card))).toEqual(new Set([...onDay(41), ...onDay(42), ...twice]));
    expect((await read(since, 220)).covered).toBe(T0 + 43 * DAY);
  });

  it("gives the scan's turn to one holder until it expires, then to whoever asks first", async () => {
    expect(await s.history.takeScanTurn('engine-a', 1_500)).toBe(true);
    expect(await s.history.takeScanTurn('engine-b', 1_500)).toBe(false);
    expect(await s.history.takeScanTurn('engine-a', 1_500)).toBe(false); // its own turn is not taken twice
    await sleep(1_600);
    expect(await s.history.takeScanTurn('engine-b', 60_000)).toBe(true);
    expect(await s.history.takeScanTurn('engine-a', 60_000)).toBe(false);
  });
});

/**
 * Counts the calls of the given commands a Redis client makes, the most in flight at once, and the
 * key of each call (the client's methods wrapped: what the store sends, not what Redis receives).
 */
function countInFlight(
  redis: RedisClient,
  commands: readonly string[],
): { calls: number; most: number; keys: string[] } {
  const methods = redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const counted = { calls: 0, most: 0, keys: [] as string[] };
  let inFlight = 0;
  for (const name of commands) {
    const original = methods[name]!.bind(redis);
    methods[name] = async (...args) => {
      counted.calls++;
      counted.keys.push(String(args[0]));
      counted.most = Math.max(counted.most, ++inFlight);
      try {
        return await original(...args);
      } finally {
        inFlight--;
      }
    };
  }
  return counted;
}

describe('card histories on one Redis', () => {
  it("agree with the embedded store on the day the labels' floor falls on, within a budget", async () => {
    // A retention of 10 days inside a scan's 30: the floor falls on a day with a label before it.
    const redis = await whenReady(connectRedis(redisServer.url));
    try {
      await redis.flushall();
      const options = { retentionMs: 10 * DAY, merchantsPerCard: 5 };
      const stores = [new MemoryCardHistoryStore(options), new RedisCardHistoryStore(redis, options)];
      const newest = T0 + 40 * DAY + 12 * 3_600_000;
      const floor = newest - 10 * DAY;
      const labels: FraudLabel[] = [
        { card: fp('before-floor'), at: floor - 3_600_000, source: 'chargeback' },
        { card: fp('after-floor'), at: floor + 3_600_000, source: 'chargeback' },
        { card: fp('newest'), at: newest, source: 'chargeback' },
      ];
      const answers = [];
      for (const store of stores) {
        // The floor moves a day at the third label: the embedded store sweeps what is older.
        for (const l of labels) await store.recordFrauds([l]);
        for (const maxCards of [1, 2, 3]) {
          const cards: string[] = [];
          const read = await store.fraudsWithVisitsSince(
            newest - 30 * DAY,
            (page) => cards.push(...page.map((c) => c.record.card)),
            { maxCards, until: newest },
          );
          answers.push({ store: store.constructor.name, maxCards, ...read, cards: cards.sort() });
        }
      }
      const [memory, onRedis] = [answers.slice(0, 3), answers.slice(3)];
      expect(onRedis.map(({ store: _s, ...a }) => a)).toEqual(memory.map(({ store: _s, ...a }) => a));
      // Room for two: the floor's day, read whole or not at all, holds two (one first labelled before
      // the floor): not read. Room for three: read, the card labelled after the floor tested.
      expect(memory[1]).toMatchObject({ labelledCards: 1, cards: [fp('newest')] });
      expect(memory[2]).toMatchObject({ labelledCards: 3, cards: [fp('after-floor'), fp('newest')].sort() });
    } finally {
      redis.disconnect();
    }
  });

  it("read a merchant's cards a thousand a reply: never one reply of millions, which would hold Redis", async () => {
    const redis = await whenReady(connectRedis(redisServer.url));
    try {
      await redis.flushall();
      const history = new RedisCardHistoryStore(redis, OPTIONS);
      const cards = Array.from({ length: 4_500 }, (_, i) => fp(`replies-${i}`));
      await history.recordVisits(cards.map((card, i) => ({ card, bin: '411111', merchantId: 'shop', at: T0 + i })));
      const methods = redis as unknown as Record<string, (...args: unknown[]) => Promise<string[]>>;
      const original = methods.zrangebyscore!.bind(redis);
      const replies: number[] = [];
      methods.zrangebyscore = async (...args) => {
        const reply = await original(...args);
        replies.push(reply.length / 2);
        return reply;
      };
      expect(await exposedAt(history, 'shop', T0, T0 + DAY)).toHaveLength(4_500);
      // Each reply after the first repeats the last card read: the next starts at its time.
      expect(replies).toEqual([1_000, 1_001, 1_001, 1_001, 501]);
    } finally {
      redis.disconnect();
    }
  });

  it("read a scan's cards a few dozen at a time, so that scorings go between the reads", async () => {
    const redis = await whenReady(connectRedis(redisServer.url));
    try {
      const history = new RedisCardHistoryStore(redis, OPTIONS);
      const cards = Array.from({ length: 500 }, (_, i) => fp(`read-${i}`));
      await history.recordVisits(
        cards.map((card, i) => ({ card, bin: '411111', merchantId: `rm${i % 9}`, at: T0 + i })),
      );
      const reads = countInFlight(redis, ['zrange']);
      const visits = await history.visitsOf(cards);
      // Each card's two keys (its merchants at their first and last visits) together.
      expect(reads.calls).toBe(1_000);
      expect(reads.most).toBe(64);
      expect(visits.get(cards[123]!)).toEqual([{ merchantId: `rm${123 % 9}`, at: T0 + 123 }]);
      expect([...visits.keys()]).toEqual(cards);
    } finally {
      redis.disconnect();
    }
  });

  it("read a scan's cards with their labels and merchants asked for together, a few dozen cards at a time", async () => {
    const redis = await whenReady(connectRedis(redisServer.url));
    try {
      await redis.flushall();
      const history = new RedisCardHistoryStore(redis, OPTIONS);
      const cards = Array.from({ length: 500 }, (_, i) => fp(`both-${i}`));
      await history.recordVisits(cards.map((card) => ({ card, bin: '411111', merchantId: 'shop', at: T0 })));
      await history.recordFrauds(cards.map((card) => ({ card, at: T0 + DAY, source: 'chargeback' as const })));
      const reads = countInFlight(redis, ['zrange']);
      let read = 0;
      await history.fraudsWithVisitsSince(T0, (page) => (read += page.length));
      expect(read).toBe(500);
      // Each card's three keys (labels, merchants at first and last visits) asked for one after
      // the other, before any answers.
      expect(reads.calls).toBe(1_500);
      for (let i = 0; i < reads.keys.length; i += 3) {
        expect(reads.keys[i + 1]).toBe(reads.keys[i]!.replace(/:hf$/, ':hv'));
        expect(reads.keys[i + 2]).toBe(reads.keys[i]!.replace(/:hf$/, ':h'));
      }
      expect(reads.most).toBeLessThanOrEqual(96);
    } finally {
      redis.disconnect();
    }
  });

  it("read only the cards labelled in a scan's days, each card's labels from its own key, a day's cards in pages", async () => {
    const redis = await whenReady(connectRedis(redisServer.url));
    try {
      await redis.flushall();
      const history = new RedisCardHistoryStore(redis, OPTIONS);
      // 6,000 cards labelled on day 10 only; 18,000 on day 50, the first 3,000 of them on day 10 too.
      await history.recordFrauds([
        ...Array.from({ length: 6_000 }, (_, i) => ({
          card: fp(`old-${i}`),
          at: T0 + 10 * DAY + i,
          source: 'chargeback' as const,
        })),
        ...Array.from({ length: 18_000 }, (_, i) => ({
          card: fp(`new-${i}`),
          at: T0 + 50 * DAY + i,
          source: 'challenge' as const,
          merchantId: 'shop-b',
        })),
        ...Array.from({ length: 3_000 }, (_, i) => ({
          card: fp(`new-${i}`),
          at: T0 + 10 * DAY + i,
          source: 'chargeback' as const,
          merchantId: 'shop-a',
        })),
      ]);
      const reads = countInFlight(redis, ['zrange', 'zscan']);
      const recent = await history.fraudsSince(T0 + 40 * DAY);
      expect(recent).toHaveLength(18_000);
      // Each card's labels read whole, back to the retention: its earlier episode's merchant too.
      expect(recent.find((r) => r.card === fp('new-17'))).toEqual({
        card: fp('new-17'),
        firstFraudAt: T0 + 50 * DAY + 17,
        weight: 0.5,
        fraudMerchants: ['shop-b'],
        earlierFrauds: [{ merchantId: 'shop-a', since: T0 + 10 * DAY + 17 }],
      });
      // One read per card of the window, a few dozen at a time; no card labelled only before it.
      const cardReads = reads.keys.filter((k) => k.endsWith(':hf'));
      expect(cardReads).toHaveLength(18_000);
      expect(cardReads).not.toContain(HISTORY_KEYS.cardFrauds(fp('old-0')));
      expect(reads.most).toBeLessThanOrEqual(32);
      // The days' cards: only the window's days, day 50's 18,000 in its 16 keys, ~1,000 a call.
      const days = reads.keys.flatMap((k) => /^lg:\{cpp:f:(\d+):\d+\}$/.exec(k)?.[1] ?? []).map(Number);
      expect(Math.min(...days)).toBe(labelDay(T0 + 40 * DAY));
      expect(days.filter((d) => d === labelDay(T0 + 50 * DAY)).length).toBeGreaterThanOrEqual(2 * 16);
      expect(reads.keys.some((k) => k.startsWith('lg:{cpp}:f:'))).toBe(false);
    } finally {
      redis.disconnect();
    }
  });

  it('write a flush of thousands of visits two scripts at a time, so that scorings go between them', async () => {
    const redis = await whenReady(connectRedis(redisServer.url));
    try {
      // The history scripts (EVALSHA, or EVAL when Redis lacks the script).
      const scripts = countInFlight(redis, ['evalsha', 'eval']);
      const history = new RedisCardHistoryStore(redis, OPTIONS);
      const visits = Array.from({ length: 3_000 }, (_, i) => ({
        card: fp(`paced-${i}`),
        bin: '411111',
        merchantId: `pm${i % 50}`,
        at: T0 + i,
      }));
      await history.recordVisits(visits);
      // 3,000 cards, 50 merchants and the latest visit: 3,051 keys, 32 a script.
      expect(scripts.calls).toBeGreaterThanOrEqual(Math.ceil(3_051 / 32));
      expect(scripts.most).toBe(2);
      const last = visits.at(-1)!;
      expect((await history.visitsOf([last.card])).get(last.card)).toEqual([{ merchantId: 'pm49', at: last.at }]);
      expect(await history.merchantCardCount('pm0', T0, T0 + 3_000)).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
  });
});

const redisTopologies = [
  {
    name: 'one Redis',
    connect: async () => {
      const redis = await whenReady(connectRedis(redisServer.url));
      await redis.flushall();
      return redis;
    },
  },
  {
    name: 'a cluster',
    connect: async () => {
      await cluster.flushAll();
      return whenReady(connectRedis({ clusterNodes: cluster.seeds }));
    },
  },
];

describe.each(redisTopologies)("a merchant's first visits after an upgrade: $name", ({ connect }) => {
  it('count a card recorded before them as having come by then; its next visit keeps its known time as the first', async () => {
    const redis = await connect();
    try {
      const history = new RedisCardHistoryStore(redis, OPTIONS);
      const visit = (card: string, day: number): VisitRecord => ({
        card: fp(card),
        bin: '411111',
        merchantId: 'shop',
        at: T0 + day * DAY,
      });
      // As an engine before first visits wrote them: the merchant's cards at their last visit only.
      for (const [card, day] of [
        ['old', 11],
        ['older', 11],
        ['new', 20],
      ] as const)
        await redis.zadd(
          HISTORY_KEYS.merchantCards(subIdentity('merchant', 'shop', slotOf(fp(card)))),
          T0 + day * DAY,
          `${slotOf(fp(card))}.411111`,
        );
      await history.recordVisits([visit('older', 25)]);
      const cards: string[] = [];
      await history.merchantCards(
        'shop',
        T0 + 10 * DAY,
        T0 + 40 * DAY,
        async (page) => {
          cards.push(...page.map((c) => c.slot));
        },
        T0 + 12 * DAY,
      );
      expect(cards.sort()).toEqual(['old', 'older', 'new'].map((c) => slotOf(fp(c))).sort());
      // 'new' came by day 20 as far as anyone knows; 'older' by day 11, its last visit when it came back.
      cards.length = 0;
      await history.recordVisits([visit('new', 26)]);
      await history.merchantCards(
        'shop',
        T0 + 10 * DAY,
        T0 + 40 * DAY,
        async (page) => {
          cards.push(...page.map((c) => c.slot));
        },
        T0 + 12 * DAY,
      );
      expect(cards.sort()).toEqual(['old', 'older'].map((c) => slotOf(fp(c))).sort());
    } finally {
      redis.disconnect();
    }
  });
});

describe.each(redisTopologies)("a card's first visits after an upgrade: $name", ({ connect }) => {
  it('are its merchants kept before them (at their first visit): its next visit there keeps that one as the first', async () => {
    const redis = await connect();
    try {
      const history = new RedisCardHistoryStore(redis, OPTIONS);
      const card = fp('upgraded');
      // As an engine before first visits wrote them: the card's merchants at their first visit only.
      await redis.zadd(HISTORY_KEYS.cardMerchants(card), T0 + 3 * DAY, 'shop', T0 + 5 * DAY, 'bar');
      expect((await history.visitsOf([card])).get(card)).toEqual([
        { merchantId: 'shop', at: T0 + 3 * DAY },
        { merchantId: 'bar', at: T0 + 5 * DAY },
      ]);
      await history.recordVisits([{ card, bin: '411111', merchantId: 'shop', at: T0 + 20 * DAY }]);
      expect((await history.visitsOf([card])).get(card)).toEqual([
        { merchantId: 'shop', at: T0 + 3 * DAY },
        { merchantId: 'bar', at: T0 + 5 * DAY },
        { merchantId: 'shop', at: T0 + 20 * DAY },
      ]);
    } finally {
      redis.disconnect();
    }
  });
});

describe.each(redisTopologies)('card-merchant pairs after an upgrade: $name', ({ connect }) => {
  it('are unknown while a week of the period saw cards but kept no pairs (recorded before they were)', async () => {
    const redis = await connect();
    try {
      const history = new RedisCardHistoryStore(redis, OPTIONS);
      const visits = (week: number): VisitRecord[] =>
        Array.from({ length: 10 }, (_, i) => ({
          card: fp(`u${i}`),
          bin: '411111',
          merchantId: `m${i % 3}`,
          at: T0 + week * 7 * DAY,
        }));
      await history.recordVisits([...visits(0), ...visits(1)]);
      expect(await history.cardMerchantPairs(T0, T0 + 8 * DAY)).toBe(10);
      // The earlier week as an engine before the pairs wrote it: its cards, no pairs.
      await redis.del(HISTORY_KEYS.pairsWeek(weekOf(T0)));
      expect(await history.cardMerchantPairs(T0, T0 + 8 * DAY)).toBeUndefined();
      // The covered week alone is not known either: it began keeping pairs after the week before,
      // perhaps part way through (found by a review). A week after it is.
      expect(await history.cardMerchantPairs(T0 + 7 * DAY, T0 + 8 * DAY)).toBeUndefined();
      await history.recordVisits(visits(2));
      expect(await history.cardMerchantPairs(T0 + 14 * DAY, T0 + 15 * DAY)).toBe(10);
      // A period of a week that saw nothing is known.
      expect(await history.cardMerchantPairs(T0 + 70 * DAY, T0 + 71 * DAY)).toBe(0);
    } finally {
      redis.disconnect();
    }
  });
});

describe.each(redisTopologies)('fraud logs of the layout before labels were kept per card: $name', ({ connect }) => {
  it('are moved into the per-card keys by the next scan, then deleted', async () => {
    const redis = await connect();
    try {
      const day = (d: number) => labelDay(T0 + d * DAY);
      const legacy = (source: string) => HISTORY_KEYS.legacyFrauds(source);
      // As earlier versions wrote them: a sorted set per source of `card day merchant`, before that
      // `card merchant` or the card alone; and one log an engine set aside and stopped moving.
      await redis.zadd(legacy('chargeback'), T0 + 50 * DAY, `${fp('l1')} ${day(50)} shop-1`);
      await redis.zadd(legacy('chargeback'), T0 + 10 * DAY, `${fp('l1')} ${day(10)} shop-0`);
      await redis.zadd(legacy('chargeback'), T0 + 51 * DAY, `${fp('l2')} shop-2`);
      await redis.zadd(legacy('analyst'), T0 + 52 * DAY, fp('l3'));
      await redis.zadd(`${legacy('engine')}:moving`, T0 + 53 * DAY, `${fp('l4')} ${day(53)} `);
      const history = new RedisCardHistoryStore(redis, OPTIONS);
      const byCard = (records: FraudulentCardRecord[]) => records.sort((a, b) => a.firstFraudAt - b.firstFraudAt);
      const recent = byCard(await history.fraudsSince(T0 + 40 * DAY));
      expect(recent).toEqual([
        {
          card: fp('l1'),
          firstFraudAt: T0 + 50 * DAY,
          weight: 1,
          fraudMerchants: ['shop-1'],
          earlierFrauds: [{ merchantId: 'shop-0', since: T0 + 10 * DAY }],
        },
        { card: fp('l2'), firstFraudAt: T0 + 51 * DAY, weight: 1, fraudMerchants: ['shop-2'] },
        { card: fp('l3'), firstFraudAt: T0 + 52 * DAY, weight: 0.9 },
        { card: fp('l4'), firstFraudAt: T0 + 53 * DAY, weight: 0.5 },
      ]);
      const logs = Object.keys(FRAUD_SOURCES).flatMap((source) => [legacy(source), `${legacy(source)}:moving`]);
      expect(await redis.exists(...logs)).toBe(0);
      // Read again from the per-card keys alone: the same.
      expect(byCard(await history.fraudsSince(T0 + 40 * DAY))).toEqual(recent);
    } finally {
      redis.disconnect();
    }
  });
});
