// The transaction archive of a replay, in memory: production finds the transaction of an outcome
// reported after its marker has gone (a chargeback months later) in its archive
// (services/core/transaction-archive.ts, 180 days); the replay's store keeps markers 35 days and
// has no database. Only the transactions the traffic reports an outcome for are kept, so it holds
// no more than the outcomes the traffic already does.
import { archivedTransaction } from '../../services/archive-writer.ts';
import type { ScoreResult } from '../../services/core/engine.ts';
import type { ArchiveEntry, ArchivedTransaction, TransactionArchive } from '../../services/core/transaction-archive.ts';
import { joinKey } from '../../services/recording/record.ts';

export class ReplayArchive implements TransactionArchive {
  private readonly entries = new Map<string, ArchiveEntry>();
  private readonly wanted: ReadonlySet<string>;

  /** `wanted`: the joinKey of every transaction an outcome is reported for. */
  constructor(wanted: ReadonlySet<string>) {
    this.wanted = wanted;
  }

  /** The engine observer's `scored`: a counted transaction, kept when an outcome will be reported for it. */
  scored(merchantId: string, result: ScoreResult): void {
    if (
      result.kind !== 'scored' ||
      !this.wanted.has(joinKey({ merchantId, transactionId: result.response.transactionId }))
    )
      return;
    const transaction = archivedTransaction(merchantId, result);
    if (transaction) void this.append([transaction]);
  }

  append(transactions: readonly ArchivedTransaction[]): Promise<void> {
    for (const t of transactions) {
      const key = joinKey(t);
      if (!this.entries.has(key)) this.entries.set(key, { ...t, outcomes: {} });
    }
    return Promise.resolve();
  }

  find(merchantId: string, transactionId: string): Promise<ArchiveEntry | undefined> {
    return Promise.resolve(this.entries.get(joinKey({ merchantId, transactionId })));
  }

  markOutcome(merchantId: string, transactionId: string, outcome: string, at: number): Promise<boolean> {
    const entry = this.entries.get(joinKey({ merchantId, transactionId }));
    if (!entry || entry.outcomes[outcome] !== undefined) return Promise.resolve(false);
    entry.outcomes[outcome] = at;
    return Promise.resolve(true);
  }

  /** Nothing to make room for: a replay's archive lives as long as the replay. */
  maintain(): Promise<number> {
    return Promise.resolve(0);
  }
}
