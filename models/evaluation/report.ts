// A self-contained HTML report (inline SVG, no scripts, no external resources).
import { prCurve, rocCurve, type CalibrationBin } from './metrics.ts';
import type { FeatureWeight } from '../training/feature-use.ts';

export interface ReportSeed {
  seed: number;
  auc: number;
  ap: number;
  cp100: number;
  cpPerDay: { day: number; precision: number; compromisedCards: number }[];
  scores: ArrayLike<number>;
  trainSeconds?: number;
}

/** One evaluated dataset: its test labels, one result per forest seed, what the features can reach. */
export interface ReportDataset {
  name: string;
  labels: ArrayLike<number>;
  seeds: ReportSeed[];
  /** Expected CP@100 of the oracle that ranks the visible frauds first (evaluation/reachable.ts), when known. */
  reachable?: { mean: number; perDay: { precision: number }[] };
}

export interface ReportInput {
  title: string;
  subtitle: string;
  datasets: ReportDataset[];
  reference: readonly { model: string; auc: number; ap: number; cp100: number }[];
  summary: Record<string, string>;
  testDates: string[];
  /** Score deciles of the test rows (all runs pooled): mean score against the observed fraud rate. */
  calibration?: CalibrationBin[];
  /** Features by their share of the forests' split weight. */
  featureWeights?: FeatureWeight[];
  /** The rows' label when an existing model was evaluated (else "Leakguard forest, seed S"). */
  modelLabel?: string;
}

const W = 420,
  H = 300,
  M = { l: 48, r: 12, t: 14, b: 38 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : '—');

/** Keeps at most ~n points of a polyline (curves of 60k points are too heavy inline). */
function thin(xs: number[], ys: number[], n = 600): [number[], number[]] {
  if (xs.length <= n) return [xs, ys];
  const step = xs.length / n;
  const ox: number[] = [],
    oy: number[] = [];
  for (let i = 0; i < xs.length; i += step) {
    ox.push(xs[Math.floor(i)]!);
    oy.push(ys[Math.floor(i)]!);
  }
  ox.push(xs[xs.length - 1]!);
  oy.push(ys[ys.length - 1]!);
  return [ox, oy];
}

interface Series {
  name: string;
  x: number[];
  y: number[];
  color: string;
  dash?: string;
  step?: boolean;
}

