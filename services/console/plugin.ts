// The analyst console under /console: server-rendered HTML (no script at all), one stylesheet
// from a fixed in-memory set, strict CSP. Sessions in HttpOnly SameSite=Strict cookies with a
// 15-minute idle timeout; a CSRF token on every state-changing request; password (scrypt) and
// TOTP login with rate limiting and lockout; roles analyst < lead < admin; everything audited.
import type { FrictionShare } from '../core/friction.ts';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { z } from 'zod';
import { AUDIT_ACTIONS, type AuditInput } from '../cases/audit.ts';
import {
  CASE_ACTIONS,
  CaseConflict,
  CaseForbidden,
  CaseNotFound,
  caseQuerySchema,
  OPEN_STATUSES,
  type CaseRecord,
} from '../cases/model.ts';
import { personalView } from '../cases/personal-data.ts';
import type { CaseSystem } from '../case-system.ts';
import { eventSeqOf, type CompromiseEvent, type WatchlistStore } from '../core/watchlist.ts';
import { ASSETS } from './assets.ts';
import {
  dummyHash,
  generatePassword,
  generateTotpSecret,
  hashPassword,
  otpauthUri,
  verifyPassword,
  verifyTotp,
  type ScryptParams,
} from './credentials.ts';
import { atLeast, CONSOLE_ROLES, usernameSchema, UserExists, type ConsoleRole, type SessionView } from '../cases/users.ts';
import {
  addressKey,
  clearCookie,
  cookieNames,
  LoginRateLimiter,
  newToken,
  type LoginLimiter,
  readCookie,
  sameToken,
  setCookie,
  tokenHash,
} from './session.ts';
import { auditPage, casePage, dashboardPage, errorPage, loginPage, page, queuePage, usersPage } from './views.ts';

export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

export interface ConsoleOptions {
  /** The case system, once its database is open; the console answers 503 until then. */
  system: () => CaseSystem | undefined;
  watchlist: WatchlistStore;
  /** Friction spent per merchant (challenged, reviewed, declined shares over 24 h) against its budget. */
  friction?: () => FrictionShare[];
  idleMs: number;
  maxAttempts: number;
  lockoutMs: number;
  loginRatePerMinute: number;
  /** Counts sign-in attempts per address: shared through Redis when there is one (options.ts); else in this process. */
  loginLimiter?: LoginLimiter;
  secureCookies: boolean;
  scrypt: ScryptParams;
  allowListMaxDays: number;
  now?: () => number;
}

declare module 'fastify' {
  interface FastifyRequest {
    consoleSession: SessionView | null;
    consoleToken: string | null;
  }
}

