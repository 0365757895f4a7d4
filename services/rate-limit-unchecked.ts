// The shared rate limits (the API's per key, the console's sign-ins per address) count in Redis.
// When Redis fails or is late the API lets the request through uncounted and the console counts
// sign-ins in this engine alone: the limit goes on, weaker. Said, not silent: counted per request,
// and warned of at most every ten minutes while it lasts.
import { unavailableDetail } from './adapters/store-unavailable.ts';
import { atMostEvery } from './log-throttle.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';

const WARNING_MS = 10 * 60_000;

const WHAT = {
  api: 'API rate limit not checked: Redis failed or was late, requests go through uncounted',
  login:
    'console sign-in limit counted by this engine alone: Redis failed or was late (each engine allows the limit on its own)',
} as const;

export function rateLimitUncheckedReporter(
  metrics: Metrics,
  logger: Logger,
  limit: keyof typeof WHAT,
): (error: unknown) => void {
  const warnNow = atMostEvery(WARNING_MS);
  // Its series from 0, so that rate() sees the first request let through uncounted.
  metrics.rateLimitUnchecked.inc({ limit }, 0);
  return (error) => {
    metrics.rateLimitUnchecked.inc({ limit });
    if (warnNow()) logger.warn({ limit, error: unavailableDetail(error) }, WHAT[limit]);
  };
}
