// Money: ISO 4217 exponents, the dated rate table and its validation, the rates file, and the
// amount features built on them (reference cents, small amounts, amounts relative to the card's history).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  amountMajor,
  currencyExponent,
  isCurrencyCode,
  parseRateTable,
  RateTableError,
  rateStaleness,
  UnknownRateError,
} from '../../services/core/currency.ts';
import { isSmallAmount, referenceCents, relativeAmountFeatures } from '../../services/core/features.ts';
import { scoreRequestSchema } from '../../services/core/schemas.ts';
import { DEFAULT_RATES_PATH, RatesFile, readRatesFile } from '../../services/adapters/files/rates-file.ts';

const day = (d: string) => Date.parse(`${d}T00:00:00Z`);
const table = (over: Record<string, unknown> = {}) => ({
  version: 't1',
  reference: 'EUR',
  smallAmount: 2,
  rates: {
    JPY: [
      { from: '2025-01-01', rate: 175 },
      { from: '2022-01-01', rate: 138 },
    ],
    KWD: [{ from: '2025-01-01', rate: 0.356 }],
  },
  ...over,
});
const problems = (doc: unknown): string[] => {
  try {
    parseRateTable(doc);
  } catch (error) {
    if (error instanceof RateTableError) return error.problems;
    throw error;
  }
  return [];
};

describe('ISO 4217 currencies', () => {
  it("uses ISO exponents, not a locale's: JPY 0, EUR 2, KWD 3, IDR 2", () => {
    expect(['JPY', 'EUR', 'KWD', 'IDR'].map(currencyExponent)).toEqual([0, 2, 3, 2]);
    expect(amountMajor(1250, 'JPY')).toBe(1250);
    expect(amountMajor(1250, 'EUR')).toBe(12.5);
    expect(amountMajor(1250, 'KWD')).toBe(1.25);
    expect(amountMajor(150_000, 'IDR')).toBe(1500);
    expect(() => currencyExponent('XAU')).toThrow(RangeError);
  });

  it('accepts money only: every fund, metal, unit of account, test and no-currency entry of the ISO list shipped in the package is refused', () => {
    // The package's copy of ISO's list one: funds carry IsFund="true", units without money "N.A." minor units.
    const xml = readFileSync(
      join(dirname(createRequire(import.meta.url).resolve('currency-codes')), 'iso-4217-list-one.xml'),
      'utf8',
    );
    const entries = [...xml.matchAll(/<CcyNtry>([\s\S]*?)<\/CcyNtry>/g)].map((m) => m[1]!);
    const notMoney = new Set<string>(),
      money = new Set<string>();
    for (const e of entries) {
      const code = /<Ccy>([A-Z]{3})<\/Ccy>/.exec(e)?.[1];
      if (!code) continue;
      if (/IsFund="true"/.test(e) || /<CcyMnrUnts>N\.A\.<\/CcyMnrUnts>/.test(e)) notMoney.add(code);
      else money.add(code);
    }
    expect(notMoney.size).toBeGreaterThan(15);
    expect([...notMoney].filter(isCurrencyCode)).toEqual([]);
    expect([...money].filter((c) => !isCurrencyCode(c))).toEqual([]);
    for (const c of ['XAF', 'XOF', 'XPF', 'XCD', 'CLP', 'VND']) expect(isCurrencyCode(c), c).toBe(true);
    // ISO 4217 money newer than the package's list (found by a review: Curaçao's merchants got 400).
    expect(isCurrencyCode('XCG')).toBe(true);
    expect(currencyExponent('XCG')).toBe(2);
    expect(isCurrencyCode('ANG')).toBe(true);
    for (const c of ['XAU', 'XDR', 'XTS', 'XXX', 'BOV', 'USN', 'ABC', 'eur', 'EURO'])
      expect(isCurrencyCode(c), c).toBe(false);
  });

  it('validates request currencies with the same list', () => {
    const body = (currency: string) => ({
      transactionId: 't',
      amount: 1,
      currency,
      channel: 'pos',
      card: { number: '4111111111111111', expiryMonth: 1, expiryYear: 2030 },
    });
    expect(scoreRequestSchema.safeParse(body('KWD')).success).toBe(true);
    for (const bad of ['XAU', 'XDR', 'BOV', 'NOPE']) {
      const result = scoreRequestSchema.safeParse(body(bad));
      expect(result.success, bad).toBe(false);
      expect(result.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
        ['currency', 'must be an ISO 4217 currency code'],
      ]);
    }
  });
});

