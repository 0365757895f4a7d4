// The producers' record batches carry the native CRC-32C in place of kafkajs's own JavaScript one:
// the same number for every batch (the broker refuses a batch whose checksum is wrong), from a
// process that loads kafkajs through kafkajs-client.ts.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
/** kafkajs's own implementation, from its own file (the one this change leaves in place). */
const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (b: Buffer) => number;
const { crc32c } = require('@node-rs/crc32') as { crc32c: (b: Uint8Array) => number };

/** Deterministic pseudo-random bytes. */
function bytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) >>> 24;
  return out;
}

describe('record batch checksum', () => {
  it('is CRC-32C: the check value, and kafkajs’s own number for every length and offset', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    for (let length = 0; length <= 300; length++) {
      const b = bytes(length, length + 1);
      expect(crc32c(b), `length ${length}`).toBe(kafkajsCrc32c(b));
    }
    // kafkajs checksums a view into its encoder's larger buffer.
    const big = bytes(70_000, 7);
    for (const [start, end] of [
      [0, 70_000],
      [1, 65_537],
      [13, 40_013],
      [69_999, 70_000],
    ] as const) {
      const view = big.subarray(start, end);
      expect(crc32c(view), `${start}..${end}`).toBe(kafkajsCrc32c(view));
    }
  });

  it('is what kafkajs’s record batches carry in a process that loads kafkajs through the client', async () => {
    // A fresh process: the substitution happens before kafkajs first loads its checksum module.
    const script = `
      await import('./services/adapters/kafka/kafkajs-client.ts');
      const { createRequire } = await import('node:module');
      const require = createRequire(import.meta.url);
      const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js');
      const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js');
      const records = Array.from({ length: 50 }, (_, i) => Record({ offsetDelta: i, key: 'k' + i, value: 'v'.repeat(i * 40) }));
      const encoded = (await RecordBatch({ records, firstTimestamp: 1, maxTimestamp: 2 })).buffer;
      // FirstOffset int64, Length int32, PartitionLeaderEpoch int32, Magic int8, CRC uint32, then the checksummed body.
      const crc = encoded.readUInt32BE(8 + 4 + 4 + 1);
      const body = encoded.subarray(8 + 4 + 4 + 1 + 4);
      const own = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js')(body);
      // Only now: had kafkajs-client.ts not put it in place, the batch above loaded kafkajs's own.
      const { recordBatchChecksum, KAFKAJS_CHECKSUM_MODULE } = await import('./services/adapters/kafka/record-batch-checksum.ts');
      const native = require.cache[KAFKAJS_CHECKSUM_MODULE]?.exports.native === true;
      console.log(JSON.stringify({ recordBatchChecksum, native, crc, own }));
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script],
      { cwd: new URL('../..', import.meta.url).pathname },
    );
    const seen = JSON.parse(stdout) as { recordBatchChecksum: string; native: boolean; crc: number; own: number };
    expect(seen.recordBatchChecksum).toBe('native');
    expect(seen.native).toBe(true);
    expect(seen.crc).toBe(seen.own);
    expect(seen.crc).not.toBe(0);
  });
});
