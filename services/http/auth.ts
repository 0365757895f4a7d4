// Bearer API keys. 401: no key or an unknown/revoked key; 403: a valid key of the wrong role;
// 429: too many failed authentications from the client's address.
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import {
  AuthRateLimited,
  AuthUnavailable,
  type ApiKeyAuthenticator,
  type Principal,
  type Role,
} from '../auth/api-keys.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    requireRole(...roles: Role[]): onRequestHookHandler;
  }
}

const BEARER = /^Bearer ([A-Za-z0-9_-]{8,200})$/;

export const authPlugin = fp(
  async (app: FastifyInstance, opts: { authenticator: ApiKeyAuthenticator }) => {
    app.decorateRequest('principal', null);
    app.decorate('requireRole', (...roles: Role[]) => {
      return async (request: FastifyRequest, reply: FastifyReply) => {
        const match = BEARER.exec(request.headers.authorization ?? '');
        let principal: Principal | null = null;
        try {
          // A missing or malformed key is a failed authentication too: it counts against the address.
          principal = await opts.authenticator.authenticate(match?.[1], request.ip);
        } catch (error) {
          if (error instanceof AuthRateLimited) {
            return reply
              .code(429)
              .header('retry-after', String(error.retryAfterSeconds))
              .send({
                error: 'too many failed authentications from your address: retry later',
                details: [
                  {
                    path: 'headers.authorization',
                    message: `more than ${error.limit} missing or invalid API keys in a minute; retry after ${error.retryAfterSeconds} s`,
                  },
                ],
              });
          }
          if (!(error instanceof AuthUnavailable)) throw error;
          request.log.warn('API key store unavailable: cannot check an uncached key');
          return reply
            .code(503)
            .header('retry-after', '1')
            .send({ error: 'authentication temporarily unavailable: retry' });
        }
        if (!principal) {
          reply.header('www-authenticate', 'Bearer');
          return reply.code(401).send({ error: 'missing or invalid API key' });
        }
        if (!roles.includes(principal.role))
          return reply.code(403).send({ error: `this route needs the ${roles.join(' or ')} role` });
        request.principal = principal;
      };
    });
  },
  { name: 'leakguard-auth' },
);
