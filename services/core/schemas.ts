// The wire contract of scoring, shared by the HTTP API and the Kafka processor.
// Error messages never repeat the input: a card number must not travel back in an error.
import { z } from 'zod';
import { panProblem } from './card.ts';
import { isCurrencyCode } from './currency.ts';
import { containsCardNumber } from './scrub.ts';

const isoDateTime = () => z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone' });
// Free text is stored (cases, journals, PostgreSQL) and shown: a NUL or an unpaired surrogate
// cannot be stored in PostgreSQL text and once held a flagged decision, and every case behind it,
// out of the case store. Such text is made plain on arrival rather than refused, since merchants
// forward what they were given (a user agent's bytes decoded as latin1 hold C1 controls, Word's
// soft line break, an emoji cut in half): a control character (other than tab and line breaks)
// becomes a space, which the card-number scrubber reads as a separator, an unpaired surrogate U+FFFD.
// eslint-disable-next-line no-control-regex -- replacing control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;
export const plainText = (v: string) => v.replace(CONTROL_CHARACTERS, ' ').toWellFormed();
const freeString = () => z.string().overwrite(plainText);
const text = (max: number) => freeString().trim().min(1).max(max);

// Identifiers are stored and shown as sent: one that holds a card number (separators and digit
// forms normalised, see scrub.ts) is refused rather than stored in clear. Free text is masked instead.
export const CARD_NUMBER_IN_IDENTIFIER =
  'must not contain a card number (12 to 19 digits passing the Luhn check, whatever separates them)';
/** What the document says of a refinement the schema cannot express (refused with 400 VALIDATION_FAILED). */
const NO_CARD_NUMBER =
  'Refused when it contains a card number (12 to 19 digits passing the Luhn check, whatever separates them).';
const identifier = (max: number) =>
  text(max)
    .refine((v) => !containsCardNumber(v), CARD_NUMBER_IN_IDENTIFIER)
    .describe(NO_CARD_NUMBER);

// Checkouts send what their users typed: surrounding whitespace (trimmed), internationalised
// e-mail addresses (RFC 6531: any letters in the local part and domain), phone numbers separated by
// dots as well as spaces, dashes and parentheses. One bad optional field refuses the whole scoring,
// so these check shape only: one @, no whitespace or quotes, a dotted domain (patterns Python's re
// reads as well: the OpenAPI fuzzer generates from them).
const EMAIL_ADDRESS = /^\s*[^\s@"]{1,64}@[^\s@."]+(?:\.[^\s@."]+)*\.[^\s@."0-9]{2,}\s*$/;
const PHONE_NUMBER = /^\s*\+?[0-9 ().-]{4,32}\s*$/;

export const CHANNELS = ['ecommerce', 'moto', 'pos', 'in_app'] as const;
export const CVV_RESULTS = ['match', 'mismatch', 'not_checked'] as const;
export const THREE_DS_STATUSES = ['Y', 'N', 'U', 'A', 'C', 'D', 'R', 'I'] as const;
export const DECISIONS = ['approve', 'challenge', 'review', 'decline'] as const;
export type Decision = (typeof DECISIONS)[number];

export const transactionIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._:-]+$/, 'may contain only letters, digits and . _ : -')
  .refine((v) => !containsCardNumber(v), CARD_NUMBER_IN_IDENTIFIER)
  .describe(NO_CARD_NUMBER);

