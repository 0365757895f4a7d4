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

interface SocketError {
  code?: string;
  address?: string;
  port?: number;
  message?: string;
  errors?: unknown[];
}

/**
 * A connection failure in one line, for a log message: `ECONNREFUSED 127.0.0.1:5432` (every address
 * tried, when a name resolved to several: Node's AggregateError), else the code and the first line
 * of the message. Never the stack, never the URL (which may hold a password).
 */
export function connectionFailureSummary(error: unknown): string {
  const e = (error ?? {}) as SocketError;
  const tried = [e, ...(Array.isArray(e.errors) ? (e.errors as SocketError[]) : [])].filter(
    (x) => x && typeof x.address === 'string',
  );
  const code = e.code ?? tried.find((x) => x.code)?.code;
  const addresses = [...new Set(tried.map((x) => (x.port === undefined ? x.address! : `${x.address}:${x.port}`)))];
  if (code && addresses.length > 0) return `${code} ${addresses.join(', ')}`;
  const message = String(e.message ?? error)
    .split('\n')[0]!
    .trim();
  if (!code) return message || 'unknown error';
  return message && !message.includes(code) ? `${code}: ${message}` : message || code;
}

/** A driver-level failure that means "the database is not reachable": retry later. */
export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: string; message?: string } | undefined;
  if (!e) return false;
  if (
    typeof e.code === 'string' &&
    // 53xxx: the server's resources (too many connections in a rolling deploy); 57014: a statement timed out.
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|57P0[1-3]|57014|08\w{3}|53\w{3})$/.test(e.code)
  )
    return true;
  return /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    e.message ?? '',
  );
}

/**
 * Runs `attempt` until it settles with anything but a connection failure (isConnectionError): a
 * database not up yet is waited for, 0.2 s, then twice as long each time, up to 5 s between tries;
 * anything else is the caller's, and so is a failure once `stopped()` (the process closing: its
 * waits do not hold it either). `onUnreachable` hears each failure and the wait before the next try.
 */
export async function untilReachable<T>(
  attempt: () => Promise<T>,
  onUnreachable: (error: unknown, retryInMs: number) => void,
  stopped: () => boolean = () => false,
): Promise<T> {
  for (let delay = 200; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      return await attempt();
    } catch (error) {
      if (!isConnectionError(error) || stopped()) throw error;
      onUnreachable(error, delay);
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
    }
  }
}
