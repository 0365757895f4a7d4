// Card-list uploads as a use case: a stream of bytes in, a report out. The bytes are data and
// nothing else: parsed line by line as they arrive, held only in bounded batches, never written
// to a file. Valid lines are kept even when others fail; a rejected line is reported by number
// and reason with the card masked.
import type { CardKeyring } from '../core/card.ts';
import { LeakguardError } from '../core/errors.ts';
import {
  binInRanges,
  cardSlot,
  expiryTag,
  parseCsvLine,
  parseNdjsonLine,
  type BinRange,
  type CardToList,
  type LineResult,
  type WatchlistStore,
} from '../core/watchlist.ts';

export type UploadFormat = 'csv' | 'ndjson';

export interface RejectedLine {
  line: number;
  code: 'MALFORMED' | 'INVALID_CARD' | 'INVALID_EXPIRY' | 'BIN_NOT_OWNED' | 'LINE_TOO_LONG';
  reason: string;
  card: string;
}

export interface UploadReport {
  accepted: number;
  duplicates: number;
  rejected: number;
  errors: RejectedLine[];
  lines: number;
  bytes: number;
}

/** `status`: 413 (too large), 415 (binary content) or 400 (not a card list); the code is UPLOAD_REFUSED. */
export class UploadRefused extends LeakguardError {
  readonly report: UploadReport | undefined;
  constructor(status: number, message: string, report?: UploadReport) {
    super('UPLOAD_REFUSED', message, { status });
    this.report = report;
  }
}

/**
 * Cards per store call, and calls being stored while the next batch is parsed. The engine's
 * scoring shares the upload's Redis connection and waits behind what is queued on it: two
 * batches of 1,000 keep at most the 2,000 cards a single batch used to queue, while the engine
 * parses the next batch as Redis stores these (one batch at a time left each idle in turn).
 * The store keeps their order on one connection, so a card repeated across batches is met in order.
 */
const BATCH = 1000;
const STORING_AT_ONCE = 2;
/** A card line is under 100 characters; a longer one is rejected unread, a far longer one ends the upload. */
const MAX_LINE = 4096;
const MAX_CARRY = MAX_LINE * 4;
const MAX_ERRORS = 100;
/** Let scoring requests in at least this often: by lines, and by bytes whatever the lines' length. */
const YIELD_LINES = 500;
const YIELD_BYTES = 64 * 1024;

/** Signatures of things that are not card lists: archives, executables, documents, images. */
const BINARY_MAGIC: Buffer[] = [
  Buffer.from('PK\u0003\u0004', 'latin1'),
  Buffer.from([0x1f, 0x8b]),
  Buffer.from('7z\xbc\xaf\x27\x1c', 'latin1'),
  Buffer.from('Rar!', 'latin1'),
  Buffer.from('BZh', 'latin1'),
  Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a]),
  Buffer.from('%PDF', 'latin1'),
  Buffer.from('MZ', 'latin1'),
  Buffer.from([0x7f, 0x45, 0x4c, 0x46]),
  Buffer.from([0x89, 0x50, 0x4e, 0x47]),
  Buffer.from([0xff, 0xd8, 0xff]),
  Buffer.from('ustar', 'latin1'),
];

export function looksBinary(head: Buffer): boolean {
  if (head.includes(0)) return true;
  if (BINARY_MAGIC.some((m) => head.subarray(0, m.length).equals(m))) return true;
  // tar keeps its magic at offset 257.
  return head.length > 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
}

function classify(result: Extract<LineResult, { ok: false }>): RejectedLine['code'] {
  if (/^expected |^not a JSON|:/.test(result.reason)) return 'MALFORMED';
  if (/expiry/.test(result.reason)) return 'INVALID_EXPIRY';
  if (/card number/.test(result.reason)) return 'INVALID_CARD';
  return 'MALFORMED';
}

export interface UploadOptions {
  format: UploadFormat;
  eventSeq: number;
  elementMask: number;
  /** The issuer's BIN ranges; undefined for admins, who may list any card. */
  ownedRanges: BinRange[] | undefined;
  keyring: CardKeyring;
  store: WatchlistStore;
  limitBytes: number;
  now?: Date;
  onProgress?: (report: UploadReport) => void;
}

