// A decision (or a note) typed into a session that expired before it was sent (a case worked for longer than
// the idle timeout): not lost. The POST answers the sign-in form carrying the decision and its note
// in hidden fields (card numbers masked); the sign-in keeps them on the new session, server-side,
// and lands on the case with them filled in, to be checked and sent again: a sign-in never decides.
// Only for a request from the console's own pages (docs/console.md, "A decision after the session expired").
// A decision or note the console refused is kept on the session's row the same way (KeptDraft).
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CASE_ACTIONS, type CaseAction } from '../cases/model.ts';
import { scrubCardNumbers } from '../core/scrub.ts';
import { html, type Safe } from './html.ts';
import { freeText } from './plugins/shared.ts';

export interface DecisionDraft {
  caseId: number;
  /** A decision, or 'note': a note posted from the History box (POST /console/cases/:id/notes). */
  action: CaseAction | 'note';
  note: string;
  allowListDays: number;
}

export const ACTION_WORDS: Record<CaseAction | 'note', string> = {
  note: 'Add note',
  mark_fraud: 'Mark fraud',
  mark_legitimate: 'Mark legitimate',
  escalate: 'Escalate',
};

const DECISION_PATH = /^\/console\/cases\/([1-9][0-9]{0,14})\/decision$/;
const NOTES_PATH = /^\/console\/cases\/([1-9][0-9]{0,14})\/notes$/;
const caseId = z.coerce.number().int().min(1).max(999_999_999_999_999);
const fields = {
  action: z.enum(CASE_ACTIONS),
  // Masked here, before the note is echoed into a page or kept in the session's row.
  note: freeText(4000)
    .default('')
    .transform((v) => scrubCardNumbers(v)),
  allowListDays: z.coerce.number().int().min(0).max(365).default(0),
};
const draftAction = z.enum([...CASE_ACTIONS, 'note']);
const draftSchema = z.object({ caseId, ...fields, action: draftAction });
const decisionForm = z.object(fields);
/** A note's form: `text` from the History box, `note` from the box beside the decision buttons. */
const noteForm = z.object({ text: fields.note.optional(), note: fields.note.optional() });
/** The sign-in form's hidden fields. */
const resumeForm = z.object({
  resumeCase: caseId,
  resumeAction: draftAction,
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
  const path = request.url.split('?', 1)[0]!;
  const note = NOTES_PATH.exec(path);
  if (note) {
    const body = noteForm.safeParse(request.body ?? {});
    const text = body.success ? body.data.text || body.data.note : undefined;
    return text ? { caseId: Number(note[1]), action: 'note', note: text, allowListDays: 0 } : undefined;
  }
  const m = DECISION_PATH.exec(path);
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
  const r = draftSchema.strict().safeParse(value);
  return r.success ? r.data : undefined;
}

/**
 * A decision or note the console did not record (refused: 403, 409; an empty note: 400; Cancel on
 * "Mark fraud?": 200), kept on the session's row for the case page its POST redirects to
 * (`/console/cases/:id?kept=1`, Post/Redirect/Get): reloading that page reads it again and never
 * sends the form again, and the note is in neither the URL nor the browser's history. It stays
 * until the session records a decision or note, or keeps another.
 */
export interface KeptDraft {
  caseId: number;
  /** The button pressed, focused again; none for a cancelled confirmation. */
  action?: CaseAction | 'note';
  note: string;
  allowListDays: number;
  /** The page's status and notice: why nothing was recorded. */
  status: number;
  notice: string;
}
const keptSchema = z.object({
  caseId,
  action: draftAction.optional(),
  note: fields.note,
  allowListDays: fields.allowListDays,
  kept: z.object({ status: z.number().int().min(200).max(499), notice: z.string().max(2000) }),
});

/** What the session's row keeps: the note masked (the scrubber) before it is stored. */
export const storedKept = (d: KeptDraft): Record<string, unknown> => ({
  caseId: d.caseId,
  ...(d.action ? { action: d.action } : {}),
  note: scrubCardNumbers(d.note),
  allowListDays: d.allowListDays,
  kept: { status: d.status, notice: scrubCardNumbers(d.notice) },
});

/** A kept draft as the session's row gave it back (validated again), or undefined (none, or a sign-in's draft). */
export function keptOfStored(value: unknown): KeptDraft | undefined {
  const r = keptSchema.safeParse(value);
  if (!r.success) return undefined;
  const { kept, ...draft } = r.data;
  return { ...draft, ...kept };
}

export function draftHiddenFields(d: DecisionDraft): Safe {
  const field = (name: string, value: string | number) => html`<input type="hidden" name="${name}" value="${value}" />`;
  return html`${field('resumeCase', d.caseId)}${field('resumeAction', d.action)}${field('resumeNote', d.note)}${field('resumeAllowListDays', d.allowListDays)}`;
}

export const draftLoginNotice = (d: DecisionDraft) =>
  d.action === 'note'
    ? `Your session expired before your note on case #${d.caseId} was sent: it was not added. Sign in again and it is filled in on the case for you to check and add.`
    : `Your session expired before your decision on case #${d.caseId} (${ACTION_WORDS[d.action]}${d.note ? ', with your note' : ''}) was sent: nothing was decided. Sign in again and it is filled in on the case for you to check and send.`;
