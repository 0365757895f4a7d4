// Offset commits of the stream processor. Offsets are committed after their outputs were
// acknowledged, but not one request per batch: they are gathered and committed every
// LEAKGUARD_STREAM_COMMIT_INTERVAL_MS (and at once on stop and before a rebalance). That takes a
// broker round trip off every batch and most commit requests off the broker; after a crash, at
// most that interval more is processed again.
import type { BatchPayload } from '../../services/adapters/kafka/client.ts';
import type { Logger } from '../../services/logger.ts';

interface Pending {
  topic: string;
  partition: number;
  /** The next offset to read: the last one published, plus one. */
  offset: string;
}

export class CommitQueue {
  private readonly pending = new Map<string, Pending>();
  private commit: BatchPayload['commitOffsets'] | undefined;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly intervalMs: number;
  private readonly logger: Logger;
  private readonly owns: (partition: number) => boolean;

  constructor(options: { intervalMs: number; logger: Logger; owns: (partition: number) => boolean }) {
    this.intervalMs = options.intervalMs;
    this.logger = options.logger;
    this.owns = options.owns;
  }

  /** Commits `offset` for the partition with the next commit; `commit` is the latest batch's. */
  later(topic: string, partition: number, offset: string, commit: BatchPayload['commitOffsets']): void {
    this.pending.set(`${topic}\u0000${partition}`, { topic, partition, offset });
    this.commit = commit;
    this.schedule();
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.intervalMs);
  }

  /** After a rebalance: a late commit for a partition now owned by another member could move its offset back. */
  dropUnowned(): void {
    for (const [key, pending] of this.pending) if (!this.owns(pending.partition)) this.pending.delete(key);
  }

  /** Commits what is pending; one commit request at a time, in order. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.chain = this.chain.then(async () => {
      const commit = this.commit;
      if (this.pending.size === 0 || !commit) return;
      const pending = [...this.pending.values()];
      this.pending.clear();
      const byTopic = new Map<string, { partition: number; offset: string }[]>();
      for (const p of pending)
        byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), { partition: p.partition, offset: p.offset }]);
      try {
        await commit({ topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
      } catch (error) {
        // Lost (a rebalance, Kafka unreachable): retried an interval later when still ours, even if
        // no batch comes (an idle stream would otherwise keep them uncommitted until it stops).
        for (const p of pending) {
          const key = `${p.topic}\u0000${p.partition}`;
          if (!this.pending.has(key) && this.owns(p.partition)) this.pending.set(key, p);
        }
        if (this.pending.size > 0) this.schedule();
        this.logger.warn({ err: error }, 'offset commit failed; retrying in an interval');
      }
    });
    return this.chain;
  }
}
