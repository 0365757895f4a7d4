// A store that cannot serve is not a fault of ours: Redis full (maxmemory under noeviction), Redis
// down, PostgreSQL down. Every door answers 503 UNAVAILABLE with Retry-After (not 500 INTERNAL),
// never quotes the driver's error, logs a warning naming the store, and serves the same request
// once the store is back. Scoring is not among them: it answers degraded (redis-failure.test.ts).
import { renameSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mastersOf, type RedisClient } from '../../services/adapters/redis/connection.ts';
import { loggedIn } from '../console/client.ts';
import { bearer, buildTestApp, scoreBody, type TestApp } from '../support/app.ts';
import { luhnComplete } from '../support/card-arbitraries.ts';
import { PostgresServer } from '../support/postgres-server.ts';
import { until } from '../support/wait.ts';
import { RedisServer } from '../support/redis-server.ts';
import { singleAndCluster } from '../support/single-and-cluster.ts';

interface Answer {
  statusCode: number;
  body: string;
  headers: Record<string, unknown>;
}

let serial = 0;
const card = () => luhnComplete(`411111${String(++serial).padStart(9, '0')}`);
const event = (externalId: string) => ({
  externalId,
  issuerId: 'i1',
  source: 'card network alert',
  description: 'test breach',
  exposureStart: '2026-05-01T00:00:00Z',
  exposureEnd: '2026-10-31T00:00:00Z',
  discoveredAt: '2026-11-10T00:00:00Z',
  dataElements: ['pan', 'expiry'],
  confidence: 'confirmed',
});

/** The Redis-backed doors an issuer and an admin use, each one request (a fresh event and card each time). */
function redisDoors(t: TestApp, eventId: string): [string, () => Promise<Answer>][] {
  const send = (method: string, url: string, key: string, payload?: unknown, headers: Record<string, string> = {}) =>
    t.app.inject({ method: method as 'GET', url, headers: { ...bearer(key), ...headers }, payload: payload as string });
  return [
    ['create an event', () => send('POST', '/v1/compromise-events', t.keys.admin, event(`ev-${++serial}`))],
    ['list events', () => send('GET', '/v1/compromise-events', t.keys.issuer)],
    ['read an event', () => send('GET', `/v1/compromise-events/${eventId}`, t.keys.issuer)],
    [
      'upload a card list',
      () =>
        send('POST', `/v1/compromise-events/${eventId}/cards`, t.keys.issuer, card(), { 'content-type': 'text/csv' }),
    ],
    ['read BIN ranges', () => send('GET', '/v1/issuers/i1/bin-ranges', t.keys.admin)],
    ['read hits', () => send('GET', '/v1/issuer/hits', t.keys.issuer)],
    [
      'record an outcome',
      () => send('POST', '/v1/transactions/tx-known/outcome', t.keys.merchant, { outcome: 'declined' }),
    ],
  ];
}

/** `retryAfter`: a full Redis stays so until memory is freed (10 s); an outage or a failover passes sooner (1 s). */
function expectUnavailable(name: string, a: Answer, retryAfter = '1') {
  expect(a.statusCode, `${name}: ${a.body}`).toBe(503);
  expect(JSON.parse(a.body).code, name).toBe('UNAVAILABLE');
  expect(a.headers['retry-after'], name).toBe(retryAfter);
  // Nothing of the driver's words (OOM, a socket error) reaches the client.
  expect(a.body, name).not.toMatch(/OOM|maxmemory|ECONN|Stream|Connection/);
}

/** The answer once the store is back: asked again until it is not a 503 (a client reconnects within a second or two). */
async function servedAgain<A extends { statusCode: number }>(send: () => Promise<A>): Promise<A> {
  let a = await send();
  for (let i = 0; a.statusCode === 503 && i < 50; i++) {
    await new Promise((r) => setTimeout(r, 200));
    a = await send();
  }
  return a;
}

async function setupOn(t: TestApp): Promise<string> {
  const ranges = await t.app.inject({
    method: 'PUT',
    url: '/v1/issuers/i1/bin-ranges',
    headers: bearer(t.keys.admin),
    payload: [{ from: '411111', to: '411111' }],
  });
  expect(ranges.statusCode).toBe(200);
  const created = await t.app.inject({
    method: 'POST',
    url: '/v1/compromise-events',
    headers: bearer(t.keys.admin),
    payload: event(`ev-${++serial}`),
  });
  expect(created.statusCode).toBe(201);
  const scored = await t.app.inject({
    method: 'POST',
    url: '/v1/score',
    headers: bearer(t.keys.merchant),
    payload: scoreBody({ transactionId: 'tx-known' }),
  });
  expect(scored.json()).toMatchObject({ degraded: false });
  // Every key has been checked once: a known key keeps working while the key store is unreachable.
  const listed = await t.app.inject({ method: 'GET', url: '/v1/compromise-events', headers: bearer(t.keys.issuer) });
  expect(listed.statusCode).toBe(200);
  return (created.json() as { id: string }).id;
}

