// The partition of a keyed message, as kafkajs's DefaultPartitioner and the Java client choose it
// (murmur2 of the key's bytes), computed in 32-bit integers on a reused buffer. kafkajs computes it
// on 64-bit Long objects and a fresh Buffer per message: ~8 % of the stream processor's
// allocations and ~2 % of its CPU (heap and CPU profiles of bench:stream), two keyed messages per
// transaction (its decision and its recording). kafkajs-client.ts plugs it into the producers.

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Keys up to this many UTF-8 bytes are hashed in place; longer ones (rare) get a buffer of their own. */
const SCRATCH_BYTES = 1024;
const scratch = Buffer.allocUnsafe(SCRATCH_BYTES);

/** The Java client's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) of `length` bytes of `data`. */
export function murmur2(data: Uint8Array, length = data.length): number {
  let h = (SEED ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The last 1–3 bytes (the Java switch's fall-through cases).
  const rest = length & 3;
  if (rest > 0) {
    if (rest === 3) h ^= data[whole + 2]! << 16;
    if (rest >= 2) h ^= data[whole + 1]! << 8;
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** murmur2 of a message key as kafkajs sends it: a Buffer as it is, anything else as the UTF-8 of String(key). */
function keyHash(key: Buffer | string): number {
  if (Buffer.isBuffer(key)) return murmur2(key);
  const text = String(key);
  // A UTF-16 unit is at most 3 UTF-8 bytes: a key that might not fit is encoded on its own.
  if (text.length * 3 > SCRATCH_BYTES) return murmur2(Buffer.from(text));
  return murmur2(scratch, scratch.write(text, 0, 'utf8'));
}

/** The partition of a keyed message among `partitions`: the Java client's toPositive(murmur2(key)) % n. */
export const partitionOfKey = (key: Buffer | string, partitions: number) => (keyHash(key) & 0x7fffffff) % partitions;
