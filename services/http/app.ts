// The HTTP door. Each concern is a plugin of its own (auth, scoring, outcomes, operations);
// the app only wires them together with the shared error handling and OpenAPI generation.
import { createHash } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
} from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiKeyAuthenticator } from '../auth/api-keys.ts';
import type { Engine } from '../core/engine.ts';
import { ENGINE_VERSION } from '../core/engine.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { consolePlugin, type ConsoleOptions } from '../console/plugin.ts';
import type { RedisClient } from '../adapters/redis/connection.ts';
import { RATE_LIMIT_NAMESPACE, redisRateLimitStore } from '../adapters/redis/rate-limit-store.ts';
import type { AccessConfig } from './access.ts';
import { authPlugin } from './auth.ts';
import { bodyEncodingRefusal } from './body-encoding.ts';
import { addressKey } from '../auth/client-address.ts';
import { clientErrorHandler, frameworkError, HttpError, registerErrorHandling, REQUEST_ID_HEADER } from './errors.ts';
import { openapiTransform, openapiTransformObject } from './openapi.ts';
import { outcomeRoutes } from './routes/outcome.ts';
import { operationsRoutes, type MetricsAccess, type OperationsOptions } from './routes/operations.ts';
import { scoreRoutes } from './routes/score.ts';
import { watchlistRoutes, type WatchlistRouteOptions } from './routes/watchlist.ts';
import { cardLookupRoutes } from './routes/card-lookup.ts';
import { breachRoutes, type BreachRouteOptions } from './routes/breach.ts';
import { webhookRoutes, type WebhookRouteOptions } from './routes/webhooks.ts';
import { rateLimitUncheckedReporter } from '../rate-limit-unchecked.ts';
import { duplicateKeyPath } from '../core/json-duplicates.ts';

/**
 * Swagger UI's policy at /docs: scripts, stylesheets and the spec from here only, no inline script;
 * images also as data: URLs (its CSS icons). Its bundle (@fastify/swagger-ui 6.1.3) inserts one
 * constant <style> element: allowed by its hash alone (test/browser/docs.test.ts fails if an
 * upgrade needs another). And sandboxed: the page runs script, and shares its origin with the
 * console, so it gets an opaque origin of its own (no allow-same-origin) whose script cannot read
 * a console page with the analyst's cookie; it reads the spec through CORS (DOCS_SPEC_PATHS).
 */
export const DOCS_CSP =
  "default-src 'self'; script-src 'self'; script-src-attr 'none'; style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; sandbox allow-scripts allow-popups";

/** The spec as the sandboxed /docs page fetches it (from an opaque origin: a CORS request); public, like /openapi.json. */
const DOCS_SPEC_PATHS = new Set(['/docs/json', '/docs/yaml']);

export interface AppDependencies {
  engine: Engine;
  authenticator: ApiKeyAuthenticator;
  metrics: Metrics;
  logger: Logger;
  readiness: OperationsOptions['readiness'];
  rulesets: OperationsOptions['rulesets'];
  rates: OperationsOptions['rates'];
  models?: OperationsOptions['models'];
  bodyLimitBytes: number;
  /** Requests per minute per API key (LEAKGUARD_RATE_LIMIT_PER_MINUTE). */
  rateLimitPerMinute: number;
  /**
   * Requests per minute without an API key (LEAKGUARD_RATE_LIMIT_WITHOUT_KEY_PER_MINUTE): the
   * console, per signed-in account, else per client address. /healthz, /readyz and /metrics are
   * not limited.
   */
  rateLimitWithoutKeyPerMinute: number;
  /**
   * With Redis (REDIS_URL or REDIS_CLUSTER_NODES): the per-key rate limit is counted there, one
   * limit across every engine. Without: counted in this process.
   */
  redis?: RedisClient;
  /**
   * How long a request waits for the shared rate-limit counter before going through uncounted
   * (default: rateLimitWaitMs of the scoring deadline).
   */
  rateLimitTimeoutMs?: number;
  watchlist: Omit<WatchlistRouteOptions, 'metrics'>;
  /** Breach discovery's scan (runtime.breach.scan); absent when LEAKGUARD_CPP=off. */
  cppScan?: BreachRouteOptions['scan'];
  /** Webhook subscriptions (issuer and merchant keys): the service once the database is open; absent: the routes answer 503. */
  webhooks?: WebhookRouteOptions['service'];
  /** The analyst console under /console (server-rendered HTML); absent: no console. */
  console?: ConsoleOptions;
  /** Who may scrape /metrics: the token (LEAKGUARD_METRICS_TOKEN), else loopback only, and never in production. */
  metricsAccess: MetricsAccess;
  /** Whose X-Forwarded-For makes request.ip (LEAKGUARD_TRUST_PROXY): nobody's unless configured. */
  trustProxy?: AccessConfig['trustProxy'];
  /** NODE_ENV=production: every answer carries Strict-Transport-Security (TLS is terminated in front of the engine). */
  production?: boolean;
}

