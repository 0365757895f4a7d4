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
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, Message, Producer, TopicMessages } from 'kafkajs';
import kafkajs from 'kafkajs';
import type { ScoreResult } from '../services/core/engine.ts';
import { issueDetails, type ScoreRequest } from '../services/core/schemas.ts';
import { UnknownRateError } from '../services/core/currency.ts';
import type { Logger } from '../services/logger.ts';
import type { StreamConfig } from './config.ts';
import type { MerchantCheck } from './merchants.ts';
import {
  deadLetterMessage,
  decisionMessage,
  HEADER_TYPE,
  maskKey,
  transactionMessageSchema,
  type CardRef,
  type DeadLetterMessage,
  type DeadLetterReason,
  type DecisionMessage,
  type TransactionMessage,
} from './messages.ts';
import type { StreamMetrics } from './metrics.ts';
import { ensureTopics, topicsOf, type StreamTopics } from './topics.ts';

const { Partitioners } = kafkajs;

/** The engine as the stream uses it: batches (services/core/engine.ts scoreBatch). */
export interface ScoringEngine {
  scoreBatch(
    items: readonly { merchantId: string; request: ScoreRequest }[],
  ): Promise<(ScoreResult | { kind: 'error'; error: unknown })[]>;
}

/** A ScoringEngine from a one-at-a-time scorer (test doubles, the benchmark's no-op engine). */
export function oneAtATime(score: (merchantId: string, request: ScoreRequest) => Promise<ScoreResult>): ScoringEngine {
  return {
    async scoreBatch(items) {
      const results: (ScoreResult | { kind: 'error'; error: unknown })[] = [];
      for (const { merchantId, request } of items)
        results.push(await score(merchantId, request).catch((error: unknown) => ({ kind: 'error' as const, error })));
      return results;
    },
  };
}

