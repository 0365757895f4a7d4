// The breach's fourth step was a stolen decryption key: the encrypted card data became readable.
// Leakguard keeps no card number, encrypted or not, and its card key lives outside every store.
// After scoring, an upload, outcomes and hits on a real Redis, the bytes Redis holds (an
// uncompressed RDB snapshot) and the embedded state files hold neither a card number nor the key.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, TEST_CARD_KEY, type TestApp } from '../support/app.ts';
import { RedisServer } from '../support/redis-server.ts';

const PANS = ['4111111111111111', '4111112222222227', '5555555555554444', '4000056655665556'];
const key = Buffer.from(TEST_CARD_KEY, 'hex');
/** The key as bytes and in every text form it could be written in. */
const KEY_FORMS = [
  key,
  Buffer.from(TEST_CARD_KEY),
  Buffer.from(key.toString('base64')),
  Buffer.from(key.toString('base64url')),
];

let redis: RedisServer;
let t: TestApp;
beforeAll(async () => {
  redis = await RedisServer.start();
  t = await buildTestApp({ REDIS_URL: redis.url });
});
afterAll(async () => {
  await t?.close();
  await redis?.stop();
});

describe('no card number and no card key at rest', () => {
  it('Redis and the state directory hold neither, after scoring, uploads, outcomes and hits', async () => {
    const admin = bearer(t.keys.admin);
    expect(
      (
        await t.app.inject({
          method: 'PUT',
          url: '/v1/issuers/i1/bin-ranges',
          headers: admin,
          payload: [{ from: '411111', to: '411199' }],
        })
      ).statusCode,
    ).toBe(200);
    const event = await t.app.inject({
      method: 'POST',
      url: '/v1/compromise-events',
      headers: bearer(t.keys.issuer),
      payload: {
        externalId: 'at-rest',
        source: 'test',
        description: `leak of ${PANS[0]}`,
        exposureStart: '2026-01-01T00:00:00Z',
        exposureEnd: '2026-02-01T00:00:00Z',
        discoveredAt: '2026-03-01T00:00:00Z',
        dataElements: ['pan', 'expiry'],
      },
    });
    expect(event.statusCode).toBe(201);
    const id = (event.json() as { id: string }).id;
    const upload = await t.app.inject({
      method: 'POST',
      url: `/v1/compromise-events/${id}/cards`,
      headers: { ...bearer(t.keys.issuer), 'content-type': 'text/csv' },
      payload: `${PANS[0]},12,2030\n${PANS[1]}\n`,
    });
    expect(upload.json()).toMatchObject({ accepted: 2 });
    for (const [i, pan] of PANS.entries()) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/score',
        headers: bearer(t.keys.merchant),
        payload: {
          transactionId: `rest-${i}`,
          amount: 1999,
          currency: 'EUR',
          channel: 'ecommerce',
          card: { number: pan, expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
          device: { id: 'd-1', ip: '203.0.113.7', userAgent: `card ${pan}` },
        },
      });
      expect(res.statusCode).toBe(200);
      expect(
        (
          await t.app.inject({
            method: 'POST',
            url: `/v1/transactions/rest-${i}/outcome`,
            headers: bearer(t.keys.merchant),
            payload: { outcome: 'chargeback', reasonCode: '10.4' },
          })
        ).statusCode,
      ).toBe(200);
    }
    const hits = await t.app.inject({ method: 'GET', url: '/v1/issuer/hits', headers: bearer(t.keys.issuer) });
    expect((hits.json() as { hits: unknown[] }).hits.length).toBeGreaterThan(0);

    // Every byte Redis holds, written out without compression.
    const client = new Redis(redis.url);
    try {
      expect(await client.dbsize()).toBeGreaterThan(0);
      await client.config('SET', 'rdbcompression', 'no');
      await client.save();
      const [, dir] = (await client.config('GET', 'dir')) as [string, string];
      const snapshot = readFileSync(join(dir, 'dump.rdb'));
      // Read as written: the engine's keys are there in clear, so a card number would be too.
      expect(snapshot.includes('lg:w:{')).toBe(true);
      for (const pan of PANS) expect(snapshot.includes(pan), `Redis holds ${pan.slice(0, 6)}…`).toBe(false);
      for (const form of KEY_FORMS) expect(snapshot.includes(form), 'Redis holds the card key').toBe(false);
    } finally {
      client.disconnect();
    }

    // The embedded state: key file, journals, anything the engine wrote there.
    const files = readdirSync(t.stateDir, { recursive: true, encoding: 'utf8' })
      .map((f) => join(t.stateDir, f))
      .filter((f) => statSync(f).isFile());
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const pan of PANS) expect(bytes.includes(pan), `${file} holds ${pan.slice(0, 6)}…`).toBe(false);
      for (const form of KEY_FORMS) expect(bytes.includes(form), `${file} holds the card key`).toBe(false);
    }
  });
});
