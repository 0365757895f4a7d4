// Breach discovery's pages: the suspected points of compromise Leakguard found itself (compromise
// events of source leakguard-cpp), and one page per event with its evidence, the fraudulent cards'
// first frauds over time, the exposed cards by BIN, and the review (confirm or dismiss).
import { deepestPage, MAX_QUEUE_ROWS } from '../../cases/model.ts';
import { atLeast, type SessionView } from '../../cases/users.ts';
import type { CompromiseEvent, EventStatistics } from '../../core/watchlist.ts';
import { histogram, horizontalBars } from '../charts.ts';
import { consoleHref, html, type Safe } from '../html.ts';

const DAY = 86_400_000;
const day = (iso: string | number) => new Date(iso).toISOString().slice(0, 10);
const pValue = (log10: number) => (log10 <= -300 ? '< 1e-300' : `1e${log10.toFixed(1)}`);

function state(e: CompromiseEvent): Safe {
  const review = e.evidence?.review;
  if (review) return html`<span class="status status-${review.decision}">${review.decision}</span>`;
  return html`<span class="status status-${e.status}">${e.status === 'open' ? 'to review' : e.status}</span>`;
}

/**
 * One page of the suspected breaches, newest first, paged as the queue is (`page`, `pageSize` 1-200,
 * 25 by default; Previous / Next; through the first MAX_QUEUE_ROWS at most). `q.page` is the page
 * answered; `total` how many there are.
 */
