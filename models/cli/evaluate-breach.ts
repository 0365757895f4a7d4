// npm run model -- evaluate --protocol breach --data DIR [--from YYYY-MM-DD --to YYYY-MM-DD] [--test-days N]
//   [--model ARTIFACT.json] [training options] [--json FILE] [--report FILE.html] [--quiet]
// The breach protocol (models/evaluation/breach-protocol.ts): the engine with and without
// watchlists, with and without the model, on the breach scenario. models/cli/model.ts hands
// `evaluate --protocol breach` over to this module, which parses its own flags.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { progress, type Progress } from './progress.ts';
import { DatasetError, readDataset } from '../simulator/csv.ts';
import { addDays } from '../evaluation/protocol.ts';
import type { FrictionBudget } from '../../services/core/rules.ts';
import {
  BREACH_SPLIT,
  BreachProtocolError,
  CONFIGURATIONS,
  FRAUD_KIND_LABELS,
  runBreachProtocol,
  type BandVariant,
  type BreachRunResult,
  type BreachSplit,
  type ConfigurationResult,
  type FraudKind,
  type FrictionSpent,
  type GenuineDecisions,
  type GenuineGroup,
  type SpendShare,
  type SweepRow,
} from '../evaluation/breach-protocol.ts';
import { loadScoringModel } from '../../services/adapters/files/model-file.ts';
import { readRatesFile } from '../../services/adapters/files/rates-file.ts';
import { DEFAULT_TRAIN_PARAMS, type TrainParams } from '../training/train.ts';
import { LeakguardError } from '../../services/core/errors.ts';
import { callerPath, unwritable } from '../../services/cli/command.ts';
import { applyTrainFlags, isCalendarDate, TRAIN_FLAGS } from './train-flags.ts';
import { describeLabels, LABEL_FLAGS, LABEL_USAGE, labelsFromFlags } from '../features/labels.ts';

const USAGE = `usage:
  npm run model -- evaluate --protocol breach --data DIR [--from YYYY-MM-DD --to YYYY-MM-DD] [--test-days N]
      [--model ARTIFACT.json] [--json FILE] [--report FILE.html] [--quiet]
  Replays DIR (npm run simulate -- --breach) through the engine with watchlists, trains a forest on the
  engine feature set over the train period (or evaluates --model), and compares four configurations:
  ${CONFIGURATIONS.map((c) => c.label).join('; ')}.
  --from/--to   train period (default ${BREACH_SPLIT.trainStart}..${addDays(BREACH_SPLIT.trainStart, BREACH_SPLIT.trainDays - 1)}); the test starts ${BREACH_SPLIT.delayDays} days after it
  --test-days N test days (default: to the last day of the data)
  --model FILE  evaluate this artifact instead of training one (refused when the engine cannot serve it)
training options: --trees N (${DEFAULT_TRAIN_PARAMS.trees})  --seed S (${DEFAULT_TRAIN_PARAMS.seed})  --genuine-per-tree N (${DEFAULT_TRAIN_PARAMS.genuinePerTree})
  --fraud-share X (${DEFAULT_TRAIN_PARAMS.fraudShare})  --max-depth N (${DEFAULT_TRAIN_PARAMS.maxDepth})  --min-node N (${DEFAULT_TRAIN_PARAMS.minNumSamples})
  --max-features X (${DEFAULT_TRAIN_PARAMS.maxFeatures})  --bins N (${DEFAULT_TRAIN_PARAMS.bins})  --gain-threshold X (${DEFAULT_TRAIN_PARAMS.gainThreshold})
  --workers N (${DEFAULT_TRAIN_PARAMS.workers})  --leaf-values sample|all (${DEFAULT_TRAIN_PARAMS.leafValues})
${LABEL_USAGE}`;

class UsageError extends LeakguardError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

