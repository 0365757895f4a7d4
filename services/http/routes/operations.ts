// Health, readiness, metrics, ruleset, exchange-rate table and model administration.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Metrics } from '../../metrics.ts';
import type { RulesetFile } from '../../adapters/files/ruleset-file.ts';
import { rulesetVersion } from '../../core/rules.ts';
import type { RatesFile } from '../../adapters/files/rates-file.ts';
import type { ReloadResult } from '../../adapters/files/watched-file.ts';
import type { ModelFile } from '../../adapters/files/model-file.ts';
import { errorResponseSchema, type ErrorCode } from '../../core/errors.ts';
import { metricsRefusal, type MetricsAccess } from '../access.ts';
import { HttpError } from '../errors.ts';

export type { MetricsAccess } from '../access.ts';

export interface OperationsOptions {
  metrics: Metrics;
  metricsAccess: MetricsAccess;
  /** Each dependency's reachability; the process is ready when all are. */
  readiness: () => Promise<Record<string, boolean>>;
  rulesets: Pick<RulesetFile, 'ruleset' | 'reload' | 'lastReload'>;
  rates: Pick<RatesFile, 'rates' | 'reload' | 'lastReload'>;
  /** Absent when no model is configured (LEAKGUARD_MODEL). */
  models?: Pick<ModelFile, 'model' | 'reload' | 'lastReload'> | undefined;
}

const lastReload = z
  .object({
    at: z.string(),
    ok: z.boolean(),
    version: z.string().optional().meta({ description: 'The version loaded (ok)' }),
    warning: z.string().optional().meta({
      description: 'Loaded, with something to know (ok): a ruleset whose rules changed under the same version',
    }),
    error: z.string().optional().meta({ description: 'Why the file was refused (not ok)' }),
  })
  .meta({
    id: 'ReloadOutcome',
    description:
      'The last reload since start-up (null: none). Not ok: the file on disk was refused, the version above stays in force, and the next start-up would fail on that file',
    example: { at: '2026-11-20T10:00:00.000Z', ok: false, error: 'invalid model artifact: forest.nTrees: ...' },
  })
  .nullable();

const modelInfo = z
  .object({
    version: z.string(),
    amountReference: z
      .string()
      .meta({ description: "The currency the model reads amounts in: always the rate table's reference" }),
    featureSet: z.object({ name: z.string(), version: z.number(), features: z.array(z.string()) }),
    createdAt: z.string(),
    trees: z.number(),
    training: z.object({
      from: z.string(),
      to: z.string(),
      rows: z.number(),
      frauds: z.number(),
      fingerprint: z.string(),
      labels: z.string().optional().meta({
        description:
          "What the forest learnt as fraud, as its training said it (a deployment's recorded labels, the simulator's truth or its chargebacks by a cut-off); absent in artifacts from before it was kept",
      }),
    }),
    metrics: z.record(z.string(), z.unknown()).optional(),
    lastReload,
  })
  .meta({
    id: 'ModelInfo',
    example: {
      version: 'rf-2026-11-01',
      amountReference: 'EUR',
      featureSet: { name: 'engine', version: 3, features: ['card_listed', 'amount_eur'] },
      createdAt: '2026-11-01T00:00:00.000Z',
      trees: 200,
      training: {
        from: '2026-08-01T00:00:00.000Z',
        to: '2026-10-31T00:00:00.000Z',
        rows: 250000,
        frauds: 1900,
        fingerprint: 'c2f1e0',
      },
      lastReload: null,
    },
  });

const rulesetInfo = z
  .object({
    version: z.string().meta({
      description: "Its declared version and its content's digest, as scoring answers name it (versions.ruleset)",
    }),
    rules: z.number(),
    merchantOverrides: z.number(),
    lastReload,
  })
  .meta({
    id: 'RulesetInfo',
    example: { version: '2026-11-01+3f9a1c2e', rules: 31, merchantOverrides: 2, lastReload: null },
  });
const ratesInfo = z
  .object({
    version: z.string(),
    reference: z.string(),
    smallAmount: z.number(),
    currencies: z.array(z.string()),
    lastReload,
  })
  .meta({
    id: 'RatesInfo',
    example: {
      version: '2026-11-20',
      reference: 'EUR',
      smallAmount: 500,
      currencies: ['EUR', 'JPY', 'USD'],
      lastReload: null,
    },
  });
const healthSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Health', example: { status: 'ok' } });
const readinessSchema = z.object({ status: z.string(), checks: z.record(z.string(), z.string()) }).meta({
  id: 'Readiness',
  example: { status: 'ready', checks: { redis: 'ok', model: 'ok' } },
});

interface FileInForce {
  /** `ruleset`, `rates`: /v1/admin/<name> and /v1/admin/<name>/reload. */
  name: string;
  /** Its operations' names: getRuleset, reloadRuleset. */
  operation: string;
  /** What the file holds, in the summaries and the refusal: "ruleset", "rate table". */
  what: string;
  /** The code of a refused reload (422). */
  invalid: ErrorCode;
  info: z.ZodType;
  describe: () => unknown;
  reload: () => ReloadResult;
}

