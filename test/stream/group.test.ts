// Several processors in one consumer group share the input partitions; one joining and one
// leaving during a stream rebalance the group without losing or double-counting anything.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cardNumber,
  createHarness,
  fingerprint,
  generateTransactions,
  sleep,
  waitFor,
  type Harness,
  type InProcess,
} from './support.ts';
import { transactionsInCardLog } from '../support/card-log.ts';

let h: Harness;

beforeAll(async () => {
  h = await createHarness('group', { partitions: 6 });
}, 180_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

const processed = async (p: InProcess) => {
  const metric = (await p.service.metrics.registry.getMetricsAsJSON()).find(
    (m) => m.name === 'leakguard_stream_messages_total',
  );
  return (metric?.values ?? []).filter((v) => v.labels.outcome !== 'retry').reduce((s, v) => s + v.value, 0);
};

describe('processors in one group', () => {
  it('share the partitions, rebalance when one joins and one leaves, and leave no input unprocessed', async () => {
    const a = await h.startInProcess();
    const b = await h.startInProcess();
    const owned = () => [a, b].map((p) => p.service.processor.health().assignedPartitions);
    await waitFor(
      'both members to own partitions',
      () => {
        const [pa, pb] = owned();
        return pa!.length > 0 && pb!.length > 0 && pa!.length + pb!.length === 6;
      },
      60_000,
    );
    const [pa, pb] = owned();
    expect([...pa!, ...pb!].sort()).toEqual([0, 1, 2, 3, 4, 5]);

    const reader = await h.reader();
    // Produce steadily until the group has changed twice (a member joined, one left) and every
    // member has worked; what was produced by then is what must be decided.
    const all = generateTransactions(20_000, { prefix: 'grp', cards: Array.from({ length: 120 }, () => cardNumber()) });
    let sent = 0;
    let stop = false;
    const producing = (async () => {
      while (!stop && sent < all.length) {
        await h.produceTransactions(all.slice(sent, sent + 20));
        sent += 20;
        await sleep(40);
      }
    })();
    await waitFor('the stream to flow', () => reader.decisions.length >= 200, 60_000, 5);

    // A third member joins mid-stream...
    const c = await h.startInProcess();
    await waitFor(
      'the third member to get partitions and work',
      async () => c.service.processor.health().assignedPartitions.length > 0 && (await processed(c)) > 0,
      60_000,
    );
    // ...and the first leaves (finishing its batch, committing, leaving the group).
    await a.stop();
    await waitFor(
      'the two remaining members to own every partition',
      () => {
        const [pb2, pc2] = [b, c].map((p) => p.service.processor.health().assignedPartitions);
        return pb2!.length + pc2!.length === 6 && new Set([...pb2!, ...pc2!]).size === 6;
      },
      60_000,
    );
    const afterLeave = reader.decisions.length;
    await waitFor('decisions after the hand-over', () => reader.decisions.length >= afterLeave + 200, 60_000, 5);
    stop = true;
    await producing;
    expect(sent).toBeLessThan(all.length);
    const txs = all.slice(0, sent);

    await waitFor(
      'every input to have a decision',
      () => new Set(reader.decisions.map((d) => d.value.transactionId)).size >= txs.length,
      90_000,
    );
    expect(new Set(reader.decisions.map((d) => d.value.transactionId))).toEqual(
      new Set(txs.map((t) => t.input.transactionId)),
    );
    expect(reader.deadLetters).toEqual([]);
    // Every member did part of the work; together exactly what was published (repeats only at hand-overs).
    const counts = await Promise.all([a, b, c].map(processed));
    for (const n of counts) expect(n).toBeGreaterThan(0);
    expect(counts.reduce((s, n) => s + n, 0)).toBe(reader.decisions.length);

    // Committed to the end: nothing left for nobody.
    await waitFor(
      'offsets committed to the end',
      async () => {
        const [committed, ends] = await Promise.all([h.committedOffsets(), h.endOffsets()]);
        return [...ends].every(([p, end]) => (committed.get(p) ?? -1n) === end);
      },
      20_000,
    );

    const probe = new Redis(h.redis.url);
    try {
      const perCard = new Map<string, number>();
      for (const t of txs) perCard.set(t.pan, (perCard.get(t.pan) ?? 0) + 1);
      for (const [pan, count] of perCard)
        expect(await transactionsInCardLog(probe, `lg:{c:${fingerprint(pan)}}:l`)).toBe(count);
    } finally {
      probe.disconnect();
    }
  }, 240_000);
});
