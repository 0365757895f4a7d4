// A reading thread's task (reader-pool.ts): one batch of upload lines in, packed cards out.
import { readLines, type LineBatch, type ReadBatch } from './line-reader.ts';

export default function readOnThread(batch: LineBatch): ReadBatch {
  return readLines(batch);
}
