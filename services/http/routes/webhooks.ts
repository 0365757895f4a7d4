// Signed webhooks (docs/webhooks.md): an issuer's key subscribes to watchlist hits on its leaked
// cards, a merchant's key to analysts' decisions on its orders. The tenant is the key's; another
// tenant's subscription is "not found". The signing secret is answered once, at creation, and a
// new one once at each rotation (the previous one signing beside it for a grace period).
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { closedObject, errorResponseSchema } from '../../core/errors.ts';
import { containsCardNumber, scrubCardNumbers } from '../../core/scrub.ts';
import type { Principal } from '../../auth/api-keys.ts';
import {
  DEFAULT_SECRET_GRACE_MS,
  DELIVERY_STATUSES,
  MAX_SECRET_GRACE_MS,
  WEBHOOK_EVENT_TYPES,
  type Delivery,
  type Subscription,
  type Tenant,
} from '../../webhooks/model.ts';
import type { Caller, WebhookService } from '../../webhooks/service.ts';
import { HttpError } from '../errors.ts';
import { limitSchema, numberCursor, pageFields } from '../pagination.ts';

export interface WebhookRouteOptions {
  /** The service once the database is open; undefined before (the routes answer 503). */
  service: () => WebhookService | undefined;
}

const CARD_NUMBER = 'must not contain a card number (12 to 19 digits passing the Luhn check, whatever separates them)';

const eventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES).meta({
  id: 'WebhookEventType',
  description: 'Issuer keys: watchlist.hit, compromise.suspected. Merchant keys: case.decided, case.decision_reversed.',
});

const newWebhookSchema = closedObject({
  url: z
    // A missing URL keeps zod's own message (expected string, received undefined).
    .url({
      protocol: /^https?$/,
      error: (issue) => (issue.input === undefined ? undefined : 'must be an http or https URL'),
    })
    .max(2048)
    .refine((v) => !containsCardNumber(v), CARD_NUMBER)
    .describe(
      'Where deliveries are POSTed. Its host must resolve to public addresses only (checked now and before every delivery) unless the operator allows private ones.',
    ),
  eventTypes: z
    .array(eventTypeSchema)
    .min(1)
    .max(WEBHOOK_EVENT_TYPES.length)
    .refine((e) => new Set(e).size === e.length, 'must not repeat an event type')
    .describe(
      'What to receive: watchlist.hit and compromise.suspected with an issuer key, case.decided and case.decision_reversed with a merchant key (a case.decided subscription is sent the reversals of the decisions it was sent).',
    ),
  description: z
    .string()
    .trim()
    .max(200)
    .transform((v) => scrubCardNumbers(v))
    .optional()
    .describe('For your own reference.'),
}).meta({
  id: 'NewWebhook',
  example: { url: 'https://hooks.bank.example/leakguard', eventTypes: ['watchlist.hit'], description: 'fraud desk' },
});

