// One case: the transaction and its evidence at decision time, personal data (decrypted for this
// page only), compromise events, linked cases, history, and the decision and note forms.
import type { CaseAction, CaseEvent, CaseRecord, LinkedCase, LinkedCases } from '../../cases/model.ts';
import type { PersonalView } from '../../cases/personal-data.ts';
import { outcomeLabel, type CaseOutcome, type OutcomeSummary } from '../../cases/outcomes.ts';
import type { SessionView } from '../../cases/users.ts';
import type { CompromiseEvent } from '../../core/watchlist.ts';
import { consoleHref, html, type Safe } from '../html.ts';
import { ADDRESS_LINES, scrubLines } from '../../core/scrub.ts';
import { currencyExponent, isCurrencyCode } from '../../core/currency.ts';
import { money, status } from './parts.ts';

function kv(rows: [string, unknown][]): Safe {
  return html`<table>
    <tbody>
      ${rows
        .filter(([, v]) => v !== undefined && v !== null && v !== '')
        .map(
          ([k, v]) =>
            html`<tr>
              <th>${k}</th>
              <td>${String(v)}</td>
            </tr>`,
        )}
    </tbody>
  </table>`;
}

/**
 * An address, its lines one under the other: scrubbed as the text they show together, so that a
 * card split across them is masked (a case stored before addresses were scrubbed so).
 */
function address(a: Record<string, unknown> | undefined): Safe {
  if (!a) return html`<span class="muted">—</span>`;
  const parts = ADDRESS_LINES.map((k) => a[k]).filter((v) => typeof v === 'string' && v !== '') as string[];
  const lines = scrubLines(parts).filter((line) => line !== '');
  return html`${lines.map((p, i) => html`${i ? html`<br />` : ''}${p}`)}`;
}

/** Why a case shows no email, phone, address, IP or device: erased by retention, or not decryptable here. */
function personalNotice(v: PersonalView): Safe | '' {
  if (v.state === 'erased') {
    const after = v.retentionDays === null ? '' : ` after ${v.retentionDays} days`;
    return html`<p class="notice" id="personal-data">
      Personal data erased${after} (${v.erasedAt.slice(0, 10)}): the customer id, email, phone, addresses, IP and device
      are no longer kept.
    </p>`;
  }
  if (v.state === 'unreadable') {
    return html`<p class="error" id="personal-data">
      Personal data unreadable: encrypted under a key this engine does not hold, or for another case.
    </p>`;
  }
  return '';
}

// One row per linked case, its cells side by side (the console's tests read them so): kept as written.
// prettier-ignore
const linkedRow = (l: LinkedCase) =>
  html`<tr><td><a href="${consoleHref(`/console/cases/${l.id}`)}">#${l.id}</a></td><td>${l.via.join(', ')}</td><td>${l.merchantId}</td><td>${l.transactionId}</td><td>${l.score}</td><td>${status(l.status)}</td></tr>`;

/** A note as the history shows it: its text, or that the retention erased it. */
function noteText(e: CaseEvent): Safe {
  if (e.detail.erasedAt !== undefined) {
    const after = typeof e.detail.retentionDays === 'number' ? ` after ${e.detail.retentionDays} days` : '';
    return html`noted: <span class="muted note-erased">(note erased${after}, with the case's personal data)</span>`;
  }
  return html`noted: <span class="note">${String(e.detail.text ?? '')}</span>`;
}

/**
 * The order's amount as the features and rules saw it (amount_ref, in hundredths of the rate
 * table's reference currency), named: a reason's "25222.84 in the reference currency" reads as euros
 * only to whoever knows the table. Undefined for a case without it (scored before amount_ref).
 */
function referenceAmount(c: CaseRecord, reference: string): string | undefined {
  const ref = c.features.amount_ref;
  if (typeof ref !== 'number' || !isCurrencyCode(reference)) return undefined;
  return `${money(Math.round(ref * 10 ** currencyExponent(reference)), reference)} (${reference}, the reference currency of the rate table)`;
}

