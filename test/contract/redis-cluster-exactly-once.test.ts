// The exactly-once protocol across slots (docs/redis-cluster.md), on a real three-master Redis
// Cluster: an engine that dies at each point between the claim and the stored response, or
// between an outcome's writes, or a master that refuses writes (full) while the others take them, leaves counters that a retry completes without counting anything
// twice; two engines scoring the same transaction at once count it once and read the same.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REDIS_KEYS } from '../../services/adapters/redis/keys.ts';
import {
  connectRedis,
  mastersOf,
  nodeName,
  whenReady,
  type RedisClient,
} from '../../services/adapters/redis/connection.ts';
import { RedisVelocityStore } from '../../services/adapters/redis/velocity-store.ts';
import { buildCounterPlan, type TransactionFacts, type VelocityReading } from '../../services/core/velocity.ts';
import { RedisCluster } from '../support/redis-cluster.ts';
import { RedisServer } from '../support/redis-server.ts';
import { until } from '../support/wait.ts';

const T0 = Date.parse('2026-11-01T12:00:00Z');
const MIN = 60_000;
let n = 0;
const ENTITIES = { card: ['cardA'], merchant: ['m1'], bin: ['411111'], device: ['dev1'], ip: ['ip1'], email: ['em1'] };
// The shipping address has the pseudonym it was written under before 2026-12-07 (addr-old) besides
// today's (addr-new): written under addr-new, it replaces addr-old in the card's log.
const tx = (over: Partial<TransactionFacts> = {}): TransactionFacts => ({
  merchantId: 'm1',
  transactionId: `tx${++n}`,
  payloadHash: `h${n}`,
  occurredAt: T0,
  amountCents: 2500,
  small: false,
  entities: { ...ENTITIES, shipping: ['addr-new', 'addr-old'] },
  formerIdentities: { shipping: ['addr-old'] },
  ...over,
});
/** The story's first transaction, before the address normalisation's upgrade: the address under addr-old only. */
const beforeUpgrade = (occurredAt: number): TransactionFacts => {
  const facts = tx({ occurredAt, entities: { ...ENTITIES, shipping: ['addr-old'] } });
  delete facts.formerIdentities;
  return facts;
};

/**
 * A client that dies like an engine process would: after the claim and `groupsDone` slot-group
 * scripts have reached Redis, every later script and the kept reading are lost.
 */
