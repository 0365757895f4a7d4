// The contract integrators generate from: the OpenAPI document names every operation and every
// shared schema, has an example for every request and response, declares the error schema for
// every refusal, and the checked-in client types (test/support/api-types.ts) are what the document
// generates today — a contract change that breaks clients breaks this test (npm run openapi:types).
// A method a path does not serve answers 405 with Allow and the error body.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TYPES_FILE, apiTypes } from '../../scripts/openapi-types.ts';
import { apiClient } from '../support/api-client.ts';
import { bearer, buildTestApp, type TestApp } from '../support/app.ts';

type Json = Record<string, unknown>;
interface Operation {
  operationId?: string;
  requestBody?: { content: Record<string, { example?: unknown; examples?: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: Json; example?: unknown }> }>;
}

let t: TestApp;
let doc: { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Json> } };
beforeAll(async () => {
  t = await buildTestApp();
  doc = (await t.app.inject('/openapi.json')).json();
});
afterAll(() => t.close());

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ label: `${method.toUpperCase()} ${path}`, method, path, op })),
  );

describe('the OpenAPI document', () => {
  it('gives every operation a unique operationId', () => {
    const ids = operations().map(({ label, op }) => {
      expect(op.operationId, label).toMatch(/^[a-z][A-Za-z0-9]+$/);
      return op.operationId;
    });
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['scoreTransaction', 'listIssuerHits', 'listCompromiseEvents']));
  });

  it('names the shared schemas under components and refers to them', () => {
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['Error', 'CompromiseEvent', 'CompromiseEventPage', 'Hit', 'HitPage', 'ScoreResponse']),
    );
    const hits = doc.paths['/v1/issuer/hits']!.get!;
    expect(hits.responses['200']!.content!['application/json']!.schema).toEqual({
      $ref: '#/components/schemas/HitPage',
    });
  });

  it('has an example for every request body and every response', () => {
    for (const { label, op } of operations()) {
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {}))
        expect(media.example ?? media.examples, `${label} request ${type}`).toBeDefined();
      for (const [status, response] of Object.entries(op.responses))
        for (const [type, media] of Object.entries(response.content ?? {}))
          expect(media.example, `${label} ${status} ${type}`).toBeDefined();
    }
  });

  it('documents the card list upload as CSV and NDJSON bodies', () => {
    const upload = doc.paths['/v1/compromise-events/{id}/cards']!.post!;
    expect(Object.keys(upload.requestBody!.content).sort()).toEqual(['application/x-ndjson', 'text/csv']);
  });

  it('declares the refusals every route can answer, with the error schema', () => {
    const error = { $ref: '#/components/schemas/Error' };
    for (const { label, method, path, op } of operations()) {
      const declared = Object.keys(op.responses);
      const expected = ['429'];
      if (path.startsWith('/v1/')) expected.push('401', '403');
      if (path.includes('{')) expected.push('400', '414');
      if (method !== 'get') expected.push('400', '413', '415');
      expect(declared, label).toEqual(expect.arrayContaining(expected));
      for (const status of declared.filter((s) => Number(s) >= 400 && !(path === '/readyz' && s === '503')))
        expect(op.responses[status]!.content!['application/json']!.schema, `${label} ${status}`).toEqual(error);
    }
  });

  it('documents for device.ip and customer.email what the API takes (found by an audit: ::ffff:203.0.113.7 broke the pattern)', () => {
    const request = doc.components.schemas.ScoreRequestInput as {
      properties: Record<string, { properties: Record<string, Json & { anyOf?: Json[] }> }>;
    };
    const documented = (schema: Json, value: string) =>
      typeof schema.pattern !== 'string' || new RegExp(schema.pattern as string, 'u').test(value);
    const ip = request.properties.device!.properties.ip!;
    for (const value of ['::ffff:203.0.113.7', '203.0.113.7', '2001:db8::1'])
      expect(
        ip.anyOf!.some((s) => documented(s, value)),
        value,
      ).toBe(true);
    expect(ip.anyOf!.map((s) => s.format)).toEqual(['ipv4', 'ipv6']);
    const email = request.properties.customer!.properties.email!;
    for (const value of ['jane@example.com ', 'jané@example.com', 'jane@例え.jp'])
      expect(documented(email, value), value).toBe(true);
    expect(email.format).toBe('idn-email');
  });

  it('generates the checked-in client types (else: npm run openapi:types)', async () => {
    expect(await apiTypes(doc)).toBe(readFileSync(API_TYPES_FILE, 'utf8'));
  });
});

describe('methods a path does not serve', () => {
  it('answer 405 with Allow and the error body, not 404', async () => {
    for (const [method, url, allow] of [
      ['PATCH', '/v1/score', 'POST'],
      ['DELETE', '/v1/compromise-events/ce_1', 'GET, HEAD, PATCH'],
      ['PUT', '/v1/issuer/hits', 'GET, HEAD'],
      ['OPTIONS', '/healthz', 'GET, HEAD'],
      ['POST', '/v1/issuers/i1/bin-ranges', 'GET, HEAD, PUT'],
    ] as const) {
      const res = await t.app.inject({ method, url, headers: bearer(t.keys.admin) });
      expect(res.statusCode, `${method} ${url}`).toBe(405);
      expect(res.headers.allow).toBe(allow);
      expect(res.json()).toEqual({
        error: `method not allowed: this path serves ${allow}`,
        code: 'METHOD_NOT_ALLOWED',
      });
    }
    // A QUERY without a content type, to a path that does not serve it.
    const query = await t.app.inject({ method: 'QUERY' as 'GET', url: '/healthz' });
    expect(query.statusCode).toBe(405);
    // No such path: still 404.
    const none = await t.app.inject({ method: 'PATCH', url: '/v1/nothing-here' });
    expect(none.json()).toMatchObject({ code: 'NOT_FOUND' });
    expect(none.statusCode).toBe(404);
  });

  it('through the typed client too: the refusal is the documented error', async () => {
    const { error, response } = await apiClient(t.app, t.keys.issuer).GET('/v1/compromise-events/{id}', {
      params: { path: { id: 'ce_999' } },
    });
    expect(response.status).toBe(404);
    expect(error?.code).toBe('EVENT_NOT_FOUND');
  });
});
