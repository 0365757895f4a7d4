import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fingerprintWith } from '../../services/core/card.ts';
import { EntityHasher } from '../../services/core/entities.ts';
import { KeyedHmac, keyedHmac } from '../../services/core/hmac.ts';
import { cardSlot, entrySlot, expiryTag } from '../../services/core/watchlist.ts';

const reference = (secret: Uint8Array, message: string) => createHmac('sha256', secret).update(message).digest('hex');

describe('keyed HMAC-SHA-256', () => {
  it('gives the bytes of node:crypto for any key and message (short, long, non-ASCII)', () => {
    fc.assert(
      fc.property(
        // Keys longer than a block (64 bytes) are hashed first; messages past the reused buffer allocate.
        fc.uint8Array({ minLength: 1, maxLength: 100 }),
        fc.oneof(
          fc.string({ maxLength: 40 }),
          fc.string({ unit: 'binary', maxLength: 700 }),
          fc.string({ minLength: 600, maxLength: 1200 }),
        ),
        (secret, message) => {
          expect(new KeyedHmac(secret).digest(message).toString('hex')).toBe(reference(secret, message));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps no state between messages (a lone surrogate encodes as node:crypto encodes it), one prepared HMAC per secret', () => {
    const a = Buffer.alloc(32, 1),
      b = Buffer.alloc(32, 2);
    expect(keyedHmac(a)).toBe(keyedHmac(a));
    const out = new Uint8Array(32);
    for (const m of ['4111111111111111', '', 'x'.repeat(300), '5500000000000004', 'é', '\ud800 lone surrogate']) {
      expect(keyedHmac(a).digest(m).toString('hex')).toBe(reference(a, m));
      expect(Buffer.from(keyedHmac(b).into(m, out)).toString('hex')).toBe(reference(b, m));
    }
  });

  it('leaves every stored fingerprint, watchlist entry, expiry tag and entity identity as before', () => {
    // Values made by node:crypto's createHmac before this module: a change here orphans stored data.
    const k1 = { id: 'k1', secret: Buffer.from('a'.repeat(64), 'hex') };
    const k2 = { id: 'k2', secret: Buffer.from('b'.repeat(64), 'hex') };
    const pan = '4111111111111111';
    expect(fingerprintWith(k1, pan)).toBe('TNf8AQyzgayKkML8iidJb_gUS7f4KArcxJls7twchj4');
    expect(expiryTag(k1, pan, 12, 2029)).toBe(5783);
    expect(cardSlot(k1, pan)).toEqual({ bucket: '4cd7', field: Buffer.from([252, 1, 12, 179, 129, 172, 138, 144]) });
    expect(cardSlot(k1, pan)).toEqual(entrySlot(fingerprintWith(k1, pan)));
    expect(new EntityHasher({ primary: k2, previous: k1 }).identities('email', 'jane.doe@example.com')).toEqual([
      'U4iuD4WAPYryyT3iBuqYT5',
      'VSKD85_i9VnQi57Vr47R0u',
    ]);
  });
});
