// POST /v1/transactions/{transactionId}/outcome: what happened after the decision.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { OccurredBeforeTransactionError, OccurredInFutureError, type Engine } from '../../core/engine.ts';
import { errorResponseSchema } from '../../core/errors.ts';
import { WithdrawalBeforeOutcomeError } from '../../core/velocity.ts';
import { misspeltFieldRefusal } from '../../core/misspelt-fields.ts';
import { OUTCOMES, outcomeRequestSchema, transactionIdSchema } from '../../core/schemas.ts';
import { chargebackKind, knownReasonCode } from '../../core/chargebacks.ts';
import type { Metrics } from '../../metrics.ts';
import { HttpError } from '../errors.ts';
import { retryAfterSeconds } from '../../adapters/store-unavailable.ts';
import { withDeadline } from '../../core/deadline.ts';
import { LeakguardError } from '../../core/errors.ts';

/**
 * How long an outcome may wait for its stores (Redis, the archive): a stalled Redis (a frozen
 * process, a dead link the kernel has not noticed) answered nothing for over a minute. Past it the
 * merchant gets 503 and retries; the command still in flight may complete meanwhile, and then the
 * retry is answered already_recorded: an outcome is recorded once per kind.
 */
export const OUTCOME_DEADLINE_MS = 2_000;
class OutcomeDeadlineExceeded extends LeakguardError {
  constructor() {
    super('UNAVAILABLE', `the outcome store did not answer within ${OUTCOME_DEADLINE_MS} ms`);
  }
}
const lateOutcome = () => new OutcomeDeadlineExceeded();

const outcomeResponseSchema = z
  .object({
    transactionId: z.string(),
    outcome: z.enum(OUTCOMES),
    status: z.enum(['recorded', 'already_recorded']),
    chargeback: z
      .enum(['fraud', 'dispute'])
      .optional()
      .describe(
        'Only for a chargeback: how its reason code counts. fraud: the holder did not make the transaction; it counts against the card and the other entities, labels the transaction as fraud and feeds breach discovery. dispute: the holder disputes a transaction they made (goods not received, not as described, duplicate, cancelled recurring, credit not processed: Visa 11.2, 11.3, 12.x and 13.x, Mastercard 4808, 4812, 4831, 4834, 4841, 4842, 4846, 4853-4855, 4859, 4860, American Express C, P, R and M codes and A01, A02, A08, Discover AP, AW, CD, DA, NA, DP, EX, LP, RG, RM, RN2; a network name before the code and other separators than dots are read: Visa 13-1 is 13.1); kept, counted nowhere. A code not known counts as fraud (and is counted: leakguard_chargeback_reason_codes_unknown_total).',
      ),
  })
  .meta({
    id: 'OutcomeResponse',
    example: { transactionId: 'order-1001', outcome: 'chargeback', status: 'recorded', chargeback: 'fraud' },
  });

export const outcomeRoutes: FastifyPluginAsyncZod<{ engine: Engine; metrics: Metrics }> = async (
  app,
  { engine, metrics },
) => {
  app.post(
    '/v1/transactions/:transactionId/outcome',
    {
      onRequest: app.requireRole('merchant'),
      // A field under a near miss of its name (occured_at) is refused, not dropped: the outcome
      // would be recorded without it, and a corrected report then answered already_recorded.
      preValidation: async (request) => {
        const refusal = misspeltFieldRefusal(request.body, outcomeRequestSchema);
        if (refusal) throw refusal;
      },
      schema: {
        operationId: 'reportOutcome',
        summary: 'Report the outcome of a scored transaction',
        description:
          "Declines and fraud chargebacks feed the per-card and per-entity counters; challenge_failed (the 3-D Secure step-up Leakguard asked for failed, was refused or abandoned) counts against the card (card_challenge_failures_*); a fraud chargeback also labels the transaction as fraud in the merchant's delayed windows (merchant_delayed_frauds_*). A chargeback whose reason code is a holder's dispute of a transaction they made (goods, service, processing) is kept but counted nowhere (the answer's chargeback field). Every outcome is kept for labels. chargeback_reversed (the merchant won its representment, or the issuer withdrew the chargeback) withdraws a fraud chargeback recorded before: everything it counted stops counting, for the card and every other entity, in the merchant's fraud labels and in backtests, as if it had not been reported, while both stay on the record; 409 OUTCOME_CONFLICT when the transaction has no fraud chargeback recorded (none, or a dispute, which counts nowhere), or when its occurredAt is before the chargeback's (details on occurredAt). A reversal is final: the chargeback reported again after it is already_recorded and counts nothing. Breach discovery's label of the card is taken back too. Reporting the same outcome twice changes nothing. A field sent under a near miss of a field's name (occured_at, reason_code, OccurredAt) is refused, 400 naming the field it resembles, rather than dropped unread; fields of other names are ignored. An occurredAt more than 5 minutes ahead of the engine's clock, or before the transaction's own time, is refused (400). An outcome may come months after the scoring: once the transaction's marker has gone (3 days by default) it is found in the transaction archive (180 days by default), as is a transaction answered degraded (Redis unreachable: archived uncounted); 404 for a transaction neither holds. 503 UNAVAILABLE with Retry-After when a store is down or does not answer within 2 s: retry, an outcome recorded meanwhile is answered already_recorded.",
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
          409: errorResponseSchema,
          503: errorResponseSchema,
        },
      },
    },
    async (request) => {
      const { transactionId } = request.params;
      const { outcome, reasonCode, occurredAt } = request.body;
      const at = occurredAt ? Date.parse(occurredAt) : Date.now();
      let result: Awaited<ReturnType<Engine['recordOutcome']>>;
      try {
        result = await withDeadline(
          engine.recordOutcome(request.principal!.merchantId!, transactionId, outcome, at, reasonCode),
          OUTCOME_DEADLINE_MS,
          lateOutcome,
        );
      } catch (error) {
        if (
          error instanceof OccurredInFutureError ||
          error instanceof OccurredBeforeTransactionError ||
          error instanceof WithdrawalBeforeOutcomeError
        )
          throw error;
        // Never acknowledge what was not stored: the merchant retries.
        const late = error instanceof OutcomeDeadlineExceeded;
        request.log.warn(
          { err: error },
          late ? 'outcome not answered in time: store stalled' : 'outcome not recorded: store unavailable',
        );
        throw new HttpError(
          'UNAVAILABLE',
          late ? 'outcome store did not answer in time: retry' : 'outcome store unavailable: retry',
          {
            headers: { 'retry-after': String(retryAfterSeconds(error)) },
          },
        );
      }
      if (outcome === 'chargeback' && result === 'recorded' && !knownReasonCode(reasonCode))
        metrics.chargebackReasonCodesUnknown.inc();
      if (result === 'unknown')
        throw new HttpError(
          'TRANSACTION_NOT_FOUND',
          'no transaction with this id is known for your merchant: never scored, scored longer ago than the marker and the transaction archive keep it, or answered degraded (velocity store unavailable) where no transaction archive records such scorings',
        );
      if (result === 'absent')
        throw new HttpError(
          'OUTCOME_CONFLICT',
          'no fraud chargeback is recorded for this transaction: nothing to reverse (a chargeback with a dispute reason code counts nowhere)',
        );
      return {
        transactionId,
        outcome,
        status: result === 'recorded' ? ('recorded' as const) : ('already_recorded' as const),
        ...(outcome === 'chargeback' ? { chargeback: chargebackKind(reasonCode) } : {}),
      };
    },
  );
};
