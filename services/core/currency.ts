// Money: ISO 4217 minor units and the rate table that brings every amount into one reference
// currency before any feature sees it, so that 1,000 means the same in yen, euros and dinars.
// Pure: the table is parsed from a document here; reading and watching the file is an adapter's job.
import isoCurrencies from 'currency-codes';
import { z } from 'zod';
import { issueLines, LeakguardError } from './errors.ts';

/**
 * ISO 4217 entries that are not money a card is charged in, kept out although the package lists
 * them with a country: the funds codes (IsFund in ISO's list one) and the supranational units of
 * account whose minor unit is "N.A." in ISO's list (the package gives them 0 digits).
 * test/core/currency.test.ts checks this against the list shipped in the package.
 */
const NOT_MONEY: ReadonlySet<string> = new Set([
  'BOV',
  'CHE',
  'CHW',
  'CLF',
  'COU',
  'MXV',
  'USN',
  'UYI',
  'XDR',
  'XSU',
  'XUA',
]);

/**
 * Money ISO 4217 added after the package's list (currency-codes 2.2.0, its latest): the Caribbean
 * guilder of Curaçao and Sint Maarten (XCG, in use from 2025-03-31, replacing ANG, which stays for
 * older transactions). Without it their merchants' orders were refused as no currency at all (400)
 * instead of scored once the rate table has it (422 until then, naming the table).
 */
const NEWER_THAN_THE_PACKAGE: readonly [string, number][] = [['XCG', 2]];

/** Codes of ISO 4217 that name money (not funds, metals, test or "no currency" codes), with their exponents. */
const EXPONENTS: ReadonlyMap<string, number> = new Map([
  ...isoCurrencies.data
    .filter((c) => !c.countries.some((country) => country.startsWith('Zz')) && !NOT_MONEY.has(c.code))
    .map((c): [string, number] => [c.code, c.digits]),
  ...NEWER_THAN_THE_PACKAGE,
]);

export const isCurrencyCode = (code: string): boolean => EXPONENTS.has(code);

/** Minor-unit exponent of a currency per ISO 4217 (JPY 0, EUR 2, KWD 3, IDR 2). Throws for a code that is not ISO 4217 money. */
export function currencyExponent(currency: string): number {
  const e = EXPONENTS.get(currency);
  if (e === undefined) throw new RangeError(`not an ISO 4217 currency code: ${currency}`);
  return e;
}

/** An amount in minor units (what the API takes) in major units of its own currency. */
export function amountMajor(amountMinor: number, currency: string): number {
  return amountMinor / 10 ** currencyExponent(currency);
}

const currencyCode = z.string().refine(isCurrencyCode, 'must be an ISO 4217 currency code');
const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  // Date.parse rolls 2025-02-30 over to March 2: a real date reads back as itself.
  .refine((d) => {
    const ms = Date.parse(`${d}T00:00:00Z`);
    return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === d;
  }, 'must be a real date');

const datedRate = z.object({ from: isoDate, rate: z.number().positive().finite() }).strict();

export const rateTableSchema = z
  .object({
    version: z.string().min(1).max(64),
    /** The currency every amount feature is expressed in. */
    reference: currencyCode,
    /** Card-testing amounts: at most this much, in the reference currency's major units. */
    smallAmount: z.number().positive().finite(),
    /** Units of each currency per one unit of the reference, each rate in force from its date (UTC). */
    rates: z.record(z.string(), z.array(datedRate).min(1)),
  })
  .strict()
  .superRefine((t, ctx) => {
    for (const [code, rates] of Object.entries(t.rates)) {
      if (!isCurrencyCode(code))
        ctx.addIssue({ code: 'custom', path: ['rates', code], message: 'is not an ISO 4217 currency code' });
      const dates = rates.map((r) => r.from);
      if (new Set(dates).size !== dates.length)
        ctx.addIssue({ code: 'custom', path: ['rates', code], message: 'repeats a date' });
      if (code === t.reference && rates.some((r) => r.rate !== 1)) {
        ctx.addIssue({
          code: 'custom',
          path: ['rates', code],
          message: 'is the reference currency: its rate can only be 1',
        });
      }
    }
  });
export type RateTableDocument = z.infer<typeof rateTableSchema>;

export class RateTableError extends LeakguardError {
  readonly problems: string[];

