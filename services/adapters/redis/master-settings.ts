// The settings of Redis that the engine depends on without owning them, read from every master in
// one CONFIG GET each: the eviction policy, and the longest sorted-set member kept compact
// (compact-encoding.ts).
//
// Every key Leakguard writes to Redis has a time to live: velocity logs, transaction markers, stored
// responses, list entries. Under memory pressure Redis evicts keys as its maxmemory-policy says, and
// every policy but noeviction drops some silently (the volatile-* ones pick among keys with a time
// to live: all of these). An evicted log reads low (a card-testing burst goes unseen), an evicted
// marker lets a retry be counted twice. With noeviction a full Redis refuses writes instead: the
// engine answers degraded, which its metrics and alerts show. So the policy is read and reported.
import { mastersOf, nodeName, type RedisClient } from './connection.ts';

/** The one policy under which Redis never drops a key to make room. */
export const SAFE_POLICY = 'noeviction';

export interface MasterSettings {
  /** host:port of the master. */
  node: string;
  /** maxmemory-policy. */
  policy: string;
  /** zset-max-listpack-value, bytes. */
  memberLimit: number;
}

/**
 * Each master's settings; undefined when they cannot be read (CONFIG is often renamed or refused on
 * managed Redis, which then shows them in its own console), or a cluster is not connected yet.
 */
export async function readMasterSettings(redis: RedisClient): Promise<MasterSettings[] | undefined> {
  const masters = mastersOf(redis);
  if (masters.length === 0) return undefined;
  try {
    return await Promise.all(
      masters.map(async (node) => {
        const pairs = (await node.call('CONFIG', 'GET', 'maxmemory-policy', 'zset-max-listpack-value')) as string[];
        const value = (name: string) => pairs[pairs.indexOf(name) + 1];
        return {
          node: nodeName(node),
          policy: String(value('maxmemory-policy')),
          memberLimit: Number(value('zset-max-listpack-value')),
        };
      }),
    );
  } catch {
    return undefined;
  }
}
