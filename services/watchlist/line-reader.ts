// A batch of an upload's lines read into cards to list: each line parsed and checked, each card
// fingerprinted and its expiry tagged. Pure and synchronous, so that it runs the same on the
// event loop (embedded, tests) and on a reading thread (reader-pool.ts), where its two HMACs per
// card no longer hold up the engine's scoring and Redis traffic.
import { fingerprintBytes, maskPan, type CardKey } from '../core/card.ts';
import {
  SLOT_BYTES,
  binInRanges,
  expiryTag,
  slotFromBytes,
  parseCsvLine,
  parseNdjsonLine,
  type BinRange,
  type CardToList,
  type EntrySlot,
  type LineResult,
} from '../core/watchlist.ts';

export type UploadFormat = 'csv' | 'ndjson';

export interface RejectedLine {
  line: number;
  code: 'MALFORMED' | 'INVALID_CARD' | 'INVALID_EXPIRY' | 'BIN_NOT_OWNED' | 'LINE_TOO_LONG';
  reason: string;
  card: string;
}

/** A card line is under 100 characters; a longer one is rejected unread. */
export const MAX_LINE = 4096;

export interface LineBatch {
  /** Whole lines in UTF-8, each ended by a newline but perhaps the upload's last (its own buffer: a thread receives a copy). */
  bytes: Uint8Array;
  /** The number of the batch's first line in the whole upload (from 1). */
  firstLine: number;
  format: UploadFormat;
  nowMs: number;
  /** The issuer's BIN ranges; undefined for admins, who may list any card. */
  ownedRanges: BinRange[] | undefined;
  /** The primary card key's secret (a thread receives a copy). */
  secret: Uint8Array;
  /** During a card-key rotation, the previous key's: each card's slot under it is read too (one more HMAC per card, only then). */
  previousSecret?: Uint8Array | undefined;
}

/** Bytes per card in `packed`: the entry slot's (the fingerprint's first SLOT_BYTES), then the expiry tag (2). */
const PACKED = SLOT_BYTES + 2;

export interface ReadBatch {
  /** The accepted cards, PACKED bytes each, in line order: no card number leaves the reader. */
  packed: Uint8Array;
  cards: number;
  /** With a previous key: each accepted card's entry slot under it (SLOT_BYTES each), in the same order. */
  previous?: Uint8Array | undefined;
  /** Every rejected line of the batch, in line order. */
  rejected: RejectedLine[];
}

function classify(result: Extract<LineResult, { ok: false }>): RejectedLine['code'] {
  if (/^expected |^not a JSON|:/.test(result.reason)) return 'MALFORMED';
  if (/expiry/.test(result.reason)) return 'INVALID_EXPIRY';
  if (/card number/.test(result.reason)) return 'INVALID_CARD';
  return 'MALFORMED';
}

/** A CSV list's first line that names its columns: its first field, quoted or not, starts with pan or card (no card line starts with a letter). */
export const isHeaderLine = (line: string) => /^\s*"?\s*(pan|card)/i.test(line);

/** A batch's lines: its bytes decoded at once (whole lines, so no character is cut), split at each newline. */
function linesOf(bytes: Uint8Array): string[] {
  const lines = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8').split('\n');
  if (lines.at(-1) === '') lines.pop(); // the last line's newline, not a line after it
  return lines;
}

export function readLines(batch: LineBatch): ReadBatch {
  const lines = linesOf(batch.bytes);
  const now = new Date(batch.nowMs);
  const parse = batch.format === 'csv' ? parseCsvLine : parseNdjsonLine;
  // On a thread the secret arrives as a Uint8Array: only the keyed HMAC reads it, and takes one.
  const key: CardKey = { id: '', secret: batch.secret as Buffer };
  // Zero-filled, not a slice of Node's shared pool: on a thread the whole buffer is copied back.
  const packed = Buffer.alloc(lines.length * PACKED);
  const previousKey: CardKey | undefined = batch.previousSecret && { id: '', secret: batch.previousSecret as Buffer };
  const previous = previousKey ? Buffer.alloc(lines.length * SLOT_BYTES) : undefined;
  const rejected: RejectedLine[] = [];
  let cards = 0;
  lines.forEach((raw, i) => {
    const lineNo = batch.firstLine + i;
    // A byte-order mark (spreadsheet exports write one) is not part of the first line.
    const text = lineNo === 1 && raw.startsWith('\ufeff') ? raw.slice(1) : raw;
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (line.length > MAX_LINE) {
      rejected.push({
        line: lineNo,
        code: 'LINE_TOO_LONG',
        reason: `line of ${line.length} characters: a card line has at most ${MAX_LINE}`,
        card: '(unreadable)',
      });
      return;
    }
    if (line.trim() === '') return;
    if (lineNo === 1 && batch.format === 'csv' && isHeaderLine(line)) return;
    const result = parse(line, now);
    if (!result.ok) {
      rejected.push({ line: lineNo, code: classify(result), reason: result.reason, card: result.masked });
      return;
    }
    const { pan, expiryMonth, expiryYear } = result.card;
    if (batch.ownedRanges && !binInRanges(pan, batch.ownedRanges)) {
      rejected.push({
        line: lineNo,
        code: 'BIN_NOT_OWNED',
        reason: 'card is outside the BIN ranges registered to your issuer',
        card: maskPan(pan),
      });
      return;
    }
    if (previousKey) fingerprintBytes(previousKey, pan).copy(previous!, cards * SLOT_BYTES, 0, SLOT_BYTES);
    const at = cards++ * PACKED;
    fingerprintBytes(key, pan).copy(packed, at, 0, SLOT_BYTES);
    const tag =
      expiryMonth !== undefined && expiryYear !== undefined ? expiryTag(key, pan, expiryMonth, expiryYear) : 0;
    packed.writeUInt16BE(tag, at + SLOT_BYTES);
  });
  return {
    packed: packed.subarray(0, cards * PACKED),
    cards,
    ...(previous ? { previous: previous.subarray(0, cards * SLOT_BYTES) } : {}),
    rejected,
  };
}

/** With a previous key, each accepted card's entry slot under it (views of the batch's bytes). */
export function previousSlots(read: ReadBatch): EntrySlot[] | undefined {
  if (!read.previous) return undefined;
  const bytes = Buffer.from(read.previous.buffer, read.previous.byteOffset, read.previous.byteLength);
  return Array.from({ length: read.cards }, (_, i) =>
    slotFromBytes(bytes.subarray(i * SLOT_BYTES, (i + 1) * SLOT_BYTES)),
  );
}

/** The store's cards from a read batch (the fields are views of its bytes). */
export function cardsToList(read: ReadBatch): CardToList[] {
  const bytes = Buffer.from(read.packed.buffer, read.packed.byteOffset, read.packed.byteLength);
  const cards: CardToList[] = new Array(read.cards);
  for (let i = 0; i < read.cards; i++) {
    const at = i * PACKED;
    cards[i] = {
      slot: slotFromBytes(bytes.subarray(at, at + SLOT_BYTES)),
      expiryTag: bytes.readUInt16BE(at + SLOT_BYTES),
    };
  }
  return cards;
}
