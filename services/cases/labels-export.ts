// Labels for training: what a deployment knows about its transactions. Two sources, joined per
// transaction: the analysts' decisions (with what the engine knew when it decided), and the
// outcomes merchants reported (services/cases/outcomes.ts: the case database's case_outcomes, which
// every engine notes). For `npm run model -- export-labels` (owned by models/): call
// exportLabels(). One row per labelled transaction; `label_source` says where its label comes from.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { REVERSED_CHARGEBACK } from '../core/chargebacks.ts';
import { scrubCardNumbers, scrubJsonText } from '../core/scrub.ts';
import type { CaseOutcome, CaseStore, Label, LabelledCase } from './model.ts';
import { summariseOutcomes } from './outcomes.ts';

export type LabelFormat = 'csv' | 'ndjson';

/**
 * Where a label comes from, strongest first: an issuer's fraud chargeback not reversed (fraud, even
 * over an analyst's "legitimate": the holder denies the payment to their bank); an analyst's
 * decision; a failed 3-D Secure challenge (fraud, weakest: a holder who gave up fails one too).
 */
export type LabelSource = 'chargeback' | 'analyst' | 'challenge_failed';

/** The outcomes joined on every row, with their time: labels or not, they are what the merchant reported. */
export const JOINED_OUTCOMES = ['chargeback', REVERSED_CHARGEBACK, 'challenge_failed', 'refund'] as const;
export type JoinedOutcome = (typeof JOINED_OUTCOMES)[number];

/** What the engine recorded for one transaction: its outcomes, and its case (features at flagging) if it has one. */
export interface RecordedOutcomes {
  merchantId: string;
  transactionId: string;
  outcomes: CaseOutcome[];
  /** When the engine counted it (transaction archive), for a transaction without a case. */
  occurredAt?: string;
  case?: Omit<LabelledCase, 'label' | 'decidedBy' | 'decidedAt'>;
}

/** Reads the recorded outcomes (services/adapters/postgres/label-outcomes.ts). */
export interface OutcomeReader {
  recordedOutcomes(): Promise<RecordedOutcomes[]>;
}

/** One exported label: the transaction, the label and its source, the analyst's decision and the outcomes beside it. */
export interface ExportedLabel {
  merchantId: string;
  transactionId: string;
  label: Label;
  source: LabelSource;
  /** When the label became known: the decision, or the outcome that gave it. */
  labelledAt: string;
  analyst?: { label: Label; decidedBy: string; decidedAt: string };
  outcomes: Partial<Record<JoinedOutcome, string>>;
  occurredAt?: string;
  case?: Omit<LabelledCase, 'label' | 'decidedBy' | 'decidedAt'>;
}

/** A decided case's fields besides the decision: what the engine knew when it flagged the transaction. */
function caseOf(c: LabelledCase): NonNullable<ExportedLabel['case']> {
  const { label, decidedBy, decidedAt, ...fields } = c;
  void [label, decidedBy, decidedAt];
  return fields;
}

const at = (outcomes: readonly CaseOutcome[], kind: string) => outcomes.find((o) => o.outcome === kind)?.at;

/**
 * The label a transaction has, or none: a fraud chargeback not reversed, else the analyst's
 * decision, else a failed challenge. A reversed chargeback is no fraud label, and a refund no label
 * at all (a merchant refunds returns too): a transaction with only those is not exported.
 */
export function joinLabel(
  key: { merchantId: string; transactionId: string },
  analyst: LabelledCase | undefined,
  recorded: RecordedOutcomes | undefined,
): ExportedLabel | undefined {
  const outcomes = recorded?.outcomes ?? [];
  const joined: ExportedLabel['outcomes'] = {};
  for (const kind of JOINED_OUTCOMES) {
    const t = at(outcomes, kind);
    if (t !== undefined) joined[kind] = t;
  }
  const summary = summariseOutcomes(outcomes, analyst?.decision ?? recorded?.case?.decision ?? 'approve');
  const [label, source, labelledAt]: [Label, LabelSource, string] | [] = summary.fraudChargeback
    ? ['fraud', 'chargeback', joined.chargeback!]
    : analyst
      ? [analyst.label, 'analyst', analyst.decidedAt]
      : summary.stepUp === 'failed'
        ? ['fraud', 'challenge_failed', joined.challenge_failed!]
        : [];
  if (!label) return undefined;
  return {
    ...key,
    label,
    source: source!,
    labelledAt: labelledAt!,
    ...(analyst
      ? { analyst: { label: analyst.label, decidedBy: analyst.decidedBy, decidedAt: analyst.decidedAt } }
      : {}),
    outcomes: joined,
    ...(recorded?.occurredAt ? { occurredAt: recorded.occurredAt } : {}),
    ...(analyst ? { case: caseOf(analyst) } : recorded?.case ? { case: recorded.case } : {}),
  };
}

/**
 * Every labelled transaction: the analysts' labels in force and the recorded outcomes, joined by
 * (merchant, transaction); labelled at or after `since` when given. In the order labels became known.
 */
