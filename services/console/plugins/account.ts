// One's own account, signed in: changing one's password, with the current password and an
// authenticator code (a session left open is not enough). Wrong passwords and codes count towards
// the same locks as at sign-in; a change ends every session of the user, and is audited.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { statusOf } from '../../core/errors.ts';
import { hashPassword, passwordProblem, verifyPassword, verifyTotp } from '../credentials.ts';
import { addressKey } from '../../auth/client-address.ts';
import { clearCookie, cookieNames } from '../session.ts';
import { passwordPage } from '../views/account.ts';
import { recordWrongCode, sendPage, type ConsoleOptions } from './shared.ts';

const passwordBody = z.object({
  current: z.string().max(200).default(''),
  code: z.string().max(20).default(''),
  password: z.string().max(2000).default(''),
  password2: z.string().max(2000).default(''),
});

export async function accountRoutes(app: FastifyInstance, o: ConsoleOptions): Promise<void> {
  const now = o.now ?? Date.now;
  const names = cookieNames(o.secureCookies);
  const signedIn = app.requireConsoleRole('analyst');

  app.get('/account', { preHandler: signedIn }, async (request, reply) =>
    sendPage(reply, 200, 'Your account', passwordPage(request.consoleSession!), request.consoleSession),
  );

  app.post('/account/password', { preHandler: signedIn }, async (request, reply) => {
    const s = o.system()!;
    const session = request.consoleSession!;
    const body = passwordBody.parse(request.body ?? {});
    const ip = request.ip;
    const address = addressKey(ip);
    const again = (status: number, message: string) =>
      sendPage(reply, status, 'Your account', passwordPage(session, message), session);
    const user = (await s.users.find(session.username))!;
    const failed = async (reason: string) => {
      await s.audit.append({
        actor: session.username,
        action: 'password_change_failed',
        target: `user:${session.username}`,
        detail: { reason, ip },
      });
      return again(statusOf('UNAUTHENTICATED'), 'Wrong current password or authenticator code.');
    };
    // The policy first: a form to fill in again spends no attempt and no code.
    const problem = passwordProblem(body.password, user.username);
    if (problem) return again(statusOf('VALIDATION_FAILED'), `The new password ${problem}.`);
    if (body.password !== body.password2) return again(statusOf('VALIDATION_FAILED'), 'The two new passwords differ.');
    const lockedUntil = await s.users.loginLock(user.username, address);
    if (lockedUntil && Date.parse(lockedUntil) > now()) return failed('locked');
    if (!(await verifyPassword(body.current, user.passwordHash))) {
      await s.users.recordFailure(user.username, address, o.maxAttempts, o.lockoutMs);
      return failed('bad_password');
    }
    if (user.codeLockedUntil && Date.parse(user.codeLockedUntil) > now()) return failed('code_locked');
    const step = verifyTotp(user.totpSecret, body.code.trim(), now());
    const recorded = step === null ? 'wrong' : await s.users.recordSuccess(user.username, step, address);
    if (recorded === 'locked') return failed('code_locked');
    if (recorded !== 'ok') {
      // As at sign-in: the wrong code that locks the second factor is audited and counted.
      await recordWrongCode(o, s, user.username, ip, 'password_change');
      return failed(recorded === 'wrong' ? 'bad_code' : 'code_reused');
    }
    if (await verifyPassword(body.password, user.passwordHash))
      return again(statusOf('VALIDATION_FAILED'), 'The new password is the current one.');
    await s.users.update(user.username, { passwordHash: await hashPassword(body.password, o.scrypt) });
    // Every session ends, this one included: one left open elsewhere may be why the password changes.
    await s.users.deleteSessionsOf(user.username);
    await s.audit.append({
      actor: user.username,
      action: 'password_change',
      target: `user:${user.username}`,
      detail: { ip },
    });
    clearCookie(reply, names.session, o.secureCookies);
    return reply.redirect('/console/login?changed=1', 303);
  });
}
