// The stream processor: the Kafka door to the engine. Reads leakguard.transactions in a consumer
// group, scores every message with the same engine and schemas as POST /v1/score, publishes
// decisions (and flagged decisions) or dead letters, and commits the input offsets only after the
// broker acknowledged those outputs (acks=-1): at-least-once, and every input ends up in
// decisions or dead-letter. A redelivered transaction is not counted again: the engine's effects
// are idempotent by (merchant, transactionId) and it returns the stored decision.
//
// Order: within a partition, one card's transactions are scored one after the other, in offset
// order; different cards are scored concurrently (bounded). Outputs of a batch are produced in
// offset order, so a card's decisions keep their order on the decisions topic too.
//
// Back-pressure: when the stores are unavailable the engine answers degraded. In `pause` mode
// such an answer is not published: the processor publishes and commits what precedes it, pauses
// the input topic, and resumes when the stores answer again; the unpublished messages are fetched
// again from the first one not committed. In `allow` mode degraded decisions are published.
//
// This file: the consumer's life (start, crash, recreate, stop) and health. The rest, each its
// own file: batches.ts (a fetched batch: score, publish, resolve), outcomes.ts (one message's
// fate), commits.ts (offset commits), pausing.ts (back-pressure), lag.ts (lag metrics), starts.ts
// (where a partition the group never committed starts).
import type { KafkaAdmin, KafkaClient, KafkaConsumer, KafkaProducer } from '../../services/adapters/kafka/client.ts';
import type { Logger } from '../../services/logger.ts';
import type { StreamConfig } from '../config.ts';
import type { MerchantCheck } from '../merchants.ts';
import type { CardRef } from '../messages.ts';
import type { StreamMetrics } from '../metrics.ts';
import { ensureTopics, topicsOf, type StreamTopics } from '../topics.ts';
import { BatchHandler } from './batches.ts';
import { CommitQueue } from './commits.ts';
import type { ScoringEngine } from './engine.ts';
import { LagReader } from './lag.ts';
import { Pausing } from './pausing.ts';
import { StartPositions } from './starts.ts';

export { oneAtATime, standInApproval, type ScoringEngine } from './engine.ts';

export interface ProcessorOptions {
  engine: ScoringEngine;
  kafka: KafkaClient;
  config: StreamConfig;
  logger: Logger;
  metrics: StreamMetrics;
  /** Which merchants may be scored (merchants with an active API key). */
  merchants: MerchantCheck;
  /** Card number → fingerprint, BIN, last 4 under the engine's keyring. */
  identify: (pan: string) => CardRef;
  /** True when the stores answer: consumption paused for a degraded answer resumes then. */
  ready: () => Promise<boolean>;
}

