// Leaked-card watchlists: a breach is a first-class object (a compromise event) with its
// provenance, and each listed card carries what leaked about it. Pure: no I/O.
//
// A listed card is stored compactly, keyed by its fingerprint: bucket = the fingerprint's first
// two bytes (65,536 buckets, listpack-encoded while a bucket holds at most hash-max-listpack-entries cards), field =
// its next eight bytes, value = a packed entry:
//   one event:  uint16 data elements | uint32 first listed (epoch seconds) | uint16 expiry tag | uint32 event id
//   several:    the same, bit 15 of the elements set (PER_EVENT_TAGS), then (uint32 event id | uint16 its expiry tag)
//               for each further event: each event's leaked expiry apart, so that a retracted event's no
//               longer counts (entries of earlier versions, without the bit, share one tag among their events).
import { z } from 'zod';
import { fingerprintBytes, luhnValid, maskPan, panProblem, type CardKey } from './card.ts';
import { keyedHmac } from './hmac.ts';
import { containsCardNumber, scrubCardNumbers } from './scrub.ts';
import type { Decision } from './schemas.ts';
import type { HitRecord } from './velocity.ts';
import { closedObject, issueLines, LeakguardError } from './errors.ts';
import { duplicateKeyPath } from './json-duplicates.ts';

export const DATA_ELEMENTS = [
  'pan',
  'expiry',
  'cvv',
  'name',
  'billing_address',
  'email',
  'phone',
  'track',
  'pin',
] as const;
export type DataElement = (typeof DATA_ELEMENTS)[number];
export const EVENT_STATUSES = ['open', 'closed', 'retracted'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

const isoDateTime = () => z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone' });

// An event is stored and shown to issuers and analysts: its identifiers refuse a card number (as
// the scoring request's do, scrub.ts), its free text keeps one only masked to the first 6 and last 4.
const NO_CARD_NUMBER =
  'Refused when it contains a card number (12 to 19 digits passing the Luhn check, whatever separates them).';
const CARD_NUMBER_IN_IDENTIFIER =
  'must not contain a card number (12 to 19 digits passing the Luhn check, whatever separates them)';
const freeText = (min: number, max: number) =>
  z
    .string()
    .trim()
    .min(min)
    .max(max)
    .transform((v) => scrubCardNumbers(v));

export const compromiseEventInputSchema = z
  .object({
    externalId: z
      .string()
      .trim()
      .min(1)
      .max(128)
      .refine((v) => !containsCardNumber(v), CARD_NUMBER_IN_IDENTIFIER)
      .describe('Your reference of the breach: the event is created once per externalId. ' + NO_CARD_NUMBER),
    source: freeText(1, 200),
    description: freeText(0, 2000).default(''),
    exposureStart: isoDateTime(),
    exposureEnd: isoDateTime().describe('Not before exposureStart.'),
    discoveredAt: isoDateTime(),
    dataElements: z
      .array(z.enum(DATA_ELEMENTS))
      .min(1)
      .refine((e) => new Set(e).size === e.length, 'must not repeat an element')
      .describe('What leaked: must include pan, no element twice.'),
    confidence: z.enum(['confirmed', 'suspected']).default('confirmed'),
    /** Set by admins creating an event on an issuer's behalf; an issuer's own id otherwise. */
    issuerId: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/)
      .refine((v) => !containsCardNumber(v), CARD_NUMBER_IN_IDENTIFIER)
      .optional()
      .describe(
        "Required when an admin declares the event; an issuer's key declares for its own issuer (another id: 403). " +
          NO_CARD_NUMBER,
      ),
  })
  .superRefine((e, ctx) => {
    if (Date.parse(e.exposureEnd) < Date.parse(e.exposureStart))
      ctx.addIssue({ code: 'custom', path: ['exposureEnd'], message: 'must not be before exposureStart' });
    if (!e.dataElements.includes('pan'))
      ctx.addIssue({
        code: 'custom',
        path: ['dataElements'],
        message: 'must include pan: a card list is a list of leaked card numbers',
      });
  })
  .meta({
    id: 'NewCompromiseEvent',
    examples: [
      {
        externalId: 'breach-2026-11',
        source: 'card network alert',
        description: 'payment page skimmer at a processor',
        exposureStart: '2026-05-01T00:00:00Z',
        exposureEnd: '2026-10-31T00:00:00Z',
        discoveredAt: '2026-11-10T00:00:00Z',
        dataElements: ['pan', 'expiry', 'cvv'],
        confidence: 'confirmed',
      },
    ],
  });
export type CompromiseEventInput = z.infer<typeof compromiseEventInputSchema>;

/**
 * What an issuer may change of its event once declared (PATCH /v1/compromise-events/{id}): how
 * sure it is, and when the exposure ended (an investigation narrows it). Declaring the event again
 * with other values is refused (EVENT_CONFLICT); its cards stay listed as they are.
 */
export const compromiseEventChangeSchema = closedObject({
  confidence: z.enum(['confirmed', 'suspected']).optional(),
  exposureEnd: isoDateTime().optional().describe("Not before the event's exposureStart."),
})
  .refine((c) => c.confidence !== undefined || c.exposureEnd !== undefined, {
    message: 'must change confidence, exposureEnd or both',
  })
  .meta({
    id: 'CompromiseEventChange',
    examples: [{ confidence: 'confirmed' }, { exposureEnd: '2026-09-30T00:00:00Z' }],
  });

/**
 * What made Leakguard suspect a merchant of being a breach's common point of purchase (the
 * scan, services/breach/scanner.ts): on its own events (source `leakguard-cpp`) only.
 */