function parse(argv: string[]) {
  const options: Record<string, { type: 'string' | 'boolean' }> = {
    data: { type: 'string' },
    protocol: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    'test-days': { type: 'string' },
    model: { type: 'string' },
    json: { type: 'string' },
    report: { type: 'string' },
    'leaf-values': { type: 'string' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean' },
  };
  for (const k of [...Object.keys(TRAIN_FLAGS), ...LABEL_FLAGS]) options[k] = { type: 'string' };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  if (values.help) return { help: true as const };
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  if (str('protocol') !== 'breach') throw new UsageError('--protocol breach expected');
  const data = str('data');
  if (!data) throw new UsageError('--data DIR is required');
  // Paths as the caller meant them; files written after the work, checked before it.
  const opt = (v: string | undefined) => (v === undefined ? undefined : callerPath(v));
  for (const flag of ['json', 'report']) {
    const target = opt(str(flag));
    const problem = target === undefined ? undefined : unwritable(target);
    if (problem) throw new UsageError(`--${flag} ${str(flag)}: ${problem}`);
  }

  const labels = labelsFromFlags(str);
  if (typeof labels === 'string') throw new UsageError(labels);
  const params: TrainParams = { ...DEFAULT_TRAIN_PARAMS };
  const flagProblem = applyTrainFlags(params, str);
  if (flagProblem) throw new UsageError(flagProblem);
  const leafValues = str('leaf-values');
  if (leafValues !== undefined) {
    if (leafValues !== 'sample' && leafValues !== 'all') throw new UsageError('--leaf-values: sample or all');
    params.leafValues = leafValues;
  }

  const isDate = isCalendarDate; // 2018-02-30 is not 2018-03-02
  const from = str('from'),
    to = str('to');
  for (const [flag, d] of [
    ['--from', from],
    ['--to', to],
  ] as const)
    if (d !== undefined && !isDate(d)) throw new UsageError(`${flag}: expected YYYY-MM-DD, got ${d}`);
  const trainStart = from ?? BREACH_SPLIT.trainStart;
  const trainDays = to
    ? Math.round((Date.parse(to) - Date.parse(trainStart)) / 86_400_000) + 1
    : BREACH_SPLIT.trainDays;
  if (trainDays < 1) throw new UsageError(`--to ${to} is before the train start ${trainStart}`);
  const testDaysFlag = str('test-days');
  let testDays: number | undefined;
  if (testDaysFlag !== undefined) {
    testDays = Number(testDaysFlag);
    if (!/^\d+$/.test(testDaysFlag) || testDays < 1)
      throw new UsageError(`--test-days: a positive integer, not ${testDaysFlag}`);
  }
  const split: BreachSplit = { trainStart, trainDays, delayDays: BREACH_SPLIT.delayDays, testDays };
  return {
    help: false as const,
    data: callerPath(data),
    params,
    labels,
    split,
    model: opt(str('model')),
    json: opt(str('json')),
    report: opt(str('report')),
    quiet: values.quiet === true,
  };
}

// --- Output ----------------------------------------------------------------------------------------

const pct = (v: number, d = 1) => (Number.isFinite(v) ? `${(v * 100).toFixed(d)} %` : '—');
const num = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '—');
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const eur = (v: number) => `€${Math.round(v).toLocaleString('en-US')}`;

/** A column of a result table: its head, its plain-text cell and (optionally) a richer HTML cell. */
interface Column<R> {
  head: string;
  text: (r: R) => string;
  html?: (r: R) => string;
}

function textTable<R>(title: string, cols: Column<R>[], rows: R[], notes: string[] = []): string {
  const cells = rows.map((r) => cols.map((c) => c.text(r)));
  const widths = cols.map((c, i) => Math.max(c.head.length, ...cells.map((row) => row[i]!.length)));
  const line = (cs: string[]) =>
    cs
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [title, line(cols.map((c) => c.head)), ...cells.map(line), ...notes.map((n) => `  ${n}`)].join('\n');
}

function htmlTable<R>(cols: Column<R>[], rows: R[]): string {
  const head = `<tr>${cols.map((c) => `<th>${esc(c.head)}</th>`).join('')}</tr>`;
  const body = rows.map(
    (r) =>
      `<tr>${cols
        .map((c, i) => {
          const cell = c.html ? c.html(r) : esc(c.text(r));
          return i === 0 ? `<th>${cell}</th>` : `<td>${cell}</td>`;
        })
        .join('')}</tr>`,
  );
  return `<table>${head}\n${body.join('\n')}</table>`;
}

const share = (s: SpendShare) => pct(s.share);
const shareHtml = (s: SpendShare) =>
  `${pct(s.share)}<br><small>${s.stoppedTransactions}/${s.transactions} tx, ${eur(s.stoppedSpend)} of ${eur(s.spend)}</small>`;
const overBudget = (f: FrictionSpent) => (f.over.length ? `no: ${f.over.join(', ')}` : 'yes');
const label = (c: ConfigurationResult) => c.label;

