// Counters for rate limits shared by every engine on one Redis or Redis Cluster: the API's
// per-key limit (a store for @fastify/rate-limit) and the console's per-address login limit
// (console/session.ts). One key per call (fixed-window.lua): any node of a cluster runs it.
//
// A Redis that does not answer within `timeoutMs` must not hold a request up: the call fails,
// and the caller lets the request through (the API: skipOnError; logins: the in-process limiter).
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

/** Counts one hit on `key`: {hits in the current window, ms left in it}; rejects after `timeoutMs`. */
export async function countHit(
  redis: RedisClient,
  key: string,
  windowMs: number,
  timeoutMs: number,
): Promise<{ current: number; ttl: number }> {
  const [current, ttl] = (await withDeadline(
    FIXED_WINDOW.run(redis, [key], [windowMs]),
    timeoutMs,
    () => new RedisTimeout(`rate-limit counter: Redis did not answer within ${timeoutMs} ms`),
  )) as [number, number];
  return { current, ttl };
}

export const RATE_LIMIT_NAMESPACE = 'lg:rl:';

/**
 * A @fastify/rate-limit store on Redis (its `store` option), as its own RedisStore but with a
 * deadline per call. Fixed windows, as the in-process store; `continueExceeding` and
 * `exponentialBackoff` are not supported (Leakguard sets neither).
 */
export function redisRateLimitStore(
  redis: RedisClient,
  options: { nameSpace?: string; timeoutMs?: number } = {},
): FastifyRateLimitStoreCtor {
  const timeoutMs = options.timeoutMs ?? 100;
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
    ): void {
      countHit(redis, this.prefix + key, timeWindow, timeoutMs).then(
        (r) => callback(null, r),
        (error: Error) => callback(error),
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