export interface CppEvidence {
  merchantId: string;
  /** Fraudulent cards that passed through the merchant before their first fraud. */
  fraudCards: number;
  /** Their trust-weighted count, and what chance would give. */
  weightedFraudCards: number;
  expected: number;
  /** log10 of the corrected p-value. */
  log10PValue: number;
  /** Cards that used the merchant since the window opened (up to listedUntil), listed on the event. */
  exposedCards: number;
  /** Those cards per BIN: what an issuer's BIN ranges pick out. */
  exposedByBin: Record<string, number>;
  /** The fraudulent cards' first frauds (epoch ms, ascending): the analyst's timeline. */
  firstFrauds: number[];
  scannedAt: string;
  /**
   * The latest visit there whose card the scan listed: the scan's time while the breach may still
   * run, the window's end once it is presumed over (absent: written before an end was presumed).
   */
  listedUntil?: string;
  /** The breach is presumed over: no compromising visit seen for twice the time its cards took to show fraud (scanner.ts). */
  presumedOver?: boolean;
  /** An analyst's confirmation or dismissal. */
  review?: { decision: 'confirmed' | 'dismissed'; by: string; at: string };
}

export type EventPatch = Partial<Pick<CompromiseEvent, 'status' | 'confidence' | 'evidence' | 'exposureEnd'>>;
/**
 * A change to an event: a patch, or one made from the event as it stands at the moment it is
 * applied (a store applies it atomically: two changes at once never lose one). A change the event
 * no longer allows throws EventConflict.
 */
export type EventChange = EventPatch | ((current: CompromiseEvent) => EventPatch);
export const patchFor = (change: EventChange, current: CompromiseEvent): EventPatch =>
  typeof change === 'function' ? change(current) : change;

/** An event that no longer allows a change (closed, retracted, reviewed already): 409 EVENT_CONFLICT. */
export class EventConflict extends LeakguardError {
  constructor(message: string) {
    super('EVENT_CONFLICT', message);
  }
}

export interface CompromiseEvent extends Omit<CompromiseEventInput, 'issuerId'> {
  evidence?: CppEvidence;
  id: string;
  /** Small integer stored in card entries; `id` is its public form. */
  seq: number;
  issuerId: string;
  status: EventStatus;
  createdAt: string;
  updatedAt: string;
}

export interface EventStatistics {
  cardsListed: number;
  cardsRemoved: number;
  hits: number;
  distinctMerchants: number;
  lastHitAt: string | null;
}

/** The issuer id and source of the events Leakguard opens itself (breach discovery); no issuer key may take the id. */
export const CPP_ISSUER = 'leakguard';
export const CPP_SOURCE = 'leakguard-cpp';

export const eventIdOf = (seq: number) => `ce_${seq}`;
export function eventSeqOf(id: string): number | null {
  const m = /^ce_([1-9][0-9]{0,9})$/.exec(id);
  return m ? Number(m[1]) : null;
}

const ELEMENT_BIT = Object.fromEntries(DATA_ELEMENTS.map((e, i) => [e, 1 << i])) as Record<DataElement, number>;
export const elementMask = (elements: readonly DataElement[]) => elements.reduce((m, e) => m | ELEMENT_BIT[e], 0);
export const elementsOf = (mask: number): DataElement[] => DATA_ELEMENTS.filter((e) => (mask & ELEMENT_BIT[e]) !== 0);

// --- Storage keys and the packed entry ------------------------------------------------------

export interface EntrySlot {
  /** The bucket: the fingerprint's first two bytes, four hex digits (65,536 buckets). */
  bucket: string;
  /** The entry's field in its bucket: the next eight bytes. */
  field: Buffer;
}

/** Where a fingerprint's entry lives (the Redis adapter makes each bucket a key of its own slot). */
export function entrySlot(fingerprint: string): EntrySlot {
  return slotFromBytes(Buffer.from(fingerprint, 'base64url'));
}

/** A card number's entry under one key, from the fingerprint's bytes (no base64 round trip: two per listed card cost as much as the hash). */
export function cardSlot(key: CardKey, pan: string): EntrySlot {
  return slotFromBytes(fingerprintBytes(key, pan));
}

/** A fingerprint's bytes that place its entry: the bucket's two, the field's eight. */
export const SLOT_BYTES = 10;

export function slotFromBytes(bytes: Buffer): EntrySlot {
  return { bucket: bytes.toString('hex', 0, 2), field: bytes.subarray(2, SLOT_BYTES) };
}

export interface WatchlistEntry {
  elements: number;
  firstListedAt: number; // epoch seconds
  eventSeqs: number[];
  /** Each event's expiry tag, in eventSeqs' order: NO_EXPIRY when its lists gave none. */
  eventTags: number[];
}

/**
 * In an entry's elements word: the entry keeps a tag per event (the layout of an entry listed in
 * several events). An entry of one event is the same without it: 8 bytes + 4, nothing more.
 */
export const PER_EVENT_TAGS = 0x8000;

export function encodeEntry(e: WatchlistEntry): Buffer {
  const n = e.eventSeqs.length;
  if (n <= 1) {
    const b = Buffer.alloc(8 + 4 * n);
    b.writeUInt16BE(e.elements & ~PER_EVENT_TAGS, 0);
    b.writeUInt32BE(e.firstListedAt, 2);
    b.writeUInt16BE(e.eventTags[0] ?? NO_EXPIRY, 6);
    if (n === 1) b.writeUInt32BE(e.eventSeqs[0]!, 8);
    return b;
  }
  const b = Buffer.alloc(12 + 6 * (n - 1));
  b.writeUInt16BE(e.elements | PER_EVENT_TAGS, 0);
  b.writeUInt32BE(e.firstListedAt, 2);
  b.writeUInt16BE(e.eventTags[0]!, 6);
  b.writeUInt32BE(e.eventSeqs[0]!, 8);
  for (let i = 1; i < n; i++) {
    b.writeUInt32BE(e.eventSeqs[i]!, 12 + 6 * (i - 1));
    b.writeUInt16BE(e.eventTags[i]!, 16 + 6 * (i - 1));
  }
  return b;
}