describe('the rate table', () => {
  const t = parseRateTable(table());

  it('takes the rate in force at a time: the first before its first date, the latest dated on or before it after', () => {
    expect(t.rate('JPY', day('2019-06-01'))).toBe(138); // before the first date
    expect(t.rate('JPY', day('2022-01-01'))).toBe(138); // on it
    expect(t.rate('JPY', day('2024-12-31') + 86_399_999)).toBe(138); // between: the last millisecond before the next date
    expect(t.rate('JPY', day('2025-01-01'))).toBe(175); // from the next date (00:00 UTC)
    expect(t.rate('JPY', day('2030-01-01'))).toBe(175); // after the last
    expect(t.rate('EUR', 0)).toBe(1); // the reference needs no entry
    expect(t.rate('SEK', day('2025-01-01'))).toBeUndefined();
    expect(t.currencies).toEqual(['EUR', 'JPY', 'KWD']);
  });

  it('converts minor units into reference major units at the dated rate, and back', () => {
    expect(t.toReference(175_000, 'JPY', day('2025-06-01'))).toBe(1000);
    expect(t.toReference(175_000, 'JPY', day('2024-06-01'))).toBeCloseTo(1268.1159, 4);
    expect(t.toReference(356_000, 'KWD', day('2025-06-01'))).toBeCloseTo(1000, 9);
    expect(t.fromReference(1000, 'KWD', day('2025-06-01'))).toBe(356_000);
    expect(t.fromReference(1153.85, 'JPY', day('2025-06-01'))).toBe(201_924);
  });

  it('refuses a currency it has no rate for, naming the currency and the table', () => {
    expect(() => t.toReference(100, 'SEK', 0)).toThrow(UnknownRateError);
    expect(() => t.toReference(100, 'SEK', 0)).toThrow('no exchange rate for SEK in rate table t1');
  });

  it('names the path of every problem', () => {
    expect(problems(table())).toEqual([]);
    expect(problems(table({ rates: { XYZ: [{ from: '2025-01-01', rate: 1 }] } }))).toEqual([
      'rates.XYZ: is not an ISO 4217 currency code',
    ]);
    expect(problems(table({ rates: { XAU: [{ from: '2025-01-01', rate: 1 }] } }))).toEqual([
      'rates.XAU: is not an ISO 4217 currency code',
    ]);
    expect(problems(table({ reference: 'XDR' }))).toEqual(['reference: must be an ISO 4217 currency code']);
    for (const bad of ['2025-02-30', '2025-13-01', '25-01-01', '2025-1-1']) {
      const found = problems(
        table({
          rates: {
            JPY: [
              { from: '2022-01-01', rate: 138 },
              { from: bad, rate: 175 },
            ],
          },
        }),
      );
      expect(found.length, bad).toBeGreaterThan(0);
      for (const p of found) expect(p, bad).toMatch(/^rates\.JPY\.1\.from: must be (a date YYYY-MM-DD|a real date)$/);
    }
    for (const rate of [0, -1])
      expect(problems(table({ rates: { JPY: [{ from: '2025-01-01', rate }] } }))[0], String(rate)).toMatch(
        /^rates\.JPY\.0\.rate: /,
      );
    expect(
      problems(
        table({
          rates: {
            JPY: [
              { from: '2025-01-01', rate: 170 },
              { from: '2025-01-01', rate: 175 },
            ],
          },
        }),
      ),
    ).toEqual(['rates.JPY: repeats a date']);
    expect(problems(table({ rates: { EUR: [{ from: '2025-01-01', rate: 1.01 }] } }))).toEqual([
      'rates.EUR: is the reference currency: its rate can only be 1',
    ]);
    const { smallAmount: _omitted, ...noSmall } = table();
    expect(problems(noSmall)).toEqual([expect.stringMatching(/^smallAmount: /)]);
    expect(problems(table({ smallAmount: 0 }))).toEqual([expect.stringMatching(/^smallAmount: /)]);
    expect(problems(table({ rates: { JPY: [] } }))).toEqual([expect.stringMatching(/^rates\.JPY: /)]);
    expect(problems(table({ extra: 1 }))[0]).toMatch(/extra/);
    // Several problems at once: all of them.
    expect(problems(table({ smallAmount: -1, rates: { XYZ: [{ from: '2025-02-30', rate: 1 }] } }))).toHaveLength(3);
  });
});

