// Counters for rate limits shared by every engine on one Redis or Redis Cluster: the API's
// per-key limit (a store for @fastify/rate-limit) and the console's per-address login limit
// (console/session.ts). One key per call (fixed-window.lua): any node of a cluster runs it.
//
// The API's limit is leased: an engine takes a range of a window's count at once and numbers its
// requests from it, so that a key's requests cost Redis one call per lease instead of one each
// (a round trip and ~8 % of the engine's CPU per scoring, and one hot key on one node of a
// cluster for a busy API key). Leases are small against the limit and shrink near it: the limit
// stays one for every engine, stricter at most by the leases left unused when a window ends.
//
// A Redis that does not answer within `timeoutMs` must not hold a request up: the call fails,
// and the caller lets the request through (the API: skipOnError; logins: the in-process limiter).
// For the API, a lease's call late past `timeoutMs` holds no request at all: while it is out, the
// key's requests pass at once, uncounted, rather than each waiting for it in turn (a stalled Redis
// otherwise added the whole wait to every scoring once the engine's lease was spent).
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { RedisClient } from './connection.ts';
import { LuaScript } from './lua.ts';
import { LeakguardError } from '../../core/errors.ts';
import { withDeadline } from '../../core/deadline.ts';

const FIXED_WINDOW = LuaScript.file('fixed-window.lua', import.meta.url);

export class RedisTimeout extends LeakguardError {
  constructor(message: string) {
    super('STORE_TIMEOUT', message);
  }
}

const lateCounter = (timeoutMs: number) =>
  new RedisTimeout(`rate-limit counter: Redis did not answer within ${timeoutMs} ms`);

/** Counts `hits` (one by default) on `key`: {hits in the current window, these included; ms left in it}; rejects after `timeoutMs`. */
export async function countHit(
  redis: RedisClient,
  key: string,
  windowMs: number,
  timeoutMs: number,
  hits = 1,
): Promise<{ current: number; ttl: number }> {
  const [current, ttl] = (await withDeadline(FIXED_WINDOW.run(redis, [key], [windowMs, hits]), timeoutMs, () =>
    lateCounter(timeoutMs),
  )) as [number, number];
  return { current, ttl };
}

export const RATE_LIMIT_NAMESPACE = 'lg:rl:';

/** A lease is at most this share of the limit, and of what the window has left (so leases shrink near the limit). */
const LEASE_OF_LIMIT = 1 / 100;
const LEASE_OF_REST = 1 / 16;
/** Keys whose leases an engine keeps; past this, the oldest leases go (a lease lost only makes its key's limit stricter). */
const LEASED_KEYS = 10_000;
/** How long a lease's call may take before its key may take another: its answer is kept until then, however late. */
const LEASE_CALL_CAP_MS = 10_000;

/** Counts of a key's window this engine took from Redis: `next` to `last`, until `endsAt` (performance.now() ms). */
interface Lease {
  next: number;
  last: number;
  endsAt: number;
}

/**
 * An engine's leases of fixed-window counts: one Redis call per lease, shared by the requests
 * that wait for it, each request waiting at most `timeoutMs` in all, and never past `timeoutMs`
 * after the call was sent: once a call is late, the key's requests pass at once, uncounted (as
 * when Redis is down), until it answers or fails. A call answered late still leaves its lease for
 * the next requests: counts taken in Redis are not lost to a slow answer.
 */
export class RateLimitLeases {
  /** In the order the leases were taken: the oldest first, ended or not. */
  private readonly leases = new Map<string, Lease>();
  /** A key's lease call under way, and when it was sent (performance.now() ms). */
  private readonly taking = new Map<string, { done: Promise<void>; sent: number }>();
  /** Requests waiting for a key's lease, the one that asks for it included: the lease covers them all. */
  private readonly waiting = new Map<string, number>();
  private readonly redis: RedisClient;
  private readonly timeoutMs: number;
  /** Keys whose leases are kept (LEASED_KEYS; fewer in tests). */
  private readonly keptKeys: number;

