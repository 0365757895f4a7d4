// Back-pressure of the stream processor: when the stores cannot answer (a degraded answer in
// `pause` mode, the merchants unknown), the input topic is paused; it resumes when the stores
// answer again, from the first offset not committed.
import type { KafkaConsumer } from '../../services/adapters/kafka/client.ts';
import type { Logger } from '../../services/logger.ts';
import type { StreamMetrics } from '../metrics.ts';
import type { RetryReason } from './outcomes.ts';

export interface PausingOptions {
  /** The input topic. */
  topic: string;
  /** The consumer of the moment (it is replaced after a crash it cannot recover from). */
  consumer: () => KafkaConsumer | undefined;
  /** True when the stores answer. */
  ready: () => Promise<boolean>;
  stopping: () => boolean;
  metrics: StreamMetrics;
  logger: Logger;
  /** While paused, how often readiness is checked (LEAKGUARD_STREAM_RETRY_INTERVAL_MS). */
  retryIntervalMs: number;
}

/** A pause this soon after a resume means the stores answer the readiness check but still refuse scorings. */
const FLAP_WINDOW_MS = 5_000;
/** The longest wait before trying again after such pauses, however many in a row. */
const MAX_FLAP_BACKOFF_MS = 30_000;

export class Pausing {
  private pausedSince: number | undefined;
  private resumedAt: number | undefined;
  /** Pauses in a row that came right after a resume (FLAP_WINDOW_MS). */
  private flaps = 0;
  private resumeTimer: NodeJS.Timeout | undefined;
  private readonly o: PausingOptions;

  constructor(options: PausingOptions) {
    this.o = options;
  }

  get paused(): boolean {
    return this.pausedSince !== undefined;
  }

  pause(reason: RetryReason, partition: number, offset: string): void {
    const consumer = this.o.consumer();
    if (!consumer) return;
    consumer.pause([this.o.topic]);
    if (this.pausedSince !== undefined) return;
    const now = Date.now();
    // Redis full (or read-only) answers the readiness check and refuses every scoring: resuming
    // at once would pause again at once, for as long as it lasts. Each such pause in a row (soon
    // after a resume, nothing published in between) doubles the wait before the next try.
    this.flaps = this.resumedAt !== undefined && now - this.resumedAt < FLAP_WINDOW_MS ? this.flaps + 1 : 0;
    this.pausedSince = now;
    this.o.metrics.pauses.inc({ reason });
    this.o.metrics.paused.set(1);
    // A first look soon: a single answer past the deadline is not an outage.
    const firstLook =
      this.flaps === 0
        ? Math.min(100, this.o.retryIntervalMs)
        : Math.min(this.o.retryIntervalMs * 2 ** (this.flaps - 1), MAX_FLAP_BACKOFF_MS);
    this.o.logger.warn(
      { reason, partition, offset, ...(this.flaps > 0 ? { pausesInARow: this.flaps + 1, nextTryMs: firstLook } : {}) },
      this.flaps > 0
        ? 'stores answer but refuse scorings (Redis full or read-only?): consumption paused again; will retry from this offset'
        : 'stores unavailable: consumption paused; will resume from this offset when they answer',
    );
    this.scheduleResumeCheck(firstLook);
  }

  /** Pauses the consumer again while paused: a consumer that rejoined (kafkajs restarted it) fetches everything. */
  reapply(): void {
    if (this.pausedSince === undefined) return;
    this.o.consumer()?.pause([this.o.topic]);
  }

  /** Decisions were published since the last resume: a pause after this is not one more in a row. */
  progressed(): void {
    this.flaps = 0;
    this.resumedAt = undefined;
  }

  /** Forgets the pause (a new consumer is not paused); no resume. */
  clear(): void {
    clearTimeout(this.resumeTimer);
    // Consuming again (resumed, or a new consumer): a pause soon after is one more in a row.
    if (this.pausedSince !== undefined) this.resumedAt = Date.now();
    this.pausedSince = undefined;
    this.o.metrics.paused.set(0);
  }

  /** Stopping: no more readiness checks. */
  cancel(): void {
    clearTimeout(this.resumeTimer);
  }

  private scheduleResumeCheck(delayMs = this.o.retryIntervalMs): void {
    clearTimeout(this.resumeTimer);
    this.resumeTimer = setTimeout(() => {
      this.resumeWhenReady().catch((error: unknown) =>
        this.o.logger.error({ err: error }, 'could not resume consumption'),
      );
    }, delayMs);
  }

  private async resumeWhenReady(): Promise<void> {
    if (this.o.stopping() || this.pausedSince === undefined) return;
    const ready = await this.o.ready().catch(() => false);
    if (!ready) return this.scheduleResumeCheck();
    const pausedMs = Date.now() - this.pausedSince;
    this.clear();
    this.o.consumer()?.resume([this.o.topic]);
    this.o.logger.info({ pausedMs }, 'stores answer again: consumption resumed');
  }
}
