// Redis keeps a sorted set or a hash compact (a listpack) while every element is at most
// `zset-max-listpack-value` / `hash-max-listpack-value` bytes (64 in its default configuration),
// and converts it for good to a skiplist or a hash table, about four times the memory, when one
// longer element arrives. A transaction's log member holds its merchant's and its own ids
// (`<merchant>:<transactionId>|<cents>|<small>`), its marker the merchant's id: long ids make every
// card's, device's, IP's, e-mail's and address's log they reach four times larger, which nothing
// else would show (docs/velocity-features.md, "The length of ids is memory"). The limits are read
// once; each transaction's values are checked against them (a comparison or two a scoring).
import type { CounterPlan } from '../../core/velocity.ts';
import { isCluster, type RedisClient } from './connection.ts';

export interface CompactLimits {
  /** zset-max-listpack-value: the longest sorted-set member kept compact. */
  zset: number;
  /** hash-max-listpack-value: the longest hash value (a marker's) kept compact. */
  hash: number;
}

/** What is too long: a log member (sorted sets), or a marker's value (the merchant's id). */
export type OversizedKind = 'log_member' | 'marker_value';

export interface OversizedValue {
  kind: OversizedKind;
  /** The value's length in bytes, and the limit it is over. */
  bytes: number;
  limit: number;
}

/**
 * The smallest limits over the masters (a cluster's nodes may differ); undefined when they cannot
 * be read (CONFIG is often renamed or refused on managed Redis): then nothing is checked.
 */
export async function readCompactLimits(redis: RedisClient): Promise<CompactLimits | undefined> {
  const nodes = isCluster(redis) ? redis.nodes('master') : [redis];
  const setting = async (node: (typeof nodes)[number], name: string) =>
    Number(((await node.call('CONFIG', 'GET', name)) as string[])[1]);
  try {
    const each = await Promise.all(
      nodes.map(async (node) => ({
        zset: await setting(node, 'zset-max-listpack-value'),
        hash: await setting(node, 'hash-max-listpack-value'),
      })),
    );
    const zset = Math.min(...each.map((l) => l.zset));
    const hash = Math.min(...each.map((l) => l.hash));
    return Number.isFinite(zset) && Number.isFinite(hash) ? { zset, hash } : undefined;
  } catch {
    return undefined;
  }
}

/** A string's UTF-8 length when it could exceed `budget` bytes (exact then); otherwise at most `budget`. */
const utf8Length = (text: string, budget: number): number =>
  text.length * 3 <= budget ? text.length : Buffer.byteLength(text);

/**
 * The values of a transaction's plan that Redis would not keep compact: its log member
 * (`<merchant>:<transactionId>|<tail>`) and its marker's merchant id (the one marker value of
 * unbounded length); undefined in the common case.
 */
export function oversizedValues(
  limits: CompactLimits,
  plan: Pick<CounterPlan, 'ref' | 'tail' | 'entities'>,
): OversizedValue[] | undefined {
  let found: OversizedValue[] | undefined;
  const member = utf8Length(plan.ref, limits.zset - 1 - plan.tail.length) + 1 + plan.tail.length;
  if (member > limits.zset) (found ??= []).push({ kind: 'log_member', bytes: member, limit: limits.zset });
  const merchant = utf8Length(plan.entities.merchant ?? '', limits.hash);
  if (merchant > limits.hash) (found ??= []).push({ kind: 'marker_value', bytes: merchant, limit: limits.hash });
  return found;
}