function dying(client: RedisClient, groupsDone: number, options: { keepReading?: boolean } = {}): RedisClient {
  let calls = 0;
  let allowed = true;
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop === 'fcall') {
        return (...args: unknown[]) => {
          // The velocity functions: the claim first, then the slot groups.
          allowed = calls++ <= groupsDone;
          if (!allowed) return Promise.reject(new Error('engine died'));
          return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      }
      if (prop === 'sendCommand' && !options.keepReading) {
        return (command: { name: string; reject: (e: Error) => void }, ...rest: unknown[]) =>
          command.name === 'set' // the kept reading's write (velocity-store.ts recorded)
            ? command.reject(new Error('engine died'))
            : (value as (...a: unknown[]) => unknown).apply(target, [command, ...rest]);
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

let cluster: RedisCluster;
let single: RedisServer;
let clusterClient: RedisClient;
let singleClient: RedisClient;
beforeAll(async () => {
  [cluster, single] = await Promise.all([RedisCluster.start(), RedisServer.start()]);
  clusterClient = await whenReady(connectRedis({ clusterNodes: cluster.seeds }));
  singleClient = await whenReady(connectRedis(single.url));
});
afterAll(async () => {
  clusterClient.disconnect();
  singleClient.disconnect();
  await Promise.all([cluster.stop(), single.stop()]);
});
beforeEach(async () => {
  await Promise.all([cluster.flushAll(), singleClient.flushall()]);
});

/** The story every case replays: two earlier transactions, the one that crashes, then the next one. */
async function story(
  crash: (facts: TransactionFacts) => Promise<void>,
): Promise<{ retried: VelocityReading; next: VelocityReading }> {
  const store = new RedisVelocityStore(clusterClient);
  await store.recordAndRead(buildCounterPlan(beforeUpgrade(T0 - 3 * MIN), REDIS_KEYS));
  await store.recordAndRead(
    buildCounterPlan(
      tx({
        occurredAt: T0 - 2 * MIN,
        entities: { card: ['cardB'], merchant: ['m1'], bin: ['411111'], device: ['dev1'] },
      }),
      REDIS_KEYS,
    ),
  );
  const facts = tx({ occurredAt: T0 - MIN });
  await crash(facts);
  // The merchant retries the same request, later, without occurredAt: a new "now".
  const retried = await store.recordAndRead(buildCounterPlan({ ...facts, occurredAt: T0 + 5 * MIN }, REDIS_KEYS));
  expect(retried.status).toBe('pending');
  expect(retried.countedAt).toBe(T0 - MIN);
  const next = await store.recordAndRead(buildCounterPlan(tx({ occurredAt: T0 }), REDIS_KEYS));
  expect(next.status).toBe('new');
  return { retried: retried.velocity!, next: next.velocity! };
}

describe('exactly once across slots', () => {
  // Without a crash, on one Redis: what every crashed story must end with.
  let expected: { retried: VelocityReading; next: VelocityReading };
  beforeAll(async () => {
    await singleClient.flushall();
    const store = new RedisVelocityStore(singleClient);
    await store.recordAndRead(buildCounterPlan(beforeUpgrade(T0 - 3 * MIN), REDIS_KEYS));
    await store.recordAndRead(
      buildCounterPlan(
        tx({
          occurredAt: T0 - 2 * MIN,
          entities: { card: ['cardB'], merchant: ['m1'], bin: ['411111'], device: ['dev1'] },
        }),
        REDIS_KEYS,
      ),
    );
    const facts = tx({ occurredAt: T0 - MIN });
    const first = await store.recordAndRead(buildCounterPlan(facts, REDIS_KEYS));
    const next = await store.recordAndRead(buildCounterPlan(tx({ occurredAt: T0 }), REDIS_KEYS));
    expected = { retried: first.velocity!, next: next.velocity! };
    expect(expected.next.card_count_1h).toBe(3); // the second transaction is another card
    expect(expected.next.merchant_count_1h).toBe(4);
    expect(expected.next.device_distinct_cards_1h).toBe(2);
    // The address written before the upgrade and after it: one address.
    expect(expected.retried.card_distinct_shipping_addresses_24h).toBe(1);
    expect(expected.next.card_distinct_shipping_addresses_24h).toBe(1);
  });

  const groupsOf = (facts: TransactionFacts) => buildCounterPlan(facts, REDIS_KEYS).groups.length;

  it('a crash after the claim, before any slot group: the retry records every group once', async () => {
    const got = await story(async (facts) => {
      await expect(
        new RedisVelocityStore(dying(clusterClient, 0)).recordAndRead(buildCounterPlan(facts, REDIS_KEYS)),
      ).rejects.toThrow('engine died');
    });
    expect(got).toEqual(expected);
  });

  it('a crash between slot groups (some written, some not), at every point: each counter counts the transaction once', async () => {
    const total = groupsOf(tx());
    expect(total).toBe(8); // card, device, IP, email, address (two identities), merchant, BIN: one slot each
    for (const done of [1, Math.floor(total / 2), total - 1]) {
      await cluster.flushAll();
      const got = await story(async (facts) => {
        await expect(
          new RedisVelocityStore(dying(clusterClient, done)).recordAndRead(buildCounterPlan(facts, REDIS_KEYS)),
        ).rejects.toThrow('engine died');
      });
      expect(got, `crash after ${done} of ${total} groups`).toEqual(expected);
    }
  });

  it('a crash after every group, before the reading was kept: the retry records nothing twice', async () => {
    const got = await story(async (facts) => {
      const plan = buildCounterPlan(facts, REDIS_KEYS);
      const reading = await new RedisVelocityStore(dying(clusterClient, 1_000)).recordAndRead(plan);
      expect(reading.status).toBe('new');
      expect(await clusterClient.exists(plan.kept)).toBe(0); // lost with the engine
    });
    expect(got).toEqual(expected);
  });

  it('a crash after the reading was kept, before the response: the retry gets that reading back', async () => {
    const got = await story(async (facts) => {
      const plan = buildCounterPlan(facts, REDIS_KEYS);
      await new RedisVelocityStore(clusterClient).recordAndRead(plan);
      // Written after the answer, on the connection the retry's claim takes next.
      expect(
        await until(
          () => clusterClient.exists(plan.kept),
          (n) => n === 1,
        ),
      ).toBe(1);
    });
    expect(got).toEqual(expected);
  });

  it('a master full (maxmemory, noeviction) while the others are not: its groups refused, the others written; once it has room the retry records each counter once', async () => {
    /** The master a key's slot is served by. */
    const masterOf = async (key: string) => {
      const slot = (await clusterClient.cluster('KEYSLOT', key)) as number;
      const [address] = (clusterClient as unknown as { slots: string[][] }).slots[slot]!;
      return mastersOf(clusterClient).find((m) => nodeName(m) === address)!;
    };
    const got = await story(async (facts) => {
      const plan = buildCounterPlan(facts, REDIS_KEYS);
      const markerMaster = await masterOf(plan.marker);
      const groupMasters = await Promise.all(plan.groups.map((g) => masterOf(g.ops[0]!.key)));
      const full = groupMasters.find((m) => m !== markerMaster);
      expect(full, 'a master holds a slot group and not the marker').toBeDefined();
      await full!.config('SET', 'maxmemory', '1');
      try {
        await expect(new RedisVelocityStore(clusterClient).recordAndRead(plan)).rejects.toThrow(/^OOM /);
      } finally {
        await full!.config('SET', 'maxmemory', '0');
      }
      // Claimed, and recorded on the masters with room: a partly recorded transaction.
      expect(await clusterClient.hget(plan.marker, 'h')).toBe(facts.payloadHash);
    });
    expect(got).toEqual(expected);
  });

  it('after the response is stored, a retry replays it and counts nothing', async () => {
    const store = new RedisVelocityStore(clusterClient);
    const facts = tx();
    const plan = buildCounterPlan(facts, REDIS_KEYS);
    await store.recordAndRead(plan);
    await store.saveResponse(plan, '{"decision":"approve"}');
    expect(await store.recordAndRead(buildCounterPlan({ ...facts, occurredAt: T0 + MIN }, REDIS_KEYS))).toEqual({
      status: 'replay',
      storedResponse: '{"decision":"approve"}',
    });
    const next = await store.recordAndRead(buildCounterPlan(tx({ occurredAt: T0 + 1 }), REDIS_KEYS));
    expect(next.velocity!.card_count_10m).toBe(2);
  });

  it('two engines scoring the same transaction at once: counted once, the same reading for both', async () => {
    const other = await whenReady(connectRedis({ clusterNodes: cluster.seeds }));
    try {
      const a = new RedisVelocityStore(clusterClient),
        b = new RedisVelocityStore(other);
      await a.recordAndRead(buildCounterPlan(tx({ occurredAt: T0 - 2 * MIN }), REDIS_KEYS));
      const facts = tx({ occurredAt: T0 - MIN });
      const [ra, rb] = await Promise.all([
        a.recordAndRead(buildCounterPlan(facts, REDIS_KEYS)),
        b.recordAndRead(buildCounterPlan(facts, REDIS_KEYS)),
      ]);
      expect([ra.status, rb.status].sort()).toEqual(['new', 'pending']);
      expect(ra.velocity).toEqual(rb.velocity);
      expect(ra.velocity!.card_count_1h).toBe(2);
      const next = await a.recordAndRead(buildCounterPlan(tx({ occurredAt: T0 }), REDIS_KEYS));
      expect(next.velocity!.card_count_1h).toBe(3);
      expect(next.velocity!.merchant_count_1h).toBe(3);
    } finally {
      other.disconnect();
    }
  });

  it('an outcome whose engine died between the sets and the marker is recorded once by the retry', async () => {
    const store = new RedisVelocityStore(clusterClient);
    const facts = tx();
    await store.recordAndRead(buildCounterPlan(facts, REDIS_KEYS));
    // The engine died after joining the outcome sets: the marker's o:chargeback field was never set.
    const crashing = new RedisVelocityStore(
      new Proxy(clusterClient, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver);
          if (prop === 'sendCommand')
            return (command: { name: string; reject: (e: Error) => void }, ...rest: unknown[]) =>
              command.name === 'hsetnx'
                ? command.reject(new Error('engine died'))
                : (value as (...a: unknown[]) => unknown).apply(target, [command, ...rest]);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }),
    );
    await expect(crashing.recordOutcome('m1', facts.transactionId, 'chargeback', T0 + MIN)).rejects.toThrow(
      'engine died',
    );
    expect(await clusterClient.hget(REDIS_KEYS.marker('m1', facts.transactionId), 'o:chargeback')).toBeNull();
    expect(await store.recordOutcome('m1', facts.transactionId, 'chargeback', T0 + MIN)).toBe('recorded');
    expect(await store.recordOutcome('m1', facts.transactionId, 'chargeback', T0 + MIN)).toBe('duplicate');
    const next = await store.recordAndRead(buildCounterPlan(tx({ occurredAt: T0 + 2 * MIN }), REDIS_KEYS));
    expect(next.velocity!.card_chargebacks_24h).toBe(1);
    expect(next.velocity!.device_chargebacks_7d).toBe(1);
  });
});