export function decodeEntry(b: Buffer): WatchlistEntry | null {
  if (b.length < 8) return null;
  const word = b.readUInt16BE(0);
  const elements = word & ~PER_EVENT_TAGS;
  const firstListedAt = b.readUInt32BE(2);
  const head = b.readUInt16BE(6);
  const eventSeqs: number[] = [];
  const eventTags: number[] = [];
  if ((word & PER_EVENT_TAGS) === 0) {
    // One event, or an entry of an earlier version: one tag, shared by its events.
    if ((b.length - 8) % 4 !== 0) return null;
    for (let o = 8; o < b.length; o += 4) {
      eventSeqs.push(b.readUInt32BE(o));
      eventTags.push(head);
    }
  } else {
    if (b.length < 12 || (b.length - 12) % 6 !== 0) return null;
    eventSeqs.push(b.readUInt32BE(8));
    eventTags.push(head);
    for (let o = 12; o < b.length; o += 6) {
      eventSeqs.push(b.readUInt32BE(o));
      eventTags.push(b.readUInt16BE(o + 4));
    }
  }
  return { elements, firstListedAt, eventSeqs, eventTags };
}

/** An entry with a card listed (again) in one event: its tag merged with that event's, or the event added. */
export function listedAgain(
  entry: WatchlistEntry,
  eventSeq: number,
  mask: number,
  tag: number,
): { entry: WatchlistEntry; status: 'added' | 'duplicate' } {
  const at = entry.eventSeqs.indexOf(eventSeq);
  if (at >= 0) {
    const eventTags = [...entry.eventTags];
    eventTags[at] = mergedExpiryTag(eventTags[at]!, tag);
    return { entry: { ...entry, eventTags }, status: 'duplicate' };
  }
  return {
    entry: {
      elements: entry.elements | mask,
      firstListedAt: entry.firstListedAt,
      eventSeqs: [...entry.eventSeqs, eventSeq],
      eventTags: [...entry.eventTags, tag],
    },
    status: 'added',
  };
}

/**
 * A two-byte keyed tag of (card, expiry): enough to tell a reissued card (new expiry) from the
 * leaked credentials (1 in 65,535 false match), too little to recover the expiry from the store.
 */
export function expiryTag(key: CardKey, pan: string, month: number, year: number): number {
  const tag = keyedHmac(key.secret)
    .digest(`expiry\u0000${pan}\u0000${month}/${year % 100}`)
    .readUInt16BE(0);
  return tag === NO_EXPIRY || tag === SEVERAL_EXPIRIES ? 1 : tag;
}

/** The stored tag when no listing gave an expiry. */
export const NO_EXPIRY = 0;
/**
 * The stored tag once listings gave two different expiries for one card (an older list after a
 * newer one, a card leaked again after its reissue): either may be what a fraudster holds, so no
 * presented expiry counts as a reissue. Keeping the latest instead let one re-upload turn the
 * leaked credentials into a "reissued card" (LEAKED_CARD_REISSUED) for good.
 */
export const SEVERAL_EXPIRIES = 0xffff;

/**
 * What an event's stored tag becomes when its lists give the card again with `incoming` (the Lua
 * script mirrors it), and how the tags of a card's live events combine at lookup.
 */
export function mergedExpiryTag(stored: number, incoming: number): number {
  if (incoming === NO_EXPIRY || incoming === stored) return stored;
  return stored === NO_EXPIRY ? incoming : SEVERAL_EXPIRIES;
}

/** The leaked expiry of a card as its live events say it (a retracted event's expiry no longer counts). */
export function liveExpiryTag(entry: WatchlistEntry, live: ReadonlySet<number>): number {
  let tag = NO_EXPIRY;
  entry.eventSeqs.forEach((seq, i) => {
    if (live.has(seq)) tag = mergedExpiryTag(tag, entry.eventTags[i]!);
  });
  return tag;
}

// --- Upload lines ------------------------------------------------------------------------------

export interface ListedCard {
  pan: string;
  expiryMonth?: number;
  expiryYear?: number;
}

export type LineResult = { ok: true; card: ListedCard } | { ok: false; reason: string; masked: string };