export function joinLabels(
  analysts: readonly LabelledCase[],
  recorded: readonly RecordedOutcomes[],
  since?: string,
): ExportedLabel[] {
  const key = (m: string, t: string) => JSON.stringify([m, t]);
  const decided = new Map(analysts.map((c) => [key(c.merchantId, c.transactionId), c]));
  const reported = new Map(recorded.map((r) => [key(r.merchantId, r.transactionId), r]));
  const from = since === undefined ? -Infinity : Date.parse(since);
  const labels: ExportedLabel[] = [];
  for (const k of new Set([...decided.keys(), ...reported.keys()])) {
    const [merchantId, transactionId] = JSON.parse(k) as [string, string];
    const label = joinLabel({ merchantId, transactionId }, decided.get(k), reported.get(k));
    if (label && Date.parse(label.labelledAt) >= from) labels.push(label);
  }
  return labels.sort(
    (a, b) =>
      Date.parse(a.labelledAt) - Date.parse(b.labelledAt) ||
      (a.merchantId < b.merchantId ? -1 : a.merchantId > b.merchantId ? 1 : 0) ||
      (a.transactionId < b.transactionId ? -1 : a.transactionId > b.transactionId ? 1 : 0),
  );
}

const FIXED = [
  'case_id',
  'merchant_id',
  'transaction_id',
  'occurred_at',
  'decided_at',
  'decided_by',
  'labelled_at',
  'label',
  'is_fraud',
  'label_source',
  'analyst_label',
  ...JOINED_OUTCOMES.map((o) => `${o}_at`),
  'score',
  'decision',
  'reason_codes',
  'amount',
  'currency',
  'channel',
  'card_bin',
] as const;

function csvCell(value: unknown): string {
  const s = value === null || value === undefined ? '' : scrubCardNumbers(String(value));
  // Quote always when needed; neutralise spreadsheet formulas in merchant-supplied text.
  const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** An analyst's label alone (no outcome recorded): the export before outcomes were joined. */
const analystOnly = (c: LabelledCase): ExportedLabel =>
  joinLabel({ merchantId: c.merchantId, transactionId: c.transactionId }, c, undefined)!;

export function labelRows(labels: readonly (ExportedLabel | LabelledCase)[]): {
  header: string[];
  rows: Record<string, unknown>[];
} {
  const all = labels.map((l) => ('source' in l ? l : analystOnly(l)));
  const featureNames = [...new Set(all.flatMap((l) => Object.keys(l.case?.features ?? {})))].sort();
  const rows = all.map((l) => {
    const c = l.case;
    const row: Record<string, unknown> = {
      case_id: c?.caseId,
      merchant_id: l.merchantId,
      transaction_id: l.transactionId,
      occurred_at: c?.occurredAt ?? l.occurredAt,
      // The analyst's decision, as before outcomes were joined (empty on a row no analyst decided).
      decided_at: l.analyst?.decidedAt,
      decided_by: l.analyst?.decidedBy,
      labelled_at: l.labelledAt,
      label: l.label,
      is_fraud: l.label === 'fraud' ? 1 : 0,
      label_source: l.source,
      analyst_label: l.analyst?.label,
      score: c?.score,
      decision: c?.decision,
      reason_codes: c?.reasonCodes.join('|'),
      amount: c?.amount,
      currency: c?.currency,
      channel: c?.channel,
      card_bin: c?.cardBin,
    };
    for (const o of JOINED_OUTCOMES) row[`${o}_at`] = l.outcomes[o];
    for (const f of featureNames) {
      const v = c?.features[f];
      row[f] = typeof v === 'boolean' ? (v ? 1 : 0) : (v ?? '');
    }
    return row;
  });
  return { header: [...FIXED, ...featureNames], rows };
}

export function formatLabels(labels: readonly (ExportedLabel | LabelledCase)[], format: LabelFormat): string {
  const { header, rows } = labelRows(labels);
  if (format === 'ndjson')
    return (
      rows
        .map((r) => scrubJsonText(JSON.stringify(Object.fromEntries(header.map((h) => [h, r[h] ?? null])))))
        .join('\n') + (rows.length ? '\n' : '')
    );
  return [header.join(','), ...rows.map((r) => header.map((h) => csvCell(r[h])).join(','))].join('\n') + '\n';
}

/** How many labels an export wrote, by source. */
export type LabelCounts = Record<LabelSource, number> & { total: number };

/**
 * Writes every labelled transaction (labelled since `since`, if given) to `path`: the analysts'
 * labels, joined with the outcomes `outcomes` reads (without it, the analysts' labels only).
 */
export async function exportLabels(
  store: CaseStore,
  path: string,
  format: LabelFormat,
  since?: string,
  outcomes?: OutcomeReader,
): Promise<number> {
  return (await exportLabelCounts(store, path, format, since, outcomes)).total;
}

/** exportLabels, counting the labels by source. */
export async function exportLabelCounts(
  store: CaseStore,
  path: string,
  format: LabelFormat,
  since?: string,
  outcomes?: OutcomeReader,
): Promise<LabelCounts> {
  // Whole, both: analysts' labels are human-scale, and the outcomes noted are the rare kinds (and
  // those of cases); `since` applies to when each joined label became known.
  const labels = joinLabels(await store.labelledCases(), outcomes ? await outcomes.recordedOutcomes() : [], since);
  const out = createWriteStream(path, { mode: 0o600 });
  out.write(formatLabels(labels, format));
  out.end();
  await once(out, 'finish');
  const counts: LabelCounts = { total: labels.length, chargeback: 0, analyst: 0, challenge_failed: 0 };
  for (const l of labels) counts[l.source]++;
  return counts;
}
