// One fetched batch of one input partition: scored in chunks of LEAKGUARD_STREAM_BATCH_SIZE, in
// offset order; each chunk's outputs published (acks=-1), then its offsets resolved and queued
// for commit (commits.ts). A retry outcome ends the batch there and pauses consumption
// (pausing.ts): what precedes it is published and committed, the rest is fetched again.
import {
  isMessageTooLargeError,
  type BatchPayload,
  type ConsumedMessage,
  type KafkaProducer,
  type OutgoingMessage,
  type TopicMessages,
} from '../../services/adapters/kafka/client.ts';
import type { Logger } from '../../services/logger.ts';
import type { StreamConfig } from '../config.ts';
import type { MerchantCheck } from '../merchants.ts';
import { carriedHeaders, HEADER_TYPE, type CardRef } from '../messages.ts';
import type { StreamMetrics } from '../metrics.ts';
import type { StreamTopics } from '../topics.ts';
import type { CommitQueue } from './commits.ts';
import type { ScoringEngine } from './engine.ts';
import {
  deadOf,
  outcomeOf,
  prepare,
  requestOf,
  unreadableOf,
  withMinimalDeadLetters,
  type Input,
  type Outcome,
  type Prepared,
} from './outcomes.ts';
import type { Pausing } from './pausing.ts';
import type { StartPositions } from './starts.ts';

const nextOffset = (offset: string) => (BigInt(offset) + 1n).toString();
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface BatchOptions {
  engine: ScoringEngine;
  merchants: MerchantCheck;
  identify: (pan: string) => CardRef;
  config: StreamConfig;
  logger: Logger;
  metrics: StreamMetrics;
  producer: KafkaProducer;
  topics: StreamTopics;
  commits: CommitQueue;
  pausing: Pausing;
  /** Where a partition the group never committed starts (LEAKGUARD_STREAM_FROM_BEGINNING=false). */
  starts: StartPositions;
  stopping: () => boolean;
}

export class BatchHandler {
  private readonly o: BatchOptions;

  constructor(options: BatchOptions) {
    this.o = options;
  }

