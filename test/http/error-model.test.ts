// The one error model: every API refusal carries a code (listed in docs/errors.md and the OpenAPI
// document) and every answer, API or console, the request id; domain errors map to their status
// and code; zod issues are formatted in one place; errors are logged whole, card numbers masked.
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { luhnComplete } from '../support/card-arbitraries.ts';
import { AuthRateLimited, AuthUnavailable, KeyRequestError } from '../../services/auth/api-keys.ts';
import { CaseConflict, CaseForbidden, CaseNotFound } from '../../services/cases/model.ts';
import { PersonalDataUnreadable } from '../../services/cases/personal-data.ts';
import { UserExists } from '../../services/cases/users.ts';
import { ConfigError } from '../../services/config.ts';
import { RateTableError, UnknownRateError } from '../../services/core/currency.ts';
import {
  ERROR_CODE_LIST,
  ERROR_CODES,
  errorResponseSchema,
  issueDetails,
  issueLines,
  LeakguardError,
} from '../../services/core/errors.ts';
import { RulesetError } from '../../services/core/rules.ts';
import { errorAnswer, HttpError, registerErrorHandling } from '../../services/http/errors.ts';
import { createLogger, errSerializer } from '../../services/logger.ts';
import { ArtifactError } from '../../services/model/artifact.ts';
import { UploadRefused } from '../../services/watchlist/upload.ts';
import { bearer, buildTestApp, scoreBody, VISA, type TestApp } from '../support/app.ts';
import { ConsoleClient, loggedIn } from '../console/client.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Codes answered with more than one status (docs/errors.md says which). */
const VARIABLE_STATUS = new Set(['BAD_REQUEST', 'UPLOAD_REFUSED']);

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' }, { cases: true });
});
afterAll(() => t?.close());

const json = { 'content-type': 'application/json' };

