// The OpenAPI document (/openapi.json), generated from the routes' zod schemas, told whole:
// - every operation has an operationId (the route's own, else one made of its method and path);
// - schemas given an id (`.meta({ id })`) are named under components and referenced, so that
//   generated clients get named types (request bodies are named `<id>Input`);
// - every status a route can answer is declared: besides the route's own, the refusals the
//   framework and the shared hooks make (400 for a route that reads a path, a query or a body, 401,
//   403 and 503 behind an API key, 413 and 415 for a method with a body, 414 for a path parameter,
//   429 everywhere), each with the error schema;
// - every request body and response has an example (the schema's, else the status's error).
import type { SwaggerTransform, SwaggerTransformObject } from '@fastify/swagger';
import type { FastifySchema } from 'fastify';
import { createJsonSchemaTransform, createJsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponseSchema, type ErrorBody } from '../core/errors.ts';

const ERRORS: Record<number, { description: string; example: ErrorBody }> = {
  400: {
    description:
      'A field of the request breaks its schema (VALIDATION_FAILED, `details` per field), or the body is not JSON (MALFORMED_BODY)',
    example: {
      error: 'invalid request',
      code: 'VALIDATION_FAILED',
      details: [{ path: 'querystring.limit', message: 'Too small: expected number to be >=1' }],
    },
  },
  401: {
    description: 'No API key, or an unknown one (UNAUTHENTICATED, with WWW-Authenticate: Bearer)',
    example: { error: 'missing or invalid API key', code: 'UNAUTHENTICATED' },
  },
  403: {
    description: 'The API key is valid but its role may not do this (FORBIDDEN)',
    example: { error: 'this route needs the issuer or admin role', code: 'FORBIDDEN' },
  },
  404: {
    description: 'What the path names does not exist (or is another tenant’s)',
    example: { error: 'no such compromise event', code: 'EVENT_NOT_FOUND' },
  },
  409: {
    description: 'The state of what the path names does not allow this',
    example: { error: 'the event was retracted', code: 'EVENT_CONFLICT' },
  },
  413: {
    description: 'The body is larger than the limit (PAYLOAD_TOO_LARGE)',
    example: { error: 'request body too large', code: 'PAYLOAD_TOO_LARGE' },
  },
  414: {
    description: 'A path parameter is too long (URI_TOO_LONG)',
    example: { error: 'a path parameter is too long', code: 'URI_TOO_LONG' },
  },
  415: {
    description: 'The content type (or encoding) of the body is not accepted (UNSUPPORTED_MEDIA_TYPE)',
    example: { error: 'unsupported content type: send application/json', code: 'UNSUPPORTED_MEDIA_TYPE' },
  },
  422: {
    description: 'Understood, but refused: see the code',
    example: { error: 'no exchange rate for this currency', code: 'NO_EXCHANGE_RATE' },
  },
  429: {
    description:
      'Too many requests for this API key or address (RATE_LIMITED), or too many failed authentications (AUTH_RATE_LIMITED, with Retry-After)',
    example: { error: 'rate limit exceeded: slow down and retry later', code: 'RATE_LIMITED' },
  },
  503: {
    description:
      'A store is not reachable, full or failing over: retry (UNAVAILABLE, AUTH_UNAVAILABLE, with Retry-After)',
    example: { error: 'authentication temporarily unavailable: retry', code: 'AUTH_UNAVAILABLE' },
  },
};

const SUCCESS: Record<number, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No content' };

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The statuses the framework and the shared hooks can answer on this route. */
function frameworkStatuses(method: string, url: string, schema: FastifySchema): number[] {
  const statuses = [429];
  if (schema.security && (schema.security as unknown[]).length > 0) statuses.push(401, 403, 503);
  if (url.includes(':')) statuses.push(400, 414);
  if (schema.querystring || schema.body) statuses.push(400);
  if (BODY_METHODS.has(method)) statuses.push(400, 413, 415);
  return [...new Set(statuses)];
}

