import { describe, expect, it } from 'vitest';
import { fingerprintWith, identifyCard, luhnValid, maskPan, panProblem, redactPans } from '../../services/core/card.ts';

const key = (id: string, byte: string) => ({ id, secret: Buffer.from(byte.repeat(64), 'hex') });

describe('card handling', () => {
  it('validates card numbers by shape and Luhn, without repeating them', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(panProblem('4111111111111111')).toBeNull();
    expect(panProblem('4111 1111 1111 1111')).toBe('must be 12 to 19 digits, nothing else');
    expect(panProblem('41111111111')).toBe('must be 12 to 19 digits, nothing else');
    expect(panProblem('4111111111111112')).toBe('fails the Luhn check');
  });

  it('reduces a PAN to a keyed fingerprint, BIN and last 4', () => {
    const id = identifyCard({ primary: key('k1', 'a') }, '4111111111111111');
    expect(id).toEqual({
      fingerprints: [expect.stringMatching(/^[A-Za-z0-9_-]{43}$/)],
      keyId: 'k1',
      bin: '411111',
      last4: '1111',
    });
    expect(JSON.stringify(id)).not.toContain('4111111111111111');
    // Keyed: another key gives another fingerprint, so a stolen fingerprint list is useless without the key.
    expect(fingerprintWith(key('k2', 'b'), '4111111111111111')).not.toBe(id.fingerprints[0]);
    expect(fingerprintWith(key('k1', 'a'), '4111111111111111')).toBe(id.fingerprints[0]);
  });

  it('fingerprints under both keys during rotation, primary first', () => {
    const id = identifyCard({ primary: key('new', 'b'), previous: key('old', 'a') }, '4111111111111111');
    expect(id.fingerprints).toEqual([
      fingerprintWith(key('new', 'b'), '4111111111111111'),
      fingerprintWith(key('old', 'a'), '4111111111111111'),
    ]);
    expect(id.keyId).toBe('new');
  });

  it('masks to at most the first 6 and last 4 digits, and always hides at least 6', () => {
    expect(maskPan('4111111111111111')).toBe('411111******1111');
    expect(maskPan('4111111111111111110')).toBe('411111*********1110');
    // Shorter numbers show fewer last digits: 6 of 15, 14, 13, 12 stay hidden.
    expect(maskPan('378282246310005')).toBe('378282******005');
    expect(maskPan('30569309025904')).toBe('305693******04');
    expect(maskPan('4222222222222')).toBe('422222******2');
    expect(maskPan('411114839603')).toBe('411114******');
    // Fewer than 12 digits are no card number: all hidden.
    expect(maskPan('41111111111')).toBe('***********');
    for (let length = 1; length <= 19; length++) {
      const pan = '4'.repeat(length);
      const masked = maskPan(pan);
      expect(masked).toHaveLength(length);
      expect(masked.replace(/[0-9]/g, '').length, `${length} digits`).toBeGreaterThanOrEqual(Math.min(6, length));
      expect(masked.replace(/\*/g, '').length, `${length} digits`).toBeLessThanOrEqual(10);
    }
  });

  it('redacts card-number-shaped digit runs in free text', () => {
    expect(redactPans('card 4111111111111111 and 4111-1111-1111-1111 and 4111 1111 1111 1111')).toBe(
      'card 411111******1111 and 411111******1111 and 411111******1111',
    );
    expect(redactPans('order 12345 at 2026-11-23T10:00:00Z')).toBe('order 12345 at 2026-11-23T10:00:00Z');
  });
});
