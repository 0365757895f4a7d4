// Sessions: the form parser, the request's session and token, and the guard every page but
// sign-in goes through. The session cookie is authenticated (idle timeout and absolute lifetime enforced by the store);
// a page without one redirects to sign-in, any other method gets 401 (a decision's, the sign-in
// form carrying it: resume.ts); then the role; then, for a
// state-changing request, the CSRF token and the Origin. Wrapped with fastify-plugin: what it
// declares belongs to the console's scope, where the other console plugins see it.
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import { atLeast, type ConsoleRole, type SessionView } from '../../cases/users.ts';
import { statusOf } from '../../core/errors.ts';
import { draftHiddenFields, draftLoginNotice, draftOfSignedOutPost } from '../resume.ts';
import { clearCookie, cookieNames, loginFormToken, readCookie, sameToken, tokenHash } from '../session.ts';
import { consoleHref } from '../html.ts';
import { returnPath } from '../return-to.ts';
import { errorPage, loginPage } from '../views/layout.ts';
import { caseSystem, refuse, sendPage, type ConsoleOptions } from './shared.ts';

declare module 'fastify' {
  interface FastifyRequest {
    consoleSession: SessionView | null;
    consoleToken: string | null;
  }
  interface FastifyInstance {
    /** The console's guard (preHandler): a signed-in session of at least this role, and CSRF on writes. */
    requireConsoleRole(role: ConsoleRole): preHandlerAsyncHookHandler;
  }
}

/**
 * The largest form a browser sends: free text of 4,000 characters (notes, decisions) is up to 36,000
 * bytes URL-encoded (9 per CJK character, 12 per emoji, which counts 2), plus its few other fields.
 * 16 KiB refused a Japanese note of ~1,800 characters (413) and lost the analyst's decision.
 */
export const FORM_BODY_LIMIT = 128 * 1024;

const csrfField = z.object({ _csrf: z.string().max(200).optional() }).passthrough();

export const sessionPlugin = fp(
  async (app: FastifyInstance, o: ConsoleOptions) => {
    const names = cookieNames(o.secureCookies);
    await app.register(formbody, { bodyLimit: FORM_BODY_LIMIT });
    app.decorateRequest('consoleSession', null);
    app.decorateRequest('consoleToken', null);

    app.decorate('requireConsoleRole', (role: ConsoleRole) => async (request: FastifyRequest, reply: FastifyReply) => {
      const s = caseSystem(o, reply);
      if (!s) return reply;
      const token = readCookie(request, names.session);
      const session = token ? await s.users.touchSession(tokenHash(token), o.idleMs, o.sessionMaxMs) : undefined;
      if (!session || typeof session === 'string') {
        if (session)
          await s.audit.append({
            actor: 'console',
            action: 'session_expired',
            target: 'session',
            // request.ip: the forwarded client only behind a proxy named in LEAKGUARD_TRUST_PROXY.
            // reason: 'max_age' for a session ended by its lifetime; an idle expiry's entry is as before.
            detail: session === 'max_age' ? { ip: request.ip, reason: 'max_age' } : { ip: request.ip },
          });
        clearCookie(reply, names.session, o.secureCookies);
        if (request.method === 'GET')
          // The page asked for comes back after sign-in (return-to.ts): a link to a case is not lost.
          return reply.redirect(
            consoleHref('/console/login', {
              expired: session === 'expired' ? 1 : session === 'max_age' ? 'max_age' : undefined,
              next: returnPath(request.url),
            }),
            303,
          );
        const status = statusOf('UNAUTHENTICATED');
        // A decision sent from the console's page after its session ended: the sign-in form, carrying it.
        const draft = draftOfSignedOutPost(request);
        if (draft)
          return sendPage(
            reply,
            status,
            'Sign in',
            loginPage(
              loginFormToken(request, reply, names, o.secureCookies),
              undefined,
              draftLoginNotice(draft),
              draftHiddenFields(draft),
            ),
          );
        const message = session ? 'Your session expired. Sign in again.' : 'Sign in first.';
        return sendPage(reply, status, 'Sign in', errorPage(status, message));
      }
      request.consoleSession = session;
      request.consoleToken = token!;
      if (!atLeast(session.role, role)) return refuse(request, reply, 'FORBIDDEN', `This page needs the ${role} role.`);
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        const body = csrfField.safeParse(request.body ?? {});
        const presented =
          (body.success ? body.data._csrf : undefined) ?? (request.headers['x-csrf-token'] as string | undefined);
        if (!sameToken(presented, session.csrfToken))
          return refuse(request, reply, 'FORBIDDEN', 'Missing or invalid CSRF token.');
        // Defence in depth: a cross-site form post carries a foreign Origin.
        const origin = request.headers.origin;
        if (origin && origin !== 'null') {
          const host = URL.canParse(origin) ? new URL(origin).host : undefined;
          if (host === undefined || host === '')
            return refuse(request, reply, 'FORBIDDEN', 'Malformed Origin header: refused.');
          if (host !== request.headers.host)
            return refuse(request, reply, 'FORBIDDEN', 'Cross-origin request refused.');
        }
      }
    });
  },
  { name: 'leakguard-console-session' },
);