describe('API errors', () => {
  it('carry a documented code beside the unchanged text, with the status of that code, and the request id', async () => {
    const admin = bearer(t.keys.admin);
    const issuer = bearer(t.keys.issuer);
    const merchant = bearer(t.keys.merchant);
    const requests = [
      { method: 'POST', url: '/v1/score', payload: scoreBody(), code: 'UNAUTHENTICATED' },
      { method: 'POST', url: '/v1/score', headers: issuer, payload: scoreBody(), code: 'FORBIDDEN' },
      { method: 'POST', url: '/v1/score', headers: { ...merchant, ...json }, payload: '{"a":', code: 'MALFORMED_BODY' },
      { method: 'POST', url: '/v1/score', headers: { ...merchant, ...json }, payload: '{}', code: 'VALIDATION_FAILED' },
      {
        method: 'POST',
        url: '/v1/score',
        headers: { ...merchant, 'content-type': 'text/plain' },
        payload: 'x',
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      { method: 'GET', url: '/v1/no-such-route', code: 'NOT_FOUND' },
      { method: 'GET', url: '/v1/compromise-events/%zz', headers: issuer, code: 'MALFORMED_URL' },
      { method: 'GET', url: `/v1/compromise-events/${'x'.repeat(600)}`, headers: issuer, code: 'URI_TOO_LONG' },
      { method: 'GET', url: '/v1/compromise-events/ce_999999', headers: issuer, code: 'EVENT_NOT_FOUND' },
      { method: 'GET', url: '/v1/issuer/hits?limit=0', headers: issuer, code: 'VALIDATION_FAILED' },
      { method: 'GET', url: '/v1/issuers/i2/bin-ranges', headers: issuer, code: 'FORBIDDEN' },
      {
        method: 'POST',
        url: '/v1/transactions/never-scored/outcome',
        headers: { ...merchant, ...json },
        payload: '{"outcome":"declined"}',
        code: 'TRANSACTION_NOT_FOUND',
      },
      { method: 'GET', url: '/v1/admin/model', headers: admin, code: 'MODEL_NOT_CONFIGURED' },
      {
        method: 'POST',
        url: '/v1/compromise-events',
        headers: { ...admin, ...json },
        payload: JSON.stringify({
          externalId: 'no-issuer',
          source: 'test',
          description: 'an admin must name the issuer',
          exposureStart: '2026-01-01T00:00:00Z',
          exposureEnd: '2026-01-02T00:00:00Z',
          discoveredAt: '2026-01-03T00:00:00Z',
          dataElements: ['pan'],
          confidence: 'confirmed',
        }),
        code: 'VALIDATION_FAILED',
        detail: 'issuerId',
      },
    ] as const;
    const ids = new Set<string>();
    for (const r of requests) {
      const res = await t.app.inject({
        method: r.method,
        url: r.url,
        headers: 'headers' in r ? r.headers : {},
        ...('payload' in r ? { payload: r.payload } : {}),
      });
      const body = res.json();
      expect(body.code, `${r.method} ${r.url.slice(0, 60)}: ${res.body.slice(0, 200)}`).toBe(r.code);
      expect(errorResponseSchema.safeParse(body).success, res.body.slice(0, 200)).toBe(true);
      expect(typeof body.error).toBe('string');
      if (!VARIABLE_STATUS.has(r.code)) expect(res.statusCode).toBe(ERROR_CODES[r.code].status);
      if ('detail' in r) expect(body.details).toEqual([expect.objectContaining({ path: r.detail })]);
      expect(res.headers['x-request-id']).toMatch(UUID);
      ids.add(String(res.headers['x-request-id']));
    }
    expect(ids.size).toBe(requests.length);
  });

  it('keeps the texts as they were: the code is the only addition', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: { ...bearer(t.keys.merchant), ...json },
      payload: JSON.stringify({ ...scoreBody(), amount: -1 }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid request',
      code: 'VALIDATION_FAILED',
      details: [expect.objectContaining({ path: 'amount' })],
    });
  });

  it('puts the request id on successful answers too, the one the engine chose (a client-sent id is not taken over)', async () => {
    const ok = await t.app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: { ...bearer(t.keys.merchant), ...json, 'x-request-id': 'client-chosen-id' },
      payload: JSON.stringify(scoreBody()),
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['x-request-id']).toMatch(UUID);
    for (const url of ['/healthz', '/readyz', '/openapi.json'])
      expect((await t.app.inject(url)).headers['x-request-id'], url).toMatch(UUID);
  });

  it('documents the codes: the OpenAPI error schema has them as an enum, docs/errors.md lists each with its status', async () => {
    const spec = (await t.app.inject('/openapi.json')).json();
    const declared = spec.paths['/v1/score'].post.responses['400'].content['application/json'].schema;
    // The error schema is named under components: the refusal refers to it.
    expect(declared).toEqual({ $ref: '#/components/schemas/Error' });
    const refusal = spec.components.schemas.Error;
    expect(refusal.required).toEqual(expect.arrayContaining(['error', 'code']));
    expect(refusal.properties.code.enum).toEqual(ERROR_CODE_LIST);
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `([A-Z_]+)` \| ([0-9x, ]+) \|/gm)].map((m) => [m[1]!, m[2]!] as const);
    expect(rows.map(([code]) => code).sort()).toEqual([...ERROR_CODE_LIST].sort());
    for (const [code, status] of rows)
      expect(status, code).toContain(
        code === 'BAD_REQUEST' ? '4xx' : String(ERROR_CODES[code as keyof typeof ERROR_CODES].status),
      );
  });

  it("leaves the console's HTML pages out of the document (served here), every operation in it with its id", async () => {
    const spec = (await t.app.inject('/openapi.json')).json() as {
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    expect((await t.app.inject('/console/login')).statusCode).toBe(200);
    expect(Object.keys(spec.paths).filter((path) => path.startsWith('/console'))).toEqual([]);
    for (const [path, ops] of Object.entries(spec.paths))
      for (const [method, op] of Object.entries(ops)) expect(op.operationId, `${method} ${path}`).toBeTruthy();
  });
});