function chart(opts: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  xMax?: number;
  yMax?: number;
  xTicks?: string[];
  legendBottom?: boolean;
}): string {
  const xMax = opts.xMax ?? 1,
    yMax = opts.yMax ?? 1;
  const px = (x: number) => M.l + (x / xMax) * (W - M.l - M.r);
  const py = (y: number) => H - M.b - (y / yMax) * (H - M.t - M.b);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(opts.title)}">`,
  );
  parts.push(
    `<rect x="${M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="#fff" stroke="#999"/>`,
  );
  for (let i = 0; i <= 5; i++) {
    const gx = (i / 5) * xMax,
      gy = (i / 5) * yMax;
    parts.push(`<line x1="${px(gx)}" y1="${M.t}" x2="${px(gx)}" y2="${H - M.b}" stroke="#eee"/>`);
    parts.push(`<line x1="${M.l}" y1="${py(gy)}" x2="${W - M.r}" y2="${py(gy)}" stroke="#eee"/>`);
    if (!opts.xTicks)
      parts.push(
        `<text x="${px(gx)}" y="${H - M.b + 14}" font-size="10" text-anchor="middle">${+gx.toFixed(2)}</text>`,
      );
    parts.push(`<text x="${M.l - 4}" y="${py(gy) + 3}" font-size="10" text-anchor="end">${+gy.toFixed(2)}</text>`);
  }
  opts.xTicks?.forEach((t, i) =>
    parts.push(`<text x="${px(i + 0.5)}" y="${H - M.b + 14}" font-size="10" text-anchor="middle">${esc(t)}</text>`),
  );
  parts.push(
    `<text x="${(M.l + W - M.r) / 2}" y="${H - 6}" font-size="11" text-anchor="middle">${esc(opts.xLabel)}</text>`,
  );
  parts.push(
    `<text x="12" y="${(M.t + H - M.b) / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${(M.t + H - M.b) / 2})">${esc(opts.yLabel)}</text>`,
  );
  const legendY = (k: number) =>
    opts.legendBottom ? H - M.b - 10 - (opts.series.length - 1 - k) * 14 : M.t + 12 + k * 14;
  opts.series.forEach((s, k) => {
    const [x, y] = thin(s.x, s.y);
    let d = '';
    for (let i = 0; i < x.length; i++) {
      if (i === 0) d += `M${px(x[i]!).toFixed(1)},${py(y[i]!).toFixed(1)}`;
      else if (s.step) d += `H${px(x[i]!).toFixed(1)}V${py(y[i]!).toFixed(1)}`;
      else d += `L${px(x[i]!).toFixed(1)},${py(y[i]!).toFixed(1)}`;
    }
    parts.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
    );
    parts.push(
      `<line x1="${W - M.r - 120}" y1="${legendY(k)}" x2="${W - M.r - 104}" y2="${legendY(k)}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
    );
    parts.push(`<text x="${W - M.r - 100}" y="${legendY(k) + 3}" font-size="10">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return `<figure><figcaption>${esc(opts.title)}</figcaption>${parts.join('')}</figure>`;
}

function histogram(scores: ArrayLike<number>, labels: ArrayLike<number>, seed: number): string {
  const bins = 40;
  const count = [new Array(bins).fill(0) as number[], new Array(bins).fill(0) as number[]];
  let n0 = 0,
    n1 = 0;
  for (let i = 0; i < scores.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(scores[i]! * bins)));
    count[labels[i] ? 1 : 0]![b]!++;
    if (labels[i]) n1++;
    else n0++;
  }
  // share of each class per bin, on a square-root scale so that both classes are visible
  const share = (c: number[], n: number) => c.map((v) => Math.sqrt(v / Math.max(1, n)));
  const s0 = share(count[0]!, n0),
    s1 = share(count[1]!, n1);
  const yMax = Math.max(...s0, ...s1, 1e-9);
  const bx = (W - M.l - M.r) / bins;
  const py = (y: number) => H - M.b - (y / yMax) * (H - M.t - M.b);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="score distributions">`,
    `<rect x="${M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="#fff" stroke="#999"/>`,
  ];
  for (let b = 0; b < bins; b++) {
    parts.push(
      `<rect x="${(M.l + b * bx).toFixed(1)}" y="${py(s0[b]!).toFixed(1)}" width="${(bx / 2).toFixed(1)}" height="${(H - M.b - py(s0[b]!)).toFixed(1)}" fill="#1f77b4" opacity="0.8"/>`,
    );
    parts.push(
      `<rect x="${(M.l + b * bx + bx / 2).toFixed(1)}" y="${py(s1[b]!).toFixed(1)}" width="${(bx / 2).toFixed(1)}" height="${(H - M.b - py(s1[b]!)).toFixed(1)}" fill="#d62728" opacity="0.8"/>`,
    );
  }
  for (let i = 0; i <= 5; i++)
    parts.push(
      `<text x="${M.l + (i / 5) * (W - M.l - M.r)}" y="${H - M.b + 14}" font-size="10" text-anchor="middle">${i / 5}</text>`,
    );
  parts.push(
    `<text x="${(M.l + W - M.r) / 2}" y="${H - 6}" font-size="11" text-anchor="middle">score (fraud probability)</text>`,
  );
  parts.push(
    `<text x="12" y="${(M.t + H - M.b) / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${(M.t + H - M.b) / 2})">√(share of class)</text>`,
  );
  parts.push(
    `<rect x="${W - 140}" y="${M.t + 6}" width="10" height="10" fill="#1f77b4"/><text x="${W - 126}" y="${M.t + 15}" font-size="10">genuine (${n0})</text>`,
  );
  parts.push(
    `<rect x="${W - 140}" y="${M.t + 20}" width="10" height="10" fill="#d62728"/><text x="${W - 126}" y="${M.t + 29}" font-size="10">fraud (${n1})</text>`,
  );
  parts.push('</svg>');
  return `<figure><figcaption>Score distributions, test week (seed ${seed})</figcaption>${parts.join('')}</figure>`;
}