export async function uploadCardList(
  body: AsyncIterable<Buffer | string>,
  options: UploadOptions,
): Promise<UploadReport> {
  const now = options.now ?? new Date();
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const parse = options.format === 'csv' ? parseCsvLine : parseNdjsonLine;
  const report: UploadReport = { accepted: 0, duplicates: 0, rejected: 0, errors: [], lines: 0, bytes: 0 };
  const key = options.keyring.primary;
  let batch: CardToList[] = [];
  const storing: Promise<void>[] = [];
  /** Every batch sent has been stored, or has failed, before the report or an error goes out. */
  const stored = async () => {
    const failed = (await Promise.allSettled(storing.splice(0))).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  let carry = '';
  let first = true;
  let linesSinceYield = 0;
  let bytesSinceYield = 0;

  const reject = (line: number, code: RejectedLine['code'], reason: string, card: string) => {
    report.rejected++;
    if (report.errors.length < MAX_ERRORS) report.errors.push({ line, code, reason, card });
  };

  const flush = async () => {
    const cards = batch;
    batch = [];
    // A few batches stored while the next is parsed: bounded memory, both sides busy.
    if (storing.length >= STORING_AT_ONCE) {
      const oldest = storing.shift()!;
      await oldest.catch(async (error: unknown) => {
        await stored().catch(() => undefined);
        throw error;
      });
    }
    const store = options.store.addCards(options.eventSeq, options.elementMask, cards, nowSeconds).then((statuses) => {
      for (const s of statuses) {
        if (s === 'duplicate') report.duplicates++;
        else report.accepted++;
      }
      options.onProgress?.(report);
    });
    // Handled here so that a failure waiting its turn is not an unhandled rejection; awaiting it still throws.
    store.catch(() => undefined);
    storing.push(store);
  };

  const handleLine = async (raw: string) => {
    report.lines++;
    const lineNo = report.lines;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length > MAX_LINE)
      return reject(
        lineNo,
        'LINE_TOO_LONG',
        `line of ${line.length} characters: a card line has at most ${MAX_LINE}`,
        '(unreadable)',
      );
    if (line.trim() === '') return;
    if (lineNo === 1 && options.format === 'csv' && /^\s*pan\b/i.test(line)) return; // header
    const result = parse(line, now);
    if (!result.ok) return reject(lineNo, classify(result), result.reason, result.masked);
    const { pan, expiryMonth, expiryYear } = result.card;
    if (options.ownedRanges && !binInRanges(pan, options.ownedRanges)) {
      return reject(
        lineNo,
        'BIN_NOT_OWNED',
        'card is outside the BIN ranges registered to your issuer',
        `${pan.slice(0, 6)}******${pan.slice(-4)}`,
      );
    }
    batch.push({
      slot: cardSlot(key, pan),
      expiryTag:
        expiryMonth !== undefined && expiryYear !== undefined ? expiryTag(key, pan, expiryMonth, expiryYear) : 0,
    });
    if (batch.length >= BATCH) await flush();
  };

  for await (const chunk of body) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (first) {
      first = false;
      if (looksBinary(buf.subarray(0, 512)))
        throw new UploadRefused(415, 'binary content refused: upload a text card list (CSV or NDJSON)');
    } else if (buf.includes(0)) {
      throw new UploadRefused(415, 'binary content refused: upload a text card list (CSV or NDJSON)', { ...report });
    }
    report.bytes += buf.length;
    if (report.bytes > options.limitBytes) {
      await flush();
      await stored();
      throw new UploadRefused(
        413,
        `card list larger than the limit of ${options.limitBytes} bytes: split it (the lines before the limit were kept)`,
        { ...report },
      );
    }
    const text = carry + buf.toString('utf8');
    const lines = text.split('\n');
    carry = lines.pop()!;
    for (const line of lines) {
      await handleLine(line);
      // A chunk can hold thousands of lines, or a few huge ones: let scoring requests in between.
      linesSinceYield++;
      bytesSinceYield += line.length + 1;
      if (linesSinceYield >= YIELD_LINES || bytesSinceYield >= YIELD_BYTES) {
        linesSinceYield = 0;
        bytesSinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    if (carry.length > MAX_CARRY) {
      // Keep what came before, as for the size limit; the rest of the body is not read.
      await flush();
      await stored();
      throw new UploadRefused(
        400,
        `line ${report.lines + 1} is longer than ${MAX_CARRY} characters: this is not a card list (the lines before it were kept)`,
        { ...report },
      );
    }
  }
  if (carry) await handleLine(carry);
  await flush();
  await stored();
  return report;
}
