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
export interface RecordSink {
  write(lines: readonly RecordLine[]): Promise<void>;
  close(): Promise<void>;
}

export interface TrafficRecorderOptions {
  /** The sink, or its opening (a Kafka producer connects meanwhile; records wait in the buffer). */
  sink: RecordSink | Promise<RecordSink>;
  /** The longest a record waits when few arrive. */
  flushMs?: number;
  /** Records per sink write: what waits is written in slices of at most this many, in order; a write starts once this many wait. */
  writeRecords?: number;
  /** Beyond this many waiting records the oldest are dropped (and counted) until the sink answers again. */
  maxBuffered?: number;
  onError?: (error: unknown) => void;
  onDropped?: (count: number) => void;
  onWritten?: (count: number) => void;
}

export class TrafficRecorder {
  private waiting: RecordLine[] = [];
  /** The last write failed: only the timer tries again (records arriving do not hammer a sink that is down). */
  private failing = false;
  private sink: RecordSink | undefined;
  private readonly opening: Promise<RecordSink | undefined>;
  private flushing: Promise<void> = Promise.resolve();
  private pending = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly o: Required<Pick<TrafficRecorderOptions, 'flushMs' | 'maxBuffered' | 'writeRecords'>> &
    TrafficRecorderOptions;

  constructor(options: TrafficRecorderOptions) {
    this.o = { flushMs: 1_000, maxBuffered: 200_000, writeRecords: 500, ...options };
    this.opening = Promise.resolve(options.sink).then(
      (sink) => (this.sink = sink),
      (error: unknown) => {
        this.o.onError?.(error);
        return undefined;
      },
    );
    // A tick while a flush is still writing adds nothing: that flush's successor would only find
    // what arrived meanwhile, which the next tick after it takes anyway.
    this.timer = setInterval(() => {
      if (this.pending === 0) void this.flush();
    }, this.o.flushMs);
    this.timer.unref();
  }

  /** The engine observer's `scored`: a fresh scoring (an answer sent again is recorded once, the first time). */
  scored(merchantId: string, request: ScoreRequest, result: ScoreResult): void {
    if (result.kind !== 'scored' || result.replayed || !result.evidence) return;
    this.push(scoredRecord(merchantId, request, result.response, result.evidence));
  }

  /** The engine observer's `outcomeRecorded`. */
  outcome(merchantId: string, transactionId: string, outcome: string, at: number): void {
    this.push({
      kind: 'outcome',
      v: RECORD_VERSION,
      merchantId,
      transactionId,
      outcome,
      at: new Date(at).toISOString(),
    });
  }

  /** An analyst's decision on a case. */
  label(merchantId: string, transactionId: string, label: LabelRecord['label'], at: number): void {
    this.push({ kind: 'label', v: RECORD_VERSION, merchantId, transactionId, label, at: new Date(at).toISOString() });
  }

  private push(record: TrafficRecord): void {
    if (this.waiting.length >= this.o.maxBuffered) {
      const dropped = this.waiting.length - this.o.maxBuffered + 1;
      this.waiting.splice(0, dropped);
      this.o.onDropped?.(dropped);
    }
    this.waiting.push(recordLine(record));
    if (this.waiting.length >= this.o.writeRecords && this.pending === 0 && !this.failing) void this.flush();
  }

  /**
   * Writes what waits (one flush at a time) in slices of `writeRecords`, oldest first; a failed
   * slice keeps itself and the rest for the next flush. Bounded writes matter: after a slow second
   * or an outage, everything that waits in one Kafka request would exceed the broker's message size
   * (1 MiB by default) and fail again, larger each time, while its encoding took the scoring's CPU.
   */
  flush(): Promise<void> {
    this.pending++;
    this.flushing = this.flushing
      .then(() => this.writeWaiting())
      .finally(() => {
        this.pending--;
      });
    return this.flushing;
  }

  private async writeWaiting(): Promise<void> {
    const sink = this.sink ?? (await this.opening);
    if (!sink || this.waiting.length === 0) return;
    const batch = this.waiting;
    this.waiting = [];
    for (let from = 0; from < batch.length; from += this.o.writeRecords) {
      const slice = batch.slice(from, from + this.o.writeRecords);
      try {
        await sink.write(slice);
        this.failing = false;
        this.o.onWritten?.(slice.length);
      } catch (error) {
        this.waiting = batch.slice(from).concat(this.waiting);
        this.failing = true;
        this.o.onError?.(error);
        return;
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    await (this.sink ?? (await this.opening))?.close();
  }
}
