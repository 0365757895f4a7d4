// The wire contract of stream scoring (docs/stream-messages.md). Inputs are the /v1/score request
// plus merchantId, validated by the same zod schemas; outputs never carry a card number: a
// decision names the card by keyed fingerprint, BIN and last 4, and a dead letter keeps the
// original payload with every card-number-shaped value masked and security codes removed.
import { z } from 'zod';
import { tenantIdSchema } from '../services/auth/api-keys.ts';
import { maskPan } from '../services/core/card.ts';
import {
  isSecurityCodeName,
  CARD_NUMBER_IN_IDENTIFIER,
  scoreRequestSchema,
  scoreResponseSchema,
  transactionIdSchema,
  type ScoreResponse,
} from '../services/core/schemas.ts';
import {
  containsCardNumber,
  maskDottedPath,
  maskLongRunsHoldingCards,
  scrubAddress,
  scrubCardNumbers,
  scrubJsonText,
} from '../services/core/scrub.ts';

/** leakguard.transactions: what producers send. A merchant id is copied into every output: never a card number. */
export const transactionMessageSchema = scoreRequestSchema.extend({
  merchantId: tenantIdSchema.refine((v) => !containsCardNumber(v), CARD_NUMBER_IN_IDENTIFIER),
});
export type TransactionMessage = z.infer<typeof transactionMessageSchema>;
export type TransactionMessageInput = z.input<typeof transactionMessageSchema>;

export const cardRefSchema = z.object({
  bin: z.string().regex(/^\d{6}$/),
  last4: z.string().regex(/^\d{4}$/),
  /** Keyed HMAC-SHA-256 of the card number, base64url: the same card always has the same one (per key). */
  fingerprint: z.string(),
  /** The fingerprint key's id (changes at key rotation). */
  keyId: z.string(),
});
export type CardRef = z.infer<typeof cardRefSchema>;

export const sourceSchema = z.object({
  topic: z.string(),
  partition: z.int().nonnegative(),
  /** Kafka offsets are 64-bit: a decimal string. */
  offset: z.string().regex(/^\d+$/),
});
export type Source = z.infer<typeof sourceSchema>;

/** leakguard.decisions (every decision) and leakguard.flagged (decision ≠ approve), keyed by card fingerprint. */
export const decisionMessageSchema = scoreResponseSchema.extend({
  merchantId: z.string(),
  card: cardRefSchema,
  /** True when this transaction had been scored before (a redelivery): the stored decision, counted once. */
  replayed: z.boolean(),
  decidedAt: z.iso.datetime(),
  source: sourceSchema,
});
export type DecisionMessage = z.infer<typeof decisionMessageSchema>;

export const DEAD_LETTER_REASONS = [
  'invalid_json',
  'schema_violation',
  'unknown_merchant',
  'no_exchange_rate',
  'conflict',
  'engine_error',
] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/** Dead letters keep at most this much of the original payload (the message must fit the broker's limit). */
export const DEAD_LETTER_PAYLOAD_LIMIT = 64 * 1024;

/**
 * Dead letters keep at most this many `details`, of at most this many characters in all: 9,500
 * refused security-code fields once made a 1.1 MB dead letter that the broker refused, which
 * stalled its partition for good.
 */
export const DEAD_LETTER_DETAILS_LIMIT = 100;
export const DEAD_LETTER_DETAILS_CHARS = 16 * 1024;
/** A detail's path or message longer than this is cut (a path can repeat a key the client sent). */
const DETAIL_TEXT_LIMIT = 256;

/** leakguard.dead-letter, keyed like the input (key masked). */
export const deadLetterMessageSchema = z.object({
  reason: z.enum(DEAD_LETTER_REASONS),
  details: z.array(z.object({ path: z.string(), message: z.string() })),
  /** How many details were left out (over DEAD_LETTER_DETAILS_LIMIT or DEAD_LETTER_DETAILS_CHARS). */
  detailsOmitted: z.int().positive().optional(),
  /** Present when the payload carried a well-formed one. */
  merchantId: z.string().optional(),
  transactionId: z.string().optional(),
  source: sourceSchema.extend({
    key: z.string().nullable(),
    /** The input record's timestamp (ISO 8601; an epoch in ms would look like a card number to scanners). */
    timestamp: z.string(),
  }),
  /**
   * The original payload, card numbers masked: the parsed JSON, or a string when it was not JSON;
   * null when even the cut dead letter was too large for the broker (minimalDeadLetter).
   */
  payload: z.unknown(),
  payloadTruncated: z.boolean().optional(),
  deadLetteredAt: z.iso.datetime(),
});
export type DeadLetterMessage = z.infer<typeof deadLetterMessageSchema>;

