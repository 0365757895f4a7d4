// What the console's plugins share: their options, the page helpers (every answer is a whole
// HTML page) and the free-text rules of its forms.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CaseSystem } from '../../case-system.ts';
import type { SessionView } from '../../cases/users.ts';
import { statusOf, type ErrorCode } from '../../core/errors.ts';
import type { FrictionShare } from '../../core/friction.ts';
import type { CompromiseEvent, WatchlistStore } from '../../core/watchlist.ts';
import type { Metrics } from '../../metrics.ts';
import type { ScryptParams } from '../credentials.ts';
import type { LoginLimiter } from '../session.ts';
import type { Safe } from '../html.ts';
import { errorPage, page } from '../views/layout.ts';

export interface ConsoleOptions {
  /** The case system, once its database is open; the console answers 503 until then. */
  system: () => CaseSystem | undefined;
  watchlist: WatchlistStore;
  /** A compromise event changed here (a breach reviewed): this engine's scoring sees it at once. */
  eventChanged?: (event: CompromiseEvent) => void;
  /** Friction spent per merchant (challenged, reviewed, declined shares over 24 h) against its budget. */
  friction?: () => FrictionShare[];
  idleMs: number;
  /** A session's absolute lifetime from sign-in, however active it is. */
  sessionMaxMs: number;
  maxAttempts: number;
  lockoutMs: number;
  loginRatePerMinute: number;
  /** Counts sign-in attempts per address: shared through Redis when there is one (options.ts); else in this process. */
  loginLimiter?: LoginLimiter;
  secureCookies: boolean;
  scrypt: ScryptParams;
  allowListMaxDays: number;
  /** The rate table's reference currency in force: what a case's amount_ref (and the reasons quoting it) is in. */
  referenceCurrency: () => string;
  /** Where a second factor locked for an account is counted. */
  metrics?: Pick<Metrics, 'secondFactorLocks'>;
  now?: () => number;
}

/** A whole page with its status. */
export const sendPage = (
  reply: FastifyReply,
  status: number,
  title: string,
  body: Safe,
  session?: SessionView | null,
): FastifyReply =>
  reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(page(title, body, session ?? undefined));

/** The error page, with a status the error mapping decided (services/http/errors.ts). */
export const showError = (request: FastifyRequest, reply: FastifyReply, status: number, message: string) =>
  sendPage(reply, status, 'Error', errorPage(status, message), request.consoleSession);

/** A refusal of the console's own: the error page, answered with its code's status. */
export const refuse = (request: FastifyRequest, reply: FastifyReply, code: ErrorCode, message: string) =>
  showError(request, reply, statusOf(code), message);

/**
 * A wrong (or replayed) authenticator code given with the right password, wherever it is asked
 * for (the sign-in, the password change): counted towards the account's second-factor lock, and
 * the failure that starts the lock writes its `login_second_factor_locked` audit entry and counts
 * `leakguard_console_second_factor_locks_total` (docs/console.md). `via`: the page, when not the sign-in.
 */
export async function recordWrongCode(
  o: ConsoleOptions,
  s: CaseSystem,
  username: string,
  ip: string,
  via?: 'password_change',
): Promise<void> {
  const c = await s.users.recordCodeFailure(username, o.maxAttempts, o.lockoutMs);
  if (!c.lockedNow) return;
  o.metrics?.secondFactorLocks.inc();
  await s.audit.append({
    actor: 'system:login',
    action: 'login_second_factor_locked',
    target: `user:${username}`,
    detail: { wrongCodes: c.attempts, until: c.lockedUntil, ip, ...(via ? { via } : {}) },
  });
}

/** The notice a page shows after an action (`?done=<key>`): only the page's own keys, never a prototype's. */
export function doneNotice(notices: ReadonlyMap<string, string>, query: unknown): string | undefined {
  const done = (query as Record<string, unknown> | undefined)?.done;
  return typeof done === 'string' ? notices.get(done) : undefined;
}

/** The case system; until its database is open, answers 503 (and returns undefined). */
export function caseSystem(o: ConsoleOptions, reply: FastifyReply): CaseSystem | undefined {
  const s = o.system();
  if (!s) {
    const status = statusOf('UNAVAILABLE');
    void reply
      .code(status)
      .header('retry-after', '5')
      .type('text/html; charset=utf-8')
      .send(page('Starting', errorPage(status, 'The case database is not available yet. Try again shortly.')));
  }
  return s;
}

/**
 * Control characters (but tab and line breaks) in free text: PostgreSQL refuses a NUL, and no analyst types the others.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * Free text a form sent and freeText refused (a control character pasted in, too long), made fit
 * to hand back in its box: line breaks as the box counts them, control characters dropped, the
 * first `max` characters. Not a string: empty. Mask card numbers before echoing or keeping it.
 */
export const keptText = (raw: unknown, max: number): string =>
  typeof raw === 'string'
    ? raw.replaceAll('\r\n', '\n').replace(new RegExp(CONTROL.source, 'g'), '').trim().slice(0, max).trim()
    : '';

export const freeText = (max: number) =>
  z
    .string()
    // A browser counts a line break as one character and submits it as two (CRLF): the length the
    // textarea allowed is the length checked.
    .transform((v) => v.replaceAll('\r\n', '\n'))
    .pipe(z.string().trim().max(max))
    .refine((v) => !CONTROL.test(v), 'must not contain control characters');
