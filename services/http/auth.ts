// Bearer API keys. 401: no key or an unknown/revoked key; 403: a valid key of the wrong role;
// 429: too many failed authentications from the client's address (an IPv6 client's /64).
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { AuthUnavailable, type ApiKeyAuthenticator, type Principal, type Role } from '../auth/api-keys.ts';
import { HttpError } from './errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    requireRole(...roles: Role[]): onRequestHookHandler;
  }
}

// The scheme's name is case-insensitive (RFC 9110, 11.1).
const BEARER = /^Bearer ([A-Za-z0-9_-]{8,200})$/i;

export const authPlugin = fp(
  async (app: FastifyInstance, opts: { authenticator: ApiKeyAuthenticator }) => {
    app.decorateRequest('principal', null);
    app.decorate('requireRole', (...roles: Role[]) => {
      return async (request: FastifyRequest) => {
        const match = BEARER.exec(request.headers.authorization ?? '');
        let principal: Principal | null;
        try {
          // A missing or malformed key is a failed authentication too: it counts against the client's
          // address (an IPv6 client's /64: the authenticator normalises it, once a key is not cached).
          principal = await opts.authenticator.authenticate(match?.[1], request.ip);
        } catch (error) {
          // AuthRateLimited (429) and AuthUnavailable (503) are answered by the error mapping (errors.ts).
          if (error instanceof AuthUnavailable)
            request.log.warn('API key store unavailable: cannot check an uncached key');
          throw error;
        }
        if (!principal)
          throw new HttpError('UNAUTHENTICATED', 'missing or invalid API key', {
            headers: { 'www-authenticate': 'Bearer' },
          });
        if (!roles.includes(principal.role))
          throw new HttpError('FORBIDDEN', `this route needs the ${roles.join(' or ')} role`);
        request.principal = principal;
      };
    });
  },
  { name: 'leakguard-auth' },
);
