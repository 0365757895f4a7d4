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

export class Pausing {
  private pausedSince: number | undefined;
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
    this.pausedSince = Date.now();
    this.o.metrics.pauses.inc({ reason });
    this.o.metrics.paused.set(1);
    this.o.logger.warn(
      { reason, partition, offset },
      'stores unavailable: consumption paused; will resume from this offset when they answer',
    );
    // A first look soon: a single answer past the deadline is not an outage.
    this.scheduleResumeCheck(Math.min(100, this.o.retryIntervalMs));
  }

  /** Forgets the pause (a new consumer is not paused); no resume. */
  clear(): void {
    clearTimeout(this.resumeTimer);
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
