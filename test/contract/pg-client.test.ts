// The `pg` driver when PostgreSQL goes away: a server stopped in the middle of a transaction fails
// that transaction (the caller hears it, and retries), and does not crash the process: the client
// checked out for it emits 'error', which unheard was an uncaught exception (an engine died with
// its database's restart). Once the server is back, transactions run again on fresh connections.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PgSqlClient } from '../../services/adapters/postgres/pg-client.ts';
import { PostgresServer } from '../support/postgres-server.ts';

let server: PostgresServer;
let sql: PgSqlClient;

beforeAll(async () => {
  server = await PostgresServer.start();
  sql = new PgSqlClient({ connectionString: server.url });
}, 60_000);

afterAll(async () => {
  await sql?.close();
  await server?.stop();
});

it('a server stopped mid-transaction fails that transaction, not the process; the next one runs once it is back', async () => {
  const uncaught: unknown[] = [];
  const hear = (error: unknown) => uncaught.push(error);
  process.on('uncaughtException', hear);
  try {
    await expect(
      sql.transaction(async (tx) => {
        await tx.query('SELECT 1');
        await server.halt('fast');
        // Let the closed connection's events run before the next query.
        await new Promise((r) => setTimeout(r, 200));
        await tx.query('SELECT 1');
      }),
    ).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 200));
    expect(uncaught).toEqual([]);
  } finally {
    process.off('uncaughtException', hear);
    await server.resume();
  }
  const value = await sql.transaction(async (tx) => (await tx.query<{ n: number }>('SELECT 41 + 1 AS n')).rows[0]!.n);
  expect(value).toBe(42);
}, 60_000);
