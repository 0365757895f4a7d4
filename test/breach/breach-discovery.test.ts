// Breach discovery end to end (issue #16), through a real engine process on a real Redis and a real
// PostgreSQL: cards shop at 25 merchants over 40 days, 50 of them also at one breached shop;
// later 15 of those and 2 others are charged back. A scan names the breached shop (and nobody
// else), opens a suspected event of Leakguard's own, lists the cards that used the shop, and
// scoring then steps those cards up to 3-D Secure while a card that never went there is approved;
// issuers see the suspected event through their BIN ranges, and their own list merges with it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisApiKeyStore } from '../../services/adapters/redis/api-key-store.ts';
import { connectRedis, whenReady, type RedisClient } from '../../services/adapters/redis/connection.ts';
import { createApiKey } from '../../services/auth/api-keys.ts';
import { TEST_CARD_KEY, TEST_DATA_KEY } from '../support/app.ts';
import { EngineProcess, http } from '../support/engine-process.ts';
import { PostgresServer } from '../support/postgres-server.ts';
import { RedisServer } from '../support/redis-server.ts';
import { cardNumber } from '../stream/support.ts';
import { mulberry32 } from '../support/cpp-world.ts';
import { Receiver, until, WEBHOOK_ENV } from '../webhooks/support.ts';

const DAY = 86_400_000;
const T0 = Date.now() - 80 * DAY;
const MERCHANTS = Array.from({ length: 25 }, (_, i) => `shop-${i}`);
const BREACHED = 'breached-shop';
/** Where the stolen cards are used: shops none of them used before (breach fraud happens elsewhere). */
const CASHOUT = ['web-shop-0', 'web-shop-1', 'web-shop-2'];

let redisServer: RedisServer;
let pg: PostgresServer;
let redis: RedisClient;
let engine: EngineProcess;
let stateDir: string;
const keys: Record<string, string> = {};

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
let txSeq = 0;
async function score(merchant: string, pan: string, at: number) {
  const transactionId = `cpp-${++txSeq}`;
  const res = await http(engine.base, '/v1/score', {
    headers: bearer(keys[merchant]!),
    body: {
      transactionId,
      amount: 4200,
      currency: 'EUR',
      channel: 'ecommerce',
      occurredAt: new Date(at).toISOString(),
      card: { number: pan, expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
      device: { id: `dev-${pan.slice(-6)}`, ip: '198.51.100.7' },
      customer: { email: `holder-${pan.slice(-6)}@example.com` },
    },
  });
  expect(res.status, res.body).toBe(200);
  return { transactionId, ...res.json<{ decision: string; reasons: { code: string; message: string }[] }>() };
}
/** At most `width` requests in flight. */
async function inBatches<T>(items: T[], width: number, run: (item: T) => Promise<unknown>) {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(run));
}

interface Card {
  pan: string;
  /** When it was used at the breached shop (50 of the 300). */
  breachedAt?: number;
}
const rnd = mulberry32(16);
const cards: Card[] = Array.from({ length: 300 }, (_, i) => ({
  pan: cardNumber(i % 2 === 0 ? '411111' : '555555'),
  ...(i < 50 ? { breachedAt: T0 + (10 + rnd() * 10) * DAY } : {}),
}));
const defrauded = [...cards.slice(0, 15), cards[200]!, cards[201]!];
// 40 days of shopping: three merchants per card; the breached shop's cards on days 10–20.
const visits: [string, string, number][] = cards.flatMap((c) => [
  ...Array.from({ length: 3 }, (): [string, string, number] => [
    MERCHANTS[Math.floor(rnd() * MERCHANTS.length)]!,
    c.pan,
    T0 + Math.floor(rnd() * 40 * DAY),
  ]),
  ...(c.breachedAt ? [[BREACHED, c.pan, c.breachedAt] as [string, string, number]] : []),
]);
/** Used at the breached shop, never charged back, and inside any window the scan can estimate: the latest there. */
const exposedCard = cards.slice(15, 50).reduce((a, b) => (b.breachedAt! > a.breachedAt! ? b : a));
const cleanCard = cards[120]!; // never went there

