// Redis keeps a sorted set compact (a listpack) while every member is at most
// `zset-max-listpack-value` bytes (64 in its default configuration), and converts it for good to a
// skiplist, about four times the memory, when one longer member arrives. A transaction's log
// member holds its merchant's and its own ids (`<merchant>:<transactionId>|<cents>|<small>`): long
// ids make every card's, device's, IP's, e-mail's and address's log they reach four times larger,
// which nothing else would show (docs/velocity-features.md, "The length of ids is memory"). The
// limit is read from Redis; each transaction's member is checked against it (a comparison or two).
// (A marker's values are at most 43 bytes whatever the ids: the merchant's id is not one of them.)
import type { CounterPlan } from '../../core/velocity.ts';
import { isCluster, type RedisClient } from './connection.ts';

/** A log member longer than Redis keeps compact: its length in bytes, and the limit it is over. */
export interface OversizedMember {
  bytes: number;
  limit: number;
}

/**
 * zset-max-listpack-value, the smallest over the masters (a cluster's nodes may differ); undefined
 * when it cannot be read (CONFIG is often renamed or refused on managed Redis): then nothing is checked.
 */
export async function readMemberLimit(redis: RedisClient): Promise<number | undefined> {
  const nodes = isCluster(redis) ? redis.nodes('master') : [redis];
  try {
    const each = await Promise.all(
      nodes.map(async (node) => Number(((await node.call('CONFIG', 'GET', 'zset-max-listpack-value')) as string[])[1])),
    );
    const limit = Math.min(...each);
    return Number.isFinite(limit) ? limit : undefined;
  } catch {
    return undefined;
  }
}

/** The transaction's log member (`<merchant>:<transactionId>|<tail>`) when it is over `limit` bytes. */
export function oversizedMember(limit: number, plan: Pick<CounterPlan, 'ref' | 'tail'>): OversizedMember | undefined {
  // UTF-8 counted only when the characters leave it in doubt (ids are mostly ASCII).
  const budget = limit - 1 - plan.tail.length;
  const ref = plan.ref.length * 3 <= budget ? plan.ref.length : Buffer.byteLength(plan.ref);
  return ref > budget ? { bytes: ref + 1 + plan.tail.length, limit } : undefined;
}
