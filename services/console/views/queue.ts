// The queue: filters, the page of cases, take-next and paging.
import {
  CASE_STATUSES,
  deepestPage,
  MAX_QUEUE_ROWS,
  SORTS,
  TAKE_NEXT_FILTERS,
  type CaseQuery,
  type CaseRecord,
} from '../../cases/model.ts';
import { summariseOutcomes, type CaseOutcome } from '../../cases/outcomes.ts';
import type { SessionView } from '../../cases/users.ts';
import { DECISIONS } from '../../core/schemas.ts';
import { consoleHref, html, type Safe } from '../html.ts';
import { age, money, select, status } from './parts.ts';

/** The queue's marker of what the merchant reported: what matters most first. */
function outcomeMarker(c: CaseRecord, outcomes: readonly CaseOutcome[]): Safe | string {
  if (outcomes.length === 0) return '';
  const s = summariseOutcomes(outcomes, c.decision);
  if (s.fraudChargeback) return html`<strong class="error">fraud chargeback</strong>`;
  if (s.stepUp === 'failed') return html`<strong class="error">challenge failed</strong>`;
  if (s.reversedChargeback) return 'chargeback reversed';
  if (s.disputeChargeback) return 'dispute chargeback';
  if (s.stepUp === 'passed') return 'step-up passed';
  return outcomes[outcomes.length - 1]!.outcome;
}

export function queuePage(
  q: CaseQuery,
  result: { items: CaseRecord[]; total: number },
  session: SessionView,
  notice?: string,
  outcomes: ReadonlyMap<number, CaseOutcome[]> = new Map(),
): Safe {
  const filters: Record<string, string | number | undefined> = {
    merchant: q.merchant,
    transactionId: q.transactionId,
    decision: q.decision,
    reasonCode: q.reasonCode,
    watchlistEvent: q.watchlistEvent,
    from: q.from,
    to: q.to,
    status: q.status === 'pending' ? undefined : q.status,
    assignee: q.assignee,
    sort: q.sort === 'risk' ? undefined : q.sort,
    pageSize: q.pageSize === 25 ? undefined : q.pageSize,
  };
  const pages = Math.max(1, Math.ceil(result.total / q.pageSize));
  // The queue pages through the first MAX_QUEUE_ROWS cases of a filter only: no Next beyond them.
  const reachable = Math.min(pages, deepestPage(q.pageSize));
  return html`<h1>
      Queue <span class="muted" id="queue-total">${result.total} case${result.total === 1 ? '' : 's'}</span>
    </h1>
    ${notice ? html`<p class="notice" id="notice">${notice}</p>` : ''}
    <div class="card">
      <form class="filters" method="get" action="/console/queue" id="filters">
        <label>Merchant <input name="merchant" id="f-merchant" value="${q.merchant ?? ''}" maxlength="128" /></label>
        <label
          >Transaction
          <input name="transactionId" id="f-transactionId" value="${q.transactionId ?? ''}" maxlength="128"
        /></label>
        <label
          >Decision
          ${select(
            'decision',
            DECISIONS.filter((d) => d !== 'approve'),
            q.decision,
            'any',
          )}</label
        >
        <label
          >Reason code <input name="reasonCode" id="f-reasonCode" value="${q.reasonCode ?? ''}" maxlength="128"
        /></label>
        <label
          >Watchlist event
          <input
            name="watchlistEvent"
            id="f-watchlistEvent"
            value="${q.watchlistEvent ?? ''}"
            maxlength="128"
            placeholder="ce_1"
        /></label>
        <label>From <input type="date" name="from" id="f-from" value="${q.from ?? ''}" /></label>
        <label>To <input type="date" name="to" id="f-to" value="${q.to ?? ''}" /></label>
        <label>Status ${select('status', ['pending', ...CASE_STATUSES, 'all'], q.status)}</label>
        <label
          >Assignee
          <input
            name="assignee"
            id="f-assignee"
            value="${q.assignee ?? ''}"
            maxlength="128"
            placeholder="- for unassigned"
        /></label>
        <label>Sort ${select('sort', SORTS, q.sort)}</label>
        <button type="submit" id="apply-filters">Filter</button> <a href="/console/queue">Reset</a>
      </form>
    </div>
    <form method="post" action="/console/queue/take-next" id="take-next-form">
      <input type="hidden" name="_csrf" value="${session.csrfToken}" />${
        // The filters on screen go with it: the next case is one of those the analyst is looking at.
        TAKE_NEXT_FILTERS.filter((k) => q[k] !== undefined && q[k] !== '').map(
          (k) => html`<input type="hidden" name="${k}" value="${q[k]}" />`,
        )
      }<button type="submit" id="take-next">Take next case</button>
    </form>
    <table id="queue">
      <thead>
        <tr>
          <th>Case</th>
          <th>Risk</th>
          <th>Decision</th>
          <th>Merchant</th>
          <th>Transaction</th>
          <th>Amount</th>
          <th>Card</th>
          <th>Reasons</th>
          <th>Status</th>
          <th>Assignee</th>
          <th>Age</th>
          <th>Outcome</th>
        </tr>
      </thead>
      <tbody>
        ${result.items.map(
          (c) =>
            html`<tr data-case="${c.id}">
              <td><a href="${consoleHref(`/console/cases/${c.id}`)}">#${c.id}</a></td>
              <td class="score">${c.score}</td>
              <td>${c.decision}</td>
              <td>${c.merchantId}</td>
              <td>${c.transactionId}</td>
              <td>${money(c.amount, c.currency)}</td>
              <td>${c.transaction.card.masked}</td>
              <td>${c.reasonCodes.join(', ')}</td>
              <td>${status(c.status)}</td>
              <td>${c.assignee ?? html`<span class="muted">—</span>`}</td>
              <td>${age(c.createdAt)}</td>
              <td class="outcome">${outcomeMarker(c, outcomes.get(c.id) ?? [])}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${result.items.length === 0 ? html`<p class="muted" id="queue-empty">No cases match.</p>` : ''}
    <div class="pager">
      ${q.page > 1 ? html`<a id="prev-page" href="${consoleHref('/console/queue', { ...filters, page: q.page - 1 })}">← Previous</a>` : ''}
      <span class="muted">Page ${q.page} of ${pages}</span>
      ${reachable < pages ? html`<span class="muted" id="page-bound">(the first ${MAX_QUEUE_ROWS.toLocaleString('en')} cases can be paged through: narrow the filters for the others)</span>` : ''}
      ${q.page < reachable ? html`<a id="next-page" href="${consoleHref('/console/queue', { ...filters, page: q.page + 1 })}">Next →</a>` : ''}
    </div>`;
}
