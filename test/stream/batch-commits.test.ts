// A batch handler that learns of a rebalance from its heartbeat between two chunks commits what it
// published before it leaves, so that the partition's next owner does not publish it again.
// In process: the handler with a scripted payload (the Kafka client's part is tested on a real
// broker in heartbeat.test.ts and rebalance tests).
import { describe, expect, it } from 'vitest';
import type { BatchPayload, CommitOffsets, TopicMessages } from '../../services/adapters/kafka/client.ts';
import { createLogger } from '../../services/logger.ts';
import { loadStreamConfig, type StreamConfig } from '../../streams/config.ts';
import { StreamMetrics } from '../../streams/metrics.ts';
import { BatchHandler } from '../../streams/processor/batches.ts';
import { CommitQueue } from '../../streams/processor/commits.ts';
import { oneAtATime, standInApproval } from '../../streams/processor/engine.ts';
import type { Pausing } from '../../streams/processor/pausing.ts';
import type { StartPositions } from '../../streams/processor/starts.ts';
import { topicsOf } from '../../streams/topics.ts';
import { generateTransactions } from './support.ts';

/** A handler with stand-ins for its engine, producer and commits, and what it did with them. */
function standInHandler(env: Record<string, string>, startOf: StartPositions['startOf']) {
  const config = loadStreamConfig({ REDIS_URL: 'redis://127.0.0.1:1', KAFKA_BROKERS: '127.0.0.1:1', ...env });
  const logger = createLogger('silent');
  const sent: TopicMessages[][] = [];
  const scored: string[] = [];
  const handler = new BatchHandler({
    engine: oneAtATime(async (_m, request) => {
      scored.push(request.transactionId);
      return standInApproval(request.transactionId, 'test');
    }),
    merchants: { status: async () => 'known' },
    identify: () => ({ bin: '411111', last4: '1111', fingerprint: 'f'.repeat(43), keyId: 'k' }),
    config,
    logger,
    metrics: new StreamMetrics(),
    producer: { send: async (messages: TopicMessages[]) => void sent.push(messages) } as never,
    topics: topicsOf(config),
    commits: new CommitQueue({ intervalMs: 60_000, logger, owns: () => true }),
    pausing: { paused: false, progressed: () => {}, pause: () => {} } as unknown as Pausing,
    starts: { startOf } as unknown as StartPositions,
    stopping: () => false,
  });
  return { config, handler, sent, scored };
}

/** The input partition 0's batch of `txs`, at offsets 0, 1, ... */
function batchOf(config: StreamConfig, txs: ReturnType<typeof generateTransactions>, highWatermark: string) {
  return {
    topic: config.LEAKGUARD_STREAM_INPUT_TOPIC,
    partition: 0,
    highWatermark,
    messages: txs.map((t, i) => ({
      offset: String(i),
      timestamp: String(Date.now()),
      key: null,
      value: Buffer.from(JSON.stringify(t.input)),
      headers: {},
    })),
  } as never;
}

describe('a rebalance seen by the heartbeat between chunks', () => {
  it('commits the published chunk, then leaves with the rebalance error; the next chunk is neither scored nor published', async () => {
    const { config, handler, sent, scored } = standInHandler(
      { LEAKGUARD_STREAM_BATCH_SIZE: '2', LEAKGUARD_STREAM_COMMIT_INTERVAL_MS: '60000' },
      async () => ({ from: undefined }),
    );
    const commits: CommitOffsets[] = [];
    const rebalance = new Error('The group is rebalancing, so a rejoin is needed');
    const txs = generateTransactions(4, { prefix: 'rb', merchants: ['m1'] });
    const payload: BatchPayload = {
      batch: batchOf(config, txs, '4'),
      resolveOffset: () => {},
      heartbeat: () => Promise.reject(rebalance),
      commitOffsets: async (offsets) => void commits.push(offsets),
      isRunning: () => true,
      isStale: () => false,
      seek: () => {},
    };
    await expect(handler.handle(payload)).rejects.toBe(rebalance);
    expect(scored).toEqual(txs.slice(0, 2).map((t) => t.input.transactionId));
    expect(sent).toHaveLength(1);
    expect(commits).toEqual([
      { topics: [{ topic: config.LEAKGUARD_STREAM_INPUT_TOPIC, partitions: [{ partition: 0, offset: '2' }] }] },
    ]);
  });
});

describe('a batch from before the start of a partition the group never committed', () => {
  it('moves the partition to its start at once: nothing scored, published or committed, the history not fetched batch by batch', async () => {
    // The group's start on this partition: offset 50 000, the history before it to be passed over.
    const { config, handler, sent, scored } = standInHandler({}, async () => ({ from: 50_000n }));
    const commits: CommitOffsets[] = [];
    const resolved: string[] = [];
    const seeks: string[] = [];
    const txs = generateTransactions(4, { prefix: 'old', merchants: ['m1'] });
    await handler.handle({
      batch: batchOf(config, txs, '50000'),
      resolveOffset: (offset) => void resolved.push(offset),
      heartbeat: async () => {},
      commitOffsets: async (offsets) => void commits.push(offsets),
      isRunning: () => true,
      isStale: () => false,
      seek: (offset) => void seeks.push(offset),
    });
    expect(seeks).toEqual(['50000']);
    expect(resolved).toEqual(['49999']);
    expect(scored).toEqual([]);
    expect(sent).toEqual([]);
    expect(commits).toEqual([]);
  });
});
