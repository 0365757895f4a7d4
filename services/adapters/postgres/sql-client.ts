// The one seam between the case store and a PostgreSQL engine. Two drivers implement it: `pg`
// (a real server, DATABASE_URL) and PGlite (embedded, WASM). Every query goes through here with
// its values as parameters: no caller ever splices a value into SQL text.
export interface SqlResult<T> {
  rows: T[];
  rowCount: number;
}

export interface Queryable {
  /** One statement; `$1..$n` placeholders bound to `params`. */
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<SqlResult<T>>;
  /** A fixed script of several statements without parameters (migrations only). */
  exec(script: string): Promise<void>;
}

export interface SqlClient extends Queryable {
  readonly driver: 'pg' | 'pglite';
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A driver-level failure that means "the database is not reachable": retry later. */
export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: string; message?: string } | undefined;
  if (!e) return false;
  if (
    typeof e.code === 'string' &&
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|57P0[1-3]|08\w{3})$/.test(e.code)
  )
    return true;
  return /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    e.message ?? '',
  );
}