/** Digits only, between min and max of them: a char loop, linear whatever the field. */
function digits(field: string, min: number, max: number): boolean {
  if (field.length < min || field.length > max) return false;
  for (let i = 0; i < field.length; i++) {
    const c = field.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function plausibleExpiry(month: number, year: number, now: Date): string | null {
  if (month < 1 || month > 12) return 'expiry month must be 1 to 12';
  const y = year < 100 ? 2000 + year : year;
  // Cards are issued for at most ~10 years; leaked lists can hold cards expired for a while.
  if (y < now.getUTCFullYear() - 10 || y > now.getUTCFullYear() + 15) return 'implausible expiry year';
  return null;
}

const maskLoose = (s: string) => (/^[0-9]{10,19}$/.test(s) ? maskPan(s) : '(unreadable)');

/**
 * A card number's digits, written together or in groups as printed on cards and in exports: groups of
 * 4 digits and a last one of 1 to 4 (4111 1111 1111 1111, 19 digits 4-4-4-4-3), or 4-6-4 and 4-6-5
 * (Diners, Amex), separated by single spaces or by single dashes (one of the two). `chars`: something
 * else than digits, spaces and dashes; `grouping`: digits in other groups (the tail of a line of
 * space-separated fields, say, whose expiry would be read as the number's last digits).
 */
export function panDigits(field: string): string | 'chars' | 'grouping' {
  let separator = 0;
  let run = 0;
  let grouping = true;
  const groups: number[] = [];
  for (let i = 0; i < field.length; i++) {
    const c = field.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      run++;
      continue;
    }
    if (c !== 32 && c !== 45) return 'chars';
    if (separator === 0) separator = c;
    if (c !== separator || run === 0) grouping = false;
    groups.push(run);
    run = 0;
  }
  if (separator === 0) return field.length > 0 ? field : 'chars';
  if (!grouping || run === 0) return 'grouping';
  const inFours = groups.every((g) => g === 4) && run <= 4;
  const sixInside = groups.length === 2 && groups[0] === 4 && groups[1] === 6 && (run === 4 || run === 5);
  if (!inFours && !sixInside) return 'grouping';
  return field.replaceAll(separator === 32 ? ' ' : '-', '');
}

const GROUPING =
  'in groups of 4 digits (4-6-5 for 15, 4-6-4 for 14) separated by single spaces or by single dashes, or without separators';

/**
 * A card number a request names (DELETE /v1/cards, POST /v1/cards/lookup): its digits, written
 * plain or grouped as card lists may group them (panDigits), so that a card uploaded grouped can
 * be looked up and removed as written; else why it is not one, in words that never repeat it.
 */
export function requestedPan(written: string): { pan: string } | { problem: string } {
  const read = panDigits(written);
  if (read === 'chars') return { problem: 'must be 12 to 19 digits, nothing else' };
  if (read === 'grouping') return { problem: `must be written ${GROUPING}` };
  const problem = panProblem(read);
  return problem === null ? { pan: read } : { problem };
}

function validate(written: string, month: number | undefined, year: number | undefined, now: Date): LineResult {
  let pan = written;
  if (!digits(pan, 1, Infinity)) {
    const read = panDigits(pan);
    if (read === 'chars') return { ok: false, reason: 'card number must contain digits only', masked: '(unreadable)' };
    if (read === 'grouping')
      return { ok: false, reason: `card number must be written ${GROUPING}`, masked: '(unreadable)' };
    pan = read;
  }
  if (pan.length < 12 || pan.length > 19)
    return { ok: false, reason: 'card number must be 12 to 19 digits', masked: maskLoose(pan) };
  if (!luhnValid(pan)) return { ok: false, reason: 'card number fails the Luhn check', masked: maskPan(pan) };
  if (month !== undefined || year !== undefined) {
    if (month === undefined || year === undefined)
      return {
        ok: false,
        reason: `expiry needs both month and year (${month === undefined ? 'a year without a month' : 'a month without a year'})`,
        masked: maskPan(pan),
      };
    const problem = plausibleExpiry(month, year, now);
    if (problem) return { ok: false, reason: problem, masked: maskPan(pan) };
    return { ok: true, card: { pan, expiryMonth: month, expiryYear: year < 100 ? 2000 + year : year } };
  }
  return { ok: true, card: { pan } };
}

const MALFORMED = 'expected pan[,expiry_month,expiry_year]';
const malformed = (detail?: string): LineResult => ({
  ok: false,
  reason: detail === undefined ? MALFORMED : `${MALFORMED}: ${detail}`,
  masked: '(unreadable)',
});

/**
 * `pan[,expiry_month,expiry_year][,]`, white space around each field. Split and trimmed, never
 * matched by a backtracking pattern: an upload's lines are attacker-sized, and the former
 * pattern took quadratic time on a digit followed by thousands of spaces. (trim() removes exactly
 * what \s matches, so the accepted syntax is the pattern's.) The plain line is read here alone;
 * a line this does not read goes to spreadsheetLine (quotes, `;`, grouped digits, `MM/YY`, blank expiry fields).
 */
export function parseCsvLine(line: string, now = new Date()): LineResult {
  const fields = line.split(',', 5).map((f) => f.trim());
  // A trailing comma is allowed once: "pan," and "pan,mm,yyyy,".
  if (fields.length === 2 || fields.length === 4) {
    if (fields.pop() !== '') fields.length = 0;
  }
  const [pan, month, year] = fields;
  const wellFormed =
    pan !== undefined &&
    digits(pan, 1, Infinity) &&
    (fields.length === 1 || (fields.length === 3 && digits(month!, 1, 2) && digits(year!, 2, 4)));
  if (!wellFormed) return spreadsheetLine(line, now);
  return validate(
    pan,
    month === undefined ? undefined : Number(month),
    year === undefined ? undefined : Number(year),
    now,
  );
}

/**
 * What spreadsheets export besides the plain line: fields separated by `;` instead of `,` (one of
 * the two per line), each perhaps in double quotes (RFC 4180; a quote inside a field is refused:
 * no field of a card line holds one), the card number's digits grouped (panDigits), the expiry
 * as one field `MM/YY` or `MM/YYYY`, and blank expiry fields (`pan,,`, `"pan","",""`, `pan;;`: the
 * empty cells of a card whose expiry is not known), read as the card alone. Linear in the line's
 * length, like parseCsvLine.
 */
function spreadsheetLine(line: string, now: Date): LineResult {
  const hasComma = line.includes(',');
  const separator = line.includes(';') ? ';' : ',';
  if (hasComma && separator === ';') return malformed('fields separated by both , and ; (one of the two per line)');
  const raw = line.split(separator, 5).map((f) => f.trim());
  // A trailing separator is allowed once, as in the plain line.
  const trailing = raw.length > 1 && raw.at(-1) === '';
  if (trailing) raw.pop();
  if (raw.length > 3) return malformed(`more than 3 fields separated by ${separator}`);
  const fields: string[] = [];
  for (const f of raw) {
    const quoted = f.length >= 2 && f.startsWith('"') && f.endsWith('"');
    const inner = quoted ? f.slice(1, -1) : f;
    if (inner.includes('"')) return malformed('a field in double quotes holds nothing but its value, no other quote');
    fields.push(quoted ? inner.trim() : inner);
  }
  const [written, first, second] = fields as [string, string | undefined, string | undefined];
  const pan = panDigits(written);
  if (pan === 'chars') return malformed();
  if (pan === 'grouping') return malformed(`the card number's digits ${GROUPING}`);
  // No expiry, or its cells blank: the card alone.
  if (first === undefined || (first === '' && !second)) return validate(pan, undefined, undefined, now);
  if (second !== undefined) {
    // One of the two cells blank: the card, and which half of its expiry is missing.
    if (first === '' && digits(second, 2, 4)) return validate(pan, undefined, Number(second), now);
    if (second === '' && digits(first, 1, 2)) return validate(pan, Number(first), undefined, now);
    if (!digits(first, 1, 2) || !digits(second, 2, 4))
      return malformed('an expiry month of 1 or 2 digits and a year of 2 or 4');
    return validate(pan, Number(first), Number(second), now);
  }
  // `pan,12,`: a month, the year's cell after it blank (an expiry in one field has its slash).
  if (trailing && digits(first, 1, 2)) return validate(pan, Number(first), undefined, now);
  const slash = first.indexOf('/');
  const month = first.slice(0, slash);
  const year = first.slice(slash + 1);
  if (slash < 0 || !digits(month, 1, 2) || !(digits(year, 2, 2) || digits(year, 4, 4)))
    return malformed('an expiry in one field is MM/YY or MM/YYYY');
  return validate(pan, Number(month), Number(year), now);
}

const ndjsonLine = closedObject({
  pan: z.string(),
  expiryMonth: z.int().optional(),
  expiryYear: z.int().optional(),
});

export function parseNdjsonLine(line: string, now = new Date()): LineResult {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'not a JSON object', masked: '(unreadable)' };
  }
  const parsed = ndjsonLine.safeParse(doc);
  const pan = () => (typeof (doc as { pan?: unknown })?.pan === 'string' ? (doc as { pan: string }).pan : '');
  if (!parsed.success)
    return { ok: false, reason: issueLines(parsed.error, { root: 'line' })[0]!, masked: maskLoose(pan()) };
  // JSON.parse keeps a repeated key's last value: a line naming `pan` twice would list one card and lose the other.
  const duplicate = duplicateKeyPath(line);
  if (duplicate !== undefined)
    return { ok: false, reason: `line.${duplicate}: this key appears more than once`, masked: maskLoose(pan()) };
  return validate(parsed.data.pan, parsed.data.expiryMonth, parsed.data.expiryYear, now);
}