describe("how current the table's rates are", () => {
  const fed = parseRateTable({
    version: 'fed',
    reference: 'EUR',
    smallAmount: 2,
    rates: {
      EUR: [{ from: '2000-01-01', rate: 1 }], // the reference: 1 forever, never stale
      JPY: [
        { from: '2025-01-01', rate: 175 },
        { from: '2022-01-01', rate: 138 },
      ],
      USD: [{ from: '2026-11-20', rate: 1.17 }],
      GBP: [{ from: '2026-12-20', rate: 0.86 }], // a rate dated ahead: current
    },
  });

  it("ages each currency's newest rate, and names those older than the limit", () => {
    // 2025-01-01 → 2026-12-08: 365 + 334 + 7 days.
    expect(rateStaleness(fed, day('2026-12-08') + 3_600_000, 45)).toEqual({
      oldestAgeDays: 706,
      stale: [{ currency: 'JPY', newest: '2025-01-01', ageDays: 706 }],
    });
    // The limit itself is not over it; a day more is.
    expect(rateStaleness(fed, day('2025-02-15'), 45).stale).toEqual([]);
    expect(rateStaleness(fed, day('2025-02-16'), 45).stale).toEqual([
      { currency: 'JPY', newest: '2025-01-01', ageDays: 46 },
    ]);
    expect(rateStaleness(fed, day('2027-01-05'), 45)).toEqual({
      oldestAgeDays: 734,
      stale: [
        { currency: 'JPY', newest: '2025-01-01', ageDays: 734 },
        { currency: 'USD', newest: '2026-11-20', ageDays: 46 },
      ],
    });
  });

  it('a table of the reference alone has nothing to age', () => {
    const alone = parseRateTable({
      version: 'alone',
      reference: 'EUR',
      smallAmount: 2,
      rates: { EUR: [{ from: '2000-01-01', rate: 1 }] },
    });
    expect(rateStaleness(alone, day('2030-01-01'), 45)).toEqual({ oldestAgeDays: 0, stale: [] });
  });

  it('the shipped table is stale on 2026-12-08: its newest rates are from 2025-01-01', () => {
    const shipped = rateStaleness(readRatesFile(DEFAULT_RATES_PATH), day('2026-12-08'), 45);
    expect(shipped.oldestAgeDays).toBe(706);
    expect(shipped.stale).toHaveLength(32);
  });
});

