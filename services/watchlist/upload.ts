// Card-list uploads as a use case: a stream of bytes in, a report out. The bytes are data and
// nothing else: parsed line by line as they arrive, held only in bounded batches, never written
// to a file. Valid lines are kept even when others fail; a rejected line is reported by number
// and reason with the card masked.
import type { CardKeyring } from '../core/card.ts';
import { LeakguardError } from '../core/errors.ts';
import { decodeEntry, type AddStatus, type BinRange, type WatchlistStore } from '../core/watchlist.ts';
import {
  cardsToList,
  previousSlots,
  MAX_LINE,
  type LineBatch,
  type ReadBatch,
  type RejectedLine,
  type UploadFormat,
} from './line-reader.ts';
import {
  endsLinesWithLoneCr,
  FORMAT_LINE,
  FORMAT_NAME,
  FORMAT_TYPE,
  LONE_CR,
  looksLike,
  wideEncodingRefusal,
} from './list-sniff.ts';
import { readInline, type LineReader } from './reader-pool.ts';

export type { RejectedLine, UploadFormat } from './line-reader.ts';

export interface UploadReport {
  accepted: number;
  duplicates: number;
  rejected: number;
  /** Every rejected line counted by its code: what `errors` (the first MAX_ERRORS) leaves out of a large list. */
  rejectedByCode: Partial<Record<RejectedLine['code'], number>>;
  errors: RejectedLine[];
  lines: number;
  bytes: number;
}

export const emptyUploadReport = (): UploadReport => ({
  accepted: 0,
  duplicates: 0,
  rejected: 0,
  rejectedByCode: {},
  errors: [],
  lines: 0,
  bytes: 0,
});

/**
 * `status`: 413 (too large), 415 (binary content, UTF-16 or UTF-32 text) or 400 (not a card list:
 * lines ended by a lone CR, a line too long, or none of the first lines listable), code UPLOAD_REFUSED;
 * or 409 EVENT_CONFLICT (the event was closed or retracted meanwhile). `report`: what was stored
 * before, answered with the refusal.
 */
export class UploadRefused extends LeakguardError {
  readonly report: UploadReport | undefined;
  constructor(
    status: number,
    message: string,
    report?: UploadReport,
    code: 'UPLOAD_REFUSED' | 'EVENT_CONFLICT' = 'UPLOAD_REFUSED',
  ) {
    super(code, message, { status });
    this.report = report;
  }
}

/**
 * The store failed part way through the list (Redis down, full): `cause` its error, answered and
 * logged as that error is; `report` what the lines before did (the cards the store took, the lines
 * rejected), final by the time this reaches the caller: every batch sent with the failing one
 * settles first.
 */
export class UploadStoreFailed extends Error {
  readonly report: UploadReport;
  constructor(cause: unknown, report: UploadReport) {
    super('the store failed part way through the card list: the lines before were kept', { cause });
    this.report = report;
  }
}

/**
 * Lines per batch (or fewer, up to BATCH_BYTES of them), batches being read, and store calls in
 * flight. The engine's scoring shares the upload's Redis connection and waits behind what is
 * queued on it: two store calls of at most 1,000 cards keep at most the 2,000 cards a single
 * batch used to queue, while the next batches are read (on reading threads, or on the event loop
 * a batch at a time: BATCH_BYTES bounds how long one holds it). Batches reach the store in line
 * order on one connection, so a card repeated across batches is met in order.
 */
const BATCH = 1000;
const BATCH_BYTES = 64 * 1024;
const READING_AT_ONCE = 4;
const STORING_AT_ONCE = 2;
const MAX_CARRY = MAX_LINE * 4;
/** What the main thread first sets aside for the lines a chunk leaves; it grows to a batch and a cut line at most. */
const HELD_BYTES = 16 * 1024;
const MAX_ERRORS = 100;
/**
 * Lines that are no card list line (MALFORMED, LINE_TOO_LONG), before any card, that end the upload:
 * another file, another format, and reading millions of lines more would only reject them too.
 * Cards the issuer may not list (BIN_NOT_OWNED, an invalid number or expiry) do not end it: a breach
 * dump sorted by card number holds other issuers' cards before this one's. A list all of whose lines
 * are rejected is refused at its end, whatever the reasons.
 */
export const REJECTED_BEFORE_ANY_CARD = 1000;
const FORMAT_CODES: ReadonlySet<RejectedLine['code']> = new Set(['MALFORMED', 'LINE_TOO_LONG']);
/** Let scoring requests in at least this often: by lines, and by bytes whatever the lines' length. */
const YIELD_LINES = 500;
const YIELD_BYTES = 64 * 1024;