// --- BIN ranges ------------------------------------------------------------------------------------

const BIN = () => z.string().regex(/^([0-9]{6}|[0-9]{8})$/, 'must be a 6- or 8-digit BIN');
export const binRangeSchema = closedObject({ from: BIN(), to: BIN() })
  .refine((r) => r.from.length === r.to.length, 'from and to must have the same length')
  .refine((r) => r.from <= r.to, 'from must not be after to')
  .meta({
    id: 'BinRange',
    description: 'Two BINs of the same length (6 or 8 digits), from not after to.',
    example: { from: '411111', to: '411199' },
  });
export type BinRange = z.infer<typeof binRangeSchema>;

/**
 * How many of a suspected event's exposed cards fall in an issuer's BIN ranges. The exposure is
 * counted per 6-digit BIN (what the histories record): a BIN matches a range of its length or
 * shorter on its prefix, and a longer range (8 digits) when the range meets the BIN's own interval
 * of that length (411111: 41111100..41111199). An issuer sharing a 6-digit BIN with another sees
 * that BIN's whole count.
 */
export function exposedInRanges(event: Pick<CompromiseEvent, 'evidence'>, ranges: readonly BinRange[]): number {
  let n = 0;
  for (const [bin, count] of Object.entries(event.evidence?.exposedByBin ?? {}))
    if (binMeetsRanges(bin, ranges)) n += count;
  return n;
}

/**
 * The suspected merchant as issuers may learn it (GET /v1/issuer/suspected-events, the
 * compromise.suspected webhook): once an analyst confirmed the event, never before. An unreviewed
 * suspicion is statistical, and naming a merchant to third parties on it alone is a defamation and
 * contract risk; an event dismissed, or closed or retracted by an admin unreviewed, never names it.
 */
export function disclosedMerchant(event: Pick<CompromiseEvent, 'evidence'>): string | undefined {
  return event.evidence?.review?.decision === 'confirmed' ? event.evidence.merchantId : undefined;
}

const DAY_MS = 86_400_000;

/**
 * The exposure window as issuers may learn it (the same two places as disclosedMerchant): exact
 * once an analyst confirmed the event; before that, whole UTC days, from its start's midnight to
 * the midnight after its end. Breach discovery estimates the window from its fraudulent cards'
 * visits (core/cpp.ts): each end is one card's visit to the suspected merchant, to the millisecond,
 * and an issuer holding that card would find the one authorisation at that instant in its records,
 * and with it the merchant that disclosedMerchant withholds. A day holds many of a card's
 * authorisations, at many merchants.
 */
export function disclosedWindow(event: Pick<CompromiseEvent, 'evidence' | 'exposureStart' | 'exposureEnd'>): {
  exposureStart: string;
  exposureEnd: string;
} {
  const { exposureStart, exposureEnd } = event;
  if (disclosedMerchant(event) !== undefined) return { exposureStart, exposureEnd };
  const start = Date.parse(exposureStart);
  const end = Date.parse(exposureEnd);
  return {
    exposureStart: Number.isNaN(start) ? exposureStart : new Date(Math.floor(start / DAY_MS) * DAY_MS).toISOString(),
    exposureEnd: Number.isNaN(end) ? exposureEnd : new Date(Math.ceil(end / DAY_MS) * DAY_MS).toISOString(),
  };
}

/** Whether some card of a BIN (fewer digits than a PAN) can fall in the ranges: binInRanges for a BIN as long as each range, the BIN's interval against a longer one. */
export function binMeetsRanges(bin: string, ranges: readonly BinRange[]): boolean {
  return ranges.some((r) => {
    const pad = r.from.length - bin.length;
    if (pad <= 0) {
      const prefix = bin.slice(0, r.from.length);
      return prefix >= r.from && prefix <= r.to;
    }
    return bin + '0'.repeat(pad) <= r.to && bin + '9'.repeat(pad) >= r.from;
  });
}

/** A range as the 8-digit BINs it covers: 411100–411199 is 41110000–41119999. */
export function binRangeBounds(r: BinRange): [from: string, to: string] {
  return r.from.length === 8 ? [r.from, r.to] : [`${r.from}00`, `${r.to}99`];
}

