// Many distinct cards at one merchant, or of one BIN, are what a busy merchant and a big issuer's
// BIN see every ten minutes. The default card-testing rules on them fire only with a card-testing
// amount: a busy merchant's ordinary orders carry no card-testing reason.
import { describe, expect, it } from 'vitest';
import { scoreRequestSchema } from '../../services/core/schemas.ts';
import { defaultEngine } from '../support/default-engine.ts';
import { luhnComplete } from '../support/card-arbitraries.ts';

const keyring = { primary: { id: 'k', secret: Buffer.alloc(32, 5) } };

/** Card i of one BIN (453201). */
const card = (i: number) => luhnComplete(`453201${String(i).padStart(9, '0')}`);

describe('card-testing rules at a busy merchant and on a busy BIN', () => {
  const t0 = Date.parse('2026-11-20T12:00:00Z');
  const engine = defaultEngine({ keyring });
  const order = async (i: number, amount: number, merchant = 'busy-shop') => {
    const result = await engine.score(
      merchant,
      scoreRequestSchema.parse({
        transactionId: `order-${i}`,
        occurredAt: new Date(t0 + i * 2_000).toISOString(),
        amount,
        currency: 'EUR',
        channel: 'ecommerce',
        card: { number: card(i), expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
        threeDS: { status: 'Y', version: '2.2.0' },
      }),
    );
    if (result.kind !== 'scored') throw new Error(`not scored: ${result.kind}`);
    return result.response;
  };

  it('leaves a card-testing amount alone where few cards are seen', async () => {
    const quiet = await order(1_000, 100, 'corner-shop');
    const codes = quiet.reasons.map((r) => r.code);
    expect(codes).not.toContain('MERCHANT_CARD_TESTING_10M');
    expect(codes).not.toContain('BIN_BURST_10M');
  });

  it('leaves ordinary amounts alone and flags card-testing amounts', async () => {
    // 150 customers in five minutes, each with their own card of one BIN: 30 orders a minute.
    for (let i = 0; i < 150; i++) await order(i, 4_500);
    const ordinary = await order(150, 4_500);
    const codes = ordinary.reasons.map((r) => r.code);
    expect(codes).not.toContain('MERCHANT_CARD_TESTING_10M');
    expect(codes).not.toContain('BIN_BURST_10M');
    expect(ordinary.decision).toBe('approve');

    const testing = await order(151, 100); // 1.00 EUR: a card-testing amount (at most 2 EUR)
    expect(testing.reasons.map((r) => r.code)).toEqual(
      expect.arrayContaining(['MERCHANT_CARD_TESTING_10M', 'BIN_BURST_10M']),
    );
    expect(testing.reasons.find((r) => r.code === 'MERCHANT_CARD_TESTING_10M')?.message).toContain(
      '152 distinct cards at this merchant',
    );
  });

  it('flags a card-testing amount on a busy BIN spread over many merchants, and only the BIN', async () => {
    // An hour after the others: 150 cards of the BIN in five minutes, each at a merchant of its own.
    for (let k = 0; k < 150; k++) await order(2_000 + k, 4_500, `shop-${k}`);
    const ordinary = await order(2_150, 4_500, 'shop-new');
    expect(ordinary.reasons.map((r) => r.code)).not.toContain('BIN_BURST_10M');
    const testing = (await order(2_151, 100, 'shop-newer')).reasons.map((r) => r.code);
    expect(testing).toContain('BIN_BURST_10M');
    expect(testing).not.toContain('MERCHANT_CARD_TESTING_10M');
  });
});