/**
 * HSTS: browsers that met the engine over https keep to https for two years, subdomains included
 * (a cookie-stealing downgrade is then refused by the browser itself). Sent in production, and on
 * any answer to a request that came over https (request.protocol: X-Forwarded-Proto from a trusted
 * proxy, LEAKGUARD_TRUST_PROXY). Browsers ignore it over plain http, so it never locks out development.
 */
export const HSTS = 'max-age=63072000; includeSubDomains';

const isJson = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

/** A route without a body schema, or one whose schema takes an absent body. */
const acceptsNoBody = (schema: unknown) =>
  schema === undefined || (schema instanceof z.ZodType && schema.safeParse(undefined).success);

/** A signed-in console account's rate-limit key. */
const consoleAccountKey = (username: string) =>
  `console:${createHash('sha256').update(username).digest('base64url').slice(0, 22)}`;

/**
 * How long a request waits for the shared rate-limit counter: half the scoring deadline (25 ms of
 * the default 50), at most 100 ms. A scoring's deadline runs from its request's arrival, so the
 * wait comes out of the store's budget and the answer still leaves in time; only the request that
 * takes a lease waits for one. Not less: a lease call 10 ms late is ordinary on a loaded Redis, and
 * each one passes requests uncounted (leakguard_rate_limit_unchecked_total, alerted).
 */
export const rateLimitWaitMs = (deadlineMs: number) => Math.min(100, Math.max(1, Math.floor(deadlineMs / 2)));

