// The one mapping from an error to an HTTP answer, for the API and the console alike: a status, a
// code (services/core/errors.ts, docs/errors.md) and the body {error, code, details?}. Routes throw
// (a domain error, or an HttpError for a refusal of their own); the error handler answers.
// Messages are ours, never the parser's: a JSON syntax error message quotes the body, and the body
// may hold a PAN. Every answer, success or error, carries the request id (x-request-id).
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AuthRateLimited, AuthUnavailable } from '../auth/api-keys.ts';
import { UnknownRateError } from '../core/currency.ts';
import {
  issueDetails,
  LeakguardError,
  statusOf,
  type ErrorBody,
  type ErrorCode,
  type IssueDetail,
  type LeakguardErrorOptions,
} from '../core/errors.ts';
import { scrubCardNumbers } from '../core/scrub.ts';
import { CONSOLE_HEADERS, isConsolePath } from '../console/security-headers.ts';
import {
  retryAfterSeconds,
  unavailableDetail,
  unavailableStore,
  type UnavailableStore,
} from '../adapters/store-unavailable.ts';
import { UploadRefused, UploadStoreFailed, type UploadReport } from '../watchlist/upload.ts';

export type { ErrorBody };
export const REQUEST_ID_HEADER = 'x-request-id';

/** A refusal a route or hook makes itself: its message is the answer's `error`, with headers of its own if any. */
export class HttpError extends LeakguardError {
  readonly headers: Record<string, string>;
  constructor(
    code: ErrorCode,
    message: string,
    options: LeakguardErrorOptions & { headers?: Record<string, string> } = {},
  ) {
    super(code, message, options);
    this.headers = options.headers ?? {};
  }
}

export interface ErrorAnswer {
  status: number;
  code: ErrorCode;
  body: ErrorBody;
  headers: Record<string, string>;
  /** A fault rather than a refusal: logged with its stack, answered without a word about it. */
  fault: boolean;
  /** A store that could not serve (down, full, failing over): answered 503, logged as a warning. */
  unavailable?: UnavailableStore;
  /** A card list refused while it streams in: its connection closes after a moment (lingerThenClose). */
  refusedUpload?: true;
}

const answer = (
  code: ErrorCode,
  error: string,
  extra: { status?: number; details?: IssueDetail[] | undefined; headers?: Record<string, string> } = {},
): ErrorAnswer => ({
  status: extra.status ?? statusOf(code),
  code,
  body: { error, code, ...(extra.details ? { details: extra.details } : {}) },
  headers: extra.headers ?? {},
  fault: false,
});

const INTERNAL: Omit<ErrorAnswer, 'fault'> = answer('INTERNAL', 'internal error');

/** Fastify's own refusals, by their code. */
const BY_FASTIFY_CODE: Record<string, ErrorAnswer> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: answer('UNSUPPORTED_MEDIA_TYPE', 'unsupported content type: send application/json'),
  FST_ERR_CTP_BODY_TOO_LARGE: answer('PAYLOAD_TOO_LARGE', 'request body too large'),
  FST_ERR_CTP_EMPTY_JSON_BODY: answer('MALFORMED_BODY', 'request body is empty'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: answer('MALFORMED_BODY', 'invalid content length'),
  FST_ERR_CTP_INVALID_JSON_BODY: answer('MALFORMED_BODY', 'request body is not valid JSON'),
  // The router's refusals (frameworkErrors below), never quoting the path.
  FST_ERR_MAX_PARAM_LENGTH: answer('URI_TOO_LONG', 'a path parameter is too long'),
  FST_ERR_BAD_URL: answer('MALFORMED_URL', 'malformed URL: a path segment is not valid percent-encoding'),
};

