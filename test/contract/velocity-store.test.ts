// The velocity contract, held against both stores: the in-memory embedded default and a real Redis.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryVelocityStore } from '../../services/adapters/memory/velocity-store.ts';
import { MemoryNegativeListStore, RedisNegativeListStore, type NegativeListStore } from '../../services/cases/negative-lists.ts';
import { listLookup } from '../../services/core/lists.ts';
import { connectRedis, RedisVelocityStore, whenReady } from '../../services/adapters/redis/velocity-store.ts';
import { buildCounterPlan, VELOCITY_FEATURES, WINDOWS, type TransactionFacts, type VelocityStore } from '../../services/core/velocity.ts';
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
  open(): Promise<VelocityStore>;
}
/** The negative lists of the store last opened (fed by analysts' decisions, read by scoring). */
let lists: NegativeListStore;

let redisServer: RedisServer;
const subjects: Subject[] = [
  {
    name: 'memory',
    open: async () => {
      const memory = new MemoryNegativeListStore();
      lists = memory;
      return new MemoryVelocityStore({ lists: memory });
    },
  },
  {
    name: 'redis',
    open: async () => {
      const redis = await whenReady(connectRedis(redisServer.url));
      await redis.flushall();
      lists = new RedisNegativeListStore(redis);
      return new RedisVelocityStore(redis);
    },
  },
];

beforeAll(async () => {
  redisServer = await RedisServer.start();
});
afterAll(async () => {
  await redisServer.stop();
});