  /** `source`: where the table was read from (a file path), named in the message. */
  constructor(problems: string[], source?: string) {
    super('RATE_TABLE_INVALID', `invalid rate table${source ? ` ${source}` : ''}: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** A currency the table has no rate for: the request cannot be scored in a meaningful way. */
export class UnknownRateError extends LeakguardError {
  readonly currency: string;

  constructor(currency: string, table: string) {
    super('NO_EXCHANGE_RATE', `no exchange rate for ${currency} in rate table ${table}`);
    this.currency = currency;
  }
}

interface Rates {
  /** Epoch ms each rate takes effect, ascending. */
  from: number[];
  rate: number[];
}

export class RateTable {
  readonly version: string;
  readonly reference: string;
  readonly smallAmount: number;
  private readonly rates = new Map<string, Rates>();

  constructor(doc: RateTableDocument) {
    this.version = doc.version;
    this.reference = doc.reference;
    this.smallAmount = doc.smallAmount;
    for (const [code, list] of Object.entries(doc.rates)) {
      const sorted = [...list].sort((a, b) => (a.from < b.from ? -1 : 1));
      this.rates.set(code, {
        from: sorted.map((r) => Date.parse(`${r.from}T00:00:00Z`)),
        rate: sorted.map((r) => r.rate),
      });
    }
    if (!this.rates.has(doc.reference)) this.rates.set(doc.reference, { from: [0], rate: [1] });
  }

  get currencies(): string[] {
    return [...this.rates.keys()].sort();
  }

  /** Each currency's newest rate date (epoch ms), the reference's left out (its rate is 1 forever). */
  newestRates(): { currency: string; from: number }[] {
    return [...this.rates]
      .filter(([currency]) => currency !== this.reference)
      .map(([currency, r]) => ({ currency, from: r.from[r.from.length - 1]! }));
  }

  has(currency: string): boolean {
    return this.rates.has(currency);
  }

  /**
   * Units of `currency` per reference unit in force at `at` (epoch ms): the latest rate dated on or
   * before it; before a currency's first date, its first rate. Undefined for a currency not in the table.
   */
  rate(currency: string, at: number): number | undefined {
    const r = this.rates.get(currency);
    if (!r) return undefined;
    let i = r.from.length - 1;
    while (i > 0 && r.from[i]! > at) i--;
    return r.rate[i];
  }

  /** An amount in minor units of its currency, in major units of the reference currency. Throws UnknownRateError. */
  toReference(amountMinor: number, currency: string, at: number): number {
    const rate = this.rate(currency, at);
    if (rate === undefined) throw new UnknownRateError(currency, this.version);
    return amountMajor(amountMinor, currency) / rate;
  }

  /** The reverse, for simulators and tests: a reference amount in minor units of `currency`, rounded. */
  fromReference(amountReference: number, currency: string, at: number): number {
    const rate = this.rate(currency, at);
    if (rate === undefined) throw new UnknownRateError(currency, this.version);
    return Math.round(amountReference * rate * 10 ** currencyExponent(currency));
  }
}

const DAY_MS = 86_400_000;

/** A currency whose newest rate is older than the limit: `newest` its date, `ageDays` whole days since. */
export interface StaleRate {
  currency: string;
  newest: string;
  ageDays: number;
}

/**
 * How current the table is at `at` (epoch ms): the age in whole days of the oldest among the
 * currencies' newest rates (0 for a rate dated ahead, or a table of the reference alone), and the
 * currencies whose newest rate is more than `maxAgeDays` old, oldest first. The reference is left
 * out: its rate is 1 forever. RateTable.rate() keeps using a currency's newest rate however old it
 * is: this is what tells that the feed stopped.
 */
export function rateStaleness(
  table: RateTable,
  at: number,
  maxAgeDays: number,
): { oldestAgeDays: number; stale: StaleRate[] } {
  const aged = table.newestRates().map(({ currency, from }) => ({
    currency,
    newest: new Date(from).toISOString().slice(0, 10),
    ageDays: Math.max(0, Math.floor((at - from) / DAY_MS)),
  }));
  aged.sort((a, b) => b.ageDays - a.ageDays || (a.currency < b.currency ? -1 : 1));
  return { oldestAgeDays: aged[0]?.ageDays ?? 0, stale: aged.filter((a) => a.ageDays > maxAgeDays) };
}

/** Validates a parsed document (YAML or JSON) into a rate table; every problem is named with its path (and the source's, when given). */
export function parseRateTable(doc: unknown, source?: string): RateTable {
  const parsed = rateTableSchema.safeParse(doc);
  if (!parsed.success) throw new RateTableError(issueLines(parsed.error), source);
  return new RateTable(parsed.data);
}
