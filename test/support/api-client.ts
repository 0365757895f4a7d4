// The API through a client generated from its OpenAPI document: openapi-fetch typed by
// test/support/api-types.ts (npm run openapi:types), its requests answered by the app in process
// (Fastify's inject), so that a test written against the contract compiles only while the contract holds.
import type { FastifyInstance } from 'fastify';
import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './api-types.ts';

export type ApiClient = Client<paths>;

/** A typed client of the app, authenticated with an API key (none: anonymous). */
export function apiClient(app: FastifyInstance, key?: string): ApiClient {
  return createClient<paths>({
    baseUrl: 'http://leakguard.test',
    headers: key ? { authorization: `Bearer ${key}` } : {},
    fetch: async (request: Request) => {
      const url = new URL(request.url);
      const headers: Record<string, string> = {};
      request.headers.forEach((value, name) => (headers[name] = value));
      const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
      const res = await app.inject({
        method: request.method as 'GET',
        url: `${url.pathname}${url.search}`,
        headers,
        ...(body ? { payload: body } : {}),
      });
      const answer = new Headers();
      for (const [name, value] of Object.entries(res.headers))
        if (value !== undefined) answer.set(name, Array.isArray(value) ? value.join(', ') : String(value));
      return new Response(res.statusCode === 204 ? null : new Uint8Array(res.rawPayload), {
        status: res.statusCode,
        headers: answer,
      });
    },
  });
}
