// Keeps the traffic for backtests, off the scoring path: the engine's observer hands each fresh
// scoring and each outcome over, analysts' decisions come from the case system, and all are
// written in batches to a RecordSink (an NDJSON file in embedded mode, `leakguard.scored` with
// Kafka). Scoring never waits for it: a sink that is slow or down costs the oldest waiting records
// past a bounded buffer (counted), never an answer.
// A record waits as its line (its JSON), and a write starts as soon as a slice's worth waits, not
// only on the timer: a scored record is some twenty objects, and held up to a second each one
// outlived two young-generation collections, was copied by both and promoted; in the stream
// processor's backlog drain the waiting records were a third of what was alive (sampling heap
// profile, bench:stream). The JSON is made once either way.
import { BatchWriter, type BatchSink, type BatchWriterOptions } from '../batch-writer.ts';
import type { ScoreResult } from '../core/engine.ts';
import type { ScoreRequest } from '../core/schemas.ts';
import {
  RECORD_VERSION,
  recordLine,
  scoredRecord,
  type LabelRecord,
  type RecordLine,
  type TrafficRecord,
} from './record.ts';

/** Where records go, as lines: one call per batch, in order; a rejected batch is offered again. */
export type RecordSink = BatchSink<RecordLine>;

export type TrafficRecorderOptions = BatchWriterOptions<RecordLine>;

export class TrafficRecorder {
  private readonly writer: BatchWriter<RecordLine>;

  constructor(options: TrafficRecorderOptions) {
    this.writer = new BatchWriter(options);
  }

  /** The engine observer's `scored`: a fresh scoring (an answer sent again is recorded once, the first time). */
  scored(merchantId: string, request: ScoreRequest, result: ScoreResult): void {
    if (result.kind !== 'scored' || result.replayed || !result.evidence) return;
    this.push(scoredRecord(merchantId, request, result.response, result.evidence));
  }

  /** The engine observer's `outcomeRecorded`: `at` its own time, `reportedAt` when it reached the engine. */
  outcome(merchantId: string, transactionId: string, outcome: string, at: number, reportedAt: number): void {
    this.push({
      kind: 'outcome',
      v: RECORD_VERSION,
      merchantId,
      transactionId,
      outcome,
      at: new Date(at).toISOString(),
      reportedAt: new Date(reportedAt).toISOString(),
    });
  }

  /** An analyst's decision on a case. */
  label(merchantId: string, transactionId: string, label: LabelRecord['label'], at: number): void {
    this.push({ kind: 'label', v: RECORD_VERSION, merchantId, transactionId, label, at: new Date(at).toISOString() });
  }

  /** An analyst's decision reversed: its label no longer holds. */
  labelWithdrawn(merchantId: string, transactionId: string, at: number): void {
    this.label(merchantId, transactionId, 'withdrawn', at);
  }

  private push(record: TrafficRecord): void {
    this.writer.push(recordLine(record));
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}