describe.each(subjects)('velocity store contract: $name', (subject) => {
  let store: VelocityStore;
  beforeEach(async () => {
    store = await subject.open();
    return () => store.close();
  });

  const record = async (facts: TransactionFacts) => {
    const reading = await store.recordAndRead(buildCounterPlan(facts));
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
      await record(tx({ merchantId: m, occurredAt: T0 - (4 - i) * MIN, entities: { card: ['cardA'], merchant: [m], device: ['dev1'] } }));
    }
    await record(tx({ occurredAt: T0 - MIN, entities: { card: ['cardB'], merchant: ['m1'], device: ['dev1'] } }));
    const v = await record(tx({ occurredAt: T0, entities: { card: ['cardC'], merchant: ['m1'], device: ['dev1'] } }));
    expect(v.device_distinct_cards_1h).toBe(3);
    expect(v.device_count_1h).toBe(6);
    const a = await record(tx({ merchantId: 'm4', occurredAt: T0, entities: { card: ['cardA'], merchant: ['m4'] } }));
    expect(a.card_distinct_merchants_10m).toBe(4);
  });

  it('a late event never moves a distinct member back in time', async () => {
    await record(tx({ occurredAt: T0, entities: { card: ['cardA'], merchant: ['m2'] }, merchantId: 'm2' }));
    await record(tx({ occurredAt: T0 - 3 * WINDOWS['1h'], entities: { card: ['cardA'], merchant: ['m2'] }, merchantId: 'm2' }));
    const v = await record(tx({ occurredAt: T0 + MIN, entities: { card: ['cardA'], merchant: ['m1'] } }));
    expect(v.card_distinct_merchants_10m).toBe(2);
  });

  it('counts a transaction once: a retry with the same payload replays, another payload conflicts', async () => {
    const facts = tx();
    const plan = buildCounterPlan(facts);
    const first = await store.recordAndRead(plan);
    expect(first.status).toBe('new');
    // Response not stored yet (crash between count and reply): read again without counting.
    const pending = await store.recordAndRead(plan);
    expect(pending.status).toBe('pending');
    expect(pending.velocity!.card_count_1h).toBe(1);
    await store.saveResponse(plan, '{"decision":"approve"}');
    const replay = await store.recordAndRead(plan);
    expect(replay).toEqual({ status: 'replay', storedResponse: '{"decision":"approve"}' });
    const conflict = await store.recordAndRead(buildCounterPlan({ ...facts, payloadHash: 'other' }));
    expect(conflict.status).toBe('conflict');
    const next = await record(tx());
    expect(next.card_count_1h).toBe(2);
  });

  it('feeds declines and chargebacks from outcomes, once per kind, only for known transactions', async () => {
    const facts = tx({ entities: { card: ['cardA'], merchant: ['m1'], device: ['dev9'] } });
    await record(facts);
    expect(await store.recordOutcome('m1', facts.transactionId, 'declined', T0 + 1)).toBe('recorded');
    expect(await store.recordOutcome('m1', facts.transactionId, 'declined', T0 + 2)).toBe('duplicate');
    expect(await store.recordOutcome('m2', facts.transactionId, 'declined', T0 + 2)).toBe('unknown');
    expect(await store.recordOutcome('m1', facts.transactionId, 'authorized', T0 + 2)).toBe('recorded');
    expect(await store.recordOutcome('m1', facts.transactionId, 'chargeback', T0 + 3)).toBe('recorded');
    const v = await record(tx({ occurredAt: T0 + MIN, entities: { card: ['cardA'], merchant: ['m1'], device: ['dev9'] } }));
    expect(v.card_declines_24h).toBe(1);
    expect(v.card_chargebacks_30d).toBe(1);
    expect(v.device_chargebacks_30d).toBe(1);
  });

  it('during key rotation reads both identities of an entity and writes the primary only', async () => {
    await record(tx({ occurredAt: T0 - 2 * MIN, entities: { card: ['oldFp'], merchant: ['m1'] } }));
    await record(tx({ merchantId: 'm2', occurredAt: T0 - MIN, entities: { card: ['oldFp'], merchant: ['m2'] } }));
    const v = await record(tx({ merchantId: 'm3', occurredAt: T0, entities: { card: ['newFp', 'oldFp'], merchant: ['m3'] } }));
    expect(v.card_count_10m).toBe(3);
    expect(v.card_distinct_merchants_10m).toBe(3);
    const after = await record(tx({ occurredAt: T0 + 1, entities: { card: ['newFp'], merchant: ['m1'] } }));
    expect(after.card_count_10m).toBe(2);
  });

  it('reads the negative lists and the card allow-list in the same round trip', async () => {
    const entities = { card: ['cardN', 'cardOld'], merchant: ['m1'], device: ['devBad'], ip: ['ipOk'], email: ['mailNew', 'mailOld'] };
    await lists.add('device', 'devBad', 60_000, 1);
    await lists.add('email', 'mailOld', 60_000, 1); // listed under the previous key's identity
    await lists.allowCard('m1', 'cardOld', 60_000, 2);
    const facts = { ...tx({ entities }), lists: listLookup('m1', entities) };
    const reading = await store.recordAndRead(buildCounterPlan(facts));
    expect(reading.lists).toEqual([true, false, true, true]); // device, ip, email, then the allow-list
    const other = { ...tx({ merchantId: 'm2', entities: { ...entities, merchant: ['m2'] } }) };
    const elsewhere = await store.recordAndRead(buildCounterPlan({ ...other, lists: listLookup('m2', other.entities) }));
    expect(elsewhere.lists!.at(-1)).toBe(false); // allow-listed for m1 only
  });

  it('bounds memory: events older than the longest window are trimmed and counts saturate at the cap', async () => {
    await record(tx({ occurredAt: T0 - WINDOWS['30d'] - MIN }));
    const v = await record(tx({ occurredAt: T0 }));
    expect(v.card_count_30d).toBe(1);
    for (let i = 0; i < 30; i++) await record(tx({ occurredAt: T0 + i, entities: { card: [`c${i}`], merchant: ['m1'], bin: ['400000'] } }));
    const b = await record(tx({ occurredAt: T0 + 40, entities: { card: ['cz'], merchant: ['m1'], bin: ['400000'] } }));
    expect(b.bin_count_10m).toBe(31);
    expect(b.bin_distinct_cards_10m).toBe(31);
  });
});
