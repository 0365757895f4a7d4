// Ids too long for Redis's compact sorted sets, on a real Redis and a real Redis Cluster: a log
// member over zset-max-listpack-value turns every log it reaches into a skiplist (~4x the memory),
// which nothing else would show. The engine counts such transactions
// (leakguard_redis_oversized_log_members_total) and says so in a warning naming the remedy; with
// the limit raised, the same ids stay compact and nothing is said.
import { describe, expect, it } from 'vitest';
import { REDIS_KEYS } from '../../services/adapters/redis/keys.ts';
import { mastersOf, type RedisClient } from '../../services/adapters/redis/connection.ts';
import { scoreRequestSchema } from '../../services/core/schemas.ts';
import type { Runtime } from '../../services/runtime.ts';
import { withRuntime } from '../support/runtime-on.ts';
import { singleAndCluster } from '../support/single-and-cluster.ts';

const LONG_MERCHANT = 'merchant-with-a-long-name'; // 25 characters
const PANS = ['4242424242424242', '4000056655665556', '5555555555554444', '2223003122003222', '4111111111111111'];
let n = 0;
/** As long as a UUID and more, with too few digits to look like a card number (the schema refuses those). */
const longId = () => `txn-${++n}-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee`;

describe.each(singleAndCluster())('ids too long for compact sorted sets on $name', ({ open, env }) => {
  /** `memberLimit`: zset-max-listpack-value on every master while the engine runs (Redis's default, 64, after). */
  const withEngine = async (
    run: (runtime: Runtime, lines: string[], redis: RedisClient) => Promise<void>,
    memberLimit = '64',
  ) => {
    const redis = await open();
    const setLimit = (value: string) =>
      Promise.all(mastersOf(redis).map((node) => node.call('CONFIG', 'SET', 'zset-max-listpack-value', value)));
    try {
      // Each test from empty stores: a card's log, once a skiplist, stays one.
      await Promise.all(mastersOf(redis).map((node) => node.flushall()));
      await setLimit(memberLimit);
      await withRuntime(env(), (runtime, lines) => run(runtime, lines, redis));
    } finally {
      await setLimit('64');
      redis.disconnect();
    }
  };
  /** Scores one transaction; returns its card log's key. */
  const score = async (runtime: Runtime, merchantId: string, transactionId: string) => {
    const result = await runtime.engine.score(
      merchantId,
      scoreRequestSchema.parse({
        transactionId,
        amount: 25,
        currency: 'EUR',
        channel: 'ecommerce',
        card: { number: PANS[n++ % PANS.length]!, expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
      }),
    );
    if (result.kind !== 'scored' || !result.evidence) throw new Error(`not scored: ${JSON.stringify(result)}`);
    return REDIS_KEYS.log('card', result.evidence.card.fingerprint);
  };
  const oversized = async (runtime: Runtime) =>
    (await runtime.metrics.redisOversizedMembers.get()).values.reduce((sum, v) => sum + v.value, 0);

  it('counts and warns of log members over zset-max-listpack-value (64 by default), whose logs become skiplists', async () => {
    await withEngine(async (runtime, lines, redis) => {
      // A 46-character transaction id with a 25-character merchant id: members of ~80 bytes. The limit
      // is read when the engine starts (redis-watch.ts), and checked from then on.
      let cardLog = '';
      await expect
        .poll(
          async () => {
            cardLog = await score(runtime, LONG_MERCHANT, longId());
            return oversized(runtime);
          },
          { timeout: 5_000 },
        )
        .toBeGreaterThan(0);
      expect(await redis.call('OBJECT', 'ENCODING', cardLog)).toBe('skiplist');
      // One warning, however many such transactions (at most one every ten minutes).
      await score(runtime, LONG_MERCHANT, longId());
      expect(await oversized(runtime)).toBeGreaterThan(1);
      const warnings = lines.filter((l) => l.includes('zset-max-listpack-value'));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, limit: 64 });
    });
  });

  it('says nothing of short ids, whose logs stay listpacks', async () => {
    await withEngine(async (runtime, lines, redis) => {
      for (let i = 0; i < 5; i++) {
        const cardLog = await score(runtime, 'm-short', `order-${++n}`);
        expect(await redis.call('OBJECT', 'ENCODING', cardLog)).toBe('listpack');
      }
      expect(await oversized(runtime)).toBe(0);
      expect(lines.filter((l) => l.includes('listpack-value'))).toEqual([]);
    });
  });

  it('says nothing once zset-max-listpack-value is raised: the same ids stay compact', async () => {
    await withEngine(async (runtime, lines, redis) => {
      for (let i = 0; i < 5; i++) {
        const cardLog = await score(runtime, LONG_MERCHANT, longId());
        expect(await redis.call('OBJECT', 'ENCODING', cardLog)).toBe('listpack');
      }
      expect(await oversized(runtime)).toBe(0);
      expect(lines.filter((l) => l.includes('listpack-value'))).toEqual([]);
    }, '128');
  });
});
