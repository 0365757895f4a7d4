// An existing single-Redis deployment upgraded to the cluster key layout: the keys the previous
// version wrote (spelled out literally here, as that version wrote them) are renamed at start by
// migrateKeyLayout, and every store reads them under their new names: watchlist events, their
// statistics, merchants and hits, BIN ranges, external ids and the event counter; API keys;
// negative lists and allow-lists with their TTLs. Run twice it changes nothing; a legacy key whose
// new name exists is left alone; keys that are not legacy are never touched.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REDIS_KEYS, watchlistBucketKey } from '../../services/adapters/redis/keys.ts';
import type { Redis } from 'ioredis';
import { createApiKey, hashApiKey, type ApiKeyRecord } from '../../services/auth/api-keys.ts';
import { RedisApiKeyStore } from '../../services/adapters/redis/api-key-store.ts';
import { connectRedis, whenReady } from '../../services/adapters/redis/connection.ts';
import { migrateKeyLayout, newNameOf } from '../../services/adapters/redis/key-migration.ts';
import { RedisWatchlistStore } from '../../services/adapters/redis/watchlist-store.ts';
import { RedisNegativeListStore } from '../../services/adapters/redis/negative-list-store.ts';
import { fingerprintWith } from '../../services/core/card.ts';
import { decodeEntry, entrySlot, type CompromiseEvent } from '../../services/core/watchlist.ts';
import { RedisServer } from '../support/redis-server.ts';

const KEY = { id: 'k', secret: Buffer.alloc(32, 7) };
const FP = fingerprintWith(KEY, '4111111111111111');
const DAY = 86_400_000;

const event = (seq: number, issuerId: string, externalId: string): CompromiseEvent => ({
  id: `ce_${seq}`,
  seq,
  issuerId,
  externalId,
  source: 'network alert',
  description: '',
  status: 'open',
  exposureStart: '2026-01-01T00:00:00Z',
  exposureEnd: '2026-06-30T00:00:00Z',
  discoveredAt: '2026-08-01T00:00:00Z',
  dataElements: ['pan', 'cvv'],
  confidence: 'confirmed',
  createdAt: '2026-09-01T00:00:00.000Z',
  updatedAt: '2026-09-01T00:00:00.000Z',
});
const HIT = {
  at: '2026-09-02T10:00:00.000Z',
  merchantId: 'shop-1',
  transactionId: 't1',
  amount: 100,
  currency: 'EUR',
  decision: 'challenge',
  score: 55,
  card: '411111******1111',
  bin: '411111',
  eventIds: ['ce_1'],
  eventSeqs: [1],
  issuerIds: ['bank-a'],
};

/** What the previous version left in Redis: its own key names, written by hand. */
async function writeLegacyLayout(
  redis: Redis,
): Promise<{ apiKey: string; apiRecord: ApiKeyRecord; legacyKeys: number }> {
  await redis.set('lg:w:event-seq', '2');
  await redis.sadd('lg:w:events', '1', '2');
  await redis.hset('lg:w:external-ids', 'bank-a\u0000breach-1', '1', 'bank-b\u0000breach-2', '2');
  await redis.hset('lg:w:bin-ranges', 'bank-a', JSON.stringify([{ from: '411111', to: '411199' }]));
  await redis.hset(
    'lg:w:ev:1',
    'm',
    JSON.stringify(event(1, 'bank-a', 'breach-1')),
    'listed',
    '2',
    'removed',
    '1',
    'hits',
    '3',
    'lastHit',
    String(Date.parse(HIT.at)),
  );
  await redis.sadd('lg:w:ev:1:merchants', 'shop-1', 'shop-2');
  await redis.hset('lg:w:ev:2', 'm', JSON.stringify(event(2, 'bank-b', 'breach-2')), 'listed', '1');
  await redis.xadd('lg:w:hits:{bank-a}', '*', 'h', JSON.stringify(HIT));
  // A listed card: buckets kept their names (lg:w:{xxxx}), nothing to rename.
  const slot = entrySlot(FP);
  await redis.hset(
    watchlistBucketKey(slot.bucket),
    slot.field,
    // As the previous version packed it: one expiry tag (9) for both events.
    Buffer.from('0003' + (1_790_000_000).toString(16).padStart(8, '0') + '0009' + '00000001' + '00000002', 'hex'),
  );
  // API keys: the record as the previous version stored it.
  const captured: ApiKeyRecord[] = [];
  const created = await createApiKey(
    {
      insert: async (r) => void captured.push(r),
      findByHash: async () => undefined,
      list: async () => [],
      revoke: async () => false,
    },
    { role: 'merchant', merchantId: 'shop-1' },
  );
  await redis.hset('lg:apikeys:records', created.record.id, JSON.stringify(created.record));
  await redis.hset('lg:apikeys:by-hash', created.record.hash, created.record.id);
  // Negative lists and allow-lists, with their TTLs.
  await redis.set('lg:neg:device:dev-pseudonym', '41', 'PX', 180 * DAY);
  await redis.set('lg:neg:ip:ip-pseudonym', '42', 'PX', 180 * DAY);
  await redis.set(`lg:allow:shop-1:${FP}`, '43', 'PX', 30 * DAY);
  await redis.set(`lg:allow:shop.with-dots_2:${FP}`, '44', 'PX', 7 * DAY);
  return { apiKey: created.key, apiRecord: created.record, legacyKeys: 14 };
}