// Fraud: cash-out first (the money the breach is for), then all fraud and the other kinds, then the delays.
const FRAUD_ORDER: readonly FraudKind[] = ['breachCashout', 'all', 'breachTesting', 'handbook'];
const fraudColumns: Column<ConfigurationResult>[] = [
  { head: 'configuration', text: label, html: (c) => esc(c.label) },
  ...FRAUD_ORDER.map((k): Column<ConfigurationResult> => ({
    head: k === 'breachCashout' ? 'CASH-OUT stopped (5)' : `${FRAUD_KIND_LABELS[k]} stopped`,
    text: (c) => share(c.fraudSpend[k]),
    html: (c) => (k === 'breachCashout' ? `<b>${shareHtml(c.fraudSpend[k])}</b>` : shareHtml(c.fraudSpend[k])),
  })),
  { head: 'delay median h', text: (c) => num(c.delays.medianHours) },
  { head: 'delay p90 h', text: (c) => num(c.delays.p90Hours) },
  {
    head: 'never detected',
    text: (c) => pct(c.delays.neverDetectedShare),
    html: (c) =>
      `${pct(c.delays.neverDetectedShare)}<br><small>${c.delays.cards - c.delays.detected}/${c.delays.cards} cards</small>`,
  },
];

const PER_DECISION = [
  ['challenged', 'challengedPer1000'],
  ['reviewed', 'reviewedPer1000'],
  ['declined', 'declinedPer1000'],
] as const;
const GROUP_SHORT: Record<GenuineGroup, string> = { all: 'all', listed: 'listed', unlisted: 'other' };
function genuineColumn<R>(group: GenuineGroup, of: (r: R) => Record<GenuineGroup, GenuineDecisions>): Column<R>[] {
  return PER_DECISION.map(([count, rate]) => ({
    head: `${GROUP_SHORT[group]}: ${count}`,
    text: (r: R) => num(of(r)[group][rate], 2),
    html: (r: R) => `${num(of(r)[group][rate], 2)}<br><small>${of(r)[group][count]}/${of(r)[group].genuine}</small>`,
  }));
}
const genuineColumns: Column<ConfigurationResult>[] = [
  { head: 'configuration', text: label },
  ...genuineColumn<ConfigurationResult>('listed', (c) => c.genuineDecisions),
  ...genuineColumn<ConfigurationResult>('unlisted', (c) => c.genuineDecisions),
  {
    head: 'all: stopped',
    text: (c) => num(c.genuine.per1000, 2),
    html: (c) => `${num(c.genuine.per1000, 2)}<br><small>${c.genuine.stopped}/${c.genuine.genuine}</small>`,
  },
  {
    head: 'all: reviewed',
    text: (c) => num(c.genuineReviewed.per1000, 2),
    html: (c) =>
      `${num(c.genuineReviewed.per1000, 2)}<br><small>${c.genuineReviewed.stopped}/${c.genuineReviewed.genuine}</small>`,
  },
];

function frictionColumns<R>(first: Column<R>, of: (r: R) => FrictionSpent, budget: FrictionBudget): Column<R>[] {
  const mark = (over: boolean) => (over ? ' over' : '');
  return [
    first,
    {
      head: `challenged (budget ${pct(budget.challenge, 2)})`,
      text: (r) => `${pct(of(r).challengeShare, 2)}${mark(of(r).over.includes('challenge'))}`,
      html: (r) =>
        `${pct(of(r).challengeShare, 2)}${of(r).over.includes('challenge') ? ' <b>over</b>' : ''}<br><small>${of(r).challenged}/${of(r).orders}</small>`,
    },
    {
      head: `reviewed (budget ${pct(budget.review, 2)})`,
      text: (r) => `${pct(of(r).reviewShare, 2)}${mark(of(r).over.includes('review'))}`,
      html: (r) =>
        `${pct(of(r).reviewShare, 2)}${of(r).over.includes('review') ? ' <b>over</b>' : ''}<br><small>${of(r).reviewed}/${of(r).orders}</small>`,
    },
    {
      head: 'declined',
      text: (r) => pct(of(r).declineShare, 2),
      html: (r) => `${pct(of(r).declineShare, 2)}<br><small>${of(r).declined}/${of(r).orders}</small>`,
    },
    { head: 'within budget', text: (r) => overBudget(of(r)) },
  ];
}

