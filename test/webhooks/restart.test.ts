// Durability across an engine crash: a real engine process (npm start) on a real PostgreSQL and
// Redis. Deliveries pending when the engine is killed (SIGKILL: no clean shutdown) are sent, in
// order, by the next engine; a hit recorded by scoring but not yet fed into the outbox when the
// engine died is fed and sent by the next one too (its cursor is in PostgreSQL, the hit in Redis).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgSqlClient } from '../../services/adapters/postgres/pg-client.ts';
import { RedisApiKeyStore } from '../../services/adapters/redis/api-key-store.ts';
import { connectRedis, whenReady, type RedisClient } from '../../services/adapters/redis/connection.ts';
import { createApiKey } from '../../services/auth/api-keys.ts';
import { EngineProcess, http } from '../support/engine-process.ts';
import { PostgresServer } from '../support/postgres-server.ts';
import { RedisServer } from '../support/redis-server.ts';
import { TEST_CARD_KEY, TEST_DATA_KEY } from '../support/app.ts';
import { listCards, newCard, Receiver, scoreRequest, until, WEBHOOK_ENV, type Call } from './support.ts';

let redis: RedisServer;
let pg: PostgresServer;
let client: RedisClient;
let receiver: Receiver;
const engines: EngineProcess[] = [];
const keys = { issuer: '', admin: '', merchant: '' };
const state = mkdtempSync(join(tmpdir(), 'lg-wh-restart-'));

const start = async (name: string) => {
  const engine = await EngineProcess.spawn(name, {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    REDIS_URL: redis.url,
    DATABASE_URL: pg.url,
    LEAKGUARD_STATE_DIR: state,
    XDG_STATE_HOME: join(state, 'state-home'),
    LEAKGUARD_CARD_KEY: TEST_CARD_KEY,
    LEAKGUARD_DATA_KEY: TEST_DATA_KEY,
    LEAKGUARD_AUDIT_KEY: 'e'.repeat(64),
    LEAKGUARD_MODEL: 'off',
    LEAKGUARD_DEADLINE_MS: '2000',
    LEAKGUARD_CPP: 'off',
    ...WEBHOOK_ENV,
    // Hits are fed 1.5 s after they are recorded: the engine can be killed in between.
    LEAKGUARD_WEBHOOK_HIT_LAG_MS: '1500',
  });
  engines.push(engine);
  return engine.ready({ console: true });
};
const callOn =
  (engine: EngineProcess): Call =>
  async (method, url, key, body, contentType) => {
    const res = await http(engine.base, url, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(contentType ? { 'content-type': contentType } : {}) },
      ...(body === undefined ? {} : { body: body as object }),
    });
    return { status: res.status, json: () => res.json() };
  };

beforeAll(async () => {
  [redis, pg, receiver] = await Promise.all([RedisServer.start(), PostgresServer.start(), Receiver.start()]);
  client = await whenReady(connectRedis({ url: redis.url }));
  const store = new RedisApiKeyStore(client);
  keys.issuer = (await createApiKey(store, { role: 'issuer', issuerId: 'bank-1' })).key;
  keys.admin = (await createApiKey(store, { role: 'admin' })).key;
  keys.merchant = (await createApiKey(store, { role: 'merchant', merchantId: 'shop-1' })).key;
}, 60_000);
afterAll(async () => {
  await Promise.all(engines.map((e) => e.stop()));
  client?.disconnect();
  await receiver?.close();
  await redis?.stop();
  await pg?.stop();
});

describe('an engine restart', () => {
  it('loses no delivery: pending ones and hits not yet fed are sent, in order, by the next engine', async () => {
    const first = await start('engine 1');
    const call = callOn(first);
    receiver.fallback = 503;
    const created = await call('POST', '/v1/webhooks', keys.issuer, {
      url: receiver.url,
      eventTypes: ['watchlist.hit'],
    });
    expect(created.status).toBe(201);
    const { secret } = created.json() as { secret: string };
    const pans = [newCard(), newCard(), newCard(), newCard()];
    await listCards(call, { issuer: keys.issuer, admin: keys.admin }, 'bank-1', pans);
    const sent: string[] = [];
    for (const [i, pan] of pans.slice(0, 3).entries()) {
      const res = await call('POST', '/v1/score', keys.merchant, scoreRequest(`restart-${i}`, pan));
      expect(res.status).toBe(200);
      sent.push(`restart-${i}`);
    }
    // The first hit is being retried (503) while the two others wait behind it.
    await until('the first attempts', () => receiver.requests.length >= 2, 20_000);
    // One more hit, then a crash before it is fed.
    const res = await call('POST', '/v1/score', keys.merchant, scoreRequest('restart-3', pans[3]!));
    expect(res.status).toBe(200);
    sent.push('restart-3');
    // Scoring writes the hit just after its answer: once the hit store holds it (and before it is
    // fed, 1.5 s after), the engine dies.
    await until(
      'the hit recorded',
      async () =>
        (await call('GET', '/v1/issuer/hits?limit=1', keys.issuer)).json().hits[0]?.transactionId === 'restart-3',
      1_000,
    );
    first.process.kill('SIGKILL');
    await first.exited;
    const beforeRestart = receiver.requests.length;
    const seenBefore = new Set(receiver.requests.map((q) => q.verified(secret).data.transactionId));
    expect(seenBefore).toEqual(new Set(['restart-0']));

    // What the dead engine left: three deliveries queued, the last hit still only in the hit store.
    const sql = new PgSqlClient({ connectionString: pg.url });
    const queued = await sql.query<{ tx: string; status: string }>(
      `SELECT data->>'transactionId' AS tx, status FROM webhook_deliveries ORDER BY seq`,
    );
    await sql.close();
    expect(queued.rows).toEqual(sent.slice(0, 3).map((tx) => ({ tx, status: 'pending' })));

    receiver.fallback = 204;
    await start('engine 2');
    // The dead engine's lease runs out (2 × timeout + 5 s), then the queue drains in order.
    await until(
      'every hit delivered',
      () =>
        new Set(receiver.requests.slice(beforeRestart).map((q) => q.verified(secret).data.transactionId)).size === 4,
      40_000,
    );
    const after = receiver.requests.slice(beforeRestart).map((q) => q.verified(secret).data.transactionId as string);
    // In order; each message once after the restart (restart-0 may be re-sent: at least once).
    expect(after).toEqual(sent);
    for (const q of receiver.requests) for (const pan of pans) expect(q.body).not.toContain(pan);
  }, 120_000);
});
