// Consumer lag for the metrics: per partition this instance owns, the input messages not yet
// committed, read from the broker every LEAKGUARD_STREAM_LAG_INTERVAL_MS and after each join.
// (Between two reads, each published chunk sets its partition's lag to the batch's high watermark
// when fetched minus the next offset to read: processed, not necessarily committed yet.) A
// partition with nothing committed is read from its beginning, so its lag counts from there: with
// LEAKGUARD_STREAM_FROM_BEGINNING=false too, as such a partition's start is committed at the join
// (starts.ts).
import type { KafkaAdmin } from '../../services/adapters/kafka/client.ts';
import type { Logger } from '../../services/logger.ts';
import type { StreamMetrics } from '../metrics.ts';

export interface LagOptions {
  admin: KafkaAdmin;
  /** The input topic. */
  topic: string;
  groupId: string;
  metrics: StreamMetrics;
  logger: Logger;
  owns: (partition: number) => boolean;
  stopping: () => boolean;
}

export class LagReader {
  private timer: NodeJS.Timeout | undefined;
  private readonly o: LagOptions;

  constructor(options: LagOptions) {
    this.o = options;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Never fails: a lag that cannot be read is logged at debug level and read again next time. */
  async refresh(): Promise<void> {
    if (this.o.stopping()) return;
    const { admin, topic, metrics } = this.o;
    try {
      const [ends, committed] = await Promise.all([
        admin.fetchTopicOffsets(topic),
        admin.fetchOffsets({ groupId: this.o.groupId, topics: [topic] }),
      ]);
      const committedOf = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
      metrics.lag.reset();
      for (const end of ends) {
        if (!this.o.owns(end.partition)) continue;
        const done = committedOf.get(end.partition) ?? -1n;
        const from = done >= 0n ? done : BigInt(end.low);
        metrics.lag.set({ topic, partition: String(end.partition) }, Math.max(0, Number(BigInt(end.high) - from)));
      }
    } catch (error) {
      this.o.logger.debug({ err: error }, 'could not read consumer lag');
    }
  }
}