export const HEADER_TYPE = 'leakguard-message-type';

/**
 * Headers of an input copied to its decision or dead letter, so that a producer can follow a
 * transaction through (request ids, W3C trace context). Only these: other headers are the
 * producer's business, and any header may hold what an output must not.
 */
export const CARRIED_HEADERS = ['x-correlation-id', 'x-request-id', 'traceparent', 'tracestate'] as const;
/** A carried header's value is cut here (a traceparent is 55 characters, a tracestate at most 512). */
const CARRIED_HEADER_LIMIT = 512;

/** The carried headers of an input (names matched in any case, kept as sent), masked as dead letters are; undefined when none. */
export function carriedHeaders(
  headers: Record<string, Buffer | string | null | (Buffer | string | null)[] | undefined> | undefined,
): Record<string, string> | undefined {
  if (!headers) return undefined;
  let carried: Record<string, string> | undefined;
  for (const [name, raw] of Object.entries(headers)) {
    if (!(CARRIED_HEADERS as readonly string[]).includes(name.toLowerCase())) continue;
    const first = Array.isArray(raw) ? raw[0] : raw;
    // A header without a value (null on the wire: length -1) carries nothing.
    if (first === undefined || first === null) continue;
    const text = typeof first === 'string' ? first : first.toString('utf8');
    (carried ??= {})[name] = cutMasked(maskText(text), CARRIED_HEADER_LIMIT);
  }
  return carried;
}

export function decisionMessage(
  merchantId: string,
  response: ScoreResponse,
  card: CardRef,
  replayed: boolean,
  source: Source,
  now = new Date(),
): DecisionMessage {
  return {
    // The two strings copied from the request: validated card-free, scrubbed all the same.
    transactionId: scrubCardNumbers(response.transactionId),
    merchantId: scrubCardNumbers(merchantId),
    score: response.score,
    decision: response.decision,
    reasons: response.reasons,
    ...(response.ifAuthenticated ? { ifAuthenticated: response.ifAuthenticated } : {}),
    checks: response.checks,
    degraded: response.degraded,
    versions: response.versions,
    card,
    replayed,
    decidedAt: now.toISOString(),
    source,
  };
}

// ---------------------------------------------------------------- masking

