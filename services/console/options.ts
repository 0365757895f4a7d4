// Console settings from the validated configuration and the runtime.
import type { RedisClient } from '../adapters/redis/connection.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { rateLimitUncheckedReporter } from '../rate-limit-unchecked.ts';
import type { Runtime } from '../runtime.ts';
import type { ConsoleOptions } from './plugin.ts';
import { RedisLoginRateLimiter } from './session.ts';

/** Merchants on the dashboard's friction table, busiest first. */
const FRICTION_DASHBOARD_MERCHANTS = 25;

/** `runtime.redis`: the Redis the stores use, when configured; login throttling is then shared by every engine. */
export function consoleOptions(
  config: Config,
  runtime: Pick<Runtime, 'cases' | 'watchlist' | 'frictionShares' | 'metrics' | 'rates'> &
    Partial<Pick<Runtime, 'watchlistRegistry'>> & { redis?: RedisClient | undefined },
  logger: Logger,
): ConsoleOptions {
  return {
    system: () => runtime.cases,
    watchlist: runtime.watchlist,
    ...(runtime.watchlistRegistry ? { eventChanged: (event) => runtime.watchlistRegistry!.changed(event) } : {}),
    friction: () => runtime.frictionShares(FRICTION_DASHBOARD_MERCHANTS),
    idleMs: config.LEAKGUARD_CONSOLE_IDLE_MS,
    sessionMaxMs: config.LEAKGUARD_CONSOLE_SESSION_MAX_MS,
    maxAttempts: config.LEAKGUARD_LOGIN_MAX_ATTEMPTS,
    lockoutMs: config.LEAKGUARD_LOGIN_LOCKOUT_MS,
    loginRatePerMinute: config.LEAKGUARD_LOGIN_RATE_PER_MINUTE,
    ...(runtime.redis
      ? {
          loginLimiter: new RedisLoginRateLimiter(runtime.redis, config.LEAKGUARD_LOGIN_RATE_PER_MINUTE, {
            onUnchecked: rateLimitUncheckedReporter(runtime.metrics, logger, 'login'),
          }),
        }
      : {}),
    // Secure cookies everywhere but development, where the console is plain http on localhost.
    secureCookies: config.NODE_ENV !== 'development',
    scrypt: { logN: config.LEAKGUARD_PASSWORD_SCRYPT_LOG_N, r: 8, p: 1 },
    allowListMaxDays: config.LEAKGUARD_ALLOWLIST_MAX_DAYS,
    referenceCurrency: () => runtime.rates.rates.reference,
    metrics: runtime.metrics,
  };
}
