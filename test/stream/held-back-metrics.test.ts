// The engine's decision metrics count what the stream publishes. Paused for Redis (the default
// `pause` mode), the processor holds a degraded answer back and scores the transaction again once
// Redis is back: that held-back answer is no decision. It once counted as one all the same
// (leakguard_decisions_total approve, leakguard_degraded_responses_total, the friction orders):
// 493 approvals that were never published over one session. Nor is it recorded for backtests (or
// archived, learnt from, made a case of): each transaction is recorded once, as decided.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkajsClient } from '../../services/adapters/kafka/kafkajs-client.ts';
import { readRecordsTopic } from '../../services/adapters/kafka/record-topic.ts';
import {
  createHarness,
  generateTransactions,
  kafkaClient,
  sleep,
  waitFor,
  type Harness,
  type InProcess,
} from './support.ts';

let h: Harness | undefined;

afterAll(async () => {
  await h?.close();
}, 60_000);

/** The engine's metrics the stream processor serves: decisions by kind, degraded answers, friction orders. */
async function engineCounts(processor: InProcess): Promise<{ decisions: number; degraded: number; orders: number }> {
  const metrics = await processor.service.runtime.metrics.registry.getMetricsAsJSON();
  const sum = (name: string) =>
    (metrics.find((m) => m.name === name)?.values ?? []).reduce((n, v) => n + Number(v.value), 0);
  return {
    decisions: sum('leakguard_decisions_total'),
    degraded: sum('leakguard_degraded_responses_total'),
    orders: sum('leakguard_friction_orders'),
  };
}

describe('decision metrics while paused for Redis', () => {
  it('count only the decisions published, not the answers held back for a retry', async () => {
    const recordTopic = `t.held.${randomBytes(3).toString('hex')}.scored`;
    h = await createHarness('held-back', { durableRedis: true, env: { LEAKGUARD_RECORD_TOPIC: recordTopic } });
    const processor = await h.startInProcess();
    const reader = await h.reader();

    const first = generateTransactions(3, { prefix: 'hb-first' });
    await h.produceTransactions(first);
    await waitFor('the first decisions', () => reader.decisions.length >= 3, 30_000);
    const before = await engineCounts(processor);
    expect(before).toEqual({ decisions: 3, degraded: 0, orders: 3 });

    await h.redis.kill();
    const held = generateTransactions(3, { prefix: 'hb-held' });
    await h.produceTransactions(held);
    await waitFor('the processor to pause', () => processor.service.processor.health().paused, 20_000);
    await sleep(1_500);
    // Nothing of the held transactions is published. At least once: one of the first three may be
    // published again meanwhile (a rebalance on a loaded machine redelivers it), as a replay of its
    // stored decision, counted once (CI failed once on the exact count of 3, with 4).
    const published = reader.decisions.filter((d) => !d.value.replayed).map((d) => d.value.transactionId);
    expect(published.sort()).toEqual(first.map((t) => t.input.transactionId).sort());
    expect(new Set(reader.decisions.map((d) => d.value.transactionId))).toEqual(new Set(published));
    expect(await engineCounts(processor)).toEqual(before);

    await h.redis.resume();
    await waitFor(
      'the held-back transactions decided',
      () => new Set(reader.decisions.map((d) => d.value.transactionId)).size >= 6,
      60_000,
    );
    expect(reader.decisions.filter((d) => d.value.degraded)).toEqual([]);
    expect(await engineCounts(processor)).toEqual({ decisions: 6, degraded: 0, orders: 6 });

    // The recording (flushed within a second): each transaction once, none degraded.
    const records: { transactionId: string; degraded: boolean }[] = [];
    const read = async () => {
      records.length = 0;
      await readRecordsTopic(
        new KafkajsClient(kafkaClient(h!.bootstrap, 'held-back-records')),
        (v) => records.push(JSON.parse(v) as { transactionId: string; degraded: boolean }),
        { topic: recordTopic },
      ).catch(() => 0); // the topic may not exist before the first flush
      return records.length;
    };
    await waitFor('the decisions recorded', async () => (await read()) >= 6, 30_000);
    await sleep(1_500);
    await read();
    expect(records.filter((r) => r.degraded)).toEqual([]);
    expect(records.map((r) => r.transactionId).sort()).toEqual(
      [...first, ...held].map((t) => t.input.transactionId).sort(),
    );
  }, 120_000);
});
