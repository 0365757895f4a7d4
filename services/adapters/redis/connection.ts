// One Redis, or a Redis Cluster: REDIS_URL selects the first, REDIS_CLUSTER_NODES the second.
// Every Redis-backed store takes a RedisClient and works on both: their scripts touch the keys of
// one slot only (hash tags per entity: docs/redis-cluster.md).
import { hasFlag, list as commandNames } from '@ioredis/commands';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

export interface RedisTarget {
  /** redis:// or rediss:// URL of a single Redis. */
  url?: string | undefined;
  /** Seed nodes of a cluster: host:port or redis[s]://[user:password@]host:port, comma-separated. */
  clusterNodes?: string | undefined;
}

export function isCluster(client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true;
}

/** The masters: a cluster's (none until it has connected), or the single Redis itself. */
export const mastersOf = (client: RedisClient): Redis[] => (isCluster(client) ? client.nodes('master') : [client]);

/** A node's host:port, for logs. */
export const nodeName = (node: Redis) => `${node.options.host ?? 'localhost'}:${node.options.port ?? 6379}`;

/** The Redis the configuration names, if any (config.ts refuses both at once). */
export function redisTargetOf(config: {
  REDIS_URL?: string | undefined;
  REDIS_CLUSTER_NODES?: string | undefined;
}): RedisTarget | undefined {
  if (config.REDIS_CLUSTER_NODES) return { clusterNodes: config.REDIS_CLUSTER_NODES };
  if (config.REDIS_URL) return { url: config.REDIS_URL };
  return undefined;
}

const SEED = /^(?:(rediss?):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})\/?$/;

export interface ClusterSeeds {
  nodes: { host: string; port: number }[];
  username?: string;
  password?: string;
  tls: boolean;
}

/** Parses REDIS_CLUSTER_NODES; throws with the offending entry (never its password). */
export function parseClusterNodes(value: string): ClusterSeeds {
  const seeds: ClusterSeeds = { nodes: [], tls: false };
  for (const raw of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = SEED.exec(raw);
    const port = m ? Number(m[5]) : 0;
    if (!m || port < 1 || port > 65535)
      throw new Error(
        `"${raw.replace(/\/\/[^@/]*@/, '//***@')}" is not host:port or redis[s]://[user:password@]host:port`,
      );
    if (m[1] === 'rediss') seeds.tls = true;
    if (m[2]) seeds.username ??= decodeURIComponent(m[2]);
    if (m[3]) seeds.password ??= decodeURIComponent(m[3]);
    seeds.nodes.push({ host: m[4]!.replace(/^\[|\]$/g, ''), port });
  }
  if (seeds.nodes.length === 0) throw new Error('names no node');
  return seeds;
}

/**
 * Read-only commands are not auto-pipelined on a cluster: when a pipeline of them meets a slot
 * being migrated, ioredis (5.11) sends the whole pipeline again to the ASK target, including the
 * commands the source had answered, and keys not moved yet read as missing there (lua.ts).
 */
const READ_ONLY_COMMANDS = commandNames.filter((name) => hasFlag(name, 'readonly'));

// Fail fast instead of queueing: scoring has a deadline and falls back to a degraded answer.
const COMMON = { enableOfflineQueue: false } as const;

export function connectRedis(target: string | RedisTarget, options: { connectTimeoutMs?: number } = {}): RedisClient {
  const t: RedisTarget = typeof target === 'string' ? { url: target } : target;
  const node: RedisOptions = {
    maxRetriesPerRequest: 1,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
  };
  if (t.clusterNodes) {
    const seeds = parseClusterNodes(t.clusterNodes);
    const cluster: ClusterOptions = {
      ...COMMON,
      // Auto-pipelined, a command that meets a migrating slot comes back with its TRYAGAIN for the
      // caller to split (velocity-store.ts); sent alone, ioredis would retry it for as long as the
      // migration lasts and the scoring would miss its deadline (test/http/redis-cluster.test.ts).
      enableAutoPipelining: true,
      autoPipeliningIgnoredCommands: READ_ONLY_COMMANDS,
      redisOptions: {
        ...node,
        ...(seeds.username ? { username: seeds.username } : {}),
        ...(seeds.password ? { password: seeds.password } : {}),
        ...(seeds.tls ? { tls: {} } : {}),
      },
      // MOVED/ASK are followed; while a failover or a reshard is under way, retried shortly.
      maxRedirections: 16,
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 50,
      slotsRefreshTimeout: 2000,
      clusterRetryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2000),
    };
    return new Cluster(seeds.nodes, cluster);
  }
  if (!t.url) throw new Error('connectRedis: neither a URL nor cluster nodes');
  // No auto-pipelining on one Redis: ioredis sends one auto-pipeline at a time, so each scoring's
  // script waited for the whole previous batch's round trip, and the chain of pipelines kept every
  // scoring's objects alive across young-generation collections (promoted, then collected as old
  // garbage: 10 MB/s at 600 scorings/s, 9 ms scavenges). Each command is written as it comes; Redis
  // still reads what arrives together as one pipeline. Measured back to back (bench:api --postgres):
  // p99 at ~570 req/s 35 → 14 ms, p50 at 1,000 req/s 8.9 → 3.3 ms, the same saturation; bench:cost's
  // 32 concurrent scorings 1.5× the rate for the same CPU. Nor are a tick's writes corked into one
  // (tried: ~12 µs less engine CPU per scoring, but each script then waits for the whole tick's
  // work, and Redis no longer runs alongside the engine: p99 at half saturation 25 → 36 ms).
  return new Redis(t.url, { ...COMMON, ...node, enableAutoPipelining: false, lazyConnect: false });
}

/** Resolves once the connection is ready (commands are not queued while connecting). */
export function whenReady<C extends RedisClient>(redis: C, timeoutMs = 5000): Promise<C> {
  if (redis.status === 'ready') return Promise.resolve(redis);
  return new Promise((resolve, reject) => {
    // The connection's errors while waiting are this wait's to report, once, not ioredis's
    // "Unhandled error event" with a stack at every retry (a CLI pointed at a Redis that is down).
    let lastError: Error | undefined;
    const onError = (error: Error) => (lastError = error);
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      redis.off('error', onError);
      reject(new Error(`Redis not reachable within ${timeoutMs} ms${lastError ? ` (${lastError.message})` : ''}`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      redis.off('error', onError);
      resolve(redis);
    };
    redis.on('error', onError);
    redis.once('ready', onReady);
  });
}
