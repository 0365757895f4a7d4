// What the engine watches of the Redis it depends on, beside answering: whether it may evict keys
// (master-settings.ts), how full it is (memory-headroom.ts), and the longest sorted-set member it
// keeps compact (compact-encoding.ts: handed to the velocity store, which checks each scoring's ids
// against it). Each reading goes to a gauge; what needs a person says so in the log, with the
// remedy. Read at once, then on an interval: a deployment may change its Redis without restarting
// the engine.
import type { OversizedMember } from './adapters/redis/compact-encoding.ts';
import type { RedisClient } from './adapters/redis/connection.ts';
import { readMasterSettings, SAFE_POLICY } from './adapters/redis/master-settings.ts';
import { fullest, readMemory } from './adapters/redis/memory-headroom.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { atMostEvery } from './log-throttle.ts';

const SETTINGS_READ_MS = 600_000;
const MEMORY_READ_MS = 30_000;
/** The share of maxmemory above which the log warns (the alert, LeakguardRedisMemoryHigh, says the same after 15 minutes). */
export const MEMORY_WARNING_RATIO = 0.85;
/** How often that warning is repeated while it holds. */
const MEMORY_WARNING_MS = 600_000;

/** The eviction policy (gauge, error) and the member limit (to `onMemberLimit`: the smallest master's). */
async function checkSettings(
  redis: RedisClient,
  metrics: Metrics,
  logger: Logger,
  onMemberLimit: (limit: number | undefined) => void,
): Promise<void> {
  const settings = await readMasterSettings(redis);
  const limit = settings && Math.min(...settings.map((s) => s.memberLimit));
  onMemberLimit(limit !== undefined && Number.isFinite(limit) ? limit : undefined);
  if (!settings) {
    metrics.redisEvictingNodes.set(-1);
    return;
  }
  const evicting = settings.filter((p) => p.policy !== SAFE_POLICY).map(({ node, policy }) => ({ node, policy }));
  metrics.redisEvictingNodes.set(evicting.length);
  if (evicting.length > 0)
    logger.error(
      { nodes: evicting },
      `Redis evicts keys under memory pressure (maxmemory-policy ${evicting[0]!.policy} on ${evicting.map((p) => p.node).join(', ')}): counters, transaction markers and stored responses can vanish silently, so velocity reads low and a retry can be counted twice. Set maxmemory-policy ${SAFE_POLICY} (a full Redis then refuses writes and the engine answers degraded, visibly) and size it (docs/capacity.md, "Redis memory")`,
    );
}

function memoryChecker(redis: RedisClient, metrics: Metrics, logger: Logger): () => Promise<void> {
  const warnNow = atMostEvery(MEMORY_WARNING_MS);
  return async () => {
    const memory = await readMemory(redis);
    const top = memory && fullest(memory);
    // -1: unknown, or no master has a maxmemory (then it grows until the machine's memory runs out).
    metrics.redisMemoryUsedRatio.set(top ? top.ratio : -1);
    if (!top || top.ratio <= MEMORY_WARNING_RATIO || !warnNow()) return;
    logger.warn(
      { node: top.node, used: top.used, max: top.max },
      `Redis ${top.node} is ${Math.round(top.ratio * 100)} % full (${top.used} of ${top.max} bytes): at maxmemory it refuses writes and scorings are degraded. Add memory or shards, or shorten LEAKGUARD_MARKER_RETENTION_DAYS / LEAKGUARD_RESPONSE_RETENTION_HOURS (docs/capacity.md, "Redis memory")`,
    );
  };
}

/** Starts watching; `onMemberLimit` receives zset-max-listpack-value at each reading. Returns what stops it. */
export function watchRedis(
  redis: RedisClient,
  metrics: Metrics,
  logger: Logger,
  onMemberLimit: (limit: number | undefined) => void,
): () => void {
  const settings = () => void checkSettings(redis, metrics, logger, onMemberLimit);
  const memory = memoryChecker(redis, metrics, logger);
  const timers = [setInterval(settings, SETTINGS_READ_MS), setInterval(() => void memory(), MEMORY_READ_MS)];
  for (const timer of timers) timer.unref();
  settings();
  void memory();
  return () => timers.forEach(clearInterval);
}

/** How often the warning about ids too long for Redis's compact sorted sets is logged again. */
const OVERSIZED_WARNING_MS = 600_000;

/**
 * Ids that make Redis convert every log they reach to a skiplist (compact-encoding.ts): counted,
 * and said in a warning that names the remedy at most every OVERSIZED_WARNING_MS (one per scoring
 * would flood the log: every transaction of such a merchant has them).
 */
export function oversizedReporter(metrics: Metrics, logger: Logger): (member: OversizedMember) => void {
  const warnNow = atMostEvery(OVERSIZED_WARNING_MS);
  return ({ bytes, limit }) => {
    metrics.redisOversizedMembers.inc();
    if (!warnNow()) return;
    logger.warn(
      { bytes, limit },
      `merchant and transaction ids make velocity log members of ${bytes} bytes, over Redis's zset-max-listpack-value of ${limit}: every log they reach is a skiplist, ~4x the memory (docs/velocity-features.md, "The length of ids is memory"). Raise zset-max-listpack-value above it in the Redis configuration (128 holds a 15-character merchant id with a 64-character transaction id), or shorten the ids`,
    );
  };
}
