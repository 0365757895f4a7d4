// A stream processor given DATABASE_URL archives what it counts (docs/capacity.md, "Redis
// memory"): its markers live 3 days instead of 35, and a chargeback reported over HTTP after one
// has gone finds the transaction in the archive. A processor without a database keeps its
// markers 35 days. Real Kafka, Redis and PostgreSQL.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgSqlClient } from '../../services/adapters/postgres/pg-client.ts';
import { REDIS_KEYS } from '../../services/adapters/redis/keys.ts';
import { bearer, buildTestApp, type TestApp } from '../support/app.ts';
import { PostgresServer } from '../support/postgres-server.ts';
import { createHarness, generateTransactions, waitFor, type Harness, type OutputReader } from './support.ts';

const DAY = 86_400_000;
let h: Harness;
let pg: PostgresServer;
let sql: PgSqlClient;
let http: TestApp;
let redis: Redis;
let reader: OutputReader;

beforeAll(async () => {
  [h, pg] = await Promise.all([createHarness('archive', { env: { LEAKGUARD_MODEL: 'off' } }), PostgresServer.start()]);
  const db = await pg.createDatabase(`lg_stream_archive_${process.pid}`);
  // The engine migrates the database and answers the outcomes.
  http = await buildTestApp({ REDIS_URL: h.redis.url, DATABASE_URL: db, LOG_LEVEL: 'warn' }, { cases: true });
  await h.startInProcess({ DATABASE_URL: db });
  sql = new PgSqlClient({ connectionString: db });
  redis = new Redis(h.redis.url);
  reader = await h.reader();
}, 180_000);

afterAll(async () => {
  redis?.disconnect();
  await sql?.close();
  await http?.close();
  await h?.close();
  await pg?.stop();
}, 60_000);

const archived = async (prefix: string) =>
  Number(
    (
      await sql.query<{ n: string }>(`SELECT count(*) AS n FROM transaction_archive WHERE transaction_id LIKE $1`, [
        `${prefix}-%`,
      ])
    ).rows[0]!.n,
  );

describe('a stream processor with DATABASE_URL', () => {
  it('archives every transaction it counts, keeps its markers 3 days, and their outcomes outlive them', async () => {
    const txs = generateTransactions(40, { merchants: ['m1'], prefix: 'arc-stream' });
    await h.produceTransactions(txs);
    await waitFor('40 decisions', () => reader.decisions.length >= 40);
    await waitFor('40 archived', async () => (await archived('arc-stream')) === 40, 30_000);

    const first = txs[0]!.input;
    const marker = REDIS_KEYS.marker('m1', first.transactionId);
    const ttl = await redis.pttl(marker);
    expect(ttl).toBeGreaterThan(3 * DAY - 120_000);
    expect(ttl).toBeLessThanOrEqual(3 * DAY);

    // Its marker gone, as after three days: the chargeback finds the transaction in the archive.
    expect(await redis.del(marker)).toBe(1);
    const report = () =>
      http.app.inject({
        method: 'POST',
        url: `/v1/transactions/${first.transactionId}/outcome`,
        headers: bearer(http.keys.merchant),
        payload: { outcome: 'chargeback', reasonCode: '10.4' },
      });
    const answer = await report();
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json()).toMatchObject({ status: 'recorded' });
    expect((await report()).json()).toMatchObject({ status: 'already_recorded' });
    const { rows } = await sql.query<{ card: string }>(
      `SELECT card FROM transaction_archive WHERE merchant_id = 'm1' AND transaction_id = $1`,
      [first.transactionId],
    );
    // The card's chargebacks now hold it (the card's identity, never its number, in the archive).
    expect(rows[0]!.card).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const everything = JSON.stringify((await sql.query(`SELECT * FROM transaction_archive`)).rows);
    for (const { pan } of txs) expect(everything.includes(pan), `the archive holds ${pan.slice(0, 6)}…`).toBe(false);
    expect(
      await redis.zscore(REDIS_KEYS.outcomes('card', rows[0]!.card, 'chargebacks'), `m1:${first.transactionId}`),
    ).not.toBeNull();
  });
});