// The names the API refuses (schemas.ts: isSecurityCodeName), in a parsed payload and in text:
// text that is not JSON, and strings in a payload that is, may hold a code as JSON or Python
// ("cvv": 123, 'cvv': '123', "cvv" => ...), as a form or a log line (card[cvv]=123&..., cvv: 123)
// or as XML (<cvv>123</cvv>). A quoted value need not be closed (the text may be cut short).
const QUOTED = String.raw`"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?`;
const NAME = String.raw`[\p{L}\p{N}_.%\[\]-]`;
/** A quoted name and what follows it before its value: "cvv": , 'cvv': , "cvv" => */
const QUOTED_NAME = /(["'])([^"'\n]{1,64})\1\s*(?::|=>?)\s*/gu;
const QUOTED_NAME_VALUE = new RegExp(String.raw`${QUOTED}|\{[^}]*\}?|\[[^\]]*\]?|[^\s,;&}\]<>]*`, 'uy');
/** A bare name and its separator: cvv=, card[cvv]=, cvv: , :cvv => */
const BARE_NAME = new RegExp(String.raw`(?<!${NAME})(${NAME}{1,64})\s*(?::|=>?)\s*`, 'gu');
const BARE_NAME_VALUE = new RegExp(String.raw`${QUOTED}|[^\s&;,"'<>{}()\[\]]*`, 'uy');
// A CDATA section read only when short: an unclosed one must not be read to the end at every tag.
const XML_CODE = /<([\p{L}_][\p{L}\p{N}_.:-]{0,63})(\s[^<>]*)?>((?:<!\[CDATA\[[^\]<]{0,64}\]\]>|[^<])*)/gu;
const REMOVED = '[removed]';

/**
 * Every value that `names` (its last group: the name) introduces under a security code's name, replaced.
 * Only the name is matched ahead: a value that is not a code's is read on, since names may sit in
 * it ('card': {'cvv': '123'}, note: cvv=123).
 */
function removeValues(text: string, names: RegExp, value: RegExp, quoted: boolean): string {
  let out = '';
  let at = 0;
  for (const m of text.matchAll(names)) {
    if (m.index < at || !isSecurityCodeName(m[m.length - 1]!)) continue;
    const start = m.index + m[0].length;
    value.lastIndex = start;
    const found = value.exec(text)?.[0] ?? '';
    const replacement = found.startsWith("'")
      ? `'${REMOVED}'`
      : quoted || found.startsWith('"')
        ? `"${REMOVED}"`
        : REMOVED;
    out += text.slice(at, start) + replacement;
    at = start + found.length;
  }
  return at === 0 ? text : out + text.slice(at);
}

function removeSecurityCodes(text: string): string {
  // Every name matched holds one of these (or is percent-encoded): most text skips the three scans.
  if (!/c[vsc]|ca|ci|code|verification|pin|track|%/i.test(text)) return text;
  const unquoted = removeValues(
    removeValues(text, QUOTED_NAME, QUOTED_NAME_VALUE, true),
    BARE_NAME,
    BARE_NAME_VALUE,
    false,
  );
  return unquoted.replace(XML_CODE, (match, name: string, attributes: string | undefined, content: string) =>
    isSecurityCodeName(name)
      ? `<${name}${(attributes ?? '').replace(/(=\s*)("[^"]*"?|'[^']*'?)/g, `$1"${REMOVED}"`)}>${content ? REMOVED : ''}`
      : match,
  );
}

function maskNumber(value: number): number | string {
  if (!Number.isFinite(value)) return value;
  // A card number sent as a JSON number: an integer, or in a fraction or an exponent's mantissa
  // (4111111111111111.5, 4.111111111111111e+25), masked as its decimal text is.
  const text = String(value);
  const masked = maskDigits(text);
  return masked === text ? value : masked;
}

function maskCardNumber(value: unknown): unknown {
  if (typeof value === 'number') return maskNumber(value);
  // An array or object in its place may hold the number in parts ("4111", "1111", ...).
  if (typeof value !== 'string') return value === null || typeof value === 'boolean' ? value : '[removed]';
  const digits = value.replace(/\D/g, '');
  return digits.length >= 12 ? maskPan(digits) : '*'.repeat(Math.min(value.length, 32));
}

/**
 * Card numbers masked as everywhere else (scrub.ts: any separators, any digit forms) and, in dead
 * letters, every other 12-19 digit run too, Luhn or not: a payload that failed validation may
 * hold a mistyped card. Masking a non-card number too is the safe mistake. So is masking a run of
 * more than 19 digits that holds a Luhn-valid 12-19 digit stretch: a card number run together
 * with its expiry ("4111111111111111" "1230") is one, in clear otherwise.
 */
const LOOSE_PAN = /(?<!\d)\d(?:[\s\p{Cc}\p{Pd}._/,:;|]{0,3}\d){11,18}(?!\d)/gu;
function maskDigits(text: string): string {
  // JSON text that did not parse: a card number written with escapes ("\u0034...", "\t") too.
  const masked = scrubJsonText(text).replace(LOOSE_PAN, (match) => maskPan(match.replace(/\D/g, '')));
  return maskLongRunsHoldingCards(masked);
}

/**
 * How deep a dead letter keeps a payload: JSON.parse accepts nesting thousands deep in a few KB,
 * which a recursive copy would not survive (a stack overflow, the partition stalled behind it).
 */
export const MASK_DEPTH_LIMIT = 64;

/** A deep copy with card numbers masked (anywhere, in values and in keys) and security codes removed. */
export function maskValue(value: unknown, path: string[] = []): unknown {
  if (typeof value === 'string') return maskText(value);
  if (typeof value === 'number') return maskNumber(value);
  if (value && typeof value === 'object' && path.length >= MASK_DEPTH_LIMIT) return '[truncated]';
  if (Array.isArray(value)) {
    const split = isSplitCard(value);
    return value.map((v, i) => (split ? starred(v) : maskValue(v, [...path, String(i)])));
  }
  if (value && typeof value === 'object') {
    // An address's lines, shown one under the other: a card split across them masked as one.
    const parent = path[path.length - 1];
    const entries = Object.entries(
      parent === 'billingAddress' || parent === 'shippingAddress' ? scrubAddress(value) : value,
    );
    const split = isSplitCard(entries.filter(([k]) => !isSecurityCodeName(k)).map(([, v]) => v));
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const key = maskDigits(k);
      if (isSecurityCodeName(k)) out[key] = '[removed]';
      else if (k === 'number' && path[path.length - 1] === 'card') out[key] = maskCardNumber(v);
      else if (split) out[key] = starred(v);
      else out[key] = maskValue(v, [...path, k]);
    }
    return out;
  }
  return value;
}