beforeAll(async () => {
  [redisServer, pg] = await Promise.all([RedisServer.start(), PostgresServer.start()]);
  redis = await whenReady(connectRedis(redisServer.url));
  const store = new RedisApiKeyStore(redis);
  for (const m of [...MERCHANTS, BREACHED, ...CASHOUT])
    keys[m] = (await createApiKey(store, { role: 'merchant', merchantId: m })).key;
  keys.admin = (await createApiKey(store, { role: 'admin' })).key;
  keys.visaIssuer = (await createApiKey(store, { role: 'issuer', issuerId: 'visa-bank' })).key;
  keys.otherIssuer = (await createApiKey(store, { role: 'issuer', issuerId: 'other-bank' })).key;
  stateDir = mkdtempSync(join(tmpdir(), 'lg-cpp-'));
  engine = await EngineProcess.spawn('engine', {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    REDIS_URL: redisServer.url,
    DATABASE_URL: pg.url,
    LEAKGUARD_STATE_DIR: stateDir,
    XDG_STATE_HOME: join(stateDir, 'state-home'),
    LEAKGUARD_CARD_KEY: TEST_CARD_KEY,
    LEAKGUARD_DATA_KEY: TEST_DATA_KEY,
    LEAKGUARD_AUDIT_KEY: 'e'.repeat(64),
    LEAKGUARD_MODEL: 'off',
    LEAKGUARD_CPP_SCAN_MINUTES: '0',
    // A small world (300 cards, 26 merchants): the sensitivity of the detection core's own defaults.
    LEAKGUARD_CPP_ALPHA: '0.001',
    LEAKGUARD_CPP_MIN_CARDS: '5',
    LEAKGUARD_WATCHLIST_REFRESH_MS: '500',
    LEAKGUARD_RATE_LIMIT_PER_MINUTE: '100000',
    LEAKGUARD_DEADLINE_MS: '2000',
    ...WEBHOOK_ENV,
  });
  // The console line: the case database (and the webhook worker with it) is open.
  await engine.ready({ console: true, timeoutMs: 90_000 });

  await inBatches(visits, 8, ([m, pan, at]) => score(m, pan, at));
  // Day 45: the fraud, charged back.
  await inBatches(defrauded, 8, async (c) => {
    const m = CASHOUT[Math.floor(rnd() * CASHOUT.length)]!;
    const { transactionId } = await score(m, c.pan, T0 + 45 * DAY + Math.floor(rnd() * DAY));
    const res = await http(engine.base, `/v1/transactions/${transactionId}/outcome`, {
      headers: bearer(keys[m]!),
      body: { outcome: 'chargeback', reasonCode: '10.4' },
    });
    expect(res.status, res.body).toBe(200);
  });
}, 180_000);

