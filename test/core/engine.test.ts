import { describe, expect, it } from 'vitest';
import { identifyCard } from '../../services/core/card.ts';
import { payloadHash } from '../../services/core/engine.ts';
import { scoreRequestSchema } from '../../services/core/schemas.ts';

const keyring = { primary: { id: 'k', secret: Buffer.alloc(32, 3) } };
const parse = (v: unknown) => scoreRequestSchema.parse(v);

describe('payload identity for idempotency', () => {
  const base = { transactionId: 't1', amount: 100, currency: 'EUR', channel: 'ecommerce', card: { number: '4111111111111111', expiryMonth: 1, expiryYear: 2030, cvvResult: 'match' }, device: { id: 'd', ip: '203.0.113.1' } };
  const hash = (v: unknown) => {
    const req = parse(v);
    return payloadHash(req, identifyCard(keyring, req.card.number));
  };

  it('does not depend on key order or on fields the schema drops', () => {
    const reordered = { device: { ip: '203.0.113.1', id: 'd' }, card: { cvvResult: 'match', expiryYear: 2030, expiryMonth: 1, number: '4111111111111111' }, channel: 'ecommerce', currency: 'EUR', amount: 100, transactionId: 't1', unknownField: 'x' };
    expect(hash(reordered)).toBe(hash(base));
  });

  it('changes with any scored field, and never contains the card number', () => {
    expect(hash({ ...base, amount: 101 })).not.toBe(hash(base));
    expect(hash({ ...base, card: { ...base.card, number: '5555555555554444' } })).not.toBe(hash(base));
    expect(hash(base)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});