describe('the console', () => {
  it('answers with the request id: pages, redirects, refusals and its error pages', async () => {
    const anonymous = new ConsoleClient(t.app);
    for (const [url, status] of [
      ['/console/login', 200],
      ['/console/queue', 303],
      ['/console/no-such-page', 404],
      ['/console/assets/console.css', 200],
    ] as const) {
      const res = await anonymous.get(url);
      expect(res.status, url).toBe(status);
      expect(res.headers['x-request-id'], url).toMatch(UUID);
    }
    const unauthenticated = await anonymous.post('/console/logout');
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers['x-request-id']).toMatch(UUID);
  });

  it('keeps its error pages: the mapping decides the status, the page keeps its words', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.77.0.1');
    const missing = await client.get('/console/cases/999999');
    expect(missing.status).toBe(404);
    expect(missing.body).toContain('No such case.');
    const invalid = await client.post('/console/cases/1/decision', { action: 'shred' });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatch(/Invalid request: action: /);
    expect(invalid.headers['x-request-id']).toMatch(UUID);
    expect(invalid.headers['content-type']).toContain('text/html');
  });
});

describe('the mapping from an error to an answer', () => {
  it('gives every error class a code, and domain errors their status', () => {
    const cases: [Error, string, number][] = [
      [new CaseNotFound('case 1 not found'), 'CASE_NOT_FOUND', 404],
      [new CaseConflict('case 1 is already decided'), 'CASE_CONFLICT', 409],
      [new CaseForbidden('case 1 is escalated'), 'CASE_FORBIDDEN', 403],
      [new UserExists('user x already exists'), 'USER_EXISTS', 409],
      [new UploadRefused(413, 'card list larger than the limit'), 'UPLOAD_REFUSED', 413],
      [new UploadRefused(415, 'binary content refused'), 'UPLOAD_REFUSED', 415],
      [new UnknownRateError('SEK', 'table-1'), 'NO_EXCHANGE_RATE', 422],
      [new AuthRateLimited(30, 5), 'AUTH_RATE_LIMITED', 429],
      [new AuthUnavailable(new Error('down')), 'AUTH_UNAVAILABLE', 503],
      [new KeyRequestError('a merchant key needs --merchant <id>'), 'KEY_REQUEST_INVALID', 400],
      [new RulesetError([{ at: ['rules'], message: 'is empty' }]), 'RULESET_INVALID', 422],
      [new RateTableError(['rates: is empty']), 'RATE_TABLE_INVALID', 422],
      [new ArtifactError('invalid model artifact'), 'MODEL_INVALID', 422],
      [new ConfigError('invalid configuration'), 'CONFIG_INVALID', 500],
      [new PersonalDataUnreadable('not a sealed personal-data value'), 'PERSONAL_DATA_UNREADABLE', 500],
    ];
    for (const [error, code, status] of cases) {
      expect(error).toBeInstanceOf(LeakguardError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(error.constructor.name);
      expect((error as LeakguardError).code, error.name).toBe(code);
      expect((error as LeakguardError).status, error.name).toBe(status);
      const answer = errorAnswer(error);
      if (status < 500) expect([answer.status, answer.code, answer.fault], error.name).toEqual([status, code, false]);
      else if (code === 'AUTH_UNAVAILABLE') expect([answer.status, answer.code]).toEqual([503, code]);
      else
        expect([answer.status, answer.code, answer.fault, answer.body.error]).toEqual([
          500,
          'INTERNAL',
          true,
          'internal error',
        ]);
    }
  });

  it('answers domain errors with their headers and words; faults without a word about them', () => {
    expect(errorAnswer(new AuthRateLimited(17, 5))).toMatchObject({
      status: 429,
      headers: { 'retry-after': '17' },
      body: { code: 'AUTH_RATE_LIMITED', details: [{ path: 'headers.authorization' }] },
    });
    expect(errorAnswer(new UploadRefused(400, 'line 3 is longer than 16384 characters'))).toMatchObject({
      status: 400,
      // Its connection closes a moment after the answer (lingerThenClose), not with it.
      refusedUpload: true,
      body: { error: 'line 3 is longer than 16384 characters', code: 'UPLOAD_REFUSED' },
    });
    expect(
      errorAnswer(
        new HttpError('UNAVAILABLE', 'outcome store unavailable: retry', { headers: { 'retry-after': '1' } }),
      ),
    ).toMatchObject({ status: 503, headers: { 'retry-after': '1' }, body: { code: 'UNAVAILABLE' } });
    const fault = errorAnswer(new TypeError(`cannot read ${VISA}`));
    expect(fault).toMatchObject({ status: 500, fault: true, body: { error: 'internal error', code: 'INTERNAL' } });
    expect(JSON.stringify(fault)).not.toContain(VISA);
    // Fastify's own refusals: by their code, else by their status.
    const fastify = (code: string, statusCode: number) =>
      Object.assign(new Error('quotes the body'), { code, statusCode });
    expect(errorAnswer(fastify('FST_ERR_CTP_BODY_TOO_LARGE', 413)).body).toEqual({
      error: 'request body too large',
      code: 'PAYLOAD_TOO_LARGE',
    });
    expect(errorAnswer(fastify('FST_ERR_SOMETHING_NEW', 405))).toMatchObject({
      status: 405,
      body: { error: 'bad request', code: 'BAD_REQUEST' },
    });
    expect(errorAnswer(fastify('FST_ERR_RATE_LIMIT', 429)).body.code).toBe('RATE_LIMITED');
  });

  it('answers a thrown error with its code and the request id, and logs a fault with its stack', async () => {
    const lines: string[] = [];
    const app: FastifyInstance = Fastify({
      loggerInstance: createLogger('info', { write: (l: string) => lines.push(l) }) as FastifyBaseLogger,
      genReqId: () => 'req-fixed-1',
    });
    registerErrorHandling(app);
    app.get('/case', async () => {
      throw new CaseNotFound('case 7 not found');
    });
    app.get('/fault', async () => {
      throw new Error(`storage said ${VISA}`);
    });
    try {
      const notFound = await app.inject('/case');
      expect([notFound.statusCode, notFound.json()]).toEqual([
        404,
        { error: 'case 7 not found', code: 'CASE_NOT_FOUND' },
      ]);
      expect(notFound.headers['x-request-id']).toBe('req-fixed-1');
      // A refusal is not a fault: nothing logged above info.
      expect(lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 40)).toEqual([]);
      const fault = await app.inject('/fault');
      expect([fault.statusCode, fault.json()]).toEqual([500, { error: 'internal error', code: 'INTERNAL' }]);
      expect(fault.headers['x-request-id']).toBe('req-fixed-1');
      const logged = JSON.parse(lines.find((l) => l.includes('unhandled error'))!);
      expect(logged.reqId).toBe('req-fixed-1');
      expect(logged.err.type).toBe('Error');
      expect(logged.err.stack).toMatch(/\n\s+at /);
      expect(lines.join('')).not.toContain(VISA);
    } finally {
      await app.close();
    }
  });
});