describe.each(singleAndCluster())('$name full (maxmemory reached, noeviction)', (subject) => {
  let t: TestApp;
  let client: RedisClient;
  let eventId: string;
  beforeAll(async () => {
    client = await subject.open();
    t = await buildTestApp(subject.env());
    eventId = await setupOn(t);
  });
  afterAll(async () => {
    await Promise.all(mastersOf(client).map((m) => m.config('SET', 'maxmemory', '0')));
    client.disconnect();
    await t.close();
  });

  it('answers a transaction scored before as it was, refuses its id with another payload, and the new ones degraded', async () => {
    const score = (body: ReturnType<typeof scoreBody>) =>
      t.app.inject({ method: 'POST', url: '/v1/score', headers: bearer(t.keys.merchant), payload: body });
    const body = scoreBody({ transactionId: `tx-answered-${subject.name.replace(/\W/g, '-')}` });
    const first = await score(body);
    expect(first.json()).toMatchObject({ degraded: false });
    // The response is stored just after the answer: wait until a retry replays it.
    for (let i = 0; i < 50 && !(await client.get(`lg:{t:m1:${body.transactionId}}:r`)); i++)
      await new Promise((r) => setTimeout(r, 20));
    await Promise.all(mastersOf(client).map((m) => m.config('SET', 'maxmemory', '1')));
    try {
      const again = await score(body);
      expect(again.statusCode).toBe(200);
      expect(again.body).toBe(first.body);
      const reused = await score({ ...body, amount: body.amount + 1 });
      expect(reused.statusCode).toBe(409);
      expect(reused.json().code).toBe('TRANSACTION_CONFLICT');
      const fresh = await score(scoreBody());
      expect(fresh.json()).toMatchObject({ degraded: true, checks: { velocity: 'skipped' } });
    } finally {
      await Promise.all(mastersOf(client).map((m) => m.config('SET', 'maxmemory', '0')));
    }
  });

  it('answers every door 503 UNAVAILABLE with Retry-After, warns naming Redis, and serves the same requests once there is room', async () => {
    await Promise.all(mastersOf(client).map((m) => m.config('SET', 'maxmemory', '1')));
    const doors = redisDoors(t, eventId);
    // Reads need no room: served as before. Writes are refused by Redis, and answered 503.
    const refused = ['create an event', 'upload a card list', 'record an outcome'];
    for (const [name, send] of doors) {
      const a = await send();
      if (refused.includes(name)) expectUnavailable(name, a, '10');
      else expect(a.statusCode, `${name}: ${a.body}`).toBe(200);
    }
    const warnings = t.logs.filter((l) => l.includes('redis unavailable: answered 503'));
    expect(warnings.length).toBeGreaterThanOrEqual(2);
    // Named, without the driver's whole error (a script's source, its arguments).
    expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, store: 'redis', error: { type: 'ReplyError' } });
    expect(JSON.parse(warnings[0]!).error.message).toMatch(/^OOM /);
    expect(warnings.join('\n')).not.toContain('redis.call');
    expect(t.logs.filter((l) => l.includes('"unhandled error"'))).toEqual([]);

    await Promise.all(mastersOf(client).map((m) => m.config('SET', 'maxmemory', '0')));
    for (const [name, send] of doors) {
      const a = await send();
      expect(a.statusCode, `${name}: ${a.body}`).toBe(name === 'create an event' ? 201 : 200);
    }
  });
});

describe('Redis down', () => {
  it('answers every door 503 UNAVAILABLE while it is down, and serves them again when it is back', async () => {
    // Durable, as a production Redis: it comes back with what it held.
    const redis = await RedisServer.start({ durable: true });
    const t = await buildTestApp({ REDIS_URL: redis.url });
    try {
      const doors = redisDoors(t, await setupOn(t));
      await redis.kill();
      for (const [name, send] of doors) expectUnavailable(name, await send());
      expect(t.logs.filter((l) => l.includes('"unhandled error"'))).toEqual([]);
      await redis.resume();
      for (const [name, send] of doors) {
        const a = await servedAgain(send);
        expect(a.statusCode, `${name}: ${a.body}`).toBe(name === 'create an event' ? 201 : 200);
      }
    } finally {
      await t.close();
      await redis.stop();
    }
  });
});

