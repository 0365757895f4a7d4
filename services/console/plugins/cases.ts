// The queue and the cases: filters, take-next, the case page (personal data decrypted for the
// signed-in analyst only, and audited), assignment, decisions and notes.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  CASE_ACTIONS,
  CaseConflict,
  CaseForbidden,
  caseQuerySchema,
  REVERSAL_CATEGORIES,
  takeNextFiltersSchema,
  TAKE_NEXT_FILTERS,
  deepestPage,
  MAX_QUEUE_ROWS,
  OPEN_STATUSES,
  type CaseAction,
  type CaseRecord,
  type PendingEffect,
} from '../../cases/model.ts';
import { summariseOutcomes } from '../../cases/outcomes.ts';
import type { NegativeKind } from '../../cases/negative-lists.ts';
import { personalView } from '../../cases/personal-data.ts';
import { atLeast, usernameSchema, type ConsoleRole } from '../../cases/users.ts';
import { issueLines, statusOf, type ErrorCode } from '../../core/errors.ts';
import { scrubCardNumbers } from '../../core/scrub.ts';
import { eventSeqOf, type CompromiseEvent } from '../../core/watchlist.ts';
import { ACTION_WORDS, draftOfStored, keptOfStored, storedKept, type KeptDraft } from '../resume.ts';
import { consoleHref } from '../html.ts';
import { tokenHash } from '../session.ts';
import { casePage, type CaseDraft } from '../views/case.ts';
import { queuePage } from '../views/queue.ts';
import { reversePage } from '../views/reverse.ts';
import { confirmFraudPage } from '../views/confirm-fraud.ts';
import { doneNotice, freeText, keptText, refuse, sendPage, type ConsoleOptions } from './shared.ts';

const idParam = z.object({
  id: z
    .string()
    .regex(/^[1-9][0-9]{0,14}$/, 'must be a case number (1, 2, 3, ...)')
    .transform(Number),
});
const decisionBody = z.object({
  action: z.enum(CASE_ACTIONS),
  note: freeText(4000).optional(),
  allowListDays: z.coerce.number().int().min(0).max(365).default(0),
  /** "Mark fraud" is made only once confirmed (the confirmation page's form sends confirm=1). */
  confirm: z.literal('1').optional(),
  /** The confirmation page's Cancel: back to the case with the note, nothing decided. */
  cancel: z.literal('1').optional(),
});
const reverseBody = z.object({
  /** What the merchant's webhook is told (case.decision_reversed); the reason itself never leaves the case. */
  category: z.enum(REVERSAL_CATEGORIES, { error: `must be one of ${REVERSAL_CATEGORIES.join(', ')}` }),
  reason: freeText(4000).refine((v) => v.length > 0, 'is required: say why the decision is reversed'),
});
/**
 * A note: `text` from the History box (a case the user cannot decide), or `note` from the one note
 * box beside the decision buttons (its "Add note" button posts the decision form here).
 */
const noteBody = z
  .object({ text: freeText(4000).optional(), note: freeText(4000).optional() })
  .refine((b) => (b.text ?? b.note ?? '').length > 0, { message: 'is empty', path: ['text'] });
/** Whom to assign to: the signed-in user when absent or empty; another user for a lead only. */
const assignBody = z.object({
  username: z.preprocess((v) => (v === '' ? undefined : v), usernameSchema.optional()),
});
/** The assignment routes' own notices (`?done=`), besides `assigned` in NOTICES. */
const ASSIGN_NOTICES = new Map<string, string>(
  Object.entries({
    handed: 'Assigned.',
    unassigned: 'Returned to the queue.',
  }),
);

// A Map: ?done= is the client's, and must not reach Object.prototype (?done=constructor).
const NOTICES = new Map<string, string>(
  Object.entries({
    mark_fraud: 'Marked as fraud.',
    mark_legitimate: 'Marked as legitimate.',
    escalate: 'Escalated to a lead.',
    note: 'Note added.',
    assigned: 'Assigned to you.',
    reversed: 'Decision reversed: the case is open again.',
  }),
);

