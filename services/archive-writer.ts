// Feeds the transaction archive (core/transaction-archive.ts) behind the scoring path: each
// counted transaction waits in a bounded buffer and is written in batches; scoring never waits
// for PostgreSQL. What is lost past the bound (counted) costs only the outcomes reported for it
// after its marker has gone.
import { BatchWriter } from './batch-writer.ts';
import type { ScoreResult } from './core/engine.ts';
import type { ArchivedTransaction, TransactionArchive } from './core/transaction-archive.ts';

/**
 * What the archive keeps of a scoring that says what it counted (its evidence): a first answer, or
 * the answer to a retry of a transaction counted but never answered (a crash, a stream input whose
 * first answer came too late). Not a stored answer sent again (no evidence). A degraded answer is
 * kept flagged `uncounted`: with Redis down nothing marked it, and the archive is then the only
 * place its chargeback can find it (its identities and time were known all the same); a counted
 * answer for it later (a retry) replaces the flag. Archived twice is found once.
 */
export function archivedTransaction(merchantId: string, result: ScoreResult): ArchivedTransaction | undefined {
  if (result.kind !== 'scored' || !result.evidence) return undefined;
  const { evidence, response } = result;
  return {
    merchantId,
    transactionId: response.transactionId,
    countedAt: evidence.at,
    entities: evidence.marked,
    ...(response.degraded ? { uncounted: true as const } : {}),
  };
}

export interface ArchiveWriterOptions {
  /** The archive, or its opening (the database may not be up yet: transactions wait meanwhile). */
  archive: TransactionArchive | Promise<TransactionArchive>;
  flushMs?: number;
  maxBuffered?: number;
  onError?: (error: unknown) => void;
  onDropped?: (count: number) => void;
  onWritten?: (count: number) => void;
}

export class ArchiveWriter {
  private readonly writer: BatchWriter<ArchivedTransaction>;

  constructor({ archive, ...options }: ArchiveWriterOptions) {
    this.writer = new BatchWriter({
      maxBuffered: 100_000,
      ...options,
      sink: Promise.resolve(archive).then((a) => ({ write: (rows) => a.append(rows), close: async () => {} })),
    });
  }

  /** The engine observer's `scored`: a fresh, counted scoring. */
  scored(merchantId: string, result: ScoreResult): void {
    const transaction = archivedTransaction(merchantId, result);
    if (transaction) this.writer.push(transaction);
  }

  get waiting(): number {
    return this.writer.waiting;
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}