describe('Redis full during an upload', () => {
  it('answers 503 and closes; the cards stored before stay listed, and the same list sent again lists each card once', async () => {
    const redis = await RedisServer.start();
    const t = await buildTestApp({ REDIS_URL: redis.url, LEAKGUARD_UPLOAD_LIMIT_BYTES: String(16 * 1024 * 1024) });
    const admin = new Redis(redis.url);
    try {
      const eventId = await setupOn(t);
      const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
      const lines = Array.from({ length: 30_000 }, () => card());
      const listed = async () =>
        (
          await t.app.inject({ method: 'GET', url: `/v1/compromise-events/${eventId}`, headers: bearer(t.keys.issuer) })
        ).json().statistics.cardsListed as number;
      // 2,000 lines, then, once some are stored, Redis fills up and the rest follows, slowly: the
      // engine answers before the list has all arrived.
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (sent === lines.length) return controller.close();
          if (sent === 2_000) {
            await until(listed, (n) => n >= 1_000);
            await admin.config('SET', 'maxmemory', '1');
          }
          if (sent >= 2_000) await new Promise((r) => setTimeout(r, 20));
          const next = lines.slice(sent, sent + 1_000);
          sent += next.length;
          controller.enqueue(new TextEncoder().encode(`${next.join('\n')}\n`));
        },
      });
      const res = await fetch(`${base}/v1/compromise-events/${eventId}/cards`, {
        method: 'POST',
        headers: { ...bearer(t.keys.issuer), 'content-type': 'text/csv' },
        body,
        duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('10');
      // The rest of the list is not read: the connection closes after the answer.
      expect(res.headers.get('connection')).toBe('close');
      expect(((await res.json()) as { code: string }).code).toBe('UNAVAILABLE');
      await admin.config('SET', 'maxmemory', '0');
      const kept = await listed();
      expect(kept).toBeGreaterThanOrEqual(1_000);
      expect(kept).toBeLessThan(lines.length);

      const again = await t.app.inject({
        method: 'POST',
        url: `/v1/compromise-events/${eventId}/cards`,
        headers: { ...bearer(t.keys.issuer), 'content-type': 'text/csv' },
        payload: lines.join('\n'),
      });
      expect(again.json()).toMatchObject({ accepted: lines.length - kept, duplicates: kept, rejected: 0 });
      expect(await listed()).toBe(lines.length);
    } finally {
      await admin.config('SET', 'maxmemory', '0').catch(() => {});
      admin.disconnect();
      await t.close();
      await redis.stop();
    }
  });
});

describe('the embedded watchlist journal unwritable (disk full)', () => {
  it('answers its changes 503 UNAVAILABLE, makes none of them, and makes and keeps them when retried once there is room', async () => {
    let t = await buildTestApp();
    const stateDir = t.stateDir;
    const journal = join(stateDir, 'watchlist.journal');
    // The disk fills up: the journal's writes go to /dev/full (ENOSPC); freed, to the file again.
    const full = () => {
      renameSync(journal, join(stateDir, 'aside'));
      symlinkSync('/dev/full', journal);
    };
    const freed = () => {
      unlinkSync(journal);
      renameSync(join(stateDir, 'aside'), journal);
    };
    const send = (method: string, url: string, key: string, payload?: unknown, headers: Record<string, string> = {}) =>
      t.app.inject({
        method: method as 'GET',
        url,
        headers: { ...bearer(key), ...headers },
        payload: payload as string,
      });
    try {
      const listedEvent = await setupOn(t);
      const created = await send('POST', '/v1/compromise-events', t.keys.admin, event(`ev-${++serial}`));
      const retracted = created.json().id as string;
      const csv = { 'content-type': 'text/csv' };
      const [kept, fresh] = [card(), card()];
      expect(
        (await send('POST', `/v1/compromise-events/${listedEvent}/cards`, t.keys.issuer, kept, csv)).json(),
      ).toMatchObject({ accepted: 1 });
      const changes: [string, () => Promise<Answer>][] = [
        ['create an event', () => send('POST', '/v1/compromise-events', t.keys.admin, event('ev-while-full'))],
        [
          'upload a card list',
          () => send('POST', `/v1/compromise-events/${listedEvent}/cards`, t.keys.issuer, `${fresh}\n${kept}\n`, csv),
        ],
        ['retract an event', () => send('POST', `/v1/compromise-events/${retracted}/retract`, t.keys.issuer)],
        ['close an event', () => send('POST', `/v1/compromise-events/${retracted}/close`, t.keys.issuer)],
        [
          'change an event',
          () => send('PATCH', `/v1/compromise-events/${retracted}`, t.keys.issuer, { confidence: 'suspected' }),
        ],
        ['remove a card', () => send('DELETE', '/v1/cards', t.keys.issuer, { cards: [{ pan: kept }] })],
        [
          'set BIN ranges',
          () => send('PUT', '/v1/issuers/i9/bin-ranges', t.keys.admin, [{ from: '401288', to: '401288' }]),
        ],
      ];
      full();
      for (const [name, change] of changes) expectUnavailable(name, await change(), '10');
      const warnings = t.logs.filter((l) => l.includes('journal unavailable: answered 503'));
      expect(warnings.length).toBeGreaterThanOrEqual(changes.length);
      expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, store: 'journal' });
      expect(t.logs.join('\n')).not.toContain(fresh);
      // None of them made: the event open, the card not listed, the card still listed.
      const read = async (id: string) => (await send('GET', `/v1/compromise-events/${id}`, t.keys.issuer)).json();
      expect((await read(retracted)).status).toBe('open');
      expect((await read(listedEvent)).statistics).toMatchObject({ cardsListed: 1, cardsRemoved: 0 });

      freed();
      // The same requests again: made, as if the first attempts never happened.
      const upload = await changes[1]![1]();
      expect(upload.statusCode, upload.body).toBe(200);
      expect(JSON.parse(upload.body)).toMatchObject({ accepted: 1, duplicates: 1 });
      const retract = await changes[2]![1]();
      expect([retract.statusCode, JSON.parse(retract.body).status]).toEqual([200, 'retracted']);
      expect((await changes[0]![1]()).statusCode).toBe(201);

      // A restart reads them back from the journal.
      await t.close();
      t = await buildTestApp({ LEAKGUARD_STATE_DIR: stateDir });
      expect((await read(retracted)).status).toBe('retracted');
      expect((await read(listedEvent)).statistics).toMatchObject({ cardsListed: 2 });
      const lookup = await send('POST', '/v1/cards/lookup', t.keys.admin, { cards: [{ pan: fresh }, { pan: kept }] });
      expect(lookup.json().cards.map((c: { listed: boolean }) => c.listed)).toEqual([true, true]);
    } finally {
      await t.close();
    }
  });
});

