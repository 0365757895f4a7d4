// Currencies of the breach scenario: merchants and cardholders live in currency regions, bands of
// the x coordinate sized by the currencies' shares (JPY on [0, 60), EUR on [60, 85), ... by
// default), so that a customer and the terminals in its reach (distance < r) mostly share one.
// Amounts are drawn in euros, as the handbook does, and converted at the rate in force on the
// transaction's date (the engine's rate table), rounded to the currency's ISO 4217 minor unit.
import { isCurrencyCode, type RateTable } from '../../services/core/currency.ts';
import { LeakguardError } from '../../services/core/errors.ts';

export interface CurrencyShare {
  /** ISO 4217 code, upper case. */
  currency: string;
  /** Share of the x axis (hence, about, of merchants, cardholders and transactions); the shares add up to 1. */
  share: number;
}

/** Yen-heavy, as in the 2021–22 Japanese breach. */
export const DEFAULT_CURRENCIES: readonly CurrencyShare[] = [
  { currency: 'JPY', share: 0.6 },
  { currency: 'EUR', share: 0.25 },
  { currency: 'USD', share: 0.1 },
  { currency: 'KWD', share: 0.05 },
];

export const formatCurrencies = (c: readonly CurrencyShare[]): string =>
  c.map((x) => `${x.currency}:${x.share}`).join(',');

export class CurrencySpecError extends LeakguardError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/**
 * Parses `CODE:SHARE,CODE:SHARE,...` (or `CODE` alone for a single currency; `CODE,CODE` for equal
 * shares). Every code must be ISO 4217 money and, when a table is given, have a rate in it; shares
 * are numbers in (0, 1] adding up to 1 (±0.001, then normalised). Throws CurrencySpecError naming the bad part.
 */
export function parseCurrencies(spec: string, rates?: RateTable): CurrencyShare[] {
  const parts = spec.split(',').map((p) => p.trim());
  const out: { currency: string; share: number | undefined }[] = [];
  parts.forEach((part, i) => {
    if (part === '') throw new CurrencySpecError(`part ${i + 1} of '${spec}' is empty`);
    const m = /^([A-Za-z]{3})(?::(.*))?$/.exec(part);
    if (!m) throw new CurrencySpecError(`'${part}': expected CODE or CODE:SHARE (e.g. JPY:0.6)`);
    const currency = m[1]!.toUpperCase();
    if (!isCurrencyCode(currency))
      throw new CurrencySpecError(`'${part}': ${currency} is not an ISO 4217 currency code`);
    if (rates && !rates.has(currency))
      throw new CurrencySpecError(`'${part}': the rate table ${rates.version} has no rate for ${currency}`);
    if (out.some((o) => o.currency === currency)) throw new CurrencySpecError(`'${part}': ${currency} is given twice`);
    let share: number | undefined;
    if (m[2] !== undefined) {
      share = Number(m[2]);
      if (m[2].trim() === '' || !Number.isFinite(share) || share <= 0 || share > 1)
        throw new CurrencySpecError(`'${part}': the share must be a number in (0, 1]`);
    }
    out.push({ currency, share });
  });
  const given = out.filter((o) => o.share !== undefined).length;
  if (given === 0) return out.map((o) => ({ currency: o.currency, share: 1 / out.length }));
  if (given < out.length) {
    const bare = out.find((o) => o.share === undefined)!;
    throw new CurrencySpecError(`'${bare.currency}': give a share for every currency or for none`);
  }
  const sum = out.reduce((s, o) => s + o.share!, 0);
  if (Math.abs(sum - 1) > 0.001)
    throw new CurrencySpecError(`the shares of '${spec}' add up to ${+sum.toFixed(6)}, not 1`);
  return out.map((o) => ({ currency: o.currency, share: o.share! / sum }));
}

/** Currency regions: consecutive bands of x in [0, 100), one per currency, as wide as its share. */
export class CurrencyRegions {
  readonly codes: readonly string[];
  /** Upper x bound of each band (the last one is 100). */
  private readonly upper: Float64Array;

  constructor(currencies: readonly CurrencyShare[]) {
    if (currencies.length === 0) throw new CurrencySpecError('no currency');
    this.codes = currencies.map((c) => c.currency);
    this.upper = new Float64Array(currencies.length);
    let cum = 0;
    currencies.forEach((c, i) => {
      cum += c.share;
      this.upper[i] = i === currencies.length - 1 ? Infinity : cum * 100;
    });
  }

  /** Index into `codes` of the band holding x. */
  indexAt(x: number): number {
    let i = 0;
    while (x >= this.upper[i]!) i++;
    return i;
  }
}