const idParam = z.object({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/)
    .transform(Number),
});
const userParam = z.object({ username: usernameSchema });
const csrfField = z.object({ _csrf: z.string().max(200).optional() }).passthrough();
/** Control characters (but tab and line breaks) in free text: PostgreSQL refuses a NUL, and no analyst types the others. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const freeText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .refine((v) => !CONTROL.test(v), 'must not contain control characters');
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
const decisionBody = z.object({
  action: z.enum(CASE_ACTIONS),
  note: freeText(4000).optional(),
  allowListDays: z.coerce.number().int().min(0).max(365).default(0),
});
const noteBody = z.object({ text: freeText(4000).refine((v) => v.length > 0, 'is empty') });
const createUserBody = z.object({ username: usernameSchema, role: z.enum(CONSOLE_ROLES) });
const updateUserBody = z.object({
  op: z.enum(['role', 'disable', 'enable', 'unlock', 'reset']),
  role: z.enum(CONSOLE_ROLES).optional(),
});
const auditQuery = z.object({
  before: z.coerce.number().int().min(1).optional(),
  action: z.preprocess((v) => (v === '' ? undefined : v), z.enum(AUDIT_ACTIONS).optional()),
  actor: z
    .string()
    .trim()
    .max(128)
    .regex(/^[^\u0000-\u001f\u007f]*$/)
    .optional()
    .transform((v) => v || undefined),
  verify: z.literal('1').optional(),
});

export async function consolePlugin(app: FastifyInstance, o: ConsoleOptions): Promise<void> {
  const now = o.now ?? Date.now;
  const names = cookieNames(o.secureCookies);
  const RATE_WINDOW_MS = 60_000;
  const limiter: LoginLimiter = o.loginLimiter ?? new LoginRateLimiter(o.loginRatePerMinute, RATE_WINDOW_MS);
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  app.decorateRequest('consoleSession', null);
  app.decorateRequest('consoleToken', null);

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-security-policy', CONSOLE_CSP);
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('cross-origin-resource-policy', 'same-origin');
    reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=()');
    reply.header('cache-control', 'no-store');
    return payload;
  });

  const send = (
    reply: FastifyReply,
    status: number,
    title: string,
    body: ReturnType<typeof errorPage>,
    session?: SessionView | null,
  ) =>
    reply
      .code(status)
      .type('text/html; charset=utf-8')
      .send(page(title, body, session ?? undefined));
  const fail = (request: FastifyRequest, reply: FastifyReply, status: number, message: string) =>
    send(reply, status, 'Error', errorPage(status, message), request.consoleSession);

  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, request, reply) => {
    if (error instanceof z.ZodError) {
      const issues = (error as z.ZodError).issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
      return fail(request, reply, 400, `Invalid request: ${issues}`);
    }
    if (error instanceof CaseNotFound) return fail(request, reply, 404, 'No such case.');
    if (error instanceof CaseConflict) return fail(request, reply, 409, error.message);
    if (error instanceof CaseForbidden) return fail(request, reply, 403, 'Escalated cases are decided by a lead.');
    if (error.statusCode === 413) return fail(request, reply, 413, 'Request too large.');
    if (error.statusCode === 415) return fail(request, reply, 415, 'Unsupported content type.');
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500)
      return fail(request, reply, error.statusCode, 'Bad request.');
    request.log.error({ err: { message: error.message, code: error.code } }, 'console error');
    return fail(request, reply, 500, 'Internal error.');
  });
  app.setNotFoundHandler((request, reply) => fail(request, reply, 404, 'No such page.'));

  const system = (reply: FastifyReply): CaseSystem | undefined => {
    const s = o.system();
    if (!s)
      void reply
        .code(503)
        .header('retry-after', '5')
        .type('text/html; charset=utf-8')
        .send(page('Starting', errorPage(503, 'The case database is not available yet. Try again shortly.')));
    return s;
  };
  const audit = (s: CaseSystem, entry: AuditInput) => s.audit.append(entry);
  // request.ip: the forwarded client only behind a proxy named in LEAKGUARD_TRUST_PROXY.
  const clientAddress = (request: FastifyRequest) => request.ip;

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
    await audit(s, {
      actor: 'anonymous',
      action: 'login_rate_limited',
      target: 'login',
      detail: { ...summary, from: summaryFrom, to: new Date(now()).toISOString() },
    }).catch((error: unknown) =>
      app.log.warn({ err: { message: (error as Error).message } }, 'login rate-limit summary not audited'),
    );
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

  /** Authenticates the session cookie; pages redirect to login, other methods get 401. */
  const requireRole = (role: ConsoleRole) => async (request: FastifyRequest, reply: FastifyReply) => {
    const s = system(reply);
    if (!s) return reply;
    const token = readCookie(request, names.session);
    const session = token ? await s.users.touchSession(tokenHash(token), o.idleMs) : undefined;
    if (!session || session === 'expired') {
      if (session === 'expired')
        await audit(s, {
          actor: 'console',
          action: 'session_expired',
          target: 'session',
          detail: { ip: clientAddress(request) },
        });
      clearCookie(reply, names.session, o.secureCookies);
      if (request.method === 'GET')
        return reply.redirect(session === 'expired' ? '/console/login?expired=1' : '/console/login', 303);
      return send(
        reply,
        401,
        'Sign in',
        errorPage(401, session === 'expired' ? 'Your session expired. Sign in again.' : 'Sign in first.'),
      );
    }
    request.consoleSession = session;
    request.consoleToken = token!;
    if (!atLeast(session.role, role)) return fail(request, reply, 403, `This page needs the ${role} role.`);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const body = csrfField.safeParse(request.body ?? {});
      const presented =
        (body.success ? body.data._csrf : undefined) ?? (request.headers['x-csrf-token'] as string | undefined);
      if (!sameToken(presented, session.csrfToken)) return fail(request, reply, 403, 'Missing or invalid CSRF token.');
      // Defence in depth: a cross-site form post carries a foreign Origin.
      const origin = request.headers.origin;
      if (origin && origin !== 'null') {
        const host = URL.canParse(origin) ? new URL(origin).host : undefined;
        if (host === undefined || host === '') return fail(request, reply, 403, 'Malformed Origin header: refused.');
        if (host !== request.headers.host) return fail(request, reply, 403, 'Cross-origin request refused.');
      }
    }
  };

  app.get('/assets/:name', async (request, reply) => {
    const { name } = z.object({ name: z.string().max(64) }).parse(request.params);
    const asset = ASSETS.get(name);
    if (!asset) return fail(request, reply, 404, 'No such asset.');
    return reply.type(asset.type).header('etag', asset.etag).send(asset.body);
  });

  app.get('/', async (_request, reply) => reply.redirect('/console/queue', 303));

  // --- Login and logout ------------------------------------------------------------------------

  const showLogin = (reply: FastifyReply, status: number, message?: string, notice?: string) => {
    const csrf = newToken();
    setCookie(reply, names.prelogin, csrf, o.secureCookies, 3600);
    return send(reply, status, 'Sign in', loginPage(csrf, message, notice));
  };

  app.get('/login', async (request, reply) => {
    const expired = (request.query as Record<string, unknown>)?.expired === '1';
    return showLogin(
      reply,
      200,
      undefined,
      expired ? 'Your session expired after 15 minutes without activity. Sign in again.' : undefined,
    );
  });

  app.post('/login', async (request, reply) => {
    const s = system(reply);
    if (!s) return reply;
    const body = loginBody.safeParse(request.body ?? {});
    if (!body.success || !sameToken(body.data._csrf, readCookie(request, names.prelogin)))
      return showLogin(reply, 403, 'The sign-in form expired. Try again.');
    const ip = clientAddress(request);
    // Limits and locks count an IPv6 client by its /64.
    const address = addressKey(ip);
    // One answer for every failure: a locked account must not tell itself apart from an unknown username.
    const GENERIC = `Wrong username, password or code. After ${o.maxAttempts} failed attempts an account is locked for ${Math.round(o.lockoutMs / 60_000)} minutes from that address: ask an admin to unlock it.`;
    if (!(await limiter.allow(address, now()))) {
      refusalCounted();
      reply.header('retry-after', '60');
      return showLogin(reply, 429, 'Too many sign-in attempts from your address. Wait a minute.');
    }
    const username = body.data.username.trim().toLowerCase().slice(0, 64);
    const user = usernameSchema.safeParse(username).success ? await s.users.find(username) : undefined;
    const failed = async (reason: string, count: boolean) => {
      let locked = false;
      if (count && user)
        locked = (await s.users.recordFailure(user.username, address, o.maxAttempts, o.lockoutMs)).locked;
      await audit(s, {
        actor: user?.username ?? 'anonymous',
        action: 'login_failed',
        target: `user:${username}`,
        detail: { reason, ip, ...(locked ? { locked: true } : {}) },
      });
      return showLogin(reply, 401, GENERIC);
    };
    if (!user) {
      await verifyPassword(body.data.password, await dummyHash(o.scrypt));
      return failed('unknown_user', false);
    }
    // Locked for this address only: failures elsewhere cannot lock the account's holder out.
    const lockedUntil = await s.users.loginLock(user.username, address);
    if (lockedUntil && Date.parse(lockedUntil) > now()) {
      await verifyPassword(body.data.password, await dummyHash(o.scrypt));
      await audit(s, {
        actor: user.username,
        action: 'login_failed',
        target: `user:${username}`,
        detail: { reason: 'locked', ip },
      });
      return showLogin(reply, 401, GENERIC);
    }
    const passwordOk = await verifyPassword(body.data.password, user.passwordHash);
    if (!passwordOk) return failed('bad_password', true);
    if (user.disabled) return failed('disabled', false);
    const step = verifyTotp(user.totpSecret, body.data.code.trim(), now());
    if (step === null) return failed('bad_code', true);
    if (!(await s.users.recordSuccess(user.username, step, address))) return failed('code_reused', true);
    const token = newToken();
    const csrf = newToken();
    await s.users.createSession(tokenHash(token), user.username, csrf);
    await audit(s, { actor: user.username, action: 'login', target: `user:${user.username}`, detail: { ip } });
    clearCookie(reply, names.prelogin, o.secureCookies);
    setCookie(reply, names.session, token, o.secureCookies);
    return reply.redirect('/console/queue', 303);
  });

  app.post('/logout', { preHandler: requireRole('analyst') }, async (request, reply) => {
    const s = o.system()!;
    await s.users.deleteSession(tokenHash(request.consoleToken!));
    await audit(s, {
      actor: request.consoleSession!.username,
      action: 'logout',
      target: `user:${request.consoleSession!.username}`,
    });
    clearCookie(reply, names.session, o.secureCookies);
    return showLogin(reply, 200, undefined, 'You are signed out.');
  });

  // --- Queue and cases -------------------------------------------------------------------------

  app.get('/queue', { preHandler: requireRole('analyst') }, async (request, reply) => {
    const parsed = caseQuerySchema.safeParse(request.query ?? {});
    if (!parsed.success)
      return fail(
        request,
        reply,
        400,
        `Invalid filter: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    const q = parsed.data;
    const query = q.assignee === 'me' ? { ...q, assignee: request.consoleSession!.username } : q;
    const result = await o.system()!.store.list(query);
    const notice =
      (request.query as Record<string, unknown>).empty === '1' ? 'No unassigned open case is waiting.' : undefined;
    return send(reply, 200, 'Queue', queuePage(q, result, request.consoleSession!, notice), request.consoleSession);
  });

  app.post('/queue/take-next', { preHandler: requireRole('analyst') }, async (request, reply) => {
    const s = o.system()!;
    const c = await s.store.takeNext(request.consoleSession!.username);
    if (!c) return reply.redirect('/console/queue?empty=1', 303);
    await audit(s, {
      actor: request.consoleSession!.username,
      action: 'case_assign',
      target: `case:${c.id}`,
      detail: { assignee: request.consoleSession!.username, via: 'take_next' },
    });
    return reply.redirect(`/console/cases/${c.id}`, 303);
  });

  const compromiseEvents = async (c: CaseRecord) => {
    const events: (CompromiseEvent | { id: string; missing: true })[] = [];
    for (const id of c.watchlistEvents.slice(0, 20)) {
      const seq = eventSeqOf(id);
      const event = seq === null ? undefined : await o.watchlist.getEvent(seq).catch(() => undefined);
      events.push(event ?? { id, missing: true });
    }
    return events;
  };

  const canDecide = (c: CaseRecord, role: ConsoleRole) =>
    OPEN_STATUSES.includes(c.status) && (c.status !== 'escalated' || atLeast(role, 'lead'));

  app.get('/cases/:id', { preHandler: requireRole('analyst') }, async (request, reply) => {
    const { id } = idParam.parse(request.params);
    const s = o.system()!;
    const record = await s.store.get(id);
    if (!record) return fail(request, reply, 404, 'No such case.');
    const session = request.consoleSession!;
    // Personal data are decrypted here only, for this signed-in analyst; the view is audited with what it showed.
    const personal = personalView(record, s.personalData);
    if (personal.state === 'unreadable')
      request.log.warn({ caseId: id, reason: personal.reason }, 'personal data of a case could not be decrypted');
    await audit(s, {
      actor: session.username,
      action: 'case_view',
      target: `case:${id}`,
      detail: { personalData: personal.state },
    });
    const [history, linked, events] = await Promise.all([
      s.store.history(id),
      s.store.linked(id),
      compromiseEvents(record),
    ]);
    const notice =
      typeof (request.query as Record<string, unknown>).done === 'string'
        ? noticeFor(String((request.query as Record<string, unknown>).done))
        : undefined;
    return send(
      reply,
      200,
      `Case #${id}`,
      casePage(
        {
          record,
          personal,
          history,
          linked,
          events,
          canDecide: canDecide(record, session.role),
          allowListMaxDays: o.allowListMaxDays,
        },
        session,
        notice,
      ),
      session,
    );
  });

  app.post('/cases/:id/assign', { preHandler: requireRole('analyst') }, async (request, reply) => {
    const { id } = idParam.parse(request.params);
    const s = o.system()!;
    const username = request.consoleSession!.username;
    await s.store.assign(id, username, username);
    await audit(s, { actor: username, action: 'case_assign', target: `case:${id}`, detail: { assignee: username } });
    return reply.redirect(`/console/cases/${id}?done=assigned`, 303);
  });

  app.post('/cases/:id/decision', { preHandler: requireRole('analyst') }, async (request, reply) => {
    const { id } = idParam.parse(request.params);
    const body = decisionBody.parse(request.body ?? {});
    const s = o.system()!;
    const session = request.consoleSession!;
    const current = await s.store.get(id);
    if (!current) return fail(request, reply, 404, 'No such case.');
    const mayDecideEscalated = atLeast(session.role, 'lead');
    if (current.status === 'escalated' && !mayDecideEscalated)
      return fail(request, reply, 403, 'Escalated cases are decided by a lead.');
    // Checked again by the store under the row lock: the case may be escalated since it was read.
    const result = await s.store.decide(id, body.action, session.username, body.note || undefined, {
      mayDecideEscalated,
    });
    await audit(s, {
      actor: session.username,
      action: 'case_decision',
      target: `case:${id}`,
      detail: {
        action: body.action,
        from: result.previousStatus,
        to: result.case.status,
        ...(body.note ? { note: true } : {}),
      },
    });
    if (body.note)
      await audit(s, {
        actor: session.username,
        action: 'case_note',
        target: `case:${id}`,
        detail: { length: body.note.length },
      });
    await s.feedback.applied(result, session.username, body.action === 'mark_legitimate' ? body.allowListDays : 0);
    return reply.redirect(`/console/cases/${id}?done=${body.action}`, 303);
  });

  app.post('/cases/:id/notes', { preHandler: requireRole('analyst') }, async (request, reply) => {
    const { id } = idParam.parse(request.params);
    const { text } = noteBody.parse(request.body ?? {});
    const s = o.system()!;
    await s.store.addNote(id, request.consoleSession!.username, text);
    await audit(s, {
      actor: request.consoleSession!.username,
      action: 'case_note',
      target: `case:${id}`,
      detail: { length: text.length },
    });
    return reply.redirect(`/console/cases/${id}?done=note`, 303);
  });

  app.get('/dashboard', { preHandler: requireRole('analyst') }, async (request, reply) => {
    const stats = await o.system()!.store.stats(30);
    return send(reply, 200, 'Dashboard', dashboardPage(stats, 30, o.friction?.() ?? []), request.consoleSession);
  });

  // --- Admin: users and the audit log ----------------------------------------------------------

  const renderUsers = async (
    request: FastifyRequest,
    reply: FastifyReply,
    status = 200,
    created?: Parameters<typeof usersPage>[2],
    message?: string,
  ) =>
    send(
      reply,
      status,
      'Users',
      usersPage(await o.system()!.users.list(), request.consoleSession!, created, message),
      request.consoleSession,
    );

  const freshCredentials = async (username: string) => {
    const password = generatePassword();
    const totpSecret = generateTotpSecret();
    const otpauth = otpauthUri(totpSecret, username);
    const qrSvg = await QRCode.toString(otpauth, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { password, totpSecret, otpauth, qrSvg, passwordHash: await hashPassword(password, o.scrypt) };
  };

  app.get('/admin/users', { preHandler: requireRole('admin') }, async (request, reply) => renderUsers(request, reply));

  app.post('/admin/users', { preHandler: requireRole('admin') }, async (request, reply) => {
    const body = createUserBody.safeParse(request.body ?? {});
    if (!body.success)
      return renderUsers(
        request,
        reply,
        400,
        undefined,
        `Invalid user: ${body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    const s = o.system()!;
    const c = await freshCredentials(body.data.username);
    try {
      await s.users.create({
        username: body.data.username,
        role: body.data.role,
        passwordHash: c.passwordHash,
        totpSecret: c.totpSecret,
      });
    } catch (error) {
      if (error instanceof UserExists) return renderUsers(request, reply, 409, undefined, 'That username is taken.');
      throw error;
    }
    await audit(s, {
      actor: request.consoleSession!.username,
      action: 'user_create',
      target: `user:${body.data.username}`,
      detail: { role: body.data.role },
    });
    return renderUsers(request, reply, 201, { username: body.data.username, ...c });
  });

  app.post('/admin/users/:username', { preHandler: requireRole('admin') }, async (request, reply) => {
    const { username } = userParam.parse(request.params);
    const body = updateUserBody.parse(request.body ?? {});
    const s = o.system()!;
    const me = request.consoleSession!.username;
    const target = await s.users.find(username);
    if (!target) return fail(request, reply, 404, 'No such user.');
    const removesAdmin =
      target.role === 'admin' &&
      !target.disabled &&
      (body.op === 'disable' || (body.op === 'role' && body.role !== 'admin'));
    if (removesAdmin && (await s.users.countAdmins()) <= 1)
      return renderUsers(request, reply, 409, undefined, 'The last active admin cannot be disabled or demoted.');
    if (username === me && body.op === 'disable')
      return renderUsers(request, reply, 409, undefined, 'You cannot disable yourself.');
    let created: Parameters<typeof usersPage>[2];
    switch (body.op) {
      case 'role':
        if (!body.role) return renderUsers(request, reply, 400, undefined, 'Choose a role.');
        await s.users.update(username, { role: body.role });
        await audit(s, {
          actor: me,
          action: 'user_update',
          target: `user:${username}`,
          detail: { role: body.role, from: target.role },
        });
        break;
      case 'disable':
        await s.users.update(username, { disabled: true });
        await s.users.deleteSessionsOf(username);
        await audit(s, { actor: me, action: 'user_disable', target: `user:${username}` });
        break;
      case 'enable':
        await s.users.update(username, { disabled: false });
        await audit(s, { actor: me, action: 'user_enable', target: `user:${username}` });
        break;
      case 'unlock':
        await s.users.update(username, { unlock: true });
        await audit(s, { actor: me, action: 'user_unlock', target: `user:${username}` });
        break;
      case 'reset': {
        const c = await freshCredentials(username);
        await s.users.update(username, { passwordHash: c.passwordHash, totpSecret: c.totpSecret, unlock: true });
        await s.users.deleteSessionsOf(username);
        await audit(s, { actor: me, action: 'user_reset', target: `user:${username}` });
        created = { username, ...c };
        break;
      }
    }
    return renderUsers(request, reply, 200, created, `Updated ${username}.`);
  });

  app.get('/admin/audit', { preHandler: requireRole('admin') }, async (request, reply) => {
    const q = auditQuery.safeParse(request.query ?? {});
    if (!q.success)
      return fail(
        request,
        reply,
        400,
        `Invalid filter: ${q.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    const s = o.system()!;
    const entries = await s.audit.list({
      limit: 100,
      ...(q.data.before ? { beforeSeq: q.data.before } : {}),
      ...(q.data.action ? { action: q.data.action } : {}),
      ...(q.data.actor ? { actor: q.data.actor } : {}),
    });
    const verify = q.data.verify ? await s.audit.verify() : undefined;
    return send(
      reply,
      200,
      'Audit log',
      auditPage(
        entries,
        { ...(q.data.action ? { action: q.data.action } : {}), ...(q.data.actor ? { actor: q.data.actor } : {}) },
        request.consoleSession!,
        verify,
      ),
      request.consoleSession,
    );
  });

  app.get('/admin/audit/export', { preHandler: requireRole('admin') }, async (request, reply) => {
    const s = o.system()!;
    await audit(s, { actor: request.consoleSession!.username, action: 'audit_export', target: 'audit_log' });
    const lines: string[] = [];
    await s.audit.scan((entries) => {
      for (const e of entries) lines.push(JSON.stringify(e));
    });
    return reply
      .type('application/x-ndjson; charset=utf-8')
      .header(
        'content-disposition',
        `attachment; filename="leakguard-audit-${new Date(now()).toISOString().slice(0, 10)}.ndjson"`,
      )
      .send(`${lines.join('\n')}\n`);
  });
}

function noticeFor(done: string): string | undefined {
  return (
    {
      mark_fraud: 'Marked as fraud. Its device, IP, email and shipping address are on the negative lists.',
      mark_legitimate: 'Marked as legitimate.',
      escalate: 'Escalated to a lead.',
      note: 'Note added.',
      assigned: 'Assigned to you.',
    } as Record<string, string>
  )[done];
}