/** A range of an issuer's new list that overlaps another issuer's: who else would be shown its cards. */
export interface BinRangeConflict {
  /** The range's index in the list sent. */
  index: number;
  otherIssuerId: string;
  otherRange: BinRange;
}

/**
 * The first of `ranges` that shares a BIN with another issuer's (ranges of one issuer may overlap
 * each other: their union is what it owns). A BIN belongs to one issuer; a range registered twice
 * would let the second issuer look up, list and be shown the hits of the first's cards.
 */
export function firstBinRangeConflict(
  issuerId: string,
  ranges: readonly BinRange[],
  all: ReadonlyMap<string, readonly BinRange[]>,
): BinRangeConflict | undefined {
  for (const [index, range] of ranges.entries()) {
    const [from, to] = binRangeBounds(range);
    for (const [otherIssuerId, others] of all) {
      if (otherIssuerId === issuerId) continue;
      for (const otherRange of others) {
        const [otherFrom, otherTo] = binRangeBounds(otherRange);
        if (from <= otherTo && otherFrom <= to) return { index, otherIssuerId, otherRange };
      }
    }
  }
  return undefined;
}

export function binInRanges(pan: string, ranges: readonly BinRange[]): boolean {
  return ranges.some((r) => {
    const prefix = pan.slice(0, r.from.length);
    return prefix >= r.from && prefix <= r.to;
  });
}

// --- What a hit means for scoring -------------------------------------------------------------------

export const WATCHLIST_FEATURES = [
  'card_listed',
  'listed_events',
  'listed_confirmed',
  'leaked_cvv',
  'leaked_expiry',
  'leaked_name',
  'leaked_billing_address',
  'leaked_email',
  'leaked_phone',
  'leaked_track',
  'leaked_pin',
  'listed_expiry_mismatch',
  'days_since_exposure_end',
  'days_since_listed',
  'uses_since_listed',
  'listed_suspected_cpp',
] as const;

export interface EventView {
  seq: number;
  status: EventStatus;
  issuerId: string;
  exposureEnd: number;
  confirmed: boolean;
  dataElements: DataElement[];
  /** Leakguard's own event (breach discovery): the merchant is known, what leaked there is not. */
  elementsUnknown: boolean;
  /**
   * Breach discovery's suspected merchant (its own events only). At that merchant the event says
   * nothing of an order: it lists every card used there, so every returning customer would be
   * stepped up, and the reasons would tell the merchant it is suspected before any analyst has
   * reviewed it (disclosedMerchant). Its orders are scored as if the event did not exist.
   */
  suspectMerchantId?: string;
}

/** An entry taken off some events (all of them when `onlyEvents` is undefined): null when no event is left. */
export function withoutEvents(
  entry: WatchlistEntry,
  onlyEvents: ReadonlySet<number> | undefined,
): { entry: WatchlistEntry | null; taken: number[] } {
  const taken: number[] = [];
  const eventSeqs: number[] = [];
  const eventTags: number[] = [];
  entry.eventSeqs.forEach((seq, i) => {
    if (onlyEvents === undefined || onlyEvents.has(seq)) taken.push(seq);
    else {
      eventSeqs.push(seq);
      eventTags.push(entry.eventTags[i]!);
    }
  });
  return { entry: eventSeqs.length === 0 ? null : { ...entry, eventSeqs, eventTags }, taken };
}

/** Live events of a stored entry (retracted events no longer list anything). */
export function liveEvents(entry: WatchlistEntry, events: ReadonlyMap<number, EventView>): EventView[] {
  return entry.eventSeqs
    .map((s) => events.get(s))
    .filter((e): e is EventView => e !== undefined && e.status !== 'retracted');
}

export interface WatchlistMatch {
  /** The live events that list the card, under any key (during a key rotation, its entries under both merged). */
  events: EventView[];
  /** The earliest an entry was listed. */
  firstListedAt: number;
  /**
   * The leaked expiry's tag over the live events, per key whose entry gives one (liveExpiryTag): a
   * tag is keyed, so a presented expiry is compared under each key with that key's tag only.
   */
  expiryTags: { keyIndex: number; tag: number }[];
  usesSinceListed: number;
}

/**
 * A card's entries under each key (the primary first; during a rotation, the previous one's too)
 * as one match: the union of their live events, the earliest listing, each key's leaked expiry.
 */
export function matchEntries(
  entries: readonly (WatchlistEntry | null)[],
  events: ReadonlyMap<number, EventView>,
  usesSinceListed: number,
  /** The merchant of the order: the events breach discovery made of it do not count (EventView.suspectMerchantId). */
  merchantId?: string,
): WatchlistMatch | null {
  let match: WatchlistMatch | null = null;
  const seen = new Set<number>();
  entries.forEach((entry, keyIndex) => {
    if (!entry) return;
    let live = liveEvents(entry, events);
    if (merchantId !== undefined && live.some((e) => e.suspectMerchantId === merchantId)) {
      live = live.filter((e) => e.suspectMerchantId !== merchantId);
      if (live.length === 0) return;
    }
    match ??= { events: [], firstListedAt: entry.firstListedAt, expiryTags: [], usesSinceListed };
    match.firstListedAt = Math.min(match.firstListedAt, entry.firstListedAt);
    for (const e of live) {
      if (seen.has(e.seq)) continue;
      seen.add(e.seq);
      match.events.push(e);
    }
    const tag = liveExpiryTag(entry, new Set(live.map((e) => e.seq)));
    if (tag !== NO_EXPIRY) match.expiryTags.push({ keyIndex, tag });
  });
  return match;
}

/** The keys under which a presented expiry must be tagged to tell a reissue (none when no single leaked expiry). */
export const keysToTag = (match: WatchlistMatch | null): number[] =>
  match && match.expiryTags.every((t) => t.tag !== SEVERAL_EXPIRIES) ? match.expiryTags.map((t) => t.keyIndex) : [];

