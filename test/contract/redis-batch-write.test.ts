// The stream's batches on one Redis (services/adapters/redis/velocity-store.ts recordAndReadMany):
// the batch's scripts leave the engine in one write (one system call, not one each), and every
// transaction still gets its own reading, in the batch's order. Responses concluded in one turn
// of the event loop are stored by one script call.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import type { Redis } from 'ioredis';
import { connectRedis, whenReady } from '../../services/adapters/redis/connection.ts';
import { REDIS_KEYS } from '../../services/adapters/redis/keys.ts';
import { RedisVelocityStore } from '../../services/adapters/redis/velocity-store.ts';
import { buildCounterPlan, type TransactionFacts } from '../../services/core/velocity.ts';
import { RedisServer } from '../support/redis-server.ts';

let server: RedisServer;
beforeAll(async () => {
  server = await RedisServer.start();
});
afterAll(() => server.stop());

const T0 = Date.parse('2026-11-01T12:00:00Z');
const facts = (i: number): TransactionFacts => ({
  merchantId: 'm1',
  transactionId: `batch-${i}`,
  payloadHash: `h${i}`,
  occurredAt: T0 + i * 1000,
  amountCents: 1000,
  small: false,
  entities: { card: ['card-1'], merchant: ['m1'], bin: ['411111'], device: [`device-${i % 5}`] },
});

/** Script calls Redis has run so far (INFO commandstats). */
async function scriptCalls(redis: Redis): Promise<number> {
  const stats = await redis.info('commandstats');
  return [...stats.matchAll(/^cmdstat_(?:evalsha|eval|fcall):calls=(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

it('sends a batch of 40 scorings in one write, each reading in the batch order, and their responses in another', async () => {
  const redis = await whenReady(connectRedis(server.url));
  try {
    const store = new RedisVelocityStore(redis);
    // The scripts are loaded (the first use of each on a connection is sent twice: EVALSHA, EVAL).
    const warm = buildCounterPlan(facts(-1), REDIS_KEYS);
    await store.recordAndRead(warm);
    await store.saveResponse(warm, '{}');
    // What the socket hands to the system: one _write or _writev call per flush (Node's Writable).
    const socket = (redis as Redis).stream as Socket & Record<'_write' | '_writev', (...a: unknown[]) => void>;
    let flushes = 0;
    for (const name of ['_write', '_writev'] as const) {
      const original = socket[name].bind(socket);
      socket[name] = (...args: unknown[]) => {
        flushes++;
        original(...args);
      };
    }
    const plans = Array.from({ length: 40 }, (_, i) => buildCounterPlan(facts(i), REDIS_KEYS));
    const readings = await store.recordAndReadMany(plans);
    expect(flushes).toBe(1); // one per script would be 40
    // The card's count grows by one per transaction, in the batch's order.
    expect(readings.map((r) => r.velocity!.card_count_10m)).toEqual(Array.from({ length: 40 }, (_, i) => i + 2));

    // The batch's responses, stored at once (engine scoreBatch), leave together too, as one script
    // call; retries replay them.
    const calls = await scriptCalls(redis as Redis);
    flushes = 0;
    await Promise.all(store.together(() => plans.map((plan, i) => store.saveResponse(plan, `{"n":${i}}`))));
    expect(flushes).toBe(1);
    expect((await scriptCalls(redis as Redis)) - calls).toBe(1); // one per response would be 40
    const replayed = await store.recordAndRead(plans[7]!);
    expect([replayed.status, replayed.storedResponse]).toEqual(['replay', '{"n":7}']);
  } finally {
    await redis.quit();
  }
});

it('stores the responses of scorings that conclude in one turn by one call, each kept reading dropped', async () => {
  const redis = await whenReady(connectRedis(server.url));
  try {
    const store = new RedisVelocityStore(redis);
    const warm = buildCounterPlan(facts(99), REDIS_KEYS);
    await store.recordAndRead(warm);
    await store.saveResponse(warm, '{}'); // the script is in Redis's cache: one call is one EVALSHA
    const plans = Array.from({ length: 30 }, (_, i) => buildCounterPlan(facts(100 + i), REDIS_KEYS));
    // Scored one by one, concurrently (as HTTP requests are): Redis answers them together.
    await Promise.all(plans.map((plan) => store.recordAndRead(plan)));
    expect(await redis.exists(plans[0]!.kept)).toBe(1); // the reading kept for a retry
    const calls = await scriptCalls(redis as Redis);
    // Each scoring's continuation saves its own response, in the same turn (no `together`).
    await Promise.all(plans.map((plan, i) => Promise.resolve().then(() => store.saveResponse(plan, `{"m":${i}}`))));
    expect((await scriptCalls(redis as Redis)) - calls).toBe(1);
    for (const [i, plan] of plans.entries()) {
      expect(await redis.get(plan.response)).toBe(`{"m":${i}}`);
      expect(await redis.exists(plan.kept)).toBe(0);
    }
  } finally {
    await redis.quit();
  }
});
