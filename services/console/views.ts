// The console's pages. Every value from a case (merchant-supplied) is interpolated through the
// escaping `html` template: text, never markup.
import type { FrictionShare } from '../core/friction.ts';
import {
  CASE_STATUSES,
  OPEN_STATUSES,
  SORTS,
  type CaseEvent,
  type CaseQuery,
  type CaseRecord,
  type DashboardStats,
  type LinkedCase,
} from '../cases/model.ts';
import type { AuditEntry } from '../cases/audit.ts';
import type { PersonalView } from '../cases/personal-data.ts';
import { DECISIONS } from '../core/schemas.ts';
import type { CompromiseEvent } from '../core/watchlist.ts';
import { histogram, horizontalBars, stackedBars } from './charts.ts';
import { consoleHref, html, type Safe } from './html.ts';
import { atLeast, CONSOLE_ROLES, type ConsoleUser, type SessionView } from '../cases/users.ts';

export function page(title: string, body: Safe, session?: SessionView): string {
  const nav = session
    ? html`<header class="top">
        <a class="brand" href="/console/queue">Leakguard</a>
        <nav>
          <a href="/console/queue">Queue</a> ·
          <a href="/console/dashboard">Dashboard</a
          >${atLeast(session.role, 'admin') ? html` · <a href="/console/admin/users">Users</a> · <a href="/console/admin/audit">Audit log</a>` : ''}
        </nav>
        <div class="who">
          <span id="current-user">${session.username}</span><span class="muted">${session.role}</span>
          <form method="post" action="/console/logout">
            <input type="hidden" name="_csrf" value="${session.csrfToken}" /><button
              class="link"
              type="submit"
              id="logout"
            >
              Log out
            </button>
          </form>
        </div>
      </header>`
    : html`<header class="top"><span class="brand">Leakguard console</span></header>`;
  return `<!doctype html>\n${
    html`<html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Leakguard</title>
        <link rel="stylesheet" href="/console/assets/console.css" />
      </head>
      <body>
        ${nav}
        <main>${body}</main>
      </body>
    </html>`.html
  }`;
}

export function loginPage(csrf: string, message?: string, notice?: string): Safe {
  return html`<div class="card login">
    <h1>Sign in</h1>
    ${notice ? html`<p class="notice" id="notice">${notice}</p>` : ''}${message ? html`<p class="error" id="login-error">${message}</p>` : ''}
    <form method="post" action="/console/login" autocomplete="off">
      <input type="hidden" name="_csrf" value="${csrf}" />
      <label>Username <input name="username" id="username" required autocomplete="username" maxlength="64" /></label>
      <label
        >Password
        <input name="password" id="password" type="password" required autocomplete="current-password" maxlength="200"
      /></label>
      <label
        >Authenticator code
        <input
          name="code"
          id="code"
          inputmode="numeric"
          pattern="[0-9]{6}"
          required
          maxlength="6"
          autocomplete="one-time-code"
      /></label>
      <button type="submit" id="sign-in">Sign in</button>
    </form>
  </div>`;
}

export function errorPage(status: number, message: string): Safe {
  return html`<div class="card">
    <h1>${status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : 'Something went wrong'}</h1>
    <p id="error-message">${message}</p>
    <p><a href="/console/queue">Back to the queue</a></p>
  </div>`;
}

const money = (amount: number, currency: string) => {
  try {
    const digits =
      new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    return new Intl.NumberFormat('en', { style: 'currency', currency }).format(amount / 10 ** digits);
  } catch {
    return `${amount} ${currency}`;
  }
};

const age = (iso: string, now = Date.now()) => {
  const m = Math.max(0, Math.round((now - Date.parse(iso)) / 60_000));
  return m < 60 ? `${m} min` : m < 2880 ? `${Math.round(m / 60)} h` : `${Math.round(m / 1440)} d`;
};

const status = (s: string) => html`<span class="status status-${s}">${s.replace('_', ' ')}</span>`;

function select(name: string, options: readonly string[], current: string | undefined, blank?: string): Safe {
  return html`<select name="${name}" id="f-${name}">
    ${blank !== undefined ? html`<option value="">${blank}</option>` : ''}${options.map((o) => html`<option value="${o}" ${o === current ? html` selected` : ''}>${o}</option>`)}
  </select>`;
}