const WEBHOOK_EXAMPLE = {
  id: 'wh_3q2-7wPd0pN6kQ1sJb0eYw',
  url: 'https://hooks.bank.example/leakguard',
  eventTypes: ['watchlist.hit'],
  description: 'fraud desk',
  createdAt: '2026-12-02T10:00:00.000Z',
  previousSecretExpiresAt: null,
  createdByKeyId: 'key_3f9a1c07b2e4',
  disabledReason: null,
};
const webhookFields = {
  id: z.string(),
  url: z.string(),
  eventTypes: z.array(eventTypeSchema),
  description: z.string(),
  createdAt: z.string(),
  previousSecretExpiresAt: z
    .string()
    .nullable()
    .describe(
      'After a rotation of the signing secret: until when deliveries also carry a signature made with the previous secret (its grace period). Null: signed with the current secret only. Neither secret is ever shown here.',
    ),
  createdByKeyId: z
    .string()
    .nullable()
    .describe(
      'The id of the API key that made the subscription (as `npm run keys -- list` shows it; never the key). Null for a subscription made before this was recorded.',
    ),
  disabledReason: z
    .string()
    .nullable()
    .describe(
      'Null while the subscription is served. `creating key revoked`: the API key that made it was revoked, so nothing is fed or sent to it any more (pending deliveries are given up; re-sends are 409 WEBHOOK_DISABLED); delete it, and subscribe again with a live key if the receiver is yours. `creating key not found in the key store`: held while the key store does not hold that key.',
    ),
};
const webhookSchema = z.object(webhookFields).meta({ id: 'Webhook', example: WEBHOOK_EXAMPLE });
const createdWebhookSchema = z
  .object({
    ...webhookFields,
    secret: z
      .string()
      .describe(
        'The signing secret (whsec_…): shown this once. Verify each delivery with it (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature).',
      ),
  })
  .meta({
    id: 'CreatedWebhook',
    example: { ...WEBHOOK_EXAMPLE, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
  });
const MAX_GRACE_SECONDS = MAX_SECRET_GRACE_MS / 1000;
const DEFAULT_GRACE_SECONDS = DEFAULT_SECRET_GRACE_MS / 1000;
const rotateSecretSchema = closedObject({
  gracePeriodSeconds: z
    .number()
    .int('must be a whole number of seconds')
    .min(0, 'must be 0 or more')
    .max(MAX_GRACE_SECONDS, `must be at most ${MAX_GRACE_SECONDS} (7 days)`)
    .default(DEFAULT_GRACE_SECONDS)
    .describe(
      `How long deliveries also carry a signature made with the current secret, beside the new one: 0 to ${MAX_GRACE_SECONDS} seconds (7 days), ${DEFAULT_GRACE_SECONDS} (24 hours) unless given. 0 drops it at once.`,
    ),
})
  .default({ gracePeriodSeconds: DEFAULT_GRACE_SECONDS })
  .meta({ id: 'RotateWebhookSecret', example: { gracePeriodSeconds: 3600 } });
const rotatedWebhookSchema = z
  .object({
    ...webhookFields,
    secret: z
      .string()
      .describe(
        'The new signing secret (whsec_…): shown this once. Deliveries carry its signature first, then, until previousSecretExpiresAt, the previous secret’s, in the one webhook-signature header.',
      ),
  })
  .meta({
    id: 'RotatedWebhook',
    example: {
      ...WEBHOOK_EXAMPLE,
      previousSecretExpiresAt: '2026-12-03T09:00:00.000Z',
      secret: 'whsec_1Tq9c2pVw0yG0wq3r7XyL3ZkS2mV6hB4tR8nD5fJ',
    },
  });
const webhookPageSchema = z
  .object({ webhooks: z.array(webhookSchema), ...pageFields })
  .meta({ id: 'WebhookPage', example: { webhooks: [WEBHOOK_EXAMPLE], has_more: false, next: null } });
const deletedSchema = z
  .object({ id: z.string(), deleted: z.literal(true) })
  .meta({ id: 'DeletedWebhook', example: { id: WEBHOOK_EXAMPLE.id, deleted: true } });

const ATTEMPT_EXAMPLE = {
  at: '2026-12-02T10:00:01.120Z',
  durationMs: 84,
  statusCode: 503,
  error: 'receiver answered 503',
};
const DELIVERY_EXAMPLE = {
  id: 'dlv_Qm9yZ2V0IGl0LCBpdCdzIGE',
  messageId: 'msg_c2lnbmVkIHdlYmhvb2tzIQ',
  eventType: 'watchlist.hit',
  status: 'pending',
  occurredAt: '2026-12-02T10:00:00.512Z',
  createdAt: '2026-12-02T10:00:01.010Z',
  nextAttemptAt: '2026-12-02T10:00:06.120Z',
  waitingBehind: null,
  completedAt: null,
  resendOf: null,
  data: {
    merchantId: 'shop-7',
    transactionId: 'order-1001',
    at: '2026-12-02T10:00:00.512Z',
    recordedAt: '2026-12-02T10:00:00.530Z',
    amount: 1999,
    currency: 'EUR',
    decision: 'challenge',
    score: 62,
    card: { bin: '411111', last4: '1111' },
    eventIds: ['ce_1'],
  },
  attempts: [ATTEMPT_EXAMPLE],
};
const attemptSchema = z
  .object({
    at: z.string(),
    durationMs: z.number(),
    statusCode: z.number().nullable().describe('The receiver’s status; null when it did not answer.'),
    error: z.string().nullable().describe('Why the attempt failed (null when delivered).'),
  })
  .meta({ id: 'WebhookAttempt', example: ATTEMPT_EXAMPLE });
const deliverySchema = z
  .object({
    id: z.string(),
    messageId: z.string().describe('The webhook-id header: the same on every attempt and on a re-send.'),
    eventType: eventTypeSchema,
    status: z.enum(DELIVERY_STATUSES),
    occurredAt: z.string(),
    createdAt: z.string(),
    nextAttemptAt: z
      .string()
      .nullable()
      .describe(
        'While pending: when it is attempted next; for one waiting behind an older pending delivery, no sooner than that one’s next attempt.',
      ),
    waitingBehind: z
      .string()
      .nullable()
      .describe(
        'While pending behind an older pending delivery being retried: that one’s id. Deliveries are sent in order: this one goes once that one is delivered or given up.',
      ),
    completedAt: z.string().nullable(),
    resendOf: z.string().nullable(),
    data: z.record(z.string(), z.unknown()).describe('The payload’s data (docs/webhooks.md): never a card number.'),
    attempts: z.array(attemptSchema),
  })
  .meta({ id: 'WebhookDelivery', example: DELIVERY_EXAMPLE });
const deliveryPageSchema = z
  .object({ deliveries: z.array(deliverySchema), ...pageFields })
  .meta({ id: 'WebhookDeliveryPage', example: { deliveries: [DELIVERY_EXAMPLE], has_more: false, next: null } });

const webhookCursor = numberCursor(1, 'webhooks', 'webhooks', [12]);
const deliveryCursor = numberCursor(1, 'deliveries', 'deliveries', [3456]);
const idParam = z
  .string()
  .regex(/^wh_[A-Za-z0-9_-]{22}$/, 'must be a webhook id (wh_ and 22 characters)')
  .meta({ example: WEBHOOK_EXAMPLE.id });
const params = z.object({ id: idParam });
const deliveryParams = z.object({
  id: idParam,
  deliveryId: z
    .string()
    .regex(/^dlv_[A-Za-z0-9_-]{22}$/, 'must be a delivery id (dlv_ and 22 characters)')
    .meta({ example: DELIVERY_EXAMPLE.id }),
});

const notFound = { 404: errorResponseSchema };

const present = (s: Subscription) => ({
  id: s.id,
  url: s.url,
  eventTypes: s.eventTypes,
  description: s.description,
  createdAt: s.createdAt,
  previousSecretExpiresAt: s.previousSecretExpiresAt,
  createdByKeyId: s.createdByKeyId,
  disabledReason: s.disabledReason,
});
const presentDelivery = (d: Delivery) => ({
  id: d.id,
  messageId: d.messageId,
  eventType: d.eventType,
  status: d.status,
  occurredAt: d.occurredAt,
  createdAt: d.createdAt,
  nextAttemptAt: d.nextAttemptAt,
  waitingBehind: d.waitingBehind,
  completedAt: d.completedAt,
  resendOf: d.resendOf,
  data: d.data as Record<string, unknown>,
  attempts: d.attempts,
});

const tenantOf = (p: Principal): Tenant =>
  p.role === 'issuer' ? { kind: 'issuer', id: p.issuerId! } : { kind: 'merchant', id: p.merchantId! };
/** The key asking, by its id (and label): what the subscription and the audit log record. */
const callerOf = (p: Principal): Caller => ({ keyId: p.keyId, label: p.label });

export const webhookRoutes: FastifyPluginAsyncZod<WebhookRouteOptions> = async (app, opts) => {
  const tenantKeys = app.requireRole('issuer', 'merchant');
  const service = () => {
    const s = opts.service();
    if (!s)
      throw new HttpError('UNAVAILABLE', 'webhooks unavailable until the database is open: retry', {
        headers: { 'retry-after': '1' },
      });
    return s;
  };
  const security = [{ bearer: [] }];
  const tags = ['webhooks'];

  app.post(
    '/v1/webhooks',
    {
      onRequest: tenantKeys,
      schema: {
        tags,
        operationId: 'createWebhook',
        summary: 'Subscribe a URL to events (answers the signing secret once)',
        description:
          'Issuer keys subscribe to watchlist.hit (hits on cards of your BIN ranges, recorded from now on) and compromise.suspected (merchants breach discovery suspects, with how many of your cards each exposed), merchant keys to case.decided (analysts’ final decisions on your orders from now on; a lead’s reversal of one of them comes to the same subscription as case.decision_reversed) and case.decision_reversed. Deliveries are signed per the Standard Webhooks specification, retried with exponential backoff for at least 24 hours, and sent in order. The URL must resolve to public addresses (422 otherwise); a key holds at most LEAKGUARD_WEBHOOK_MAX_PER_TENANT subscriptions (409 beyond). The subscription records the id of the key that made it (createdByKeyId): once that key is revoked, the subscription receives nothing more (disabledReason).',
        security,
        body: newWebhookSchema,
        response: { 201: createdWebhookSchema, 409: errorResponseSchema, 422: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const { subscription, secret } = await service().create(
        tenantOf(request.principal!),
        request.body,
        callerOf(request.principal!),
      );
      return reply.code(201).send({ ...present(subscription), secret });
    },
  );

  app.get(
    '/v1/webhooks',
    {
      onRequest: tenantKeys,
      schema: {
        tags,
        operationId: 'listWebhooks',
        summary: 'Your subscriptions, oldest first, a page at a time',
        description:
          "Pages: `limit` subscriptions at most; while `has_more` is true, ask for the next page with `starting_after` set to the page's `next`.",
        security,
        querystring: closedObject({ limit: limitSchema(), starting_after: webhookCursor.schema.optional() }),
        response: { 200: webhookPageSchema },
      },
    },
    async (request) => {
      const q = request.query;
      const after = q.starting_after === undefined ? undefined : webhookCursor.decode(q.starting_after)[0];
      const page = await service().list(tenantOf(request.principal!), after, q.limit);
      return {
        webhooks: page.items.map(present),
        has_more: page.hasMore,
        next: page.next === null ? null : webhookCursor.encode(page.next),
      };
    },
  );

  app.get(
    '/v1/webhooks/:id',
    {
      onRequest: tenantKeys,
      schema: {
        tags,
        operationId: 'getWebhook',
        summary: 'One of your subscriptions',
        security,
        params,
        querystring: closedObject({}),
        response: { 200: webhookSchema, ...notFound },
      },
    },
    async (request) => present(await service().get(tenantOf(request.principal!), request.params.id)),
  );

  app.delete(
    '/v1/webhooks/:id',
    {
      onRequest: tenantKeys,
      schema: {
        tags,
        operationId: 'deleteWebhook',
        summary: 'Unsubscribe: pending deliveries are dropped with the subscription and its log',
        security,
        params,
        response: { 200: deletedSchema, ...notFound },
      },
    },
    async (request) => {
      await service().delete(tenantOf(request.principal!), request.params.id, callerOf(request.principal!));
      return { id: request.params.id, deleted: true as const };
    },
  );

  app.post(
    '/v1/webhooks/:id/secret/rotate',
    {
      onRequest: tenantKeys,
      // The body is optional: none at all (no content type, Fastify's null) is the default grace period.
      preValidation: async (request) => {
        request.body ??= { gracePeriodSeconds: DEFAULT_GRACE_SECONDS };
      },
      schema: {
        tags,
        operationId: 'rotateWebhookSecret',
        summary: 'A new signing secret (answered once); the previous one signs too for a grace period',
        description:
          'The subscription keeps its id, its queue and its log: every delivery from now on, retries of those queued before included, carries two signatures in its one webhook-signature header (Standard Webhooks: `v1,<new> v1,<previous>`), the new secret’s first, until `previousSecretExpiresAt` (`gracePeriodSeconds` from now, 24 hours unless given, at most 7 days); then the new one’s only, and the previous secret is dropped. A receiver verifying with either secret accepts them meanwhile: switch it to the new secret within the grace period. Rotating again during a grace period replaces the previous secret with the current one (two at most). The body may be left out.',
        security,
        params,
        body: rotateSecretSchema,
        response: { 200: rotatedWebhookSchema, ...notFound },
      },
    },
    async (request) => {
      const { subscription, secret } = await service().rotateSecret(
        tenantOf(request.principal!),
        request.params.id,
        request.body.gracePeriodSeconds * 1000,
      );
      return { ...present(subscription), secret };
    },
  );

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      onRequest: tenantKeys,
      schema: {
        tags,
        operationId: 'listWebhookDeliveries',
        summary: 'The delivery log: deliveries newest first, each with its attempts',
        description:
          "Each attempt with its time, the receiver's status or the error, and its duration. `status` keeps the deliveries in that status (unknown parameters are 400). Pages: `limit` deliveries at most; while `has_more` is true, ask for the next page with `starting_after` set to the page's `next`.",
        security,
        params,
        querystring: closedObject({
          limit: limitSchema(50, 200),
          starting_after: deliveryCursor.schema.optional(),
          status: z.enum(DELIVERY_STATUSES).optional().describe('Only deliveries in this status.'),
        }),
        response: { 200: deliveryPageSchema, ...notFound },
      },
    },
    async (request) => {
      const q = request.query;
      const before = q.starting_after === undefined ? undefined : deliveryCursor.decode(q.starting_after)[0];
      const page = await service().deliveries(tenantOf(request.principal!), request.params.id, {
        before,
        limit: q.limit,
        status: q.status,
      });
      return {
        deliveries: page.items.map(presentDelivery),
        has_more: page.hasMore,
        next: page.next === null ? null : deliveryCursor.encode(page.next),
      };
    },
  );

  app.post(
    '/v1/webhooks/:id/deliveries/:deliveryId/resend',
    {
      onRequest: tenantKeys,
      schema: {
        tags,
        operationId: 'resendWebhookDelivery',
        summary: 'Send a delivery again',
        description:
          'A delivered or failed delivery: the same message (same webhook-id) is queued again as a new delivery, after those already queued. A pending one: its next attempt is made now, in its place in the order. No body. A disabled subscription (its creating key revoked, or held while the key store does not hold that key): 409 WEBHOOK_DISABLED.',
        security,
        params: deliveryParams,
        response: { 202: deliverySchema, ...notFound, 409: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const d = await service().resend(tenantOf(request.principal!), request.params.id, request.params.deliveryId);
      return reply.code(202).send(presentDelivery(d));
    },
  );
};
