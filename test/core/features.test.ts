import { describe, expect, it } from 'vitest';
import { expiryEnd, transactionFeatures } from '../../services/core/features.ts';
import { scoreRequestSchema } from '../../services/core/schemas.ts';
import { scoreBody } from '../support/app.ts';

const expiredAt = (at: string, expiryMonth: number, expiryYear: number) =>
  transactionFeatures(
    scoreRequestSchema.parse(scoreBody({ card: { number: '4111111111111111', expiryMonth, expiryYear } })),
    Date.parse(at),
    4999,
    false,
  ).card_expired;

describe('card_expired', () => {
  it('holds a card valid through its expiry month wherever it is used', () => {
    // New York, 20:00 on 31 December: already January in UTC, still the expiry month for the holder.
    expect(expiredAt('2027-01-01T01:00:00Z', 12, 2026)).toBe(false);
    // Baker Island (UTC−12) leaves December last: 12:00 UTC on 1 January.
    expect(expiredAt('2027-01-01T11:59:59.999Z', 12, 2026)).toBe(false);
    expect(expiredAt('2027-01-01T12:00:00Z', 12, 2026)).toBe(true);
    expect(expiredAt('2026-12-31T23:00:00Z', 12, 2026)).toBe(false);
  });

  it('counts months and years, not only the year', () => {
    expect(expiredAt('2026-07-15T00:00:00Z', 6, 2026)).toBe(true);
    expect(expiredAt('2026-06-15T00:00:00Z', 6, 2026)).toBe(false);
    expect(expiredAt('2026-06-15T00:00:00Z', 1, 2027)).toBe(false);
    expect(expiredAt('2026-06-15T00:00:00Z', 12, 2025)).toBe(true);
    expect(expiryEnd(2026, 12)).toBe(Date.parse('2027-01-01T12:00:00Z'));
    expect(expiryEnd(2026, 2)).toBe(Date.parse('2026-03-01T12:00:00Z'));
  });
});