/** A rule's message that quotes an amount "in the reference currency" names it. */
const namedReference = (message: string, reference: string) =>
  message.replaceAll('in the reference currency', `in the reference currency, ${reference}`);

/**
 * A feature's value as the evidence table shows it: a fraction to at most 4 decimals. Sixteen digits
 * of a ratio (2.972129843735801) are noise to an analyst, and may pass the Luhn check and be masked
 * as a card number by the page's scrubber, which still scrubs everything.
 */
export function evidenceValue(value: unknown): string {
  if (typeof value !== 'number' || Number.isInteger(value) || !Number.isFinite(value)) return String(value);
  if (Math.abs(value) < 0.0001) return value.toPrecision(2);
  return String(Number(value.toFixed(4)));
}

export interface CaseDraft {
  action?: CaseAction | 'note';
  note: string;
  allowListDays: number;
}

export interface CaseView {
  record: CaseRecord;
  /** The case's personal data, decrypted for this page (or why they cannot be shown). */
  personal: PersonalView;
  history: CaseEvent[];
  /** Strongest link first; `total` says how many there are beyond those shown. */
  linked: LinkedCases;
  events: (CompromiseEvent | { id: string; missing: true })[];
  canDecide: boolean;
  /** Why this user may not decide the open case (another analyst's, escalated), shown instead of the form. */
  decideRefusal?: string | undefined;
  /** Open, not already theirs, and theirs to take (escalated or others' cases: leads only). */
  canAssign: boolean;
  /** A lead's hand-over of an open case: to one of these active users, or back to the queue. */
  handOver?: { assignees: string[]; canUnassign: boolean };
  /** A decided case a lead may reverse (its confirmation page: /console/cases/:id/reverse). */
  canReverse?: boolean;
  allowListMaxDays: number;
  /** The rate table's reference currency: the case's amount_ref and the reasons that quote it are in it. */
  referenceCurrency: string;
  /** The outcomes merchants reported for the case's transaction, oldest first, and what they say. */
  outcomes: CaseOutcome[];
  outcomeSummary: OutcomeSummary;
  /** The page after this user's decision: a button taking the next case (POST /console/queue/take-next). */
  offerTakeNext?: boolean;
  /**
   * Text the analyst sent that was not recorded: a decision or note kept from an expired session
   * (resume.ts), a refused decision, a cancelled confirmation. Put back in the note box, its button
   * (if any) focused, nothing applied.
   */
  draft?: CaseDraft;
}

/** What the outcomes say that an analyst must see before deciding: shown at the top of the page. */
function outcomeAlerts(s: OutcomeSummary): Safe | '' {
  const alerts: string[] = [];
  if (s.fraudChargeback)
    alerts.push(
      'A fraud chargeback is recorded for this transaction: the issuer says the card was used without its holder. The card cannot be allow-listed from this case while it stands.',
    );
  if (s.stepUp === 'failed') alerts.push('The 3-D Secure challenge failed: the customer did not pass the step-up.');
  if (alerts.length === 0) return '';
  return html`<div class="error" id="outcome-alert">${alerts.map((a) => html`<p>${a}</p>`)}</div>`;
}

// One row per outcome, its cells side by side (the console's tests read them so): kept as written.
// prettier-ignore
const outcomeRow = (o: CaseOutcome) =>
  html`<tr data-outcome="${o.outcome}"><td>${outcomeLabel(o.outcome)}</td><td>${o.at}</td></tr>`;

function outcomesSection(v: CaseView): Safe {
  const s = v.outcomeSummary;
  const stepUp =
    s.stepUp === 'failed'
      ? 'failed'
      : s.stepUp === 'passed'
        ? 'passed (authorized after the challenge)'
        : v.record.decision === 'challenge'
          ? 'not reported'
          : undefined;
  return html`<section class="card" id="outcomes">
    <h2>Outcomes reported by the merchant</h2>
    ${
      v.outcomes.length === 0
        ? html`<p class="muted" id="no-outcomes">None reported yet.</p>`
        : html`<table>
            <thead>
              <tr>
                <th>Outcome</th>
                <th>Occurred</th>
              </tr>
            </thead>
            <tbody>
              ${v.outcomes.map((o) => outcomeRow(o))}
            </tbody>
          </table>`
    }
    ${stepUp ? html`<p id="step-up">3-D Secure step-up: <strong>${stepUp}</strong></p>` : ''}
    ${s.reversedChargeback ? html`<p class="muted" id="chargeback-reversed">The fraud chargeback was reversed: it no longer counts as fraud.</p>` : ''}
  </section>`;
}

