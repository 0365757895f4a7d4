// Where a partition the group never committed starts, with LEAKGUARD_STREAM_FROM_BEGINNING=false
// ("new messages only"). Left to the Kafka client, such a partition starts at its end as of the
// client's first fetch, and again at its end after every rejoin and restart until something is
// committed for it: a partition without new input kept no position (the lag read its history as
// a backlog never to be scored), and what arrived on it while the processor was down was skipped.
// So the processor decides: at each join, every partition it owns that the group never committed
// starts at its end as of then, and that start is committed at once, input or none. The consumer
// subscribes from the beginning either way: a batch of such a partition from before its start
// moves the partition's next fetch to the start (batches.ts: one fetch of history, not all of it),
// what precedes the start is passed over (resolved, not scored, not published), and no batch of
// the partition is handled before its start is committed. From then on the group has a position for
// it: a rejoin, another member or a restart resumes there.
import type { CommitOffsets, KafkaAdmin } from '../../services/adapters/kafka/client.ts';
import type { Logger } from '../../services/logger.ts';

export interface StartOptions {
  /** LEAKGUARD_STREAM_FROM_BEGINNING: true, nothing to do (a new group reads from the beginning). */
  fromBeginning: boolean;
  admin: KafkaAdmin;
  /** The input topic. */
  topic: string;
  groupId: string;
  logger: Logger;
  stopping: () => boolean;
}

/** Where a batch's partition starts: `from`, the first offset to score (undefined: every offset); `unknown`: stopping before it was known. */
export type Start = { from: bigint | undefined } | 'unknown';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export class StartPositions {
  private readonly o: StartOptions;
  /** The starts of this join's partitions that had none committed. */
  private starts = new Map<number, bigint>();
  private join = 0;
  private established = true;
  private ready: Promise<void> = Promise.resolve();

  constructor(options: StartOptions) {
    this.o = options;
  }

  /**
   * After each join: the starts of `partitions` (the ones now owned) that the group never
   * committed, committed with `commit` (the member's own, this generation). Resolves once they are.
   */
  joined(partitions: number[], commit: (offsets: CommitOffsets) => Promise<void>): Promise<void> {
    const join = ++this.join;
    this.starts = new Map();
    this.established = this.o.fromBeginning;
    if (this.o.fromBeginning) return (this.ready = Promise.resolve());
    this.ready = this.establish(join, partitions, commit);
    return this.ready;
  }

  /** Before a batch is handled: waits until the starts of the latest join are committed. */
  async startOf(partition: number): Promise<Start> {
    for (;;) {
      const ready = this.ready;
      await ready;
      if (ready !== this.ready) continue; // a join since: its starts
      return this.established ? { from: this.starts.get(partition) } : 'unknown';
    }
  }

  private async establish(
    join: number,
    partitions: number[],
    commit: (offsets: CommitOffsets) => Promise<void>,
  ): Promise<void> {
    const { admin, topic, groupId, logger } = this.o;
    for (let attempt = 1; join === this.join && !this.o.stopping(); attempt++) {
      try {
        if (attempt > 1) await sleep(200);
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        const done = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
        const none = partitions.filter((p) => (done.get(p) ?? -1n) < 0n);
        if (join !== this.join) return;
        if (none.length === 0) {
          this.established = true;
          return;
        }
        // A second time round (a commit that did not land: the client drops one made while its
        // consumer is not running), the start first taken stays: nothing was handled meanwhile.
        const ends = new Map((await admin.fetchTopicOffsets(topic)).map((e) => [e.partition, BigInt(e.high)]));
        if (join !== this.join) return;
        for (const p of none) if (!this.starts.has(p)) this.starts.set(p, ends.get(p) ?? 0n);
        const offsets = none.map((partition) => ({ partition, offset: this.starts.get(partition)!.toString() }));
        await commit({ topics: [{ topic, partitions: offsets }] });
        logger.info(
          { starts: offsets },
          'new partitions of the group start at their end (LEAKGUARD_STREAM_FROM_BEGINNING=false)',
        );
        // Read again: committed this time, or tried again.
      } catch (error) {
        logger.warn({ err: error, attempt }, 'could not commit where new partitions start; retrying in 1 s');
        await sleep(1_000);
      }
    }
  }
}
