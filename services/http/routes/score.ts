// POST /v1/score: the merchant's door to the engine.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Engine, ScoreResult } from '../../core/engine.ts';
import { errorResponseSchema } from '../../core/errors.ts';
import { scoreRequestSchema, scoreResponseSchema, securityCodeRefusal } from '../../core/schemas.ts';
import { HttpError } from '../errors.ts';

export const scoreRoutes: FastifyPluginAsyncZod<{ engine: Engine }> = async (app, { engine }) => {
  app.post(
    '/v1/score',
    {
      onRequest: app.requireRole('merchant'),
      // A security code anywhere in the body is refused (400 naming the field), not dropped unread
      // with the fields the schema does not define.
      preValidation: async (request) => {
        const refusal = securityCodeRefusal(request.body, scoreRequestSchema);
        if (refusal) throw refusal;
      },
      // The engine builds the response to the schema already: serialise it without re-validating it.
      serializerCompiler: () => (data) => JSON.stringify(data),
      schema: {
        operationId: 'scoreTransaction',
        summary: 'Score a card transaction at checkout',
        description:
          'Returns a 0-100 risk score, a decision and the reasons for it. The card number is reduced to a keyed fingerprint, BIN and last 4 on arrival and never stored. The same transactionId with the same payload returns the stored response (stored 24 hours by default) and counts nothing again.',
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
    async (request) => {
      // A currency the rate table lacks throws UnknownRateError: 422 NO_EXCHANGE_RATE (errors.ts), nothing counted.
      const result: ScoreResult = await engine.score(request.principal!.merchantId!, request.body);
      if (result.kind === 'conflict')
        throw new HttpError('TRANSACTION_CONFLICT', 'transactionId was already scored with a different payload');
      return result.response;
    },
  );
};