export const variantLabel = (v: BandVariant) =>
  v.band ? `${v.band} ${v.shift > 0 ? '+' : '−'}${Math.abs(v.shift)}` : 'as is';
const bandsText = (v: BandVariant) => `${v.bands.challenge}/${v.bands.review}/${v.bands.decline}`;
function sweepColumns(budget: FrictionBudget): Column<SweepRow>[] {
  const [, ...friction] = frictionColumns<SweepRow>({ head: '', text: () => '' }, (s) => s.friction, budget);
  return [
    { head: 'bands moved', text: variantLabel },
    { head: 'challenge/review/decline', text: bandsText },
    ...friction.filter((c) => c.head !== 'declined').map(({ head, text }) => ({ head, text })),
    {
      head: 'CASH-OUT stopped',
      text: (s) => share(s.fraudSpend.breachCashout),
      html: (s) => `<b>${share(s.fraudSpend.breachCashout)}</b>`,
    },
    { head: 'all fraud stopped', text: (s) => share(s.fraudSpend.all) },
    ...genuineColumn<SweepRow>('all', (s) => s.genuineDecisions).map(({ head, text }) => ({
      head: `genuine ${head.slice(5)} /1000`,
      text,
    })),
  ];
}

/** The report's tables as plain text: fraud stopped, genuine orders, friction, the band sweep. */
export function resultTable(r: BreachRunResult): string {
  const c = r.configurations;
  const budget = c[0]?.friction.budget ?? r.sweep.rows[0]!.friction.budget;
  const listed = c[0]!.genuineDecisions.listed.genuine,
    other = c[0]!.genuineDecisions.unlisted.genuine;
  return [
    describeLabels(r.labels),
    textTable(
      'Fraudulent spend stopped (challenged or declined), test period; detection delay of the leaked cards first used in it',
      fraudColumns,
      c,
      [
        "delay: hours from a leaked card's first fraudulent use to its first flagged transaction (challenged, reviewed or declined; detected cards only)",
      ],
    ),
    textTable(
      'Genuine orders challenged, reviewed, declined per 1,000 genuine orders of the group',
      genuineColumns,
      c,
      [
        `listed: card on a leak list at that moment (${listed} genuine orders); other: the rest (${other}); the same split for every configuration`,
        'all: stopped = challenged or declined; reviewed = held for an analyst',
      ],
    ),
    textTable(
      "Friction spent: share of all orders (genuine and fraudulent) challenged and reviewed, against the ruleset's friction budget",
      frictionColumns<ConfigurationResult>({ head: 'configuration', text: label }, (x) => x.friction, budget),
      c,
    ),
    textTable(
      `What a threshold change would do: ${CONFIGURATIONS.find((x) => x.id === r.sweep.configuration)!.label}, one decision band moved at a time, same feature maps`,
      sweepColumns(budget),
      r.sweep.rows,
      r.sweep.skipped.map((s) => `not swept: ${variantLabel(s)} (${s.reason})`),
    ),
    genuineReasonsText(c.find((x) => x.watchlists && x.model) ?? c[c.length - 1]!),
  ].join('\n\n');
}

/** What made genuine orders meet friction in one configuration: the reason codes they carried, per decision. */
export function genuineReasonsText(c: ConfigurationResult): string {
  const lines = [
    `Why genuine orders met friction (${c.label}): orders carrying each reason code, per decision, most first`,
  ];
  for (const decision of ['decline', 'review', 'challenge'] as const) {
    const top = c.genuineReasons?.[decision];
    if (!top?.length) continue;
    lines.push(
      `  ${decision} (${c.decisions[decision]} orders in all, genuine and fraudulent): ${top.map((t) => `${t.code} ${t.orders}`).join(', ')}`,
    );
  }
  return lines.join('\n');
}

const COLORS = ['#7f7f7f', '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'];
const CONFIG_LABELS = CONFIGURATIONS.map((c) => c.label);

/** A round axis top: 1, 2 or 5 times a power of ten at or above the largest value. */
function axisTop(values: number[]): number {
  const top = Math.max(1e-9, ...values.filter(Number.isFinite));
  const mag = 10 ** Math.floor(Math.log10(top));
  return [1, 2, 5, 10].map((m) => m * mag).find((v) => v >= top * (1 - 1e-12))!;
}

/**
 * Grouped bars: one group per category, one bar per series (the configurations by default); values
 * 0..yMax. `marks`: a dashed line across a group at that value (a budget), NaN for none.
 */