/** `presentedExpiryTags`: the presented expiry's tag under each key of keysToTag (by key index). */
export function watchlistFeatures(
  match: WatchlistMatch | null,
  presentedExpiryTags: readonly (number | null | undefined)[],
  at: number,
): Record<(typeof WATCHLIST_FEATURES)[number], number | boolean> {
  const DAY = 86_400_000;
  if (!match || match.events.length === 0) {
    return {
      card_listed: false,
      listed_events: 0,
      listed_confirmed: false,
      leaked_cvv: false,
      leaked_expiry: false,
      leaked_name: false,
      leaked_billing_address: false,
      leaked_email: false,
      leaked_phone: false,
      leaked_track: false,
      leaked_pin: false,
      listed_expiry_mismatch: false,
      days_since_exposure_end: -1,
      days_since_listed: -1,
      uses_since_listed: 0,
      listed_suspected_cpp: false,
    };
  }
  // What leaked is the union over the live events (and what the uploads recorded for this card).
  const elements = new Set<DataElement>(match.events.flatMap((e) => e.dataElements));
  const has = (e: DataElement) => elements.has(e);
  const latestExposureEnd = Math.max(...match.events.map((e) => e.exposureEnd));
  return {
    card_listed: true,
    listed_events: match.events.length,
    listed_confirmed: match.events.some((e) => e.confirmed),
    // Unknown elements: the security code may have leaked, so a matching one proves nothing.
    leaked_cvv: has('cvv') || has('track') || match.events.some((e) => e.elementsUnknown),
    leaked_expiry: has('expiry') || match.expiryTags.length > 0,
    leaked_name: has('name'),
    leaked_billing_address: has('billing_address'),
    leaked_email: has('email'),
    leaked_phone: has('phone'),
    leaked_track: has('track'),
    leaked_pin: has('pin'),
    listed_expiry_mismatch:
      // Another expiry under every key that gives one: none says "several", none matches it.
      match.expiryTags.length > 0 &&
      match.expiryTags.every(({ keyIndex, tag }) => {
        const presented = presentedExpiryTags[keyIndex];
        return tag !== SEVERAL_EXPIRIES && presented !== null && presented !== undefined && presented !== tag;
      }),
    days_since_exposure_end: Math.max(0, Math.floor((at - latestExposureEnd) / DAY)),
    days_since_listed: Math.max(0, Math.floor((at - match.firstListedAt * 1000) / DAY)),
    uses_since_listed: match.usesSinceListed,
    listed_suspected_cpp: match.events.some((e) => e.elementsUnknown),
  };
}

// --- The store port ------------------------------------------------------------------------------

export type AddStatus = 'new' | 'added' | 'duplicate';
export interface CardToList {
  slot: EntrySlot;
  expiryTag: number;
  /**
   * During a card-key rotation: the card's entry under the previous key already lists it in this
   * event. It is listed under the new key all the same (that carries it over), but reported as a
   * duplicate and left out of the event's listed count: the event listed it before.
   */
  known?: boolean;
}

export interface HitQuery {
  eventId?: string | undefined;
  /** Only hits at this merchant (where a list's cards are cashed out). */
  merchantId?: string | undefined;
  /** Only hits answered so (`approve`: leaked cards that got through). */
  decision?: Decision | undefined;
  from?: number | undefined;
  to?: number | undefined;
  /**
   * Only the hits the reading issuer is shown, applied before the limit like every filter: those
   * recorded as shown to it (HitRecord.shownTo), or, for a hit recorded without shownTo (before it
   * was), on a card whose 6-digit BIN is in these ranges (the issuer's own).
   */
  binRanges?: readonly BinRange[] | undefined;
  /** Start after this position (exclusive): the `next` of the previous page. */
  after?: HitPosition | undefined;
  limit: number;
  /** How many stored hits one page may examine before it answers short, with `hasMore` (default HIT_SCAN_BUDGET). */
  scanBudget?: number | undefined;
}

/**
 * Where a hit sits in its issuer's list: the time it was recorded (ms) and its rank among the hits
 * recorded in that millisecond (a Redis stream id). Hits are listed newest first.
 */
export interface HitPosition {
  ms: number;
  seq: number;
}

/** The stored hits one page examines at most: a filter that matches rarely answers short pages, with hasMore, rather than scan a whole stream. */
export const HIT_SCAN_BUDGET = 20_000;

/** One page of a list: `next` is the position to continue after (null when nothing more). */
export interface Page<T, P> {
  items: T[];
  hasMore: boolean;
  next: P | null;
}

export interface EventQuery {
  /** Only this issuer's events. */
  issuerId?: string | undefined;
  /** Only events in this status. */
  status?: EventStatus | undefined;
  /** Only the event with this externalId (one an issuer, several across issuers). */
  externalId?: string | undefined;
  /** Start after this event sequence number (events are listed oldest first). */
  after?: number | undefined;
  limit: number;
}

/** Whether an event is one a query asks for (its issuer, status, externalId; `after` and `limit` aside). */
export const matchesEventQuery = (e: CompromiseEvent, q: Omit<EventQuery, 'after' | 'limit'>): boolean =>
  (q.issuerId === undefined || e.issuerId === q.issuerId) &&
  (q.status === undefined || e.status === q.status) &&
  (q.externalId === undefined || e.externalId === q.externalId);

/**
 * A hit as issuers read it: the record without the internal routing fields, and `recordedAt`, when
 * the hit was recorded (its position's time). `at` is the transaction's own time (its occurredAt,
 * which a merchant may send days late); the list is ordered, filtered (`from`, `to`) and paged by
 * `recordedAt`, which only grows, so that a cursor never skips nor repeats a hit.
 */
export type StoredHit = Omit<HitRecord, 'eventSeqs' | 'issuerIds' | 'shownTo'> & { recordedAt: string };

/** A stored hit as issuers read it: the internal routing fields left out. */
export function issuerView(hit: HitRecord, recordedAt: string): StoredHit {
  const { eventSeqs: _s, issuerIds: _i, shownTo: _t, ...h } = hit;
  return { ...h, recordedAt };
}

