// A link to a console page followed without a session (a case link in a chat, a bookmark) is not
// lost: the sign-in form carries it and the sign-in returns to it. Only a path of this console's
// own pages: never another origin (//host, a scheme, a backslash a browser reads as a slash), never
// the sign-in or enrolment pages themselves.
import { containsCardNumber } from '../core/scrub.ts';
import { html, type Safe } from './html.ts';

const PAGE = /^\/console\/(?!login|enrol|logout|assets)[A-Za-z0-9._~/-]*(\?[A-Za-z0-9._~%&=+-]*)?$/;

/**
 * The console page to return to after sign-in, or undefined when `value` is not one (or is the
 * queue itself, where a sign-in lands anyway, or holds a card number: carried, it would go into the
 * redirect's Location, the sign-in page and the proxies' logs).
 */
export function returnPath(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 1000 || value === '/console/queue') return undefined;
  if (!PAGE.test(value) || value.includes('//') || value.includes('/../') || value.endsWith('/..')) return undefined;
  return containsCardNumber(value) ? undefined : value;
}

export const returnField = (path: string | undefined): Safe | '' =>
  path ? html`<input type="hidden" name="next" value="${path}" />` : '';