function barChart(
  title: string,
  yLabel: string,
  groups: string[],
  values: number[][],
  yMax: number,
  format: (v: number) => string,
  series: readonly string[] = CONFIG_LABELS,
  marks?: number[],
): string {
  const W = Math.max(640, 52 + 12 + groups.length * Math.max(50, series.length * 9 + 14)),
    H = 300,
    M = { l: 52, r: 12, t: 34, b: 40 };
  const gw = (W - M.l - M.r) / groups.length,
    bw = (gw * 0.8) / series.length;
  const py = (v: number) => H - M.b - (Math.min(yMax, Math.max(0, v)) / yMax) * (H - M.t - M.b);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">`,
    `<rect x="${M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="#fff" stroke="#999"/>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const v = (i / 5) * yMax;
    parts.push(
      `<line x1="${M.l}" y1="${py(v).toFixed(1)}" x2="${W - M.r}" y2="${py(v).toFixed(1)}" stroke="#eee"/>`,
      `<text x="${M.l - 4}" y="${(py(v) + 3).toFixed(1)}" font-size="10" text-anchor="end">${esc(format(v))}</text>`,
    );
  }
  groups.forEach((g, gi) => {
    // a label wider than its group goes on two lines (about 5.5 px a character at 10 px)
    const cx = (M.l + gw * (gi + 0.5)).toFixed(1),
      cut = g.length * 5.5 > gw ? g.indexOf(' ') : -1;
    parts.push(
      cut < 0
        ? `<text x="${cx}" y="${H - M.b + 14}" font-size="10" text-anchor="middle">${esc(g)}</text>`
        : `<text x="${cx}" y="${H - M.b + 14}" font-size="10" text-anchor="middle">${esc(g.slice(0, cut))}<tspan x="${cx}" dy="12">${esc(g.slice(cut + 1))}</tspan></text>`,
    );
    series.forEach((s, ci) => {
      const v = values[gi]![ci]!;
      if (!Number.isFinite(v)) return;
      const x = M.l + gw * gi + gw * 0.1 + bw * ci;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${py(v).toFixed(1)}" width="${Math.max(0.5, bw - 1).toFixed(1)}" height="${(H - M.b - py(v)).toFixed(1)}" fill="${COLORS[ci % COLORS.length]}"><title>${esc(`${s}, ${g}: ${format(v)}`)}</title></rect>`,
      );
    });
    const m = marks?.[gi];
    if (m !== undefined && Number.isFinite(m)) {
      const x0 = M.l + gw * gi + gw * 0.05,
        x1 = M.l + gw * (gi + 1) - gw * 0.05;
      parts.push(
        `<line x1="${x0.toFixed(1)}" y1="${py(m).toFixed(1)}" x2="${x1.toFixed(1)}" y2="${py(m).toFixed(1)}" stroke="#d62728" stroke-width="1.5" stroke-dasharray="5 3"><title>${esc(`budget, ${g}: ${format(m)}`)}</title></line>`,
      );
    }
  });
  series.forEach((s, ci) => {
    const x = 8 + ci * 158;
    parts.push(
      `<rect x="${x}" y="8" width="10" height="10" fill="${COLORS[ci % COLORS.length]}"/><text x="${x + 14}" y="17" font-size="10">${esc(s)}</text>`,
    );
  });
  parts.push(
    `<text x="12" y="${(M.t + H - M.b) / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${(M.t + H - M.b) / 2})">${esc(yLabel)}</text>`,
    '</svg>',
  );
  return `<figure><figcaption>${esc(title)}</figcaption>${parts.join('')}</figure>`;
}