/** The body's first bytes, where binary content is recognised (its signature, a NUL byte) and refused before any line is read. */
const HEAD_BYTES = 512;

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
  /** Where lines are read: reading threads (reader-pool.ts) or, by default, the event loop. */
  read?: LineReader;
  /** Asked before each batch is sent: false once the event was closed or retracted (no more cards listed). */
  stillOpen?: () => boolean;
}

export async function uploadCardList(
  body: AsyncIterable<Buffer | string>,
  options: UploadOptions,
): Promise<UploadReport> {
  const nowMs = (options.now ?? new Date()).getTime();
  const nowSeconds = Math.floor(nowMs / 1000);
  const read = options.read ?? readInline;
  const report = emptyUploadReport();
  // The key in a buffer of its own: a pooled Buffer would take the pool's other bytes to a reading thread with it.
  const secret = new Uint8Array(options.keyring.primary.secret);
  // During a rotation: a card the event listed under the previous key is no new card of the event.
  const previousSecret = options.keyring.previous && new Uint8Array(options.keyring.previous.secret);

  // The lines not yet sent to be read: the main thread only finds where lines end (a newline is
  // one byte in UTF-8, never part of another character), and a reader decodes a batch's bytes at
  // once. No string per line here, none copied to a thread. What a chunk leaves (its last whole
  // lines, the line it cuts) is copied out of it, so a chunk goes as soon as it is read, however
  // small the chunks come.
  let held = Buffer.allocUnsafe(HELD_BYTES);
  let heldBytes = 0;
  /** Of the held bytes, the last: the line that chunks cut so far. */
  let cutBytes = 0;
  /** Whole lines not yet sent: those held, then the current chunk's from `from` (below) to its current line start. */
  let pendingLines = 0;
  /** Each batch's turn: read, its rejections reported and its cards handed to the store, in line order. */
  const turns: Promise<void>[] = [];
  let lastTurn: Promise<void> = Promise.resolve();
  /** Store calls not yet settled, oldest first. */
  const storing: Promise<void>[] = [];
  /** Settled once the last batch's cards were handed to the store: the next batch's follow, in line order. */
  let handed: Promise<void> = Promise.resolve();

  /** Whether a line read (in line order) gave a card, and the rejections' codes until one did. */
  let anyCard = false;
  /** The format the first chunk's lines look like, to name when it is not the one declared. */
  let firstLooksLike: UploadFormat | undefined;
  const rejectedCodes = new Map<RejectedLine['code'], number>();
  const reportRejections = (batch: ReadBatch) => {
    report.rejected += batch.rejected.length;
    for (const r of batch.rejected) {
      if (report.errors.length < MAX_ERRORS) report.errors.push(r);
      report.rejectedByCode[r.code] = (report.rejectedByCode[r.code] ?? 0) + 1;
      if (!anyCard) rejectedCodes.set(r.code, (rejectedCodes.get(r.code) ?? 0) + 1);
    }
  };
  const onlyFormatRejections = () => [...rejectedCodes.keys()].every((code) => FORMAT_CODES.has(code));
  /** No line gave a card: why, from the rejections' codes and the first one's reason. */
  const refuseNoCard = (whole: boolean): never => {
    const n = report.rejected.toLocaleString('en');
    const lines = whole ? `none of the ${n} lines` : `none of the first ${n} lines`;
    const first = report.errors[0]!;
    const counts = [...rejectedCodes]
      .sort((a, b) => b[1] - a[1])
      .map(([code, count]) => `${code} ${count.toLocaleString('en')}`)
      .join(', ');
    // The declared format's line, and the other format when the lines look like it (a CSV sent as NDJSON).
    const other =
      firstLooksLike && firstLooksLike !== options.format
        ? `; the lines look like ${FORMAT_NAME[firstLooksLike]}, not ${FORMAT_NAME[options.format]}: send them as ${FORMAT_TYPE[firstLooksLike]}`
        : '';
    const cause = onlyFormatRejections()
      ? `is a card list line: expected ${FORMAT_LINE[options.format]} (docs/watchlists.md lists the forms read)${other}`
      : `holds a card that can be listed (rejected: ${counts})`;
    throw new UploadRefused(
      400,
      `${lines} ${cause}; line ${first.line}: ${first.reason}${whole ? '' : ' (the list was read no further)'}`,
      { ...report, errors: [...report.errors] },
    );
  };

  const store = async (batch: ReadBatch) => {
    reportRejections(batch);
    if (batch.cards > 0) anyCard = true;
    else if (!anyCard && report.rejected >= REJECTED_BEFORE_ANY_CARD && onlyFormatRejections()) refuseNoCard(false);
    if (batch.cards === 0) return;
    // At most STORING_AT_ONCE calls queued on the connection: wait for the oldest (its failure fails this turn).
    if (storing.length >= STORING_AT_ONCE) await storing.shift();
    const cards = cardsToList(batch);
    const previous = previousSlots(batch);
    const before = handed;
    let handedOver!: () => void;
    handed = new Promise((resolve) => (handedOver = resolve));
    const stored = (async () => {
      let adding: Promise<AddStatus[]>;
      try {
        // The batch's entries under the previous key, read once: those listing the event are known.
        const entries = previous ? await options.store.getEntries(previous) : [];
        entries.forEach((raw, i) => {
          if (raw && decodeEntry(raw)?.eventSeqs.includes(options.eventSeq)) cards[i]!.known = true;
        });
        await before;
        adding = options.store.addCards(options.eventSeq, options.elementMask, cards, nowSeconds);
      } finally {
        handedOver();
      }
      for (const s of await adding) {
        if (s === 'duplicate') report.duplicates++;
        else report.accepted++;
      }
      options.onProgress?.(report);
    })();
    // A failure goes out with the report, final by the time it reaches the caller (settled() first).
    const failed = stored.catch((error: unknown) => {
      throw new UploadStoreFailed(error, report);
    });
    // Handled here so that a failure waiting its turn is not an unhandled rejection; awaiting it still throws.
    failed.catch(() => undefined);
    storing.push(failed);
  };

  /** Every batch read and stored, or failed, before the report or an error goes out. */
  const settled = async () => {
    turns.length = 0;
    const handed = await Promise.allSettled([lastTurn]); // the last batch's store call is sent
    const stored = await Promise.allSettled(storing.splice(0));
    const failed = [...handed, ...stored].find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  };

  const hold = (bytes: Buffer) => {
    if (heldBytes + bytes.length > held.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * held.length, heldBytes + bytes.length));
      held.copy(bigger, 0, 0, heldBytes);
      held = bigger;
    }
    bytes.copy(held, heldBytes);
    heldBytes += bytes.length;
  };

  /** The whole lines held, then `stretch` (the current chunk's next whole lines), sent to be read as one batch; a cut line stays held. */
  const send = async (stretch?: Buffer) => {
    if (pendingLines === 0) return;
    const whole = heldBytes - cutBytes;
    // A fresh buffer of the batch's bytes alone: a view would take its whole buffer to a thread.
    const bytes = new Uint8Array(whole + (stretch?.length ?? 0));
    bytes.set(held.subarray(0, whole));
    if (stretch) bytes.set(stretch, whole);
    held.copy(held, 0, whole, heldBytes);
    heldBytes = cutBytes;
    const batch: LineBatch = {
      bytes,
      firstLine: report.lines - pendingLines + 1,
      format: options.format,
      nowMs,
      ownedRanges: options.ownedRanges,
      secret,
      previousSecret,
    };
    pendingLines = 0;
    if (turns.length >= READING_AT_ONCE) {
      await turns.shift()!.catch(async (error: unknown) => {
        await settled().catch(() => undefined);
        throw error;
      });
    }
    const reading = read(batch);
    reading.catch(() => undefined);
    const turn = lastTurn.then(async () => store(await reading));
    turn.catch(() => undefined);
    turns.push(turn);
    lastTurn = turn;
  };

  /** Ends the upload, the whole lines before (held, then `stretch`, the current chunk's) stored first. */
  const refuse = async (status: number, message: string, stretch?: Buffer): Promise<never> => {
    await send(stretch);
    await settled();
    throw new UploadRefused(status, message, { ...report });
  };
  /** The event closed meanwhile: what was sent is stored, nothing more. */
  const refuseClosed = async (): Promise<never> => {
    await settled();
    throw new UploadRefused(
      409,
      'the event was closed or retracted during the upload: it takes no more cards (the lines before were kept)',
      { ...report },
      'EVENT_CONFLICT',
    );
  };
  const BINARY = 'binary content refused: upload a text card list (CSV or NDJSON)';
  /** At the line after the last whole one: too long to be a card list. */
  const refuseLongLine = (stretch: Buffer) =>
    refuse(
      400,
      `line ${report.lines + 1} is longer than ${MAX_CARRY} bytes: this is not a card list (the lines before it were kept)`,
      stretch,
    );

  /** Until the first line's end is seen: its bytes so far, to tell a lone CR (Mac line endings) from CRLF. */
  let firstLine: Buffer | undefined = Buffer.alloc(0);
  let linesSinceYield = 0;
  let bytesSinceYield = 0;
  /** The body's next chunk: its whole lines read, up to a NUL byte or the limit (refused there, the lines before kept). */
  const take = async (chunk: Buffer) => {
    let buf = chunk;
    if (firstLine) {
      // Lines ended by a lone CR are one line to the LF reader: refused before any is stored.
      const head = Buffer.concat([firstLine, buf.subarray(0, MAX_LINE)]);
      const loneCr = endsLinesWithLoneCr(head);
      if (loneCr) throw new UploadRefused(400, LONE_CR);
      firstLine = loneCr === undefined && head.length <= MAX_LINE ? head : undefined;
    }
    // A chunk that holds a NUL byte (binary content) or crosses the limit: its whole lines before
    // the first of the two are read, then the list is refused (below); the line it falls in, and
    // what follows, are not. The same lines whatever the chunks.
    const within = options.limitBytes - report.bytes;
    const nul = buf.subarray(0, within).indexOf(0);
    const stop = nul >= 0 ? 415 : buf.length > within ? 413 : undefined;
    if (stop) buf = buf.subarray(0, stop === 415 ? nul : within);
    report.bytes += buf.length; // read: up to the NUL byte or the limit
    /** This chunk's first byte neither sent nor held, and where its current line begins. */
    let from = 0;
    let lineStart = 0;
    for (let end = buf.indexOf(10); end >= 0; end = buf.indexOf(10, end + 1)) {
      const lineBytes = cutBytes + end + 1 - lineStart;
      if (lineBytes - 1 > MAX_CARRY) await refuseLongLine(buf.subarray(from, lineStart));
      cutBytes = 0; // a cut line, held, ends here: whole
      lineStart = end + 1;
      report.lines++;
      pendingLines++;
      if (pendingLines >= BATCH || heldBytes + lineStart - from >= BATCH_BYTES) {
        if (options.stillOpen?.() === false) await refuseClosed();
        await send(buf.subarray(from, lineStart));
        from = lineStart;
      }
      // A chunk can hold thousands of lines, or a few huge ones: let scoring requests in between.
      linesSinceYield++;
      bytesSinceYield += lineBytes;
      if (linesSinceYield >= YIELD_LINES || bytesSinceYield >= YIELD_BYTES) {
        linesSinceYield = 0;
        bytesSinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    if (stop === 415)
      await refuse(
        415,
        `${BINARY}: line ${report.lines + 1} holds a NUL byte (the lines before it were kept)`,
        buf.subarray(from, lineStart),
      );
    if (stop === 413)
      await refuse(
        413,
        `card list larger than the limit of ${options.limitBytes} bytes: split it (the lines before the limit were kept)`,
        buf.subarray(from, lineStart),
      );
    // Keep what is left; the rest of the body is not read past a line too long.
    if (cutBytes + buf.length - lineStart > MAX_CARRY) await refuseLongLine(buf.subarray(from, lineStart));
    hold(buf.subarray(from));
    cutBytes += buf.length - lineStart;
  };

  /**
   * The body's first chunks, until HEAD_BYTES of them are in: what its first bytes tell (UTF-16,
   * binary content, the format its lines look like) is told whatever the chunks they came in.
   */
  let head: Buffer[] | undefined = [];
  let headBytes = 0;
  /** The first bytes as one chunk, refused before any line is read when they are no UTF-8 text. */
  const firstBytes = (): Buffer => {
    const buf = head!.length === 1 ? head![0]! : Buffer.concat(head!);
    head = undefined;
    // UTF-16 holds a zero byte in every ASCII character: named, not refused as binary.
    const wide = wideEncodingRefusal(buf);
    if (wide) throw new UploadRefused(415, wide);
    if (looksBinary(buf.subarray(0, HEAD_BYTES))) throw new UploadRefused(415, BINARY);
    firstLooksLike = looksLike(buf);
    return buf;
  };
  for await (const chunk of body) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (!head) await take(buf);
    else {
      head.push(buf);
      headBytes += buf.length;
      if (headBytes >= HEAD_BYTES) await take(firstBytes());
    }
  }
  if (head && headBytes > 0) await take(firstBytes());
  if (cutBytes > 0) {
    cutBytes = 0; // the body's last line, without a newline
    report.lines++;
    pendingLines++;
  }
  if (pendingLines > 0 && options.stillOpen?.() === false) await refuseClosed();
  await send();
  await settled();
  if (!anyCard && report.rejected > 0) refuseNoCard(true);
  return report;
}
