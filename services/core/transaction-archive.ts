// The transaction archive: what a merchant's outcome needs of a scored transaction (its counting
// time and the identities the outcome reaches), kept on disk for months after Redis's marker has
// gone. A marker is Redis's largest line at any real rate (~0.94 TB of RAM per 1,000 transactions a
// second over its 35 days: docs/capacity.md); with the archive, the marker need only outlive the
// retries (LEAKGUARD_MARKER_RETENTION_DAYS) while chargebacks, which come weeks later, still reach
// every entity's counters. Written behind the scoring path (services/archive-writer.ts); read only when an
// outcome finds no marker.
import { MARKER_TTL_MS, type MarkedTransaction } from './velocity.ts';

/**
 * A marker's life where its transaction is archived: past the retries (a stored response lives a
 * day, two at most) and a weekend's delay, 3 days instead of 35: ~0.94 TB of Redis per 1,000
 * transactions a second becomes ~80 GB (docs/capacity.md).
 */
export const ARCHIVED_MARKER_TTL_MS = 3 * 86_400_000;

/** How long this process's markers live: as configured, else by whether it archives its transactions. */
export function markerRetentionMs(configuredDays: number | undefined, archives: boolean): number {
  if (configuredDays !== undefined) return configuredDays * 86_400_000;
  return archives ? ARCHIVED_MARKER_TTL_MS : MARKER_TTL_MS;
}

/** What the marker kept, kept on: its counting time and the identities an outcome reaches. */
export type ArchivedTransaction = MarkedTransaction;

export interface ArchiveEntry extends ArchivedTransaction {
  /** The outcomes reported for it after its marker had gone: kind → when reported, epoch ms. */
  outcomes: Record<string, number>;
}

export interface TransactionArchive {
  /** Keeps each transaction once: one archived again keeps its first entry. */
  append(transactions: readonly ArchivedTransaction[]): Promise<void>;
  find(merchantId: string, transactionId: string): Promise<ArchiveEntry | undefined>;
  /** Notes an outcome on its entry, once: true the first time (false too when there is no entry). */
  markOutcome(merchantId: string, transactionId: string, outcome: string, at: number): Promise<boolean>;
  /**
   * Makes room for the coming days' entries and deletes the days archived more than `keepDays` ago
   * (a day's entries go together); returns how many days it deleted.
   */
  maintain(keepDays: number): Promise<number>;
}