/** A value of digits alone: a non-negative integer, or a string of digits with spaces or dashes between. */
const digitPiece = (v: unknown): string | undefined =>
  typeof v === 'number'
    ? Number.isSafeInteger(v) && v >= 0
      ? String(v)
      : undefined
    : typeof v === 'string' && /^\p{Nd}[\p{Nd} -]*$/u.test(v)
      ? v
      : undefined;

/**
 * Whether `values` (an array's items, an object's values) are the pieces of a card number split
 * across them ([4111, 1111, 1111, 1111], {"a": "4111", "b": "1111", ...}, {"pan1": "411111",
 * "pan2": "1111111111"}): every value is digits alone and, read one after the other, they hold a
 * card that no one of them holds alone (that one is masked as it is). Only a container of digits
 * alone: neighbours in a transaction (an id, an amount) read together are no card.
 */
function isSplitCard(values: readonly unknown[]): boolean {
  if (values.length < 2) return false;
  const pieces: string[] = [];
  for (const v of values) {
    const piece = digitPiece(v);
    if (piece === undefined || containsCardNumber(piece)) return false;
    pieces.push(piece);
  }
  return containsCardNumber(pieces.join(' '));
}

/** A piece of a split card: every digit starred (its first 6 and last 4 are not the card's). */
const starred = (v: unknown) => String(v).replace(/\p{Nd}/gu, '*');

/** Text that is not JSON: card-number-shaped digit runs masked, security-code-looking fields removed. */
export function maskText(text: string): string {
  return removeSecurityCodes(maskDigits(text));
}

/**
 * Masked text cut to `limit` characters. Masked whole first (a card number across the cut would
 * keep its first digits in clear), then masked again after the cut: the cut can land inside a run
 * the masking left alone and leave a card number at the end ("4111111111111111" "1230", a card
 * number and its expiry run together, cut after 16 digits). Masking never lengthens digits, so the
 * text stays within the limit.
 */
function cutMasked(masked: string, limit: number): string {
  return masked.length > limit ? maskDigits(masked.slice(0, limit)) : masked;
}

/** How long a dead letter's key may be. */
export const DEAD_LETTER_KEY_LIMIT = 512;

/** A Kafka key as text, masked and bounded. */
export function maskKey(key: Buffer | string | null | undefined): string | null {
  if (key === null || key === undefined) return null;
  return cutMasked(maskText(typeof key === 'string' ? key : key.toString('utf8')), DEAD_LETTER_KEY_LIMIT);
}

function isoTimestamp(epochMs: string): string {
  const ms = Number(epochMs);
  return Number.isFinite(ms) && ms >= 0 && ms < 8.64e15 ? new Date(ms).toISOString() : '';
}

export interface DeadLetterInput {
  reason: DeadLetterReason;
  details: { path: string; message: string }[];
  source: Source;
  key: Buffer | string | null | undefined;
  /** The input record's timestamp as the Kafka client gives it: ms since the epoch, decimal. */
  timestamp: string;
  /** The raw value as received. */
  raw: string;
  /** The parsed JSON, when it parsed. */
  parsed?: unknown;
  now?: Date;
}

