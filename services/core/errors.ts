// One error model. Every error Leakguard raises on purpose is a LeakguardError: a stable,
// machine-readable `code` (UPPER_SNAKE, listed below and in docs/errors.md) and the HTTP `status`
// it is answered with, wherever it ends up (the API, the console, a CLI's exit, a log line).
// Errors nobody raised on purpose (a bug, a library's failure) are INTERNAL. The doors turn an
// error into an answer in one place (services/http/errors.ts); zod issues become `{path, message}`
// pairs in one place (issueDetails below). Pure: no I/O.
import { z } from 'zod';
import { containsCardNumber, maskDottedPath, scrubCardNumbers } from './scrub.ts';

interface ErrorCodeInfo {
  /** The status it is answered with; a few codes are answered with more than one (docs/errors.md). */
  status: number;
  meaning: string;
}

/** Every code, its status and what it means. docs/errors.md lists the same codes (a test compares them). */
export const ERROR_CODES = {
  VALIDATION_FAILED: {
    status: 400,
    meaning: 'a field of the request breaks its schema; details name each',
  },
  MALFORMED_BODY: { status: 400, meaning: 'the body is empty, not JSON, or its length is wrong' },
  MALFORMED_URL: { status: 400, meaning: 'a path segment is not valid percent-encoding' },
  BAD_REQUEST: { status: 400, meaning: 'any other request the framework refuses (status as refused)' },
  UNAUTHENTICATED: {
    status: 401,
    meaning: 'no credentials, or unknown ones (API key, scrape token, session)',
  },
  FORBIDDEN: { status: 403, meaning: 'authenticated, but not allowed to do this' },
  CASE_FORBIDDEN: {
    status: 403,
    meaning: "an escalated case is decided and taken by a lead; another analyst's case is reassigned by a lead",
  },
  NOT_FOUND: { status: 404, meaning: 'no such route, page, asset or user' },
  EVENT_NOT_FOUND: { status: 404, meaning: 'no such compromise event (or one of another issuer)' },
  TRANSACTION_NOT_FOUND: {
    status: 404,
    meaning:
      'no transaction with this id was scored for the merchant (or longer ago than its marker and the transaction archive keep it)',
  },
  MODEL_NOT_CONFIGURED: { status: 404, meaning: 'no model is configured (LEAKGUARD_MODEL)' },
  METHOD_NOT_ALLOWED: {
    status: 405,
    meaning: 'the path exists but does not serve this method; Allow names those it serves',
  },
  CASE_NOT_FOUND: { status: 404, meaning: 'no such case' },
  WEBHOOK_NOT_FOUND: { status: 404, meaning: 'no such webhook subscription (or one of another tenant)' },
  DELIVERY_NOT_FOUND: { status: 404, meaning: 'no such delivery of this webhook subscription' },
  TRANSACTION_CONFLICT: {
    status: 409,
    meaning: 'the transactionId was already scored with another payload',
  },
  EVENT_CONFLICT: { status: 409, meaning: 'the compromise event is closed or retracted' },
  CASE_CONFLICT: { status: 409, meaning: 'the case is no longer in a state that allows this' },
  OUTCOME_CONFLICT: {
    status: 409,
    meaning:
      'the outcome needs one the transaction has not got: chargeback_reversed without a fraud chargeback recorded, or dated before it',
  },
  BIN_RANGE_CONFLICT: {
    status: 409,
    meaning: "a BIN range shares BINs with another issuer's: a BIN belongs to one issuer",
  },
  CPP_DISABLED: { status: 409, meaning: 'breach discovery is off in this deployment (LEAKGUARD_CPP=off)' },
  USER_EXISTS: { status: 409, meaning: 'the username is taken' },
  WEBHOOK_LIMIT_REACHED: {
    status: 409,
    meaning:
      'the tenant has as many webhook subscriptions as allowed (LEAKGUARD_WEBHOOK_MAX_PER_TENANT): delete one first',
  },
  WEBHOOK_DISABLED: {
    status: 409,
    meaning:
      'the webhook subscription is disabled (the API key that made it was revoked, or is held while the key store does not hold that key): delete it and subscribe again with a live key',
  },
  PAYLOAD_TOO_LARGE: { status: 413, meaning: 'the body is larger than the limit' },
  URI_TOO_LONG: { status: 414, meaning: 'a path parameter is too long' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'the content type (or encoding) is not accepted' },
  UPLOAD_REFUSED: {
    status: 400,
    meaning: 'a card list was refused while it streamed in (413: too large, 415: binary, 400: not a card list)',
  },
  NO_EXCHANGE_RATE: { status: 422, meaning: 'a valid currency the rate table has no rate for' },
  WEBHOOK_URL_REFUSED: {
    status: 422,
    meaning: 'a webhook URL that carries credentials, does not resolve or resolves to an address that is not public',
  },
  RULESET_INVALID: { status: 422, meaning: 'the ruleset file is invalid; the previous one stays in force' },
  RATE_TABLE_INVALID: {
    status: 422,
    meaning: 'the rate table file is invalid; the previous one stays in force',
  },
  MODEL_INVALID: { status: 422, meaning: 'the model artifact is invalid; the previous one stays in force' },
  RATE_LIMITED: {
    status: 429,
    meaning: 'too many requests (per API key; without a key, per console account or address) or sign-ins (per address)',
  },
  AUTH_RATE_LIMITED: {
    status: 429,
    meaning: 'too many failed authentications from this address',
  },
  INTERNAL: { status: 500, meaning: 'a fault on our side; logged with its stack under the request id' },
  UNAVAILABLE: { status: 503, meaning: 'a store is not reachable (yet), full or failing over: retry' },
  AUTH_UNAVAILABLE: { status: 503, meaning: 'the API key store is unreachable for an uncached key: retry' },
  CONFIG_INVALID: { status: 500, meaning: 'the configuration is invalid: the process does not start' },
  KEY_REQUEST_INVALID: { status: 400, meaning: 'an API key request (CLI) is inconsistent' },
  PERSONAL_DATA_UNREADABLE: {
    status: 500,
    meaning: "a case's sealed personal data cannot be decrypted",
  },
  DEADLINE_EXCEEDED: {
    status: 503,
    meaning: 'the velocity store did not answer within the scoring budget: the decision is made degraded',
  },
  STORE_TIMEOUT: {
    status: 503,
    meaning: 'a shared counter (API rate limit, login throttling) did not answer in time: the limit fails open',
  },
  DATABASE_BUSY: {
    status: 503,
    meaning: 'the embedded database or state directory is held by another process',
  },
  TRANSACTION_INVALID: {
    status: 400,
    meaning: 'a transaction the stream producer refuses before it is sent (details per field)',
  },
  KAFKA_NOT_AUTHORIZED: {
    status: 403,
    meaning: 'the Kafka user may not see or create a topic the stream needs',
  },
  USAGE: {
    status: 400,
    meaning: 'a command-line tool was called with arguments it cannot use (its usage is printed)',
  },
  PORT_TAKEN: { status: 503, meaning: "a local broker's port was taken while it started" },
} as const satisfies Record<string, ErrorCodeInfo>;