/** Any other client error the framework raises: a code by its status, the words "bad request". */
const BY_STATUS: Record<number, ErrorCode> = {
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

/** What the lines of a card list stopped part way did: `kept` in the answer, as an upload report says. */
const kept = (r: UploadReport): NonNullable<ErrorBody['kept']> => ({
  accepted: r.accepted,
  duplicates: r.duplicates,
  rejected: r.rejected,
  rejectedByCode: r.rejectedByCode,
  errors: r.errors,
});

/** What to answer for an error: the one mapping (API and console). */
export function errorAnswer(error: unknown): ErrorAnswer {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const context = (error as FastifyError).validationContext;
    const prefix = context === 'body' || !context ? '' : `${context}.`;
    const issues = error.validation.map((v) => {
      // The whole part ("" or "/": unknown query parameters, say) has no path of its own.
      const path = v.instancePath.replace(/^\//, '');
      return { path: path === '' ? [] : path.split('/'), message: v.message };
    });
    return answer('VALIDATION_FAILED', 'invalid request', { details: issueDetails(issues, { prefix }) });
  }
  if (error instanceof z.ZodError)
    return answer('VALIDATION_FAILED', 'invalid request', { details: issueDetails(error) });
  if (error instanceof HttpError)
    return answer(error.code, error.message, { status: error.status, details: error.details, headers: error.headers });
  if (error instanceof AuthRateLimited)
    return answer(error.code, 'too many failed authentications from your address: retry later', {
      headers: { 'retry-after': String(error.retryAfterSeconds) },
      details: [
        {
          path: 'headers.authorization',
          message: `more than ${error.limit} missing or invalid API keys in a minute; retry after ${error.retryAfterSeconds} s`,
        },
      ],
    });
  if (error instanceof AuthUnavailable)
    return answer(error.code, 'authentication temporarily unavailable: retry', { headers: { 'retry-after': '1' } });
  // A valid ISO 4217 code the rate table lacks: nothing was counted, and it is not scored as if it were the reference.
  if (error instanceof UnknownRateError)
    return answer(error.code, 'no exchange rate for this currency', {
      details: [{ path: 'currency', message: error.message }],
    });
  // Nothing more of a refused card list is stored: its connection closes a moment after the answer.
  if (error instanceof UploadRefused) {
    const refused: ErrorAnswer = {
      ...answer(error.code, error.message, { status: error.status }),
      refusedUpload: true,
    };
    if (error.report) refused.body.kept = kept(error.report);
    return refused;
  }
  // The store failed part way through a card list: answered as its failure is (503 when it is
  // unavailable, a fault otherwise), a 503 with what the lines before did, as a refusal says.
  if (error instanceof UploadStoreFailed) {
    const failed = errorAnswer(error.cause);
    return failed.unavailable ? { ...failed, body: { ...failed.body, kept: kept(error.report) } } : failed;
  }
  // Redis down, full or failing over, PostgreSQL unreachable: nothing wrong with the request, which
  // succeeds again once the store is back (what was stored before stays: re-sending is idempotent).
  const store = unavailableStore(error);
  if (store)
    return {
      ...answer('UNAVAILABLE', 'store unavailable: retry', {
        headers: { 'retry-after': String(retryAfterSeconds(error)) },
      }),
      unavailable: store,
    };
  if (error instanceof LeakguardError) {
    if (error.status >= 500) return { ...INTERNAL, fault: true };
    return answer(error.code, scrubCardNumbers(error.message), { status: error.status, details: error.details });
  }
  const e = (error ?? {}) as Partial<FastifyError>;
  const known = e.code ? BY_FASTIFY_CODE[e.code] : undefined;
  if (known) return known;
  if (e.statusCode === 429) return answer('RATE_LIMITED', 'rate limit exceeded: slow down and retry later');
  if (e.statusCode === 400 && error instanceof SyntaxError)
    return answer('MALFORMED_BODY', 'request body is not valid JSON');
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500)
    return answer(BY_STATUS[e.statusCode] ?? 'BAD_REQUEST', 'bad request', { status: e.statusCode });
  return { ...INTERNAL, fault: true };
}

/** The answer of an error as JSON, with its headers and the request id. */
export function sendError(reply: FastifyReply, a: ErrorAnswer): FastifyReply {
  reply.header(REQUEST_ID_HEADER, reply.request.id);
  for (const [name, value] of Object.entries(a.headers)) reply.header(name, value);
  return reply.code(a.status).send(a.body);
}

/** A store that could not serve: a warning naming it, with the error's type, message and command only (not the driver's whole error). */
export function logUnavailable(request: FastifyRequest, error: unknown, a: ErrorAnswer, answered: string): void {
  request.log.warn(
    { store: a.unavailable, error: unavailableDetail(error) },
    `${a.unavailable} unavailable: ${answered}`,
  );
}

/** Faults are logged with the error itself: the logger's err serializer keeps its type and stack (card numbers masked). */
export function logFault(request: FastifyRequest, error: unknown, message: string): void {
  request.log.error({ err: error }, message);
}

/**
 * The methods each route path serves, learnt as routes are added: a request for a path that exists
 * with a method it does not serve is answered 405 with `Allow`, not 404.
 */
class RouteMethods {
  private readonly paths = new Map<string, { pattern: RegExp; methods: Set<string> }>();

  add(url: string, method: string | string[]): void {
    let entry = this.paths.get(url);
    if (!entry) {
      // Fastify's syntax: `:name` a segment, `*` the rest.
      const source = url
        .split(/(:[A-Za-z0-9_]+|\*)/)
        .map((part) =>
          part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'),
        )
        .join('');
      this.paths.set(url, (entry = { pattern: new RegExp(`^${source}$`), methods: new Set() }));
    }
    for (const m of Array.isArray(method) ? method : [method]) entry.methods.add(m.toUpperCase());
    if (entry.methods.has('GET')) entry.methods.add('HEAD');
  }

