// What the case page and the queue show of an order (real app, PGlite): amounts in the engine's
// own minor units, the reference currency, evidence numbers, linked cases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceValue } from '../../services/console/views/case.ts';
import { money } from '../../services/console/views/parts.ts';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { flagCase, loggedIn } from './client.ts';
import { flagged } from './fixtures.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' }, { cases: true });
});
afterAll(() => t?.close());

// Intl puts a no-break space between a currency code and the amount.
const text = (body: string) => body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
const m = (amount: number, currency: string) => money(amount, currency).replace(/\u00a0/g, ' ');

describe('amounts', () => {
  it('shows minor units as the major amount with the ISO 4217 exponent the engine uses, whatever the locale assumes', () => {
    expect(m(4500, 'JPY')).toBe('¥4,500');
    expect(m(4500, 'EUR')).toBe('€45.00');
    // ISO 4217 gives HUF, IDR, COP and PKR 2 decimals and IQD 3; the browser's locale data say 0.
    expect(m(4_500_000, 'HUF')).toBe('HUF 45,000.00');
    expect(m(4_500_000, 'IDR')).toBe('IDR 45,000.00');
    expect(m(4_500_000, 'COP')).toBe('COP 45,000.00');
    expect(m(4_500_000, 'PKR')).toBe('PKR 45,000.00');
    expect(m(4_500_000, 'IQD')).toBe('IQD 4,500.000');
    expect(m(1234, 'KWD')).toBe('KWD 1.234');
    expect(m(5, 'XYZ')).toBe('5 XYZ');
  });

  it('shows a HUF order as the engine scored it: in the queue, on the case page and in its item prices', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.40.1');
    const c = await flagCase(t, {
      amount: 4_500_000,
      currency: 'HUF',
      items: [{ name: 'Phone', quantity: 1, unitPrice: 4_500_000 }],
    });
    expect(c.features.amount_major).toBe(45000);
    const page = await client.get(`/console/cases/${c.id}`);
    expect(page.status).toBe(200);
    expect(text(page.body)).toContain('Amount HUF 45,000.00');
    expect(text(page.body)).toMatch(/Phone\s+1\s+HUF 45,000.00/);
    expect(page.body).not.toContain('4,500,000');
    const queue = await client.get(`/console/queue?merchant=m1&sort=newest`);
    expect(text(queue.body)).toContain('HUF 45,000.00');
    expect(text(queue.body)).not.toContain('HUF 4,500,000');
  });
});

describe('linked cases', () => {
  it("shows the card's own cases before a shared address's, and says when rows were cut", async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.40.2');
    const card = { number: '4000002500003155', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' };
    const reshipper = { line1: '9 Forwarding Way', city: 'Wilmington', country: 'US' };
    const older = await flagCase(t, { card });
    // 51 newer cases of other cards shipped to the same reshipper fill what the page shows.
    for (let i = 0; i < 51; i++) await flagCase(t, { shippingAddress: reshipper });
    const me = await flagCase(t, { card, shippingAddress: reshipper });
    const page = await client.get(`/console/cases/${me.id}`);
    expect(page.body).toMatch(
      new RegExp(`<tbody>\\s*<tr><td><a href="/console/cases/${older.id}">#${older.id}</a></td><td>card</td>`),
    );
    expect(text(page.body)).toContain('50 of 52 shown: the same card first');
  });
});

describe('the reference currency', () => {
  it("names the rate table's reference beside the order's amount and in the reasons that quote it", async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.40.3');
    const huf = await flagCase(t, { amount: 4_500_000, currency: 'HUF' });
    // HUF 45,000.00 at 395 forints to the euro (services/rates/default.yaml).
    expect(text((await client.get(`/console/cases/${huf.id}`)).body)).toContain(
      'Amount HUF 45,000.00 Amount in reference currency €113.92 (EUR, the reference currency of the rate table)',
    );
    const high = await flagCase(t, { amount: 2_522_284, currency: 'EUR' });
    expect(high.reasons.map((r) => r.code)).toContain('HIGH_AMOUNT');
    const page = text((await client.get(`/console/cases/${high.id}`)).body);
    expect(page).toContain('High amount (25222.84 in the reference currency, EUR)');
    expect(page).toContain('Amount in reference currency €25,222.84 (EUR, the reference currency of the rate table)');
  });
});

describe('evidence', () => {
  it('shows fractions to at most 4 decimals, never as a masked card number', async () => {
    expect(evidenceValue(2.972129843735801)).toBe('2.9721');
    expect(evidenceValue(0.5)).toBe('0.5');
    expect(evidenceValue(45000)).toBe('45000');
    expect(evidenceValue(0.00001234)).toBe('0.000012');
    expect(evidenceValue(true)).toBe('true');
    expect(evidenceValue('mismatch')).toBe('mismatch');
  });

  it('renders such a ratio on the case page rounded, not masked', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.40.4');
    // A ratio whose 16 digits pass the Luhn check: the scrubber would mask it as a card number.
    const f = flagged();
    const { id } = await t.runtime.cases!.store.createFromFlagged({
      ...f,
      features: { ...f.features, amount_to_card_avg_7d: 2.972129843735801 },
    });
    const page = await client.get(`/console/cases/${id}`);
    expect(page.body).toMatch(/<th>amount_to_card_avg_7d<\/th>\s*<td>2\.9721<\/td>/);
    expect(page.body).not.toContain('2.972129*');
  });
});
