// The velocity contract, held against every store: the in-memory embedded default, a real Redis
// and a real three-master Redis Cluster.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REDIS_KEYS } from '../../services/adapters/redis/keys.ts';
import { MemoryVelocityStore } from '../../services/adapters/memory/velocity-store.ts';
import type { NegativeListStore } from '../../services/cases/negative-lists.ts';
import { MemoryNegativeListStore } from '../../services/adapters/memory/negative-list-store.ts';
import { RedisNegativeListStore } from '../../services/adapters/redis/negative-list-store.ts';
import { listLookup } from '../../services/core/lists.ts';
import { RedisVelocityStore } from '../../services/adapters/redis/velocity-store.ts';
import { connectRedis, whenReady } from '../../services/adapters/redis/connection.ts';
import {
  buildCounterPlan,
  SPREAD,
  subIdentity,
  VELOCITY_FEATURES,
  WINDOWS,
  WithdrawalBeforeOutcomeError,
  type TransactionFacts,
  type VelocityStore,
  type Retention,
} from '../../services/core/velocity.ts';
import { RedisCluster } from '../support/redis-cluster.ts';
import { RedisServer } from '../support/redis-server.ts';

const T0 = Date.parse('2026-11-01T12:00:00Z');
const MIN = 60_000;

let n = 0;
function tx(over: Partial<TransactionFacts> & { card?: string } = {}): TransactionFacts {
  const { card = 'cardA', ...rest } = over;
  return {
    merchantId: 'm1',
    transactionId: `tx${++n}`,
    payloadHash: `h${n}`,
    occurredAt: T0,
    amountCents: 1000,
    small: false,
    entities: { card: [card], merchant: ['m1'], bin: ['411111'] },
    ...rest,
  };
}

interface Subject {
  name: string;
  /** How long a transaction's marker and its stored response live (LEAKGUARD_MARKER_RETENTION_DAYS, LEAKGUARD_RESPONSE_RETENTION_HOURS); the defaults unless given. */
  open(retention?: Partial<Retention>): Promise<VelocityStore>;
}
/** The negative lists of the store last opened (fed by analysts' decisions, read by scoring). */
let lists: NegativeListStore;

let redisServer: RedisServer;
let cluster: RedisCluster;
const subjects: Subject[] = [
  {
    name: 'memory',
    open: async (retention = {}) => {
      const memory = new MemoryNegativeListStore();
      lists = memory;
      return new MemoryVelocityStore({ lists: memory, ...retention });
    },
  },
  {
    name: 'redis',
    open: async (retention = {}) => {
      const redis = await whenReady(connectRedis(redisServer.url));
      await redis.flushall();
      lists = new RedisNegativeListStore(redis);
      return new RedisVelocityStore(redis, retention);
    },
  },
  {
    // Three masters: every slot group in its own script, the claim first (docs/redis-cluster.md).
    name: 'redis cluster',
    open: async (retention = {}) => {
      await cluster.flushAll();
      const redis = await whenReady(connectRedis({ clusterNodes: cluster.seeds }));
      lists = new RedisNegativeListStore(redis);
      return new RedisVelocityStore(redis, retention);
    },
  },
];

beforeAll(async () => {
  [redisServer, cluster] = await Promise.all([RedisServer.start(), RedisCluster.start()]);
});
afterAll(async () => {
  await Promise.all([redisServer.stop(), cluster.stop()]);
});

