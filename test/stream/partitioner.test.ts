// The producers' partitioner puts every keyed message on the partition kafkajs's DefaultPartitioner
// (and so the Java client) would: a transaction's decision and its recording stay where consumers
// and earlier versions expect them.
import kafkajs, { type PartitionerArgs, type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { javaCompatiblePartitioner } from '../../services/adapters/kafka/kafkajs-client.ts';
import { murmur2 } from '../../services/adapters/kafka/partitioner.ts';

const metadata = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
  }));
const args = (key: Buffer | string | null, partitions: number, partition?: number): PartitionerArgs => ({
  topic: 't',
  partitionMetadata: metadata(partitions),
  message: { key, value: 'v', ...(partition === undefined ? {} : { partition }) },
});

/** Deterministic pseudo-random keys: ASCII, any UTF-16 (pairs and lone surrogates), bytes, long ones. */
function* keys(): Generator<Buffer | string> {
  let seed = 42;
  const next = (n: number) => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) % n;
  yield '';
  yield 'm-7:tx-000001';
  for (let i = 0; i < 600; i++) {
    const length = next(120);
    const kind = i % 3;
    if (kind === 2) {
      yield Buffer.from(Array.from({ length }, () => next(256)));
      continue;
    }
    yield String.fromCharCode(...Array.from({ length }, () => (kind === 0 ? 32 + next(95) : next(0x10000))));
  }
  yield 'x'.repeat(341);
  yield 'x'.repeat(342); // past the reused buffer: its own
  yield 'é'.repeat(2_000);
}

describe('the producers partitioner', () => {
  it('hashes as the Java client does (its published test vectors)', () => {
    const vectors: [string, number][] = [
      ['21', -973_932_308],
      ['foobar', -790_332_482],
      ['a-little-bit-long-string', -985_981_536],
      ['a-little-bit-longer-string', -1_486_304_829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58_897_971],
      ['abc', 479_470_107],
    ];
    for (const [text, hash] of vectors) expect(murmur2(Buffer.from(text)), text).toBe(hash);
  });

  it("chooses kafkajs's DefaultPartitioner's partition for every keyed message", () => {
    const ours = javaCompatiblePartitioner();
    const theirs = kafkajs.Partitioners.DefaultPartitioner();
    let compared = 0;
    for (const key of keys())
      for (const partitions of [1, 6, 7, 12]) {
        expect(ours(args(key, partitions)), JSON.stringify(String(key).slice(0, 40))).toBe(
          theirs(args(key, partitions)),
        );
        compared++;
      }
    expect(compared).toBe(4 * 605);
  });

  it('keeps a given partition, and spreads keyless messages over the partitions in turn', () => {
    const ours = javaCompatiblePartitioner();
    expect(ours(args('m:t', 6, 4))).toBe(4);
    const chosen = Array.from({ length: 12 }, () => ours(args(null, 6)));
    expect(new Set(chosen).size).toBe(6);
    for (let i = 1; i < chosen.length; i++) expect(chosen[i]).toBe((chosen[i - 1]! + 1) % 6);
  });
});