/** An operationId for a route that names none: `getIssuerHits`, `postCompromiseEventsByIdClose`. */
export function derivedOperationId(method: string, url: string): string {
  const words = url
    .split('/')
    .filter((s) => s && s !== 'v1')
    .map((s) => (s.startsWith(':') ? `by-${s.slice(1)}` : s))
    .flatMap((s) => s.split(/[^A-Za-z0-9]+/))
    .filter(Boolean);
  return [method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('');
}

/** The example a schema carries (`.meta({ example })` or the first of `examples`). */
function exampleOf(schema: unknown): unknown {
  if (!(schema instanceof z.ZodType)) return undefined;
  const meta = z.globalRegistry.get(schema) as { example?: unknown; examples?: unknown[] } | undefined;
  return meta?.example ?? meta?.examples?.[0];
}
function descriptionOf(schema: unknown): string | undefined {
  return schema instanceof z.ZodType ? z.globalRegistry.get(schema)?.description : undefined;
}

const zodTransform = createJsonSchemaTransform({});

/** The per-route transform (@fastify/swagger `transform`; a route's own `swaggerTransform` calls it too). */
export const openapiTransform: SwaggerTransform = (document) => {
  const { schema, url, route } = document;
  if (!schema || schema.hide) return zodTransform(document as Parameters<typeof zodTransform>[0]);
  const method = (Array.isArray(route.method) ? route.method[0]! : route.method).toUpperCase();
  const responses: Record<string, unknown> = { ...(schema.response as Record<string, unknown> | undefined) };
  for (const status of frameworkStatuses(method, url, schema))
    if (!(String(status) in responses)) responses[String(status)] = errorResponseSchema;
  const withAll = {
    ...schema,
    operationId: (schema as { operationId?: string }).operationId ?? derivedOperationId(method, url),
    response: responses,
  };
  const out = zodTransform({ ...document, schema: withAll } as Parameters<typeof zodTransform>[0]);
  const documented = out.schema as Record<string, unknown> & { response?: Record<string, Record<string, unknown>> };
  for (const [status, json] of Object.entries(documented.response ?? {})) {
    if ('content' in json) continue;
    const source = responses[status];
    const code = Number(status);
    const example = (source === errorResponseSchema ? ERRORS[code]?.example : undefined) ?? exampleOf(source);
    const description =
      (source === errorResponseSchema ? ERRORS[code]?.description : undefined) ??
      descriptionOf(source) ??
      SUCCESS[code] ??
      'Answer';
    documented.response![status] = {
      description,
      content: { 'application/json': { schema: json, ...(example === undefined ? {} : { example }) } },
    };
  }
  return out;
};

const zodTransformObject = createJsonSchemaTransformObject({});

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every `$ref` under a value. */
function refsIn(value: unknown, found: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const v of value) refsIn(v, found);
  else if (isObject(value))
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') found.add(v.replace('#/components/schemas/', ''));
      else refsIn(v, found);
    }
  return found;
}

/**
 * The document-wide transform (@fastify/swagger `transformObject`), once the paths are built: the
 * named schemas under components (only those the document uses), and an example on every media
 * type whose schema is a named one (the schema's own; a request body's `<id>Input` takes `<id>`'s).
 */
export const openapiTransformObject: SwaggerTransformObject = (documentObject) => {
  const document = zodTransformObject(documentObject) as Json & {
    paths?: Record<string, Record<string, Json>>;
    components?: Json & { schemas?: Record<string, Json> };
  };
  const schemas = document.components?.schemas ?? {};
  const exampleOfComponent = (name: string): unknown => {
    for (const candidate of [name, name.replace(/Input$/, '')]) {
      const c = schemas[candidate];
      if (c && 'example' in c) return c.example;
      if (c && Array.isArray(c.examples)) return c.examples[0];
    }
    return undefined;
  };
  const withExamples = (content: unknown) => {
    if (!isObject(content)) return;
    for (const media of Object.values(content)) {
      if (!isObject(media) || 'example' in media || 'examples' in media || !isObject(media.schema)) continue;
      const ref = media.schema.$ref;
      const example =
        typeof ref === 'string' ? exampleOfComponent(ref.replace('#/components/schemas/', '')) : media.schema.example;
      if (example !== undefined) media.example = example;
    }
  };
  for (const operations of Object.values(document.paths ?? {}))
    for (const operation of Object.values(operations)) {
      if (!isObject(operation)) continue;
      if (isObject(operation.requestBody)) withExamples(operation.requestBody.content);
      if (isObject(operation.responses))
        for (const r of Object.values(operation.responses)) if (isObject(r)) withExamples(r.content);
    }
  // Only the schemas the paths use, directly or through another schema.
  const used = refsIn(document.paths, new Set());
  for (let grew = true; grew;) {
    grew = false;
    for (const name of [...used])
      for (const ref of refsIn(schemas[name], new Set()))
        if (!used.has(ref)) {
          used.add(ref);
          grew = true;
        }
  }
  if (document.components?.schemas)
    document.components.schemas = Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name)));
  return document;
};