export type ConsumerState = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export class StreamProcessor {
  readonly topics: StreamTopics;
  private readonly options: ProcessorOptions;
  private readonly logger: Logger;
  private readonly admin: KafkaAdmin;
  private readonly producer: KafkaProducer;
  private readonly commits: CommitQueue;
  private readonly pausing: Pausing;
  private readonly lag: LagReader;
  private readonly batches: BatchHandler;
  private readonly starts: StartPositions;
  private consumer: KafkaConsumer | undefined;
  private state: ConsumerState = 'stopped';
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private recreateTimer: NodeJS.Timeout | undefined;
  private assigned: number[] = [];

  constructor(options: ProcessorOptions) {
    this.options = options;
    const { config, metrics } = options;
    const logger = options.logger.child({ component: 'stream' });
    this.logger = logger;
    this.topics = topicsOf(config);
    this.admin = options.kafka.admin();
    const producer = options.kafka.producer();
    const owns = (partition: number) => this.assigned.includes(partition);
    const stopping = () => this.stopping;
    this.commits = new CommitQueue({ intervalMs: config.LEAKGUARD_STREAM_COMMIT_INTERVAL_MS, logger, owns });
    this.pausing = new Pausing({
      topic: this.topics.input,
      consumer: () => this.consumer,
      ready: () => options.ready(),
      stopping,
      metrics,
      logger,
      retryIntervalMs: config.LEAKGUARD_STREAM_RETRY_INTERVAL_MS,
    });
    this.lag = new LagReader({
      admin: this.admin,
      topic: this.topics.input,
      groupId: config.LEAKGUARD_STREAM_GROUP_ID,
      metrics,
      logger,
      owns,
      stopping,
    });
    this.starts = new StartPositions({
      fromBeginning: config.LEAKGUARD_STREAM_FROM_BEGINNING,
      admin: this.admin,
      topic: this.topics.input,
      groupId: config.LEAKGUARD_STREAM_GROUP_ID,
      logger,
      stopping,
    });
    this.batches = new BatchHandler({
      engine: options.engine,
      merchants: options.merchants,
      identify: (pan) => options.identify(pan),
      config,
      logger,
      metrics,
      producer,
      topics: this.topics,
      commits: this.commits,
      pausing: this.pausing,
      starts: this.starts,
      stopping,
    });
    this.producer = producer;
  }

  /** For /healthz: the consumer's state, whether consumption is paused, the partitions owned. */
  health(): { ok: boolean; consumer: ConsumerState; paused: boolean; assignedPartitions: number[] } {
    return {
      ok: this.state !== 'stopped',
      consumer: this.state,
      paused: this.pausing.paused,
      assignedPartitions: [...this.assigned],
    };
  }

  /**
   * Connects, creates missing topics and joins the group. While Kafka cannot be reached it keeps
   * trying (logging each failure) until it can or stop() is called.
   */
  async start(): Promise<void> {
    this.state = 'starting';
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        await this.admin.connect();
        await ensureTopics(this.admin, this.options.config, this.logger);
        await this.producer.connect();
        await this.startConsumer();
        break;
      } catch (error) {
        this.logger.warn({ err: error, attempt }, 'could not start consuming (Kafka unreachable?); retrying in 5 s');
        const half = this.consumer;
        this.consumer = undefined;
        await half?.disconnect().catch(() => undefined);
        await sleep(5_000);
      }
    }
    if (this.stopping) return;
    this.lag.start(this.options.config.LEAKGUARD_STREAM_LAG_INTERVAL_MS);
  }

  private async startConsumer(): Promise<void> {
    const c = this.options.config;
    const consumer = this.options.kafka.consumer({
      groupId: c.LEAKGUARD_STREAM_GROUP_ID,
      sessionTimeoutMs: c.LEAKGUARD_STREAM_SESSION_TIMEOUT_MS,
      rebalanceTimeoutMs: Math.max(60_000, c.LEAKGUARD_STREAM_SESSION_TIMEOUT_MS),
      heartbeatIntervalMs: c.LEAKGUARD_STREAM_HEARTBEAT_INTERVAL_MS,
      maxWaitMs: c.LEAKGUARD_STREAM_MAX_WAIT_MS,
      minBytes: c.LEAKGUARD_STREAM_FETCH_MIN_BYTES,
      // Smaller fetches decode in shorter synchronous stretches (see batches.ts, processChunk).
      maxBytesPerPartition: c.LEAKGUARD_STREAM_FETCH_BYTES_PER_PARTITION,
      restartOnFailure: async () => !this.stopping,
    });
    consumer.onGroupJoin((event) => {
      this.assigned = [...(event.assignment[this.topics.input] ?? [])].sort((a, b) => a - b);
      // A late commit for a partition now owned by another member could move its offset back; what
      // is still pending for the partitions kept (the commit before the rebalance failed) is
      // committed now, in the new generation, not an interval later.
      this.commits.dropUnowned();
      void this.commits.flush();
      // kafkajs restarting the consumer itself (after a crash it deems retriable) joins with a new
      // group state, not paused: a pause for the stores is applied again, or every batch would be
      // fetched again and again while the handler refuses it, until the stores answer.
      this.pausing.reapply();
      this.state = 'running';
      this.options.metrics.groupJoins.inc();
      this.options.metrics.assignedPartitions.set(this.assigned.length);
      this.logger.info({ partitions: this.assigned, memberId: event.memberId }, 'joined the consumer group');
      // LEAKGUARD_STREAM_FROM_BEGINNING=false: the partitions the group never committed start at
      // their end as of now, committed at once (starts.ts); the lag is read once they are.
      void this.starts
        .joined(this.assigned, (offsets) => consumer.commitOffsets(offsets))
        .then(() => this.lag.refresh());
    });
    // A rebalance noticed between batches (the client's own heartbeat): what was published is
    // committed before the member rejoins, while the partitions are still its own; otherwise the
    // partitions' next owners would process it again. (One noticed by a batch's heartbeat is
    // committed by the batch handler.)
    consumer.onRebalancing(() => void this.commits.flush());
    consumer.onCrash(({ error, restart }) => {
      this.options.metrics.crashes.inc({ restart: String(restart) });
      if (this.stopping) return;
      this.logger.error({ err: error, restart }, 'consumer crashed');
      if (restart) {
        this.state = 'restarting';
        return;
      }
      // The client gives up on errors it deems not retriable: build a new consumer rather than stop consuming.
      this.state = 'restarting';
      this.recreateTimer = setTimeout(() => void this.recreateConsumer(), 5_000);
    });
    this.consumer = consumer;
    await consumer.connect();
    // From the beginning either way: with LEAKGUARD_STREAM_FROM_BEGINNING=false, where a partition
    // the group never committed starts is the processor's to decide (starts.ts), not the client's.
    await consumer.subscribe({ topics: [this.topics.input], fromBeginning: true });
    await consumer.run({
      partitionsConsumedConcurrently: c.LEAKGUARD_STREAM_PARTITIONS_CONCURRENTLY,
      eachBatch: (payload) => this.batches.handle(payload),
    });
  }

  private async recreateConsumer(): Promise<void> {
    if (this.stopping) return;
    const old = this.consumer;
    this.consumer = undefined;
    await old?.disconnect().catch(() => undefined);
    this.pausing.clear();
    try {
      await this.startConsumer();
    } catch (error) {
      this.logger.error({ err: error }, 'could not recreate the consumer; retrying in 5 s');
      if (!this.stopping) this.recreateTimer = setTimeout(() => void this.recreateConsumer(), 5_000);
    }
  }

  /** Finishes the batch in flight (its outputs published, its offsets committed), leaves the group, disconnects. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      this.state = 'stopping';
      this.lag.stop();
      this.pausing.cancel();
      clearTimeout(this.recreateTimer);
      // What was published is committed now; a batch still in flight commits its own at its end.
      await this.commits.flush();
      await this.consumer
        ?.disconnect()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'consumer disconnect failed'));
      await this.producer.disconnect().catch(() => undefined);
      await this.admin.disconnect().catch(() => undefined);
      this.state = 'stopped';
      this.logger.info('stream processor stopped');
    })();
    return this.stopped;
  }
}
