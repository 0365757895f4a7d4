// Issuers' door: compromise events, card-list uploads, removals, BIN ranges, hits.
// An issuer sees and changes only its own events and cards; other issuers' events answer 404.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Principal } from '../../auth/api-keys.ts';
import type { AuditLog } from '../../cases/audit.ts';
import { tenantIdSchema } from '../../auth/api-keys.ts';
import { identifyCard, type CardKeyring } from '../../core/card.ts';
import { closedObject, errorResponseSchema, rejectedByCodeSchema } from '../../core/errors.ts';
import { DECISIONS } from '../../core/schemas.ts';
import {
  binInRanges,
  binRangeSchema,
  CPP_ISSUER,
  compromiseEventChangeSchema,
  compromiseEventInputSchema,
  decodeEntry,
  elementMask,
  entrySlot,
  EVENT_STATUSES,
  EventConflict,
  eventSeqOf,
  withOwnEvents,
  HIT_SCAN_BUDGET,
  requestedPan,
  type CompromiseEvent,
  type EntrySlot,
  type EventStatus,
  type WatchlistStore,
} from '../../core/watchlist.ts';
import type { Metrics } from '../../metrics.ts';
import type { WatchlistRegistry } from '../../watchlist-registry.ts';
import { readerPool } from '../../watchlist/reader-pool.ts';
import {
  emptyUploadReport,
  uploadCardList,
  UploadRefused,
  UploadStoreFailed,
  type UploadFormat,
  type UploadReport,
} from '../../watchlist/upload.ts';
import { bodyEncodingRefusal } from '../body-encoding.ts';
import { HttpError } from '../errors.ts';
import { cppEvidenceSchema } from './breach.ts';
import { openapiTransform } from '../openapi.ts';
import { eventCursor, hitCursor, limitSchema, pageFields } from '../pagination.ts';

export interface WatchlistRouteOptions {
  store: WatchlistStore;
  registry: WatchlistRegistry;
  keyring: CardKeyring;
  metrics: Metrics;
  uploadLimitBytes: number;
  /** Threads that read uploaded lines (LEAKGUARD_UPLOAD_THREADS); unset: reader-pool.ts's default. */
  uploadThreads?: number | undefined;
  /**
   * The case database's audit log (runtime.cases.audit), once it is open: an admin's close or
   * retract of Leakguard's own events is recorded there, as the console's reviews are. Absent or
   * not open yet: those changes answer 503 (never made unaudited).
   */
  audit?: () => AuditLog | undefined;
}

const STATISTICS_EXAMPLE = {
  cardsListed: 1250,
  cardsRemoved: 12,
  hits: 3,
  distinctMerchants: 2,
  lastHitAt: '2026-11-20T09:30:00.000Z',
};
const EVENT_EXAMPLE = {
  id: 'ce_7',
  externalId: 'breach-2026-11',
  issuerId: 'bank-a',
  source: 'card network alert',
  description: 'payment page skimmer at a processor',
  exposureStart: '2026-05-01T00:00:00Z',
  exposureEnd: '2026-10-31T00:00:00Z',
  discoveredAt: '2026-11-10T00:00:00Z',
  dataElements: ['pan', 'expiry', 'cvv'],
  confidence: 'confirmed',
  status: 'open',
  createdAt: '2026-11-12T08:00:00.000Z',
  updatedAt: '2026-11-12T08:00:00.000Z',
  statistics: STATISTICS_EXAMPLE,
};
const statisticsSchema = z
  .object({
    cardsListed: z.number(),
    cardsRemoved: z.number(),
    hits: z.number(),
    distinctMerchants: z.number(),
    lastHitAt: z.string().nullable(),
  })
  .meta({ id: 'EventStatistics', example: STATISTICS_EXAMPLE });
export const eventSchema = z
  .object({
    id: z.string(),
    externalId: z.string(),
    issuerId: z.string(),
    source: z.string(),
    description: z.string(),
    exposureStart: z.string(),
    exposureEnd: z.string(),
    discoveredAt: z.string(),
    dataElements: z.array(z.string()),
    confidence: z.string(),
    status: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    statistics: statisticsSchema,
    evidence: cppEvidenceSchema
      .optional()
      .describe('On events Leakguard opened itself (source leakguard-cpp): why the merchant is suspected.'),
  })
  .meta({ id: 'CompromiseEvent', example: EVENT_EXAMPLE });
const uploadReportSchema = z
  .object({
    accepted: z.number(),
    duplicates: z.number(),
    rejected: z.number(),
    rejectedByCode: rejectedByCodeSchema,
    errors: z
      .array(z.object({ line: z.number(), code: z.string(), reason: z.string(), card: z.string() }))
      .describe('The first 100 rejected lines, cards masked.'),
  })
  .meta({
    id: 'UploadReport',
    example: {
      accepted: 2,
      duplicates: 0,
      rejected: 1,
      rejectedByCode: { INVALID_CARD: 1 },
      errors: [{ line: 3, code: 'INVALID_CARD', reason: 'card number fails the Luhn check', card: '411111******1112' }],
    },
  });
