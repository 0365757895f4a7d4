// Which driver errors mean "the store cannot serve now, retry" rather than a fault of ours: Redis
// down, full (maxmemory under noeviction), loading, failing over or read-only; PostgreSQL not
// reachable; an embedded store's journal not writable (its disk full, say). The doors answer them 503 UNAVAILABLE with Retry-After (services/http/errors.ts), not
// 500: nothing is wrong with the request, and the same request succeeds once the store is back.
import { scrubCardNumbers } from '../core/scrub.ts';
import { isConnectionError } from './postgres/sql-client.ts';

export type UnavailableStore = 'redis' | 'postgres' | 'journal';

/**
 * An embedded store's journal (the watchlist's, the flagged decisions') could not be written (disk
 * full, read-only, gone): the change was not made, in memory either, and the same request succeeds
 * once the journal can be written.
 */
export class JournalUnavailable extends Error {
  override readonly name = 'JournalUnavailable';
  constructor(cause: unknown, journal: 'watchlist' | 'flagged-decision' = 'watchlist') {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    super(`the ${journal} journal could not be written${code ? ` (${code})` : ''}: nothing was changed`, { cause });
  }
}

/** Redis's refusals of a write it would take later (still answering reads): full, a read-only replica, a failed background save, too few replicas. */
const WRITE_REFUSALS = new Set(['OOM', 'READONLY', 'MISCONF', 'NOREPLICAS']);
/** Redis's refusals of any command it would run later: those, and loading its data, its master or the cluster down, resharding, a script running too long. */
const REDIS_REFUSALS = new Set([...WRITE_REFUSALS, 'LOADING', 'MASTERDOWN', 'CLUSTERDOWN', 'TRYAGAIN', 'BUSY']);
/** Refusals that last until memory is freed or an operator acts (a failover or a restart takes a second or a few). */
const LASTING_REFUSALS = new Set(['OOM', 'MISCONF']);
/** What ioredis rejects a command with when it has no connection to send it on. */
const REDIS_NOT_CONNECTED =
  /^(Connection is closed\.|Stream isn't writeable|Cluster isn't ready|Cluster is disconnect|None of startup nodes is available|Failed to refresh slots cache|Too many Cluster redirections|Node is disconnected|Ready check failed|Reached the max retries per request limit)/;
/** ioredis's error classes (redis-errors), by name: the package's classes are not exported for instanceof. */
const REDIS_ERROR_NAMES = new Set(['ReplyError', 'AbortError', 'MaxRetriesPerRequestError', 'ClusterAllFailedError']);
const SOCKET_CODES = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/;

interface DriverError {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  command?: unknown;
  previousErrors?: unknown;
}

/** The code of a Redis error reply (its first word: OOM, READONLY...), or undefined for any other error. */
function replyCode(error: unknown): string | undefined {
  const e = (error ?? {}) as DriverError;
  return e.name === 'ReplyError' && typeof e.message === 'string' ? e.message.split(' ', 1)[0] : undefined;
}

function isRedisUnavailable(e: DriverError): boolean {
  const message = typeof e.message === 'string' ? e.message : '';
  if (REDIS_NOT_CONNECTED.test(message)) return true;
  if (!REDIS_ERROR_NAMES.has(String(e.name))) return false;
  if (e.name !== 'ReplyError' || REDIS_REFUSALS.has(replyCode(e)!)) return true;
  // A MULTI refused as a whole because a queued command was (OOM, say): unavailable if every one was.
  if (message.startsWith('EXECABORT') && Array.isArray(e.previousErrors) && e.previousErrors.length > 0)
    return e.previousErrors.every((p: unknown) => isRedisUnavailable((p ?? {}) as DriverError));
  return false;
}

/** Redis refused a write it would take later (WRITE_REFUSALS: full, say); it still answers reads. */
export function refusesWrites(error: unknown): boolean {
  return WRITE_REFUSALS.has(replyCode(error) ?? '');
}

/** When to try again, in seconds: longer while a refusal lasts (LASTING_REFUSALS: Redis full) than through a failover. */
export function retryAfterSeconds(error: unknown): number {
  // A full disk, too, stays full until space is freed.
  if (error instanceof JournalUnavailable) return 10;
  return LASTING_REFUSALS.has(replyCode(error) ?? '') ? 10 : 1;
}

/** The store an error says is unavailable, or undefined when it is anything else (a fault: 500). */
export function unavailableStore(error: unknown): UnavailableStore | undefined {
  if (!error || typeof error !== 'object') return undefined;
  if (error instanceof JournalUnavailable) return 'journal';
  const e = error as DriverError;
  if (isRedisUnavailable(e)) return 'redis';
  // A command ioredis sent (it names it) that failed on its socket.
  if (e.command !== undefined && typeof e.code === 'string' && SOCKET_CODES.test(e.code)) return 'redis';
  if (isConnectionError(error)) return 'postgres';
  return undefined;
}

/**
 * What a log says of such an error: its type, message and the command's name, not the driver's
 * whole error (a Redis error carries the command's arguments: a script's source, its keys).
 */
export function unavailableDetail(error: unknown): { type: string; message: string; command?: string } {
  const e = (error ?? {}) as DriverError & { command?: { name?: unknown } };
  const command =
    typeof e.command === 'object' && e.command && typeof e.command.name === 'string' ? e.command.name : undefined;
  return {
    type: typeof e.name === 'string' ? e.name : 'Error',
    message: scrubCardNumbers(typeof e.message === 'string' ? e.message : String(error)),
    ...(command ? { command } : {}),
  };
}
