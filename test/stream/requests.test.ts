// Produce requests of bounded size (services/adapters/kafka/requests.ts): a chunk of decisions
// larger than the broker's message size (1 MiB by default) is published in several requests, in
// order, where one request of it was refused for good and the partition stalled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TopicMessages } from '../../services/adapters/kafka/client.ts';
import { inRequests } from '../../services/adapters/kafka/requests.ts';
import type { ScoreRequest } from '../../services/core/schemas.ts';
import { loadStreamConfig } from '../../streams/config.ts';
import { StreamMetrics } from '../../streams/metrics.ts';
import { oneAtATime, standInApproval } from '../../streams/processor/processor.ts';
import { cardNumber, createHarness, generateTransactions, standInProcessor, waitFor, type Harness } from './support.ts';

describe('produce requests of bounded size', () => {
  const message = (i: number, bytes: number) => ({ key: `k${i}`, value: 'v'.repeat(bytes - `k${i}`.length) });

  it('keeps every message once, each topic in order, each request within the bound', () => {
    const batches: TopicMessages[] = [
      { topic: 'decisions', messages: Array.from({ length: 25 }, (_, i) => message(i, 100)) },
      { topic: 'flagged', messages: Array.from({ length: 5 }, (_, i) => message(i, 100)) },
    ];
    const requests = inRequests(batches, 1_000);
    expect(requests).toHaveLength(3);
    for (const request of requests) {
      const bytes = request
        .flatMap((t) => t.messages)
        .reduce((n, m) => n + String(m.key).length + String(m.value).length, 0);
      expect(bytes).toBeLessThanOrEqual(1_000);
    }
    for (const { topic, messages } of batches) {
      const sent = requests.flatMap((r) => r.filter((t) => t.topic === topic).flatMap((t) => t.messages));
      expect(sent).toEqual(messages);
    }
    // The second request ends the decisions and starts the flagged.
    expect(requests[2]!.map((t) => [t.topic, t.messages.length])).toEqual([
      ['decisions', 5],
      ['flagged', 5],
    ]);
  });

  it('sends a message larger than the bound alone, and what fits as one request', () => {
    const requests = inRequests([{ topic: 't', messages: [message(0, 10), message(1, 5_000), message(2, 10)] }], 1_000);
    expect(requests.map((r) => r[0]!.messages.map((m) => m.key))).toEqual([['k0'], ['k1'], ['k2']]);
    expect(inRequests([{ topic: 't', messages: [message(0, 10), message(1, 10)] }])).toHaveLength(1);
    expect(inRequests([])).toEqual([]);
  });
});

let h: Harness;

beforeAll(async () => {
  h = await createHarness('requests', { partitions: 1 });
}, 180_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

describe('a chunk of decisions larger than the broker message size', () => {
  it('is published whole and in order, and the input committed', async () => {
    // 1,200 transactions fetched and scored as one chunk; each decision ~2 KB: ~2.4 MB for one partition.
    const config = loadStreamConfig({
      ...h.env,
      LEAKGUARD_STREAM_BATCH_SIZE: '5000',
      LEAKGUARD_STREAM_FETCH_BYTES_PER_PARTITION: String(16 * 1024 * 1024),
    });
    const version = 'v'.repeat(2_000);
    const engine = oneAtATime(async (_merchantId: string, request: ScoreRequest) =>
      standInApproval(request.transactionId, version),
    );
    const metrics = new StreamMetrics();
    const processor = standInProcessor(config, engine, 'requests-test', metrics);
    const reader = await h.reader();
    try {
      const txs = generateTransactions(1_200, { prefix: 'big', cards: [cardNumber(), cardNumber()] });
      await h.produceTransactions(txs);
      await processor.start();
      await waitFor('all 1,200 decisions', () => reader.decisions.length >= 1_200, 60_000);
      expect(reader.decisions.map((d) => d.value.transactionId)).toEqual(txs.map((t) => t.input.transactionId));
      // Chunks of 600 decisions or more on average, over 1.2 MB each: the case this test is about.
      const sizes = (await metrics.batchSize.get()).values;
      const total = (suffix: string) => sizes.find((v) => v.metricName?.endsWith(suffix))?.value ?? 0;
      expect(total('_sum')).toBe(1_200);
      expect(total('_sum') / total('_count')).toBeGreaterThanOrEqual(600);
      await waitFor('the input committed to its end', async () => (await h.commitProgress()).atEnd, 30_000);
    } finally {
      await processor.stop();
    }
  }, 120_000);
});
