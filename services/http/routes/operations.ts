// Health, readiness, metrics and ruleset administration.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Metrics } from '../../metrics.ts';
import type { RulesetFile } from '../../adapters/files/ruleset-file.ts';
import { errorResponseSchema } from '../../core/schemas.ts';

export interface OperationsOptions {
  metrics: Metrics;
  /** Each dependency's reachability; the process is ready when all are. */
  readiness: () => Promise<Record<string, boolean>>;
  rulesets: Pick<RulesetFile, 'ruleset' | 'reload'>;
}

const rulesetInfo = z.object({ version: z.string(), rules: z.number(), merchantOverrides: z.number() });

export const operationsRoutes: FastifyPluginAsyncZod<OperationsOptions> = async (app, { metrics, readiness, rulesets }) => {
  app.get('/healthz', { schema: { tags: ['operations'], summary: 'The process is up', response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', {
    schema: { tags: ['operations'], summary: 'Every dependency is reachable', response: { 200: z.object({ status: z.string(), checks: z.record(z.string(), z.string()) }), 503: z.object({ status: z.string(), checks: z.record(z.string(), z.string()) }) } },
  }, async (_request, reply) => {
    const results = await readiness();
    const checks = Object.fromEntries(Object.entries(results).map(([k, ok]) => [k, ok ? 'ok' : 'unreachable']));
    const ready = Object.values(results).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });

  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics', hide: true } }, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  const describe = () => {
    const r = rulesets.ruleset;
    return { version: r.version, rules: r.rules.length, merchantOverrides: Object.keys(r.merchants).length };
  };
  app.get('/v1/admin/ruleset', {
    onRequest: app.requireRole('admin'),
    schema: { tags: ['administration'], summary: 'The ruleset in force', security: [{ bearer: [] }], response: { 200: rulesetInfo, 401: errorResponseSchema, 403: errorResponseSchema } },
  }, async () => describe());

  app.post('/v1/admin/ruleset/reload', {
    onRequest: app.requireRole('admin'),
    schema: {
      tags: ['administration'], summary: 'Re-read the ruleset file now (it is also re-read when it changes)', security: [{ bearer: [] }],
      response: { 200: rulesetInfo, 401: errorResponseSchema, 403: errorResponseSchema, 422: errorResponseSchema },
    },
  }, async (_request, reply) => {
    const result = rulesets.reload();
    if (!result.ok) return reply.code(422).send({ error: `ruleset refused, the previous one stays in force: ${result.error}` });
    return describe();
  });
};
