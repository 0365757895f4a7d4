// LEAKGUARD_STREAM_FETCH_MIN_BYTES reaches the broker: it holds a fetch until that many bytes wait
// or LEAKGUARD_STREAM_MAX_WAIT_MS passes, so transactions that trickle in are scored together,
// where by default each fetch takes what is there at once (docs/capacity.md, "Fetching at
// moderate rates").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStreamConfig } from '../../streams/config.ts';
import { StreamMetrics } from '../../streams/metrics.ts';
import { oneAtATime, standInApproval } from '../../streams/processor/processor.ts';
import { createHarness, generateTransactions, sleep, standInProcessor, waitFor, type Harness } from './support.ts';

// Topics of their own for each run: a run reads only its own transactions.
let byDefault: Harness, held: Harness;

beforeAll(async () => {
  byDefault = await createHarness('fetching-default', { partitions: 1 });
  held = await createHarness('fetching-held', { partitions: 1 });
}, 180_000);

afterAll(async () => {
  await byDefault?.close();
  await held?.close();
}, 60_000);

/** Twelve transactions sent one by one, 100 ms apart, to a running processor: how many batches it scored them in. */
async function batchesFor(h: Harness, settings: Record<string, string>): Promise<number> {
  const metrics = new StreamMetrics();
  const processor = standInProcessor(
    loadStreamConfig({ ...h.env, ...settings }),
    oneAtATime(async (_merchantId, request) => standInApproval(request.transactionId, 'fetching')),
    'fetching-test',
    metrics,
  );
  const reader = await h.reader();
  try {
    await processor.start();
    await waitFor('the processor owns the partition', () => processor.health().assignedPartitions.length === 1, 30_000);
    for (const tx of generateTransactions(12)) {
      await h.produceTransactions([tx]);
      await sleep(100);
    }
    await waitFor('the twelve decisions', () => reader.decisions.length === 12, 30_000);
    const count = (await metrics.batchSize.get()).values.find((v) => v.metricName?.endsWith('_count'));
    return count?.value ?? 0;
  } finally {
    await processor.stop();
  }
}

describe('fetch size', () => {
  it('by default scores transactions as they come; with FETCH_MIN_BYTES the broker gathers them', async () => {
    const asTheyCome = await batchesFor(byDefault, {});
    const gathered = await batchesFor(held, {
      LEAKGUARD_STREAM_FETCH_MIN_BYTES: String(1024 * 1024),
      LEAKGUARD_STREAM_MAX_WAIT_MS: '3000',
    });
    // 1.2 s of sending: at once, nearly a batch per transaction; held up to 3 s, one or two batches.
    expect(asTheyCome).toBeGreaterThanOrEqual(6);
    expect(gathered).toBeGreaterThanOrEqual(1);
    expect(gathered).toBeLessThanOrEqual(2);
  }, 120_000);
});
