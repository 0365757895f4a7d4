// An existing deployment upgraded to distinct members kept in the card's log: the sets the
// previous version wrote (spelled out literally here, as it wrote them) move into the cards' logs,
// on a single Redis and on every master of a cluster, and scoring counts them as before. Run
// twice it moves nothing; a later time the new version wrote meanwhile stays; big sets move whole.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisClient } from '../../services/adapters/redis/connection.ts';
import { REDIS_KEYS } from '../../services/adapters/redis/keys.ts';
import { RedisVelocityStore } from '../../services/adapters/redis/velocity-store.ts';
import { moveDistinctSetsIntoLogs } from '../../services/adapters/redis/velocity-migration.ts';
import { buildCounterPlan, type TransactionFacts } from '../../services/core/velocity.ts';
import { singleAndCluster } from '../support/single-and-cluster.ts';

const T0 = Date.parse('2026-11-20T12:00:00Z');
const MIN = 60_000,
  HOUR = 3_600_000,
  DAY = 86_400_000;

let n = 0;
const facts = (occurredAt: number, merchant: string, entities: TransactionFacts['entities']): TransactionFacts => ({
  merchantId: merchant,
  transactionId: `tx${++n}`,
  payloadHash: `h${n}`,
  occurredAt,
  amountCents: 500,
  small: false,
  entities: { merchant: [merchant], ...entities },
});

describe.each(singleAndCluster())("moving the cards' distinct sets into their logs: $name", ({ open }) => {
  let redis: RedisClient;
  let store: RedisVelocityStore;
  beforeAll(async () => {
    redis = await open();
    store = new RedisVelocityStore(redis);
  });
  afterAll(() => store.close());

  it("keeps every card's distinct counts across the upgrade, on every node, and changes nothing the second time", async () => {
    const card = 'cardM';
    // Scored by the new version after the upgrade: its log holds m2, a minute ago.
    await store.recordAndRead(buildCounterPlan(facts(T0 - 2 * HOUR, 'm1', { card: [card] }), REDIS_KEYS));
    await store.recordAndRead(buildCounterPlan(facts(T0 - MIN, 'm2', { card: [card] }), REDIS_KEYS));
    // Written by the previous version: m2 seen five minutes ago (older than the log's), and more.
    await redis.zadd(`lg:{c:${card}}:dm`, T0 - 2 * HOUR, 'm1', T0 - 5 * MIN, 'm2');
    await redis.zadd(`lg:{c:${card}}:ds`, T0 - 3 * DAY, 's0');
    await redis.zadd(`lg:{c:${card}}:dd`, T0 - HOUR, 'd0');
    await redis.zadd(`lg:{c:${card}}:di`, T0 - 30 * MIN, 'i0');
    // Cards with only an old set (and no log yet), spread over the slots; one with 1,500 merchants.
    const others = Array.from({ length: 20 }, (_, i) => `card${i}`);
    for (const other of others) {
      await redis.zadd(`lg:{c:${other}}:dm`, T0 - DAY, 'm9');
      await redis.pexpire(`lg:{c:${other}}:dm`, 5 * DAY);
    }
    const many = Array.from({ length: 1500 }, (_, i) => [T0 - HOUR + i, `shop${i}`]).flat();
    await redis.zadd('lg:{c:cardBig}:dm', ...many);
    // Not a card's distinct set: left alone.
    await redis.zadd('lg:{d:dev1}:dc', T0, 'cardM');

    const moved = await moveDistinctSetsIntoLogs(redis, { scanCount: 7 });
    expect(moved).toEqual({ sets: 4 + others.length + 1, members: 5 + others.length + 1500 });
    for (const gone of [`lg:{c:${card}}:dm`, `lg:{c:${card}}:ds`, 'lg:{c:card3}:dm', 'lg:{c:cardBig}:dm'])
      expect(await redis.exists(gone)).toBe(0);
    expect(await redis.exists('lg:{d:dev1}:dc')).toBe(1);
    // The later time stays; a log created by the move expires with the set it replaces.
    expect(Number(await redis.zscore(REDIS_KEYS.log('card', card), '#mm2'))).toBe(T0 - MIN);
    const ttl = await redis.pttl(REDIS_KEYS.log('card', 'card7'));
    expect(ttl).toBeGreaterThan(4 * DAY);
    expect(ttl).toBeLessThanOrEqual(5 * DAY);
    expect(await redis.zcard(REDIS_KEYS.log('card', 'cardBig'))).toBe(1500);

    const v = (
      await store.recordAndRead(
        buildCounterPlan(facts(T0, 'm4', { card: [card], shipping: ['s1'], device: ['d0'], ip: ['i1'] }), REDIS_KEYS),
      )
    ).velocity!;
    expect(['10m', '1h', '24h', '7d'].map((w) => v[`card_distinct_merchants_${w}`])).toEqual([2, 2, 3, 3]);
    expect(['24h', '7d', '30d'].map((w) => v[`card_distinct_shipping_addresses_${w}`])).toEqual([1, 2, 2]);
    expect(['24h', '7d', '30d'].map((w) => v[`card_distinct_devices_${w}`])).toEqual([1, 1, 1]);
    expect([v.card_distinct_ips_1h, v.card_distinct_ips_24h]).toEqual([2, 2]);
    expect(v.card_count_24h).toBe(3);
    const big = (await store.recordAndRead(buildCounterPlan(facts(T0, 'shop0', { card: ['cardBig'] }), REDIS_KEYS)))
      .velocity!;
    expect(big.card_distinct_merchants_1h).toBe(1500);
    expect(big.card_count_1h).toBe(1);

    expect(await moveDistinctSetsIntoLogs(redis)).toEqual({ sets: 0, members: 0 });
  });
});