export function queuePage(
  q: CaseQuery,
  result: { items: CaseRecord[]; total: number },
  session: SessionView,
  notice?: string,
): Safe {
  const filters: Record<string, string | number | undefined> = {
    merchant: q.merchant,
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
  return html`<h1>
      Queue <span class="muted" id="queue-total">${result.total} case${result.total === 1 ? '' : 's'}</span>
    </h1>
    ${notice ? html`<p class="notice" id="notice">${notice}</p>` : ''}
    <div class="card">
      <form class="filters" method="get" action="/console/queue" id="filters">
        <label>Merchant <input name="merchant" id="f-merchant" value="${q.merchant ?? ''}" maxlength="128" /></label>
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
    <form method="post" action="/console/queue/take-next">
      <input type="hidden" name="_csrf" value="${session.csrfToken}" /><button type="submit" id="take-next">
        Take next case
      </button>
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
            </tr>`,
        )}
      </tbody>
    </table>
    ${result.items.length === 0 ? html`<p class="muted" id="queue-empty">No cases match.</p>` : ''}
    <div class="pager">
      ${q.page > 1 ? html`<a id="prev-page" href="${consoleHref('/console/queue', { ...filters, page: q.page - 1 })}">← Previous</a>` : ''}
      <span class="muted">Page ${q.page} of ${pages}</span>
      ${q.page < pages ? html`<a id="next-page" href="${consoleHref('/console/queue', { ...filters, page: q.page + 1 })}">Next →</a>` : ''}
    </div>`;
}

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

function address(a: Record<string, unknown> | undefined): Safe {
  if (!a) return html`<span class="muted">—</span>`;
  const parts = ['name', 'line1', 'line2', 'postalCode', 'city', 'region', 'country']
    .map((k) => a[k])
    .filter((v) => typeof v === 'string' && v !== '') as string[];
  return html`${parts.map((p, i) => html`${i ? html`<br />` : ''}${p}`)}`;
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

export interface CaseView {
  record: CaseRecord;
  /** The case's personal data, decrypted for this page (or why they cannot be shown). */
  personal: PersonalView;
  history: CaseEvent[];
  linked: LinkedCase[];
  events: (CompromiseEvent | { id: string; missing: true })[];
  canDecide: boolean;
  allowListMaxDays: number;
}

export function casePage(v: CaseView, session: SessionView, notice?: string): Safe {
  const c = v.record;
  const t = c.transaction as unknown as Record<string, unknown> & {
    customer?: Record<string, unknown>;
    items?: Record<string, unknown>[];
    threeDS?: Record<string, unknown>;
  };
  const p = v.personal.state === 'readable' ? v.personal.data : undefined;
  return html`<h1>Case #${c.id} ${status(c.status)}</h1>
    ${notice ? html`<p class="notice" id="notice">${notice}</p>` : ''}
    <div class="grid">
      <section class="card" id="transaction">
        <h2>Transaction</h2>
        ${kv([
          ['Merchant', c.merchantId],
          ['Transaction', c.transactionId],
          ['Amount', money(c.amount, c.currency)],
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
          ${c.reasons.map((r) => html`<li><strong>${r.code}</strong> — ${r.message}</li>`)}
        </ul>
        ${
          v.canDecide
            ? html`<h2>Actions</h2>
                <form method="post" action="${consoleHref(`/console/cases/${c.id}/decision`)}" id="decide-form">
                  <input type="hidden" name="_csrf" value="${session.csrfToken}" />
                  <label>Note <textarea name="note" id="decision-note" rows="2" maxlength="4000"></textarea></label
                  ><br />
                  <label
                    >Allow-list this card for ${c.merchantId} (legitimate only)
                    <select name="allowListDays" id="allow-list-days">
                      <option value="0">no</option>
                      ${[7, 30, 90].filter((d) => d <= v.allowListMaxDays).map((d) => html`<option value="${d}">${d} days</option>`)}
                    </select></label
                  ><br />
                  <button class="fraud" name="action" value="mark_fraud" id="mark-fraud">Mark fraud</button>
                  <button class="legit" name="action" value="mark_legitimate" id="mark-legitimate">
                    Mark legitimate
                  </button>
                  ${c.status !== 'escalated' ? html`<button class="esc" name="action" value="escalate" id="escalate">Escalate</button>` : ''}
                </form>`
            : ''
        }
        ${OPEN_STATUSES.includes(c.status) && c.assignee !== session.username ? html`<form method="post" action="${consoleHref(`/console/cases/${c.id}/assign`)}"><input type="hidden" name="_csrf" value="${session.csrfToken}" /><button type="submit" id="assign-me">Assign to me</button></form>` : ''}
      </section>
    </div>
    <div class="grid">
      <section class="card" id="linked">
        <h2>Linked cases</h2>
        ${
          v.linked.length === 0
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
                  ${v.linked.map(
                    (l) =>
                      html`<tr>
                        <td><a href="${consoleHref(`/console/cases/${l.id}`)}">#${l.id}</a></td>
                        <td>${l.via.join(', ')}</td>
                        <td>${l.merchantId}</td>
                        <td>${l.transactionId}</td>
                        <td>${l.score}</td>
                        <td>${status(l.status)}</td>
                      </tr>`,
                  )}
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
                  <td>${String(val)}</td>
                </tr>`,
            )}
        </tbody>
      </table>
      <p class="muted">Features that were zero, false or unknown are not shown.</p>
    </section>
    <section class="card" id="history">
      <h2>History</h2>
      <ol>
        ${v.history.map((e) => html`<li><span class="muted">${e.at}</span> <strong>${e.actor}</strong> ${e.kind === 'note' ? html`noted: <span class="note">${String(e.detail.text ?? '')}</span>` : e.kind === 'status' ? html`changed status ${String(e.detail.from)} → ${String(e.detail.to)}` : e.kind === 'assigned' ? html`assigned to ${String(e.detail.assignee)}` : html`created the case (${String(e.detail.decision)}, score ${String(e.detail.score)})`}</li>`)}
      </ol>
      <form method="post" action="${consoleHref(`/console/cases/${c.id}/notes`)}" id="note-form">
        <input type="hidden" name="_csrf" value="${session.csrfToken}" /><textarea
          name="text"
          id="note-text"
          rows="2"
          maxlength="4000"
          required
        ></textarea
        ><br /><button type="submit" id="add-note">Add note</button>
      </form>
    </section>`;
}

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
        ${stackedBars('Analyst decisions per day', dayList, ['fraud', 'legitimate', 'escalated'], (d, k) => decided.get(`${d}|${k}`) ?? 0)}
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

export function usersPage(
  users: ConsoleUser[],
  session: SessionView,
  created?: { username: string; password: string; totpSecret: string; qrSvg: string; otpauth: string },
  message?: string,
): Safe {
  return html`<h1>Users</h1>
    ${message ? html`<p class="notice" id="notice">${message}</p>` : ''}
    ${
      created
        ? html`<div class="card" id="new-credentials">
            <h2>Credentials for ${created.username} — shown once</h2>
            <p>Password: <span class="secret" id="new-password">${created.password}</span></p>
            <p>
              TOTP secret (SHA-1, 6 digits, 30 s):
              <span class="secret" id="new-totp-secret">${created.totpSecret}</span>
            </p>
            <div class="qr">${safeQr(created.qrSvg)}</div>
            <p class="muted">Scan with an authenticator app, or type the secret.</p>
          </div>`
        : ''
    }
    <div class="card">
      <h2>Create a user</h2>
      <form method="post" action="/console/admin/users" class="filters" id="create-user">
        <input type="hidden" name="_csrf" value="${session.csrfToken}" />
        <label>Username <input name="username" id="new-username" required maxlength="64" /></label>
        <label>Role ${select('role', CONSOLE_ROLES, 'analyst')}</label
        ><button type="submit" id="create-user-button">Create</button>
      </form>
    </div>
    <table id="users">
      <thead>
        <tr>
          <th>User</th>
          <th>Role</th>
          <th>State</th>
          <th>Failed attempts</th>
          <th>Actions</th>
        </tr>
      </thead>
      <tbody>
        ${users.map(
          (u) =>
            html`<tr data-user="${u.username}">
              <td>${u.username}</td>
              <td>${u.role}</td>
              <td>
                ${u.disabled ? 'disabled' : u.lockedUntil && Date.parse(u.lockedUntil) > Date.now() ? `locked for the failing addresses until ${u.lockedUntil}` : 'active'}
              </td>
              <td>${u.failedAttempts}</td>
              <td>
                <form method="post" action="${consoleHref(`/console/admin/users/${u.username}`)}" class="filters">
                  <input type="hidden" name="_csrf" value="${session.csrfToken}" />
                  ${select('role', CONSOLE_ROLES, u.role)}<button name="op" value="role">Set role</button>
                  <button name="op" value="${u.disabled ? 'enable' : 'disable'}">
                    ${u.disabled ? 'Enable' : 'Disable'}
                  </button>
                  <button name="op" value="unlock">Unlock</button
                  ><button name="op" value="reset">Reset credentials</button>
                </form>
              </td>
            </tr>`,
        )}
      </tbody>
    </table>`;
}

/** The QR library's SVG is ours (no input but a base32 secret); still, only its path data passes. */
function safeQr(svg: string): Safe {
  const viewBox = /viewBox="([0-9 .]+)"/.exec(svg)?.[1] ?? '0 0 33 33';
  const paths = [
    ...svg.matchAll(/<path[^>]*?(?:fill="(#[0-9a-fA-F]{3,8})")?[^>]*?\sd="([MmHhVvZz0-9 .\-]+)"[^>]*\/?>/g),
  ];
  const strokes = [...svg.matchAll(/<path[^>]*?stroke="(#[0-9a-fA-F]{3,8})"[^>]*?\sd="([MmHhVvZz0-9 .\-]+)"/g)];
  return html`<svg xmlns="http://www.w3.org/2000/svg" viewBox="${viewBox}" shape-rendering="crispEdges">
    <rect width="100%" height="100%" fill="#ffffff" />
    ${strokes.map((m) => html`<path stroke="#000000" d="${m[2]!}" />`)}${strokes.length === 0 ? paths.map((m) => html`<path fill="#000000" d="${m[2]!}" />`) : ''}
  </svg>`;
}

export function auditPage(
  entries: AuditEntry[],
  filter: { action?: string; actor?: string },
  session: SessionView,
  verify?: { ok: boolean; checked: number; brokenAt?: number; reason?: string },
): Safe {
  const last = entries[entries.length - 1];
  return html`<h1>Audit log</h1>
    ${verify ? html`<p class="notice" id="verify-result">${verify.ok ? `Chain intact: ${verify.checked} entries verified.` : `Chain broken at entry ${verify.brokenAt}: ${verify.reason}`}</p>` : ''}
    <div class="card">
      <form class="filters" method="get" action="/console/admin/audit">
        <label>Action <input name="action" value="${filter.action ?? ''}" maxlength="64" /></label>
        <label>Actor <input name="actor" value="${filter.actor ?? ''}" maxlength="128" /></label
        ><button type="submit">Filter</button>
        <a href="/console/admin/audit?verify=1" id="verify-chain">Verify chain</a> ·
        <a href="/console/admin/audit/export" id="export-audit">Export (NDJSON)</a>
      </form>
    </div>
    <table id="audit">
      <thead>
        <tr>
          <th>#</th>
          <th>At</th>
          <th>Actor</th>
          <th>Action</th>
          <th>Target</th>
          <th>Detail</th>
          <th>Hash</th>
        </tr>
      </thead>
      <tbody>
        ${entries.map(
          (e) =>
            html`<tr>
              <td>${e.seq}</td>
              <td>${e.at}</td>
              <td>${e.actor}</td>
              <td>${e.action}</td>
              <td>${e.target}</td>
              <td><pre class="detail">${JSON.stringify(e.detail)}</pre></td>
              <td class="muted">${e.hash.slice(0, 12)}…</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${last && last.seq > 1 ? html`<div class="pager"><a href="${consoleHref('/console/admin/audit', { before: last.seq, action: filter.action, actor: filter.actor })}" id="older">Older →</a></div>` : ''}`;
}
