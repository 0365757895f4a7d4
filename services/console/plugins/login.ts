// Sign-in and sign-out: password (scrypt) and TOTP, a per-address rate limit, a lockout per
// account and address for wrong passwords, a lockout per account (every address) for wrong codes
// given with the right password (over a rolling window that sign-ins do not reset; the owner is
// told at their next sign-in), one answer for every failure, everything audited. And enrolment:
// with the one-time code an admin was given, a user sets their own password and authenticator.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { z } from 'zod';
import { usernameSchema } from '../../cases/users.ts';
import { statusOf } from '../../core/errors.ts';
import {
  dummyHash,
  generateTotpSecret,
  hashPassword,
  otpauthUri,
  passwordProblem,
  verifyPassword,
  verifyTotp,
} from '../credentials.ts';
import { addressKey } from '../../auth/client-address.ts';
import {
  clearCookie,
  cookieNames,
  LoginRateLimiter,
  loginFormToken,
  newToken,
  readCookie,
  sameToken,
  setCookie,
  tokenHash,
  type LoginLimiter,
} from '../session.ts';
import { html } from '../html.ts';
import { draftHiddenFields, draftLoginNotice, draftOfLoginForm, type DecisionDraft } from '../resume.ts';
import { returnField, returnPath } from '../return-to.ts';
import { enrolFinishPage, enrolStartPage } from '../views/account.ts';
import { loginPage } from '../views/layout.ts';
import { caseSystem, CONTROL, recordWrongCode, sendPage, type ConsoleOptions } from './shared.ts';

// A username with control characters names nobody (usernames are letters, digits and . _ -): it
// fails like any unknown name, and is recorded with the characters replaced so that the audit log can hold it.
const loginBody = z.object({
  username: z
    .string()
    .max(200)
    .default('')
    .transform((v) => v.replace(new RegExp(CONTROL.source, 'g'), '\ufffd')),
  password: z.string().max(200).default(''),
  code: z.string().max(20).default(''),
  _csrf: z.string().max(200).optional(),
});

const enrolBody = z.object({
  _csrf: z.string().max(200).optional(),
  username: z.string().max(200).default(''),
  enrolmentCode: z.string().max(200).default(''),
  // Step 2 only: the secret its page made, the code confirming it, the chosen password twice.
  totpSecret: z.string().max(200).optional(),
  code: z.string().max(20).optional(),
  password: z.string().max(2000).optional(),
  password2: z.string().max(2000).optional(),
});

const RATE_WINDOW_MS = 60_000;

