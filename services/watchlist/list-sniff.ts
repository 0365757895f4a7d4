// What a card list's first bytes tell before its lines are read: the format its lines look like,
// and the spreadsheet exports that are no UTF-8 line list (UTF-16 or UTF-32 text, lines ended by a
// lone CR). Shared by the engine, which names them in its refusals, and the upload CLI, which
// checks before sending.
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

/** Byte-order marks of the encodings spreadsheets export as "Unicode text", longest first (UTF-32LE starts as UTF-16LE does). */
const WIDE_BOMS: [Buffer, string][] = [
  [Buffer.from([0xff, 0xfe, 0x00, 0x00]), 'UTF-32 (little-endian, byte-order mark FF FE 00 00)'],
  [Buffer.from([0x00, 0x00, 0xfe, 0xff]), 'UTF-32 (big-endian, byte-order mark 00 00 FE FF)'],
  [Buffer.from([0xff, 0xfe]), 'UTF-16 (little-endian, byte-order mark FF FE)'],
  [Buffer.from([0xfe, 0xff]), 'UTF-16 (big-endian, byte-order mark FE FF)'],
];

/** Why the list's encoding is not UTF-8, from its first bytes: a UTF-16 or UTF-32 byte-order mark. */
export function wideEncodingRefusal(head: Buffer): string | undefined {
  const found = WIDE_BOMS.find(([bom]) => head.subarray(0, bom.length).equals(bom));
  return (
    found &&
    `the card list is ${found[1]}, not UTF-8: save it as UTF-8 (a spreadsheet's "CSV UTF-8") and upload it again`
  );
}

export const LONE_CR =
  'the card list ends its lines with a lone CR (classic Mac OS line endings, as older Excel saves "CSV (Macintosh)"), so it reads as one line: save it with LF or CRLF line endings and upload it again';

/**
 * Whether the first line ends with a lone CR (no LF after it): the lines of a classic Mac OS
 * export. Undefined while `head` does not tell yet (no CR and no LF, or a CR as its last byte).
 */
export function endsLinesWithLoneCr(head: Buffer): boolean | undefined {
  const lf = head.indexOf(10);
  const cr = head.indexOf(13);
  if (cr < 0 || (lf >= 0 && lf < cr)) return lf >= 0 ? false : undefined;
  if (cr + 1 >= head.length) return undefined;
  return head[cr + 1] !== 10;
}
