// Breach discovery's door: an admin runs a scan for common points of purchase at once
// (POST /v1/admin/cpp/scan); an issuer sees the suspected breaches that exposed cards of its BIN
// ranges (GET /v1/issuer/suspected-events). The events themselves are compromise events
// (source leakguard-cpp) listed with the others by GET /v1/compromise-events.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { closedObject, errorResponseSchema } from '../../core/errors.ts';
import {
  CPP_ISSUER,
  disclosedMerchant,
  disclosedWindow,
  exposedInRanges,
  type WatchlistStore,
} from '../../core/watchlist.ts';
import type { ScanReport } from '../../breach/scanner.ts';
import { HttpError } from '../errors.ts';
import { eventCursor, limitSchema, pageFields } from '../pagination.ts';

export interface BreachRouteOptions {
  /** Absent when breach discovery is off (LEAKGUARD_CPP=off): the routes answer 409. */
  scan: ((at?: number) => Promise<ScanReport>) | undefined;
  store: WatchlistStore;
}

const EVIDENCE_EXAMPLE = {
  merchantId: 'shop-77',
  fraudCards: 23,
  weightedFraudCards: 14.5,
  expected: 0.41,
  log10PValue: -21.3,
  exposedCards: 1840,
  exposedByBin: { '411111': 920, '555555': 920 },
  firstFrauds: [1780000000000, 1780003600000],
  scannedAt: '2026-11-20T06:00:00.000Z',
  listedUntil: '2026-11-20T06:00:00.000Z',
  presumedOver: false,
};

export const cppEvidenceSchema = z
  .object({
    merchantId: z.string(),
    fraudCards: z.number().describe('Fraudulent cards that used the merchant before their first fraud.'),
    weightedFraudCards: z.number().describe('Their count weighted by how far each label can be trusted.'),
    expected: z.number().describe('What chance would give, from the merchant’s share of all cards.'),
    log10PValue: z.number().describe('log10 of the p-value, corrected for the number of merchants tested.'),
    exposedCards: z
      .number()
      .describe('Cards that used the merchant since the window opened, up to listedUntil, listed on the event.'),
    exposedByBin: z.record(z.string(), z.number()),
    firstFrauds: z.array(z.number()).describe('The fraudulent cards’ first frauds, epoch ms, ascending.'),
    scannedAt: z.string(),
    listedUntil: z
      .string()
      .optional()
      .describe(
        'The latest visit whose card the scan listed: the scan’s time while the breach may still run, the exposure window’s end once it is presumed over.',
      ),
    presumedOver: z
      .boolean()
      .optional()
      .describe(
        'The breach is presumed over: no compromising visit was seen for twice the time its cards took to show fraud after their visit there (90th percentile) since the latest one; cards used there since are not listed.',
      ),
    review: z
      .object({ decision: z.enum(['confirmed', 'dismissed']), by: z.string(), at: z.string() })
      .optional()
      .describe('An analyst’s confirmation or dismissal (console).'),
  })
  .meta({ id: 'CppEvidence', example: EVIDENCE_EXAMPLE });

const scanRequestSchema = z
  .object({
    at: z.iso
      .datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone' })
      .optional()
      .describe('The scan’s time (the transactions’ own time); default: the latest transaction recorded.'),
  })
  .default({})
  .meta({ id: 'CppScanRequest', example: {} });