const KIND_NAMES: Record<NegativeKind, string> = {
  device: 'device',
  ip: 'IP',
  email: 'email',
  shipping: 'shipping address',
};
const listOf = (words: string[]) =>
  words.length < 2 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;

/**
 * What a decision did, from its recorded effects (never a fixed claim): the entities it put on
 * the negative lists, or that it had none; the card it allow-listed; and whether that is done or
 * still waiting for the list store.
 */
function decisionNotice(
  done: string | undefined,
  effect: PendingEffect | undefined,
  record: CaseRecord,
): string | undefined {
  const base = done === undefined ? undefined : NOTICES.get(done);
  if (done === 'reversed' && base && effect?.kind === 'reversed') {
    const e = effect.effects;
    const pending = effect.status === 'pending';
    const parts = [`${base} Its ${e.label} label is withdrawn.`];
    if (e.negative.length) {
      const kinds = listOf(e.negative.map((n) => KIND_NAMES[n.kind]));
      parts.push(
        pending
          ? `The entries this decision made for its ${kinds} are to come off the negative lists: the list store did not answer, retried until it does.`
          : `The entries this decision made for its ${kinds} are off the negative lists (an entity another fraud decision listed stays listed).`,
      );
    }
    if (e.allow)
      parts.push(
        pending
          ? `The allow-listing of the card for ${e.merchantId} is to go: retried until the list store answers.`
          : `The allow-listing of the card for ${e.merchantId} by this decision is gone.`,
      );
    return parts.join(' ');
  }
  if (done === 'reversed' && base && effect?.kind === 'decided')
    return `Case #${record.id}'s decision was reversed, and it has since been decided again: ${record.status.replace('_', ' ')}.`;
  if (!base || (done !== 'mark_fraud' && done !== 'mark_legitimate') || !effect) return base;
  // The page may be reloaded (or its link kept) after a lead reversed the decision, and the case
  // decided again otherwise since: what it listed or allow-listed then no longer holds.
  const label = done === 'mark_fraud' ? 'fraud' : 'legitimate';
  if (effect.kind === 'reversed' || effect.effects.label !== label) {
    const pending = effect.kind === 'reversed' && effect.status === 'pending';
    const e = effect.kind === 'reversed' ? effect.effects : undefined;
    // Said from the reversal's own effects; a later decision's page tells its own.
    const undone = !e
      ? ''
      : label === 'fraud'
        ? e.negative.length === 0
          ? ''
          : pending
            ? ' The entries it made on the negative lists are to come off them: retried until the list store answers.'
            : ' The entries it made on the negative lists are withdrawn (an entity another fraud decision listed stays listed).'
        : !e.allow
          ? ''
          : pending
            ? ` Its allow-listing of the card for ${e.merchantId} is to go: retried until the list store answers.`
            : ` Its allow-listing of the card for ${e.merchantId} is withdrawn.`;
    return `Case #${record.id} was marked as ${label}, and a lead has since reversed that decision.${undone} The case is ${record.status.replace('_', ' ')} now.`;
  }
  const e = effect.effects;
  const pending = effect.status === 'pending';
  const day = (iso: string) => iso.slice(0, 10);
  if (e.label === 'fraud') {
    if (e.negative.length === 0)
      return `${base} It had no device, IP, email or shipping address to put on the negative lists: none was listed.`;
    const kinds = e.negative.map((n) => KIND_NAMES[n.kind]);
    const what = `Its ${listOf(kinds)}`;
    return pending
      ? `${base} The decision is recorded. ${what} could not be put on the negative lists yet (the list store did not answer): retried until they are, nothing to do again.`
      : `${base} ${what} ${kinds.length > 1 ? 'are' : 'is'} on the negative lists until ${day(e.negativeUntil!)}.`;
  }
  if (!e.allow) return base;
  return pending
    ? `${base} The decision is recorded. The card could not be allow-listed for ${e.merchantId} yet (the list store did not answer): retried until it is, nothing to do again.`
    : `${base} The card is allow-listed for ${e.merchantId} until ${day(e.allow.until)}.`;
}

