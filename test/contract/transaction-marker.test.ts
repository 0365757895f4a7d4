// The transaction marker's layout on a real Redis and a real Redis Cluster (counters.lua
// claimMarker): it lives 35 days, one per scored transaction, so its size is most of Redis's memory
// at any real rate (docs/capacity.md). Every value stays short, so that Redis keeps it as a compact
// listpack; the reading kept for a retry lives under its own key until the response is stored.
// A marker written by an earlier version (the entities as one JSON field) still serves outcomes.
import { describe, expect, it } from 'vitest';
import { isCluster, type RedisClient } from '../../services/adapters/redis/connection.ts';
import { REDIS_KEYS } from '../../services/adapters/redis/keys.ts';
import { RedisVelocityStore } from '../../services/adapters/redis/velocity-store.ts';
import { scoreRequestSchema } from '../../services/core/schemas.ts';
import { buildCounterPlan, type TransactionFacts } from '../../services/core/velocity.ts';
import { withRuntime } from '../support/runtime-on.ts';
import { singleAndCluster } from '../support/single-and-cluster.ts';

const T0 = Date.parse('2026-11-01T12:00:00Z');
// Identities as the engine makes them: a card fingerprint of 43 characters, the others 22.
const CARD = 'P68F8biZGzkBclADAz-gpBe8t_yKNC6V1Pd6Aho7HwU';
let n = 0;
const facts = (): TransactionFacts => ({
  merchantId: 'merchant-50',
  transactionId: `marker-${++n}`,
  payloadHash: 'OyxyxUKt04UHoXqAkg0Coq',
  occurredAt: T0 + n,
  amountCents: 10716,
  small: false,
  entities: {
    card: [CARD],
    merchant: ['merchant-50'],
    bin: ['424242'],
    device: ['JjT5F7sYOQM5DPCXCk4fYz'],
    ip: ['GK4X0xAZg9kZ7HLfgfWyyb'],
    email: ['JNEA_zww1YvbIv7ewBzvGz'],
    shipping: ['L12hd3kaStmkxQbHcBFCiH'],
  },
});