const suspectSchema = z.object({
  merchantId: z.string(),
  eventId: z.string(),
  created: z.boolean().describe('False when a previous scan opened the event: newly exposed cards were added.'),
  status: z.string(),
  confidence: z.string(),
  fraudCards: z.number(),
  expected: z.number(),
  log10PValue: z.number(),
  windowStart: z.string(),
  windowEnd: z.string(),
  exposedCards: z.number(),
  newlyExposed: z.number(),
});
const scanReportSchema = z
  .object({
    at: z.string(),
    scannedFrom: z
      .string()
      .describe(
        "The start of the period whose first frauds the scan tested: its longest window's start (30 days before `at`), or later when truncated (`at` itself when no card fit).",
      ),
    truncated: z
      .boolean()
      .describe(
        "The cards labelled in the longest window exceeded the scan's budget (LEAKGUARD_CPP_SCAN_MAX_CARDS): it tested the most recent cards that fit, from scannedFrom, its longer windows shortened to them.",
      ),
    labelledCards: z
      .number()
      .describe(
        "Cards labelled in the period scanned, held against the scan's budget (LEAKGUARD_CPP_SCAN_MAX_CARDS): at least fraudulentCards, as cards whose fraud began earlier count too.",
      ),
    fraudulentCards: z.number().describe('Cards whose first fraud fell in the recent period scanned.'),
    merchantsTested: z.number(),
    distinctCards: z.number(),
    merchantsPerCard: z
      .number()
      .describe(
        'How many merchants the average card used in the period: a fraudulent card that used more counts as that many times an average card in what chance gives (0: none recorded yet, every card average).',
      ),
    suspected: z.array(suspectSchema),
  })
  .meta({
    id: 'CppScanReport',
    example: {
      at: '2026-11-20T06:00:00.000Z',
      scannedFrom: '2026-10-21T06:00:00.000Z',
      truncated: false,
      labelledCards: 44,
      fraudulentCards: 41,
      merchantsTested: 212,
      distinctCards: 180_000,
      merchantsPerCard: 6.4,
      suspected: [
        {
          merchantId: 'shop-77',
          eventId: 'ce_12',
          created: true,
          status: 'open',
          confidence: 'suspected',
          fraudCards: 23,
          expected: 0.41,
          log10PValue: -21.3,
          windowStart: '2026-10-01T09:12:00.000Z',
          windowEnd: '2026-11-02T18:40:00.000Z',
          exposedCards: 1840,
          newlyExposed: 1840,
        },
      ],
    },
  });

const issuerSuspectedSchema = z
  .object({
    events: z.array(
      z.object({
        id: z.string(),
        merchantId: z
          .string()
          .optional()
          .describe(
            'The suspected merchant: present once an analyst confirmed the event (confidence confirmed), absent before. An unreviewed suspicion is statistical and does not name the merchant.',
          ),
        status: z.string(),
        confidence: z.string(),
        exposureStart: z
          .string()
          .describe(
            'The estimated exposure window: exact once an analyst confirmed the event; before that, whole UTC days (from midnight to the midnight after its end).',
          ),
        exposureEnd: z.string(),
        discoveredAt: z.string(),
        exposedCards: z.number().describe('Exposed cards in your BIN ranges.'),
      }),
    ),
    ...pageFields,
  })
  .meta({
    id: 'IssuerSuspectedEvents',
    example: {
      events: [
        {
          id: 'ce_12',
          merchantId: 'shop-77',
          status: 'open',
          confidence: 'confirmed',
          exposureStart: '2026-10-01T09:12:00.000Z',
          exposureEnd: '2026-11-02T18:40:00.000Z',
          discoveredAt: '2026-11-20T06:00:00.000Z',
          exposedCards: 920,
        },
        {
          id: 'ce_15',
          status: 'open',
          confidence: 'suspected',
          exposureStart: '2026-10-20T00:00:00.000Z',
          exposureEnd: '2026-11-19T00:00:00.000Z',
          discoveredAt: '2026-11-21T06:00:00.000Z',
          exposedCards: 41,
        },
      ],
      has_more: false,
      next: null,
    },
  });

const errors = { 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema };

export const breachRoutes: FastifyPluginAsyncZod<BreachRouteOptions> = async (app, { scan, store }) => {
  app.post(
    '/v1/admin/cpp/scan',
    {
      onRequest: app.requireRole('admin'),
      // The body is optional: none at all (no content type, Fastify's null) is the default scan.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        tags: ['breach discovery'],
        operationId: 'scanCommonPoints',
        summary: 'Scan for common points of purchase now',
        description:
          'Tests, for the cards that turned fraudulent recently, which merchants they passed through before their first fraud more often than chance allows (docs/breach-discovery.md). A suspected merchant opens a compromise event of source leakguard-cpp and its exposed cards are listed on it: scoring steps them up.',
        security: [{ bearer: [] }],
        body: scanRequestSchema,
        response: { 200: scanReportSchema, ...errors, 409: errorResponseSchema },
      },
    },
    async (request) => {
      if (!scan) throw new HttpError('CPP_DISABLED', 'breach discovery is off (LEAKGUARD_CPP=off)');
      const report = await scan(request.body.at ? Date.parse(request.body.at) : undefined);
      return {
        at: new Date(report.at).toISOString(),
        scannedFrom: new Date(report.scannedFrom).toISOString(),
        truncated: report.truncated,
        labelledCards: report.labelledCards,
        fraudulentCards: report.fraudulentCards,
        merchantsTested: report.merchantsTested,
        distinctCards: report.distinctCards,
        merchantsPerCard: Math.round(report.merchantsPerCard * 100) / 100,
        suspected: report.findings.map((f) => ({
          merchantId: f.point.merchantId,
          eventId: f.event.id,
          created: f.created,
          status: f.event.status,
          confidence: f.event.confidence,
          fraudCards: f.point.fraudCards,
          expected: f.point.expected,
          log10PValue: f.point.log10PValue,
          windowStart: new Date(f.point.windowStart).toISOString(),
          windowEnd: new Date(f.point.windowEnd).toISOString(),
          exposedCards: f.event.evidence?.exposedCards ?? 0,
          newlyExposed: f.newlyExposed,
        })),
      };
    },
  );

  app.get(
    '/v1/issuer/suspected-events',
    {
      onRequest: app.requireRole('issuer'),
      schema: {
        tags: ['breach discovery'],
        operationId: 'listIssuerSuspectedEvents',
        summary: 'Suspected breaches that exposed cards of your BIN ranges',
        description:
          "Compromise events Leakguard opened itself (source leakguard-cpp) whose exposed cards include cards of your registered BIN ranges, with how many, oldest first. Dismissed events are left out. The suspected merchant (`merchantId`) is named once an analyst confirmed the event (`confidence: confirmed`); before that the event is listed without it. Pages: `limit` events at most; while `has_more` is true, ask for the next page with `starting_after` set to the page's `next`. Other query parameters are refused (400).",
        security: [{ bearer: [] }],
        querystring: closedObject({ limit: limitSchema(), starting_after: eventCursor.schema.optional() }),
        response: { 200: issuerSuspectedSchema, ...errors },
      },
    },
    async (request) => {
      const q = request.query;
      const after = q.starting_after === undefined ? undefined : eventCursor.decode(q.starting_after);
      const ranges = await store.getBinRanges(request.principal!.issuerId!);
      // Filtered before the limit (a page is full unless it is the last), in the events' order.
      const matching = (await store.listEvents(CPP_ISSUER))
        .filter((e) => after === undefined || e.seq > after)
        .sort((a, b) => a.seq - b.seq)
        .filter((e) => e.status !== 'retracted')
        .map((e) => ({ e, exposed: exposedInRanges(e, ranges) }))
        .filter(({ exposed }) => exposed > 0);
      const page = matching.slice(0, q.limit);
      const hasMore = matching.length > q.limit;
      return {
        has_more: hasMore,
        next: hasMore ? eventCursor.encode(page.at(-1)!.e.seq) : null,
        events: page.map(({ e, exposed }) => {
          // Named to issuers once an analyst confirmed the suspicion, never before.
          const merchantId = disclosedMerchant(e);
          return {
            id: e.id,
            ...(merchantId === undefined ? {} : { merchantId }),
            status: e.status,
            confidence: e.confidence,
            // Whole days until then: an instant would name the merchant all the same.
            ...disclosedWindow(e),
            discoveredAt: e.discoveredAt,
            exposedCards: exposed,
          };
        }),
      };
    },
  );
};