/**
 * Why this user may not assign the case to themselves, or undefined: an escalated case waits for a
 * lead, and another analyst's case is handed over by a lead, not taken.
 */
function assignRefusal(c: CaseRecord, session: { username: string; role: ConsoleRole }): string | undefined {
  if (atLeast(session.role, 'lead')) return undefined;
  if (c.status === 'escalated') return `Case #${c.id} is escalated: a lead assigns it.`;
  if (c.assignee !== null && c.assignee !== session.username)
    return `Case #${c.id} is assigned to ${c.assignee}: a lead reassigns it.`;
  return undefined;
}

/**
 * Why this user may not decide the case, or undefined: a decided case is closed, an escalated one
 * waits for a lead, and an assigned one is its assignee's (or a lead's). The store checks the last
 * two again under the row lock.
 */
function decideRefusal(c: CaseRecord, session: { username: string; role: ConsoleRole }): string | undefined {
  if (!OPEN_STATUSES.includes(c.status)) return `Case #${c.id} is decided.`;
  if (atLeast(session.role, 'lead')) return undefined;
  if (c.status === 'escalated') return `Case #${c.id} is escalated: a lead decides it.`;
  if (c.assignee !== null && c.assignee !== session.username)
    return `Case #${c.id} is assigned to ${c.assignee}: only they or a lead decide it.`;
  return undefined;
}