// The digits are documented as a pattern (clients and fuzzers read it in /openapi.json); the Luhn
// check follows only when they match, so that a bad value gets one message.
const cardNumber = z
  .string()
  .regex(/^[0-9]{12,19}$/, { message: 'must be 12 to 19 digits, nothing else', abort: true })
  .superRefine((value, ctx) => {
    const problem = panProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe('12 to 19 digits that pass the Luhn check.');

/** ISO 4217 money codes, listed in /openapi.json: every three-letter code the currency table knows. */
export const CURRENCY_CODES: readonly string[] = (() => {
  const codes: string[] = [];
  const A = 65;
  for (let a = 0; a < 26; a++)
    for (let b = 0; b < 26; b++)
      for (let c = 0; c < 26; c++) {
        const code = String.fromCharCode(A + a, A + b, A + c);
        if (isCurrencyCode(code)) codes.push(code);
      }
  return codes;
})();

// A security code field goes by many names (cvv, CVV2, cvc, ccv, card_cvv, cvvCode, cv2,
// securityCode, cardVerificationValue, ...), and so do the PIN and the magnetic stripe's tracks
// (track1, track2, trackData), which are never accepted either: names are matched by their words
// joined in lower case, holding one of these; `cid`, `cvd` and `pin`, short enough to sit inside
// ordinary words ("incident", "shipping"), only as a whole word. A name that goes on to say only the
// check's outcome (cvvResult, cvc_check, cvvResponseCode, ...) is no code; one that says more
// (cvcCheckValue, cvvProvidedValue) is.
// Gateways' own names for it too: `cardCode` (Authorize.Net's x_card_code), `cardSecurityNumber`,
// `cardVerificationNumber`, and `securityNumber` or `verificationNumber` as a whole name (not a
// social security number); `cardCode` only as the name begins (not a gift or loyalty card's code).
const SECURITY_CODE_PART =
  /cvv|cvc|ccv|cv2|csc|cvn|cav2|securitycode|verificationvalue|verificationcode|(?<=^(?:x|credit|debit|payment)?)cardcode|cardsecuritynumber|cardverificationnumber|track1|track2|trackdata/;
const SECURITY_CODE_WORDS = new Set(['cid', 'cvd', 'pin']);
const SECURITY_CODE_NAMES = new Set(['securitynumber', 'verificationnumber']);
const CHECK_OUTCOME =
  /^(?:result|response|status|match|check|outcome|indicator|presence|present|provided|verified)+(?:code)?$/;
/** Words of a name: split at anything but letters and digits and at camelCase humps, in lower case. */
function nameWords(field: string): string[] {
  // Percent-encoded as a form may send it ("card%5Bcvv%5D").
  const decoded = field.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return decoded
    .split(/[^\p{L}\p{N}]+|(?<=[\p{Ll}\p{N}])(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}\p{Ll})/u)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}
/** A field named as a security code, whatever its case or separators: the API refuses it, dead letters remove it. */
export function isSecurityCodeName(field: string): boolean {
  const words = nameWords(field);
  const joined = words.join('');
  if (SECURITY_CODE_NAMES.has(joined)) return true;
  const part = SECURITY_CODE_PART.exec(joined);
  const word = words.findIndex((w) => SECURITY_CODE_WORDS.has(w));
  if (!part && word < 0) return false;
  // What follows the code's name: "cvvResult" names an outcome, "checkoutCvv" a code.
  const rest = part ? joined.slice(part.index + part[0].length) : words.slice(word + 1).join('');
  // India's postal code is the PIN code (pinCode, pin_code): no card's PIN.
  if (!part && words[word] === 'pin' && rest.startsWith('code')) return false;
  return !CHECK_OUTCOME.test(rest);
}
/** An address's `pin` is its postal code (India's PIN), not a card's PIN. */
const isPostalPin = (field: string, parent: string | number | undefined) =>
  typeof parent === 'string' && /address/i.test(parent) && nameWords(field).join('') === 'pin';
/** The path an error names for a security code field: its name, unless the name could hold a card number. */
const securityCodePath = (field: string) =>
  field.length > 64 || (field.match(/\p{Nd}/gu)?.length ?? 0) > 4 ? '(a security code field)' : field;

const SECURITY_CODE_MESSAGE = 'security codes are never accepted: verify it with your processor and send cvvResult';
/**
 * Every name isSecurityCodeName accepts matches this (its letters may be apart: "c_v_v"), so most
 * names are not split into words; the request's own fields are not even tested.
 */
const S = '[^a-zA-Z0-9]*';
const MAY_NAME_A_CODE = new RegExp(
  `c${S}[vscai]|p${S}i${S}n|t${S}r${S}a${S}c${S}k|v${S}e${S}r${S}i${S}f|s${S}e${S}c${S}u${S}r|%`,
  'i',
);
const REQUEST_FIELDS = new Set([
  ...['transactionId', 'merchantId', 'amount', 'currency', 'occurredAt', 'channel', 'card', 'number', 'expiryMonth'],
  ...['expiryYear', 'cvvResult', 'threeDS', 'status', 'version', 'customer', 'id', 'email', 'phone'],
  ...['accountCreatedAt', 'device', 'ip', 'userAgent', 'billingAddress', 'shippingAddress', 'name', 'line1', 'line2'],
  ...['city', 'region', 'postalCode', 'country', 'items', 'sku', 'category', 'quantity', 'unitPrice'],
]);
/** How deep securityCodeIssues looks: far below any field the request defines (deeper, nothing is read or kept). */
const SECURITY_CODE_DEPTH = 32;
export interface SecurityCodeIssue {
  code: 'custom';
  path: (string | number)[];
  message: string;
}
/**
 * Every field of a raw body (before a schema strips what it does not define) named as a security
 * code, at any depth: top-level cvv, payment.securityCode, card.extra.cvv. One pass over the keys,
 * a cheap test of each name before it is split into words; the value is never read.
 */
export function securityCodeIssues(body: unknown): SecurityCodeIssue[] {
  const issues: SecurityCodeIssue[] = [];
  const path: (string | number)[] = [];
  const walk = (value: unknown): void => {
    if (value === null || typeof value !== 'object' || path.length >= SECURITY_CODE_DEPTH) return;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        walk(value[i]);
        path.pop();
      }
      return;
    }
    const object = value as Record<string, unknown>;
    for (const key in object) {
      if (!Object.hasOwn(object, key)) continue;
      if (
        !REQUEST_FIELDS.has(key) &&
        MAY_NAME_A_CODE.test(key) &&
        isSecurityCodeName(key) &&
        !isPostalPin(key, path.at(-1))
      )
        issues.push({ code: 'custom', path: [...path, securityCodePath(key)], message: SECURITY_CODE_MESSAGE });
      else {
        path.push(key);
        walk(object[key]);
        path.pop();
      }
    }
  };
  walk(body);
  return issues;
}