/**
 * A detail's path masked as the payload is (every 12-19 digit run, Luhn or not): key by key, an
 * index next to a masked key readable (items.0.411111******1112.pin), or whole when that shows
 * less, a number split over nested keys (extra.411111111111.1112) masked as one (maskDottedPath).
 */
function maskPath(path: string): string {
  return maskDottedPath(path, maskDigits);
}

const cutText = (text: string) =>
  text.length > DETAIL_TEXT_LIMIT ? maskDigits(text.slice(0, DETAIL_TEXT_LIMIT)) : text;

/** The details a dead letter keeps, masked and cut to the limits, and how many it leaves out. */
function keptDetails(details: readonly { path: string; message: string }[]): {
  kept: { path: string; message: string }[];
  omitted: number;
} {
  const kept: { path: string; message: string }[] = [];
  let chars = 0;
  for (const detail of details) {
    if (kept.length >= DEAD_LETTER_DETAILS_LIMIT) break;
    const one = { path: cutText(maskPath(detail.path)), message: cutText(maskDigits(detail.message)) };
    chars += one.path.length + one.message.length;
    if (chars > DEAD_LETTER_DETAILS_CHARS) break;
    kept.push(one);
  }
  return { kept, omitted: details.length - kept.length };
}

export function deadLetterMessage(input: DeadLetterInput): DeadLetterMessage {
  let payload: unknown;
  let truncated = false;
  if (input.parsed !== undefined) {
    payload = maskValue(input.parsed);
    const size = JSON.stringify(payload)?.length ?? 0;
    if (size > DEAD_LETTER_PAYLOAD_LIMIT) {
      payload = maskText(JSON.stringify(payload).slice(0, DEAD_LETTER_PAYLOAD_LIMIT));
      truncated = true;
    }
  } else {
    const text = maskText(input.raw);
    truncated = text.length > DEAD_LETTER_PAYLOAD_LIMIT;
    payload = cutMasked(text, DEAD_LETTER_PAYLOAD_LIMIT);
  }
  const ids = input.parsed && typeof input.parsed === 'object' ? (input.parsed as Record<string, unknown>) : {};
  const merchantId = tenantIdSchema.safeParse(ids.merchantId);
  const transactionId = transactionIdSchema.safeParse(ids.transactionId);
  const details = keptDetails(input.details);
  return {
    reason: input.reason,
    details: details.kept,
    ...(details.omitted > 0 ? { detailsOmitted: details.omitted } : {}),
    // Masked as the payload is (Luhn or not): a mistyped card number used as an id stays masked.
    ...(merchantId.success ? { merchantId: maskDigits(merchantId.data) } : {}),
    ...(transactionId.success ? { transactionId: maskDigits(transactionId.data) } : {}),
    source: { ...input.source, key: maskKey(input.key), timestamp: isoTimestamp(input.timestamp) },
    payload,
    ...(truncated ? { payloadTruncated: true } : {}),
    deadLetteredAt: (input.now ?? new Date()).toISOString(),
  };
}

/**
 * The last resort when the broker refuses a dead letter for its size (a topic whose
 * max.message.bytes is below the dead letter's limits): the reason, the ids and the source only,
 * so that the partition moves on instead of retrying a message the broker refuses every time.
 */
export function minimalDeadLetter(letter: DeadLetterMessage): DeadLetterMessage {
  const omitted = letter.details.length + (letter.detailsOmitted ?? 0);
  return {
    reason: letter.reason,
    details: [
      {
        path: '(root)',
        message: 'this dead letter was too large for the broker: its payload and details are not kept',
      },
    ],
    ...(omitted > 0 ? { detailsOmitted: omitted } : {}),
    ...(letter.merchantId === undefined ? {} : { merchantId: letter.merchantId }),
    ...(letter.transactionId === undefined ? {} : { transactionId: letter.transactionId }),
    source: letter.source,
    payload: null,
    payloadTruncated: true,
    deadLetteredAt: letter.deadLetteredAt,
  };
}
