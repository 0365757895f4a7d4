// HTML by tagged template: every interpolated value is escaped as text unless it is a Safe
// fragment built by this same template. Merchant-supplied strings can therefore only ever become
// text, in element content and in quoted attribute values alike; and card numbers in them are
// masked (scrub.ts), whatever the row they come from holds.
import { scrubCardNumbers } from '../core/scrub.ts';

export class Safe {
  readonly html: string;
  constructor(html: string) {
    this.html = html;
  }
  toString(): string {
    return this.html;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
  '=': '&#61;',
};

/** Control characters other than tab and newline: they never reach the page. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

export function escapeHtml(value: unknown): string {
  return scrubCardNumbers(String(value))
    .replace(CONTROL, '\ufffd')
    .replace(/[&<>"'`=]/g, (c) => ESCAPES[c]!);
}

type Part = Safe | string | number | boolean | null | undefined | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof Safe) return part.html;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(part);
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Safe {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return new Safe(out);
}

/** Only for URLs we build: relative console paths, never a value from a request or a merchant. */
export function consoleHref(path: string, query?: Record<string, string | number | undefined>): string {
  if (!/^\/console(\/[A-Za-z0-9._~/-]*)?$/.test(path)) throw new Error('not a console path');
  const q = new URLSearchParams();
  // Values come from requests (a queue's filters): a card number typed in one is not echoed into a link or a Location.
  for (const [k, v] of Object.entries(query ?? {}))
    if (v !== undefined && v !== '') q.set(k, scrubCardNumbers(String(v)));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}
