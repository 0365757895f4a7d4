// Where an upload's lines are read (parsed, checked, fingerprinted): on reading threads when the
// machine has a core to spare, else on the event loop. Two HMACs per card are most of an upload's
// CPU; on the event loop they also delay the scorings that share it.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { readLines, type LineBatch, type ReadBatch } from './line-reader.ts';

export type LineReader = (batch: LineBatch) => Promise<ReadBatch>;

export const readInline: LineReader = async (batch) => readLines(batch);

export interface ReaderPool {
  read: LineReader;
  close(): Promise<void>;
}

/** One core left to the event loop (and, on small machines, to Redis); at most 4 threads. */
export function defaultReadingThreads(): number {
  return Math.max(0, Math.min(4, availableParallelism() - 1));
}

/**
 * `threads` 0 reads on the event loop. Threads start with the first upload and end after a
 * minute without one, so an engine that takes no uploads runs none.
 */
export function readerPool(threads = defaultReadingThreads()): ReaderPool {
  if (threads === 0) return { read: readInline, close: async () => undefined };
  const pool = new Piscina<LineBatch, ReadBatch>({
    // A thread runs line-reader.ts's readLines: the one reading of a line, as on the event loop.
    filename: new URL('./line-reader.ts', import.meta.url).href,
    name: 'readLines',
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: 60_000,
  });
  return { read: (batch) => pool.run(batch), close: () => pool.destroy() };
}
