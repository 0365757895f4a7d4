// The analyst console under /console: server-rendered HTML (no script at all), one stylesheet
// from a fixed in-memory set, strict CSP. Sessions in HttpOnly SameSite=Strict cookies with a
// 15-minute idle timeout and a 12-hour absolute lifetime; a CSRF token on every state-changing request; password (scrypt) and
// TOTP login with rate limiting and lockout; roles analyst < lead < admin; everything audited.
//
// One plugin per concern (plugins/*.ts): session (the form parser, the session guard: shared by
// the others through the console's scope), login, cases, dashboard, admin, breaches. This one holds what
// every console answer has: the security headers, the error pages (status and code from the one
// error mapping, services/http/errors.ts), the assets.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { issueLines } from '../core/errors.ts';
import { errorAnswer, logFault, logUnavailable, type ErrorAnswer } from '../http/errors.ts';
import { ASSETS } from './assets.ts';
import { CONSOLE_HEADERS } from './security-headers.ts';
import { accountRoutes } from './plugins/account.ts';
import { adminRoutes } from './plugins/admin.ts';
import { breachRoutes } from './plugins/breaches.ts';
import { caseRoutes } from './plugins/cases.ts';
import { dashboardRoutes } from './plugins/dashboard.ts';
import { loginRoutes } from './plugins/login.ts';
import { sessionPlugin } from './plugins/session.ts';
import { refuse, showError, type ConsoleOptions } from './plugins/shared.ts';

export type { ConsoleOptions };

export { CONSOLE_CSP } from './security-headers.ts';

/** What the error page says, by the error and its answer: the pages' words, the mapping's status. */
function errorMessage(error: unknown, a: ErrorAnswer): string {
  if (error instanceof z.ZodError) return `Invalid request: ${issueLines(error, { root: 'input' }).join('; ')}`;
  switch (a.code) {
    case 'CASE_NOT_FOUND':
      return 'No such case.';
    case 'CASE_CONFLICT':
      return (error as Error).message;
    case 'CASE_FORBIDDEN':
      // The store's refusal says which case and why (escalated, assigned to someone else).
      return (error as Error).message;
    case 'PAYLOAD_TOO_LARGE':
      return 'Request too large.';
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 'Unsupported content type.';
    case 'UNAVAILABLE':
      return 'A store is unavailable for a moment: try again shortly.';
    default:
      return a.fault ? 'Internal error.' : 'Bad request.';
  }
}

export async function consolePlugin(app: FastifyInstance, opts: ConsoleOptions & { prefix?: string }): Promise<void> {
  // The plugins below are registered under this one's prefix (/console): not with it again.
  const { prefix: _prefix, ...o } = opts;
  // HTML pages for people, not the API: left out of /openapi.json, whose every operation has an id,
  // an example and its statuses for the clients generated from it.
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, hide: true };
  });
  await app.register(sessionPlugin, o);

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.headers(CONSOLE_HEADERS);
    return payload;
  });

  app.setErrorHandler((error, request, reply) => {
    const a = errorAnswer(error);
    if (a.fault) logFault(request, error, 'console error');
    if (a.unavailable) {
      logUnavailable(request, error, a, 'console answered 503');
      for (const [name, value] of Object.entries(a.headers)) reply.header(name, value);
    }
    return showError(request, reply, a.status, errorMessage(error, a));
  });
  app.setNotFoundHandler((request, reply) => refuse(request, reply, 'NOT_FOUND', 'No such page.'));

  app.get('/assets/:name', async (request, reply) => {
    const { name } = z.object({ name: z.string().max(64) }).parse(request.params);
    const asset = ASSETS.get(name);
    if (!asset) return refuse(request, reply, 'NOT_FOUND', 'No such asset.');
    return reply.type(asset.type).header('etag', asset.etag).send(asset.body);
  });

  app.get('/', async (_request, reply) => reply.redirect('/console/queue', 303));

  await app.register(loginRoutes, o);
  await app.register(caseRoutes, o);
  await app.register(dashboardRoutes, o);
  await app.register(adminRoutes, o);
  await app.register(accountRoutes, o);
  await app.register(breachRoutes, o);
}