afterAll(async () => {
  await engine?.stop();
  redis?.disconnect();
  await Promise.allSettled([redisServer?.stop(), pg?.stop()]);
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe('breach discovery through the engine', () => {
  let eventId: string;

  it('steps up nothing before the scan: an exposed card is approved like any other', async () => {
    const before = await score('shop-3', exposedCard.pan, T0 + 46 * DAY);
    expect(before.decision).toBe('approve');
  });

  it('names the breached shop only, with an event of its own listing the cards that used it', async () => {
    const res = await http(engine.base, '/v1/admin/cpp/scan', { headers: bearer(keys.admin!), body: {} });
    expect(res.status, res.body).toBe(200);
    const report = res.json();
    expect(report.fraudulentCards).toBe(defrauded.length);
    expect(report.suspected).toHaveLength(1);
    const [s] = report.suspected;
    expect(s).toMatchObject({ merchantId: BREACHED, created: true, status: 'open', confidence: 'suspected' });
    expect(s.fraudCards).toBe(15);
    expect(s.expected).toBeLessThan(4);
    expect(s.exposedCards).toBeGreaterThanOrEqual(15);
    expect(s.exposedCards).toBeLessThanOrEqual(50);
    expect(Date.parse(s.windowStart)).toBeGreaterThanOrEqual(T0 + 10 * DAY);
    expect(Date.parse(s.windowEnd)).toBeLessThanOrEqual(T0 + 20 * DAY);
    eventId = s.eventId;
    // The scan's own figures, for the dashboard and LeakguardBreachScanSlow.
    const metrics = (await http(engine.base, '/metrics')).body;
    expect(metrics).toContain(`leakguard_cpp_scan_last_fraudulent_cards ${defrauded.length}\n`);
    const seconds = Number(/^leakguard_cpp_scan_last_duration_seconds (\S+)$/m.exec(metrics)?.[1]);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(60);
    // One suspected event opened, awaiting review; a scan finding it again counts nothing more.
    expect(metrics).toContain('leakguard_cpp_suspected_total 1\n');
    const again = await http(engine.base, '/v1/admin/cpp/scan', { headers: bearer(keys.admin!), body: {} });
    expect(again.json().suspected).toMatchObject([{ eventId: s.eventId, created: false }]);
    const after = (await http(engine.base, '/metrics')).body;
    expect(after).toContain('leakguard_cpp_suspected_total 1\n');
    expect(after).toContain('leakguard_cpp_suspected_open_events 1\n');

    const events = await http(engine.base, '/v1/compromise-events', { headers: bearer(keys.admin!) });
    const event = events.json().events.find((e: { id: string }) => e.id === eventId);
    expect(event).toMatchObject({
      issuerId: 'leakguard',
      source: 'leakguard-cpp',
      confidence: 'suspected',
      dataElements: ['pan'],
      evidence: { merchantId: BREACHED, fraudCards: 15, exposedCards: s.exposedCards },
    });
    expect(event.statistics.cardsListed).toBe(s.exposedCards);
    expect(event.evidence.firstFrauds).toHaveLength(15);
  });

  it('steps an exposed card up to 3-D Secure (a challenge, not a review); a card that never went there is approved', async () => {
    const after = await score('shop-4', exposedCard.pan, T0 + 46 * DAY + 3600_000);
    // What leaked at a suspected merchant is unknown: a matching security code proves nothing.
    expect(after.decision).toBe('challenge');
    expect(after.reasons.map((r) => r.code)).toEqual(
      expect.arrayContaining(['LEAKED_CARD_CVV_COMPROMISED', 'LEAKED_CARD_SUSPECTED_BREACH']),
    );
    expect(after.reasons.map((r) => r.code)).not.toContain('LEAKED_CARD_CVV_MATCH');
    expect((await score('shop-4', cleanCard.pan, T0 + 46 * DAY + 3600_000)).decision).toBe('approve');
  });

  it('shows an issuer the suspected event through its BIN ranges, with its exposed cards there; not another issuer', async () => {
    const ranges = await http(engine.base, '/v1/issuers/visa-bank/bin-ranges', {
      method: 'PUT',
      headers: bearer(keys.admin!),
      body: [{ from: '411111', to: '411111' }],
    });
    expect(ranges.status, ranges.body).toBe(200);
    await http(engine.base, '/v1/issuers/other-bank/bin-ranges', {
      method: 'PUT',
      headers: bearer(keys.admin!),
      body: [{ from: '400000', to: '400001' }],
    });
    const events = await http(engine.base, '/v1/compromise-events', { headers: bearer(keys.admin!) });
    const byBin = events.json().events.find((e: { id: string }) => e.id === eventId).evidence.exposedByBin;
    const visa = await http(engine.base, '/v1/issuer/suspected-events', { headers: bearer(keys.visaIssuer!) });
    expect(visa.status, visa.body).toBe(200);
    expect(visa.json().events).toEqual([
      expect.objectContaining({ id: eventId, confidence: 'suspected', exposedCards: byBin['411111'] }),
    ]);
    // Unreviewed: the merchant is not named to issuers (an analyst's confirmation names it).
    expect(visa.json().events[0]).not.toHaveProperty('merchantId');
    expect(visa.body).not.toContain(BREACHED);
    expect(byBin['411111']).toBeGreaterThan(0);
    const other = await http(engine.base, '/v1/issuer/suspected-events', { headers: bearer(keys.otherIssuer!) });
    expect(other.json().events).toEqual([]);
  });

  it("merges an issuer's own list for the same breach: the card is listed in both events", async () => {
    const created = await http(engine.base, '/v1/compromise-events', {
      headers: bearer(keys.visaIssuer!),
      body: {
        externalId: 'breached-shop-2026',
        source: 'card network alert',
        exposureStart: new Date(T0 + 10 * DAY).toISOString(),
        exposureEnd: new Date(T0 + 20 * DAY).toISOString(),
        discoveredAt: new Date(T0 + 47 * DAY).toISOString(),
        dataElements: ['pan', 'expiry'],
      },
    });
    expect(created.status, created.body).toBe(201);
    const upload = await http(engine.base, `/v1/compromise-events/${created.json().id}/cards`, {
      headers: { ...bearer(keys.visaIssuer!), 'content-type': 'text/csv' },
      body: `${exposedCard.pan}\n`,
    });
    expect(upload.status, upload.body).toBe(200);
    await new Promise((r) => setTimeout(r, 1_200)); // the registry's refresh (500 ms)
    const merged = await score('shop-5', exposedCard.pan, T0 + 47 * DAY);
    expect(merged.reasons.find((r) => r.code === 'LEAKED_CARD_CVV_COMPROMISED')?.message).toContain(
      '2 compromise event(s)',
    );
  });

  it('keeps no card number in Redis: histories hold fingerprints and BINs only', async () => {
    const historyKeys = [...(await redis.keys('lg:{c:*}:h')), ...(await redis.keys('lg:{m:*}:h'))];
    expect(historyKeys.length).toBeGreaterThan(300);
    for (const key of historyKeys) {
      const members = (await redis.zrange(key, 0, -1)).join(' ');
      for (const c of cards) {
        expect(key).not.toContain(c.pan);
        expect(members).not.toContain(c.pan);
        expect(members).not.toContain(c.pan.slice(6));
      }
    }
  });

  it("calls the issuer's compromise.suspected webhook when the event opens and when it is dismissed", async () => {
    const receiver = await Receiver.start();
    try {
      const sub = await http(engine.base, '/v1/webhooks', {
        headers: bearer(keys.visaIssuer!),
        body: { url: receiver.url, eventTypes: ['compromise.suspected'] },
      });
      expect(sub.status, sub.body).toBe(201);
      const secret = sub.json().secret as string;
      const first = await until('the suspected event delivered', () => receiver.requests[0]);
      const opened = first.verified(secret);
      const events = await http(engine.base, '/v1/compromise-events', { headers: bearer(keys.admin!) });
      const byBin = events.json().events.find((e: { id: string }) => e.id === eventId).evidence.exposedByBin;
      expect(opened).toMatchObject({
        type: 'compromise.suspected',
        data: { eventId, status: 'open', confidence: 'suspected', exposedCards: byBin['411111'] },
      });
      // Unreviewed: the merchant is not named.
      expect(first.body).not.toContain(BREACHED);
      for (const c of cards) expect(first.body).not.toContain(c.pan);

      // Dismissed (retracted by an admin): the issuer hears the exposure is lifted.
      const retract = await http(engine.base, `/v1/compromise-events/${eventId}/retract`, {
        method: 'POST',
        headers: bearer(keys.admin!),
      });
      expect(retract.status, retract.body).toBe(200);
      const second = await until('the dismissal delivered', () => receiver.requests[1]);
      expect(second.verified(secret).data).toMatchObject({ eventId, status: 'retracted' });
      expect(second.body).not.toContain(BREACHED);
      // Nothing awaits review any more: LeakguardSuspectedBreach stops.
      expect((await http(engine.base, '/metrics')).body).toContain('leakguard_cpp_suspected_open_events 0\n');
      // Each state once: nothing more arrives.
      await new Promise((r) => setTimeout(r, 500));
      expect(receiver.requests).toHaveLength(2);
    } finally {
      await receiver.close();
    }
  });
});
