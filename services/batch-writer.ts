// Items written behind the scoring path, in batches, to a sink that may be slow or down: the
// traffic recording (recording/recorder.ts) and the transaction archive (archive-writer.ts).
// Scoring never waits for it: what waits is bounded, and past the bound the oldest items are
// dropped (counted), never an answer.

/** Where items go: one call per batch, in order; a rejected batch is offered again. */
export interface BatchSink<T> {
  write(items: readonly T[]): Promise<void>;
  close(): Promise<void>;
}

export interface BatchWriterOptions<T> {
  /** The sink, or its opening (a connection is made meanwhile; items wait in the buffer). */
  sink: BatchSink<T> | Promise<BatchSink<T>>;
  /** The longest an item waits when few arrive. */
  flushMs?: number;
  /** Items per sink write: what waits is written in slices of at most this many, in order; a write starts once this many wait. */
  writeRecords?: number;
  /** Beyond this many waiting items the oldest are dropped (and counted) until the sink answers again. */
  maxBuffered?: number;
  /** How long close() waits for the sink (still opening, or writing) before it drops what waits. */
  closeWaitMs?: number;
  onError?: (error: unknown) => void;
  onDropped?: (count: number) => void;
  onWritten?: (count: number) => void;
}

export class BatchWriter<T> {
  private items: T[] = [];
  /** The last write failed: only the timer tries again (items arriving do not hammer a sink that is down). */
  private failing = false;
  private sink: BatchSink<T> | undefined;
  private readonly opening: Promise<BatchSink<T> | undefined>;
  private flushing: Promise<void> = Promise.resolve();
  private pending = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly o: Required<
    Pick<BatchWriterOptions<T>, 'flushMs' | 'maxBuffered' | 'writeRecords' | 'closeWaitMs'>
  > &
    BatchWriterOptions<T>;

  constructor(options: BatchWriterOptions<T>) {
    this.o = { flushMs: 1_000, maxBuffered: 200_000, writeRecords: 500, closeWaitMs: 5_000, ...options };
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

  /** How many items wait to be written. */
  get waiting(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.items.length >= this.o.maxBuffered) {
      const dropped = this.items.length - this.o.maxBuffered + 1;
      this.items.splice(0, dropped);
      this.o.onDropped?.(dropped);
    }
    this.items.push(item);
    if (this.items.length >= this.o.writeRecords && this.pending === 0 && !this.failing) void this.flush();
  }

  /**
   * Writes what waits (one flush at a time) in slices of `writeRecords`, oldest first; a failed
   * slice keeps itself and the rest for the next flush. Bounded writes matter: after a slow second
   * or an outage, everything that waits in one request would exceed what the sink takes at once
   * (a Kafka broker's 1 MiB by default) and fail again, larger each time.
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
    if (!sink || this.items.length === 0) return;
    const batch = this.items;
    this.items = [];
    for (let from = 0; from < batch.length; from += this.o.writeRecords) {
      const slice = batch.slice(from, from + this.o.writeRecords);
      try {
        await sink.write(slice);
        this.failing = false;
        this.o.onWritten?.(slice.length);
      } catch (error) {
        this.items = batch.slice(from).concat(this.items);
        this.failing = true;
        this.o.onError?.(error);
        return;
      }
    }
  }

  /**
   * Writes what waits, once more, for at most `closeWaitMs`: a sink that never opened (a database
   * down since the start) must not hold a stopping process for ever. What is still waiting then is
   * dropped, and counted (onDropped).
   */
  async close(): Promise<void> {
    clearInterval(this.timer);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(resolve, this.o.closeWaitMs, false)));
    const flushed = await Promise.race([this.flush().then(() => true), late]);
    clearTimeout(timer);
    if (this.items.length > 0) {
      this.o.onDropped?.(this.items.length);
      this.items = [];
    }
    if (flushed) await this.sink?.close();
  }
}
