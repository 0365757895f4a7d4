// A batch that takes longer than the session timeout (a slow engine, one card, so sequential)
// keeps the processor in its group: it heartbeats while it scores, so there is no rebalance and
// nothing is processed twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoreRequest } from '../../services/core/schemas.ts';
import { loadStreamConfig } from '../../streams/config.ts';
import { StreamMetrics } from '../../streams/metrics.ts';
import { oneAtATime, standInApproval } from '../../streams/processor/processor.ts';
import {
  cardNumber,
  createHarness,
  generateTransactions,
  sleep,
  standInProcessor,
  waitFor,
  type Harness,
} from './support.ts';

let h: Harness;

beforeAll(async () => {
  h = await createHarness('heartbeat', { partitions: 1 });
}, 180_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

describe('long batches', () => {
  it('heartbeat while scoring: a batch longer than the session timeout causes no rebalance and no repeat', async () => {
    const config = loadStreamConfig({
      ...h.env,
      LEAKGUARD_STREAM_SESSION_TIMEOUT_MS: '6000',
      LEAKGUARD_STREAM_HEARTBEAT_INTERVAL_MS: '1000',
    });
    const metrics = new StreamMetrics();
    const scored: string[] = [];
    // 400 ms per transaction, one card: 25 transactions take 10 s, well past the 6 s session timeout.
    const engine = oneAtATime(async (_merchantId: string, request: ScoreRequest) => {
      await sleep(400);
      scored.push(request.transactionId);
      return standInApproval(request.transactionId, 'slow');
    });
    const processor = standInProcessor(config, engine, 'heartbeat-test', metrics);
    const reader = await h.reader();
    try {
      const txs = generateTransactions(25, { prefix: 'hb', cards: [cardNumber()] });
      await h.produceTransactions(txs);
      await processor.start();
      await waitFor('all 25 decisions', () => reader.decisions.length >= 25, 60_000);
      await sleep(1_000);
      expect(scored).toEqual(txs.map((t) => t.input.transactionId));
      expect(reader.decisions.map((d) => d.value.transactionId)).toEqual(txs.map((t) => t.input.transactionId));
      expect((await metrics.groupJoins.get()).values[0]?.value).toBe(1);
    } finally {
      await processor.stop();
    }
  }, 90_000);
});