/** The idle timeout as people say it: "15 minutes", "45 seconds", "2 hours". */
export function idleWords(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  const [n, unit] =
    seconds % 3600 === 0
      ? [seconds / 3600, 'hour']
      : seconds % 60 === 0
        ? [seconds / 60, 'minute']
        : [seconds, 'second'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

export async function loginRoutes(app: FastifyInstance, o: ConsoleOptions): Promise<void> {
  const now = o.now ?? Date.now;
  const names = cookieNames(o.secureCookies);
  const limiter: LoginLimiter = o.loginLimiter ?? new LoginRateLimiter(o.loginRatePerMinute, RATE_WINDOW_MS);

  // Refused (rate-limited) sign-ins are counted, not audited one by one: an unauthenticated flood
  // would otherwise be a flood of writes under the audit log's lock. One summary per window at
  // most, written when the window that saw the first refusal ends (or when the console stops).
  let summaryTimer: NodeJS.Timeout | undefined;
  let summaryFrom = '';
  const writeRefusalSummary = async () => {
    summaryTimer = undefined;
    const summary = limiter.takeRefusals();
    const s = o.system();
    if (!summary || !s) return;
    await s.audit
      .append({
        actor: 'anonymous',
        action: 'login_rate_limited',
        target: 'login',
        detail: { ...summary, from: summaryFrom, to: new Date(now()).toISOString() },
      })
      .catch((error: unknown) => app.log.warn({ err: error }, 'login rate-limit summary not audited'));
  };
  const refusalCounted = () => {
    if (summaryTimer) return;
    summaryFrom = new Date(now()).toISOString();
    summaryTimer = setTimeout(() => void writeRefusalSummary(), RATE_WINDOW_MS);
    summaryTimer.unref();
  };
  app.addHook('onClose', async () => {
    if (!summaryTimer) return;
    clearTimeout(summaryTimer);
    await writeRefusalSummary();
  });

  const showLogin = (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    message?: string,
    notice?: string,
    draft?: DecisionDraft,
    next?: string,
  ) =>
    sendPage(
      reply,
      status,
      'Sign in',
      loginPage(
        loginFormToken(request, reply, names, o.secureCookies),
        message,
        notice,
        html`${draft ? draftHiddenFields(draft) : ''}${returnField(next)}`,
      ),
    );

  app.get('/login', async (request, reply) => {
    const expired = (request.query as Record<string, unknown>)?.expired;
    return showLogin(
      request,
      reply,
      200,
      undefined,
      expired === '1'
        ? `Your session expired after ${idleWords(o.idleMs)} without activity. Sign in again.`
        : expired === 'max_age'
          ? `Your session ended: a session lasts at most ${idleWords(o.sessionMaxMs)} after sign-in. Sign in again.`
          : (request.query as Record<string, unknown>)?.enrolled === '1'
            ? 'Your password and authenticator are set. Sign in with them once your authenticator shows its next code.'
            : (request.query as Record<string, unknown>)?.changed === '1'
              ? 'Your password is changed and your sessions have ended. Sign in with the new password once your authenticator shows its next code.'
              : undefined,
      undefined,
      // The page a link asked for, carried by the form to the sign-in (return-to.ts).
      returnPath((request.query as Record<string, unknown>)?.next),
    );
  });

  // --- Enrolment: no session; the sign-in form's double-submit token and rate limit ------------

  const formToken = (request: FastifyRequest, reply: FastifyReply) =>
    loginFormToken(request, reply, names, o.secureCookies);
  const showEnrolStart = (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    username?: string,
    message?: string,
  ) => sendPage(reply, status, 'Set up your account', enrolStartPage(formToken(request, reply), username, message));
  const showEnrolFinish = async (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    v: { username: string; enrolmentCode: string; totpSecret: string },
    message?: string,
  ) => {
    const qrSvg = await QRCode.toString(otpauthUri(v.totpSecret, v.username), {
      type: 'svg',
      errorCorrectionLevel: 'M',
      margin: 2,
    });
    return sendPage(
      reply,
      status,
      'Set up your account',
      enrolFinishPage(formToken(request, reply), { ...v, qrSvg }, message),
    );
  };

  app.get('/enrol', async (request, reply) => {
    const asked = usernameSchema.safeParse((request.query as Record<string, unknown>)?.username);
    return showEnrolStart(request, reply, 200, asked.success ? asked.data : undefined);
  });

  app.post('/enrol', async (request, reply) => {
    const s = caseSystem(o, reply);
    if (!s) return reply;
    const body = enrolBody.safeParse(request.body ?? {});
    if (!body.success || !sameToken(body.data._csrf, readCookie(request, names.prelogin)))
      return showEnrolStart(request, reply, statusOf('FORBIDDEN'), undefined, 'The form expired. Try again.');
    const ip = request.ip;
    if (!(await limiter.allow(addressKey(ip), now()))) {
      refusalCounted();
      reply.header('retry-after', '60');
      return showEnrolStart(
        request,
        reply,
        statusOf('RATE_LIMITED'),
        undefined,
        'Too many attempts from your address. Wait a minute.',
      );
    }
    const username = body.data.username.trim().toLowerCase().slice(0, 64);
    const wellFormed = usernameSchema.safeParse(username).success;
    const user = wellFormed ? await s.users.find(username) : undefined;
    const enrolmentCode = body.data.enrolmentCode.trim();
    const presented = tokenHash(enrolmentCode);
    const target = wellFormed ? `user:${username}` : 'user:(not a valid username)';
    const refused = async (reason: string) => {
      await s.audit.append({
        actor: user?.username ?? 'anonymous',
        action: 'user_enrol_failed',
        target,
        detail: { reason, ip },
      });
      return showEnrolStart(
        request,
        reply,
        statusOf('UNAUTHENTICATED'),
        wellFormed ? username : undefined,
        'Unknown, used or expired enrolment code. Ask an admin for a new one.',
      );
    };
    // The code has about 135 bits, and attempts are rate-limited per address: not guessed.
    const reason = !user
      ? 'unknown_user'
      : user.disabled
        ? 'disabled'
        : !user.enrolmentHash || !sameToken(presented, user.enrolmentHash)
          ? 'bad_code'
          : !user.enrolmentExpiresAt
            ? 'expired'
            : undefined;
    if (reason) return refused(reason);
    const secret = body.data.totpSecret ?? '';
    // Step 1 (the code alone), or a secret that is not one this page makes: a fresh secret to enrol.
    if (body.data.password === undefined || !/^[A-Z2-7]{32}$/.test(secret))
      return showEnrolFinish(request, reply, 200, { username, enrolmentCode, totpSecret: generateTotpSecret() });
    const again = { username, enrolmentCode, totpSecret: secret };
    const password = body.data.password;
    const problem = passwordProblem(password, username);
    if (problem)
      return showEnrolFinish(request, reply, statusOf('VALIDATION_FAILED'), again, `The password ${problem}.`);
    if (password !== body.data.password2)
      return showEnrolFinish(request, reply, statusOf('VALIDATION_FAILED'), again, 'The two passwords differ.');
    const step = verifyTotp(secret, (body.data.code ?? '').trim(), now());
    if (step === null)
      return showEnrolFinish(
        request,
        reply,
        statusOf('VALIDATION_FAILED'),
        again,
        'Wrong authenticator code: scan the code again (or type the secret) and enter the code it shows now.',
      );
    const done = await s.users.completeEnrolment(username, presented, {
      passwordHash: await hashPassword(password, o.scrypt),
      totpSecret: secret,
      totpStep: step,
    });
    // Used meanwhile (another tab), replaced by a new code, expired or disabled since it was read.
    if (!done) return refused('used');
    await s.audit.append({ actor: username, action: 'user_enrol', target: `user:${username}`, detail: { ip } });
    return reply.redirect('/console/login?enrolled=1', 303);
  });

  app.post('/login', async (request, reply) => {
    const s = caseSystem(o, reply);
    if (!s) return reply;
    const body = loginBody.safeParse(request.body ?? {});
    if (!body.success || !sameToken(body.data._csrf, readCookie(request, names.prelogin)))
      return showLogin(request, reply, statusOf('FORBIDDEN'), 'The sign-in form expired. Try again.');
    // A decision kept from an expired session rides along every answer of the form until a sign-in
    // keeps it (a mistyped code must not lose it); only with the form's own token, checked above.
    const draft = draftOfLoginForm(request.body);
    // The page a link asked for rides along too (return-to.ts): a same-origin console path only.
    const next = returnPath((request.body as Record<string, unknown> | undefined)?.next);
    const answerLogin = (status: number, message: string) =>
      showLogin(request, reply, status, message, draft && draftLoginNotice(draft), draft, next);
    // request.ip: the forwarded client only behind a proxy named in LEAKGUARD_TRUST_PROXY.
    const ip = request.ip;
    // Limits and locks count an IPv6 client by its /64.
    const address = addressKey(ip);
    // One answer for every failure: a locked account must not tell itself apart from an unknown username.
    const GENERIC = `Wrong username, password or code. After ${o.maxAttempts} failed attempts an account is locked for ${Math.round(o.lockoutMs / 60_000)} minutes from that address (after ${o.maxAttempts} wrong codes, from every address): ask an admin to unlock it.`;
    if (!(await limiter.allow(address, now()))) {
      refusalCounted();
      reply.header('retry-after', '60');
      return answerLogin(statusOf('RATE_LIMITED'), 'Too many sign-in attempts from your address. Wait a minute.');
    }
    const username = body.data.username.trim().toLowerCase().slice(0, 64);
    const wellFormed = usernameSchema.safeParse(username).success;
    const user = wellFormed ? await s.users.find(username) : undefined;
    // What cannot be a username is not written down: it may be a password typed one field early,
    // or a card number in a form the scrubber does not know.
    const target = wellFormed ? `user:${username}` : 'user:(not a valid username)';
    const failed = async (reason: string, count: boolean) => {
      let locked = false;
      if (count && user)
        locked = (await s.users.recordFailure(user.username, address, o.maxAttempts, o.lockoutMs)).locked;
      await s.audit.append({
        actor: user?.username ?? 'anonymous',
        action: 'login_failed',
        target,
        detail: { reason, ip, ...(locked ? { locked: true } : {}) },
      });
      return answerLogin(statusOf('UNAUTHENTICATED'), GENERIC);
    };
    if (!user) {
      await verifyPassword(body.data.password, await dummyHash(o.scrypt));
      return failed('unknown_user', false);
    }
    // Created or reset and not enrolled yet: no password and no code signs in, whatever is typed.
    if (user.enrolmentPending) {
      await verifyPassword(body.data.password, await dummyHash(o.scrypt));
      return failed('enrolment_pending', false);
    }
    // Locked for this address only: failures elsewhere cannot lock the account's holder out.
    const lockedUntil = await s.users.loginLock(user.username, address);
    if (lockedUntil && Date.parse(lockedUntil) > now()) {
      await verifyPassword(body.data.password, await dummyHash(o.scrypt));
      await s.audit.append({
        actor: user.username,
        action: 'login_failed',
        target,
        detail: { reason: 'locked', ip },
      });
      return answerLogin(statusOf('UNAUTHENTICATED'), GENERIC);
    }
    const passwordOk = await verifyPassword(body.data.password, user.passwordHash);
    if (!passwordOk) return failed('bad_password', true);
    if (user.disabled) return failed('disabled', false);
    // The password is right: from here on wrong codes are counted for the account across every
    // address too, or a stolen password spread over many addresses would get unbounded code guesses.
    // While the second factor is locked no code is even checked (a right one included).
    if (user.codeLockedUntil && Date.parse(user.codeLockedUntil) > now()) return failed('code_locked', false);
    const wrongCode = async (reason: string) => {
      await recordWrongCode(o, s, user.username, ip);
      return failed(reason, true);
    };
    const step = verifyTotp(user.totpSecret, body.data.code.trim(), now());
    if (step === null) return wrongCode('bad_code');
    const recorded = await s.users.recordSuccess(user.username, step, address);
    // Locked by the wrong codes of a burst that read the account unlocked: no code gets through.
    if (recorded === 'locked') return failed('code_locked', false);
    if (recorded === 'reused') return wrongCode('code_reused');
    // Wrong codes given with this password since the owner last signed in: told to them (their
    // session's pages say so) and written down, since only they know whether those were theirs.
    const wrongCodes = await s.users.takeUnreportedCodeFailures(user.username);
    // Whatever session this browser presented ends here, server-side: a sign-in never continues a
    // session it did not create (fixation), nor leaves a previous user's open behind it.
    const presented = readCookie(request, names.session);
    if (presented) await s.users.deleteSession(tokenHash(presented));
    const token = newToken();
    const csrf = newToken();
    const created = await s.users.createSession(tokenHash(token), user.username, csrf, {
      wrongCodesBefore: wrongCodes,
      ...(draft ? { draft: { ...draft } } : {}),
      // Reset, re-secured or disabled while this sign-in was checked: no session outlives that.
      passwordHash: user.passwordHash,
    });
    if (!created) return failed('credentials_changed', false);
    await s.audit.append({
      actor: user.username,
      action: 'login',
      target: `user:${user.username}`,
      detail: { ip, ...(wrongCodes > 0 ? { wrongCodesSinceLastSignIn: wrongCodes } : {}) },
    });
    clearCookie(reply, names.prelogin, o.secureCookies);
    setCookie(reply, names.session, token, o.secureCookies);
    // Back to the case whose decision the expired session lost: filled in there, not applied.
    // Else to the page a link asked for before the sign-in, or the queue.
    return reply.redirect(draft ? `/console/cases/${draft.caseId}?resumed=1` : (next ?? '/console/queue'), 303);
  });

  app.post('/logout', { preHandler: app.requireConsoleRole('analyst') }, async (request, reply) => {
    const s = o.system()!;
    await s.users.deleteSession(tokenHash(request.consoleToken!));
    await s.audit.append({
      actor: request.consoleSession!.username,
      action: 'logout',
      target: `user:${request.consoleSession!.username}`,
    });
    clearCookie(reply, names.session, o.secureCookies);
    return showLogin(request, reply, 200, undefined, 'You are signed out.');
  });
}