/**
 * Objects that take no other field. The unknown fields are named when every one is a plain name
 * (letters, digits, _ . -, a letter first, no card number in it); otherwise none is (a key may be
 * a card number).
 */
const UNKNOWN_FIELDS = 'has fields that are not allowed';
export const nameable = (key: string) => /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/.test(key) && !containsCardNumber(key);
const unknownFieldsMessage = (keys: readonly string[]) =>
  keys.length > 0 && keys.length <= 10 && keys.every((k) => nameable(k))
    ? `${UNKNOWN_FIELDS}: ${keys.join(', ')}`
    : UNKNOWN_FIELDS;
const unknownFieldsError = (issue: { code?: string; keys?: readonly string[] }) =>
  issue.code === 'unrecognized_keys' ? unknownFieldsMessage(issue.keys ?? []) : undefined;
export const closedObject = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape, { error: unknownFieldsError });

export type ErrorCode = keyof typeof ERROR_CODES;
export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

export const statusOf = (code: ErrorCode): number => ERROR_CODES[code].status;

export interface IssueDetail {
  path: string;
  message: string;
}

export interface LeakguardErrorOptions {
  /** When this error is answered with another status than its code's (docs/errors.md says which). */
  status?: number;
  details?: IssueDetail[];
  cause?: unknown;
}

