// Issuers' door: compromise events, card-list uploads, removals, BIN ranges, hits.
// An issuer sees and changes only its own events and cards; other issuers' events answer 404.
import { z } from 'zod';
import { jsonSchemaTransform, type FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Principal } from '../../auth/api-keys.ts';
import { tenantIdSchema } from '../../auth/api-keys.ts';
import { fingerprintWith, panProblem, type CardKeyring } from '../../core/card.ts';
import { errorResponseSchema } from '../../core/errors.ts';
import {
  binInRanges,
  binRangeSchema,
  compromiseEventInputSchema,
  decodeEntry,
  elementMask,
  entrySlot,
  eventSeqOf,
  type CompromiseEvent,
  type EntrySlot,
  type WatchlistStore,
} from '../../core/watchlist.ts';
import type { Metrics } from '../../metrics.ts';
import type { WatchlistRegistry } from '../../watchlist-registry.ts';
import { uploadCardList, type UploadFormat } from '../../watchlist/upload.ts';
import { HttpError } from '../errors.ts';

export interface WatchlistRouteOptions {
  store: WatchlistStore;
  registry: WatchlistRegistry;
  keyring: CardKeyring;
  metrics: Metrics;
  uploadLimitBytes: number;
}

const statisticsSchema = z.object({
  cardsListed: z.number(),
  cardsRemoved: z.number(),
  hits: z.number(),
  distinctMerchants: z.number(),
  lastHitAt: z.string().nullable(),
});
const eventSchema = z.object({
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
});
const uploadReportSchema = z.object({
  accepted: z.number(),
  duplicates: z.number(),
  rejected: z.number(),
  errors: z.array(z.object({ line: z.number(), code: z.string(), reason: z.string(), card: z.string() })),
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
const UPLOAD_BODY_DOC = {
  type: 'string',
  description:
    'One card per line. text/csv: `pan[,expiry_month,expiry_year]`, an optional `pan,...` header. application/x-ndjson: `{"pan": "4111111111111111", "expiryMonth": 12, "expiryYear": 2030}`.',
};

export const watchlistRoutes: FastifyPluginAsyncZod<WatchlistRouteOptions> = async (app, opts) => {
  const { store, registry, keyring, metrics } = opts;
  const issuerOrAdmin = app.requireRole('issuer', 'admin');

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
        summary: 'Declare a compromise event (a breach and what leaked)',
        security: [{ bearer: [] }],
        description: 'Idempotent by (issuer, externalId): the same externalId returns the existing event with 200.',
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
        issuerId = requested;
      }
      const { event, created } = await store.createEvent(input, issuerId, new Date());
      if (created) registry.changed(event);
      return reply.code(created ? 201 : 200).send(await present(event));
    },
  );

  app.get(
    '/v1/compromise-events',
    {
      onRequest: issuerOrAdmin,
      schema: {
        tags: ['watchlists'],
        summary: 'Compromise events with their statistics',
        security: [{ bearer: [] }],
        response: { 200: z.object({ events: z.array(eventSchema) }), ...errors },
      },
    },
    async (request) => {
      const principal = request.principal!;
      const events = await store.listEvents(principal.role === 'issuer' ? principal.issuerId : undefined);
      return { events: await Promise.all(events.map(present)) };
    },
  );

  app.get(
    '/v1/compromise-events/:id',
    {
      onRequest: issuerOrAdmin,
      schema: {
        tags: ['watchlists'],
        summary: 'One compromise event with its statistics',
        security: [{ bearer: [] }],
        params: eventParams,
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
          security: [{ bearer: [] }],
          params: eventParams,
          response: { 200: eventSchema, ...errors },
          summary:
            action === 'close'
              ? 'Close an event: no more uploads; its cards stay listed'
              : 'Retract an event: its cards leave the watchlist unless another live event lists them',
        },
      },
      async (request) => {
        const event = await visibleEvent(request.principal!, request.params.id);
        if (!event) throw notFound();
        if (event.status === 'retracted') throw new HttpError('EVENT_CONFLICT', 'the event was retracted');
        const updated = (await store.setEventStatus(event.seq, status, new Date()))!;
        registry.changed(updated);
        return present(updated);
      },
    );
  }

  app.post(
    '/v1/compromise-events/:id/cards',
    {
      onRequest: issuerOrAdmin,
      bodyLimit: opts.uploadLimitBytes,
      // The body is a stream the handler parses line by line, never validated as a whole: it is
      // documented here only, so that clients (and the OpenAPI-driven fuzzer) know what to send.
      config: {
        swaggerTransform: (args) => {
          const documented = jsonSchemaTransform(args);
          return {
            ...documented,
            schema: { ...documented.schema, consumes: Object.keys(UPLOAD_TYPES), body: UPLOAD_BODY_DOC },
          };
        },
      },
      schema: {
        tags: ['watchlists'],
        summary: 'Upload the cards an event exposed (text/csv or application/x-ndjson, one card per line)',
        security: [{ bearer: [] }],
        description:
          'CSV lines `pan[,expiry_month,expiry_year]` (an optional `pan,...` header) or NDJSON lines `{"pan": "...", "expiryMonth": 1, "expiryYear": 2027}`. Streamed: parsed as it arrives, never written to disk. Valid lines are kept when others fail; re-uploading the same list is idempotent.',
        params: eventParams,
        response: { 200: uploadReportSchema, 413: errorResponseSchema, 415: errorResponseSchema, ...errors },
      },
    },
    async (request) => {
      const principal = request.principal!;
      const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      const format = UPLOAD_TYPES[contentType];
      if (!format)
        throw new HttpError('UNSUPPORTED_MEDIA_TYPE', 'send the card list as text/csv or application/x-ndjson');
      if (request.headers['content-encoding'] && request.headers['content-encoding'] !== 'identity')
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
      const event = await visibleEvent(principal, request.params.id);
      if (!event) throw notFound();
      if (event.status !== 'open')
        throw new HttpError('EVENT_CONFLICT', `the event is ${event.status}: it takes no more uploads`);
      const ownedRanges = principal.role === 'issuer' ? await store.getBinRanges(principal.issuerId!) : undefined;
      // A list refused while it streams in throws UploadRefused: answered (and the connection closed) by errors.ts.
      const report = await uploadCardList(request.body as AsyncIterable<Buffer>, {
        format,
        eventSeq: event.seq,
        elementMask: elementMask(event.dataElements),
        ownedRanges,
        keyring,
        store,
        limitBytes: opts.uploadLimitBytes,
      });
      metrics.watchlistCards.inc({ result: 'accepted' }, report.accepted);
      metrics.watchlistCards.inc({ result: 'duplicate' }, report.duplicates);
      metrics.watchlistCards.inc({ result: 'rejected' }, report.rejected);
      request.log.info(
        {
          event: event.id,
          accepted: report.accepted,
          duplicates: report.duplicates,
          rejected: report.rejected,
          lines: report.lines,
        },
        'card list uploaded',
      );
      return {
        accepted: report.accepted,
        duplicates: report.duplicates,
        rejected: report.rejected,
        errors: report.errors,
      };
    },
  );

  app.delete(
    '/v1/cards',
    {
      onRequest: issuerOrAdmin,
      schema: {
        tags: ['watchlists'],
        summary: 'Remove cards from every event (reissued or closed cards)',
        security: [{ bearer: [] }],
        description:
          'By card number or by fingerprint. An issuer may remove only cards in its BIN ranges (by number) or cards its own events listed (by fingerprint).',
        body: z.object({
          cards: z
            .array(
              z.union([
                z.object({ pan: z.string() }).strict(),
                z
                  .object({ fingerprint: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a card fingerprint') })
                  .strict(),
              ]),
            )
            .min(1)
            .max(10_000),
        }),
        response: {
          200: z.object({
            removed: z.number(),
            notListed: z.number(),
            rejected: z.array(z.object({ index: z.number(), reason: z.string() })),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const principal = request.principal!;
      const ranges = principal.role === 'issuer' ? await store.getBinRanges(principal.issuerId!) : undefined;
      const rejected: { index: number; reason: string }[] = [];
      const candidates: { index: number; slot: EntrySlot; byFingerprint: boolean }[] = [];
      request.body.cards.forEach((card, index) => {
        if ('pan' in card) {
          const problem = panProblem(card.pan);
          if (problem) return rejected.push({ index, reason: `pan ${problem}` });
          if (ranges && !binInRanges(card.pan, ranges))
            return rejected.push({ index, reason: 'BIN_NOT_OWNED: card is outside your BIN ranges' });
          // Listed under the primary key; during rotation also under the previous one.
          candidates.push({ index, slot: entrySlot(fingerprintWith(keyring.primary, card.pan)), byFingerprint: false });
          if (keyring.previous)
            candidates.push({
              index,
              slot: entrySlot(fingerprintWith(keyring.previous, card.pan)),
              byFingerprint: false,
            });
        } else {
          candidates.push({ index, slot: entrySlot(card.fingerprint), byFingerprint: true });
        }
      });
      let allowed = candidates;
      if (principal.role === 'issuer') {
        // By fingerprint the BIN is unknown: an issuer may remove what its own events listed.
        const entries = await store.getEntries(candidates.map((c) => c.slot));
        allowed = candidates.filter((c, i) => {
          if (!c.byFingerprint) return true;
          const entry = entries[i] ? decodeEntry(entries[i]!) : null;
          const own = entry?.eventSeqs.some((s) => registry.events.get(s)?.issuerId === principal.issuerId);
          if (entry && !own) rejected.push({ index: c.index, reason: 'not listed by your events' });
          return !entry || own;
        });
      }
      const removed = await store.removeCards(allowed.map((c) => c.slot));
      const considered = new Set(allowed.map((c) => c.index)).size;
      return { removed, notListed: Math.max(0, considered - removed), rejected };
    },
  );

  const issuerParams = z.object({ issuerId: tenantIdSchema });
  const rangesSchema = z.array(binRangeSchema).max(1000);
  app.put(
    '/v1/issuers/:issuerId/bin-ranges',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        tags: ['watchlists'],
        summary: "Register an issuer's BIN ranges (replaces the previous list)",
        security: [{ bearer: [] }],
        params: issuerParams,
        body: rangesSchema,
        response: { 200: z.object({ issuerId: z.string(), ranges: rangesSchema }), ...errors },
      },
    },
    async (request) => {
      await store.setBinRanges(request.params.issuerId, request.body);
      return { issuerId: request.params.issuerId, ranges: request.body };
    },
  );

  app.get(
    '/v1/issuers/:issuerId/bin-ranges',
    {
      onRequest: issuerOrAdmin,
      schema: {
        tags: ['watchlists'],
        summary: "An issuer's BIN ranges",
        security: [{ bearer: [] }],
        params: issuerParams,
        response: { 200: z.object({ issuerId: z.string(), ranges: rangesSchema }), ...errors },
      },
    },
    async (request) => {
      const principal = request.principal!;
      if (principal.role === 'issuer' && principal.issuerId !== request.params.issuerId)
        throw new HttpError('FORBIDDEN', 'an issuer can read its own ranges only');
      return { issuerId: request.params.issuerId, ranges: await store.getBinRanges(request.params.issuerId) };
    },
  );

  const hitSchema = z.object({
    at: z.string(),
    merchantId: z.string(),
    transactionId: z.string(),
    amount: z.number(),
    currency: z.string(),
    decision: z.string(),
    score: z.number(),
    card: z.string(),
    eventIds: z.array(z.string()),
  });
  app.get(
    '/v1/issuer/hits',
    {
      onRequest: app.requireRole('issuer'),
      schema: {
        tags: ['watchlists'],
        summary: 'Where your listed cards were tried: newest first',
        security: [{ bearer: [] }],
        querystring: z.object({
          eventId: eventParams.shape.id.optional(),
          from: z.iso.datetime({ offset: true }).optional(),
          to: z.iso.datetime({ offset: true }).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
        response: { 200: z.object({ hits: z.array(hitSchema) }), ...errors },
      },
    },
    async (request) => {
      const principal = request.principal!;
      const q = request.query;
      const ranges = await store.getBinRanges(principal.issuerId!);
      const hits = await store.listHits(principal.issuerId!, {
        eventId: q.eventId,
        limit: q.limit,
        from: q.from ? Date.parse(q.from) : undefined,
        to: q.to ? Date.parse(q.to) : undefined,
      });
      // Only its own BINs, even for hits its events recorded (an admin may list any card in an issuer's event).
      return { hits: hits.filter((h) => binInRanges(h.bin, ranges)).map(({ bin: _bin, ...h }) => h) };
    },
  );
};
