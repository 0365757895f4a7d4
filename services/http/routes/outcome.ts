// POST /v1/transactions/{transactionId}/outcome: what happened after the decision.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { OccurredInFutureError, type Engine } from '../../core/engine.ts';
import { errorResponseSchema } from '../../core/errors.ts';
import { OUTCOMES, outcomeRequestSchema, transactionIdSchema } from '../../core/schemas.ts';
import { HttpError } from '../errors.ts';
import { retryAfterSeconds } from '../../adapters/store-unavailable.ts';

const outcomeResponseSchema = z
  .object({
    transactionId: z.string(),
    outcome: z.enum(OUTCOMES),
    status: z.enum(['recorded', 'already_recorded']),
  })
  .meta({
    id: 'OutcomeResponse',
    example: { transactionId: 'order-1001', outcome: 'chargeback', status: 'recorded' },
  });

export const outcomeRoutes: FastifyPluginAsyncZod<{ engine: Engine }> = async (app, { engine }) => {
  app.post(
    '/v1/transactions/:transactionId/outcome',
    {
      onRequest: app.requireRole('merchant'),
      schema: {
        operationId: 'reportOutcome',
        summary: 'Report the outcome of a scored transaction',
        description:
          "Declines and chargebacks feed the per-card and per-entity counters; challenge_failed (the 3-D Secure step-up Leakguard asked for failed, was refused or abandoned) counts against the card (card_challenge_failures_*); a chargeback also labels the transaction as fraud in the merchant's delayed windows (merchant_delayed_frauds_*). Every outcome is kept for labels. Reporting the same outcome twice changes nothing. An outcome may come months after the scoring: once the transaction's marker has gone (3 days by default) it is found in the transaction archive (180 days by default); 404 for a transaction neither holds.",
        tags: ['scoring'],
        security: [{ bearer: [] }],
        params: z.object({ transactionId: transactionIdSchema }),
        body: outcomeRequestSchema,
        response: {
          200: outcomeResponseSchema,
          400: errorResponseSchema,
          401: errorResponseSchema,
          403: errorResponseSchema,
          404: errorResponseSchema,
          503: errorResponseSchema,
        },
      },
    },
    async (request) => {
      const { transactionId } = request.params;
      const at = request.body.occurredAt ? Date.parse(request.body.occurredAt) : Date.now();
      let result: Awaited<ReturnType<Engine['recordOutcome']>>;
      try {
        result = await engine.recordOutcome(request.principal!.merchantId!, transactionId, request.body.outcome, at);
      } catch (error) {
        if (error instanceof OccurredInFutureError) throw error;
        // Never acknowledge what was not stored: the merchant retries.
        request.log.warn({ err: error }, 'outcome not recorded: store unavailable');
        throw new HttpError('UNAVAILABLE', 'outcome store unavailable: retry', {
          headers: { 'retry-after': String(retryAfterSeconds(error)) },
        });
      }
      if (result === 'unknown')
        throw new HttpError('TRANSACTION_NOT_FOUND', 'no transaction with this id was scored for your merchant');
      return {
        transactionId,
        outcome: request.body.outcome,
        status: result === 'recorded' ? ('recorded' as const) : ('already_recorded' as const),
      };
    },
  );
};