export const operationsRoutes: FastifyPluginAsyncZod<OperationsOptions> = async (
  app,
  { metrics, metricsAccess, readiness, rulesets, rates, models },
) => {
  /** GET the file in force, POST to re-read it now: the same two routes for every file the engine keeps in force. */
  const fileRoutes = (file: FileInForce) => {
    app.get(
      `/v1/admin/${file.name}`,
      {
        onRequest: app.requireRole('admin'),
        schema: {
          tags: ['administration'],
          operationId: `get${file.operation}`,
          summary: `The ${file.what} in force`,
          security: [{ bearer: [] }],
          response: { 200: file.info, 401: errorResponseSchema, 403: errorResponseSchema },
        },
      },
      async () => file.describe(),
    );

    app.post(
      `/v1/admin/${file.name}/reload`,
      {
        onRequest: app.requireRole('admin'),
        schema: {
          tags: ['administration'],
          operationId: `reload${file.operation}`,
          summary: `Re-read the ${file.what} file now (it is also re-read when it changes)`,
          security: [{ bearer: [] }],
          response: { 200: file.info, 401: errorResponseSchema, 403: errorResponseSchema, 422: errorResponseSchema },
        },
      },
      async () => {
        const result = file.reload();
        if (!result.ok)
          throw new HttpError(file.invalid, `${file.what} refused, the previous one stays in force: ${result.error}`, {
            ...(result.details ? { details: result.details } : {}),
          });
        return file.describe();
      },
    );
  };

  // Probes and scrapes come from the load balancer and Prometheus, often many from one address:
  // outside the API rate limit (a per-merchant limit would throttle them: targets down, not ready).
  app.get(
    '/healthz',
    {
      config: { rateLimit: false },
      schema: {
        tags: ['operations'],
        operationId: 'health',
        summary: 'The process is up',
        response: { 200: healthSchema },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { rateLimit: false },
      schema: {
        tags: ['operations'],
        operationId: 'readiness',
        summary: 'Every dependency is reachable',
        response: {
          200: readinessSchema,
          503: readinessSchema.meta({
            description: 'A dependency is not reachable',
            example: { status: 'not_ready', checks: { redis: 'unreachable', model: 'ok' } },
          }),
        },
      },
    },
    async (_request, reply) => {
      const results = await readiness();
      const checks = Object.fromEntries(Object.entries(results).map(([k, ok]) => [k, ok ? 'ok' : 'unreachable']));
      const ready = Object.values(results).every(Boolean);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
    },
  );

  // Metrics tell which compromise events are being hit and how each merchant is doing: not public.
  app.get(
    '/metrics',
    { config: { rateLimit: false }, schema: { tags: ['operations'], summary: 'Prometheus metrics', hide: true } },
    async (request, reply) => {
      // The same rule as the stream processor's /metrics (streams/metrics.ts).
      const refused = metricsRefusal(metricsAccess, { authorization: request.headers.authorization, ip: request.ip });
      if (refused) throw new HttpError(refused.code, refused.message, { headers: refused.headers });
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );

  fileRoutes({
    name: 'ruleset',
    operation: 'Ruleset',
    what: 'ruleset',
    invalid: 'RULESET_INVALID',
    info: rulesetInfo,
    reload: () => rulesets.reload(),
    describe: () => {
      const r = rulesets.ruleset;
      return {
        version: rulesetVersion(r),
        rules: r.rules.length,
        merchantOverrides: Object.keys(r.merchants).length,
        lastReload: rulesets.lastReload ?? null,
      };
    },
  });
  fileRoutes({
    name: 'rates',
    operation: 'RateTable',
    what: 'rate table',
    invalid: 'RATE_TABLE_INVALID',
    info: ratesInfo,
    reload: () => rates.reload(),
    describe: () => {
      const t = rates.rates;
      return {
        version: t.version,
        reference: t.reference,
        smallAmount: t.smallAmount,
        currencies: t.currencies,
        lastReload: rates.lastReload ?? null,
      };
    },
  });

  const describeModel = () => {
    const a = models!.model.artifact;
    const { source: _source, history: _history, ...data } = a.training.data;
    const training = { ...data, ...(a.training.target ? { labels: a.training.target.description } : {}) };
    return {
      version: a.modelVersion,
      amountReference: models!.model.amountReference,
      featureSet: a.featureSet,
      createdAt: a.createdAt,
      trees: a.forest.nTrees,
      training,
      ...(a.metrics ? { metrics: a.metrics } : {}),
      lastReload: models!.lastReload ?? null,
    };
  };
  const noModel = () =>
    new HttpError(
      'MODEL_NOT_CONFIGURED',
      'no model is configured: set LEAKGUARD_MODEL to a model artifact (npm run model -- train)',
    );
  app.get(
    '/v1/admin/model',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        tags: ['administration'],
        operationId: 'getModel',
        summary: 'The model in force, and the outcome of the last reload (a refused file stays on disk)',
        security: [{ bearer: [] }],
        response: { 200: modelInfo, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async () => {
      if (!models) throw noModel();
      return describeModel();
    },
  );

  app.post(
    '/v1/admin/model/reload',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        tags: ['administration'],
        operationId: 'reloadModel',
        summary:
          'Re-read the model artifact now (it is also re-read when the file changes); scorings in flight finish on the model they started with',
        security: [{ bearer: [] }],
        response: {
          200: modelInfo,
          401: errorResponseSchema,
          403: errorResponseSchema,
          404: errorResponseSchema,
          422: errorResponseSchema,
        },
      },
    },
    async () => {
      if (!models) throw noModel();
      const result = models.reload();
      if (!result.ok)
        throw new HttpError('MODEL_INVALID', `model refused, the previous one stays in force: ${result.error}`);
      return describeModel();
    },
  );
};