describe('the zod formatter', () => {
  const schema = z.object({
    card: z.object({ number: z.string().regex(/^\d+$/, 'digits only') }),
    items: z.array(z.object({ name: z.string().min(1, 'is empty') })),
    tags: z.record(z.string(), z.number()),
  });
  const error = schema.safeParse({
    card: { number: 'x' },
    items: [{ name: 'ok' }, { name: '' }],
    tags: { [VISA]: 'one' },
  }).error!;

  it('names each field by its path, array indexes included, and masks a card number in a key', () => {
    const details = issueDetails(error);
    expect(details.map((d) => d.path)).toEqual(['card.number', 'items.1.name', `tags.411111******1111`]);
    expect(details[0]!.message).toBe('digits only');
    expect(JSON.stringify(details)).not.toContain(VISA);
  });

  it('masks a card number in a key without running it into the array index before it', () => {
    const issues = [{ path: ['items', 0, VISA, 'pin'], message: 'is refused' }];
    expect(issueDetails(issues)[0]!.path).toBe('items.0.411111******1111.pin');
    // A number split over nested keys is masked all the same.
    const split = [{ path: ['extra', ...VISA.match(/\d{4}/g)!], message: 'is refused' }];
    expect(issueDetails(split)[0]!.path).not.toContain(VISA.match(/\d{4}/g)!.join('.'));
    // Also when one piece is long enough to be masked alone (found by a review): 12 digits, then 4.
    // Masked piece by piece it showed 14 of the 16 digits (411111**1111.1111).
    // Its first 12 digits a card number of their own (Luhn), as the scrubber masks them alone.
    const head = luhnComplete('41111111111');
    const number = luhnComplete(`${head}123`);
    const longPiece = [{ path: ['extra', head, number.slice(12)], message: 'is refused' }];
    const path = issueDetails(longPiece)[0]!.path;
    expect(path.replace(/\D/g, '').length).toBeLessThanOrEqual(10);
  });

  it('names the whole value (root) and takes a prefix', () => {
    const root = z.string().safeParse(1).error!;
    expect(issueDetails(root)).toEqual([{ path: '(root)', message: expect.any(String) }]);
    expect(issueDetails(root, { root: 'input' })[0]!.path).toBe('input');
    expect(issueDetails(error, { prefix: 'body.' })[0]!.path).toBe('body.card.number');
    expect(issueLines(error)[1]).toBe('items.1.name: is empty');
    // Issue-like input (Fastify's validation errors reach it so): messages scrubbed too.
    expect(issueDetails([{ path: ['querystring', 'q'], message: `not ${VISA}` }])).toEqual([
      { path: 'querystring.q', message: 'not 411111******1111' },
    ]);
  });
});

