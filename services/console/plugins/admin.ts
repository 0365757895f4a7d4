// Administration (admin role): console users (create, change role, disable, enable, unlock,
// reset credentials: both give a one-time enrolment code, never a password or a TOTP secret) and
// the audit log (filter, verify the hash chain, export).
import { Readable } from 'node:stream';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AUDIT_ACTIONS, type AuditLog } from '../../cases/audit.ts';
import { CONSOLE_ROLES, usernameSchema, UserExists } from '../../cases/users.ts';
import { issueLines, statusOf } from '../../core/errors.ts';
import { errorAnswer } from '../../http/errors.ts';
import { createEnrollingAccount, issueEnrolment } from '../accounts.ts';
import { AUDIT_PAGE, auditPage, usersPage } from '../views/admin.ts';
import { refuse, sendPage, type ConsoleOptions } from './shared.ts';

const userParam = z.object({ username: usernameSchema });
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
    // eslint-disable-next-line no-control-regex -- an actor filter holds no control character
    .regex(/^[^\u0000-\u001f\u007f]*$/)
    .optional()
    .transform((v) => v || undefined),
  verify: z.literal('1').optional(),
});

type Created = Parameters<typeof usersPage>[2];

export async function adminRoutes(app: FastifyInstance, o: ConsoleOptions): Promise<void> {
  const now = o.now ?? Date.now;
  const admin = app.requireConsoleRole('admin');

  const renderUsers = async (
    request: FastifyRequest,
    reply: FastifyReply,
    status = 200,
    created?: Created,
    message?: string,
  ) =>
    sendPage(
      reply,
      status,
      'Users',
      usersPage(await o.system()!.users.list(), request.consoleSession!, created, message),
      request.consoleSession,
    );

  app.get('/admin/users', { preHandler: admin }, async (request, reply) => renderUsers(request, reply));

  app.post('/admin/users', { preHandler: admin }, async (request, reply) => {
    const body = createUserBody.safeParse(request.body ?? {});
    if (!body.success)
      return renderUsers(
        request,
        reply,
        statusOf('VALIDATION_FAILED'),
        undefined,
        `Invalid user: ${issueLines(body.error, { root: '' }).join('; ')}`,
      );
    const s = o.system()!;
    let enrolment: Created;
    try {
      enrolment = await createEnrollingAccount(
        s.users,
        s.audit,
        body.data.username,
        body.data.role,
        request.consoleSession!.username,
      );
    } catch (error) {
      if (error instanceof UserExists)
        return renderUsers(request, reply, errorAnswer(error).status, undefined, 'That username is taken.');
      throw error;
    }
    return renderUsers(request, reply, 201, enrolment);
  });

  app.post('/admin/users/:username', { preHandler: admin }, async (request, reply) => {
    const { username } = userParam.parse(request.params);
    const body = updateUserBody.parse(request.body ?? {});
    const s = o.system()!;
    const me = request.consoleSession!.username;
    const target = await s.users.find(username);
    if (!target) return refuse(request, reply, 'NOT_FOUND', 'No such user.');
    if (username === me && body.op === 'disable')
      return renderUsers(request, reply, 409, undefined, 'You cannot disable yourself.');
    // Counted in the change's own transaction (the store), among the admins who can sign in: one
    // whose enrolment is pending may never enrol (a lost or expired code), and two admins demoting
    // each other at once must not both succeed.
    const lastAdmin = () =>
      renderUsers(
        request,
        reply,
        409,
        undefined,
        'The last active admin cannot be disabled or demoted: an admin whose enrolment is pending does not count until they enrol.',
      );
    let created: Created;
    let message: string | undefined;
    switch (body.op) {
      case 'role':
        if (!body.role) return renderUsers(request, reply, statusOf('VALIDATION_FAILED'), undefined, 'Choose a role.');
        if ((await s.users.updateKeepingAnAdmin(username, { role: body.role })) === 'last_admin') return lastAdmin();
        await s.audit.append({
          actor: me,
          action: 'user_update',
          target: `user:${username}`,
          detail: { role: body.role, from: target.role },
        });
        break;
      case 'disable': {
        if ((await s.users.updateKeepingAnAdmin(username, { disabled: true })) === 'last_admin') return lastAdmin();
        await s.users.deleteSessionsOf(username);
        // Their open cases go back to the queue (escalated ones stay escalated, for the leads).
        const returned = await s.store.releaseAssigned(username, me);
        await s.audit.append({
          actor: me,
          action: 'user_disable',
          target: `user:${username}`,
          ...(returned.length ? { detail: { returnedCases: returned.length } } : {}),
        });
        for (const c of returned)
          await s.audit.append({
            actor: me,
            action: 'case_assign',
            target: `case:${c.id}`,
            detail: { assignee: null, from: username, via: 'user_disable' },
          });
        message = returned.length
          ? `Disabled ${username}; ${returned.length} open case(s) returned to the queue.`
          : undefined;
        break;
      }
      case 'enable':
        await s.users.update(username, { disabled: false });
        await s.audit.append({ actor: me, action: 'user_enable', target: `user:${username}` });
        break;
      case 'unlock':
        await s.users.update(username, { unlock: true });
        await s.audit.append({ actor: me, action: 'user_unlock', target: `user:${username}` });
        break;
      case 'reset': {
        // The user's password and second factor stop working now; the user sets new ones with the code.
        await s.audit.append({ actor: me, action: 'user_reset', target: `user:${username}` });
        created = await issueEnrolment(s.users, s.audit, username, me, 'reset');
        break;
      }
    }
    return renderUsers(request, reply, 200, created, message ?? `Updated ${username}.`);
  });

  app.get('/admin/audit', { preHandler: admin }, async (request, reply) => {
    const q = auditQuery.safeParse(request.query ?? {});
    if (!q.success)
      return refuse(
        request,
        reply,
        'VALIDATION_FAILED',
        `Invalid filter: ${issueLines(q.error, { root: '' }).join('; ')}`,
      );
    const s = o.system()!;
    const entries = await s.audit.list({
      limit: AUDIT_PAGE + 1,
      ...(q.data.before ? { beforeSeq: q.data.before } : {}),
      ...(q.data.action ? { action: q.data.action } : {}),
      ...(q.data.actor ? { actor: q.data.actor } : {}),
    });
    const verify = q.data.verify ? await s.audit.verify() : undefined;
    const filter = {
      ...(q.data.action ? { action: q.data.action } : {}),
      ...(q.data.actor ? { actor: q.data.actor } : {}),
    };
    return sendPage(
      reply,
      200,
      'Audit log',
      auditPage(entries, filter, request.consoleSession!, verify),
      request.consoleSession,
    );
  });

  app.get('/admin/audit/export', { preHandler: admin }, async (request, reply) => {
    const s = o.system()!;
    await s.audit.append({ actor: request.consoleSession!.username, action: 'audit_export', target: 'audit_log' });
    // Streamed, not built in memory: the log grows with every failed login and the engine that
    // holds it also scores payments. Readable.from pulls the next page only when the reply has
    // room for it, so a slow download holds a page or two, never the whole log.
    return reply
      .type('application/x-ndjson; charset=utf-8')
      .header(
        'content-disposition',
        `attachment; filename="leakguard-audit-${new Date(now()).toISOString().slice(0, 10)}.ndjson"`,
      )
      .send(Readable.from(exportLines(s.audit, request.log), { objectMode: false }));
  });
}

/** Entries per database read of the export; one page is what the export holds at a time. */
export const AUDIT_EXPORT_PAGE = 1000;

/**
 * The export's NDJSON, a page of the log per chunk. A read that fails part way cannot change the
 * 200 already sent, so it is rethrown: fastify then destroys the connection and the download ends
 * without the chunked body's final chunk, which browsers and curl report as a failed (incomplete)
 * transfer instead of a file that looks whole. A failure before the first page is an error page.
 */
async function* exportLines(audit: AuditLog, log: FastifyBaseLogger): AsyncGenerator<string> {
  let sent = 0;
  try {
    for await (const page of audit.pages(AUDIT_EXPORT_PAGE)) {
      yield page.map((e) => `${JSON.stringify(e)}\n`).join('');
      sent += page.length;
    }
  } catch (error) {
    log.error({ err: error, sent }, `audit export failed after ${sent} entries: the download is cut off`);
    throw error;
  }
}
