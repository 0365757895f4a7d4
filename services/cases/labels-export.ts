// Labelled cases for training: the analysts' decisions joined with what the engine knew when it
// decided. For `npm run model -- export-labels` (owned by models/): call exportLabels().
// One row per decided case; the label is 1 for fraud, 0 for legitimate.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { scrubCardNumbers, scrubJsonText } from '../core/scrub.ts';
import type { CaseStore, LabelledCase } from './model.ts';

export type LabelFormat = 'csv' | 'ndjson';

const FIXED = [
  'case_id',
  'merchant_id',
  'transaction_id',
  'occurred_at',
  'decided_at',
  'decided_by',
  'label',
  'is_fraud',
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

export function labelRows(cases: LabelledCase[]): { header: string[]; rows: Record<string, unknown>[] } {
  const featureNames = [...new Set(cases.flatMap((c) => Object.keys(c.features)))].sort();
  const rows = cases.map((c) => {
    const row: Record<string, unknown> = {
      case_id: c.caseId,
      merchant_id: c.merchantId,
      transaction_id: c.transactionId,
      occurred_at: c.occurredAt,
      decided_at: c.decidedAt,
      decided_by: c.decidedBy,
      label: c.label,
      is_fraud: c.label === 'fraud' ? 1 : 0,
      score: c.score,
      decision: c.decision,
      reason_codes: c.reasonCodes.join('|'),
      amount: c.amount,
      currency: c.currency,
      channel: c.channel,
      card_bin: c.cardBin,
    };
    for (const f of featureNames) {
      const v = c.features[f];
      row[f] = typeof v === 'boolean' ? (v ? 1 : 0) : (v ?? '');
    }
    return row;
  });
  return { header: [...FIXED, ...featureNames], rows };
}

export function formatLabels(cases: LabelledCase[], format: LabelFormat): string {
  const { header, rows } = labelRows(cases);
  if (format === 'ndjson')
    return rows.map((r) => scrubJsonText(JSON.stringify(r))).join('\n') + (rows.length ? '\n' : '');
  return [header.join(','), ...rows.map((r) => header.map((h) => csvCell(r[h])).join(','))].join('\n') + '\n';
}

/** Writes every labelled case (decided since `since`, if given) to `path`; returns the count. */
export async function exportLabels(
  store: CaseStore,
  path: string,
  format: LabelFormat,
  since?: string,
): Promise<number> {
  const cases = await store.labelledCases(since);
  const out = createWriteStream(path, { mode: 0o600 });
  out.write(formatLabels(cases, format));
  out.end();
  await once(out, 'finish');
  return cases.length;
}