let server: RedisServer;
let redis: Redis;
beforeAll(async () => {
  server = await RedisServer.start();
  redis = (await whenReady(connectRedis(server.url))) as Redis;
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});
beforeEach(() => redis.flushall());

describe('key migration on a single Redis', () => {
  it('renames every legacy key, and every store reads it under its new name', async () => {
    const legacy = await writeLegacyLayout(redis);
    // Not legacy: left as they are.
    await redis.xadd('lg:flagged', '*', 'f', '{}');
    await redis.set('lg:{c:abc}:l', 'x');
    const before = (await redis.keys('*')).sort();

    expect(await migrateKeyLayout(redis)).toEqual({ renamed: legacy.legacyKeys, conflicts: 0 });

    const after = await redis.keys('*');
    expect(
      after.filter((k) => /^lg:(w:(ev:|hits:|event-seq|events|external-ids|bin-ranges)|apikeys:|neg:|allow:)/.test(k)),
    ).toEqual([]);
    expect(after).toHaveLength(before.length);
    expect(after).toEqual(
      expect.arrayContaining(['lg:flagged', 'lg:{c:abc}:l', watchlistBucketKey(entrySlot(FP).bucket)]),
    );

    const watchlist = new RedisWatchlistStore(redis);
    expect((await watchlist.listEvents()).map((e) => e.id)).toEqual(['ce_1', 'ce_2']);
    expect((await watchlist.listEvents('bank-b')).map((e) => e.externalId)).toEqual(['breach-2']);
    expect(await watchlist.eventStatistics(1)).toEqual({
      cardsListed: 2,
      cardsRemoved: 1,
      hits: 3,
      distinctMerchants: 2,
      lastHitAt: HIT.at,
    });
    expect(await watchlist.getBinRanges('bank-a')).toEqual([{ from: '411111', to: '411199' }]);
    expect(await watchlist.listHits('bank-a', { limit: 10 })).toEqual([
      {
        at: HIT.at,
        merchantId: 'shop-1',
        transactionId: 't1',
        amount: 100,
        currency: 'EUR',
        decision: 'challenge',
        score: 55,
        card: '411111******1111',
        bin: '411111',
        eventIds: ['ce_1'],
        recordedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    ]);
    // The external ids and the event counter came along: the same breach is the same event, a new one is ce_3.
    const again = await watchlist.createEvent(event(0, 'bank-a', 'breach-1'), 'bank-a', new Date());
    expect(again).toMatchObject({ created: false, event: { id: 'ce_1' } });
    expect((await watchlist.createEvent(event(0, 'bank-a', 'breach-3'), 'bank-a', new Date())).event.id).toBe('ce_3');
    // The listed card, and its removal counted into the migrated events' statistics.
    const [entry] = await watchlist.getEntries([entrySlot(FP)]);
    expect(decodeEntry(entry!)).toMatchObject({ eventSeqs: [1, 2], eventTags: [9, 9] });
    expect(await watchlist.removeCards([entrySlot(FP)])).toBe(1);
    expect((await watchlist.eventStatistics(1)).cardsRemoved).toBe(2);
    expect((await watchlist.eventStatistics(2)).cardsRemoved).toBe(1);

    const apiKeys = new RedisApiKeyStore(redis);
    expect(await apiKeys.findByHash(hashApiKey(legacy.apiKey))).toEqual(legacy.apiRecord);
    expect(await apiKeys.list()).toEqual([legacy.apiRecord]);

    const lists = new RedisNegativeListStore(redis);
    expect(
      await lists.matches({ device: ['dev-pseudonym'], ip: ['other', 'ip-pseudonym'], email: ['nobody'] }),
    ).toEqual(['device', 'ip']);
    expect(await lists.isCardAllowed('shop-1', [FP])).toBe(true);
    expect(await lists.isCardAllowed('shop.with-dots_2', ['previous-key-fp', FP])).toBe(true);
    expect(await lists.isCardAllowed('shop-2', [FP])).toBe(false);
    // RENAME keeps the TTL.
    const ttl = await redis.pttl(REDIS_KEYS.negative('device', 'dev-pseudonym'));
    expect(ttl).toBeGreaterThan(180 * DAY - 60_000);
    expect(ttl).toBeLessThanOrEqual(180 * DAY);
    expect(await redis.pttl(REDIS_KEYS.allow('shop.with-dots_2', FP))).toBeGreaterThan(7 * DAY - 60_000);
    expect(await redis.pttl(REDIS_KEYS.allow('shop.with-dots_2', FP))).toBeLessThanOrEqual(7 * DAY);
  });

  it('is idempotent: a second run, and a run on an empty or a new-layout Redis, renames nothing', async () => {
    expect(await migrateKeyLayout(redis)).toEqual({ renamed: 0, conflicts: 0 });
    await writeLegacyLayout(redis);
    const first = await migrateKeyLayout(redis);
    const snapshot = await dump(redis);
    expect(await migrateKeyLayout(redis)).toEqual({ renamed: 0, conflicts: 0 });
    expect(await dump(redis)).toEqual(snapshot);
    expect(first.renamed).toBeGreaterThan(0);
  });

  it('never overwrites: a legacy key whose new name exists stays where it is, and the new one wins', async () => {
    await redis.set('lg:neg:email:e1', '1', 'PX', DAY);
    await migrateKeyLayout(redis);
    // An engine of the previous version, still running during a rolling upgrade, writes the old name again.
    await redis.set('lg:neg:email:e1', '2', 'PX', DAY);
    await redis.set('lg:neg:email:e2', '3', 'PX', DAY);
    expect(await migrateKeyLayout(redis)).toEqual({ renamed: 1, conflicts: 1 });
    expect(await redis.get(REDIS_KEYS.negative('email', 'e1'))).toBe('1');
    expect(await redis.get('lg:neg:email:e1')).toBe('2');
    expect(await redis.get(REDIS_KEYS.negative('email', 'e2'))).toBe('3');
  });

  it('two engines starting at once migrate each key once', async () => {
    const { legacyKeys } = await writeLegacyLayout(redis);
    const other = await whenReady(connectRedis(server.url));
    try {
      const results = await Promise.all([
        migrateKeyLayout(redis, { scanCount: 3 }),
        migrateKeyLayout(other, { scanCount: 3 }),
      ]);
      expect(results[0]!.renamed + results[1]!.renamed).toBe(legacyKeys);
      expect(results[0]!.conflicts + results[1]!.conflicts).toBe(0);
    } finally {
      other.disconnect();
    }
  });

  it('maps each legacy name to its new one, and nothing else', () => {
    expect(newNameOf('lg:w:ev:12')).toBe('lg:{w}:ev:12');
    expect(newNameOf('lg:w:ev:12:merchants')).toBe('lg:{w}:ev:12:merchants');
    expect(newNameOf('lg:w:hits:{bank-a}')).toBe('lg:{w}:hits:bank-a');
    expect(newNameOf('lg:neg:shipping:abc:def')).toBe('lg:{s:abc:def}:neg');
    expect(newNameOf(`lg:allow:m.1:${FP}`)).toBe(`lg:{c:${FP}}:allow:m.1`);
    for (const key of [
      'lg:w:{abcd}',
      'lg:w:ev:x',
      'lg:w:ev:1:tx',
      'lg:neg:card:x',
      'lg:{w}:ev:1',
      'lg:flagged',
      'lg:{c:x}:l',
      'lg:w:event-seq',
    ])
      expect(newNameOf(key)).toBeUndefined();
  });
});

/** Every key with its type, value and whether it expires. */
async function dump(redis: Redis): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const key of (await redis.keys('*')).sort()) {
    const type = await redis.type(key);
    const value =
      type === 'string'
        ? await redis.get(key)
        : type === 'hash'
          ? await redis.hgetall(key)
          : type === 'set'
            ? (await redis.smembers(key)).sort()
            : type === 'stream'
              ? await redis.xrange(key, '-', '+')
              : type;
    out[key] = { type, value, expires: (await redis.pttl(key)) > 0 };
  }
  return out;
}
