// kafkajs checksums every record batch it produces (CRC-32C, Kafka's record batch format) one byte
// at a time in JavaScript: ~5 % of a stream processor's busy time (a CPU profile of bench:stream's
// backlog drain, docs/capacity.md). @node-rs/crc32's crc32c (native, SIMD) gives the same numbers ~10× faster.
// kafkajs takes its checksum from one module of its own and offers no option for it, so this module
// puts the native one in that module's place in Node's module cache, before kafkajs first loads it.
// Imported first by kafkajs-client.ts. If the native build is missing for the platform, or kafkajs
// already loaded its own, kafkajs keeps its own: the checksums are the same either way.
import { createRequire, Module } from 'node:module';

const require = createRequire(import.meta.url);

/** The module kafkajs's record batch encoder takes its checksum from (`require('../crc32C')`). */
export const KAFKAJS_CHECKSUM_MODULE = require.resolve('kafkajs/src/protocol/recordBatch/crc32C/index.js');

type Checksum = ((bytes: Uint8Array) => number) & { native?: true };

function nativeCrc32c(): Checksum | undefined {
  try {
    const { crc32c } = require('@node-rs/crc32') as { crc32c: (input: Uint8Array) => number };
    return Object.assign((bytes: Uint8Array) => crc32c(bytes), { native: true as const });
  } catch {
    return undefined;
  }
}

function install(): 'native' | 'kafkajs' {
  // Loaded already: by kafkajs, or by this module evaluated once more in the same process (tests).
  const loaded = require.cache[KAFKAJS_CHECKSUM_MODULE];
  if (loaded) return (loaded.exports as Checksum).native ? 'native' : 'kafkajs';
  const checksum = nativeCrc32c();
  if (!checksum) return 'kafkajs';
  const substitute = new Module(KAFKAJS_CHECKSUM_MODULE);
  substitute.filename = KAFKAJS_CHECKSUM_MODULE;
  substitute.exports = checksum;
  substitute.loaded = true;
  require.cache[KAFKAJS_CHECKSUM_MODULE] = substitute;
  return 'native';
}

/** Which checksum kafkajs's producers use in this process. */
export const recordBatchChecksum: 'native' | 'kafkajs' = install();