/** A lead's forms: assign to another active user, unassign. */
function handOverForms(id: number, h: NonNullable<CaseView['handOver']>, session: SessionView): Safe {
  return html`${
    h.assignees.length
      ? html`<form
          method="post"
          action="${consoleHref(`/console/cases/${id}/assign`)}"
          class="filters"
          id="assign-to-form"
        >
          <input type="hidden" name="_csrf" value="${session.csrfToken}" /><label
            >Assign to
            <select name="username" id="assign-to">
              ${h.assignees.map((u) => html`<option value="${u}">${u}</option>`)}
            </select></label
          ><button type="submit" id="assign-to-button">Assign</button>
        </form>`
      : ''
  }${h.canUnassign ? html`<form method="post" action="${consoleHref(`/console/cases/${id}/unassign`)}"><input type="hidden" name="_csrf" value="${session.csrfToken}" /><button type="submit" id="unassign">Return to the queue</button></form>` : ''}`;
}

export function casePage(v: CaseView, session: SessionView, notice?: string): Safe {
  const c = v.record;
  // The kept decision's button: focused (no script needed) and marked, never pressed for the analyst.
  const chosen = (action: CaseAction | 'note') => (v.draft?.action === action ? html`autofocus data-resumed="1"` : '');
  // On one line: a textarea's content is its text, to the character.
  const draftNote = v.draft?.note ?? '';
  const noteField = html`<textarea name="note" id="decision-note" rows="2" maxlength="4000">${draftNote}</textarea>`;
  const t = c.transaction as unknown as Record<string, unknown> & {
    customer?: Record<string, unknown>;
    items?: Record<string, unknown>[];
    threeDS?: Record<string, unknown>;
  };
  const p = v.personal.state === 'readable' ? v.personal.data : undefined;
  return html`<h1>Case #${c.id} ${status(c.status)}</h1>
    ${notice ? html`<p class="notice" id="notice">${notice}</p>` : ''}${
      v.offerTakeNext
        ? html`<form method="post" action="/console/queue/take-next" id="take-next-form">
            <input type="hidden" name="_csrf" value="${session.csrfToken}" /><button type="submit" id="take-next">
              Take next case
            </button>
            <a href="/console/queue">Back to the queue</a>
          </form>`
        : ''
    }
    ${outcomeAlerts(v.outcomeSummary)} ${outcomesSection(v)}
    <div class="grid">
      <section class="card" id="transaction">
        <h2>Transaction</h2>
        ${kv([
          ['Merchant', c.merchantId],
          ['Transaction', c.transactionId],
          ['Amount', money(c.amount, c.currency)],
          ['Amount in reference currency', referenceAmount(c, v.referenceCurrency)],
          ['Channel', c.channel],
          ['Occurred', c.occurredAt],
          ['Flagged', c.flaggedAt],
          ['Card', c.transaction.card.masked],
          ['Card key', c.card.keyId],
          ['CVV result', c.transaction.card.cvvResult],
          [
            '3-D Secure',
            t.threeDS
              ? `${String(t.threeDS.status)}${t.threeDS.version ? ` (v${String(t.threeDS.version)})` : ''}`
              : undefined,
          ],
          ['Customer id', p?.customer?.id],
          ['Email', p?.customer?.email],
          ['Phone', p?.customer?.phone],
          ['Account created', t.customer?.accountCreatedAt],
          ['Device id', p?.device?.id],
          ['IP', p?.device?.ip],
          ['User agent', p?.device?.userAgent],
        ])}
        ${personalNotice(v.personal)}
        <table>
          <tbody>
            <tr>
              <th>Billing address</th>
              <td id="billing-address">${address(p?.billingAddress)}</td>
            </tr>
            <tr>
              <th>Shipping address</th>
              <td id="shipping-address">${address(p?.shippingAddress)}</td>
            </tr>
          </tbody>
        </table>
        ${
          t.items?.length
            ? html`<h2>Items</h2>
                <table id="items">
                  <thead>
                    <tr>
                      <th>Name</th>
                      <th>SKU</th>
                      <th>Category</th>
                      <th>Qty</th>
                      <th>Unit price</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${t.items.map(
                      (i) =>
                        html`<tr>
                          <td>${String(i.name ?? '')}</td>
                          <td>${String(i.sku ?? '')}</td>
                          <td>${String(i.category ?? '')}</td>
                          <td>${String(i.quantity ?? '')}</td>
                          <td>${i.unitPrice === undefined ? '' : money(Number(i.unitPrice), c.currency)}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>`
            : ''
        }
      </section>
      <section class="card" id="decision">
        <h2>Decision at checkout</h2>
        ${kv([
          ['Score', c.score],
          ['Decision', c.decision],
          ['Degraded', c.degraded ? 'yes' : 'no'],
          ['Assignee', c.assignee ?? '—'],
          ['Decided by', c.decidedBy],
          ['Decided at', c.decidedAt],
        ])}
        <h2>Reasons</h2>
        <ul id="reasons">
          ${c.reasons.map((r) => html`<li><strong>${r.code}</strong> — ${namedReference(r.message, v.referenceCurrency)}</li>`)}
        </ul>
        ${
          v.canDecide
            ? html`<h2>Actions</h2>
                <form method="post" action="${consoleHref(`/console/cases/${c.id}/decision`)}" id="decide-form">
                  <input type="hidden" name="_csrf" value="${session.csrfToken}" />
                  <label for="decision-note">Note</label> ${noteField}<br />
                  ${
                    v.outcomeSummary.fraudChargeback
                      ? html`<p class="muted" id="allow-list-refused">
                          No allow-listing: a fraud chargeback is recorded for this transaction.
                        </p>`
                      : html`<label
                            >Allow-list this card for ${c.merchantId} (legitimate only)
                            <select name="allowListDays" id="allow-list-days">
                              <option value="0">no</option>
                              ${[7, 30, 90].filter((d) => d <= v.allowListMaxDays).map((d) => html`<option value="${d}" ${v.draft?.allowListDays === d ? html`selected` : ''}>${d} days</option>`)}
                            </select></label
                          ><br />`
                  }
                  <button class="fraud" name="action" value="mark_fraud" id="mark-fraud" ${chosen('mark_fraud')}>
                    Mark fraud
                  </button>
                  <button
                    class="legit"
                    name="action"
                    value="mark_legitimate"
                    id="mark-legitimate"
                    ${chosen('mark_legitimate')}
                  >
                    Mark legitimate
                  </button>
                  ${c.status !== 'escalated' ? html`<button class="esc" name="action" value="escalate" id="escalate" ${chosen('escalate')}>Escalate</button>` : ''}
                  <button
                    type="submit"
                    formaction="${consoleHref(`/console/cases/${c.id}/notes`)}"
                    id="add-note"
                    ${chosen('note')}
                  >
                    Add note only
                  </button>
                </form>`
            : html`${v.decideRefusal ? html`<p class="muted" id="decide-refusal">${v.decideRefusal}</p>` : ''}${
                v.draft?.note
                  ? html`<p class="muted" id="resumed-note">
                      Your note is in the note box under History, not recorded: the case cannot be decided here. Add it
                      as a note, or copy it.
                    </p>`
                  : ''
              }`
        }
        ${v.canAssign ? html`<form method="post" action="${consoleHref(`/console/cases/${c.id}/assign`)}"><input type="hidden" name="_csrf" value="${session.csrfToken}" /><button type="submit" id="assign-me">Assign to me</button></form>` : ''}
        ${v.handOver ? handOverForms(c.id, v.handOver, session) : ''}
        ${
          v.canReverse
            ? html`<p>
                <a href="${consoleHref(`/console/cases/${c.id}/reverse`)}" id="reverse">Reverse this decision…</a>
              </p>`
            : ''
        }
      </section>
    </div>
    <div class="grid">
      <section class="card" id="linked">
        <h2>Linked cases</h2>
        ${
          v.linked.total > v.linked.cases.length
            ? html`<p class="notice" id="linked-cut">
                ${v.linked.cases.length} of ${v.linked.total.toLocaleString('en')} shown: the same card first, then
                device, email, IP and shipping address, newest first within each.
              </p>`
            : ''
        }
        ${
          v.linked.cases.length === 0
            ? html`<p class="muted">None.</p>`
            : html`<table>
                <thead>
                  <tr>
                    <th>Case</th>
                    <th>Via</th>
                    <th>Merchant</th>
                    <th>Transaction</th>
                    <th>Score</th>
                    <th>Status</th>
                  </tr>
                </thead>
                <tbody>
                  ${v.linked.cases.map((l) => linkedRow(l))}
                </tbody>
              </table>`
        }
      </section>
      <section class="card" id="compromise-events">
        <h2>Compromise events of this card</h2>
        ${
          v.events.length === 0
            ? html`<p class="muted">The card was not listed when it was scored.</p>`
            : html`<table>
                <thead>
                  <tr>
                    <th>Event</th>
                    <th>Source</th>
                    <th>Exposure</th>
                    <th>Leaked</th>
                    <th>Status</th>
                  </tr>
                </thead>
                <tbody>
                  ${v.events.map((e) =>
                    'missing' in e
                      ? html`<tr>
                          <td>${e.id}</td>
                          <td colspan="4" class="muted">no longer known</td>
                        </tr>`
                      : html`<tr>
                          <td>${e.id} <span class="muted">${e.externalId}</span></td>
                          <td>
                            ${e.source}${e.description ? html`<br /><span class="muted">${e.description}</span>` : ''}
                          </td>
                          <td>${e.exposureStart.slice(0, 10)} – ${e.exposureEnd.slice(0, 10)}</td>
                          <td>${e.dataElements.join(', ')}</td>
                          <td>${e.status} (${e.confidence})</td>
                        </tr>`,
                  )}
                </tbody>
              </table>`
        }
      </section>
    </div>
    <section class="card" id="evidence">
      <h2>Evidence at decision time</h2>
      <table>
        <tbody>
          ${Object.entries(c.features)
            .filter(([, val]) => val !== 0 && val !== false && val !== -1)
            .map(
              ([k, val]) =>
                html`<tr>
                  <th>${k}</th>
                  <td>${evidenceValue(val)}</td>
                </tr>`,
            )}
        </tbody>
      </table>
      <p class="muted">Features that were zero, false or unknown are not shown.</p>
    </section>
    <section class="card" id="history">
      <h2>History</h2>
      <ol>
        ${v.history.map((e) => html`<li><span class="muted">${e.at}</span> <strong>${e.actor}</strong> ${e.kind === 'note' ? noteText(e) : e.kind === 'status' ? html`changed status ${String(e.detail.from)} → ${String(e.detail.to)}` : e.kind === 'assigned' ? (e.detail.assignee === null ? html`returned it to the queue (from ${String(e.detail.from)})` : html`assigned to ${String(e.detail.assignee)}`) : html`created the case (${String(e.detail.decision)}, score ${String(e.detail.score)})`}</li>`)}
      </ol>
      ${
        // One note box on the page: beside the decision buttons when the user may decide (its "Add
        // note only" button posts it here), else this one. Two boxes lost the one a button did not send.
        v.canDecide
          ? html`<p class="muted" id="note-hint">Add a note with the note box under Actions ("Add note only").</p>`
          : html`<form method="post" action="${consoleHref(`/console/cases/${c.id}/notes`)}" id="note-form">
              <input type="hidden" name="_csrf" value="${session.csrfToken}" /><label for="note-text">Note</label>
              <textarea name="text" id="note-text" rows="2" maxlength="4000" required>${draftNote}</textarea
              ><br /><button type="submit" id="add-note" ${chosen('note')}>Add note</button>
            </form>`
      }
    </section>`;
}