describe('the rates file', () => {
  it('loads the default table: reference EUR, 2 EUR small amounts, a dated rate for every currency listed', () => {
    const rates = readRatesFile();
    expect(rates).toMatchObject({ reference: 'EUR', smallAmount: 2 });
    expect(rates.currencies).toHaveLength(33);
    expect(rates.currencies).toEqual(expect.arrayContaining(['EUR', 'USD', 'JPY', 'KWD', 'IDR', 'SEK']));
  });

  it('names the file and the problem when a table does not load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-rates-'));
    const path = join(dir, 'rates.yaml');
    writeFileSync(path, stringify(table({ rates: { JPY: [{ from: '2025-01-01', rate: 0 }] } })));
    expect(() => readRatesFile(path)).toThrow(`invalid rate table ${path}: rates.JPY.0.rate:`);
    expect(() => readRatesFile(join(dir, 'missing.yaml'))).toThrow(
      `cannot read rate table ${join(dir, 'missing.yaml')}`,
    );
  });

  it('keeps the table in force when a reload is refused, and takes a valid one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-rates-'));
    const path = join(dir, 'rates.yaml');
    writeFileSync(path, readFileSync(DEFAULT_RATES_PATH, 'utf8'));
    const reloads: unknown[] = [];
    const file = new RatesFile(path, (r) => reloads.push(r));
    const before = file.rates;

    const doc = parse(readFileSync(path, 'utf8'));
    doc.rates.JPY[0].rate = -175;
    writeFileSync(path, stringify(doc));
    const refused = file.reload();
    expect(refused).toEqual({ ok: false, error: expect.stringContaining('rates.JPY.0.rate') });
    expect(file.rates).toBe(before);
    expect(file.rates.rate('JPY', day('2018-06-01'))).toBe(130);

    doc.rates.JPY[0].rate = 131;
    doc.version = 'next';
    writeFileSync(path, stringify(doc));
    expect(file.reload()).toEqual({ ok: true, version: 'next' });
    expect(file.rates.rate('JPY', day('2018-06-01'))).toBe(131);
    expect(reloads).toEqual([refused, { ok: true, version: 'next' }]);
  });
});

describe('amounts in the reference currency', () => {
  const t = parseRateTable(table());
  const at = day('2025-06-01');

  it('rounds to reference hundredths, so the same value in any currency counts the same', () => {
    expect(referenceCents(t, 120_000, 'EUR', at)).toBe(120_000);
    expect(referenceCents(t, 210_000, 'JPY', at)).toBe(120_000);
    expect(referenceCents(t, 427_200, 'KWD', at)).toBe(120_000);
    expect(referenceCents(t, 150_000, 'JPY', at)).toBe(85_714); // 857.142… EUR
  });

  it('small amounts: at most smallAmount in the reference currency, compared in hundredths (no floating-point edge)', () => {
    expect(isSmallAmount(referenceCents(t, 712, 'KWD', at), t)).toBe(true); // 2.000 EUR
    // 0.070 KWD at 0.1 is 0.7000000000000001 EUR in floating point: still at most 0.7.
    const tight = parseRateTable(table({ smallAmount: 0.7, rates: { KWD: [{ from: '2025-01-01', rate: 0.1 }] } }));
    expect(tight.toReference(70, 'KWD', at)).toBeGreaterThan(0.7);
    expect(isSmallAmount(referenceCents(tight, 70, 'KWD', at), tight)).toBe(true);
    expect(isSmallAmount(referenceCents(tight, 71, 'KWD', at), tight)).toBe(false);
    expect(isSmallAmount(referenceCents(t, 350, 'JPY', at), t)).toBe(true);
    expect(isSmallAmount(referenceCents(t, 351, 'JPY', at), t)).toBe(false);
    expect(isSmallAmount(referenceCents(t, 300, 'EUR', at), t)).toBe(false); // not "a few units of any currency"
  });

  it("relative amounts: this amount over the mean of the card's earlier ones, the current one taken out; −1 without history", () => {
    // The reading includes the current transaction (1,200.00) after 45 + 60 + 1 + 1 + 2 in 7 days and one more (30) in 30 days.
    const reading = { card_count_7d: 6, card_amount_7d: 1309, card_count_30d: 7, card_amount_30d: 1339 };
    const f = relativeAmountFeatures(120_000, reading);
    expect(f.amount_to_card_avg_7d).toBeCloseTo(1200 / (109 / 5), 12);
    expect(f.amount_to_card_avg_30d).toBeCloseTo(1200 / (139 / 6), 12);
    expect(
      relativeAmountFeatures(4500, { card_count_7d: 1, card_amount_7d: 45, card_count_30d: 1, card_amount_30d: 45 }),
    ).toEqual({ amount_to_card_avg_7d: -1, amount_to_card_avg_30d: -1 });
    expect(
      relativeAmountFeatures(6000, { card_count_7d: 1, card_amount_7d: 60, card_count_30d: 2, card_amount_30d: 105 }),
    ).toEqual({ amount_to_card_avg_7d: -1, amount_to_card_avg_30d: 60 / 45 });
  });
});
