// Periodic breach scans taken in turn: of the engines sharing a store, the one whose tick takes the
// turn scans; the others skip that interval; when the turn expires (its engine stopped), the next
// engine to tick takes it. On the embedded store, one Redis and a Redis Cluster.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryCardHistoryStore } from '../../services/adapters/memory/card-history-store.ts';
import { RedisCardHistoryStore } from '../../services/adapters/redis/card-history-store.ts';
import { connectRedis, whenReady } from '../../services/adapters/redis/connection.ts';
import { HISTORY_KEYS } from '../../services/adapters/redis/keys.ts';
import type { CardHistoryStore } from '../../services/breach/history.ts';
import { SCAN_TURN_SHARE, ScanSchedule } from '../../services/breach/scan-schedule.ts';
import type { ScanReport } from '../../services/breach/scanner.ts';
import { RedisCluster } from '../support/redis-cluster.ts';
import { RedisServer } from '../support/redis-server.ts';

let redisServer: RedisServer;
let cluster: RedisCluster;
beforeAll(async () => {
  [redisServer, cluster] = await Promise.all([RedisServer.start(), RedisCluster.start()]);
});
afterAll(() => Promise.all([redisServer.stop(), cluster.stop()]));

// Long enough that a loaded machine does not let a turn expire between two steps meant to fall inside it.
const EVERY_MS = 2_000;

/** An engine's schedule: its scans counted (each a report of its own). */
function engine(history: CardHistoryStore, holder: string) {
  const scans: number[] = [];
  const scan = async (): Promise<ScanReport> => {
    scans.push(Date.now());
    const at = Date.now();
    return {
      at,
      scannedFrom: at,
      truncated: false,
      labelledCards: 0,
      fraudulentCards: 0,
      merchantsTested: 0,
      distinctCards: 0,
      merchantsPerCard: 0,
      findings: [],
    };
  };
  return { scans, schedule: new ScanSchedule(history, scan, { holder, everyMs: EVERY_MS }) };
}

describe.each([
  {
    name: 'memory',
    stores: async () => {
      const store = new MemoryCardHistoryStore();
      return { a: store, b: store, close: () => {} };
    },
  },
  {
    name: 'redis',
    stores: async () => {
      const [a, b] = await Promise.all([1, 2].map(() => whenReady(connectRedis(redisServer.url))));
      await a!.flushall();
      return {
        a: new RedisCardHistoryStore(a!),
        b: new RedisCardHistoryStore(b!),
        close: () => [a!, b!].forEach((r) => r.disconnect()),
      };
    },
  },
  {
    name: 'redis cluster',
    stores: async () => {
      await cluster.flushAll();
      const [a, b] = await Promise.all([1, 2].map(() => whenReady(connectRedis({ clusterNodes: cluster.seeds }))));
      return {
        a: new RedisCardHistoryStore(a!),
        b: new RedisCardHistoryStore(b!),
        close: () => [a!, b!].forEach((r) => r.disconnect()),
      };
    },
  },
])('breach scans in turn: $name', ({ stores }) => {
  it('one engine scans per interval, the same one while it runs; another takes over once its turn expires', async () => {
    const { a: storeA, b: storeB, close } = await stores();
    onTestFinished(close);
    const a = engine(storeA, 'engine-a'),
      b = engine(storeB, 'engine-b');
    // Both tick at the same moment: one scan between them.
    const [first, second] = await Promise.all([a.schedule.tick(), b.schedule.tick()]);
    expect([first, second].filter((r) => r !== undefined)).toHaveLength(1);
    const scanner = first ? a : b,
      other = first ? b : a;
    // Later in the interval the other's tick finds the turn taken.
    expect(await other.schedule.tick()).toBeUndefined();
    // The turn ends before the holder's next tick: it scans again; the other still skips.
    await sleep(EVERY_MS);
    expect(await scanner.schedule.tick()).toBeDefined();
    expect(await other.schedule.tick()).toBeUndefined();
    expect(scanner.scans).toHaveLength(2);
    expect(other.scans).toHaveLength(0);
    // The scanning engine stops ticking: once its turn expires, the other's next tick takes it.
    await sleep(SCAN_TURN_SHARE * EVERY_MS + 50);
    expect(await other.schedule.tick()).toBeDefined();
    expect(other.scans).toHaveLength(1);
    expect(await scanner.schedule.tick()).toBeUndefined();
  });
});

describe('the turn in Redis', () => {
  it('names the engine that has it and expires with it', async () => {
    const redis = await whenReady(connectRedis(redisServer.url));
    try {
      await redis.flushall();
      expect(await new RedisCardHistoryStore(redis).takeScanTurn('host-1:4242:abcdef', 60_000)).toBe(true);
      expect(await redis.get(HISTORY_KEYS.scanTurn)).toBe('host-1:4242:abcdef');
      const ttl = await redis.pttl(HISTORY_KEYS.scanTurn);
      expect(ttl).toBeGreaterThan(55_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    } finally {
      redis.disconnect();
    }
  });
});
