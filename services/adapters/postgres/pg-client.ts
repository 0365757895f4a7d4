// The `pg` driver: a pool of connections to a real PostgreSQL server (DATABASE_URL).
import pg from 'pg';
import type { Queryable, SqlClient, SqlResult } from './sql-client.ts';

const INT8 = 20;
// Counts and ids fit in a double here; strings for int8 would leak into every caller.
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, (format ?? 'text') as 'text')) as typeof pg.types.getTypeParser,
};

export interface PgClientOptions {
  connectionString: string;
  max?: number;
  connectionTimeoutMillis?: number;
}

export class PgSqlClient implements SqlClient {
  readonly driver = 'pg' as const;
  private readonly pool: pg.Pool;

  constructor(options: PgClientOptions) {
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.max ?? 10,
      connectionTimeoutMillis: options.connectionTimeoutMillis ?? 3_000,
      idleTimeoutMillis: 10_000,
      types,
    });
    // An idle client losing its connection (server restart) must not crash the process.
    this.pool.on('error', () => {});
  }

  async query<T>(text: string, params: readonly unknown[] = []): Promise<SqlResult<T>> {
    const result = await this.pool.query(text, params as unknown[]);
    return { rows: result.rows as T[], rowCount: result.rowCount ?? 0 };
  }

  async exec(script: string): Promise<void> {
    await this.pool.query(script);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A checked-out client is the pool's no more: a server that goes away mid-transaction emits
    // 'error' on it, which unheard would crash the process. Its query fails as well (the caller
    // hears that), and the client is not given back to the pool.
    let broken = false;
    const lost = () => {
      broken = true;
    };
    client.on('error', lost);
    const tx: Queryable = {
      async query<R>(text: string, params: readonly unknown[] = []) {
        const result = await client.query(text, params as unknown[]);
        return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
      },
      async exec(script: string) {
        await client.query(script);
      },
    };
    try {
      await client.query('BEGIN');
      const value = await fn(tx);
      await client.query('COMMIT');
      return value;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      client.off('error', lost);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