function datasetSection(d: ReportDataset, testDates: string[], heading: boolean): string {
  const rocs = d.seeds.map((s, k) => {
    const c = rocCurve(s.scores, d.labels);
    return { name: `seed ${s.seed} (AUC ${fmt(s.auc)})`, x: c.fpr, y: c.tpr, color: COLORS[k % COLORS.length]! };
  });
  const prs = d.seeds.map((s, k) => {
    const c = prCurve(s.scores, d.labels);
    return {
      name: `seed ${s.seed} (AP ${fmt(s.ap)})`,
      x: c.recall,
      y: c.precision,
      color: COLORS[k % COLORS.length]!,
      step: true,
    };
  });
  const day = (i: number) => i + 0.5;
  const cps: Series[] = d.seeds.map((s, k) => ({
    name: `seed ${s.seed} (mean ${fmt(s.cp100)})`,
    x: s.cpPerDay.map((_, i) => day(i)),
    y: s.cpPerDay.map((p) => p.precision),
    color: COLORS[k % COLORS.length]!,
  }));
  if (d.reachable)
    cps.push({
      name: `reachable (${fmt(d.reachable.mean)})`,
      x: d.reachable.perDay.map((_, i) => day(i)),
      y: d.reachable.perDay.map((p) => p.precision),
      color: '#555',
      dash: '4 3',
    });
  const nDays = Math.max(1, ...d.seeds.map((s) => s.cpPerDay.length));
  let frauds = 0;
  for (let i = 0; i < d.labels.length; i++) frauds += d.labels[i]! ? 1 : 0;
  const rate = frauds / Math.max(1, d.labels.length);
  const perDay =
    d.seeds[0]?.cpPerDay
      .map(
        (p, i) =>
          `<tr><td>${esc(testDates[i] ?? String(p.day))}</td><td>${p.compromisedCards}</td>` +
          `${d.reachable ? `<td>${fmt(d.reachable.perDay[i]?.precision ?? NaN, 2)}</td>` : ''}${d.seeds.map((s) => `<td>${fmt(s.cpPerDay[i]?.precision ?? NaN, 2)}</td>`).join('')}</tr>`,
      )
      .join('') ?? '';
  return `${heading ? `<h2 style="font-size:17px">Dataset ${esc(d.name)}</h2>` : ''}
<div class="grid">
${chart({ title: 'ROC curve, test week', xLabel: 'false positive rate', yLabel: 'true positive rate', legendBottom: true, series: [...rocs, { name: 'random', x: [0, 1], y: [0, 1], color: '#999', dash: '4 3' }] })}
${chart({ title: 'Precision–recall curve, test week', xLabel: 'recall', yLabel: 'precision', series: [...prs, { name: `random (${fmt(rate)})`, x: [0, 1], y: [rate, rate], color: '#999', dash: '4 3' }] })}
${d.seeds[0] ? histogram(d.seeds[0].scores, d.labels, d.seeds[0].seed) : ''}
${chart({ title: 'Card Precision@100 per test day', xLabel: 'test day', yLabel: 'CP@100', series: cps, xMax: nDays, yMax: 1, xTicks: testDates.map((t) => t.slice(5)) })}
</div>
<h3 style="font-size:15px">Card Precision@100 per day</h3>
<table><thead><tr><th>day</th><th>compromised cards left</th>${d.reachable ? '<th>reachable</th>' : ''}${d.seeds.map((s) => `<th>seed ${s.seed}</th>`).join('')}</tr></thead><tbody>${perDay}</tbody></table>`;
}

