// A holder shopping in person goes from shop to shop: a cafe, a bakery, a pharmacy and a grocer
// within the hour is no card testing, and a leaked card's number, expiry and code make no card a
// terminal reads. The default rules on a card's many merchants read online orders only (a review
// found such a morning held for review at the till); the same spread online is still stepped up.
import { describe, expect, it } from 'vitest';
import { scoreRequestSchema } from '../../services/core/schemas.ts';
import { defaultEngine } from '../support/default-engine.ts';

const keyring = { primary: { id: 'k', secret: Buffer.alloc(32, 7) } };

describe("a card's many merchants, in person and online", () => {
  const t0 = Date.parse('2026-11-21T10:00:00Z');
  const engine = defaultEngine({ keyring });
  /** Orders of one card at `shops`, `minutes` apart from t0, on `channel`. */
  const round = async (number: string, channel: 'pos' | 'ecommerce', shops: [string, number, number][]) => {
    const out = [];
    for (const [merchant, minute, amount] of shops) {
      const result = await engine.score(
        merchant,
        scoreRequestSchema.parse({
          transactionId: `${channel}-${merchant}`,
          occurredAt: new Date(t0 + minute * 60_000).toISOString(),
          amount,
          currency: 'EUR',
          channel,
          card: { number, expiryMonth: 12, expiryYear: 2030, cvvResult: channel === 'pos' ? 'not_checked' : 'match' },
        }),
      );
      if (result.kind !== 'scored') throw new Error(`not scored: ${result.kind}`);
      out.push(result.response);
    }
    return out;
  };

  it('approves a morning of shops in person, and steps up the same spread online', async () => {
    const morning: [string, number, number][] = [
      ['cafe', 0, 450],
      ['bakery', 4, 820],
      ['pharmacy', 8, 1_690],
      ['grocer', 30, 6_200],
      ['bookshop', 50, 2_400],
    ];
    const inPerson = await round('4111111111111111', 'pos', morning);
    for (const r of inPerson) {
      expect(r.reasons.map((x) => x.code)).not.toContain('CARD_MANY_MERCHANTS_10M');
      expect(r.reasons.map((x) => x.code)).not.toContain('CARD_MANY_MERCHANTS_1H');
      expect(r.decision, r.transactionId).toBe('approve');
    }
    const online = await round('5555555555554444', 'ecommerce', morning);
    expect(online[2]!.reasons.map((x) => x.code)).toContain('CARD_MANY_MERCHANTS_10M');
    expect(online[4]!.reasons.map((x) => x.code)).toContain('CARD_MANY_MERCHANTS_1H');
    expect(online[2]!.decision).not.toBe('approve');
  });
});