describe('PostgreSQL down', () => {
  let pg: PostgresServer;
  let redis: RedisServer;
  let t: TestApp;
  beforeEach(async () => {
    [pg, redis] = await Promise.all([PostgresServer.start(), RedisServer.start()]);
    t = await buildTestApp(
      { DATABASE_URL: pg.url, REDIS_URL: redis.url, LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' },
      { cases: true },
    );
  });
  afterEach(async () => {
    await t.close();
    await Promise.all([pg.stop(), redis.stop()]);
  });

  it('answers the webhook routes 503 UNAVAILABLE with Retry-After, and serves them again once it is back', async () => {
    const list = () => t.app.inject({ method: 'GET', url: '/v1/webhooks', headers: bearer(t.keys.merchant) });
    expect((await list()).statusCode).toBe(200);
    await pg.halt('fast');
    expectUnavailable('list webhooks', await list());
    expect(t.logs.some((l) => l.includes('postgres unavailable: answered 503'))).toBe(true);
    expect(t.logs.filter((l) => l.includes('"unhandled error"'))).toEqual([]);
    await pg.resume();
    expect((await servedAgain(list)).statusCode).toBe(200);
  });

  it('shows a 503 console page with Retry-After, not an internal error, and the queue again once it is back', async () => {
    const { client } = await loggedIn(t, 'analyst');
    expect((await client.get('/console/queue')).status).toBe(200);
    await pg.halt('fast');
    const down = await client.get('/console/queue');
    expect(down.status, down.body.slice(0, 300)).toBe(503);
    expect(down.headers['retry-after']).toBe('1');
    expect(down.body).toContain('A store is unavailable for a moment');
    expect(down.body).not.toMatch(/ECONN|terminated|Internal error/);
    expect(t.logs.some((l) => l.includes('postgres unavailable: console answered 503'))).toBe(true);
    await pg.resume();
    const back = await servedAgain(async () => {
      const r = await client.get('/console/queue');
      return { ...r, statusCode: r.status };
    });
    expect(back.statusCode).toBe(200);
  });
});

// Guards the classifier on its own: faults stay faults.
it('keeps errors that are not about availability answered as faults', async () => {
  const redis = await RedisServer.start();
  const c = new Redis(redis.url);
  try {
    await c.set('a-string', 'x');
    const wrongType = await c.lpush('a-string', 'y').catch((e: unknown) => e);
    const { errorAnswer } = await import('../../services/http/errors.ts');
    expect(errorAnswer(wrongType)).toMatchObject({ status: 500, code: 'INTERNAL', fault: true });
    await c.config('SET', 'maxmemory', '1');
    const oom = await c.set('b', 'y').catch((e: unknown) => e);
    expect(errorAnswer(oom)).toMatchObject({ status: 503, code: 'UNAVAILABLE', unavailable: 'redis' });
  } finally {
    c.disconnect();
    await redis.stop();
  }
});
