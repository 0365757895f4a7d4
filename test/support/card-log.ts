// A card's log in Redis keeps its transactions and, tagged `#<letter>`, its distinct merchants,
// addresses, devices and IPs (docs/velocity-features.md, "Storage layout"): tests counting what
// was recorded count the transactions only.

import { isTransactionMember } from '../../services/core/velocity.ts';

/** How many transactions a card's log holds. */
export async function transactionsInCardLog(
  redis: { zrange(key: string, start: number, stop: number): Promise<string[]> },
  key: string,
): Promise<number> {
  return (await redis.zrange(key, 0, -1)).filter(isTransactionMember).length;
}
