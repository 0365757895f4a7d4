// Redis keeps a sorted set compact (a listpack) while every member is at most
// `zset-max-listpack-value` bytes (64 in its default configuration), and converts it for good to a
// skiplist, about four times the memory, when one longer member arrives. A transaction's log
// member holds its merchant's and its own ids (`<merchant>:<transactionId>|<cents>|<small>`): long
// ids make every card's, device's, IP's, e-mail's and address's log they reach four times larger,
// which nothing else would show (docs/velocity-features.md, "The length of ids is memory"). The
// limit is read from Redis now and then (redis-watch.ts) and handed to the velocity store, which
// checks each transaction's member against it (a comparison or two).
// (A marker's values are at most 43 bytes whatever the ids: the merchant's id is not one of them.)
import type { CounterPlan } from '../../core/velocity.ts';

/** A log member longer than Redis keeps compact: its length in bytes, and the limit it is over. */
export interface OversizedMember {
  bytes: number;
  limit: number;
}

/** The transaction's log member (`<merchant>:<transactionId>|<tail>`) when it is over `limit` bytes. */
export function oversizedMember(limit: number, plan: Pick<CounterPlan, 'ref' | 'tail'>): OversizedMember | undefined {
  // UTF-8 counted only when the characters leave it in doubt (ids are mostly ASCII).
  const budget = limit - 1 - plan.tail.length;
  const ref = plan.ref.length * 3 <= budget ? plan.ref.length : Buffer.byteLength(plan.ref);
  return ref > budget ? { bytes: ref + 1 + plan.tail.length, limit } : undefined;
}
