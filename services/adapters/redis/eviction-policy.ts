// Every key Leakguard writes to Redis has a time to live: velocity logs, transaction markers, stored
// responses, list entries. Under memory pressure Redis evicts keys as its maxmemory-policy says, and
// every policy but noeviction drops some silently (the volatile-* ones pick among keys with a time
// to live: all of these). An evicted log reads low (a card-testing burst goes unseen), an evicted
// marker lets a retry be counted twice. With noeviction a full Redis refuses writes instead: the
// engine answers degraded, which its metrics and alerts show. So the policy is read and reported.
import { isCluster, type RedisClient } from './connection.ts';

export interface NodePolicy {
  /** host:port of the master. */
  node: string;
  policy: string;
}

/** The one policy under which Redis never drops a key to make room. */
export const SAFE_POLICY = 'noeviction';

/**
 * Each master's maxmemory-policy; undefined when it cannot be read (CONFIG is often renamed or
 * refused on managed Redis, which then says its policy in its own console).
 */
export async function readEvictionPolicies(redis: RedisClient): Promise<NodePolicy[] | undefined> {
  const nodes = isCluster(redis) ? redis.nodes('master') : [redis];
  if (nodes.length === 0) return undefined; // a cluster not connected yet
  try {
    return await Promise.all(
      nodes.map(async (node) => ({
        node: `${node.options.host ?? 'localhost'}:${node.options.port ?? 6379}`,
        policy: String(((await node.call('CONFIG', 'GET', 'maxmemory-policy')) as string[])[1]),
      })),
    );
  } catch {
    return undefined;
  }
}
