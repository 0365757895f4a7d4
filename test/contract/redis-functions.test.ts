// The velocity functions (lua.ts LuaLibrary): scoring finds them loaded when a store is made, and
// goes on when Redis lost them (restarted without persistence, FUNCTION FLUSH, a new master):
// the call that finds one missing loads the library on every master and is answered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mastersOf, type RedisClient } from '../../services/adapters/redis/connection.ts';
import { REDIS_KEYS } from '../../services/adapters/redis/keys.ts';
import { RedisVelocityStore } from '../../services/adapters/redis/velocity-store.ts';
import { buildCounterPlan, type TransactionFacts } from '../../services/core/velocity.ts';
import { singleAndCluster } from '../support/single-and-cluster.ts';

let n = 0;
const facts = (card: string): TransactionFacts => ({
  merchantId: 'm1',
  transactionId: `tx${++n}`,
  payloadHash: `h${n}`,
  occurredAt: Date.parse('2026-11-20T12:00:00Z') + n,
  amountCents: 500,
  small: false,
  entities: { card: [card], merchant: ['m1'], bin: ['411111'] },
});
const libraries = async (redis: RedisClient) =>
  (await Promise.all(mastersOf(redis).map((node) => node.call('FUNCTION', 'LIST', 'LIBRARYNAME', 'leakguard_*'))))
    .map((list) => (list as unknown[]).length)
    .reduce((a, b) => a + b, 0);

describe.each(singleAndCluster())('the velocity functions: $name', ({ open }) => {
  let redis: RedisClient;
  beforeAll(async () => {
    redis = await open();
  });
  afterAll(() => redis.quit());

  it('are loaded on every master, and loaded again where a call finds them missing', async () => {
    const store = new RedisVelocityStore(redis);
    expect((await store.recordAndRead(buildCounterPlan(facts('cardF'), REDIS_KEYS))).velocity!.card_count_1h).toBe(1);
    expect(await libraries(redis)).toBe(mastersOf(redis).length);

    await Promise.all(mastersOf(redis).map((node) => node.call('FUNCTION', 'FLUSH')));
    expect(await libraries(redis)).toBe(0);
    const readings = await store.recordAndReadMany([
      buildCounterPlan(facts('cardF'), REDIS_KEYS),
      buildCounterPlan(facts('cardF'), REDIS_KEYS),
    ]);
    expect(readings.map((r) => [r.status, r.velocity!.card_count_1h])).toEqual([
      ['new', 2],
      ['new', 3],
    ]);
    expect(await libraries(redis)).toBe(mastersOf(redis).length);
  });
});