describe.each(subjects)('velocity store contract: $name', (subject) => {
  let store: VelocityStore;
  beforeEach(async () => {
    store = await subject.open();
    return () => store.close();
  });

  const record = async (facts: TransactionFacts) => {
    const reading = await store.recordAndRead(buildCounterPlan(facts, REDIS_KEYS));
    expect(reading.status).toBe('new');
    return reading.velocity!;
  };

  it('returns every contract feature, zero for entities the transaction lacks', async () => {
    const v = await record(tx());
    expect(Object.keys(v).sort()).toEqual([...VELOCITY_FEATURES].sort());
    expect(v.device_count_24h).toBe(0);
    expect(v.card_count_1h).toBe(1); // the current transaction is included
  });

  it('counts over (t - window, t]: the lower bound is excluded, later events are not counted', async () => {
    await record(tx({ occurredAt: T0 - WINDOWS['1h'] })); // exactly one hour before: outside the 1h window
    await record(tx({ occurredAt: T0 - WINDOWS['1h'] + 1 }));
    await record(tx({ occurredAt: T0 + 5 * MIN })); // after the transaction being scored
    const v = await record(tx({ occurredAt: T0 }));
    expect(v.card_count_10m).toBe(1);
    expect(v.card_count_1h).toBe(2);
    expect(v.card_count_24h).toBe(3);
  });

  it('sums amounts and counts small-amount attempts per window', async () => {
    await record(tx({ occurredAt: T0 - 2 * WINDOWS['1h'], amountCents: 50_000 }));
    await record(tx({ occurredAt: T0 - 5 * MIN, amountCents: 100, small: true }));
    await record(tx({ occurredAt: T0 - 4 * MIN, amountCents: 150, small: true }));
    const v = await record(tx({ occurredAt: T0, amountCents: 2_000 }));
    expect(v.card_amount_1h).toBe(22.5); // major units: stores add hundredths
    expect(v.card_amount_24h).toBe(522.5);
    expect(v.card_small_count_1h).toBe(2);
  });

  it('counts distinct merchants per card, and distinct cards per device', async () => {
    for (const [i, m] of ['m1', 'm2', 'm3', 'm2'].entries()) {
      await record(
        tx({
          merchantId: m,
          occurredAt: T0 - (4 - i) * MIN,
          entities: { card: ['cardA'], merchant: [m], device: ['dev1'] },
        }),
      );
    }
    await record(tx({ occurredAt: T0 - MIN, entities: { card: ['cardB'], merchant: ['m1'], device: ['dev1'] } }));
    const v = await record(tx({ occurredAt: T0, entities: { card: ['cardC'], merchant: ['m1'], device: ['dev1'] } }));
    expect(v.device_distinct_cards_1h).toBe(3);
    expect(v.device_count_1h).toBe(6);
    const a = await record(tx({ merchantId: 'm4', occurredAt: T0, entities: { card: ['cardA'], merchant: ['m4'] } }));
    expect(a.card_distinct_merchants_10m).toBe(4);
  });

  it('counts every window exactly over a few members and over many (45 cards behind one shared address), boundaries included', async () => {
    const at = (occurredAt: number, card: string, ip: string) =>
      record(tx({ occurredAt, entities: { card: [card], merchant: ['m1'], ip: [ip] } }));
    await at(T0 - WINDOWS['1h'], 'c-edge', 'home'); // exactly one hour before: in 24h, not in 1h
    await at(T0 - 30 * MIN, 'c-home', 'home');
    const home = await at(T0, 'c-now', 'home');
    expect([home.ip_count_10m, home.ip_count_1h, home.ip_count_24h]).toEqual([1, 2, 3]);
    expect([home.ip_distinct_cards_1h, home.ip_distinct_cards_24h]).toEqual([2, 3]);

    // 45 cards behind one NAT address: 10 two minutes ago, 15 half an hour ago, 20 five hours ago.
    for (const [minutesAgo, cards] of [
      [2, 10],
      [30, 15],
      [300, 20],
    ] as const)
      for (let i = 0; i < cards; i++) await at(T0 - minutesAgo * MIN, `nat-${minutesAgo}-${i}`, 'nat');
    await at(T0 - WINDOWS['1h'], 'nat-edge', 'nat');
    const nat = await at(T0, 'nat-now', 'nat');
    expect([nat.ip_count_10m, nat.ip_count_1h, nat.ip_count_24h]).toEqual([11, 26, 47]);
    expect([nat.ip_distinct_cards_1h, nat.ip_distinct_cards_24h]).toEqual([26, 47]);
  });

  // counters.lua counts the largest window first and lets a count settle the smaller windows'
  // when it can (a new identity, one burst): every way the counts of three windows can fall.
  it('counts three windows exactly whether they differ, all agree, or only some agree', async () => {
    const at = (occurredAt: number, card: string, ip: string) =>
      record(tx({ occurredAt, entities: { card: [card], merchant: ['m1'], ip: [ip] } }));
    const ip = (v: Record<string, number>) => [v.ip_count_10m, v.ip_count_1h, v.ip_count_24h];
    const cards = (v: Record<string, number>) => [v.ip_distinct_cards_1h, v.ip_distinct_cards_24h];
    // New: its own transaction only.
    const fresh = await at(T0, 'c1', 'new');
    expect([ip(fresh), cards(fresh)]).toEqual([
      [1, 1, 1],
      [1, 1],
    ]);
    // One burst: every window the same.
    await at(T0 - 3 * MIN, 'c1', 'burst');
    const burst = await at(T0, 'c2', 'burst');
    expect([ip(burst), cards(burst)]).toEqual([
      [2, 2, 2],
      [2, 2],
    ]);
    // The smallest window and the middle one agree, the largest does not.
    await at(T0 - 5 * WINDOWS['1h'], 'c3', 'spread');
    await at(T0 - 2 * MIN, 'c3', 'spread');
    const spread = await at(T0, 'c3', 'spread');
    expect([ip(spread), cards(spread)]).toEqual([
      [2, 2, 3],
      [1, 1],
    ]);
    // The middle and the largest agree, the smallest does not.
    await at(T0 - 30 * MIN, 'c4', 'middle');
    const middle = await at(T0, 'c5', 'middle');
    expect([ip(middle), cards(middle)]).toEqual([
      [1, 2, 2],
      [2, 2],
    ]);
  });

  it("a late event's distinct member, kept at its later time, is not counted in the late event's windows", async () => {
    const at = (occurredAt: number, card: string) =>
      record(tx({ occurredAt, card, entities: { card: [card], merchant: ['m1'], device: ['d-late'] } }));
    const late = T0 - 3 * WINDOWS['1h'];
    await at(late - 5 * WINDOWS['1h'], 'c-before'); // in the late event's 24h and 7d, not its 1h
    await at(T0, 'c-late'); // the member the late event repeats: kept at T0, after the late event
    const v = await at(late, 'c-late');
    expect([v.device_distinct_cards_1h, v.device_distinct_cards_24h, v.device_distinct_cards_7d]).toEqual([0, 1, 1]);
  });

  it("keeps a card's distinct merchants, addresses, devices and IPs in its log: each counted per window, boundaries included, none as a transaction", async () => {
    const at = (occurredAt: number, merchant: string, more: TransactionFacts['entities']) =>
      record(tx({ merchantId: merchant, occurredAt, entities: { card: ['cardK'], merchant: [merchant], ...more } }));
    await at(T0 - WINDOWS['30d'] + MIN, 'm1', { shipping: ['s0'], device: ['d0'] });
    await at(T0 - WINDOWS['7d'], 'm1', { shipping: ['s1'] }); // exactly 7 days before: in 30d, not in 7d
    await at(T0 - WINDOWS['1h'], 'm2', { ip: ['i0'] }); // exactly an hour before: in 24h, not in 1h
    await at(T0 - 5 * MIN, 'm3', { ip: ['i1'], device: ['d1'] });
    const v = await at(T0, 'm1', { shipping: ['s0'], device: ['d1'], ip: ['i1'] });
    expect(['10m', '1h', '24h', '7d', '30d'].map((w) => v[`card_count_${w}`])).toEqual([2, 2, 3, 3, 5]);
    expect(v.card_amount_30d).toBe(50);
    expect(['10m', '1h', '24h', '7d'].map((w) => v[`card_distinct_merchants_${w}`])).toEqual([2, 2, 3, 3]);
    expect(['24h', '7d', '30d'].map((w) => v[`card_distinct_shipping_addresses_${w}`])).toEqual([1, 1, 2]);
    expect(['24h', '7d', '30d'].map((w) => v[`card_distinct_devices_${w}`])).toEqual([1, 1, 2]);
    expect([v.card_distinct_ips_1h, v.card_distinct_ips_24h]).toEqual([1, 2]);
  });

  it('a late event never moves a distinct member back in time', async () => {
    await record(tx({ occurredAt: T0, entities: { card: ['cardA'], merchant: ['m2'] }, merchantId: 'm2' }));
    await record(
      tx({ occurredAt: T0 - 3 * WINDOWS['1h'], entities: { card: ['cardA'], merchant: ['m2'] }, merchantId: 'm2' }),
    );
    const v = await record(tx({ occurredAt: T0 + MIN, entities: { card: ['cardA'], merchant: ['m1'] } }));
    expect(v.card_distinct_merchants_10m).toBe(2);
  });

  it('counts a transaction once: a retry with the same payload replays, another payload conflicts', async () => {
    const facts = tx();
    const plan = buildCounterPlan(facts, REDIS_KEYS);
    const first = await store.recordAndRead(plan);
    expect(first.status).toBe('new');
    // Response not stored yet (crash between count and reply): read again without counting.
    const pending = await store.recordAndRead(plan);
    expect(pending.status).toBe('pending');
    expect(pending.velocity!.card_count_1h).toBe(1);
    await store.saveResponse(plan, '{"decision":"approve"}');
    const replay = await store.recordAndRead(plan);
    expect(replay).toEqual({ status: 'replay', storedResponse: '{"decision":"approve"}' });
    const conflict = await store.recordAndRead(buildCounterPlan({ ...facts, payloadHash: 'other' }, REDIS_KEYS));
    expect(conflict.status).toBe('conflict');
    const next = await record(tx());
    expect(next.card_count_1h).toBe(2);
  });

  it('a retry before the response is stored gets the reading taken when the transaction was counted', async () => {
    const device = (card: string, occurredAt: number) =>
      tx({ occurredAt, entities: { card: [card], merchant: ['m1'], device: ['dev1'] } });
    await record(device('cardA', T0 - 2 * MIN));
    const facts = device('cardB', T0 - MIN);
    const plan = buildCounterPlan(facts, REDIS_KEYS);
    const first = await store.recordAndRead(plan);
    expect(first.velocity!.device_distinct_cards_1h).toBe(2);
    // cardA comes back later: its last-seen time on the device moves past this transaction's time,
    // so a fresh read at T0 − 1 min would find one card. The retry must decide as the first try did,
    // even when it carries a new "now" (a request without occurredAt): it gets the counting time.
    await record(device('cardA', T0));
    const pending = await store.recordAndRead(buildCounterPlan({ ...facts, occurredAt: T0 + 5 * MIN }, REDIS_KEYS));
    expect(pending.status).toBe('pending');
    expect(pending.velocity).toEqual(first.velocity);
    expect(pending.countedAt).toBe(T0 - MIN);
    await store.saveResponse(plan, '{"decision":"review"}');
    expect(await store.recordAndRead(plan)).toEqual({ status: 'replay', storedResponse: '{"decision":"review"}' });
  });

  it('a retry whose plan has another shape (lists switched on, a deploy, a key rotation) records again at the counting time and reads afresh instead of misreading the kept values', async () => {
    const facts = tx({ entities: { card: ['cardA'], merchant: ['m1'], device: ['dev1'] } });
    const first = await store.recordAndRead(buildCounterPlan(facts, REDIS_KEYS));
    expect(first.lists).toBeUndefined();
    const withLists = buildCounterPlan({ ...facts, lists: listLookup('m1', facts.entities, REDIS_KEYS) }, REDIS_KEYS);
    expect(withLists.layout).not.toBe(buildCounterPlan(facts, REDIS_KEYS).layout);
    const pending = await store.recordAndRead(withLists);
    expect(pending.status).toBe('pending');
    // Recording again changes nothing already recorded (the same members at the same time).
    expect(pending.countedAt).toBe(facts.occurredAt);
    expect(pending.lists).toHaveLength(withLists.lists!.negative.length + 1);
    expect(pending.velocity).toEqual(first.velocity);
  });

  it("forgets a transaction after its marker's retention: a later outcome is unknown", async () => {
    const short = await subject.open({ markerTtlMs: 300 });
    try {
      const kept = tx(),
        forgotten = tx();
      await short.recordAndRead(buildCounterPlan(forgotten, REDIS_KEYS));
      await new Promise((resolve) => setTimeout(resolve, 600));
      await short.recordAndRead(buildCounterPlan(kept, REDIS_KEYS));
      expect(await short.recordOutcome('m1', kept.transactionId, 'declined', T0 + 1)).toBe('recorded');
      expect(await short.recordOutcome('m1', forgotten.transactionId, 'declined', T0 + 1)).toBe('unknown');
    } finally {
      await short.close();
    }
  });

  it("answers a retry after its stored response's retention from the counters read again at the counting time, without counting it again", async () => {
    const short = await subject.open({ responseTtlMs: 300 });
    try {
      const device = (card: string, occurredAt: number) =>
        tx({ occurredAt, entities: { card: [card], merchant: ['m1'], device: ['dev1'] } });
      await short.recordAndRead(buildCounterPlan(device('cardA', T0 - 2 * MIN), REDIS_KEYS));
      const facts = device('cardB', T0 - MIN);
      const plan = buildCounterPlan(facts, REDIS_KEYS);
      const first = await short.recordAndRead(plan);
      await short.saveResponse(plan, '{"decision":"approve"}');
      expect(await short.recordAndRead(plan)).toEqual({ status: 'replay', storedResponse: '{"decision":"approve"}' });
      // A later transaction on the device: after the transaction's time, outside its windows.
      await short.recordAndRead(buildCounterPlan(device('cardC', T0), REDIS_KEYS));
      await new Promise((resolve) => setTimeout(resolve, 600));
      const again = await short.recordAndRead(buildCounterPlan({ ...facts, occurredAt: T0 + 5 * MIN }, REDIS_KEYS));
      expect(again.status).toBe('pending');
      expect(again.countedAt).toBe(T0 - MIN);
      expect(again.velocity).toEqual(first.velocity);
      // Counted once: the card's next transaction finds it once, and itself.
      const next = await short.recordAndRead(buildCounterPlan(device('cardB', T0 + MIN), REDIS_KEYS));
      expect(next.velocity!.card_count_1h).toBe(2);
    } finally {
      await short.close();
    }
  });

  it('feeds declines and chargebacks from outcomes, once per kind, only for known transactions', async () => {
    const facts = tx({ entities: { card: ['cardA'], merchant: ['m1'], device: ['dev9'] } });
    await record(facts);
    expect(await store.recordOutcome('m1', facts.transactionId, 'declined', T0 + 1)).toBe('recorded');
    expect(await store.recordOutcome('m1', facts.transactionId, 'declined', T0 + 2)).toBe('duplicate');
    expect(await store.recordOutcome('m2', facts.transactionId, 'declined', T0 + 2)).toBe('unknown');
    expect(await store.recordOutcome('m1', facts.transactionId, 'authorized', T0 + 2)).toBe('recorded');
    expect(await store.recordOutcome('m1', facts.transactionId, 'chargeback', T0 + 3)).toBe('recorded');
    const v = await record(
      tx({ occurredAt: T0 + MIN, entities: { card: ['cardA'], merchant: ['m1'], device: ['dev9'] } }),
    );
    expect(v.card_declines_24h).toBe(1);
    expect(v.card_chargebacks_30d).toBe(1);
    expect(v.device_chargebacks_30d).toBe(1);
  });

  it('counts a failed 3-D Secure challenge against the card only, once per transaction', async () => {
    const facts = tx({ entities: { card: ['cardA'], merchant: ['m1'], device: ['dev9'] } });
    await record(facts);
    expect(await store.recordOutcome('m1', facts.transactionId, 'challenge_failed', T0 + 1)).toBe('recorded');
    expect(await store.recordOutcome('m1', facts.transactionId, 'challenge_failed', T0 + 2)).toBe('duplicate');
    const v = await record(
      tx({ occurredAt: T0 + MIN, entities: { card: ['cardA'], merchant: ['m1'], device: ['dev9'] } }),
    );
    expect([v.card_challenge_failures_24h, v.card_challenge_failures_7d, v.card_challenge_failures_30d]).toEqual([
      1, 1, 1,
    ]);
    expect(v.card_declines_24h).toBe(0);
    expect(v.device_declines_7d).toBe(0);
    expect(v).not.toHaveProperty('device_challenge_failures_7d');
  });

  const delayed = (v: Record<string, number>, what: 'count' | 'frauds') =>
    (['24h', '7d', '30d'] as const).map((w) => v[`merchant_delayed_${what}_${w}`]);

  it("counts a merchant's transactions in windows that end 7 days before: (t − 7d − w, t − 7d]", async () => {
    const D = WINDOWS['24h'],
      W = WINDOWS['7d'];
    await record(tx({ occurredAt: T0 - W })); // exactly 7 days before: the upper end is included
    await record(tx({ occurredAt: T0 - W + 1 })); // a millisecond younger: not yet in any window
    await record(tx({ occurredAt: T0 - W - D + 1 })); // last millisecond of the 24h window
    await record(tx({ occurredAt: T0 - W - D })); // lower end of the 24h window: excluded there, in 7d
    await record(tx({ occurredAt: T0 - 2 * W - 1 })); // out of the 7d window, in 30d
    await record(tx({ occurredAt: T0 - W - WINDOWS['30d'] })); // lower end of the 30d window: excluded
    await record(tx({ merchantId: 'm2', occurredAt: T0 - W, entities: { card: ['cardA'], merchant: ['m2'] } })); // another merchant
    const v = await record(tx({ occurredAt: T0 }));
    expect(delayed(v, 'count')).toEqual([2, 3, 4]); // the current transaction is 7 days too young
    expect(delayed(v, 'frauds')).toEqual([0, 0, 0]);
    // One transaction in the 30d window only: the largest window's count of 1 settles nothing else.
    const m3 = { merchantId: 'm3', entities: { card: ['cardA'], merchant: ['m3'] } };
    await record(tx({ ...m3, occurredAt: T0 - 2 * W - 1 }));
    expect(delayed(await record(tx({ ...m3, occurredAt: T0 })), 'count')).toEqual([0, 0, 1]);
  });

  it("counts chargebacks as fraud labels at the labelled transaction's own time, once, read through the delay", async () => {
    const D = WINDOWS['24h'],
      W = WINDOWS['7d'];
    const old = tx({ occurredAt: T0 - W - 2 * D });
    const recent = tx({ occurredAt: T0 - D }); // inside the delay: its label is not read at T0
    const declined = tx({ occurredAt: T0 - W - 3 * D });
    const elsewhere = tx({ merchantId: 'm2', occurredAt: T0 - W - D, entities: { card: ['cardA'], merchant: ['m2'] } });
    for (const f of [old, recent, declined, elsewhere]) await record(f);
    expect(await store.recordOutcome('m1', old.transactionId, 'chargeback', T0 - D)).toBe('recorded'); // reported days later
    expect(await store.recordOutcome('m1', old.transactionId, 'chargeback', T0)).toBe('duplicate');
    expect(await store.recordOutcome('m1', recent.transactionId, 'chargeback', T0 - 1)).toBe('recorded');
    expect(await store.recordOutcome('m1', declined.transactionId, 'declined', T0 - 1)).toBe('recorded'); // not a fraud label
    expect(await store.recordOutcome('m1', declined.transactionId, 'refund', T0 - 1)).toBe('recorded');
    expect(await store.recordOutcome('m2', elsewhere.transactionId, 'chargeback', T0 - 1)).toBe('recorded'); // another merchant's
    const v = await record(tx({ occurredAt: T0 }));
    expect(delayed(v, 'count')).toEqual([0, 2, 2]);
    expect(delayed(v, 'frauds')).toEqual([0, 1, 1]);
    expect(v.card_chargebacks_24h).toBe(2); // chargebacks still feed the outcome counters, at the outcome's time
    // Six days later the recent transaction has left the delay, and its label is read with it.
    const later = await record(tx({ occurredAt: T0 + W - D }));
    expect(delayed(later, 'count')).toEqual([1, 1, 3]);
    expect(delayed(later, 'frauds')).toEqual([1, 1, 2]);
  });

  it("withdraws a reversed chargeback from every entity's chargeback counters and the fraud labels, once, and keeps that it happened", async () => {
    const D = WINDOWS['24h'],
      W = WINDOWS['7d'];
    const all = { card: ['cardA'], merchant: ['m1'], device: ['dev1'], ip: ['ip1'], email: ['em1'], shipping: ['sh1'] };
    const reversed = tx({ occurredAt: T0 - W - 2 * D, entities: all });
    const kept = tx({ occurredAt: T0 - W - 3 * D, entities: { card: ['cardA'], merchant: ['m1'] } }); // the card's other chargeback
    const declined = tx({ occurredAt: T0 - W - 3 * D });
    for (const f of [reversed, kept, declined]) await record(f);
    for (const f of [reversed, kept])
      expect(await store.recordOutcome('m1', f.transactionId, 'chargeback', T0 - D)).toBe('recorded');
    expect(await store.recordOutcome('m1', declined.transactionId, 'declined', T0 - D)).toBe('recorded');
    const counts = (v: Record<string, number>) => [
      v.card_chargebacks_30d,
      v.device_chargebacks_30d,
      v.ip_chargebacks_7d,
      v.email_chargebacks_30d,
      v.shipping_chargebacks_30d,
    ];
    const before = await record(tx({ occurredAt: T0 - MIN, entities: all }));
    expect(counts(before)).toEqual([2, 1, 1, 1, 1]);
    expect(delayed(before, 'frauds')).toEqual([0, 2, 2]);

    const reverse = (f: TransactionFacts, merchantId = 'm1') =>
      store.withdrawOutcome(merchantId, f.transactionId, 'chargeback', 'chargeback_reversed', T0 - 2 * MIN);
    expect(await reverse(reversed)).toBe('recorded');
    expect(await reverse(reversed)).toBe('duplicate'); // reported twice: one reversal
    expect(await reverse(declined)).toBe('absent'); // no chargeback to withdraw: nothing changes
    expect(await reverse(reversed, 'm2')).toBe('unknown'); // another merchant's transaction id
    expect(await reverse(tx())).toBe('unknown'); // never scored
    // Reported again after its reversal, the chargeback is a repeat: it counts nowhere again.
    expect(await store.recordOutcome('m1', reversed.transactionId, 'chargeback', T0 - MIN)).toBe('duplicate');

    const after = await record(tx({ occurredAt: T0, entities: all }));
    expect(counts(after)).toEqual([1, 0, 0, 0, 0]); // the other chargeback still counts against the card
    expect(delayed(after, 'frauds')).toEqual([0, 1, 1]);
    expect(delayed(after, 'count')).toEqual(delayed(before, 'count')); // the transactions themselves still count
    expect(after.card_declines_30d).toBe(1); // other outcomes stay
    expect(await store.transactionOf('m1', reversed.transactionId)).toEqual({ card: 'cardA', at: T0 - W - 2 * D });
  });

  it('refuses a reversal dated before the chargeback it reverses, changing nothing', async () => {
    const D = WINDOWS['24h'];
    const all = { card: ['cardR'], merchant: ['m1'], device: ['devR'] };
    const charged = tx({ occurredAt: T0 - 3 * D, entities: all });
    await record(charged);
    expect(await store.recordOutcome('m1', charged.transactionId, 'chargeback', T0 - D)).toBe('recorded');
    const early = store.withdrawOutcome('m1', charged.transactionId, 'chargeback', 'chargeback_reversed', T0 - 2 * D);
    await expect(early).rejects.toBeInstanceOf(WithdrawalBeforeOutcomeError);
    await expect(early).rejects.toMatchObject({
      code: 'OUTCOME_CONFLICT',
      status: 409,
      details: [
        {
          path: 'occurredAt',
          message: `must not be before the chargeback it reverses (which occurred at ${new Date(T0 - D).toISOString()})`,
        },
      ],
    });
    // Nothing changed: the chargeback still counts, and a reversal dated after it is the first.
    expect((await record(tx({ occurredAt: T0 - MIN, entities: all }))).device_chargebacks_30d).toBe(1);
    expect(await store.withdrawOutcome('m1', charged.transactionId, 'chargeback', 'chargeback_reversed', T0 - D)).toBe(
      'recorded',
    );
    expect((await record(tx({ occurredAt: T0, entities: all }))).device_chargebacks_30d).toBe(0);
  });

  it('leaves what joinOutcome joined for a transaction known from the archive, any number of times', async () => {
    const D = WINDOWS['24h'],
      W = WINDOWS['7d'];
    const archived = {
      merchantId: 'm1',
      transactionId: 'archived-1',
      countedAt: T0 - W - 2 * D,
      entities: { card: 'cardA', device: 'dev1' },
    };
    await store.joinOutcome(archived, 'chargeback', T0 - D);
    const joined = await record(
      tx({ occurredAt: T0 - MIN, entities: { card: ['cardA'], merchant: ['m1'], device: ['dev1'] } }),
    );
    expect([joined.card_chargebacks_30d, joined.device_chargebacks_30d]).toEqual([1, 1]);
    expect(delayed(joined, 'frauds')).toEqual([0, 1, 1]);
    await store.leaveOutcome(archived, 'chargeback');
    await store.leaveOutcome(archived, 'chargeback'); // a retry changes nothing
    const left = await record(
      tx({ occurredAt: T0, entities: { card: ['cardA'], merchant: ['m1'], device: ['dev1'] } }),
    );
    expect([left.card_chargebacks_30d, left.device_chargebacks_30d]).toEqual([0, 0]);
    expect(delayed(left, 'frauds')).toEqual([0, 0, 0]);
  });

  it('saturates the merchant log at its cap: the oldest go, and labels count only over the span still covered', async () => {
    const D = WINDOWS['24h'],
      W = WINDOWS['7d'];
    // Times are whole seconds, multiples of 32, so Redis trims and caps on every write here (it
    // samples writes by their time's seconds plus milliseconds).
    expect((T0 / 1000) % 32).toBe(0);
    const base = T0 - W - 20 * D;
    // Should the merchant's log be spread over sub-identities (SPREAD), each capped, these
    // transactions are all chosen in one of them, so that it saturates as one log would.
    const sub = (id: string) => subIdentity('merchant', 'm1', `m1:${id}`);
    const sameSub = (over: Partial<TransactionFacts>) => {
      let f = tx(over);
      while (sub(f.transactionId) !== sub('anchor')) f = tx(over);
      return f;
    };
    const capped = async (facts: TransactionFacts) => {
      const plan = buildCounterPlan(facts, REDIS_KEYS);
      for (const g of plan.groups) for (const op of g.ops) if (op.op === 'delayed') op.cap = 3;
      const reading = await store.recordAndRead(plan);
      expect(reading.status).toBe('new');
      return reading.velocity!;
    };
    const txs = [0, 1, 2, 3, 4].map((i) => sameSub({ occurredAt: base + i * D }));
    for (const f of txs) await capped(f);
    for (const f of [txs[0]!, txs[3]!])
      expect(await store.recordOutcome('m1', f.transactionId, 'chargeback', T0)).toBe('recorded');
    // The log keeps txs 3, 4 and the current one: the 30d window starts at tx 3, so tx 0's label is left out.
    const v = await capped(sameSub({ occurredAt: T0 }));
    expect(delayed(v, 'count')).toEqual([0, 0, 2]);
    expect(delayed(v, 'frauds')).toEqual([0, 0, 1]);
  });

  it('a spread entity (SPREAD) counts exactly over its sub-identities: each event and each member in one of them', async () => {
    const saved = { ...SPREAD };
    SPREAD.merchant = 4;
    SPREAD.bin = 4;
    try {
      const plan = buildCounterPlan(tx(), REDIS_KEYS);
      // Card, 4 merchant and 4 BIN sub-identities: 9 slot groups.
      expect(plan.groups).toHaveLength(9);
      const cards = ['cardA', 'cardB', 'cardC', 'cardD', 'cardE', 'cardF'];
      const facts = cards.map((card, i) =>
        tx({ occurredAt: T0 - (20 - i) * MIN, entities: { card: [card], merchant: ['m1'], bin: ['411111'] } }),
      );
      facts.push(tx({ occurredAt: T0 - 2 * MIN, entities: { card: ['cardA'], merchant: ['m1'], bin: ['411111'] } }));
      for (const f of facts) await record(f);
      const v = await record(tx({ occurredAt: T0, entities: { card: ['cardB'], merchant: ['m1'], bin: ['411111'] } }));
      expect(v.merchant_count_1h).toBe(8);
      expect(v.merchant_count_10m).toBe(2);
      expect(v.merchant_distinct_cards_1h).toBe(6);
      expect(v.bin_count_1h).toBe(8);
      expect(v.bin_distinct_cards_10m).toBe(2);
      // The transactions landed in more than one sub-identity.
      const written = new Set(facts.map((f) => subIdentity('merchant', 'm1', `m1:${f.transactionId}`)));
      expect(written.size).toBeGreaterThan(1);
    } finally {
      for (const k of Object.keys(SPREAD) as (keyof typeof SPREAD)[]) delete SPREAD[k];
      Object.assign(SPREAD, saved);
    }
  });

  it('during key rotation reads both identities of an entity and writes the primary only', async () => {
    await record(tx({ occurredAt: T0 - 2 * MIN, entities: { card: ['oldFp'], merchant: ['m1'] } }));
    await record(tx({ merchantId: 'm2', occurredAt: T0 - MIN, entities: { card: ['oldFp'], merchant: ['m2'] } }));
    const v = await record(
      tx({ merchantId: 'm3', occurredAt: T0, entities: { card: ['newFp', 'oldFp'], merchant: ['m3'] } }),
    );
    expect(v.card_count_10m).toBe(3);
    expect(v.card_distinct_merchants_10m).toBe(3);
    const after = await record(tx({ occurredAt: T0 + 1, entities: { card: ['newFp'], merchant: ['m1'] } }));
    expect(after.card_count_10m).toBe(2);
  });

  it("during key rotation counts each card once in an entity's distinct cards, under either fingerprint", async () => {
    // Card A and card B on one device before the rotation (old key: A1, B1, device d1), then after
    // it (new key: A2, B2, device d2; the old ones read too). The device's sets hold A1, B1 and now
    // A2: A is one card, not two. B, not scored here, has only B1: two cards in all.
    const before = (card: string, at: number) =>
      tx({ occurredAt: at, entities: { card: [card], merchant: ['m1'], device: ['d1'], ip: ['i1'] } });
    const during = (card: string[], at: number) =>
      tx({ occurredAt: at, entities: { card, merchant: ['m1'], device: ['d2', 'd1'], ip: ['i2', 'i1'] } });
    await record(before('A1', T0 - 3 * MIN));
    await record(before('B1', T0 - 2 * MIN));
    const a = await record(during(['A2', 'A1'], T0 - MIN));
    expect(a.device_distinct_cards_24h).toBe(2);
    expect(a.ip_distinct_cards_24h).toBe(2);
    // The merchant (one identity, not keyed) held A1 and B1, and now A2: A1 left it.
    expect(a.merchant_distinct_cards_10m).toBe(2);
    // B scored after the rotation: A, seen again on this device since, is A2 under the old key's
    // device too (its A1 was retired when A was scored): a household's two cards read 2, not 3 (the
    // default rules' threshold for DEVICE_MANY_CARDS_24H and IP_MANY_CARDS_1H).
    const b = await record(during(['B2', 'B1'], T0));
    expect(b.device_distinct_cards_24h).toBe(2);
    expect(b.ip_distinct_cards_24h).toBe(2);
    expect(b.ip_distinct_cards_1h).toBe(2);
    expect(b.merchant_distinct_cards_10m).toBe(2);
    // A third card, new since the rotation, is the third.
    const c = await record(during(['C2', 'C1'], T0 + 1));
    expect(c.device_distinct_cards_24h).toBe(3);
    expect(c.merchant_distinct_cards_10m).toBe(3);
  });

  it("during key rotation counts each device once in a card's distinct devices, under either identity", async () => {
    // Card A on devices d and e before the rotation (A1 with d1, e1), then on d and on e after it
    // (A2 with d2, then e2): the card's log under its old key held d1 and e1; d1 is retired as d2
    // when A is scored on d, so that e's scoring reads d once.
    const use = (card: string[], device: string[], at: number) =>
      tx({ occurredAt: at, entities: { card, merchant: ['m1'], device } });
    await record(use(['A1'], ['d1'], T0 - 3 * MIN));
    await record(use(['A1'], ['e1'], T0 - 2 * MIN));
    const onD = await record(use(['A2', 'A1'], ['d2', 'd1'], T0 - MIN));
    expect(onD.card_distinct_devices_24h).toBe(2);
    const onE = await record(use(['A2', 'A1'], ['e2', 'e1'], T0));
    expect(onE.card_distinct_devices_24h).toBe(2);
    expect(onE.card_distinct_devices_7d).toBe(2);
  });

  it('during key rotation with a spread merchant, the card under its previous key leaves its own sub-identity', async () => {
    const saved = { ...SPREAD };
    SPREAD.merchant = 4;
    try {
      const use = (card: string[], at: number) => tx({ occurredAt: at, entities: { card, merchant: ['m1'] } });
      // Fingerprints whose old and new forms land in different sub-identities of m1.
      const pair = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H']
        .map((x) => [`${x}2`, `${x}1`])
        .find(([fresh, old]) => subIdentity('merchant', 'm1', fresh!) !== subIdentity('merchant', 'm1', old!))!;
      await record(use([pair[1]!], T0 - 2 * MIN));
      await record(use(['Z1'], T0 - MIN));
      const v = await record(use(pair, T0));
      expect(v.merchant_distinct_cards_10m).toBe(2);
    } finally {
      for (const k of Object.keys(SPREAD) as (keyof typeof SPREAD)[]) delete SPREAD[k];
      Object.assign(SPREAD, saved);
    }
  });

  describe("a shipping address across the 2026-12-07 normalisation, in a card's distinct addresses", () => {
    // Before the upgrade an address ('150-0002') was written under the previous normalisation's
    // pseudonym (old); after it under the compact one (new), the old one read too and passed as the
    // address's former identity (engine facts). One address, one member of the card's addresses.
    const address = (name: string) => ({ old: `${name}-150 0002`, new: `${name}-1500002` });
    const A = address('A'),
      B = address('B');
    const before = (card: string, a: { old: string }, occurredAt: number) =>
      tx({ occurredAt, card, entities: { card: [card], merchant: ['m1'], shipping: [a.old] } });
    const after = (card: string, a: { old: string; new: string }, occurredAt: number) =>
      tx({
        occurredAt,
        card,
        entities: { card: [card], merchant: ['m1'], shipping: [a.new, a.old] },
        formerIdentities: { shipping: [a.old] },
      });
    const addresses = (v: Record<string, number>) =>
      ['24h', '7d', '30d'].map((w) => v[`card_distinct_shipping_addresses_${w}`]);

    it('counts an address used before and after the upgrade once, in this scoring and the next, and on a retry', async () => {
      await record(before('cardA', A, T0 - 2 * MIN));
      const facts = after('cardA', A, T0 - MIN);
      expect(addresses(await record(facts))).toEqual([1, 1, 1]);
      // A retry that records again (a plan of another shape) finds the former member gone: still one.
      const again = await store.recordAndRead(
        buildCounterPlan({ ...facts, lists: listLookup('m1', facts.entities, REDIS_KEYS) }, REDIS_KEYS),
      );
      expect(again.status).toBe('pending');
      expect(addresses(again.velocity!)).toEqual([1, 1, 1]);
      expect(addresses(await record(after('cardA', A, T0)))).toEqual([1, 1, 1]);
    });

    it('counts two addresses used before and after the upgrade as two, one at a time and in a batch alike', async () => {
      for (const [card, batched] of [
        ['cardOne', false],
        ['cardBatch', true],
      ] as const) {
        await record(before(card, A, T0 - 4 * MIN));
        await record(before(card, B, T0 - 3 * MIN));
        const plans = [after(card, A, T0 - MIN), after(card, B, T0)].map((f) => buildCounterPlan(f, REDIS_KEYS));
        const readings = batched
          ? await store.recordAndReadMany(plans)
          : [await store.recordAndRead(plans[0]!), await store.recordAndRead(plans[1]!)];
        // A scored: A's two forms are one, B (not scored since the upgrade) is its old member: 2.
        // B scored: A and B, each once: 2, not 4.
        expect(
          readings.map((r) => addresses(r.velocity!)),
          card,
        ).toEqual([
          [2, 2, 2],
          [2, 2, 2],
        ]);
      }
    });

    it("keeps the later of the two forms' last-seen times: a late event after the upgrade leaves the address seen when it last was", async () => {
      await record(before('cardA', A, T0)); // before the upgrade, at T0
      // A late event after the upgrade, dated 10 days before: the address, last seen at T0, is
      // not in its windows (as a late event's distinct member never is).
      expect(addresses(await record(after('cardA', A, T0 - 10 * WINDOWS['24h'])))).toEqual([0, 0, 0]);
      // Two days after T0, with another address: A still last seen at T0, in 7d, not in 24h.
      const v = await record(after('cardA', B, T0 + 2 * WINDOWS['24h']));
      expect(addresses(v)).toEqual([1, 2, 2]);
    });

    it('during a key rotation too: written before the upgrade under either key, the address counts once', async () => {
      // The previous key's pseudonyms: `<pseudonym>/prev`; the card's fingerprints fpNew, fpOld.
      const prev = (id: string) => `${id}/prev`;
      const rotated = (card: string, occurredAt: number) =>
        tx({
          occurredAt,
          card,
          entities: {
            card: [`${card}New`, `${card}Old`],
            merchant: ['m1'],
            shipping: [A.new, prev(A.new), A.old, prev(A.old)],
          },
          formerIdentities: { shipping: [A.old] },
        });
      // Card c1 used A before the rotation and the upgrade; card c2 after the rotation, before the upgrade.
      await record(
        tx({ occurredAt: T0 - 2 * MIN, entities: { card: ['c1Old'], merchant: ['m1'], shipping: [prev(A.old)] } }),
      );
      await record(
        tx({ occurredAt: T0 - 2 * MIN, entities: { card: ['c2New', 'c2Old'], merchant: ['m1'], shipping: [A.old] } }),
      );
      expect(addresses(await record(rotated('c1', T0 - MIN)))).toEqual([1, 1, 1]);
      expect(addresses(await record(rotated('c2', T0 - MIN)))).toEqual([1, 1, 1]);
      // Once the previous key is gone, c2's log (fpNew) holds A once.
      const v = await record(
        tx({ occurredAt: T0, entities: { card: ['c2New'], merchant: ['m1'], shipping: [A.new] } }),
      );
      expect(addresses(v)).toEqual([1, 1, 1]);
    });
  });

  it('reads the negative lists and the card allow-list in the same round trip', async () => {
    const entities = {
      card: ['cardN', 'cardOld'],
      merchant: ['m1'],
      device: ['devBad'],
      ip: ['ipOk'],
      email: ['mailNew', 'mailOld'],
    };
    await lists.add('device', 'devBad', 60_000, 1);
    await lists.add('email', 'mailOld', 60_000, 1); // listed under the previous key's identity
    await lists.allowCard('m1', 'cardOld', 60_000, 2);
    const facts = { ...tx({ entities }), lists: listLookup('m1', entities, REDIS_KEYS) };
    const reading = await store.recordAndRead(buildCounterPlan(facts, REDIS_KEYS));
    expect(reading.lists).toEqual([true, false, true, true]); // device, ip, email, then the allow-list
    const other = { ...tx({ merchantId: 'm2', entities: { ...entities, merchant: ['m2'] } }) };
    const elsewhere = await store.recordAndRead(
      buildCounterPlan({ ...other, lists: listLookup('m2', other.entities, REDIS_KEYS) }, REDIS_KEYS),
    );
    expect(elsewhere.lists!.at(-1)).toBe(false); // allow-listed for m1 only
    // A reversed decision takes its entries off (remove, disallowCard): the next reading misses them.
    await lists.remove('device', 'devBad');
    await lists.disallowCard('m1', 'cardOld');
    const after = await store.recordAndRead(buildCounterPlan({ ...facts, transactionId: 'tx-after' }, REDIS_KEYS));
    expect(after.lists).toEqual([false, false, true, false]);
  });

  it('bounds memory: events older than the longest window are trimmed and counts saturate at the cap', async () => {
    await record(tx({ occurredAt: T0 - WINDOWS['30d'] - MIN }));
    const v = await record(tx({ occurredAt: T0 }));
    expect(v.card_count_30d).toBe(1);
    for (let i = 0; i < 30; i++)
      await record(tx({ occurredAt: T0 + i, entities: { card: [`c${i}`], merchant: ['m1'], bin: ['400000'] } }));
    const b = await record(tx({ occurredAt: T0 + 40, entities: { card: ['cz'], merchant: ['m1'], bin: ['400000'] } }));
    expect(b.bin_count_10m).toBe(31);
    expect(b.bin_distinct_cards_10m).toBe(31);
  });
});