describe("the logger's error serializer", () => {
  it('keeps the type, the code and the stack of an error, and loses the card numbers in them', () => {
    const error = new CaseConflict(`case for ${VISA} is already decided`, {
      cause: new Error('inner 4111 1111 1111 1111'),
    });
    const serialized = errSerializer(error) as Record<string, unknown>;
    expect(serialized.type).toBe('CaseConflict');
    expect(serialized.code).toBe('CASE_CONFLICT');
    expect(serialized.status).toBe(409);
    expect(serialized.stack).toMatch(/^CaseConflict: case for 411111\*{6}1111 is already decided\n\s+at /);
    expect(serialized.stack).toContain('caused by: Error: inner 411111******1111');
    expect(JSON.stringify(serialized)).not.toMatch(/4111111111111111|4111 1111 1111 1111/);
  });

  it('rounds fractions, whose 15 digits could pass the Luhn check and be masked out of the JSON line', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (l: string) => lines.push(l) });
    // 1.397095555911188 passes the Luhn check as 1397095555911188: masked, the line was no JSON.
    log.info({ responseTime: 1.397095555911188, count: 12 }, 'request completed');
    const line = JSON.parse(lines[0]!) as { responseTime: number; count: number };
    expect(line).toMatchObject({ responseTime: 1.397, count: 12 });
  });

  it('is the one the logger uses for `err`', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (l: string) => lines.push(l) });
    log.error({ err: new Error(`upstream said ${VISA}`) }, 'failure');
    const line = JSON.parse(lines[0]!);
    expect(line.err.type).toBe('Error');
    expect(line.err.message).toBe('upstream said 411111******1111');
    expect(line.err.stack).toMatch(/^Error: upstream said 411111\*{6}1111\n\s+at /);
    expect(lines[0]).not.toContain(VISA);
  });
});
