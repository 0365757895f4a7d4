// API key ids are audited and shown everywhere the card-number scrubber runs: never one it masks.
import { expect, it } from 'vitest';
import { newKeyId } from '../../services/auth/api-keys.ts';
import { scrubCardNumbers } from '../../services/core/scrub.ts';

it('draws a key id again when the one drawn reads as a card number (all decimal, passing Luhn)', () => {
  // 045960568116: the id a CI run drew, masked in the audit log as key_045960**8116.
  const draws = [Buffer.from('045960568116', 'hex'), Buffer.from('0a5960568116', 'hex')];
  expect(scrubCardNumbers('key_045960568116')).not.toBe('key_045960568116');
  let calls = 0;
  const id = newKeyId((size) => {
    expect(size).toBe(6);
    return draws[calls++]!;
  });
  expect([id, calls]).toEqual(['key_0a5960568116', 2]);
  expect(scrubCardNumbers(id)).toBe(id);
});

it('keeps an ordinary draw as it is: key_ and 12 hex digits', () => {
  const id = newKeyId();
  expect(id).toMatch(/^key_[0-9a-f]{12}$/);
  expect(scrubCardNumbers(id)).toBe(id);
});