export function breachesPage(
  q: { page: number; pageSize: number },
  result: { items: CompromiseEvent[]; total: number },
  notice?: string,
): Safe {
  const events = result.items;
  const pages = Math.max(1, Math.ceil(result.total / q.pageSize));
  const reachable = Math.min(pages, deepestPage(q.pageSize));
  const pageSize = q.pageSize === 25 ? undefined : q.pageSize;
  return html`<h1>
      Suspected breaches
      <span class="muted" id="breaches-total">${result.total} event${result.total === 1 ? '' : 's'}</span>
    </h1>
    ${notice ? html`<p class="notice" id="notice">${notice}</p>` : ''}
    <p class="muted">
      Merchants through which more of the cards that later turned fraudulent passed than chance allows (breach
      discovery). The cards used there since the window opened are stepped up to 3-D Secure until the event is
      dismissed.
    </p>
    ${
      events.length === 0
        ? html`<p id="no-breaches">No suspected breach.</p>`
        : html`<table id="breaches">
            <thead>
              <tr>
                <th>Event</th>
                <th>Merchant</th>
                <th>Window</th>
                <th>Fraudulent cards (expected)</th>
                <th>p-value</th>
                <th>Exposed cards</th>
                <th>Discovered</th>
                <th>State</th>
              </tr>
            </thead>
            <tbody>
              ${events.map(
                (e) =>
                  html`<tr data-event="${e.id}">
                    <td><a href="/console/breaches/${e.id}">${e.id}</a></td>
                    <td>${e.evidence?.merchantId ?? ''}</td>
                    <td>${day(e.exposureStart)} – ${day(e.exposureEnd)}</td>
                    <td>${e.evidence?.fraudCards ?? 0} (${(e.evidence?.expected ?? 0).toFixed(2)})</td>
                    <td>${pValue(e.evidence?.log10PValue ?? 0)}</td>
                    <td>${e.evidence?.exposedCards ?? 0}</td>
                    <td>${day(e.discoveredAt)}</td>
                    <td>${state(e)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
    <div class="pager">
      ${q.page > 1 ? html`<a id="prev-page" href="${consoleHref('/console/breaches', { pageSize, page: q.page - 1 })}">← Previous</a>` : ''}
      <span class="muted">Page ${q.page} of ${pages}</span>
      ${reachable < pages ? html`<span class="muted" id="page-bound">(the first ${MAX_QUEUE_ROWS.toLocaleString('en')} events can be paged through)</span>` : ''}
      ${q.page < reachable ? html`<a id="next-page" href="${consoleHref('/console/breaches', { pageSize, page: q.page + 1 })}">Next →</a>` : ''}
    </div>`;
}

/** First frauds per day, from the window's start to the last one (at most 120 bars: per week beyond). */
function firstFraudsChart(firstFrauds: number[]): Safe {
  if (firstFrauds.length === 0) return html``;
  const from = Math.floor(firstFrauds[0]! / DAY);
  const to = Math.floor(firstFrauds.at(-1)! / DAY);
  const step = to - from + 1 > 120 ? 7 : 1;
  const buckets = Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => ({
    label: day((from + i * step) * DAY).slice(5),
    value: 0,
  }));
  for (const t of firstFrauds) buckets[Math.floor((Math.floor(t / DAY) - from) / step)]!.value++;
  return histogram(`First frauds per ${step === 1 ? 'day' : 'week'}`, buckets);
}

export function breachPage(
  e: CompromiseEvent,
  statistics: EventStatistics,
  session: SessionView,
  notice?: string,
): Safe {
  const ev = e.evidence!;
  const bins = Object.entries(ev.exposedByBin)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 12)
    .map(([label, value]) => ({ label, value }));
  const canReview = atLeast(session.role, 'lead') && e.status === 'open' && !ev.review;
  return html`<p><a href="/console/breaches">← Suspected breaches</a></p>
    <h1>Suspected breach at <span id="breach-merchant">${ev.merchantId}</span> · ${e.id}</h1>
    ${notice ? html`<p class="notice" id="notice">${notice}</p>` : ''}
    <div class="card">
      <dl class="facts" id="evidence">
        <dt>State</dt>
        <dd id="breach-state">${state(e)}</dd>
        <dt>Confidence</dt>
        <dd id="breach-confidence">${e.confidence}</dd>
        <dt>Exposure window</dt>
        <dd>${day(e.exposureStart)} – ${day(e.exposureEnd)} (estimated from the fraudulent cards' visits)</dd>
        <dt>Fraudulent cards seen there</dt>
        <dd id="breach-fraud-cards">
          ${ev.fraudCards} (trust-weighted ${ev.weightedFraudCards.toFixed(1)}), where chance would give
          ${ev.expected.toFixed(2)}
        </dd>
        <dt>p-value (corrected)</dt>
        <dd>${pValue(ev.log10PValue)}</dd>
        <dt>Exposed cards listed</dt>
        <dd id="breach-exposed">${ev.exposedCards}</dd>
        ${
          ev.listedUntil
            ? html`<dt>New customers</dt>
                <dd id="breach-listing">
                  ${
                    ev.presumedOver
                      ? html`no longer listed: the breach is presumed over (no compromising visit seen since
                        ${day(ev.listedUntil)} for twice the time its cards took to show fraud)`
                      : html`listed as they come: the breach may still run (listed up to ${day(ev.listedUntil)})`
                  }
                </dd>`
            : ''
        }
        <dt>Used since listed</dt>
        <dd>${statistics.hits} scorings at ${statistics.distinctMerchants} merchants</dd>
        <dt>Discovered</dt>
        <dd>${e.discoveredAt} (last scan ${ev.scannedAt})</dd>
        ${
          ev.review
            ? html`<dt>Review</dt>
                <dd id="breach-review">${ev.review.decision} by ${ev.review.by} at ${ev.review.at}</dd>`
            : ''
        }
      </dl>
    </div>
    <div class="grid">
      <figure class="card">
        <figcaption>The fraudulent cards' first frauds</figcaption>
        ${firstFraudsChart(ev.firstFrauds)}
      </figure>
      <figure class="card">
        <figcaption>Exposed cards by BIN</figcaption>
        ${horizontalBars('Exposed cards by BIN', bins)}
      </figure>
    </div>
    ${
      canReview
        ? html`<div class="card">
            <h2>Review</h2>
            <p class="muted">
              Confirm: the breach is real (issuers subscribed to it are told). Dismiss: not a breach; its cards are no
              longer stepped up.
            </p>
            <form method="post" action="/console/breaches/${e.id}/review">
              <input type="hidden" name="_csrf" value="${session.csrfToken}" />
              <button type="submit" name="decision" value="confirm" id="confirm-breach" class="fraud">Confirm</button>
              <button type="submit" name="decision" value="dismiss" id="dismiss-breach" class="legit">Dismiss</button>
            </form>
          </div>`
        : ''
    }`;
}
