// The keys a scoring only probes on one Redis (services/adapters/redis/counters.lua probe): outcome
// sets, fraud labels and list entries. Most identities have none, so one EXISTS over all of them
// answers for the whole call; when one of them exists, every probe is asked on its own and the
// counts are those of the keys that exist (the contract tests hold the semantics on every store).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectRedis, whenReady, type RedisClient } from '../../services/adapters/redis/connection.ts';
import { REDIS_KEYS } from '../../services/adapters/redis/keys.ts';
import { RedisVelocityStore } from '../../services/adapters/redis/velocity-store.ts';
import { listLookup } from '../../services/core/lists.ts';
import { buildCounterPlan, type TransactionFacts } from '../../services/core/velocity.ts';
import { RedisServer } from '../support/redis-server.ts';

let server: RedisServer;
beforeAll(async () => {
  server = await RedisServer.start();
});
afterAll(() => server.stop());

const T0 = Date.parse('2026-11-01T12:00:00Z');
const facts = (i: number, at = T0 + i * 1000): TransactionFacts => {
  const entities = {
    card: [`card-${i}`],
    merchant: ['m1'],
    bin: ['411111'],
    device: [`device-${i}`],
    ip: [`ip-${i}`],
    email: [`email-${i}`],
    shipping: [`ship-${i}`],
  };
  return {
    merchantId: 'm1',
    transactionId: `probe-${i}-${at}`,
    payloadHash: `h${i}`,
    occurredAt: at,
    amountCents: 1000,
    small: false,
    entities,
    lists: listLookup('m1', entities, REDIS_KEYS),
  };
};

/** EXISTS commands Redis has run so far, in scripts included (INFO commandstats). */
async function existsCalls(redis: RedisClient): Promise<number> {
  const stats = await redis.info('commandstats');
  return Number(/^cmdstat_exists:calls=(\d+)/m.exec(stats)?.[1] ?? 0);
}

it('asks once whether any probed key exists when none does, and key by key when one does', async () => {
  const redis = await whenReady(connectRedis(server.url));
  try {
    const store = new RedisVelocityStore(redis);
    await store.recordAndRead(buildCounterPlan(facts(0), REDIS_KEYS)); // the library is loaded

    // Fresh identities: every outcome set, fraud log and list entry of the plan is absent.
    const plan = buildCounterPlan(facts(1), REDIS_KEYS);
    const probes = plan.groups.flatMap((g) => g.ops).filter((op) => op.op !== 'log' && op.op !== 'distinct');
    expect(probes.length).toBeGreaterThan(10);
    let before = await existsCalls(redis);
    const fresh = await store.recordAndRead(plan);
    expect((await existsCalls(redis)) - before).toBe(1);
    expect(fresh.velocity!.card_chargebacks_30d).toBe(0);
    expect(fresh.lists!.some(Boolean)).toBe(false);

    // A chargeback on card-2's transaction: its card's and device's outcome sets and the merchant's
    // fraud log exist now. Its next scoring asks key by key and counts them.
    const first = facts(2);
    await store.recordAndRead(buildCounterPlan(first, REDIS_KEYS));
    expect(await store.recordOutcome('m1', first.transactionId, 'chargeback', T0 + 5_000)).toBe('recorded');
    const next = buildCounterPlan(facts(2, T0 + 60_000), REDIS_KEYS);
    before = await existsCalls(redis);
    const counted = await store.recordAndRead(next);
    expect((await existsCalls(redis)) - before).toBeGreaterThan(probes.length);
    expect(counted.velocity!.card_chargebacks_30d).toBe(1);
    expect(counted.velocity!.device_chargebacks_30d).toBe(1);
    expect(counted.velocity!.email_chargebacks_30d).toBe(1);
  } finally {
    await redis.quit();
  }
});