  async handle(payload: BatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsets, isRunning, isStale, seek } = payload;
    const { topic, partition } = batch;
    const { metrics, config, commits, pausing } = this.o;
    const size = config.LEAKGUARD_STREAM_BATCH_SIZE;
    let heartbeatError: unknown;
    // Scoring a chunk can take a while when Redis is slow: keep the group membership alive meanwhile.
    const beat = setInterval(
      () => {
        heartbeat().catch((error: unknown) => (heartbeatError ??= error));
      },
      Math.max(200, Math.floor(config.LEAKGUARD_STREAM_HEARTBEAT_INTERVAL_MS / 2)),
    );
    let messages = batch.messages;
    try {
      // A partition the group never committed is handled once its start is (starts.ts): what
      // precedes the start is passed over, resolved but neither scored nor committed (the start is).
      const start = await this.o.starts.startOf(partition);
      if (start === 'unknown') return; // stopping: nothing of it handled
      if (start.from !== undefined && messages.length > 0 && BigInt(messages[0]!.offset) < start.from) {
        const first = start.from;
        messages = messages.filter((m) => BigInt(m.offset) >= first);
        if (messages.length === 0) {
          resolveOffset((first - 1n).toString());
          // Straight to the start: the consumer reads such a partition from its beginning, and a
          // topic's whole history would otherwise be fetched to be passed over, batch by batch.
          seek(first.toString());
          return;
        }
      }
      for (let from = 0; from < messages.length; from += size) {
        if (!isRunning() || isStale() || heartbeatError || pausing.paused) break;
        const started = performance.now();
        const chunk = messages.slice(from, from + size);
        const outcomes = await this.processChunk(topic, partition, chunk);
        const firstRetry = outcomes.findIndex((o) => o.kind === 'retry');
        const done = firstRetry < 0 ? outcomes : outcomes.slice(0, firstRetry);
        if (done.length > 0) {
          await this.publish(done);
          pausing.progressed();
          const last = done[done.length - 1]!.offset;
          resolveOffset(last);
          // The batch's last message done: what the fetch held past it (a transaction's commit
          // marker, aborted records) is done too, as kafkajs resolves it; committed up to there,
          // or a transactional input's lag never reaches 0.
          const next =
            last === messages[messages.length - 1]!.offset ? nextOffset(batch.lastOffset()) : nextOffset(last);
          commits.later(topic, partition, next, commitOffsets);
          // What remains to process as of the fetch (its commit may still be pending): lag.ts.
          metrics.lag.set(
            { topic, partition: String(partition) },
            Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(next))),
          );
          // The chunk's messages published, and its time from reading to acknowledged: the commit,
          // queued above, is made later for several chunks together and is not timed.
          metrics.batchSize.observe(done.length);
          metrics.batchDuration.observe((performance.now() - started) / 1000);
        }
        if (firstRetry >= 0) {
          const retry = outcomes[firstRetry] as Extract<Outcome, { kind: 'retry' }>;
          metrics.messages.inc({ outcome: 'retry' }, outcomes.length - done.length);
          pausing.pause(retry.reason, partition, retry.offset);
          break;
        }
        // A rebalance is usually first seen here: leave as the interval's heartbeat does, after
        // committing what was published (below), not before.
        try {
          await heartbeat();
        } catch (error) {
          heartbeatError ??= error;
          break;
        }
      }
    } finally {
      clearInterval(beat);
    }
    // Stopping, or a rebalance announced by a heartbeat: commit what was published now, while
    // this member still owns the partition; then let the consumer leave or rejoin.
    if (this.o.stopping() || !isRunning() || heartbeatError) await commits.flush();
    if (heartbeatError) throw heartbeatError;
  }

  private async processChunk(topic: string, partition: number, chunk: ConsumedMessage[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = new Array(chunk.length);
    // Scored in batches, in offset order: each batch's counters in one round trip per Redis node,
    // every reading the one scoring them one after the other would give (engine scoreBatch).
    let abort = false;
    const size = this.o.config.LEAKGUARD_STREAM_CONCURRENCY;
    let batch: { i: number; input: Input }[] = [];
    const flush = async () => {
      const items = batch;
      batch = [];
      if (items.length === 0) return;
      if (abort) {
        for (const { i, input } of items)
          outcomes[i] = { kind: 'retry', offset: input.offset, reason: 'store_unavailable' };
        return;
      }
      // A batch whose scoring fails unexpectedly (a fault of ours: the stores being down is a
      // degraded answer, not a failure) is dead-lettered as engine_error, each of its transactions
      // with its payload, as one failed alone is: failing the chunk would fail it at every try.
      // Some may be counted by now: sent again, they are decided, not counted twice.
      type Result = Awaited<ReturnType<ScoringEngine['scoreBatch']>>[number];
      let results: Result[];
      try {
        results = await this.o.engine.scoreBatch(
          items.map(({ input }) => ({
            merchantId: input.transaction.merchantId,
            request: requestOf(input.transaction),
          })),
        );
      } catch (error) {
        results = items.map(() => ({ kind: 'error', error }));
      }
      items.forEach(({ i, input }, k) => {
        const result = results[k] ?? {
          kind: 'error',
          error: new Error('the engine gave no result for this transaction'),
        };
        let outcome: Outcome;
        try {
          outcome = outcomeOf(this.o, topic, partition, input, result);
        } catch (error) {
          this.o.logger.error(
            { err: error, source: { topic, partition, offset: input.offset } },
            'the outcome of a scored transaction could not be made; dead-lettered',
          );
          outcome = deadOf(topic, partition, input, 'engine_error', [
            { path: '(root)', message: 'the engine failed to score this transaction' },
          ]);
        }
        outcomes[i] = outcome;
        // The stores are unavailable: what follows would fail the same way.
        if (outcome.kind === 'retry') abort = true;
      });
    };
    for (const [i, message] of chunk.entries()) {
      // Parsed and validated as reached, not the whole chunk first: an input then lives until its
      // batch is scored, not until the chunk is (most of a second under load, surviving young-
      // generation collections). A yield every 32: a long synchronous stretch would hold back the
      // Redis replies of the scorings in flight, and leave Redis idle meanwhile.
      let p: Prepared;
      try {
        p = prepare(topic, partition, message);
      } catch (error) {
        this.o.logger.error(
          { err: error, source: { topic, partition, offset: message.offset } },
          'a message could not be read; dead-lettered without its payload',
        );
        p = { kind: 'dead', outcome: unreadableOf(topic, partition, message) };
      }
      if (i % 32 === 31) await yieldToEventLoop();
      if (p.kind === 'dead') {
        outcomes[i] = p.outcome;
        continue;
      }
      if (abort) {
        outcomes[i] = { kind: 'retry', offset: p.offset, reason: 'store_unavailable' };
        continue;
      }
      const merchant = await this.o.merchants.status(p.transaction.merchantId, p.timestamp);
      if (merchant === 'unavailable') {
        // What is batched so far goes first; this one and the rest wait for the merchants.
        await flush();
        outcomes[i] = { kind: 'retry', offset: p.offset, reason: 'merchants_unavailable' };
        abort = true;
        continue;
      }
      if (merchant === 'unknown') {
        outcomes[i] = deadOf(topic, partition, p, 'unknown_merchant', [
          { path: 'merchantId', message: 'no merchant with an active API key has this id' },
        ]);
        continue;
      }
      batch.push({ i, input: p });
      if (batch.length >= size) await flush();
    }
    await flush();
    // The input's correlation headers go with its output (a retry publishes nothing yet). One
    // message's headers that cannot be read (a fault of ours) leave it without them: they must not
    // fail the chunk, whose transactions are counted by now.
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.kind === 'retry') continue;
      try {
        const headers = carriedHeaders(chunk[i]!.headers);
        if (headers) outcome.headers = headers;
      } catch (error) {
        this.o.logger.error(
          { err: error, source: { topic, partition, offset: outcome.offset } },
          "a message's headers could not be read; its output goes without them",
        );
      }
    }
    return outcomes;
  }

  /**
   * Publishes the outcomes. A dead letter the broker refuses for its size (a dead-letter topic whose
   * max.message.bytes is below the dead letters' limits) would be refused at every retry and stall
   * the partition: then every dead letter of the chunk is sent again in its minimal form. What the
   * broker took before the refusal is published twice (at least once, docs/stream-messages.md).
   */
  private async publish(outcomes: Outcome[]): Promise<void> {
    try {
      await this.send(outcomes);
    } catch (error) {
      if (!isMessageTooLargeError(error) || !outcomes.some((o) => o.kind === 'dead')) throw error;
      this.o.logger.warn(
        { err: error, offsets: outcomes.filter((o) => o.kind === 'dead').map((o) => o.offset) },
        'the broker refused a dead letter for its size; sending the dead letters without their payload and details',
      );
      outcomes = withMinimalDeadLetters(outcomes);
      await this.send(outcomes);
    }
    this.count(outcomes);
  }

  private async send(outcomes: Outcome[]): Promise<void> {
    const { topics } = this.o;
    const decisions: OutgoingMessage[] = [];
    const flagged: OutgoingMessage[] = [];
    const dead: OutgoingMessage[] = [];
    for (const o of outcomes) {
      if (o.kind === 'decision') {
        const m: OutgoingMessage = { key: o.key, value: o.value, headers: { ...o.headers, [HEADER_TYPE]: 'decision' } };
        decisions.push(m);
        if (o.decision !== 'approve') flagged.push(m);
      } else if (o.kind === 'dead') {
        dead.push({ key: o.key, value: o.value, headers: { ...o.headers, [HEADER_TYPE]: 'dead-letter' } });
      }
    }
    const topicMessages: TopicMessages[] = [];
    if (decisions.length) topicMessages.push({ topic: topics.decisions, messages: decisions });
    if (flagged.length) topicMessages.push({ topic: topics.flagged, messages: flagged });
    if (dead.length) topicMessages.push({ topic: topics.deadLetter, messages: dead });
    if (topicMessages.length) await this.o.producer.send(topicMessages);
  }

  private count(outcomes: Outcome[]): void {
    const { metrics } = this.o;
    const now = Date.now();
    for (const o of outcomes) {
      if (o.kind === 'retry') continue;
      if (Number.isFinite(o.timestamp)) metrics.endToEnd.observe(Math.max(0, now - o.timestamp) / 1000);
      if (o.kind === 'decision') {
        metrics.messages.inc({ outcome: 'decision' });
        metrics.decisions.inc({ decision: o.decision });
      } else {
        metrics.messages.inc({ outcome: 'dead_letter' });
        metrics.deadLetters.inc({ reason: o.reason });
      }
    }
  }
}