/**
 * A hit as one issuer reads it: with the ids of its own events only. A hit is recorded once for
 * every issuer whose events list the card, and that another issuer listed it too is theirs to know.
 */
export function withOwnEvents<T extends { eventIds: string[] }>(hit: T, owns: (seq: number) => boolean): T {
  const own = hit.eventIds.filter((id) => {
    const seq = eventSeqOf(id);
    return seq !== null && owns(seq);
  });
  return own.length === hit.eventIds.length ? hit : { ...hit, eventIds: own };
}

/**
 * Is the issuer shown the hit? As the engine decided when it recorded the hit (shownTo: the card's
 * full number against the ranges it knew then); a hit recorded before hits carried that, by its
 * 6-digit BIN against the issuer's ranges now (an 8-digit range never holds it).
 */
export const shownToIssuer = (
  hit: Pick<HitRecord, 'bin' | 'shownTo'>,
  issuerId: string,
  issuerRanges: readonly BinRange[],
): boolean => (hit.shownTo ? hit.shownTo.includes(issuerId) : binInRanges(hit.bin, issuerRanges));

/** Does a hit in `issuerId`'s list pass the query's filters (the time bounds and the position are the store's own)? */
export function hitMatches(
  hit: Pick<HitRecord, 'eventIds' | 'bin' | 'shownTo' | 'merchantId' | 'decision'>,
  query: HitQuery,
  issuerId: string,
): boolean {
  return (
    (!query.eventId || hit.eventIds.includes(query.eventId)) &&
    (query.merchantId === undefined || hit.merchantId === query.merchantId) &&
    (query.decision === undefined || hit.decision === query.decision) &&
    (query.binRanges === undefined || shownToIssuer(hit, issuerId, query.binRanges))
  );
}

/**
 * Whether a hit counts in an event's statistics: when its issuer is shown it (shownToIssuer, as
 * GET /v1/issuer/hits and the webhooks filter them), so that an event never counts hits its issuer
 * cannot see (an admin may list any card in an issuer's event). Leakguard's own events (breach
 * discovery) count every hit: their statistics are read by admins and analysts, not by an issuer
 * (who sees a confirmed one listing its own cards in a look-up, not its counts). record-hit.lua does
 * the same.
 */
export const countsInEventStatistics = (
  eventIssuerId: string,
  hit: Pick<HitRecord, 'bin' | 'shownTo'>,
  issuerRanges: readonly BinRange[],
) => eventIssuerId === CPP_ISSUER || shownToIssuer(hit, eventIssuerId, issuerRanges);

/** Is position a before b in the newest-first order of hits? */
export const hitBefore = (a: HitPosition, b: HitPosition) => a.ms > b.ms || (a.ms === b.ms && a.seq > b.seq);

/** Compromise events, listed cards, issuers' BIN ranges and hits. Lookups at scoring go through the velocity store's round trip. */
export interface WatchlistStore {
  /** Creates the event, or returns the issuer's existing one with the same externalId. */
  createEvent(
    input: Omit<CompromiseEventInput, 'issuerId'>,
    issuerId: string,
    now: Date,
  ): Promise<{ event: CompromiseEvent; created: boolean }>;
  getEvent(seq: number): Promise<CompromiseEvent | undefined>;
  listEvents(issuerId?: string): Promise<CompromiseEvent[]>;
  /** One page of events, oldest first, the issuer filter applied before the limit. */
  pageEvents(query: EventQuery): Promise<Page<CompromiseEvent, number>>;
  /**
   * Changes an event's status, confidence (an analyst confirms a suspected event) or evidence,
   * atomically: a change computed from the event sees it as it is written over (EventChange).
   */
  updateEvent(seq: number, change: EventChange, now: Date): Promise<CompromiseEvent | undefined>;
  eventStatistics(seq: number): Promise<EventStatistics>;
  /** One status per card, in order; a card `known` (CardToList) is a duplicate whatever its entry under the new key. */
  addCards(eventSeq: number, elementMask: number, cards: CardToList[], nowSeconds: number): Promise<AddStatus[]>;
  /** The packed entries of some slots (null where nothing is listed). */
  getEntries(slots: EntrySlot[]): Promise<(Buffer | null)[]>;
  /**
   * Takes cards off every event, or off `onlyEvents` only (an entry left with no event goes);
   * counts each event's removals. Returns how many cards were taken off at least one event.
   */
  removeCards(slots: EntrySlot[], onlyEvents?: readonly number[]): Promise<number>;
  getBinRanges(issuerId: string): Promise<BinRange[]>;
  /**
   * Replaces an issuer's ranges unless one shares a BIN with another issuer's (firstBinRangeConflict),
   * checked and written in one step: then nothing changes and the conflict is returned.
   */
  setBinRanges(issuerId: string, ranges: BinRange[]): Promise<BinRangeConflict | undefined>;
  /** Every issuer's BIN ranges, for the engine's registry (who is shown a hit is decided at scoring). */
  allBinRanges(): Promise<Map<string, BinRange[]>>;
  /** The first page of hits (newest first): pageHits' items. */
  listHits(issuerId: string, query: HitQuery): Promise<StoredHit[]>;
  /** One page of an issuer's hits, newest first, every filter applied before the limit. */
  pageHits(issuerId: string, query: HitQuery): Promise<Page<StoredHit, HitPosition>>;
  /** Every event's scoring view, for the engine's registry. */
  eventViews(): Promise<Map<number, EventView>>;
  close(): Promise<void>;
}

export function eventView(e: CompromiseEvent): EventView {
  return {
    seq: e.seq,
    status: e.status,
    issuerId: e.issuerId,
    exposureEnd: Date.parse(e.exposureEnd),
    confirmed: e.confidence === 'confirmed',
    dataElements: e.dataElements,
    elementsUnknown: e.issuerId === CPP_ISSUER,
    ...(e.issuerId === CPP_ISSUER && e.evidence ? { suspectMerchantId: e.evidence.merchantId } : {}),
  };
}
