// Small pieces several pages use: amounts, ages, case statuses, select boxes.
import { html, type Safe } from '../html.ts';

export const money = (amount: number, currency: string) => {
  try {
    const digits =
      new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    return new Intl.NumberFormat('en', { style: 'currency', currency }).format(amount / 10 ** digits);
  } catch {
    return `${amount} ${currency}`;
  }
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
