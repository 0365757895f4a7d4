// POST /v1/score: the merchant's door to the engine.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Engine, ScoreResult } from '../../core/engine.ts';
import { errorResponseSchema } from '../../core/errors.ts';
import { misspeltFields } from '../../core/misspelt-fields.ts';
import { scoreRequestSchema, scoreResponseSchema, securityCodeRefusal } from '../../core/schemas.ts';
import { atMostEvery } from '../../log-throttle.ts';
import type { Metrics } from '../../metrics.ts';
import { HttpError } from '../errors.ts';

/** TRANSACTION_CONFLICT's words: merchants meet it re-scoring a challenged order with its 3-D Secure result. */
const CONFLICT_MESSAGE =
  "transactionId was already scored with a different payload: a retry sends the same payload; an order scored again (changed, or with a 3-D Secure result) takes a new transactionId, and after a challenge the answer's ifAuthenticated says what a successful authentication decides, with no second scoring";

/**
 * Room for the largest body the schema's maxima allow, its text in UTF-8 (3 bytes a character): 200
 * items with 200-character names, 64-character SKUs and 100-character categories are ~234 KB, both
 * addresses, the user agent and the rest ~10 KB more. The app's default limit (64 KiB) refused a
 * schema-valid basket (200 items with 120-character names: 87 KB) with 413. A larger
 * LEAKGUARD_BODY_LIMIT_BYTES applies as set.
 */
export const SCORE_BODY_BYTES = 256 * 1024;

export const scoreRoutes: FastifyPluginAsyncZod<{ engine: Engine; metrics: Metrics }> = async (
  app,
  { engine, metrics },
) => {
  // Once a minute at most: a merchant's integration sends the same near miss with every order.
  const warnMisnamed = atMostEvery(60_000);
  app.post(
    '/v1/score',
    {
      onRequest: app.requireRole('merchant'),
      bodyLimit: Math.max(app.initialConfig.bodyLimit ?? 0, SCORE_BODY_BYTES),
      // A security code anywhere in the body is refused (400 naming the field), not dropped unread
      // with the fields the schema does not define.
      preValidation: async (request) => {
        const refusal = securityCodeRefusal(request.body, scoreRequestSchema);
        if (refusal) throw refusal;
        // A field under a near miss of its name (shipping_address) is dropped unread with the
        // fields the schema does not define: scored without that signal. Not refused (a 400 would
        // stop the merchant's checkouts): counted by the field it resembles, and warned of.
        const misnamed = misspeltFields(request.body, scoreRequestSchema);
        for (const m of misnamed) metrics.misnamedFields.inc({ field: m.meant });
        if (misnamed.length > 0 && warnMisnamed())
          request.log.warn(
            {
              merchantId: request.principal?.merchantId,
              fields: misnamed.map((m) => ({ sent: m.path.join('.'), meant: m.meant })),
            },
            'a scoring request named fields by near misses of their names: dropped unread, the order scored without them',
          );
      },
      // The engine builds the response to the schema already: serialise it without re-validating it.
      serializerCompiler: () => (data) => JSON.stringify(data),
      schema: {
        operationId: 'scoreTransaction',
        summary: 'Score a card transaction at checkout',
        description:
          'Returns a 0-100 risk score, a decision and the reasons for it. The card number is reduced to a keyed fingerprint, BIN and last 4 on arrival and never stored. The same transactionId with the same payload returns the stored response (stored 24 hours by default) and counts nothing again. The body may be up to 256 KiB (room for every maximum of the schema: 200 items with 200-character names, in UTF-8), or LEAKGUARD_BODY_LIMIT_BYTES if larger; 413 above.',
        tags: ['scoring'],
        security: [{ bearer: [] }],
        body: scoreRequestSchema,
        response: {
          200: scoreResponseSchema,
          400: errorResponseSchema,
          401: errorResponseSchema,
          403: errorResponseSchema,
          409: errorResponseSchema,
          413: errorResponseSchema,
          415: errorResponseSchema,
          422: errorResponseSchema,
          429: errorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      // A currency the rate table lacks throws UnknownRateError: 422 NO_EXCHANGE_RATE (errors.ts), nothing counted.
      // The deadline runs from the request's arrival (as the latency histogram and its alert
      // measure it): the time authentication and the rate limit took is the store's less.
      const result: ScoreResult = await engine.score(
        request.principal!.merchantId!,
        request.body,
        undefined,
        reply.elapsedTime,
      );
      if (result.kind === 'conflict') throw new HttpError('TRANSACTION_CONFLICT', CONFLICT_MESSAGE);
      return result.response;
    },
  );
};
