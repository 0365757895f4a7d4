// Small pieces several pages use: amounts, ages, case statuses, select boxes.
import { currencyExponent } from '../../core/currency.ts';
import { html, type Safe } from '../html.ts';

/**
 * An amount in minor units as its major amount, with as many decimals as the engine's ISO 4217
 * exponent says (HUF 4500000 is HUF 45,000.00): never the browser locale's own idea of the
 * currency's fraction digits, which differs for HUF, IDR, COP, IQD, ...
 */
export const money = (amount: number, currency: string) => {
  let digits: number;
  try {
    digits = currencyExponent(currency);
  } catch {
    return `${amount} ${currency}`;
  }
  const major = amount / 10 ** digits;
  return new Intl.NumberFormat('en', {
    style: 'currency',
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(major);
};

export const age = (iso: string, now = Date.now()) => {
  const m = Math.max(0, Math.round((now - Date.parse(iso)) / 60_000));
  return m < 60 ? `${m} min` : m < 2880 ? `${Math.round(m / 60)} h` : `${Math.round(m / 1440)} d`;
};

export const status = (s: string) => html`<span class="status status-${s}">${s.replace('_', ' ')}</span>`;

export function select(name: string, options: readonly string[], current: string | undefined, blank?: string): Safe {
  return html`<select name="${name}" id="f-${name}">
    ${blank !== undefined ? html`<option value="">${blank}</option>` : ''}${options.map((o) => html`<option value="${o}" ${o === current ? html` selected` : ''}>${o}</option>`)}
  </select>`;
}