/** Share of the leaked cards detected within h hours of their first fraudulent use (a step function per configuration). */
function delayChart(configs: ConfigurationResult[]): string {
  const W = 640,
    H = 300,
    M = { l: 52, r: 12, t: 34, b: 40 };
  const all = configs.flatMap((c) => c.delays.hours);
  const xMax = Math.max(1, Math.ceil(Math.max(0, ...all) / 24) * 24);
  const px = (h: number) => M.l + (h / xMax) * (W - M.l - M.r);
  const py = (s: number) => H - M.b - s * (H - M.t - M.b);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="detection delay">`,
    `<rect x="${M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="#fff" stroke="#999"/>`,
  ];
  for (let i = 0; i <= 5; i++) {
    parts.push(
      `<line x1="${M.l}" y1="${py(i / 5)}" x2="${W - M.r}" y2="${py(i / 5)}" stroke="#eee"/>`,
      `<text x="${M.l - 4}" y="${py(i / 5) + 3}" font-size="10" text-anchor="end">${i * 20} %</text>`,
    );
    parts.push(
      `<text x="${px((i / 5) * xMax).toFixed(1)}" y="${H - M.b + 14}" font-size="10" text-anchor="middle">${+((i / 5) * xMax).toFixed(1)}</text>`,
    );
  }
  configs.forEach((c, ci) => {
    const n = c.delays.cards;
    if (!n) return;
    let d = `M${px(0).toFixed(1)},${py(0).toFixed(1)}`;
    c.delays.hours.forEach((h, k) => (d += `H${px(h).toFixed(1)}V${py((k + 1) / n).toFixed(1)}`));
    d += `H${px(xMax).toFixed(1)}`;
    parts.push(
      `<path d="${d}" fill="none" stroke="${COLORS[ci]}" stroke-width="1.8"${ci % 2 ? ' stroke-dasharray="5 3"' : ''}/>`,
    );
    const x = 8 + ci * 158;
    parts.push(
      `<rect x="${x}" y="8" width="10" height="10" fill="${COLORS[ci]}"/><text x="${x + 14}" y="17" font-size="10">${esc(c.label)}</text>`,
    );
  });
  parts.push(
    `<text x="${(M.l + W - M.r) / 2}" y="${H - 6}" font-size="11" text-anchor="middle">hours from first fraudulent use</text>`,
  );
  parts.push(
    `<text x="12" y="${(M.t + H - M.b) / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${(M.t + H - M.b) / 2})">leaked cards detected</text>`,
    '</svg>',
  );
  return `<figure><figcaption>Detection delay: share of the ${configs[0]?.delays.cards ?? 0} leaked cards first used fraudulently in the test period that were flagged within h hours (the rest: never detected)</figcaption>${parts.join('')}</figure>`;
}

