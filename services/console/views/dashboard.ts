// The dashboard: flagged volume, analyst decisions, scores, compromise events, reasons, friction.
import type { DashboardStats } from '../../cases/model.ts';
import type { FrictionShare } from '../../core/friction.ts';
import { histogram, horizontalBars, stackedBars } from '../charts.ts';
import { html, type Safe } from '../html.ts';
import { status } from './parts.ts';

function lastDays(n: number, now = new Date()): string[] {
  return Array.from({ length: n }, (_, i) =>
    new Date(now.getTime() - (n - 1 - i) * 86_400_000).toISOString().slice(0, 10),
  );
}

const percent = (v: number) => `${(v * 100).toFixed(v < 0.01 ? 2 : 1)} %`;

/** Friction per merchant: what its customers met over 24 h against its budget, with a bar per share. */
function frictionTable(rows: FrictionShare[]): Safe {
  if (rows.length === 0) return html`<p class="muted">No orders scored by this engine in the last 24 hours.</p>`;
  const bar = (share: number, budget: number | undefined) => {
    // The bar's scale: twice the budget (or 10 %), so that the budget line sits mid-way.
    const scale = budget ? Math.max(2 * budget, share) : Math.max(0.1, share);
    const w = 120,
      x = Math.round((share / scale) * w),
      b = budget === undefined ? undefined : Math.round((budget / scale) * w);
    const over = budget !== undefined && share > budget;
    return html`<svg
      class="chart meter"
      width="${w}"
      height="12"
      viewBox="0 0 ${w} 12"
      role="img"
      aria-label="${percent(share)}"
    >
      <rect width="${w}" height="12" fill="#eee" />
      <rect width="${x}" height="12" fill="${over ? '#c0392b' : '#2e86c1'}" />
      ${b === undefined ? '' : html`<line x1="${b}" x2="${b}" y1="0" y2="12" stroke="#000" stroke-width="2" />`}
    </svg>`;
  };
  return html`<table id="friction">
    <thead>
      <tr>
        <th>Merchant</th>
        <th>Orders</th>
        <th>Challenged (budget)</th>
        <th></th>
        <th>Reviewed (budget)</th>
        <th></th>
        <th>Declined</th>
        <th>Status</th>
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r) =>
          html`<tr data-merchant="${r.merchantId}">
            <td>${r.merchantId}</td>
            <td>${r.orders}</td>
            <td>${percent(r.challenge)} (${percent(r.budget.challenge)})</td>
            <td>${bar(r.challenge, r.budget.challenge)}</td>
            <td>${percent(r.review)} (${percent(r.budget.review)})</td>
            <td>${bar(r.review, r.budget.review)}</td>
            <td>${percent(r.decline)}</td>
            <td>
              ${r.over.length ? html`<strong class="over">over budget: ${r.over.join(', ')}</strong>` : 'within budget'}
            </td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export function dashboardPage(s: DashboardStats, days: number, friction: FrictionShare[] = []): Safe {
  const dayList = lastDays(days);
  const flagged = new Map(s.flaggedByDay.map((r) => [`${r.day}|${r.decision}`, r.count]));
  const decided = new Map(s.decisionsByDay.map((r) => [`${r.day}|${r.label}`, r.count]));
  const buckets = Array.from({ length: 10 }, (_, b) => ({
    label: `${b * 10}–${b === 9 ? 100 : b * 10 + 9}`,
    value: s.scoreBuckets.find((x) => x.bucket === b)?.count ?? 0,
  }));
  return html`<h1>Dashboard <span class="muted">last ${days} days</span></h1>
    <p id="status-counts">${s.statusCounts.map((c) => html`${status(c.status)} ${c.count} &nbsp; `)}</p>
    <div class="grid">
      <section class="card" id="chart-flagged">
        <h2>Flagged volume by decision</h2>
        ${stackedBars('Flagged cases per day by decision', dayList, ['challenge', 'review', 'decline'], (d, k) => flagged.get(`${d}|${k}`) ?? 0)}
      </section>
      <section class="card" id="chart-decisions">
        <h2>Analyst decisions</h2>
        ${stackedBars('Analyst decisions per day', dayList, ['fraud', 'legitimate', 'escalated', 'reversed'], (d, k) => decided.get(`${d}|${k}`) ?? 0)}
        <p class="muted">A decision a lead reversed is not counted as fraud or legitimate; the reversal is.</p>
      </section>
      <section class="card" id="chart-scores">
        <h2>Score distribution</h2>
        ${histogram('Flagged cases by score', buckets)}
      </section>
      <section class="card" id="chart-events">
        <h2>Hits per compromise event</h2>
        ${horizontalBars(
          'Cases per compromise event',
          s.eventHits.map((e) => ({ label: e.eventId, value: e.count })),
          '#8e44ad',
        )}
      </section>
      <section class="card" id="chart-reasons">
        <h2>Top reason codes</h2>
        ${horizontalBars(
          'Cases per reason code',
          s.topReasons.map((r) => ({ label: r.code, value: r.count })),
        )}
      </section>
    </div>
    <section class="card" id="friction-budget">
      <h2>
        Friction budget
        <span class="muted">last 24 hours, this engine, busiest merchants; the black line is the budget</span>
      </h2>
      ${frictionTable(friction)}
    </section>`;
}
