// fast-check arbitraries of valid API requests, for the property tests of the parsers and routes.
import fc from 'fast-check';
import { CURRENCY_CODES } from '../../services/core/schemas.ts';
import { pan } from './card-arbitraries.ts';

export const isoInstant = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
/** A transaction's or outcome's own time: never ahead of the engine's clock (it refuses those, 400). */
export const pastInstant = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date(), noInvalidDate: true })
  .map((d) => d.toISOString());
export const word = fc.stringMatching(/^[A-Za-z][A-Za-z .'-]{0,30}[A-Za-z]$/);
const address = fc.record(
  {
    name: word,
    line1: word,
    city: word,
    postalCode: fc.stringMatching(/^[0-9A-Z]{3,8}$/),
    country: fc.stringMatching(/^[A-Z]{2}$/),
  },
  { requiredKeys: [] },
);

/** Valid scoring requests of every shape the schema takes (identifiers that cannot be card numbers: letters lead). */
export const validScoreRequest = fc.record(
  {
    transactionId: fc.stringMatching(/^[a-z][A-Za-z0-9._:-]{0,30}$/).filter((id) => !/[0-9]{12}/.test(id)),
    amount: fc.integer({ min: 1, max: 1e12 }),
    currency: fc.constantFrom(...CURRENCY_CODES),
    occurredAt: pastInstant,
    channel: fc.constantFrom('ecommerce', 'moto', 'pos', 'in_app'),
    card: fc.record(
      {
        number: pan(),
        expiryMonth: fc.integer({ min: 1, max: 12 }),
        expiryYear: fc.integer({ min: 2000, max: 2100 }),
        cvvResult: fc.constantFrom('match', 'mismatch', 'not_checked'),
      },
      { requiredKeys: ['number', 'expiryMonth', 'expiryYear'] },
    ),
    threeDS: fc.record(
      {
        status: fc.constantFrom('Y', 'N', 'U', 'A', 'C', 'D', 'R', 'I'),
        version: fc.constantFrom('2.1.0', '2.2', '2.3.1'),
      },
      { requiredKeys: ['status'] },
    ),
    customer: fc.record(
      {
        id: fc.stringMatching(/^c-[a-z0-9]{1,20}$/),
        email: fc.constantFrom('jane@example.com', 'a.b+c@example.co.jp'),
        phone: fc.constantFrom('+81 3-1234-5678', '(555) 123-4567'),
        accountCreatedAt: pastInstant, // one ahead of the clock is refused (400)
      },
      { requiredKeys: [] },
    ),
    device: fc.record(
      {
        id: fc.stringMatching(/^d-[a-z0-9]{1,20}$/),
        ip: fc.oneof(fc.ipV4(), fc.ipV6()),
        userAgent: fc.string({ maxLength: 60 }),
      },
      { requiredKeys: [] },
    ),
    billingAddress: address,
    shippingAddress: address,
    items: fc.array(
      fc.record(
        {
          name: word,
          sku: fc.stringMatching(/^[A-Z0-9-]{1,12}$/),
          quantity: fc.integer({ min: 1, max: 100000 }),
          unitPrice: fc.integer({ min: 0, max: 1e6 }),
        },
        { requiredKeys: ['name'] },
      ),
      { maxLength: 4 },
    ),
  },
  { requiredKeys: ['transactionId', 'amount', 'currency', 'channel', 'card'] },
);