export function renderBreachReport(r: BreachRunResult, dataDir: string): string {
  const c = r.configurations;
  const budget = c[0]!.friction.budget;
  const sweep = r.sweep.rows;
  const pctAxis = (v: number) => `${+(v * 100).toFixed(2)} %`;
  const genuineGroups = (['listed', 'unlisted'] as const).flatMap((g) =>
    PER_DECISION.map(([count, rate]) => [g, count, rate] as const),
  );
  const genuineValues = genuineGroups.map(([g, , rate]) => c.map((x) => x.genuineDecisions[g][rate]));
  const frictionValues = [c.map((x) => x.friction.challengeShare), c.map((x) => x.friction.reviewShare)];
  const sweepSeries = [
    'challenged (share of orders)',
    'reviewed (share of orders)',
    'cash-out spend stopped',
    'all fraud spend stopped',
  ];
  const sweepValues = sweep.map((s) => [
    s.friction.challengeShare,
    s.friction.reviewShare,
    s.fraudSpend.breachCashout.share,
    s.fraudSpend.all.share,
  ]);
  const sweepGenuine = sweep.map((s) => PER_DECISION.map(([, rate]) => s.genuineDecisions.all[rate]));
  const currencies = r.test.currencies
    ? Object.entries(r.test.currencies)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${pct(n / r.test.transactions)}`)
        .join(', ')
    : 'no CURRENCY column (amounts in EUR)';
  const summary: [string, string][] = [
    ['data', dataDir],
    [
      'train',
      `${r.period.trainFrom}..${r.period.trainTo}${r.train ? `: ${r.train.rows} transactions, ${r.train.frauds} frauds, ${r.train.seconds.toFixed(1)} s` : ''}`,
    ],
    [
      'test',
      `${r.period.testFrom}..${r.period.testTo}: ${r.test.transactions} transactions, ${r.test.frauds} frauds (${r.test.breachFrauds} uses of leaked cards), ${r.test.genuineListed} genuine orders of listed cards`,
    ],
    ['currencies (test rows)', currencies],
    ['fraud labels', describeLabels(r.labels).replace(/^labels: /, '')],
    [
      'model',
      `${r.model.version} (feature set ${r.model.featureSet}${r.model.trained ? ', trained here' : ', given'})`,
    ],
    [
      'leaked cards',
      `${r.test.leakedCardsFirstUsed} first used fraudulently in the test period; ${r.test.leakedCardsUsedBefore} used before it (left out of the delays)`,
    ],
    [
      'friction budget',
      `challenge ${pct(budget.challenge, 2)}, review ${pct(budget.review, 2)} of all orders (ruleset)`,
    ],
    [
      'replay',
      `${r.replay.replayed} transactions in ${r.replay.seconds.toFixed(0)} s, ${r.replay.uploads} issuer uploads (${r.replay.listedCards} cards listed); engine/judge mismatches: ${r.engineMismatches}`,
    ],
  ];
  const headline = c.map((x) => `${esc(x.label)} <b>${pct(x.fraudSpend.breachCashout.share)}</b>`).join(' · ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Leakguard — breach protocol</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;max-width:1100px;color:#222}table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;vertical-align:top}th{text-align:left;background:#f6f6f6}small{color:#666}figure{display:inline-block;margin:8px}figcaption{font-size:12px;max-width:640px}.headline{font-size:16px}</style>
</head><body>
<h1>Leakguard — breach protocol</h1>
<p>The engine on the breach scenario, with and without watchlists, with and without the behavioural model. "Stopped" is a challenge (3-D Secure) or a decline; a review holds the order for an analyst.</p>
<p class="headline">Cash-out spend stopped: ${headline}</p>
<table>${summary.map(([k, v]) => `<tr><th>${esc(k)}</th><td style="text-align:left">${esc(v)}</td></tr>`).join('')}</table>
<h2>Fraud stopped (test period)</h2>
${htmlTable(fraudColumns, c)}
${barChart(
  'Share of fraudulent spend stopped, per kind of fraud',
  'share of spend stopped',
  FRAUD_ORDER.map((k) => FRAUD_KIND_LABELS[k]),
  FRAUD_ORDER.map((k) => c.map((x) => x.fraudSpend[k].share)),
  1,
  (v) => `${Math.round(v * 100)} %`,
)}
${delayChart(c)}
<h2>Genuine orders</h2>
<p>Per 1,000 genuine orders of the group. Listed: the card was on a leak list at that moment (the watchlists-on replay's <code>card_listed</code>; ${c[0]!.genuineDecisions.listed.genuine} genuine orders); other: the rest (${c[0]!.genuineDecisions.unlisted.genuine}). The same split for every configuration.</p>
${htmlTable(genuineColumns, c)}
${barChart(
  'Genuine orders challenged, reviewed, declined per 1,000, listed cards and the others',
  'per 1,000 genuine',
  genuineGroups.map(([g, count]) => `${GROUP_SHORT[g]}: ${count}`),
  genuineValues,
  axisTop(genuineValues.flat()),
  (v) => v.toFixed(1),
)}
<h2>Friction spent</h2>
<p>Shares of all orders (genuine and fraudulent) challenged and held for review, against the ruleset's friction budget (dashed).</p>
${htmlTable(
  frictionColumns<ConfigurationResult>({ head: 'configuration', text: label }, (x) => x.friction, budget),
  c,
)}
${barChart('Friction: share of all orders challenged and reviewed (budget dashed)', 'share of orders', ['challenged', 'reviewed'], frictionValues, axisTop([...frictionValues.flat(), budget.challenge, budget.review]), pctAxis, CONFIG_LABELS, [budget.challenge, budget.review])}
<h2>What a threshold change would do</h2>
<p>${esc(CONFIGURATIONS.find((x) => x.id === r.sweep.configuration)!.label)}: the ruleset's decision bands (challenge/review/decline ${bandsText(sweep[0]!)}), then one band moved at a time, judged on the same feature maps.${r.sweep.skipped.length ? ` Not swept: ${esc(r.sweep.skipped.map((s) => `${variantLabel(s)} (${s.reason})`).join('; '))}.` : ''}</p>
${htmlTable(sweepColumns(budget), sweep)}
${barChart('Band sweep: friction and fraud spend stopped', 'share', sweep.map(variantLabel), sweepValues, 1, (v) => `${Math.round(v * 100)} %`, sweepSeries)}
${barChart(
  'Band sweep: genuine orders per 1,000',
  'per 1,000 genuine',
  sweep.map(variantLabel),
  sweepGenuine,
  axisTop(sweepGenuine.flat()),
  (v) => v.toFixed(1),
  PER_DECISION.map(([count]) => `genuine ${count}`),
)}
</body></html>
`;
}

