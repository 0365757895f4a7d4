// What a card list's first bytes tell before its lines are read: the format its lines look like.
// Shared by the engine, whose refusals name it, and the upload CLI, which checks before sending.
import type { UploadFormat } from './line-reader.ts';

/** What each format's lines are, for the messages that tell one from the other. */
export const FORMAT_LINE: Record<UploadFormat, string> = {
  csv: 'pan[,expiry_month,expiry_year]',
  ndjson: '{"pan": "...", "expiryMonth": 1, "expiryYear": 2027}',
};
export const FORMAT_NAME: Record<UploadFormat, string> = { csv: 'CSV', ndjson: 'NDJSON' };
export const FORMAT_TYPE: Record<UploadFormat, string> = { csv: 'text/csv', ndjson: 'application/x-ndjson' };

/**
 * The format the first non-blank line looks like: NDJSON when it starts with `{`, CSV when with a
 * digit, a quote or a header word (pan, card); undefined when it tells neither.
 */
export function looksLike(head: Buffer): UploadFormat | undefined {
  const text = head
    .subarray(0, 4096)
    .toString('utf8')
    .replace(/^\ufeff/, '');
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '');
  if (line === undefined) return undefined;
  if (/^\s*\{/.test(line)) return 'ndjson';
  if (/^\s*"?\s*(\d|pan|card)/i.test(line)) return 'csv';
  return undefined;
}