export interface ProcessorOptions {
  engine: ScoringEngine;
  kafka: Kafka;
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
type RetryReason = 'store_unavailable' | 'merchants_unavailable';

type Outcome =
  | { kind: 'decision'; offset: string; timestamp: number; message: DecisionMessage }
  | { kind: 'dead'; offset: string; timestamp: number; key: string | null; message: DeadLetterMessage }
  | { kind: 'retry'; offset: string; reason: RetryReason };

type Prepared =
  | { kind: 'dead'; outcome: Outcome }
  | {
      kind: 'input';
      offset: string;
      timestamp: number;
      transaction: TransactionMessage;
      message: KafkaMessage;
      parsed: unknown;
    };

/** The scoring request inside a transaction message (everything but the merchant). */
function requestOf(transaction: TransactionMessage): ScoreRequest {
  const { merchantId: _merchant, ...request } = transaction;
  return request;
}

const nextOffset = (offset: string) => (BigInt(offset) + 1n).toString();
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export class StreamProcessor {
  readonly topics: StreamTopics;
  private readonly options: ProcessorOptions;
  private readonly logger: Logger;
  private readonly admin: Admin;
  private readonly producer: Producer;
  private consumer: Consumer | undefined;
  private state: ConsumerState = 'stopped';
  private stopping = false;
  private stopped: Promise<void> | undefined;
  private pausedSince: number | undefined;
  private resumeTimer: NodeJS.Timeout | undefined;
  private lagTimer: NodeJS.Timeout | undefined;
  private recreateTimer: NodeJS.Timeout | undefined;
  private assigned: number[] = [];
  /**
   * Scorings in flight across all partitions. The queue forms here, before the engine's deadline
   * starts, not in front of Redis: an overloaded processor slows down instead of timing out into
   * degraded answers.
   */
  private readonly toCommit = new Map<string, { topic: string; partition: number; offset: string }>();
  private commit: EachBatchPayload['commitOffsetsIfNecessary'] | undefined;
  private commitTimer: NodeJS.Timeout | undefined;
  private commits: Promise<void> = Promise.resolve();

  constructor(options: ProcessorOptions) {
    this.options = options;
    this.logger = options.logger.child({ component: 'stream' });
    this.topics = topicsOf(options.config);
    this.admin = options.kafka.admin();
    this.producer = options.kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  /** For /healthz: the consumer's state, whether consumption is paused, the partitions owned. */
  health(): { ok: boolean; consumer: ConsumerState; paused: boolean; assignedPartitions: number[] } {
    return {
      ok: this.state !== 'stopped',
      consumer: this.state,
      paused: this.pausedSince !== undefined,
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
        this.logger.warn(
          { err: { message: (error as Error).message }, attempt },
          'could not start consuming (Kafka unreachable?); retrying in 5 s',
        );
        const half = this.consumer;
        this.consumer = undefined;
        await half?.disconnect().catch(() => undefined);
        await sleep(5_000);
      }
    }
    if (this.stopping) return;
    this.lagTimer = setInterval(() => void this.refreshLag(), this.options.config.LEAKGUARD_STREAM_LAG_INTERVAL_MS);
    this.lagTimer.unref();
  }

  private async startConsumer(): Promise<void> {
    const c = this.options.config;
    const consumer = this.options.kafka.consumer({
      groupId: c.LEAKGUARD_STREAM_GROUP_ID,
      sessionTimeout: c.LEAKGUARD_STREAM_SESSION_TIMEOUT_MS,
      rebalanceTimeout: Math.max(60_000, c.LEAKGUARD_STREAM_SESSION_TIMEOUT_MS),
      heartbeatInterval: c.LEAKGUARD_STREAM_HEARTBEAT_INTERVAL_MS,
      maxWaitTimeInMs: c.LEAKGUARD_STREAM_MAX_WAIT_MS,
      // Smaller fetches decode in shorter synchronous stretches (see processChunk).
      maxBytesPerPartition: c.LEAKGUARD_STREAM_FETCH_BYTES_PER_PARTITION,
      allowAutoTopicCreation: false,
      retry: { restartOnFailure: async () => !this.stopping },
    });
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      this.assigned = [...(event.payload.memberAssignment[this.topics.input] ?? [])].sort((a, b) => a - b);
      // A late commit for a partition now owned by another member could move its offset back.
      for (const [key, pending] of this.toCommit)
        if (!this.assigned.includes(pending.partition)) this.toCommit.delete(key);
      this.state = 'running';
      this.options.metrics.groupJoins.inc();
      this.options.metrics.assignedPartitions.set(this.assigned.length);
      this.logger.info({ partitions: this.assigned, memberId: event.payload.memberId }, 'joined the consumer group');
      void this.refreshLag();
    });
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      this.options.metrics.crashes.inc({ restart: String(restart) });
      if (this.stopping) return;
      this.logger.error({ err: { name: error.name, message: error.message }, restart }, 'consumer crashed');
      if (restart) {
        this.state = 'restarting';
        return;
      }
      // kafkajs gives up on errors it deems not retriable: build a new consumer rather than stop consuming.
      this.state = 'restarting';
      this.recreateTimer = setTimeout(() => void this.recreateConsumer(), 5_000);
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topics.input], fromBeginning: c.LEAKGUARD_STREAM_FROM_BEGINNING });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: c.LEAKGUARD_STREAM_PARTITIONS_CONCURRENTLY,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  private async recreateConsumer(): Promise<void> {
    if (this.stopping) return;
    const old = this.consumer;
    this.consumer = undefined;
    await old?.disconnect().catch(() => undefined);
    this.clearPause();
    try {
      await this.startConsumer();
    } catch (error) {
      this.logger.error(
        { err: { message: (error as Error).message } },
        'could not recreate the consumer; retrying in 5 s',
      );
      if (!this.stopping) this.recreateTimer = setTimeout(() => void this.recreateConsumer(), 5_000);
    }
  }

  /** Finishes the batch in flight (its outputs published, its offsets committed), leaves the group, disconnects. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      this.state = 'stopping';
      clearInterval(this.lagTimer);
      clearTimeout(this.resumeTimer);
      clearTimeout(this.recreateTimer);
      // What was published is committed now; a batch still in flight commits its own at its end.
      await this.flushCommits();
      await this.consumer
        ?.disconnect()
        .catch((error: unknown) =>
          this.logger.warn({ err: { message: (error as Error).message } }, 'consumer disconnect failed'),
        );
      await this.producer.disconnect().catch(() => undefined);
      await this.admin.disconnect().catch(() => undefined);
      this.state = 'stopped';
      this.logger.info('stream processor stopped');
    })();
    return this.stopped;
  }

  // ------------------------------------------------------------ batches

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } = payload;
    const { topic, partition, messages } = batch;
    const { metrics, config } = this.options;
    const size = config.LEAKGUARD_STREAM_BATCH_SIZE;
    let heartbeatError: unknown;
    // Scoring a chunk can take a while when Redis is slow: keep the group membership alive meanwhile.
    const beat = setInterval(
      () => heartbeat().catch((error: unknown) => (heartbeatError ??= error)),
      Math.max(200, Math.floor(config.LEAKGUARD_STREAM_HEARTBEAT_INTERVAL_MS / 2)),
    );
    try {
      for (let from = 0; from < messages.length; from += size) {
        if (!isRunning() || isStale() || heartbeatError || this.pausedSince !== undefined) break;
        const started = performance.now();
        const chunk = messages.slice(from, from + size);
        const outcomes = await this.processChunk(topic, partition, chunk);
        const firstRetry = outcomes.findIndex((o) => o.kind === 'retry');
        const done = firstRetry < 0 ? outcomes : outcomes.slice(0, firstRetry);
        if (done.length > 0) {
          await this.publish(done);
          const last = done[done.length - 1]!.offset;
          resolveOffset(last);
          this.commitLater(topic, partition, nextOffset(last), commitOffsetsIfNecessary);
          metrics.lag.set(
            { topic, partition: String(partition) },
            Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(nextOffset(last)))),
          );
          metrics.batchSize.observe(done.length);
          metrics.batchDuration.observe((performance.now() - started) / 1000);
        }
        if (firstRetry >= 0) {
          const retry = outcomes[firstRetry] as Extract<Outcome, { kind: 'retry' }>;
          metrics.messages.inc({ outcome: 'retry' }, outcomes.length - done.length);
          this.pause(retry.reason, partition, retry.offset);
          break;
        }
        await heartbeat();
      }
    } finally {
      clearInterval(beat);
    }
    // Stopping, or a rebalance announced by a heartbeat: commit what was published now, while
    // this member still owns the partition; then let kafkajs leave or rejoin.
    if (this.stopping || !isRunning() || heartbeatError) await this.flushCommits();
    if (heartbeatError) throw heartbeatError;
  }

  // ------------------------------------------------------------ commits

  /**
   * Offsets are committed after their outputs were acknowledged, but not one request per batch:
   * they are gathered and committed every LEAKGUARD_STREAM_COMMIT_INTERVAL_MS (and at once on
   * stop and before a rebalance). That takes a broker round trip off every batch and most
   * commit requests off the broker; after a crash, at most that interval more is processed again.
   */
  private commitLater(
    topic: string,
    partition: number,
    offset: string,
    commit: EachBatchPayload['commitOffsetsIfNecessary'],
  ): void {
    this.toCommit.set(`${topic}\u0000${partition}`, { topic, partition, offset });
    this.commit = commit;
    this.commitTimer ??= setTimeout(() => {
      this.commitTimer = undefined;
      void this.flushCommits();
    }, this.options.config.LEAKGUARD_STREAM_COMMIT_INTERVAL_MS);
  }

  /** Commits what is pending; one commit request at a time, in order. */
  private flushCommits(): Promise<void> {
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    this.commits = this.commits.then(async () => {
      const commit = this.commit;
      if (this.toCommit.size === 0 || !commit) return;
      const pending = [...this.toCommit.values()];
      this.toCommit.clear();
      const byTopic = new Map<string, { partition: number; offset: string }[]>();
      for (const p of pending)
        byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), { partition: p.partition, offset: p.offset }]);
      try {
        await commit({ topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
      } catch (error) {
        // Lost (a rebalance, Kafka unreachable): those inputs will be processed again, and their
        // decisions republished as replays. Retried with the next commit when still ours.
        for (const p of pending) {
          const key = `${p.topic}\u0000${p.partition}`;
          if (!this.toCommit.has(key) && this.assigned.includes(p.partition)) this.toCommit.set(key, p);
        }
        this.logger.warn(
          { err: { message: (error as Error).message } },
          'offset commit failed; will retry with the next one',
        );
      }
    });
    return this.commits;
  }

  private async processChunk(topic: string, partition: number, chunk: KafkaMessage[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = new Array(chunk.length);
    // Parsed and validated in slices, yielding in between: a long synchronous stretch would hold
    // back the Redis replies of the scorings in flight, and leave Redis idle meanwhile.
    const inputs: Prepared[] = [];
    for (const message of chunk) {
      inputs.push(this.prepare(topic, partition, message));
      if (inputs.length % 32 === 0) await yieldToEventLoop();
    }
    // Scored in batches, in offset order: each batch's counters in one round trip per Redis node,
    // every reading the one scoring them one after the other would give (engine scoreBatch).
    let abort = false;
    const size = this.options.config.LEAKGUARD_STREAM_CONCURRENCY;
    let batch: { i: number; input: Extract<Prepared, { kind: 'input' }> }[] = [];
    const flush = async () => {
      const items = batch;
      batch = [];
      if (items.length === 0) return;
      if (abort) {
        for (const { i, input } of items)
          outcomes[i] = { kind: 'retry', offset: input.offset, reason: 'store_unavailable' };
        return;
      }
      const results = await this.options.engine.scoreBatch(
        items.map(({ input }) => ({ merchantId: input.transaction.merchantId, request: requestOf(input.transaction) })),
      );
      items.forEach(({ i, input }, k) => {
        const outcome = this.outcomeOf(topic, partition, input, results[k]!);
        outcomes[i] = outcome;
        // The stores are unavailable: what follows would fail the same way.
        if (outcome.kind === 'retry') abort = true;
      });
    };
    for (const [i, p] of inputs.entries()) {
      if (p.kind === 'dead') {
        outcomes[i] = p.outcome;
        continue;
      }
      if (abort) {
        outcomes[i] = { kind: 'retry', offset: p.offset, reason: 'store_unavailable' };
        continue;
      }
      const merchant = await this.options.merchants.status(p.transaction.merchantId, p.timestamp);
      if (merchant === 'unavailable') {
        // What is batched so far goes first; this one and the rest wait for the merchants.
        await flush();
        outcomes[i] = { kind: 'retry', offset: p.offset, reason: 'merchants_unavailable' };
        abort = true;
        continue;
      }
      if (merchant === 'unknown') {
        outcomes[i] = this.deadOf(topic, partition, p, 'unknown_merchant', [
          { path: 'merchantId', message: 'no merchant with an active API key has this id' },
        ]);
        continue;
      }
      batch.push({ i, input: p });
      if (batch.length >= size) await flush();
    }
    await flush();
    return outcomes;
  }

  /** Parse and validate; what cannot be scored becomes a dead letter here. */
  private prepare(topic: string, partition: number, message: KafkaMessage): Prepared {
    const offset = message.offset;
    const timestamp = Number(message.timestamp);
    const source = { topic, partition, offset };
    const raw = message.value ? message.value.toString('utf8') : '';
    const dead = (
      reason: DeadLetterReason,
      details: { path: string; message: string }[],
      parsed?: unknown,
    ): Prepared => ({
      kind: 'dead',
      outcome: {
        kind: 'dead',
        offset,
        timestamp,
        key: maskKey(message.key),
        message: deadLetterMessage({
          reason,
          details,
          source,
          key: message.key,
          timestamp: message.timestamp,
          raw,
          ...(parsed === undefined ? {} : { parsed }),
        }),
      },
    });
    if (!message.value || message.value.length === 0)
      return dead('invalid_json', [{ path: '(root)', message: 'the message has no value' }]);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return dead('invalid_json', [{ path: '(root)', message: 'is not valid JSON' }]);
    }
    const result = transactionMessageSchema.safeParse(parsed);
    if (!result.success) return dead('schema_violation', issueDetails(result.error), parsed);
    return { kind: 'input', offset, timestamp, transaction: result.data, message, parsed };
  }

  private deadOf(
    topic: string,
    partition: number,
    input: Extract<Prepared, { kind: 'input' }>,
    reason: DeadLetterReason,
    details: { path: string; message: string }[],
  ): Outcome {
    const { offset, timestamp, message, parsed } = input;
    return {
      kind: 'dead',
      offset,
      timestamp,
      key: maskKey(message.key),
      message: deadLetterMessage({
        reason,
        details,
        source: { topic, partition, offset },
        key: message.key,
        timestamp: message.timestamp,
        raw: '',
        parsed,
      }),
    };
  }

  /** What becomes of one scored transaction: a decision, a dead letter, or a retry (stores down). */
  private outcomeOf(
    topic: string,
    partition: number,
    input: Extract<Prepared, { kind: 'input' }>,
    result: ScoreResult | { kind: 'error'; error: unknown },
  ): Outcome {
    const { offset, timestamp, transaction } = input;
    const source = { topic, partition, offset };
    if (result.kind === 'error') {
      // As POST /v1/score answers 422: a currency the rate table lacks; nothing was counted.
      if (result.error instanceof UnknownRateError)
        return this.deadOf(topic, partition, input, 'no_exchange_rate', [
          { path: 'currency', message: result.error.message },
        ]);
      this.logger.error(
        { err: { message: (result.error as Error).message }, source },
        'the engine failed to score a transaction; dead-lettered',
      );
      return this.deadOf(topic, partition, input, 'engine_error', [
        { path: '(root)', message: 'the engine failed to score this transaction' },
      ]);
    }
    if (result.kind === 'conflict')
      return this.deadOf(topic, partition, input, 'conflict', [
        { path: 'transactionId', message: 'was already scored with a different payload' },
      ]);
    if (result.response.degraded && this.options.config.LEAKGUARD_STREAM_DEGRADED === 'pause')
      return { kind: 'retry', offset, reason: 'store_unavailable' };
    // The engine's evidence names the card; a replayed decision comes without evidence.
    const evidence = result.evidence?.card;
    const card: CardRef = evidence
      ? { bin: evidence.bin, last4: evidence.last4, fingerprint: evidence.fingerprint, keyId: evidence.keyId }
      : this.options.identify(transaction.card.number);
    return {
      kind: 'decision',
      offset,
      timestamp,
      message: decisionMessage(transaction.merchantId, result.response, card, result.replayed, source),
    };
  }

  private async publish(outcomes: Outcome[]): Promise<void> {
    const { metrics } = this.options;
    const decisions: Message[] = [];
    const flagged: Message[] = [];
    const dead: Message[] = [];
    for (const o of outcomes) {
      if (o.kind === 'decision') {
        const m: Message = {
          key: o.message.card.fingerprint,
          value: JSON.stringify(o.message),
          headers: { [HEADER_TYPE]: 'decision' },
        };
        decisions.push(m);
        if (o.message.decision !== 'approve') flagged.push(m);
      } else if (o.kind === 'dead') {
        dead.push({ key: o.key, value: JSON.stringify(o.message), headers: { [HEADER_TYPE]: 'dead-letter' } });
      }
    }
    const topicMessages: TopicMessages[] = [];
    if (decisions.length) topicMessages.push({ topic: this.topics.decisions, messages: decisions });
    if (flagged.length) topicMessages.push({ topic: this.topics.flagged, messages: flagged });
    if (dead.length) topicMessages.push({ topic: this.topics.deadLetter, messages: dead });
    if (topicMessages.length) await this.producer.sendBatch({ acks: -1, topicMessages });

    const now = Date.now();
    for (const o of outcomes) {
      if (o.kind === 'retry') continue;
      if (Number.isFinite(o.timestamp)) metrics.endToEnd.observe(Math.max(0, now - o.timestamp) / 1000);
      if (o.kind === 'decision') {
        metrics.messages.inc({ outcome: 'decision' });
        metrics.decisions.inc({ decision: o.message.decision });
      } else {
        metrics.messages.inc({ outcome: 'dead_letter' });
        metrics.deadLetters.inc({ reason: o.message.reason });
      }
    }
  }

  // ------------------------------------------------------------ pause and resume

  private pause(reason: RetryReason, partition: number, offset: string): void {
    if (!this.consumer) return;
    this.consumer.pause([{ topic: this.topics.input }]);
    if (this.pausedSince !== undefined) return;
    this.pausedSince = Date.now();
    this.options.metrics.pauses.inc({ reason });
    this.options.metrics.paused.set(1);
    this.logger.warn(
      { reason, partition, offset },
      'stores unavailable: consumption paused; will resume from this offset when they answer',
    );
    // A first look soon: a single answer past the deadline is not an outage.
    this.scheduleResumeCheck(Math.min(100, this.options.config.LEAKGUARD_STREAM_RETRY_INTERVAL_MS));
  }

  private scheduleResumeCheck(delayMs = this.options.config.LEAKGUARD_STREAM_RETRY_INTERVAL_MS): void {
    clearTimeout(this.resumeTimer);
    this.resumeTimer = setTimeout(async () => {
      if (this.stopping || this.pausedSince === undefined) return;
      const ready = await this.options.ready().catch(() => false);
      if (!ready) return this.scheduleResumeCheck();
      const pausedMs = Date.now() - this.pausedSince;
      this.clearPause();
      this.consumer?.resume([{ topic: this.topics.input }]);
      this.logger.info({ pausedMs }, 'stores answer again: consumption resumed');
    }, delayMs);
  }

  private clearPause(): void {
    clearTimeout(this.resumeTimer);
    this.pausedSince = undefined;
    this.options.metrics.paused.set(0);
  }

  // ------------------------------------------------------------ lag

  private async refreshLag(): Promise<void> {
    if (this.stopping) return;
    const topic = this.topics.input;
    try {
      const [ends, committed] = await Promise.all([
        this.admin.fetchTopicOffsets(topic),
        this.admin.fetchOffsets({ groupId: this.options.config.LEAKGUARD_STREAM_GROUP_ID, topics: [topic] }),
      ]);
      const committedOf = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
      this.options.metrics.lag.reset();
      for (const end of ends) {
        if (!this.assigned.includes(end.partition)) continue;
        const done = committedOf.get(end.partition) ?? -1n;
        const from = done >= 0n ? done : BigInt(end.low);
        this.options.metrics.lag.set(
          { topic, partition: String(end.partition) },
          Math.max(0, Number(BigInt(end.high) - from)),
        );
      }
    } catch (error) {
      this.logger.debug({ err: { message: (error as Error).message } }, 'could not read consumer lag');
    }
  }
}