  /** The methods served at this path (empty: no such path). */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const { pattern, methods: served } of this.paths.values())
      if (pattern.test(path)) for (const m of served) methods.add(m);
    return [...methods].sort();
  }
}

export function registerErrorHandling(app: FastifyInstance): void {
  const routes = new RouteMethods();
  app.addHook('onRoute', (route) => routes.add(route.url ?? route.path, route.method));
  const notFound = (request: FastifyRequest, reply: FastifyReply) => {
    const allowed = routes.allowed(request.url.split('?')[0]!);
    if (allowed.length > 0 && !allowed.includes(request.method))
      return sendError(
        reply,
        answer('METHOD_NOT_ALLOWED', `method not allowed: this path serves ${allowed.join(', ')}`, {
          headers: { allow: allowed.join(', ') },
        }),
      );
    return sendError(reply, answer('NOT_FOUND', 'no such route'));
  };
  app.setErrorHandler((error: FastifyError, request, reply) => {
    // A request no route serves, refused while its body was read (a QUERY without a content type,
    // say): what it asked for does not exist, whatever its body.
    const code = (error as Partial<FastifyError>).code ?? '';
    if (request.is404 && (code.startsWith('FST_ERR_CTP_') || code === 'FST_ERR_ROUTE_MISSING_CONTENT_TYPE'))
      return notFound(request, reply);
    const a = errorAnswer(error);
    if (a.refusedUpload && !request.raw.complete) lingerThenClose(request.raw);
    // A store's failure part way through a card list is logged as that failure.
    const cause = error instanceof UploadStoreFailed ? error.cause : error;
    if (a.fault) logFault(request, cause, 'unhandled error');
    if (a.unavailable) {
      logUnavailable(request, cause, a, 'answered 503, retry');
      // A body not read to its end (an upload cut short) is not read on: the connection closes after the answer.
      if (!request.raw.complete) a.headers = { ...a.headers, connection: 'close' };
    }
    return sendError(reply, a);
  });
  app.setNotFoundHandler(notFound);
}

/** How long, and how much of, a refused card list is read on (and dropped) before its connection closes. */
const LINGER_MS = 1000;
const LINGER_BYTES = 16 << 20;

/**
 * A refused upload's connection, closed only after its body has been read on and dropped for a
 * moment. Closed with the answer, the client's next write of the list fails (EPIPE) and its HTTP
 * stack drops the answer it has not parsed yet: the upload CLI said the connection was lost, where
 * the engine had said why it refused (test/cli/upload.test.ts, under load).
 */
function lingerThenClose(req: FastifyRequest['raw']): void {
  const socket = req.socket;
  // A request made by Fastify's inject() has no connection to close.
  if (typeof socket?.destroy !== 'function' || typeof socket.end !== 'function') return;
  let read = 0;
  const close = () => socket.destroy();
  const timer = setTimeout(close, LINGER_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > LINGER_BYTES) close();
  });
  req.once('end', () => {
    clearTimeout(timer);
    socket.end();
  });
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

/** The router's refusals (a malformed or over-long path): in our shape, never quoting the path. */
export function frameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const known = BY_FASTIFY_CODE[error.code];
  if (!known) logFault(request, error, 'router error');
  // Answered before any route: the console's headers are not set by its plugin here.
  if (isConsolePath(request.raw.url ?? '')) reply.headers(CONSOLE_HEADERS);
  void sendError(reply, known ?? { ...INTERNAL, fault: true });
}

/**
 * A request Node's HTTP parser refuses before Fastify sees it (a body longer than its
 * Content-Length, a malformed request line, headers too large, a request too slow): answered in
 * our shape with a fresh request id, instead of Fastify's {statusCode, error, message}.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Duplex): void {
  // A connection whose answer has begun (keep-alive) cannot take another: closed as it is.
  const answering = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (error.code === 'ECONNRESET' || !socket.writable || answering) {
    socket.destroy(error);
    return;
  }
  const [status, code, message]: [number, ErrorCode, string] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'BAD_REQUEST', 'request headers too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'BAD_REQUEST', 'request not received in time']
        : [400, 'MALFORMED_BODY', 'malformed HTTP request (is the body as long as its Content-Length?)'];
  const body = JSON.stringify({ error: message, code });
  // Ended, then destroyed: the server's sockets allow half-open, and a client that never reads
  // must not keep its connection (as Fastify's own handler does).
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n${REQUEST_ID_HEADER}: ${randomUUID()}\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}
