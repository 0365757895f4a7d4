// A backtest's report: the text the command prints, and a self-contained HTML page (inline SVG
// charts, no scripts, no external resources) beside the JSON.
import { DECISIONS, type Decision } from '../../services/core/schemas.ts';
import type { BacktestReport, ConfigurationResult, TransactionChange } from './backtest.ts';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const num = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 2 });
const signed = (x: number, digits = 1) => `${x > 0 ? '+' : x < 0 ? '−' : '±'}${Math.abs(x).toFixed(digits)}`;

/** Figures right-aligned; the first column, and those in `left` (text), left-aligned. */
function table(rows: string[][], left: ReadonlySet<number> = new Set()): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r, i) => {
      const line = r
        .map((cell, c) => (c === 0 || left.has(c) ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
        .join('  ')
        .trimEnd();
      return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

/** The headline rows: fraud stopped and legitimate orders stopped, in force → candidate. */
function headline(r: BacktestReport): string[][] {
  const [a, b] = r.results;
  const row = (name: string, f: (x: ConfigurationResult) => number, show: (x: number) => string, digits = 1) => [
    name,
    show(f(a)),
    show(f(b)),
    signed(f(b) - f(a), digits),
  ];
  return [
    ['', a.label, b.label, 'change'],
    row(
      'fraud stopped (transactions)',
      (x) => x.fraudStopped.share * 100,
      (x) => `${x.toFixed(1)} %`,
    ),
    row(
      'fraud stopped (amount)',
      (x) => x.fraudStopped.amountShare * 100,
      (x) => `${x.toFixed(1)} %`,
    ),
    row(`fraud amount stopped (${r.currency})`, (x) => x.fraudStopped.amount, num, 2),
    row(
      'legitimate challenged / 1,000',
      (x) => x.legitimatePer1000.challenged,
      (x) => x.toFixed(1),
    ),
    row(
      'legitimate reviewed / 1,000',
      (x) => x.legitimatePer1000.reviewed,
      (x) => x.toFixed(1),
    ),
    row(
      'legitimate declined / 1,000',
      (x) => x.legitimatePer1000.declined,
      (x) => x.toFixed(1),
    ),
  ];
}

/** How many transactions the printout and the HTML list of each kind (report.json has up to LISTED_CHANGES). */
export const CHANGES_SHOWN = 50;

/**
 * The two lists of transactions decided otherwise: their titles, the columns' names for before →
 * after, and a line saying how many report.json leaves out of them (`leftOutLine`), if any.
 */
function changeLists(r: BacktestReport) {
  const [a, b] = r.results;
  const lists: {
    title: string;
    before: string;
    after: string;
    rows: TransactionChange[];
    total: number;
    leftOut: number;
  }[] = [
    {
      title: 'Decisions the candidate changes',
      before: a.label,
      after: b.label,
      rows: r.changes,
      total: r.changesTotal,
      leftOut: r.changesLeftOut,
    },
  ];
  if (r.recorded)
    lists.push({
      title: 'Recorded decisions the in-force replay did not reproduce',
      before: 'recorded',
      after: 'replayed',
      rows: r.notReproduced,
      total: r.notReproducedTotal,
      leftOut: r.notReproducedLeftOut,
    });
  return lists.map((l) => ({
    ...l,
    heading: `${l.title} (${l.total > CHANGES_SHOWN ? `first ${CHANGES_SHOWN} of ${num(l.total)}` : num(l.total)}, by merchant then time)`,
    shown: l.rows.slice(0, CHANGES_SHOWN),
    leftOutLine:
      l.leftOut > 0
        ? `report.json lists the first ${num(l.rows.length)} of the ${num(l.total)}, by merchant then time: ${num(l.leftOut)} left out (every figure counts them all)`
        : undefined,
  }));
}

/** The listed transactions' columns of text: transaction, time, decisions, reasons. */
const CHANGE_TEXT_COLUMNS: ReadonlySet<number> = new Set([1, 2, 3, 5]);

const changedReasons = (c: TransactionChange) =>
  [...c.reasons.added.map((x) => `+${x}`), ...c.reasons.removed.map((x) => `−${x}`)].join(' ');

/** One listed transaction's cells: merchant, transaction, time, decision, score and reasons (before → after). */
const changeCells = (c: TransactionChange) => [
  c.merchantId,
  c.transactionId,
  c.at,
  `${c.decision[0]} → ${c.decision[1]}`,
  `${num(c.score[0])} → ${num(c.score[1])}`,
  changedReasons(c),
];

/** A merchant's share of orders stepped up or reviewed, in force → candidate, its budget, and a mark when the candidate is over it. */
function friction(m: BacktestReport['merchants'][number], line: 'challenge' | 'review'): string {
  const [a, b] = line === 'challenge' ? m.challengeShare : m.reviewShare;
  const over = m.overBudget.includes(line) ? ' OVER' : '';
  return `${pct(a)} → ${pct(b)} (${pct(m.budget[line])})${over}`;
}

/** "444 transactions not scored, …: no exchange rate for JPY", the count of each reason when there are several. */
function notScoredLine(t: BacktestReport['transactions']): string {
  const why =
    t.notScoredBy.length === 1
      ? t.notScoredBy[0]!.reason
      : t.notScoredBy.map((x) => `${x.reason} (${num(x.count)})`).join(', ');
  return `${num(t.notScored)} transactions not scored (${num(t.notScoredFraud)} of them fraud), left out of every figure: ${why}`;
}

export function textReport(r: BacktestReport, top = 15): string {
  const t = r.transactions;
  const out: string[] = [];
  // The warm-up is named only when there was one: traffic before --from, replayed for the counters alone.
  const warmup = t.warmup > 0 ? ` (${num(t.warmup)} before them replayed to warm the counters)` : '';
  out.push(
    `Backtest of ${num(t.reported)} transactions${warmup} from ${r.source.description}` +
      `${r.window.from ? ` from ${r.window.from}` : ''}${r.window.to ? ` to ${r.window.to}` : ''}`,
  );
  if (t.notScored > 0) out.push(`  ${notScoredLine(t)}`);
  out.push(
    `  ${num(t.fraud)} fraud (${num(t.fraudAmount)} ${r.currency}: chargebacks and analysts' fraud labels), ${num(t.legitimate)} presumed legitimate (${num(t.labelledLegitimate)} labelled so)`,
    `  replayed in ${r.rate.seconds} s: ${num(r.rate.perSecond)} transactions/s (two engines each)`,
  );
  if (r.source.refused > 0)
    out.push(`  ${num(r.source.refused)} lines refused, first: ${r.source.problems.slice(0, 3).join(' | ')}`);
  if (r.recorded)
    out.push(
      `  the configuration in force reproduces ${pct(r.recorded.share)} of the recorded decisions (${num(r.recorded.agreed)} of ${num(r.recorded.compared)}; ${num(r.recorded.degradedThen)} degraded answers then not compared)`,
    );
  const [a, b] = r.results;
  out.push(
    '',
    `${a.label}: ruleset ${a.versions.ruleset}, model ${a.versions.model ?? 'none'}`,
    `${b.label}: ruleset ${b.versions.ruleset}, model ${b.versions.model ?? 'none'}`,
    '',
  );
  out.push(table(headline(r)), '');
  out.push(
    'Transitions (rows: in force, columns: candidate; fraud in brackets)',
    table([
      ['', ...DECISIONS],
      ...DECISIONS.map((from) => [
        from,
        ...DECISIONS.map((to) => {
          const cell = r.transitions[from][to];
          return `${num(cell.count)} (${num(cell.fraud)})`;
        }),
      ]),
    ]),
    '',
  );
  for (const list of changeLists(r))
    if (list.total > 0)
      out.push(
        list.heading,
        ...(list.leftOutLine ? [list.leftOutLine] : []),
        table(
          [
            [
              'merchant',
              'transaction',
              'at',
              `${list.before} → ${list.after}`,
              'score',
              'reasons (+ given, − no longer)',
            ],
            ...list.shown.map(changeCells),
          ],
          CHANGE_TEXT_COLUMNS,
        ),
        '',
      );
  const changed = r.merchants.filter((m) => m.changed > 0 || m.notScored > 0).slice(0, top);
  if (changed.length > 0)
    out.push(
      `Merchants with changed decisions${t.notScored > 0 ? ' or orders not scored' : ''} (busiest ${changed.length})`,
      table([
        [
          'merchant',
          'transactions',
          'not scored',
          'changed',
          'fraud',
          `fraud stopped ${r.currency}`,
          'legit stopped / 1,000',
          'challenged (budget)',
          'reviewed (budget)',
        ],
        ...changed.map((m) => [
          m.merchantId,
          num(m.transactions),
          num(m.notScored),
          num(m.changed),
          num(m.fraud),
          `${num(m.fraudAmountStopped[0])} → ${num(m.fraudAmountStopped[1])}`,
          `${m.legitimateStoppedPer1000[0].toFixed(1)} → ${m.legitimateStoppedPer1000[1].toFixed(1)}`,
          friction(m, 'challenge'),
          friction(m, 'review'),
        ]),
      ]),
      '',
    );
  if (r.reasons.length > 0)
    out.push(
      'Reason codes (transactions given it, of which fraud)',
      table([
        ['reason', a.label, b.label],
        ...r.reasons
          .slice(0, top)
          .map((x) => [x.code, `${num(x.count[0])} (${num(x.fraud[0])})`, `${num(x.count[1])} (${num(x.fraud[1])})`]),
      ]),
    );
  return out.join('\n');
}

const COLORS = ['#4a6fa5', '#d9822b'];

/** Grouped bars: one group per category, one bar per configuration. */
function groupedBars(title: string, categories: string[], values: [number[], number[]], unit: string): string {
  const W = 520,
    H = 240,
    M = { l: 52, r: 12, t: 28, b: 36 };
  const max = Math.max(1e-9, ...values[0], ...values[1]);
  const gw = (W - M.l - M.r) / categories.length;
  const bw = gw * 0.35;
  const y = (v: number) => M.t + (H - M.t - M.b) * (1 - v / max);
  const bars = categories
    .map(
      (cat, i) =>
        [0, 1]
          .map((c) => {
            const v = values[c as 0 | 1][i]!;
            const x = M.l + i * gw + gw * 0.15 + c * bw;
            return `<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${bw.toFixed(1)}" height="${(H - M.b - y(v)).toFixed(1)}" fill="${COLORS[c]}"><title>${esc(cat)}: ${num(v)} ${esc(unit)}</title></rect><text x="${(x + bw / 2).toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" font-size="10" text-anchor="middle">${num(v)}</text>`;
          })
          .join('') +
        `<text x="${(M.l + i * gw + gw / 2).toFixed(1)}" y="${H - M.b + 16}" font-size="12" text-anchor="middle">${esc(cat)}</text>`,
    )
    .join('');
  return `<figure><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">
<text x="${M.l}" y="16" font-size="13" font-weight="bold">${esc(title)}</text>
<line x1="${M.l}" y1="${H - M.b}" x2="${W - M.r}" y2="${H - M.b}" stroke="#888"/>
<text x="${M.l - 6}" y="${M.t + 4}" font-size="10" text-anchor="end">${num(max)}</text>
<text x="${M.l - 6}" y="${H - M.b}" font-size="10" text-anchor="end">0</text>
${bars}</svg></figure>`;
}

function transitionTable(r: BacktestReport): string {
  const max = Math.max(1, ...DECISIONS.flatMap((f) => DECISIONS.map((t) => r.transitions[f][t].count)));
  const cell = (from: Decision, to: Decision) => {
    const c = r.transitions[from][to];
    const alpha = c.count === 0 ? 0 : 0.12 + 0.6 * Math.sqrt(c.count / max);
    const tint = from === to ? `rgba(120,120,120,${alpha.toFixed(2)})` : `rgba(217,130,43,${alpha.toFixed(2)})`;
    return `<td style="background:${tint}">${num(c.count)}<br><small>${num(c.fraud)} fraud</small></td>`;
  };
  return `<table class="matrix"><tr><th>in force ↓ / candidate →</th>${DECISIONS.map((d) => `<th>${d}</th>`).join('')}</tr>
${DECISIONS.map((from) => `<tr><th>${from}</th>${DECISIONS.map((to) => cell(from, to)).join('')}</tr>`).join('\n')}</table>`;
}

export function htmlReport(r: BacktestReport, top = 50): string {
  const [a, b] = r.results;
  const legit: [number[], number[]] = [
    [a.legitimatePer1000.challenged, a.legitimatePer1000.reviewed, a.legitimatePer1000.declined],
    [b.legitimatePer1000.challenged, b.legitimatePer1000.reviewed, b.legitimatePer1000.declined],
  ];
  const fraudShare = (x: ConfigurationResult) =>
    DECISIONS.map((d) => (r.transactions.fraud > 0 ? (100 * x.decisions[d].fraud) / r.transactions.fraud : 0));
  const head = headline(r);
  const merchants = r.merchants.slice(0, top);
  const summary = textReport(r).split('\n\n')[0]!;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Leakguard backtest</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}.matrix td{text-align:center;min-width:6rem}
figure{display:inline-block;margin:0 1rem 1rem 0}.legend span{display:inline-block;width:.9rem;height:.9rem;margin:0 .3rem 0 1rem;vertical-align:middle}
pre{background:#f6f6f6;padding:.6rem;white-space:pre-wrap}.warning{background:#fdecea;border-left:4px solid #c0392b;padding:.5rem .8rem;font-weight:bold}
</style></head><body>
<h1>Backtest</h1>
${r.transactions.notScored > 0 ? `<p class="warning">${esc(notScoredLine(r.transactions))}</p>\n` : ''}<pre>${esc(summary)}</pre>
<p class="legend"><span style="background:${COLORS[0]}"></span>${esc(a.label)} (ruleset ${esc(a.versions.ruleset)}, model ${esc(a.versions.model ?? 'none')})
<span style="background:${COLORS[1]}"></span>${esc(b.label)} (ruleset ${esc(b.versions.ruleset)}, model ${esc(b.versions.model ?? 'none')})</p>
<table>${head.map((row, i) => `<tr>${row.map((c) => (i === 0 ? `<th>${esc(c)}</th>` : `<td>${esc(c)}</td>`)).join('')}</tr>`).join('\n')}</table>
${groupedBars('Legitimate orders stopped per 1,000', ['challenged', 'reviewed', 'declined'], legit, 'per 1,000')}
${groupedBars('Fraud by decision (% of fraud transactions)', [...DECISIONS], [fraudShare(a), fraudShare(b)], '%')}
<h2>Transitions</h2>
${transitionTable(r)}
${changeLists(r)
  .map(
    (list) => `<h2>${esc(list.heading)}</h2>
${list.leftOutLine ? `<p>${esc(list.leftOutLine)}</p>\n` : ''}${
      list.total === 0
        ? '<p>None.</p>'
        : `<table><tr><th>merchant</th><th>transaction</th><th>at</th><th>${esc(list.before)} → ${esc(list.after)}</th><th>score</th><th>reasons (+ given, − no longer)</th></tr>
${list.shown
  .map(
    (c) =>
      `<tr>${changeCells(c)
        .map((x) => `<td>${esc(x)}</td>`)
        .join('')}</tr>`,
  )
  .join('\n')}</table>`
    }`,
  )
  .join('\n')}
<h2>Merchants (busiest ${merchants.length})</h2>
<table><tr><th>merchant</th><th>transactions</th><th>not scored</th><th>changed</th><th>fraud</th><th>fraud amount stopped (${esc(r.currency)})</th><th>legitimate stopped / 1,000</th><th>challenged (budget)</th><th>reviewed (budget)</th></tr>
${merchants
  .map(
    (m) =>
      `<tr><td>${esc(m.merchantId)}</td><td>${num(m.transactions)}</td><td>${num(m.notScored)}</td><td>${num(m.changed)}</td><td>${num(m.fraud)}</td><td>${num(m.fraudAmountStopped[0])} → ${num(m.fraudAmountStopped[1])}</td><td>${m.legitimateStoppedPer1000[0].toFixed(1)} → ${m.legitimateStoppedPer1000[1].toFixed(1)}</td><td>${esc(friction(m, 'challenge'))}</td><td>${esc(friction(m, 'review'))}</td></tr>`,
  )
  .join('\n')}</table>
<h2>Reason codes</h2>
<table><tr><th>reason</th><th>${esc(a.label)}: transactions (fraud)</th><th>${esc(b.label)}: transactions (fraud)</th></tr>
${r.reasons.map((x) => `<tr><td>${esc(x.code)}</td><td>${num(x.count[0])} (${num(x.fraud[0])})</td><td>${num(x.count[1])} (${num(x.fraud[1])})</td></tr>`).join('\n')}</table>
<p><small>Generated ${esc(r.generatedAt)}. Fraud: a chargeback or an analyst's fraud label; everything else is presumed legitimate. Amounts in ${esc(r.currency)} at each transaction's rate.</small></p>
</body></html>
`;
}