/**
 * A body holding a security code, refused with every other problem the schema finds in it (one
 * answer lists them all): undefined when it holds none, and the schema alone decides.
 */
export function securityCodeRefusal(body: unknown, schema: z.ZodType): z.ZodError | undefined {
  const issues = securityCodeIssues(body);
  if (issues.length === 0) return undefined;
  const parsed = schema.safeParse(body);
  const named = new Set(issues.map((i) => i.path.join('.')));
  const others = parsed.success ? [] : parsed.error.issues.filter((i) => !named.has(i.path.join('.')));
  return new z.ZodError([...issues, ...others]);
}

const CARD_FIELDS = new Set(['number', 'expiryMonth', 'expiryYear', 'cvvResult']);

export const cardSchema = z
  .object({
    number: cardNumber,
    expiryMonth: z.int().min(1).max(12),
    expiryYear: z.int().min(2000).max(2100),
    cvvResult: z.enum(CVV_RESULTS).default('not_checked'),
  })
  .passthrough()
  .superRefine((card, ctx) => {
    for (const field of Object.keys(card)) {
      // The card's own fields (every request's) are no code: not split into words at each scoring.
      if (CARD_FIELDS.has(field)) continue;
      if (isSecurityCodeName(field)) {
        ctx.addIssue({
          code: 'custom',
          // Named when it cannot hold a card number (error messages never repeat one).
          path: [securityCodePath(field)],
          message: SECURITY_CODE_MESSAGE,
        });
      }
    }
  })
  .transform(({ number, expiryMonth, expiryYear, cvvResult }) => ({ number, expiryMonth, expiryYear, cvvResult }))
  .describe(
    'A security code field is refused, here or anywhere in the request, whatever its case or separators: a name holding cvv, cvc, ccv, cv2, csc, cvn, cav2, securityCode, verificationValue, verificationCode, track1, track2 or trackData (cvv2, card_cvv, cvvCode, ...), or cid, cvd or pin as a word; not one saying only the outcome of the check (cvvResult). Verify the code with your processor and send cvvResult.',
  );