export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // One log line per request costs more than scoring it; errors are logged where they happen.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimitBytes,
    // Request ids are ours, never taken from a header a client controls; every answer carries its id (x-request-id).
    genReqId: () => crypto.randomUUID(),
    // The client address (login and API rate limits, lockout, metrics) comes from a forwarded
    // header only behind proxies named in the configuration.
    trustProxy: (deps.trustProxy ?? false) as FastifyServerOptions['trustProxy'],
    // Refusals the router makes before any route: Fastify's own answers quote the request's path,
    // and a path may hold a card number (found by the property tests, test/http/parsers.property.test.ts).
    frameworkErrors: frameworkError,
    clientErrorHandler,
    // `/console/queue/` is `/console/queue`, `/v1/webhooks/` is `/v1/webhooks` (a link or a client's
    // base URL with a slash too many answered 404).
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);
  // JSON only, unless a route says otherwise: a text body would otherwise reach validation as a string.
  app.removeContentTypeParser('text/plain');
  // An empty JSON body is no body, where a route takes none or its body is optional (clients send
  // `content-type: application/json` on every call); elsewhere it stays MALFORMED_BODY. Anything
  // else goes to Fastify's own parser (secure-json-parse: prototype keys refused).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const refused = bodyEncodingRefusal(request.headers);
    if (refused) {
      done(
        new HttpError(
          'UNSUPPORTED_MEDIA_TYPE',
          refused === 'charset'
            ? 'send the body in UTF-8 (charset=utf-8, or none)'
            : 'compressed bodies are refused: send plain JSON (no content-encoding)',
        ),
      );
      return;
    }
    if (body === '' && acceptsNoBody(request.routeOptions.schema?.body)) {
      done(null, undefined);
      return;
    }
    // Fastify's parser answers through `done` (its type allows a promise too: nothing to await).
    void parseJson(request, body as string, (error, value) => {
      // Its refusal of a prototype key says "not valid JSON" of valid JSON: say why instead.
      if (error && isJson(body as string))
        done(
          new HttpError('MALFORMED_BODY', 'request body holds a "__proto__" or "constructor.prototype" key: refused'),
        );
      else if (error) done(error, value);
      else {
        const duplicate = duplicateKeyPath(body as string);
        if (duplicate === undefined) done(null, value);
        else
          done(
            new HttpError('MALFORMED_BODY', 'request body names a key twice', {
              details: [{ path: duplicate, message: 'this key appears more than once in its object' }],
            }),
          );
      }
    });
  });

  app.addHook('onSend', async (request, reply) => {
    // Every answer (API and console, success and error) names its request: the id in our logs.
    reply.header(REQUEST_ID_HEADER, request.id);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', 'no-store');
    if (deps.production || request.protocol === 'https') reply.header('strict-transport-security', HSTS);
  });
  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.requestDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Leakguard API',
        version: ENGINE_VERSION,
        description: 'Catches the use of cards leaked in merchant and processor breaches.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key' } } },
    },
    transform: openapiTransform,
    transformObject: openapiTransformObject,
  });
  // Swagger UI loads its scripts, styles and the spec from here and uses no inline script or style
  // (its csp.json lists no hashes; validatorUrl is null): a strict policy, no framing (clickjacking).
  await app.register(async (docs) => {
    docs.addHook('onSend', async (request, reply) => {
      reply.header('x-frame-options', 'DENY');
      reply.header('referrer-policy', 'no-referrer');
      // No credentials: the spec is public, and nothing else under /docs is readable from its page.
      if (DOCS_SPEC_PATHS.has(request.url.split('?', 1)[0]!)) reply.header('access-control-allow-origin', '*');
    });
    await docs.register(swaggerUi, {
      routePrefix: '/docs',
      staticCSP: DOCS_CSP,
      // "Try it out" would call the API from the sandbox's opaque origin, which the API does not
      // answer with CORS (a bearer key belongs in curl or a client, not a page): not offered.
      uiConfig: { supportedSubmitMethods: [] },
    });
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(authPlugin, { authenticator: deps.authenticator });
  await app.register(rateLimit, {
    // preHandler: after authentication, so that the limit is per API key.
    hook: 'preHandler',
    // A key's requests have its limit; the others (the console) one of their own: a per-merchant
    // limit would throttle analysts (and a NAT's worth of them on one address).
    max: (request) => (request.principal ? deps.rateLimitPerMinute : deps.rateLimitWithoutKeyPerMinute),
    timeWindow: 60_000,
    // A route without a key counts per signed-in console account (the route's session guard runs
    // before this hook; the name hashed, not written to Redis), else per client address, an IPv6
    // client by its /64 (client-address.ts). Health checks, readiness and metrics are not limited
    // (their routes: config.rateLimit false).
    keyGenerator: (request) =>
      request.principal?.keyId ??
      (request.consoleSession ? consoleAccountKey(request.consoleSession.username) : addressKey(request.ip)),
    // Shared by every engine when Redis is there. A Redis that fails or is slow lets the request
    // through uncounted: the rate limit must never be what stops scoring.
    ...(deps.redis
      ? {
          store: redisRateLimitStore(deps.redis, {
            nameSpace: RATE_LIMIT_NAMESPACE,
            timeoutMs: deps.rateLimitTimeoutMs ?? rateLimitWaitMs(deps.engine.deadlineMs),
            onUnchecked: rateLimitUncheckedReporter(deps.metrics, deps.logger, 'api'),
          }),
          skipOnError: true,
        }
      : {}),
  });

  await app.register(scoreRoutes, { engine: deps.engine, metrics: deps.metrics });
  await app.register(outcomeRoutes, { engine: deps.engine, metrics: deps.metrics });
  await app.register(watchlistRoutes, { ...deps.watchlist, metrics: deps.metrics });
  await app.register(cardLookupRoutes, { store: deps.watchlist.store, keyring: deps.watchlist.keyring });
  await app.register(breachRoutes, { scan: deps.cppScan, store: deps.watchlist.store });
  await app.register(webhookRoutes, { service: deps.webhooks ?? (() => undefined) });
  await app.register(operationsRoutes, {
    metrics: deps.metrics,
    metricsAccess: deps.metricsAccess,
    readiness: deps.readiness,
    rulesets: deps.rulesets,
    rates: deps.rates,
    models: deps.models,
  });
  if (deps.console) await app.register(consolePlugin, { ...deps.console, prefix: '/console' });
  return app;
}
