// What was published is committed before a rebalance, whether or not a batch is in flight when it
// is noticed: an idle member learns of it from the Kafka client's own heartbeat between fetches,
// and commits then, before it rejoins. The partitions it hands over are not processed again by
// their new owner (docs/stream-messages.md, Guarantees). The commit interval here (30 s) is longer
// than the test: only the commit before the rebalance can have committed anything.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadStreamConfig } from '../../streams/config.ts';
import { oneAtATime, standInApproval } from '../../streams/processor/processor.ts';
import { createHarness, generateTransactions, sleep, standInProcessor, waitFor, type Harness } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness('rebalance-commits', { partitions: 4 });
}, 180_000);
afterAll(async () => h?.close(), 60_000);

it('commits what an idle member published when the group rebalances: the new owner processes nothing again', async () => {
  const config = loadStreamConfig({ ...h.env, LEAKGUARD_STREAM_COMMIT_INTERVAL_MS: '30000' });
  const engine = oneAtATime(async (_m, request) => standInApproval(request.transactionId, 'rb'));
  const a = standInProcessor(config, engine, 'rebalance-a');
  const b = standInProcessor(config, engine, 'rebalance-b');
  const reader = await h.reader();
  const txs = generateTransactions(40);
  try {
    await a.start();
    await waitFor('a owns every partition', () => a.health().assignedPartitions.length === 4, 30_000);
    await h.produceTransactions(txs);
    await waitFor('40 decisions', () => reader.decisions.length === 40, 30_000);
    await sleep(500); // a is idle: no batch in flight
    const before = await h.committedOffsets();
    expect([...before.values()].filter((o) => o > 0n)).toEqual([]); // nothing committed yet: the interval is 30 s
    await b.start();
    await waitFor(
      'the partitions shared',
      () => b.health().assignedPartitions.length > 0 && a.health().assignedPartitions.length < 4,
      60_000,
    );
    await sleep(3000);
    const ends = await h.endOffsets();
    expect([...(await h.committedOffsets())].sort()).toEqual([...ends].sort());
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
  const ids = reader.decisions.map((d) => d.value.transactionId);
  expect(ids).toHaveLength(40);
  expect(new Set(ids)).toEqual(new Set(txs.map((t) => t.input.transactionId)));
}, 150_000);