const eventParams = z.object({
  id: z.string().regex(/^ce_[1-9][0-9]{0,9}$/, 'must be a compromise event id (ce_<number>)'),
});
const errors = {
  400: errorResponseSchema,
  401: errorResponseSchema,
  403: errorResponseSchema,
  404: errorResponseSchema,
  409: errorResponseSchema,
};
const UPLOAD_TYPES: Record<string, UploadFormat> = { 'text/csv': 'csv', 'application/x-ndjson': 'ndjson' };
/** The fields of a declaration that scoring uses, where it differs from the event of its externalId. */
function decisiveDifferences(
  declared: Pick<CompromiseEvent, 'dataElements' | 'exposureStart' | 'exposureEnd' | 'confidence'>,
  event: CompromiseEvent,
): string[] {
  const differs: string[] = [];
  const elements = (e: readonly string[]) => [...e].sort().join(',');
  if (elements(declared.dataElements) !== elements(event.dataElements)) differs.push('dataElements');
  for (const field of ['exposureStart', 'exposureEnd'] as const)
    if (Date.parse(declared[field]) !== Date.parse(event[field])) differs.push(field);
  if (declared.confidence !== event.confidence) differs.push('confidence');
  return differs;
}

/** The list's format its content type names (its parameters aside), if it is one of the two. */
const uploadFormat = (headers: { 'content-type'?: string | undefined }): UploadFormat | undefined =>
  UPLOAD_TYPES[(headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()];
/** The card list as documented: the handler reads the stream itself, line by line, never validated as a whole. */
const UPLOAD_BODY_DOC = {
  required: true,
  content: {
    'text/csv': {
      schema: {
        type: 'string',
        description:
          'One card per line: `pan[,expiry_month,expiry_year]` (an optional header line starting with `pan` or `card`; white space around fields is ignored). Spreadsheet exports are read too: `;` instead of `,` (one of the two per line), fields in double quotes, the digits grouped by single spaces or dashes (`4111 1111 1111 1111`), the expiry as one field `MM/YY` or `MM/YYYY`.',
        examples: ['pan,expiry_month,expiry_year\n4111111111111111,12,2030\n5555555555554444\n'],
      },
    },
    'application/x-ndjson': {
      schema: {
        type: 'string',
        description:
          'One JSON object per line: `{"pan": "...", "expiryMonth": 1-12, "expiryYear": 2027}`, the expiry optional (both or neither), no other field; `pan` may be grouped as in CSV.',
        examples: ['{"pan": "4111111111111111", "expiryMonth": 12, "expiryYear": 2030}\n{"pan": "5555555555554444"}\n'],
      },
    },
  },
};

const HIT_EXAMPLE = {
  at: '2026-11-20T09:29:58.000Z',
  recordedAt: '2026-11-20T09:30:00.120Z',
  merchantId: 'shop-1',
  transactionId: 'order-1001',
  amount: 1999,
  currency: 'EUR',
  decision: 'challenge',
  score: 72,
  card: '411111******1111',
  eventIds: ['ce_7'],
};
const hitSchema = z
  .object({
    at: z.string().describe("The transaction's own time (the scored request's occurredAt, else when it was scored)."),
    recordedAt: z
      .string()
      .describe('When the hit was recorded: the list is ordered, filtered (`from`, `to`) and paged by this time.'),
    merchantId: z.string(),
    transactionId: z.string(),
    amount: z.number(),
    currency: z.string(),
    decision: z.string(),
    score: z.number(),
    card: z.string(),
    eventIds: z.array(z.string()),
  })
  .meta({ id: 'Hit', example: HIT_EXAMPLE });
const issuerParams = z.object({ issuerId: tenantIdSchema });
const rangesSchema = z.array(binRangeSchema).max(1000);
const issuerRangesSchema = z.object({ issuerId: z.string(), ranges: rangesSchema }).meta({
  id: 'IssuerBinRanges',
  example: { issuerId: 'bank-a', ranges: [{ from: '411111', to: '411199' }] },
});
const rangesBody = rangesSchema.meta({ example: [{ from: '411111', to: '411199' }] });

const eventPageSchema = z.object({ events: z.array(eventSchema), ...pageFields }).meta({
  id: 'CompromiseEventPage',
  example: { events: [EVENT_EXAMPLE], has_more: true, next: 'events_AAAAAAAH' },
});
/** Cards one removal may name. */
export const REMOVAL_MAX_CARDS = 10_000;
/**
 * Room for REMOVAL_MAX_CARDS of the largest item, a fingerprint (`{"fingerprint": "<43
 * characters>"}`), pretty-printed: 940 KB indented by four spaces (the app's default body limit
 * is 64 KiB, which refused 2,700 card numbers).
 */
const REMOVAL_BODY_BYTES = 2 * 1024 * 1024;
const CARD_REF_EXPECTED =
  'expected pan or fingerprint: {"pan": "<card number>"} or {"fingerprint": "<its fingerprint>"}';
export const cardRemovalSchema = z
  .object({
    cards: z
      .array(
        z.union(
          [
            closedObject({
              pan: z
                .string()
                .describe(
                  'The card number: its digits, plain or grouped as card lists may be (`4111 1111 1111 1111`, `3782-822463-10005`).',
                ),
            }),
            closedObject({ fingerprint: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a card fingerprint') }),
          ],
          // Neither form (a misnamed field, say): say what is expected, never what was sent (a card number).
          { error: (issue) => (issue.code === 'invalid_union' ? CARD_REF_EXPECTED : undefined) },
        ),
      )
      .min(1)
      .max(REMOVAL_MAX_CARDS),
    eventId: eventParams.shape.id
      .optional()
      .describe(
        "Take the cards off this event only. Without it an issuer's removal takes them off its own events, an admin's off every event.",
      ),
  })
  .meta({
    id: 'CardRemoval',
    example: {
      cards: [{ pan: '4111111111111111' }, { fingerprint: 'x8KcW0bqQj3Zf1TtJY2m5hM9rS4uVwA7eD6gB0nLpCk' }],
    },
  });
const cardRemovalReportSchema = z
  .object({
    removed: z.number(),
    notListed: z.number(),
    rejected: z.array(z.object({ index: z.number(), reason: z.string() })),
  })
  .meta({
    id: 'CardRemovalReport',
    example: { removed: 1, notListed: 0, rejected: [{ index: 1, reason: 'pan fails the Luhn check' }] },
  });
const hitPageSchema = z
  .object({ hits: z.array(hitSchema), ...pageFields })
  .meta({ id: 'HitPage', example: { hits: [HIT_EXAMPLE], has_more: true, next: 'hits_AZqfZXqgAAAAAAAA' } });

export const watchlistRoutes: FastifyPluginAsyncZod<WatchlistRouteOptions> = async (app, opts) => {
  const { store, registry, keyring, metrics } = opts;
  const issuerOrAdmin = app.requireRole('issuer', 'admin');
  // Threads start with the first upload; they end with the app.
  const readers = readerPool(opts.uploadThreads);
  app.addHook('onClose', () => readers.close());

  // Card lists reach the handler as the raw request stream, in this plugin's scope only.
  app.addContentTypeParser(Object.keys(UPLOAD_TYPES), (_request, payload, done) => done(null, payload));

  const present = async (e: CompromiseEvent) => {
    const { seq: _seq, ...rest } = e;
    return { ...rest, statistics: await store.eventStatistics(e.seq) };
  };

  /** The event, if this principal may see it: issuers only their own (others' are "not found"). */
  const visibleEvent = async (principal: Principal, id: string): Promise<CompromiseEvent | undefined> => {
    const seq = eventSeqOf(id);
    const event = seq === null ? undefined : await store.getEvent(seq);
    if (!event || (principal.role === 'issuer' && event.issuerId !== principal.issuerId)) return undefined;
    return event;
  };
  const notFound = () => new HttpError('EVENT_NOT_FOUND', 'no such compromise event');

  app.post(
    '/v1/compromise-events',
    {
      onRequest: issuerOrAdmin,
      schema: {
        tags: ['watchlists'],
        operationId: 'createCompromiseEvent',
        summary: 'Declare a compromise event (a breach and what leaked)',
        security: [{ bearer: [] }],
        description:
          'Idempotent by (issuer, externalId): the same externalId returns the existing event with 200; one declaring other dataElements, exposure times or confidence is 409 EVENT_CONFLICT (declare a change as a new event), as is the externalId of a retracted event (declare the breach again with another externalId).',
        body: compromiseEventInputSchema,
        response: { 200: eventSchema, 201: eventSchema, ...errors },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      const { issuerId: requested, ...input } = request.body;
      let issuerId: string;
      if (principal.role === 'issuer') {
        if (requested && requested !== principal.issuerId)
          throw new HttpError('FORBIDDEN', 'an issuer can declare events for itself only');
        issuerId = principal.issuerId!;
      } else {
        if (!requested)
          throw new HttpError('VALIDATION_FAILED', 'invalid request', {
            details: [{ path: 'issuerId', message: 'is required when an admin declares an event' }],
          });
        // Leakguard's own breach-discovery events: no issuer may hold them (nor an API key take the id).
        if (requested === CPP_ISSUER)
          throw new HttpError('VALIDATION_FAILED', 'invalid request', {
            details: [
              {
                path: 'issuerId',
                message: `must not be ${CPP_ISSUER}: it is reserved for the events Leakguard opens itself (breach discovery)`,
              },
            ],
          });
        issuerId = requested;
      }
      const { event, created } = await store.createEvent(input, issuerId, new Date());
      if (created) registry.changed(event);
      else if (event.status === 'retracted')
        // Retracted (declared by mistake): answering it would tell the issuer its declaration was
        // taken, and its uploads would be refused. The breach, declared again, is a new event.
        throw new HttpError(
          'EVENT_CONFLICT',
          `${event.id} was declared with this externalId and retracted: declare the breach again as a new event (another externalId)`,
          { details: [{ path: 'externalId', message: `names ${event.id}, which was retracted` }] },
        );
      else {
        // A retry is answered the event it made; a declaration that differs in what scoring uses
        // (what leaked, when, how sure) is not silently answered the old one: the issuer would
        // believe its cards scored as it said.
        const differs = decisiveDifferences(input, event);
        if (differs.length > 0)
          throw new HttpError(
            'EVENT_CONFLICT',
            `${event.id} was declared with this externalId and another ${differs.join(', ')}: declare the change as a new event (another externalId), or send the same details to get ${event.id}`,
            {
              details: differs.map((path) => ({
                path,
                message: `differs from ${event.id}, declared with this externalId`,
              })),
            },
          );
      }
      return reply.code(created ? 201 : 200).send(await present(event));
    },
  );

  app.get(
    '/v1/compromise-events',
    {
      onRequest: issuerOrAdmin,
      schema: {
        tags: ['watchlists'],
        operationId: 'listCompromiseEvents',
        summary: 'Compromise events with their statistics: oldest first, a page at a time',
        description:
          "An issuer sees its own events, an admin every issuer's; `status` and `externalId` keep the events in that status or with that externalId. Pages: `limit` events at most; while `has_more` is true, ask for the next page with `starting_after` set to the page's `next`.",
        security: [{ bearer: [] }],
        querystring: closedObject({
          limit: limitSchema(),
          starting_after: eventCursor.schema.optional(),
          status: z.enum(EVENT_STATUSES).optional().describe('Only events in this status.'),
          externalId: compromiseEventInputSchema.shape.externalId
            .optional()
            .describe('Only the event with this externalId.'),
        }),
        response: {
          200: eventPageSchema,
          ...errors,
        },
      },
    },
    async (request) => {
      const principal = request.principal!;
      const q = request.query;
      const page = await store.pageEvents({
        issuerId: principal.role === 'issuer' ? principal.issuerId : undefined,
        status: q.status,
        externalId: q.externalId,
        after: q.starting_after === undefined ? undefined : eventCursor.decode(q.starting_after),
        limit: q.limit,
      });
      return {
        events: await Promise.all(page.items.map(present)),
        has_more: page.hasMore,
        next: page.next === null ? null : eventCursor.encode(page.next),
      };
    },
  );

  app.get(
    '/v1/compromise-events/:id',
    {
      onRequest: issuerOrAdmin,
      schema: {
        tags: ['watchlists'],
        operationId: 'getCompromiseEvent',
        summary: 'One compromise event with its statistics',
        security: [{ bearer: [] }],
        params: eventParams,
        // No parameter: a misspelt filter would otherwise answer the event as if it had been applied.
        querystring: closedObject({}),
        response: { 200: eventSchema, ...errors },
      },
    },
    async (request) => {
      const event = await visibleEvent(request.principal!, request.params.id);
      if (!event) throw notFound();
      return present(event);
    },
  );

  for (const [action, status] of [
    ['close', 'closed'],
    ['retract', 'retracted'],
  ] as const) {
    app.post(
      `/v1/compromise-events/:id/${action}`,
      {
        onRequest: issuerOrAdmin,
        schema: {
          tags: ['watchlists'],
          operationId: `${action}CompromiseEvent`,
          security: [{ bearer: [] }],
          params: eventParams,
          response: { 200: eventSchema, ...errors, 503: errorResponseSchema },
          summary:
            action === 'close'
              ? 'Close an event: no more uploads; its cards stay listed'
              : 'Retract an event: its cards leave the watchlist unless another live event lists them',
          description:
            (action === 'retract'
              ? 'Final and idempotent: an event retracted already is answered 200 as it is, unchanged. '
              : 'A retracted event: 409 EVENT_CONFLICT. ') +
            `An admin's ${action} of an event Leakguard opened itself (issuer leakguard, source leakguard-cpp) is recorded in the audit log (action breach_status, actor api-key:<key id>, target event:<id>); while the audit log is not available (the case database not open yet) it is refused with 503 and the event is unchanged.`,
        },
      },
      async (request) => {
        const principal = request.principal!;
        const event = await visibleEvent(principal, request.params.id);
        if (!event) throw notFound();
        // A retraction sent again (its answer lost): answered the retracted event, nothing rewritten
        // nor audited again.
        if (status === 'retracted' && event.status === 'retracted') return present(event);
        // Leakguard's own events (breach discovery) are audited as the console's reviews are: no
        // audit log to write to, no change.
        const audit = event.issuerId === CPP_ISSUER ? (opts.audit?.() ?? null) : undefined;
        if (audit === null)
          throw new HttpError(
            'UNAVAILABLE',
            `the audit log is not available (the case database is not open yet): ${event.id} is unchanged, retry`,
          );
        let from: EventStatus = event.status;
        /** Retracted meanwhile (two retractions at once): the other one's event, answered as above. */
        let retractedMeanwhile: CompromiseEvent | undefined;
        // Checked as the change is written (a retract and a close at once must not un-retract it).
        const updated = await store
          .updateEvent(
            event.seq,
            (current) => {
              if (current.status === 'retracted') {
                if (status === 'retracted') retractedMeanwhile = current;
                throw new EventConflict('the event was retracted');
              }
              from = current.status;
              return { status };
            },
            new Date(),
          )
          .catch((error: unknown) => {
            if (retractedMeanwhile) return undefined;
            throw error;
          });
        if (!updated) {
          if (retractedMeanwhile) return present(retractedMeanwhile);
          throw notFound();
        }
        registry.changed(updated);
        if (audit)
          await audit.append({
            actor: `api-key:${principal.keyId}`,
            action: 'breach_status',
            target: `event:${event.id}`,
            detail: {
              status,
              from,
              merchantId: updated.evidence?.merchantId ?? null,
              ...(principal.label ? { keyLabel: principal.label } : {}),
            },
          });
        return present(updated);
      },
    );
  }

  app.patch(
    '/v1/compromise-events/:id',
    {
      onRequest: issuerOrAdmin,
      schema: {
        tags: ['watchlists'],
        operationId: 'changeCompromiseEvent',
        summary: "Change an event's confidence or exposure end; its cards stay listed",
        description:
          "An issuer's own event (or any, for an admin): `confidence` (a suspected breach confirmed, or the other way) and `exposureEnd` (not before exposureStart), which scoring uses at once (listed_confirmed, days_since_exposure_end) without listing the cards again. A retracted event: 409 EVENT_CONFLICT. An event Leakguard opened itself (issuer leakguard) is reviewed in the analysts' console, not here: 409.",
        security: [{ bearer: [] }],
        params: eventParams,
        body: compromiseEventChangeSchema,
        response: { 200: eventSchema, ...errors },
      },
    },
    async (request) => {
      const event = await visibleEvent(request.principal!, request.params.id);
      if (!event) throw notFound();
      if (event.issuerId === CPP_ISSUER)
        throw new EventConflict(
          `${event.id} is Leakguard's own suspicion: analysts confirm or dismiss it in the console (audited)`,
        );
      const change = request.body;
      // Checked as the change is written: a retraction or another change may have come meanwhile.
      const updated = (await store.updateEvent(
        event.seq,
        (current) => {
          if (current.status === 'retracted') throw new EventConflict('the event was retracted');
          if (change.exposureEnd !== undefined && Date.parse(change.exposureEnd) < Date.parse(current.exposureStart))
            throw new HttpError('VALIDATION_FAILED', 'invalid request', {
              details: [
                {
                  path: 'exposureEnd',
                  message: `must not be before the event's exposureStart (${current.exposureStart})`,
                },
              ],
            });
          return {
            ...(change.confidence === undefined ? {} : { confidence: change.confidence }),
            ...(change.exposureEnd === undefined ? {} : { exposureEnd: change.exposureEnd }),
          };
        },
        new Date(),
      ))!;
      registry.changed(updated);
      return present(updated);
    },
  );

  app.post(
    '/v1/compromise-events/:id/cards',
    {
      // The list's form is checked before its body is read: a JSON body of hundreds of MB would
      // otherwise be read and parsed whole, on the event loop scoring runs on, before its refusal.
      onRequest: [
        issuerOrAdmin,
        async (request) => {
          if (!uploadFormat(request.headers))
            throw new HttpError('UNSUPPORTED_MEDIA_TYPE', 'send the card list as text/csv or application/x-ndjson');
          // UTF-8 (or its ASCII subset) only: another charset's bytes would be refused later as binary.
          const refused = bodyEncodingRefusal(request.headers);
          if (refused === 'charset')
            throw new HttpError('UNSUPPORTED_MEDIA_TYPE', 'send the card list in UTF-8 (charset=utf-8, or none)');
          if (refused === 'encoding')
            throw new HttpError(
              'UNSUPPORTED_MEDIA_TYPE',
              'compressed uploads are refused: send the card list as plain text',
            );
          const declared = Number(request.headers['content-length'] ?? NaN);
          if (declared > opts.uploadLimitBytes)
            throw new HttpError(
              'PAYLOAD_TOO_LARGE',
              `card list larger than the limit of ${opts.uploadLimitBytes} bytes: split it`,
            );
        },
      ],
      bodyLimit: opts.uploadLimitBytes,
      // The body is a stream the handler parses line by line, never validated as a whole: it is
      // documented here only, so that clients (and the OpenAPI-driven fuzzer) know what to send.
      config: {
        swaggerTransform: (args) => {
          const documented = openapiTransform(args);
          return { ...documented, schema: { ...documented.schema, body: UPLOAD_BODY_DOC } };
        },
      },
      schema: {
        tags: ['watchlists'],
        operationId: 'uploadCards',
        summary: 'Upload the cards an event exposed (text/csv or application/x-ndjson, one card per line)',
        security: [{ bearer: [] }],
        description:
          'CSV lines `pan[,expiry_month,expiry_year]` (an optional `pan,...` header; `;`, quoted fields, grouped digits and `MM/YY` as spreadsheets export them) or NDJSON lines `{"pan": "...", "expiryMonth": 1, "expiryYear": 2027}`. Streamed: parsed as it arrives, never written to disk. Valid lines are kept when others fail; a list none of whose first 1,000 lines (all, if fewer) gives a card is refused there, 400 UPLOAD_REFUSED naming the likely cause. Re-uploading the same list is idempotent.',
        params: eventParams,
        response: { 200: uploadReportSchema, 413: errorResponseSchema, 415: errorResponseSchema, ...errors },
      },
    },
    async (request) => {
      const principal = request.principal!;
      const format = uploadFormat(request.headers)!;
      const event = await visibleEvent(principal, request.params.id);
      if (!event) throw notFound();
      if (event.status !== 'open')
        throw new HttpError('EVENT_CONFLICT', `the event is ${event.status}: it takes no more uploads`);
      const ownedRanges = principal.role === 'issuer' ? await store.getBinRanges(principal.issuerId!) : undefined;
      // Every line would be rejected as BIN_NOT_OWNED, millions of them read for nothing.
      if (ownedRanges?.length === 0)
        throw new HttpError(
          'FORBIDDEN',
          'your issuer has no BIN ranges yet, so none of its cards can be listed: an admin registers them (PUT /v1/issuers/{issuerId}/bin-ranges)',
        );
      // A list refused while it streams in throws UploadRefused: answered by errors.ts, which closes the connection a moment later.
      /** What the lines stored so far did (the store's answers), for an upload that ends early. */
      let progress = emptyUploadReport();
      const account = (r: UploadReport, message: string) => {
        metrics.watchlistCards.inc({ result: 'accepted' }, r.accepted);
        metrics.watchlistCards.inc({ result: 'duplicate' }, r.duplicates);
        metrics.watchlistCards.inc({ result: 'rejected' }, r.rejected);
        const { accepted, duplicates, rejected, lines } = r;
        request.log.info({ event: event.id, accepted, duplicates, rejected, lines }, message);
      };
      let report: UploadReport;
      try {
        report = await uploadCardList(request.body as AsyncIterable<Buffer>, {
          format,
          eventSeq: event.seq,
          elementMask: elementMask(event.dataElements),
          ownedRanges,
          keyring,
          store,
          limitBytes: opts.uploadLimitBytes,
          read: readers.read,
          onProgress: (r) => (progress = r),
          // Closed or retracted meanwhile, here or on another engine (the registry's view): no more cards.
          stillOpen: () => {
            const view = registry.events.get(event.seq);
            return view === undefined || view.status === 'open';
          },
        });
      } catch (error) {
        // The client closed the connection before the body's end: Node's body stream fails with
        // "aborted" (ECONNRESET). Not readableAborted: a store's failure stops the reading too.
        const e = error as NodeJS.ErrnoException | undefined;
        if (e?.code === 'ECONNRESET' && e.message === 'aborted') {
          // The client went away: nothing to answer, and no store failed (it read "aborted").
          account(progress, 'card list upload cut short by the client: the lines before were kept');
          throw new HttpError('MALFORMED_BODY', 'the upload was cut short: the lines before were kept');
        }
        if (error instanceof UploadRefused)
          account(error.report ?? progress, `card list refused part way: ${error.message}`);
        // The store failed (Redis down, full): answered 503 with what the lines before did, logged here with it.
        if (error instanceof UploadStoreFailed)
          account(error.report, 'card list upload stopped part way, the store failed: the lines before were kept');
        throw error;
      }
      account(report, 'card list uploaded');
      return {
        accepted: report.accepted,
        duplicates: report.duplicates,
        rejected: report.rejected,
        rejectedByCode: report.rejectedByCode,
        errors: report.errors,
      };
    },
  );

  app.delete(
    '/v1/cards',
    {
      onRequest: issuerOrAdmin,
      bodyLimit: Math.max(app.initialConfig.bodyLimit ?? 0, REMOVAL_BODY_BYTES),
      schema: {
        tags: ['watchlists'],
        operationId: 'removeCards',
        summary: 'Remove cards from your events, one event, or (admins) every event (reissued or closed cards)',
        security: [{ bearer: [] }],
        description:
          "By card number or by fingerprint. An issuer may remove only cards in its BIN ranges (by number) or cards its own events listed (by fingerprint), and takes them off its own events only: another issuer's listing stays. With `eventId`, off that event only. A card whose entry is left with no event leaves the watchlist; a card named twice counts once. 1 to 10,000 cards, in a body of up to 2 MiB (or LEAKGUARD_BODY_LIMIT_BYTES, if larger).",
        body: cardRemovalSchema,
        response: {
          200: cardRemovalReportSchema,
          ...errors,
        },
      },
    },
    async (request) => {
      const principal = request.principal!;
      const { eventId } = request.body;
      // Which events the cards are taken off: the one named; an issuer's own; an admin's, every one.
      let onlyEvents: number[] | undefined;
      if (eventId !== undefined) {
        const event = await visibleEvent(principal, eventId);
        if (!event) throw notFound();
        onlyEvents = [event.seq];
      } else if (principal.role === 'issuer') {
        onlyEvents = (await store.listEvents(principal.issuerId)).map((e) => e.seq);
      }
      const removable = onlyEvents === undefined ? undefined : new Set(onlyEvents);
      const ranges = principal.role === 'issuer' ? await store.getBinRanges(principal.issuerId!) : undefined;
      const rejected: { index: number; reason: string }[] = [];
      const candidates: { index: number; slot: EntrySlot }[] = [];
      request.body.cards.forEach((card, index) => {
        if ('pan' in card) {
          // Grouped digits are read as an upload reads them: the card it listed.
          const read = requestedPan(card.pan);
          if ('problem' in read) return rejected.push({ index, reason: `pan ${read.problem}` });
          if (ranges && !binInRanges(read.pan, ranges))
            return rejected.push({ index, reason: 'BIN_NOT_OWNED: card is outside your BIN ranges' });
          // Listed under the primary key; during rotation also under the previous one.
          for (const fingerprint of identifyCard(keyring, read.pan).fingerprints)
            candidates.push({ index, slot: entrySlot(fingerprint) });
        } else candidates.push({ index, slot: entrySlot(card.fingerprint) });
      });
      // What each card's entry holds now: which of them have an event to be taken off.
      const entries = await store.getEntries(candidates.map((c) => c.slot));
      const considered = new Set<number>();
      const listed = new Set<number>();
      const slots: EntrySlot[] = [];
      // A card named twice in one request, by its number or its fingerprint, is one card: its first mention counts.
      const seen = new Set<string>();
      candidates.forEach((c, i) => {
        const slotId = `${c.slot.bucket}:${c.slot.field.toString('hex')}`;
        if (seen.has(slotId)) return;
        seen.add(slotId);
        const entry = entries[i] ? decodeEntry(entries[i]!) : null;
        considered.add(c.index);
        // By fingerprint the BIN is unknown: an issuer removes what its own events listed (`removable`).
        // A card only another issuer's events list is answered as one nobody lists: never a hint of theirs.
        if (entry && entry.eventSeqs.some((s) => removable === undefined || removable.has(s))) {
          listed.add(c.index);
          slots.push(c.slot);
        }
      });
      rejected.sort((a, b) => a.index - b.index);
      await store.removeCards(slots, onlyEvents);
      return { removed: listed.size, notListed: considered.size - listed.size, rejected };
    },
  );

  app.put(
    '/v1/issuers/:issuerId/bin-ranges',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        tags: ['watchlists'],
        operationId: 'setBinRanges',
        summary: "Register an issuer's BIN ranges (replaces the previous list)",
        description:
          "A BIN belongs to one issuer: a range sharing BINs with another issuer's (a 6-digit range covers each 8-digit one under it) is refused with 409 BIN_RANGE_CONFLICT and nothing changes.",
        security: [{ bearer: [] }],
        params: issuerParams,
        body: rangesBody,
        response: { 200: issuerRangesSchema, ...errors },
      },
    },
    async (request) => {
      const conflict = await store.setBinRanges(request.params.issuerId, request.body);
      if (conflict !== undefined) {
        const other = `issuer ${conflict.otherIssuerId}'s ${conflict.otherRange.from}–${conflict.otherRange.to}`;
        throw new HttpError('BIN_RANGE_CONFLICT', `a BIN range shares BINs with ${other}: nothing changed`, {
          details: [{ path: String(conflict.index), message: `shares BINs with ${other}` }],
        });
      }
      // This engine's hits follow them at once; other engines' at their registry's next refresh.
      registry.rangesChanged(request.params.issuerId, request.body);
      return { issuerId: request.params.issuerId, ranges: request.body };
    },
  );

  app.get(
    '/v1/issuers/:issuerId/bin-ranges',
    {
      onRequest: issuerOrAdmin,
      schema: {
        tags: ['watchlists'],
        operationId: 'getBinRanges',
        summary: "An issuer's BIN ranges",
        security: [{ bearer: [] }],
        params: issuerParams,
        querystring: closedObject({}),
        response: { 200: issuerRangesSchema, ...errors },
      },
    },
    async (request) => {
      const principal = request.principal!;
      if (principal.role === 'issuer' && principal.issuerId !== request.params.issuerId)
        throw new HttpError('FORBIDDEN', 'an issuer can read its own ranges only');
      return { issuerId: request.params.issuerId, ranges: await store.getBinRanges(request.params.issuerId) };
    },
  );

  app.get(
    '/v1/issuer/hits',
    {
      onRequest: app.requireRole('issuer'),
      schema: {
        tags: ['watchlists'],
        operationId: 'listIssuerHits',
        summary: 'Where your listed cards were tried: newest first, a page at a time',
        description:
          "Hits on cards in your BIN ranges, newest recorded first, filtered by event, merchant, decision and `recordedAt` (`from`, `to`: when the hit was recorded, not the transaction's `at`) before the limit: `decision=approve` gives the leaked cards that got through, `merchantId` where a list's cards are being cashed out. Pages: `limit` hits at most; while `has_more` is true, ask for the next page with `starting_after` set to the page's `next`. A filter that matches rarely may answer a short page (even an empty one) with `has_more` true: a page examines at most " +
          `${HIT_SCAN_BUDGET.toLocaleString('en')} stored hits.`,
        security: [{ bearer: [] }],
        querystring: closedObject({
          eventId: eventParams.shape.id.optional(),
          merchantId: tenantIdSchema.optional().describe('Only hits at this merchant.'),
          decision: z
            .enum(DECISIONS)
            .optional()
            .describe('Only hits answered so (`approve`: the leaked cards that got through).'),
          from: z.iso
            .datetime({ offset: true })
            .optional()
            .describe('Only hits recorded at or after this time (recordedAt).'),
          to: z.iso
            .datetime({ offset: true })
            .optional()
            .describe('Only hits recorded at or before this time (recordedAt).'),
          limit: limitSchema(),
          starting_after: hitCursor.schema.optional(),
        }),
        response: {
          200: hitPageSchema,
          ...errors,
        },
      },
    },
    async (request) => {
      const principal = request.principal!;
      const issuerId = principal.issuerId!;
      const q = request.query;
      // Another issuer's event is not found here either (as at GET /v1/compromise-events/{id}).
      if (q.from !== undefined && q.to !== undefined && Date.parse(q.from) > Date.parse(q.to))
        throw new HttpError('VALIDATION_FAILED', 'invalid request', {
          details: [{ path: 'querystring.from', message: 'must not be after to' }],
        });
      if (q.eventId !== undefined && !(await visibleEvent(principal, q.eventId))) throw notFound();
      // Only the hits it is shown (its BIN ranges held the card when the hit was recorded), even of
      // its own events (an admin may list any card in an issuer's event).
      const page = await store.pageHits(issuerId, {
        eventId: q.eventId,
        merchantId: q.merchantId,
        decision: q.decision,
        limit: q.limit,
        from: q.from ? Date.parse(q.from) : undefined,
        to: q.to ? Date.parse(q.to) : undefined,
        binRanges: await store.getBinRanges(issuerId),
        after: q.starting_after === undefined ? undefined : hitCursor.decode(q.starting_after),
      });
      // Its own events' ids only: the registry knows them, the store an event newer than its view.
      const unknown = new Set(
        page.items.flatMap((h) => h.eventIds.map(eventSeqOf)).filter((s) => s !== null && !registry.events.has(s)),
      ) as Set<number>;
      const fetched = new Map(
        await Promise.all([...unknown].map(async (s) => [s, (await store.getEvent(s))?.issuerId] as const)),
      );
      const owns = (seq: number) => (registry.events.get(seq)?.issuerId ?? fetched.get(seq)) === issuerId;
      return {
        hits: page.items.map(({ bin: _bin, ...h }) => withOwnEvents(h, owns)),
        has_more: page.hasMore,
        next: page.next === null ? null : hitCursor.encode(page.next),
      };
    },
  );
};