export function renderReport(r: ReportInput): string {
  const several = r.datasets.length > 1;
  const all = r.datasets.flatMap((d) => d.seeds);
  const rows = r.datasets
    .map((d) =>
      d.seeds
        .map(
          (s) =>
            `<tr><td>${r.modelLabel ? `${esc(r.modelLabel)}${several ? `, ${esc(d.name)}` : ''}` : `Leakguard forest, ${several ? `${esc(d.name)}, ` : ''}seed ${s.seed}`}</td><td>${fmt(s.auc)}</td><td>${fmt(s.ap)}</td><td>${fmt(s.cp100)}</td>` +
            `<td>${d.reachable ? fmt(d.reachable.mean) : '—'}</td></tr>`,
        )
        .join(''),
    )
    .join('');
  const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
  const reachable = r.datasets.every((d) => d.reachable) ? mean(r.datasets.map((d) => d.reachable!.mean)) : NaN;
  const meanRow =
    all.length > 1
      ? `<tr class="mean"><td>Leakguard forest, mean of ${several ? `${r.datasets.length} datasets × ` : ''}${r.datasets[0]!.seeds.length} seed${r.datasets[0]!.seeds.length > 1 ? 's' : ''}</td>` +
        `<td>${fmt(mean(all.map((s) => s.auc)))}</td><td>${fmt(mean(all.map((s) => s.ap)))}</td><td>${fmt(mean(all.map((s) => s.cp100)))}</td><td>${fmt(reachable)}</td></tr>`
      : '';
  const refRows = r.reference
    .map(
      (x) =>
        `<tr class="ref"><td>handbook: ${esc(x.model)}</td><td>${fmt(x.auc)}</td><td>${fmt(x.ap)}</td><td>${fmt(x.cp100)}</td><td></td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1320px}
h1{font-size:20px;margin:0 0 4px}p.sub{color:#555;margin:0 0 16px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
tr.ref td{color:#666}tr.mean td{font-weight:600}
.grid{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}figcaption{font-weight:600;margin-bottom:4px}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{color:#555}dd{margin:0;word-break:break-all}
</style></head><body>
<h1>${esc(r.title)}</h1><p class="sub">${esc(r.subtitle)}</p>
<table><thead><tr><th>model</th><th>AUC ROC</th><th>Average Precision</th><th>Card Precision@100</th><th>reachable CP@100</th></tr></thead><tbody>
${rows}${meanRow}
${refRows}</tbody></table>
<p class="sub">Reachable CP@100: the expected score of an oracle that ranks first, each day, every card with a fraud these features can see, and
the other cards at random — a compromised terminal's fraud stays invisible until its labels pass the 7-day delay. What a model on these features can expect at best.</p>
${r.datasets.map((d) => datasetSection(d, r.testDates, several)).join('\n')}
${
  r.calibration
    ? `<h2 style="font-size:16px">Calibration</h2>
<p class="sub">Test rows${all.length > 1 ? ` of all ${all.length} runs` : ''} by score decile: a calibrated model's mean score matches the observed fraud rate.</p>
<table><thead><tr><th>decile</th><th>rows</th><th>scores</th><th>mean score</th><th>fraud rate</th><th>frauds</th></tr></thead><tbody>${r.calibration
        .map(
          (b) =>
            `<tr><td>${b.decile}</td><td>${b.rows}</td><td>${fmt(b.minScore)}–${fmt(b.maxScore)}</td><td>${fmt(b.meanScore, 4)}</td><td>${fmt(b.fraudRate, 4)}</td><td>${b.frauds}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : ''
}
${
  r.featureWeights
    ? `<h2 style="font-size:16px">Features by share of split weight</h2>
<p class="sub">Gini decrease × training rows at each split, summed over every tree: what the trees used (correlated features share it).</p>
<table><thead><tr><th>feature</th><th>share</th><th>splits</th></tr></thead><tbody>${r.featureWeights
        .map((w) => `<tr><td>${esc(w.name)}</td><td>${fmt(100 * w.share, 1)} %</td><td>${w.splits}</td></tr>`)
        .join('')}</tbody></table>`
    : ''
}
<h2 style="font-size:16px">Run</h2>
<dl>${Object.entries(r.summary)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
    .join('')}</dl>
</body></html>
`;
}