export async function caseRoutes(app: FastifyInstance, o: ConsoleOptions): Promise<void> {
  const analyst = app.requireConsoleRole('analyst');

  app.get('/queue', { preHandler: analyst }, async (request, reply) => {
    const parsed = caseQuerySchema.safeParse(request.query ?? {});
    if (!parsed.success)
      return refuse(
        request,
        reply,
        'VALIDATION_FAILED',
        `Invalid filter: ${issueLines(parsed.error, { root: '' }).join('; ')}`,
      );
    const asked = parsed.data;
    const query = asked.assignee === 'me' ? { ...asked, assignee: request.consoleSession!.username } : asked;
    // Past the last page (a page number kept after the last cases were decided) the store answers
    // the last page; past MAX_QUEUE_ROWS the deepest one, with a notice saying why.
    const result = await o.system()!.store.list(query);
    const q = { ...asked, page: result.page };
    const filtered = TAKE_NEXT_FILTERS.some((k) => asked[k] !== undefined);
    // A parameter that is not a filter (a mistyped name, ?transaction=x) would show every case as
    // if filtered: it is named instead of silently ignored.
    const ignored = Object.keys((request.query ?? {}) as Record<string, unknown>).filter(
      (k) => !Object.hasOwn(caseQuerySchema.shape, k) && k !== 'empty',
    );
    const ignoredNotice = ignored.length
      ? `Ignored: ${listOf(ignored.slice(0, 5).map((k) => scrubCardNumbers(k).slice(0, 40)))} ${ignored.length === 1 ? 'is not a queue filter' : 'are not queue filters'} (filters: ${Object.keys(caseQuerySchema.shape).join(', ')}). The cases below are not filtered by ${ignored.length === 1 ? 'it' : 'them'}.`
      : undefined;
    const pageNotice =
      (request.query as Record<string, unknown>).empty === '1'
        ? filtered
          ? 'No unassigned open case matches these filters.'
          : 'No unassigned open case is waiting.'
        : asked.page > result.page && result.page === deepestPage(q.pageSize)
          ? `Page ${asked.page} is beyond the first ${MAX_QUEUE_ROWS.toLocaleString('en')} cases, which is as deep as the queue pages: this is page ${result.page}. Narrow the filters (dates, merchant, status) or change the sort to reach the others.`
          : undefined;
    const notice = [ignoredNotice, pageNotice].filter(Boolean).join(' ') || undefined;
    const outcomes = await o.system()!.store.outcomesOfCases(result.items.map((c) => c.id));
    return sendPage(
      reply,
      200,
      'Queue',
      queuePage(q, result, request.consoleSession!, notice, outcomes),
      request.consoleSession,
    );
  });

  app.post('/queue/take-next', { preHandler: analyst }, async (request, reply) => {
    const s = o.system()!;
    const session = request.consoleSession!;
    // The queue's filters on screen come with the button: the next case is one the analyst was looking at.
    const parsed = takeNextFiltersSchema.safeParse(request.body ?? {});
    if (!parsed.success)
      return refuse(
        request,
        reply,
        'VALIDATION_FAILED',
        `Invalid filter: ${issueLines(parsed.error, { root: '' }).join('; ')}`,
      );
    // A lead's includes escalated cases, first: only leads decide them.
    const c = await s.store.takeNext(session.username, { lead: atLeast(session.role, 'lead'), filters: parsed.data });
    if (!c) return reply.redirect(consoleHref('/console/queue', { ...parsed.data, empty: 1 }), 303);
    await s.audit.append({
      actor: session.username,
      action: 'case_assign',
      target: `case:${c.id}`,
      detail: {
        assignee: session.username,
        via: 'take_next',
        ...(c.status === 'escalated' ? { escalated: true } : {}),
      },
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

  /**
   * The case page, audited as a view (it shows personal data). `draft`: text the analyst sent that
   * was not recorded (a refused decision, a cancelled confirmation, a note or decision kept through
   * a sign-in): put back in the note box, never lost.
   */
  const showCase = async (
    request: FastifyRequest,
    reply: FastifyReply,
    record: CaseRecord,
    options: {
      status?: number;
      notice?: string | undefined;
      draft?: CaseDraft | undefined;
      offerTakeNext?: boolean;
    } = {},
  ) => {
    const s = o.system()!;
    const id = record.id;
    const session = request.consoleSession!;
    // Personal data are decrypted here only, for this signed-in analyst; the view is audited with what it showed.
    const personal = personalView(record, s.personalData);
    if (personal.state === 'unreadable')
      request.log.warn({ caseId: id, reason: personal.reason }, 'personal data of a case could not be decrypted');
    await s.audit.append({
      actor: session.username,
      action: 'case_view',
      target: `case:${id}`,
      detail: { personalData: personal.state },
    });
    const [history, linked, events, outcomes] = await Promise.all([
      s.store.history(id),
      s.store.linked(id),
      compromiseEvents(record),
      s.store.outcomesOf(record.merchantId, record.transactionId),
    ]);
    // A lead hands the case to any active user (an escalated one to a lead or an admin: they alone
    // decide it), or returns it to the queue.
    const handOver =
      atLeast(session.role, 'lead') && OPEN_STATUSES.includes(record.status)
        ? {
            assignees: (await s.users.list())
              .filter((u) => !u.disabled && !u.enrolmentPending && u.username !== record.assignee)
              .filter((u) => record.status !== 'escalated' || atLeast(u.role, 'lead'))
              .map((u) => u.username),
            canUnassign: record.assignee !== null,
          }
        : undefined;
    return sendPage(
      reply,
      options.status ?? 200,
      `Case #${id}`,
      casePage(
        {
          record,
          personal,
          history,
          linked,
          events,
          canDecide: !decideRefusal(record, session),
          ...(OPEN_STATUSES.includes(record.status) ? { decideRefusal: decideRefusal(record, session) } : {}),
          canAssign:
            OPEN_STATUSES.includes(record.status) &&
            record.assignee !== session.username &&
            !assignRefusal(record, session),
          allowListMaxDays: o.allowListMaxDays,
          referenceCurrency: o.referenceCurrency(),
          outcomes,
          outcomeSummary: summariseOutcomes(outcomes, record.decision),
          ...(handOver ? { handOver } : {}),
          canReverse: atLeast(session.role, 'lead') && (record.status === 'fraud' || record.status === 'legitimate'),
          ...(options.draft ? { draft: options.draft } : {}),
          offerTakeNext: options.offerTakeNext ?? false,
        },
        session,
        options.notice,
      ),
      session,
    );
  };

  app.get('/cases/:id', { preHandler: analyst }, async (request, reply) => {
    const { id } = idParam.parse(request.params);
    const s = o.system()!;
    const record = await s.store.get(id);
    if (!record) return refuse(request, reply, 'CASE_NOT_FOUND', 'No such case.');
    const done = (request.query as Record<string, unknown> | undefined)?.done;
    // Back from a sign-in that kept the decision or note an expired session lost (resume.ts): filled in once.
    const kept =
      (request.query as Record<string, unknown> | undefined)?.resumed === '1'
        ? draftOfStored(await s.users.takeSessionDraft(tokenHash(request.consoleToken!)))
        : undefined;
    const draft = kept?.caseId === id ? kept : undefined;
    // Back from a decision or note that was not recorded (keepAndShow): shown again at every reload.
    const unrecorded =
      (request.query as Record<string, unknown> | undefined)?.kept === '1'
        ? keptOfStored(await s.users.readSessionDraft(tokenHash(request.consoleToken!)))
        : undefined;
    if (unrecorded?.caseId === id) {
      const { status, notice, ...shown } = unrecorded;
      return showCase(request, reply, record, { status, notice, draft: shown });
    }
    const notice = draft
      ? draft.action === 'note'
        ? 'Signed in again. Your note was kept when your session expired: it was not added. Check it and press Add note again.'
        : `Signed in again. Your decision (${ACTION_WORDS[draft.action]}) and note were kept when your session expired: nothing was decided. Check them and press ${ACTION_WORDS[draft.action]} again.`
      : done === 'mark_fraud' || done === 'mark_legitimate' || done === 'reversed'
        ? decisionNotice(done, await s.store.latestEffect(id), record)
        : (doneNotice(NOTICES, request.query) ?? doneNotice(ASSIGN_NOTICES, request.query));
    return showCase(request, reply, record, {
      notice,
      draft,
      // The page after one's decision: straight on to the next case, by the queue's take-next rules.
      offerTakeNext: done === 'mark_fraud' || done === 'mark_legitimate' || done === 'escalate',
    });
  });

  /**
   * A decision or note that was not recorded: kept on the session and answered by a redirect to the
   * case page (`?kept=1`), which shows it with its status and notice, the note back in the note box.
   * Post/Redirect/Get: reloading the page the browser lands on reads it again, never re-sends the
   * form; the note stays out of the URL.
   */
  const keepAndShow = async (request: FastifyRequest, reply: FastifyReply, kept: KeptDraft) => {
    await o.system()!.users.keepSessionDraft(tokenHash(request.consoleToken!), storedKept(kept));
    return reply.redirect(`/console/cases/${kept.caseId}?kept=1`, 303);
  };
  /** Recorded: a kept draft of the session's is spent (a page reloaded later would say it was not). */
  const forgetKept = (request: FastifyRequest) =>
    o.system()!.users.keepSessionDraft(tokenHash(request.consoleToken!), null);

  /**
   * A decision or note that cannot be recorded: the case page again, saying why, with the
   * analyst's note back in the note box (a 403 error page lost it).
   */
  const refuseKeepingNote = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: number,
    code: ErrorCode,
    why: string,
    draft: CaseDraft,
  ) => {
    const kept = draft.note ? ' Your note is kept in the note box: it was not recorded.' : '';
    return keepAndShow(request, reply, {
      caseId: id,
      ...draft,
      status: statusOf(code),
      notice: `${why.replace(/\.?$/, '.')} Nothing was ${draft.action === 'note' ? 'added' : 'decided'}.${kept}`,
    });
  };

  app.post('/cases/:id/assign', { preHandler: analyst }, async (request, reply) => {
    const { id } = idParam.parse(request.params);
    const body = assignBody.parse(request.body ?? {});
    const s = o.system()!;
    const session = request.consoleSession!;
    const me = session.username;
    const lead = atLeast(session.role, 'lead');
    const username = body.username ?? me;
    const current = await s.store.get(id);
    if (!current) return refuse(request, reply, 'CASE_NOT_FOUND', 'No such case.');
    if (username !== me && !lead)
      return refuse(request, reply, 'CASE_FORBIDDEN', `Only a lead assigns case #${id} to someone else.`);
    const why = assignRefusal(current, session);
    if (why) return refuse(request, reply, 'CASE_FORBIDDEN', why);
    // Checked again by the store under the row lock (and that the assignee is an active user).
    await s.store.assign(id, username, me, { lead });
    await s.audit.append({
      actor: me,
      action: 'case_assign',
      target: `case:${id}`,
      detail: {
        assignee: username,
        ...(current.assignee && current.assignee !== username ? { from: current.assignee } : {}),
      },
    });
    return reply.redirect(`/console/cases/${id}?done=${username === me ? 'assigned' : 'handed'}`, 303);
  });

  app.post('/cases/:id/unassign', { preHandler: app.requireConsoleRole('lead') }, async (request, reply) => {
    const { id } = idParam.parse(request.params);
    const s = o.system()!;
    const me = request.consoleSession!.username;
    const current = await s.store.get(id);
    if (!current) return refuse(request, reply, 'CASE_NOT_FOUND', 'No such case.');
    // Checked by the store under the row lock: open and assigned.
    await s.store.unassign(id, me);
    await s.audit.append({
      actor: me,
      action: 'case_assign',
      target: `case:${id}`,
      detail: { assignee: null, from: current.assignee },
    });
    return reply.redirect(`/console/cases/${id}?done=unassigned`, 303);
  });

  app.post('/cases/:id/decision', { preHandler: analyst }, async (request, reply) => {
    const { id } = idParam.parse(request.params);
    const parsed = decisionBody.safeParse(request.body ?? {});
    // A field other than the note at fault is no form of the console's: refused as before (400),
    // whatever the case.
    if (!parsed.success && parsed.error.issues.some((i) => i.path[0] !== 'note')) throw parsed.error;
    const s = o.system()!;
    const session = request.consoleSession!;
    const current = await s.store.get(id);
    if (!current) return refuse(request, reply, 'CASE_NOT_FOUND', 'No such case.');
    if (!parsed.success) {
      // A note the form rules refuse (a control character pasted in, too long): the case page
      // saying why, the note back in its box without what was refused (docs/console.md), not an
      // error page that loses it.
      const raw = (request.body ?? {}) as Record<string, unknown>;
      const note = keptText(raw.note, 4000);
      const why = [...new Set(parsed.error.issues.map((i) => i.message))].join('; ');
      return keepAndShow(request, reply, {
        caseId: id,
        action: raw.action as CaseAction,
        note,
        allowListDays: decisionBody.shape.allowListDays.catch(0).parse(raw.allowListDays),
        status: statusOf('VALIDATION_FAILED'),
        notice: `The note ${why}: nothing was decided.${note ? ' It is back in the note box with what was refused taken out: check it and send it again.' : ''}`,
      });
    }
    const body = parsed.data;
    // Every refusal below answers the case page with the note back in its box, never an error page that loses it.
    const draft: CaseDraft = { action: body.action, note: body.note ?? '', allowListDays: body.allowListDays };
    const keepNote = (code: ErrorCode, why: string) => refuseKeepingNote(request, reply, id, code, why, draft);
    // Cancel on the "Mark fraud?" page: back to the case, the note still in its box.
    if (body.cancel === '1')
      return keepAndShow(request, reply, {
        caseId: id,
        note: draft.note,
        allowListDays: draft.allowListDays,
        status: 200,
        notice: `Not marked as fraud.${draft.note ? ' Your note is kept in the note box.' : ''}`,
      });
    const mayDecideEscalated = atLeast(session.role, 'lead');
    if (current.status === 'escalated' && !mayDecideEscalated)
      return keepNote('CASE_FORBIDDEN', 'Escalated cases are decided by a lead.');
    // Before any confirmation page: someone who may not decide the case is not asked to confirm.
    if (current.assignee !== null && current.assignee !== session.username && !mayDecideEscalated)
      return keepNote(
        'CASE_FORBIDDEN',
        `Case #${id} is assigned to ${current.assignee}: only they or a lead decide it.`,
      );
    // A card the issuer says was used without its holder is not allow-listed from its own case (docs/console.md).
    if (body.action === 'mark_legitimate' && body.allowListDays > 0) {
      const outcomes = await s.store.outcomesOf(current.merchantId, current.transactionId);
      if (summariseOutcomes(outcomes, current.decision).fraudChargeback)
        return keepNote(
          'CASE_CONFLICT',
          `Case #${id}: a fraud chargeback is recorded for this transaction, so its card is not allow-listed. Mark it legitimate without allow-listing, or wait for the chargeback to be reversed.`,
        );
    }
    // Mark fraud lists the case's entities for every merchant: a page says what, and asks again.
    if (body.action === 'mark_fraud' && body.confirm !== '1') {
      if (!OPEN_STATUSES.includes(current.status))
        return keepNote('CASE_CONFLICT', `Case #${id} is ${current.status}: it is decided already.`);
      return sendPage(
        reply,
        200,
        `Mark case #${id} as fraud?`,
        confirmFraudPage(current, session, body.note ?? '', s.feedback.negativeListDays),
        session,
      );
    }
    // Checked again by the store under the row lock: the case may be escalated, taken or decided
    // since it was read (then refused, the note kept). The audit entries commit with the decision;
    // its effects (negative lists, allow-list, labels) are recorded with it too and applied now, or
    // retried by a worker when they cannot be.
    let decided;
    try {
      decided = await s.feedback.decide(id, body.action, session.username, {
        note: body.note || undefined,
        mayDecideEscalated,
        mayDecideOthers: mayDecideEscalated,
        allowListDays: body.action === 'mark_legitimate' ? body.allowListDays : 0,
        audit: (result) => [
          {
            actor: session.username,
            action: 'case_decision',
            target: `case:${id}`,
            detail: {
              action: body.action,
              from: result.previousStatus,
              to: result.case.status,
              ...(body.note ? { note: true } : {}),
            },
          },
          ...(body.note
            ? [
                {
                  actor: session.username,
                  action: 'case_note' as const,
                  target: `case:${id}`,
                  detail: { length: body.note.length },
                },
              ]
            : []),
        ],
      });
    } catch (err) {
      if (err instanceof CaseForbidden || err instanceof CaseConflict) return keepNote(err.code, err.message);
      throw err;
    }
    await forgetKept(request);
    if (decided.effects === 'pending')
      request.log.warn({ caseId: id }, 'decision recorded; its effects could not be applied yet and are retried');
    // The page says what was listed or allow-listed, and whether it waits, from the recorded effects.
    return reply.redirect(`/console/cases/${id}?done=${body.action}`, 303);
  });

  // A lead reverses a wrong decision: a page that says what it undoes and asks why, then the reversal.
  const lead = app.requireConsoleRole('lead');
  const reversible = (c: CaseRecord) => c.status === 'fraud' || c.status === 'legitimate';

  app.get('/cases/:id/reverse', { preHandler: lead }, async (request, reply) => {
    const { id } = idParam.parse(request.params);
    const record = await o.system()!.store.get(id);
    if (!record) return refuse(request, reply, 'CASE_NOT_FOUND', 'No such case.');
    if (!reversible(record))
      return refuse(
        request,
        reply,
        'CASE_CONFLICT',
        `Case #${id} is ${record.status}: there is no decision to reverse.`,
      );
    return sendPage(
      reply,
      200,
      `Reverse case #${id}`,
      reversePage(record, request.consoleSession!),
      request.consoleSession,
    );
  });

  app.post('/cases/:id/reverse', { preHandler: lead }, async (request, reply) => {
    const { id } = idParam.parse(request.params);
    const s = o.system()!;
    const session = request.consoleSession!;
    const record = await s.store.get(id);
    if (!record) return refuse(request, reply, 'CASE_NOT_FOUND', 'No such case.');
    const parsed = reverseBody.safeParse(request.body ?? {});
    const raw = (request.body ?? {}) as Record<string, unknown>;
    // What the lead typed is never lost to a refusal: back in the reason box (masked, as a kept
    // note is), or, when there is no decision to reverse any more, in the case's note box.
    const typed = scrubCardNumbers(keptText(raw.reason, 4000));
    const notReversible = (why: string) =>
      keepAndShow(request, reply, {
        caseId: id,
        note: typed,
        allowListDays: 0,
        status: statusOf('CASE_CONFLICT'),
        notice: `${why} Nothing was reversed.${typed ? ' Your reason is kept in the note box: add it as a note if it still matters.' : ''}`,
      });
    if (!reversible(record))
      return notReversible(`Case #${id} is ${record.status.replace('_', ' ')}: there is no decision to reverse.`);
    if (!parsed.success) {
      const category = REVERSAL_CATEGORIES.find((c) => c === raw.category);
      return sendPage(
        reply,
        statusOf('VALIDATION_FAILED'),
        `Reverse case #${id}`,
        reversePage(
          record,
          session,
          `Not reversed: ${issueLines(parsed.error, { root: '' }).join('; ')}.${typed ? ' Your reason is back in its box with what was refused taken out: check it and send it again.' : ''}`,
          { reason: typed, ...(category ? { category } : {}) },
        ),
        session,
      );
    }
    const { reason, category } = parsed.data;
    // Checked under the row lock by the store (CaseConflict when the case is not decided any more).
    let reversed;
    try {
      reversed = await s.feedback.reverse(id, session.username, reason, {
        category,
        audit: (result) => [
          {
            actor: session.username,
            action: 'case_decision_reversed',
            target: `case:${id}`,
            detail: { from: result.previousStatus, to: result.case.status, category, reason },
          },
          // Its assignee disabled (or not enrolled) since the decision: back to the queue, as a disable returns open cases.
          ...(result.returnedFrom
            ? [
                {
                  actor: session.username,
                  action: 'case_assign' as const,
                  target: `case:${id}`,
                  detail: { assignee: null, from: result.returnedFrom, via: 'case_reversal' },
                },
              ]
            : []),
        ],
      });
    } catch (err) {
      if (!(err instanceof CaseConflict)) throw err;
      const latest = await s.store.get(id);
      return notReversible(
        `Case #${id} is ${latest ? latest.status.replace('_', ' ') : 'gone'}: its decision was reversed or changed meanwhile, there is none to reverse.`,
      );
    }
    if (reversed.effects === 'pending')
      request.log.warn({ caseId: id }, 'reversal recorded; its effects could not be applied yet and are retried');
    return reply.redirect(`/console/cases/${id}?done=reversed`, 303);
  });

  app.post('/cases/:id/notes', { preHandler: analyst }, async (request, reply) => {
    const { id } = idParam.parse(request.params);
    const parsed = noteBody.safeParse(request.body ?? {});
    if (!parsed.success) {
      // An empty box is said on the case page; a note the form rules refuse (a control character,
      // too long) is refused precisely, as before.
      const empty = parsed.error.issues.every((i) => i.message === 'is empty');
      if (!empty) throw parsed.error;
      if (!(await o.system()!.store.get(id))) return refuse(request, reply, 'CASE_NOT_FOUND', 'No such case.');
      return keepAndShow(request, reply, {
        caseId: id,
        note: '',
        allowListDays: 0,
        status: 400,
        notice: 'The note is empty: nothing was added.',
      });
    }
    const text = parsed.data.text ?? parsed.data.note!;
    const s = o.system()!;
    await s.store.addNote(id, request.consoleSession!.username, text);
    await forgetKept(request);
    await s.audit.append({
      actor: request.consoleSession!.username,
      action: 'case_note',
      target: `case:${id}`,
      detail: { length: text.length },
    });
    return reply.redirect(`/console/cases/${id}?done=note`, 303);
  });
}