/** The base of every error raised on purpose: `code` for machines, `status` for HTTP, the message for people. */
export class LeakguardError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: IssueDetail[] | undefined;

  constructor(code: ErrorCode, message: string, options: LeakguardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status ?? ERROR_CODES[code].status;
    this.details = options.details;
  }
}

// --- zod issues --------------------------------------------------------------------------------

interface IssueLike {
  readonly path: readonly PropertyKey[];
  readonly message?: string | undefined;
}

export interface IssueFormat {
  /** Put before every path (e.g. `querystring.`). */
  prefix?: string;
  /** The path of an issue about the whole value (default `(root)`). */
  root?: string;
}

/**
 * The one zod formatter: issues (a ZodError's, or issue-like `{path, message}`) as `{path, message}`
 * pairs. Messages come from our schemas and paths are our field names, but a path can name a key a
 * client sent: both are scrubbed of card numbers all the same.
 */
export function issueDetails(
  error: { readonly issues: readonly IssueLike[] } | readonly IssueLike[],
  format: IssueFormat = {},
): IssueDetail[] {
  const issues = 'issues' in error ? error.issues : error;
  const { prefix = '', root = '(root)' } = format;
  return issues.map((issue) => ({
    // Key by key, an array index next to a card number in a key readable (items.0.411111******1111, not
    // items.041111*******1111), or whole when that shows less: a number split over nested keys.
    path:
      (issue.path.length > 0
        ? maskDottedPath(`${prefix}${issue.path.map(String).join('.')}`, (t) => scrubCardNumbers(t))
        : prefix.replace(/\.$/, '')) || root,
    message: scrubCardNumbers(issue.message ?? 'is invalid'),
  }));
}

/** The same, as `path: message` lines. */
export function issueLines(
  error: { readonly issues: readonly IssueLike[] } | readonly IssueLike[],
  format: IssueFormat = {},
): string[] {
  return issueDetails(error, format).map((d) => `${d.path}: ${d.message}`);
}

// --- The wire shape ----------------------------------------------------------------------------

/** A card list's rejected lines counted by code, all of them (an upload report lists the first 100). */
export const rejectedByCodeSchema = z
  .record(z.string(), z.number().int())
  .describe(
    'Every rejected line counted by its code (MALFORMED, INVALID_CARD, INVALID_EXPIRY, BIN_NOT_OWNED, LINE_TOO_LONG)',
  );

/** Every API refusal: `error` for people, `code` for machines, `details` per field when there are any. */
export const errorResponseSchema = z
  .object({
    error: z.string().describe('For people: its wording may be refined; it never repeats a card number'),
    code: z.enum(ERROR_CODE_LIST).describe('Stable, machine-readable: what went wrong (docs/errors.md)'),
    details: z
      .array(
        z
          .object({ path: z.string(), message: z.string() })
          .meta({ id: 'ErrorDetail', example: { path: 'card.number', message: 'fails the Luhn check' } }),
      )
      .optional()
      .describe("Each field at fault: the request's field names (querystring.limit, items.0.name, (root))"),
    kept: z
      .object({
        accepted: z.number().int(),
        duplicates: z.number().int(),
        rejected: z.number().int(),
        rejectedByCode: rejectedByCodeSchema,
        errors: z.array(z.object({ line: z.number().int(), code: z.string(), reason: z.string(), card: z.string() })),
      })
      .optional()
      .describe(
        'A card list refused part way (UPLOAD_REFUSED, EVENT_CONFLICT), or whose store failed part way (UNAVAILABLE): what the lines before did, as an upload report says',
      ),
  })
  .meta({
    id: 'Error',
    description: 'Every refusal of the API: `error` for people, `code` for machines, `details` per field',
    example: {
      error: 'invalid request',
      code: 'VALIDATION_FAILED',
      details: [{ path: 'card.number', message: 'fails the Luhn check' }],
    },
  });
export type ErrorBody = z.infer<typeof errorResponseSchema>;