  constructor(redis: RedisClient, timeoutMs: number, keptKeys = LEASED_KEYS) {
    this.redis = redis;
    this.timeoutMs = timeoutMs;
    this.keptKeys = keptKeys;
  }

  /** One request on `key`: its number in the window (over `max`: refused) and the ms left; rejects when no count came in time. */
  async hit(key: string, windowMs: number, max: number): Promise<{ current: number; ttl: number }> {
    const started = performance.now();
    let waits = false;
    try {
      for (;;) {
        const now = performance.now();
        const lease = this.leases.get(key);
        if (lease && lease.next <= lease.last && now < lease.endsAt)
          return { current: lease.next++, ttl: Math.ceil(lease.endsAt - now) };
        if (!waits) {
          waits = true;
          this.waiting.set(key, (this.waiting.get(key) ?? 0) + 1);
        }
        let taking = this.taking.get(key);
        if (!taking) {
          const known = lease && now < lease.endsAt ? lease.last : 0;
          const done = this.take(key, windowMs, max, known).finally(() => this.taking.delete(key));
          done.catch(() => undefined);
          taking = { done, sent: now };
          this.taking.set(key, taking);
        }
        // Until `timeoutMs` after this request came, or after the call went if it went before
        // (a call already late: at once).
        const waitUntil = Math.min(started, taking.sent) + this.timeoutMs;
        await withDeadline(taking.done, waitUntil - now, () => lateCounter(this.timeoutMs));
      }
    } finally {
      if (waits) {
        const left = this.waiting.get(key)! - 1;
        if (left === 0) this.waiting.delete(key);
        else this.waiting.set(key, left);
      }
    }
  }

  /** `known`: the window's count when this engine last took a lease (0 in a new window). */
  private async take(key: string, windowMs: number, max: number, known: number): Promise<void> {
    const share = Math.min(Math.floor(max * LEASE_OF_LIMIT), Math.floor((max - known) * LEASE_OF_REST));
    const size = Math.max(1, share, this.waiting.get(key) ?? 0);
    // The window ends no later than Redis's: its time left is counted from before the call.
    const sent = performance.now();
    const { current, ttl } = await countHit(this.redis, key, windowMs, LEASE_CALL_CAP_MS, size);
    this.leases.delete(key);
    while (this.leases.size >= this.keptKeys) this.leases.delete(this.leases.keys().next().value!);
    this.leases.set(key, { next: current - size + 1, last: current, endsAt: sent + ttl });
  }
}

/**
 * A @fastify/rate-limit store on Redis (its `store` option), as its own RedisStore but leased
 * (RateLimitLeases) and with a deadline per call. Fixed windows, as the in-process store;
 * `continueExceeding` and `exponentialBackoff` are not supported (Leakguard sets neither).
 */
export function redisRateLimitStore(
  redis: RedisClient,
  options: { nameSpace?: string; timeoutMs?: number; onUnchecked?: (error: Error) => void } = {},
): FastifyRateLimitStoreCtor {
  const leases = new RateLimitLeases(redis, options.timeoutMs ?? 100);
  const unchecked = options.onUnchecked ?? (() => {});
  return class RedisRateLimitStore implements FastifyRateLimitStore {
    private readonly prefix: string;
    /** The plugin passes its options; a route's own limit (child) gets a prefix of its own. */
    constructor(_options?: unknown, prefix = options.nameSpace ?? RATE_LIMIT_NAMESPACE) {
      this.prefix = prefix;
    }

    incr(
      key: string,
      callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      timeWindow: number,
      max: number,
    ): void {
      leases.hit(this.prefix + key, timeWindow, max).then(
        (r) => callback(null, r),
        (error: Error) => {
          unchecked(error);
          callback(error);
        },
      );
    }

    /** A route with a limit of its own: the plugin passes the merged settings with the route under `routeInfo` (as its RedisStore reads them). */
    child(routeOptions: object): FastifyRateLimitStore {
      const route =
        (routeOptions as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo ??
        (routeOptions as { method?: unknown; url?: unknown });
      return new RedisRateLimitStore(
        undefined,
        `${this.prefix}${String(route.method ?? '')}${String(route.url ?? '')}-`,
      );
    }
  };
}