describe.each(singleAndCluster())('the transaction marker on $name', ({ open, env }) => {
  const withStore = async (run: (store: RedisVelocityStore, redis: RedisClient) => Promise<void>) => {
    const redis = await open();
    try {
      await run(new RedisVelocityStore(redis, { responseGatherMs: 0 }), redis);
    } finally {
      redis.disconnect();
    }
  };

  it('stays a compact listpack for its 35 days: the reading kept for a retry lives apart, until the response', async () => {
    await withStore(async (store, redis) => {
      const plan = buildCounterPlan(facts(), REDIS_KEYS);
      await store.recordAndRead(plan);
      await store.saveResponse(plan, '{"decision":"approve"}');
      expect(await redis.call('OBJECT', 'ENCODING', plan.marker)).toBe('listpack');
      // ~650 bytes as a hash table (the entities as one JSON value, longer than 64 bytes); ~400 now
      // (a cluster node keeps a few more bytes a key).
      expect(Number(await redis.call('MEMORY', 'USAGE', plan.marker))).toBeLessThan(450);
      expect(await redis.hget(plan.marker, 'e:c')).toBe(CARD);
      expect(await redis.hget(plan.marker, 'e:b')).toBeNull(); // no outcome reaches the BIN
      expect(await redis.hget(plan.marker, 'e:m')).toBeNull(); // the key holds the merchant's id
      expect(await redis.exists(plan.kept)).toBe(0);
      expect(await redis.get(plan.response)).toBe('{"decision":"approve"}');
      expect(await redis.pttl(plan.marker)).toBeGreaterThan(34 * 86_400_000);
    });
  });

  it("keeps the claim time only while a cluster's transaction is being recorded: none on one Redis, whose claim and recording are one call", async () => {
    await withStore(async (store, redis) => {
      const plan = buildCounterPlan(facts(), REDIS_KEYS);
      await store.recordAndRead(plan);
      const claimedAt = await redis.hget(plan.marker, 'c');
      if (isCluster(redis)) expect(Number(claimedAt)).toBeGreaterThan(Date.now() - 60_000);
      else expect(claimedAt).toBeNull();
      await store.saveResponse(plan, '{"decision":"approve"}');
      expect(await redis.hget(plan.marker, 'c')).toBeNull();
      expect(await redis.hget(plan.marker, 'h')).toBe('OyxyxUKt04UHoXqAkg0Coq');
      expect(await redis.call('OBJECT', 'ENCODING', plan.marker)).toBe('listpack');
    });
  });

  it('lives as long as LEAKGUARD_MARKER_RETENTION_DAYS says (the runtime passes it to the store)', async () => {
    const redis = await open();
    try {
      const store = new RedisVelocityStore(redis, { markerTtlMs: 2 * 86_400_000 });
      const plan = buildCounterPlan(facts(), REDIS_KEYS);
      await store.recordAndRead(plan);
      const ttl = await redis.pttl(plan.marker);
      expect(ttl).toBeGreaterThan(2 * 86_400_000 - 60_000);
      expect(ttl).toBeLessThanOrEqual(2 * 86_400_000);
    } finally {
      redis.disconnect();
    }
  });

  it('stores the response, and keeps the reading until then, as long as LEAKGUARD_RESPONSE_RETENTION_HOURS says', async () => {
    const redis = await open();
    try {
      const hour = 3_600_000;
      const store = new RedisVelocityStore(redis, { responseTtlMs: hour });
      const plan = buildCounterPlan(facts(), REDIS_KEYS);
      await store.recordAndRead(plan);
      // The cluster writes it after the answer, on the connection this read takes next.
      expect(await redis.pttl(plan.kept)).toBeGreaterThan(hour - 60_000);
      expect(await redis.pttl(plan.kept)).toBeLessThanOrEqual(hour);
      await store.saveResponse(plan, '{"decision":"approve"}');
      expect(await redis.pttl(plan.response)).toBeGreaterThan(hour - 60_000);
      expect(await redis.pttl(plan.response)).toBeLessThanOrEqual(hour);
      expect(await redis.pttl(plan.marker)).toBeGreaterThan(34 * 86_400_000);
    } finally {
      redis.disconnect();
    }
  });

  it('is kept, with its response, as long as the engine is configured to keep them', async () => {
    const redis = await open();
    try {
      const settings = { LEAKGUARD_MARKER_RETENTION_DAYS: '3', LEAKGUARD_RESPONSE_RETENTION_HOURS: '2', ...env() };
      await withRuntime(settings, async (runtime) => {
        const transactionId = `retention-${++n}`;
        const result = await runtime.engine.score(
          'merchant-50',
          scoreRequestSchema.parse({
            transactionId,
            amount: 25,
            currency: 'EUR',
            channel: 'ecommerce',
            card: { number: '4242424242424242', expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
          }),
        );
        expect(result.kind).toBe('scored');
        const marker = REDIS_KEYS.marker('merchant-50', transactionId);
        const response = REDIS_KEYS.response('merchant-50', transactionId);
        await expect.poll(() => redis.exists(response), { timeout: 5_000 }).toBe(1);
        const [markerTtl, responseTtl] = [await redis.pttl(marker), await redis.pttl(response)];
        expect(markerTtl).toBeGreaterThan(3 * 86_400_000 - 60_000);
        expect(markerTtl).toBeLessThanOrEqual(3 * 86_400_000);
        expect(responseTtl).toBeGreaterThan(2 * 3_600_000 - 60_000);
        expect(responseTtl).toBeLessThanOrEqual(2 * 3_600_000);
      });
    } finally {
      redis.disconnect();
    }
  });

  it('keeps the reading for a retry until the response is stored, for a day at most', async () => {
    await withStore(async (store, redis) => {
      const f = facts();
      const first = await store.recordAndRead(buildCounterPlan(f, REDIS_KEYS));
      const kept = buildCounterPlan(f, REDIS_KEYS).kept;
      // The cluster writes it after the answer, on the connection the retry takes next.
      expect(await redis.exists(kept)).toBe(1);
      expect(await redis.pttl(kept)).toBeLessThanOrEqual(86_400_000);
      const retried = await store.recordAndRead(buildCounterPlan({ ...f, occurredAt: T0 + 3_600_000 }, REDIS_KEYS));
      expect(retried).toMatchObject({ status: 'pending', countedAt: first.countedAt ?? f.occurredAt });
      expect(retried.velocity).toEqual(first.velocity);
    });
  });

  it("serves outcomes and the card's history from a marker an earlier version wrote (the entities as JSON)", async () => {
    await withStore(async (store, redis) => {
      const f = facts();
      const plan = buildCounterPlan(f, REDIS_KEYS);
      // The layout before each entity had a field: what a deployment holds for 35 days after the upgrade.
      await redis.hset(plan.marker, {
        h: f.payloadHash,
        e: JSON.stringify({ card: CARD, merchant: 'merchant-50', bin: '424242', device: 'JjT5F7sYOQM5DPCXCk4fYz' }),
        t: String(f.occurredAt),
        a: '10716|0',
        c: String(Date.now()),
      });
      expect(await store.transactionOf(f.merchantId, f.transactionId)).toEqual({ card: CARD, at: f.occurredAt });
      expect(await store.recordOutcome(f.merchantId, f.transactionId, 'chargeback', T0 + 86_400_000)).toBe('recorded');
      const ref = `${f.merchantId}:${f.transactionId}`;
      expect(await redis.zscore(REDIS_KEYS.outcomes('card', CARD, 'chargebacks'), ref)).toBe(String(T0 + 86_400_000));
      expect(await redis.zscore(REDIS_KEYS.outcomes('device', 'JjT5F7sYOQM5DPCXCk4fYz', 'chargebacks'), ref)).toBe(
        String(T0 + 86_400_000),
      );
      expect(await store.recordOutcome(f.merchantId, f.transactionId, 'chargeback', T0 + 86_400_000)).toBe('duplicate');
    });
  });

  it('serves outcomes from a marker of this version: each entity from its own field', async () => {
    await withStore(async (store, redis) => {
      const f = facts();
      const plan = buildCounterPlan(f, REDIS_KEYS);
      await store.recordAndRead(plan);
      await store.saveResponse(plan, '{}');
      expect(await store.transactionOf(f.merchantId, f.transactionId)).toEqual({ card: CARD, at: f.occurredAt });
      expect(await store.recordOutcome(f.merchantId, f.transactionId, 'chargeback', T0 + 5)).toBe('recorded');
      const ref = `${f.merchantId}:${f.transactionId}`;
      for (const [kind, id] of [
        ['card', CARD],
        ['email', 'JNEA_zww1YvbIv7ewBzvGz'],
      ] as const)
        expect(await redis.zscore(REDIS_KEYS.outcomes(kind, id, 'chargebacks'), ref), kind).toBe(String(T0 + 5));
      expect(await store.recordOutcome(f.merchantId, 'never-scored', 'chargeback', T0)).toBe('unknown');
    });
  });
});
