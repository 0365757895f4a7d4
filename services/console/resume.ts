// A decision typed into a session that expired before it was sent (a case worked for longer than
// the idle timeout): not lost. The POST answers the sign-in form carrying the decision and its note
// in hidden fields (card numbers masked); the sign-in keeps them on the new session, server-side,
// and lands on the case with them filled in, to be checked and sent again: a sign-in never decides.
// Only for a request from the console's own pages (docs/console.md, "A decision after the session expired").
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CASE_ACTIONS, type CaseAction } from '../cases/model.ts';
import { scrubCardNumbers } from '../core/scrub.ts';
import { html, type Safe } from './html.ts';
import { freeText } from './plugins/shared.ts';

export interface DecisionDraft {
  caseId: number;
  action: CaseAction;
  note: string;
  allowListDays: number;
}

export const ACTION_WORDS: Record<CaseAction, string> = {
  mark_fraud: 'Mark fraud',
  mark_legitimate: 'Mark legitimate',
  escalate: 'Escalate',
};

const DECISION_PATH = /^\/console\/cases\/([1-9][0-9]{0,14})\/decision$/;
const caseId = z.coerce.number().int().min(1).max(999_999_999_999_999);
const fields = {
  action: z.enum(CASE_ACTIONS),
  // Masked here, before the note is echoed into a page or kept in the session's row.
  note: freeText(4000)
    .default('')
    .transform((v) => scrubCardNumbers(v)),
  allowListDays: z.coerce.number().int().min(0).max(365).default(0),
};
const draftSchema = z.object({ caseId, ...fields });
const decisionForm = z.object(fields);
/** The sign-in form's hidden fields. */
const resumeForm = z.object({
  resumeCase: caseId,
  resumeAction: fields.action,
  resumeNote: fields.note,
  resumeAllowListDays: fields.allowListDays,
});

/**
 * The decision a POST without a valid session carried, when it comes from the console's own page,
 * or undefined (another route, not a decision, or not provably the console's page). What the
 * browser says decides: `Sec-Fetch-Site` must be same-origin (not same-site: a sibling subdomain's
 * page gets SameSite cookies sent too), and a real `Origin` the console's host (the console's
 * no-referrer policy makes browsers send "null" instead). A browser that sends no `Sec-Fetch-Site`
 * (Safari before 16.4) proves nothing: a sibling subdomain's page with a no-referrer policy would
 * look the same, cookie and all, and could plant a decision in the form; its draft is not kept.
 */
export function draftOfSignedOutPost(request: FastifyRequest): DecisionDraft | undefined {
  const origin = request.headers.origin;
  if (request.headers['sec-fetch-site'] !== 'same-origin') return undefined;
  if (
    origin !== undefined &&
    origin !== 'null' &&
    !(URL.canParse(origin) && new URL(origin).host === request.headers.host)
  )
    return undefined;
  const m = DECISION_PATH.exec(request.url.split('?', 1)[0]!);
  if (!m) return undefined;
  const body = decisionForm.safeParse(request.body ?? {});
  return body.success ? { caseId: Number(m[1]), ...body.data } : undefined;
}

/** The draft the sign-in form carried back, or undefined. */
export function draftOfLoginForm(body: unknown): DecisionDraft | undefined {
  const r = resumeForm.safeParse(body ?? {});
  if (!r.success) return undefined;
  const d = r.data;
  return { caseId: d.resumeCase, action: d.resumeAction, note: d.resumeNote, allowListDays: d.resumeAllowListDays };
}

/** A draft as the session's row gave it back (validated again: it is read from storage), or undefined. */
export function draftOfStored(value: unknown): DecisionDraft | undefined {
  const r = draftSchema.safeParse(value);
  return r.success ? r.data : undefined;
}

export function draftHiddenFields(d: DecisionDraft): Safe {
  const field = (name: string, value: string | number) => html`<input type="hidden" name="${name}" value="${value}" />`;
  return html`${field('resumeCase', d.caseId)}${field('resumeAction', d.action)}${field('resumeNote', d.note)}${field('resumeAllowListDays', d.allowListDays)}`;
}

export const draftLoginNotice = (d: DecisionDraft) =>
  `Your session expired before your decision on case #${d.caseId} (${ACTION_WORDS[d.action]}${d.note ? ', with your note' : ''}) was sent: nothing was decided. Sign in again and it is filled in on the case for you to check and send.`;
