// Reversing a decision (a lead's correction): what the reversal will undo, and the form that asks
// for its reason. The page itself is the confirmation step (the console runs no script).
import { REVERSAL_CATEGORIES, type CaseRecord, type ReversalCategory } from '../../cases/model.ts';
import type { SessionView } from '../../cases/users.ts';
import { consoleHref, html, type Safe } from '../html.ts';
import { status } from './parts.ts';

const CATEGORY_NAMES: Record<ReversalCategory, string> = {
  decision_error: 'The decision was wrong on its evidence',
  new_evidence: 'New evidence since the decision',
  merchant_request: 'The merchant asked for it',
  other: 'Other',
};

const KINDS = { device: 'device', ip: 'IP', email: 'email', shipping: 'shipping address' } as const;

/** `kept`: what the lead sent and was refused, filled in again (the reason masked, its control characters taken out). */
export function reversePage(
  c: CaseRecord,
  session: SessionView,
  message?: string,
  kept?: { reason: string; category?: ReversalCategory },
): Safe {
  const listed = (Object.keys(KINDS) as (keyof typeof KINDS)[]).filter((k) => c.links[k]).map((k) => KINDS[k]);
  const undo =
    c.status === 'fraud'
      ? html`<li>the fraud label goes (label export, the labels topic, breach discovery);</li>
          <li>
            ${
              listed.length
                ? html`the entries this decision put on the negative lists go (its ${listed.join(', ')}); an entity
                  another fraud decision listed stays listed;`
                : html`it listed nothing: the case had no device, IP, email or shipping address;`
            }
          </li>`
      : html`<li>the legitimate label goes (label export, the labels topic);</li>
          <li>an allow-listing of the card for ${c.merchantId} made by this decision goes;</li>`;
  // Built apart: the formatter must not put a line break before the text a refusal gives back.
  const reason = kept?.reason ?? '';
  // prettier-ignore
  const reasonField = html`<textarea name="reason" id="reverse-reason" rows="3" maxlength="4000" required>${reason}</textarea>`;
  return html`<section class="card" id="reverse">
    <h1>Reverse the decision on case #${c.id}</h1>
    ${message ? html`<p class="error" id="reverse-error">${message}</p>` : ''}
    <p>Decided ${status(c.status)} by ${c.decidedBy ?? '—'} at ${c.decidedAt ?? '—'}. Reversing it:</p>
    <ul id="reverse-effects">
      ${undo}
      <li>the case is open again, to be decided anew; the reversal and its reason are audited.</li>
    </ul>
    <form method="post" action="${consoleHref(`/console/cases/${c.id}/reverse`)}" id="reverse-form">
      <input type="hidden" name="_csrf" value="${session.csrfToken}" />
      <label
        >Why, for the merchant (required: its webhook is told this category, never the reason below)
        <select name="category" id="reverse-category" required>
          ${REVERSAL_CATEGORIES.map((c) =>
            c === kept?.category
              ? html`<option value="${c}" selected>${CATEGORY_NAMES[c]}</option>`
              : html`<option value="${c}">${CATEGORY_NAMES[c]}</option>`,
          )}
        </select></label
      ><br />
      <label>Reason (required; stays in the case and the audit log) ${reasonField}</label><br />
      <button class="esc" type="submit" id="reverse-confirm">Reverse the decision</button>
      <a href="${consoleHref(`/console/cases/${c.id}`)}">Cancel</a>
    </form>
  </section>`;
}