export const addressSchema = z.object({
  name: text(200).optional(),
  line1: text(200).optional(),
  line2: text(200).optional(),
  city: text(100).optional(),
  region: text(100).optional(),
  postalCode: text(20).optional(),
  country: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code')
    .optional(),
});

export const scoreRequestSchema = z
  .object({
    transactionId: transactionIdSchema,
    amount: z.int().positive().max(1e12),
    // ISO 4217 money (not funds, metals or test codes); whether the rate table has it is the engine's question (422).
    currency: z.enum(CURRENCY_CODES as [string, ...string[]], { message: 'must be an ISO 4217 currency code' }),
    occurredAt: isoDateTime().optional(),
    channel: z.enum(CHANNELS),
    card: cardSchema,
    threeDS: z
      .object({
        status: z
          .enum(THREE_DS_STATUSES)
          .describe(
            'The authentication result: Y authenticated; N, R failed or rejected; A attempted, U unavailable ' +
              "(not challenged again: the merchant's unansweredStepUp policy decides, docs/decision-policy.md); " +
              'C, D a challenge under way and I information only (no result yet).',
          ),
        // EMV 3-D Secure versions are short (2.1.0, 2.2.0, 2.3.1): a long run of digits here is no
        // version, and it is kept as sent in the recording.
        version: z
          .string()
          .regex(/^\d{1,2}\.\d{1,2}(\.\d{1,3})?$/, 'must be a 3-D Secure version such as 2.2.0')
          .optional(),
      })
      .optional(),
    customer: z
      .object({
        id: identifier(128).optional(),
        email: z
          .string()
          .trim()
          .max(254)
          .regex(EMAIL_ADDRESS, 'must be an e-mail address')
          .meta({ format: 'idn-email' })
          .describe(
            'Internationalised addresses (RFC 6531: jané@example.com, jane@例え.jp) are accepted; surrounding whitespace is trimmed.',
          )
          .optional(),
        phone: z
          .string()
          .trim()
          .regex(PHONE_NUMBER, 'must be a phone number')
          .describe(
            'Digits with an optional leading +, separated as checkouts send them: spaces, dots, dashes, parentheses.',
          )
          .optional(),
        accountCreatedAt: isoDateTime()
          .describe("Refused (400) when more than 5 minutes ahead of the engine's clock, as occurredAt is.")
          .optional(),
      })
      .optional(),
    device: z
      .object({
        id: identifier(128).optional(),
        // The ipv6 format alone (RFC 4291, IPv4-mapped ::ffff:203.0.113.7 included, as accepted):
        // zod's documented pattern knows no dotted tail, so clients checking it refused what the API takes.
        ip: z
          .union([z.ipv4(), z.ipv6().meta({ pattern: undefined })], { message: 'must be an IPv4 or IPv6 address' })
          .optional(),
        userAgent: freeString().max(1024).optional(),
      })
      .optional(),
    billingAddress: addressSchema.optional(),
    shippingAddress: addressSchema.optional(),
    items: z
      .array(
        z.object({
          name: text(200),
          sku: text(64).optional(),
          category: text(100).optional(),
          quantity: z.int().positive().max(100000).default(1),
          unitPrice: z.int().nonnegative().max(1e12).optional(),
        }),
      )
      .max(200)
      .optional(),
  })
  .meta({
    id: 'ScoreRequest',
    examples: [
      {
        transactionId: 'order-1001',
        amount: 1999,
        currency: 'EUR',
        channel: 'ecommerce',
        card: { number: '4111111111111111', expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
        device: { id: 'd-42', ip: '203.0.113.7' },
        customer: { email: 'jane@example.com' },
        shippingAddress: { line1: '1-2-3 Shibuya', postalCode: '150-0002', city: 'Tokyo', country: 'JP' },
      },
    ],
  });
export type ScoreRequest = z.infer<typeof scoreRequestSchema>;
export type ScoreRequestInput = z.input<typeof scoreRequestSchema>;

export const reasonSchema = z.object({ code: z.string(), message: z.string() }).meta({
  id: 'Reason',
  example: { code: 'LEAKED_CARD', message: 'Card listed in 1 compromise event(s); the security code did not leak' },
});
export type Reason = z.infer<typeof reasonSchema>;

export const CHECK_STATES = ['evaluated', 'skipped', 'not_configured'] as const;
export type CheckState = (typeof CHECK_STATES)[number];
export const checksSchema = z
  .object({
    velocity: z.enum(CHECK_STATES),
    rules: z.enum(CHECK_STATES),
    watchlist: z.enum(CHECK_STATES),
    model: z.enum(CHECK_STATES),
  })
  .meta({ id: 'Checks' });
export type Checks = z.infer<typeof checksSchema>;

export const scoreResponseSchema = z
  .object({
    transactionId: z.string(),
    score: z.int().min(0).max(100),
    decision: z.enum(DECISIONS),
    reasons: z.array(reasonSchema),
    ifAuthenticated: z
      .enum(['approve', 'review', 'decline'])
      .optional()
      .describe(
        'Only with decision challenge: the decision once 3-D Secure authenticates the cardholder (status Y). Act on it after the challenge instead of scoring the order again, which would count it twice; report the result with POST /v1/transactions/{id}/outcome (authorized, or challenge_failed when the challenge failed, was refused or abandoned).',
      ),
    checks: checksSchema,
    degraded: z.boolean(),
    versions: z.object({
      engine: z.string(),
      ruleset: z
        .string()
        .describe(
          "The ruleset that decided: its declared version and its content's digest (default-2026.12.8a+3f9a1c2e); the digest changes with any rule, the version only when its author changes it",
        ),
      model: z.string().optional(),
    }),
  })
  .meta({
    id: 'ScoreResponse',
    example: {
      transactionId: 'order-1001',
      score: 72,
      decision: 'challenge',
      reasons: [
        { code: 'LEAKED_CARD', message: 'Card listed in 1 compromise event(s); the security code did not leak' },
      ],
      ifAuthenticated: 'approve',
      checks: { velocity: 'evaluated', rules: 'evaluated', watchlist: 'evaluated', model: 'evaluated' },
      degraded: false,
      versions: { engine: '0.1.0', ruleset: '2026-11-01+3f9a1c2e', model: 'rf-2026-11-01' },
    },
  });
export type ScoreResponse = z.infer<typeof scoreResponseSchema>;

/**
 * challenge_failed: the 3-D Secure step-up that Leakguard asked for failed, was refused or abandoned.
 * chargeback_reversed: a fraud chargeback reported before was won by the merchant or withdrawn by the
 * issuer (services/core/chargebacks.ts).
 */
export const OUTCOMES = [
  'authorized',
  'declined',
  'chargeback',
  'refund',
  'challenge_failed',
  'chargeback_reversed',
] as const;
export type OutcomeKind = (typeof OUTCOMES)[number];
export const outcomeRequestSchema = z
  .object({
    outcome: z.enum(OUTCOMES),
    occurredAt: isoDateTime().optional(),
    reasonCode: text(32)
      .optional()
      .describe('Required when the outcome is chargeback (the network reason code); not read for other outcomes.'),
  })
  .superRefine((o, ctx) => {
    if (o.outcome === 'chargeback' && !o.reasonCode)
      ctx.addIssue({ code: 'custom', path: ['reasonCode'], message: 'is required for a chargeback' });
  })
  .meta({
    id: 'OutcomeRequest',
    examples: [
      { outcome: 'authorized' },
      { outcome: 'chargeback', reasonCode: '10.4', occurredAt: '2026-11-20T09:30:00Z' },
      { outcome: 'chargeback_reversed', occurredAt: '2026-12-18T14:00:00Z' },
    ],
  });
export type OutcomeRequest = z.infer<typeof outcomeRequestSchema>;

// The error shape and the one zod formatter live with the error model (errors.ts).
export { errorResponseSchema, issueDetails } from './errors.ts';
