// LEAKGUARD_STREAM_FROM_BEGINNING=false: a new group starts at new messages only. The position it
// starts at is the group's from then on, committed at once, for every partition it was assigned,
// input or none: the lag reports what will be scored (the history skipped is not lag), and a
// restart resumes there (what arrived while the processor was down is scored, not skipped).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadStreamConfig } from '../../streams/config.ts';
import { StreamMetrics } from '../../streams/metrics.ts';
import { oneAtATime, standInApproval } from '../../streams/processor/processor.ts';
import { createHarness, generateTransactions, sleep, standInProcessor, waitFor, type Harness } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness('start-position', { partitions: 2 });
}, 180_000);
afterAll(async () => h?.close(), 60_000);

const lagOf = async (metrics: StreamMetrics) =>
  (await metrics.lag.get()).values.map((v) => `${v.labels.partition}=${v.value}`).sort();

it('starts a new group at new messages only, reports no lag for the history and resumes there after a restart', async () => {
  // History from before the group existed, on partition 0: never to be scored by this group.
  await h.produce(Array.from({ length: 50 }, (_, i) => ({ value: `old-${i}`, partition: 0 })));
  const config = loadStreamConfig({ ...h.env, LEAKGUARD_STREAM_FROM_BEGINNING: 'false' });
  const engine = oneAtATime(async (_m, request) => standInApproval(request.transactionId, 'start'));
  const reader = await h.reader();
  const first = new StreamMetrics();
  const a = standInProcessor(config, engine, 'start-a', first);
  const fresh = generateTransactions(3);
  try {
    await a.start();
    await waitFor('both partitions owned', () => a.health().assignedPartitions.length === 2, 30_000);
    // Where the group starts is committed at once, for the partition with history and the empty one alike.
    await waitFor(
      'the starts committed',
      async () => {
        const committed = await h.committedOffsets();
        return committed.get(0) === 50n && committed.get(1) === 0n;
      },
      30_000,
    );
    // New input on partition 1 only; partition 0 stays idle.
    await h.produce(fresh.map((t) => ({ value: JSON.stringify(t.input), partition: 1 })));
    await waitFor('3 decisions', () => reader.decisions.length === 3, 30_000);
    await sleep(1500); // lag reads every 500 ms
    expect(await lagOf(first)).toEqual(['0=0', '1=0']);
  } finally {
    await a.stop();
  }
  expect(reader.deadLetters).toEqual([]);
  expect(reader.decisions.map((d) => d.value.transactionId).sort()).toEqual(
    fresh.map((t) => t.input.transactionId).sort(),
  );

  // Produced while no processor runs, on the partition that never had new input: scored after the restart.
  const whileDown = generateTransactions(4);
  await h.produce(whileDown.map((t) => ({ value: JSON.stringify(t.input), partition: 0 })));
  const b = standInProcessor(config, engine, 'start-b', new StreamMetrics());
  try {
    await b.start();
    await waitFor('7 decisions', () => reader.decisions.length === 7, 30_000);
    await sleep(1000);
  } finally {
    await b.stop();
  }
  const ids = reader.decisions.map((d) => d.value.transactionId);
  expect(ids.slice(3).sort()).toEqual(whileDown.map((t) => t.input.transactionId).sort());
  expect(ids).toHaveLength(7);
  expect([...(await h.committedOffsets())].sort()).toEqual([
    [0, 54n],
    [1, 3n],
  ]);
}, 150_000);