// --- Command ---------------------------------------------------------------------------------------

/** Runs the command; returns the exit code (2: bad input). */
export async function evaluateBreachCommand(argv: string[]): Promise<number> {
  let o;
  try {
    o = parse(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`model evaluate --protocol breach: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (o.help) {
    console.log(USAGE);
    return 0;
  }
  const fail = (message: string) => {
    console.error(`model evaluate --protocol breach: ${message}`);
    return 2;
  };
  let model;
  if (o.model) {
    try {
      model = loadScoringModel(o.model, { amountReference: readRatesFile().reference });
    } catch (error) {
      return fail(`--model ${o.model}: ${(error as Error).message}`);
    }
  }
  const t0 = performance.now();
  let ds;
  try {
    // Whole days up to the test end: the replay needs the history before the train period, and a
    // leaked card's first fraudulent use may precede the test.
    const testEnd =
      o.split.testDays === undefined
        ? undefined
        : addDays(o.split.trainStart, o.split.trainDays + o.split.delayDays + o.split.testDays - 1);
    ds = readDataset(o.data, { keepExtra: true, ...(testEnd ? { toDate: testEnd } : {}) });
  } catch (error) {
    // a DatasetError names the file and the place in it
    return fail(error instanceof DatasetError ? error.message : `--data ${o.data}: ${(error as Error).message}`);
  }
  if (!o.quiet)
    console.error(`read ${ds.n} transactions from ${o.data} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // One bar at a time (training pauses the replay): the replay's bar resumes where it stopped.
  let replayBar: Progress | undefined, treeBar: Progress | undefined;
  let result: BreachRunResult;
  try {
    result = await runBreachProtocol(ds, {
      dataDir: o.data,
      split: o.split,
      params: o.params,
      labels: o.labels,
      model,
      onReplay: (done, total) => {
        if (o.quiet) return;
        replayBar ??= progress('engine replay', total, { unit: 'transactions', from: done });
        replayBar.update(done);
        if (done >= total) replayBar.stop();
      },
      onTrainStart: (rows, frauds, trees) => {
        if (o.quiet) return;
        replayBar?.stop();
        replayBar = undefined;
        console.error(`training ${trees} trees on ${rows} transactions (${frauds} frauds)`);
        treeBar = progress('train', trees, { unit: 'trees' });
      },
      onTree: (done) => treeBar?.update(done),
      onTrainEnd: () => treeBar?.stop(),
    });
  } catch (error) {
    replayBar?.stop();
    treeBar?.stop();
    if (error instanceof BreachProtocolError || error instanceof DatasetError) return fail(error.message);
    throw error;
  }
  if (result.engineMismatches > 0) {
    // judge is the engine's own step: a mismatch means the replay and this protocol disagree on the inputs.
    console.error(
      `warning: rules + watchlists disagreed with the engine's decision on ${result.engineMismatches} test rows`,
    );
  }
  console.log(
    `breach protocol on ${o.data}: train ${result.period.trainFrom}..${result.period.trainTo}` +
      `${result.train ? ` (${result.train.rows} transactions, ${result.train.frauds} frauds, ${result.train.seconds.toFixed(1)} s)` : ''}; ` +
      `test ${result.period.testFrom}..${result.period.testTo} (${result.test.transactions} transactions, ${result.test.frauds} frauds, ${result.test.breachFrauds} uses of leaked cards, ` +
      `${result.test.leakedCardsFirstUsed} leaked cards first used)`,
  );
  console.log(
    `model ${result.model.version}${result.model.trained ? '' : ' (given)'}; replay ${result.replay.replayed} transactions in ${result.replay.seconds.toFixed(0)} s`,
  );
  if (result.test.currencies) {
    console.log(
      `currencies (test rows): ${Object.entries(result.test.currencies)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${pct(n / result.test.transactions)}`)
        .join(', ')}`,
    );
  }
  console.log('');
  console.log(resultTable(result));
  if (o.json) {
    writeFileSync(
      o.json,
      JSON.stringify({ protocol: 'breach', data: o.data, params: o.params, ...result }, null, 2) + '\n',
    );
    if (!o.quiet) console.error(`wrote ${o.json}`);
  }
  if (o.report) {
    writeFileSync(o.report, renderBreachReport(result, o.data));
    if (!o.quiet) console.error(`wrote ${o.report}`);
  }
  return 0;
}
