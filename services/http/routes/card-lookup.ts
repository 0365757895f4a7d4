// Issuers' and admins' look-up of listed cards: is a card on the watchlist, and in which events.
// An issuer learns only of its own live events: that another issuer lists the card is theirs to know,
// so such a card is "not listed" to it. Leakguard's own events (breach discovery: a suspected merchant
// whose customers' cards are listed) are shown for the issuer's own card numbers, those it looks up by
// number in its BIN ranges: which of its cards a suspected breach exposed is what it needs to reissue
// them, and GET /v1/issuer/suspected-events tells only how many. Only a suspicion an analyst
// confirmed (disclosedMerchant) is shown: an unreviewed one, shown on a few of the issuer's cards,
// would name its merchant all the same (the one merchant those cards share in its window). A POST, so that card numbers never sit in a URL
// or an access log; the answer never repeats one.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { identifyCard, maskPan, type CardKeyring } from '../../core/card.ts';
import {
  binInRanges,
  CPP_ISSUER,
  DATA_ELEMENTS,
  disclosedMerchant,
  decodeEntry,
  entrySlot,
  eventView,
  matchEntries,
  requestedPan,
  type CompromiseEvent,
  type DataElement,
  type EntrySlot,
  type EventView,
  type WatchlistStore,
} from '../../core/watchlist.ts';
import { errorResponseSchema } from '../../core/errors.ts';
import { cardRemovalSchema, eventSchema } from './watchlist.ts';

export interface CardLookupRouteOptions {
  store: WatchlistStore;
  keyring: CardKeyring;
}

/** Cards one call may look up. */
export const LOOKUP_MAX_CARDS = 1000;
/** Room for LOOKUP_MAX_CARDS fingerprints, pretty-printed (the app's default body limit is 64 KiB). */
const LOOKUP_BODY_BYTES = 256 * 1024;

// A card as DELETE /v1/cards names it (a number or a fingerprint); a number must also be one.
// Grouped digits are read as an upload reads them (requestedPan).
const cardRefSchema = cardRemovalSchema.shape.cards.element.superRefine((card, ctx) => {
  const read = 'pan' in card ? requestedPan(card.pan) : null;
  if (read && 'problem' in read) ctx.addIssue({ code: 'custom', path: ['pan'], message: read.problem });
});
/** The digits of a card number the schema accepted. */
const panOf = (written: string) => (requestedPan(written) as { pan: string }).pan;
const lookupBodySchema = z
  .object({
    cards: z
      .array(cardRefSchema)
      .min(1)
      .max(LOOKUP_MAX_CARDS)
      .describe(
        `1 to ${LOOKUP_MAX_CARDS} cards, each {"pan": "..."} or {"fingerprint": "..."} (as DELETE /v1/cards takes them). A card number (its digits plain or grouped as card lists may be) that is not one (12 to 19 digits, Luhn) refuses the request: 400 on its path, the number never repeated.`,
      ),
  })
  .meta({
    id: 'CardLookup',
    example: {
      cards: [{ pan: '4111111111111111' }, { fingerprint: 'x8KcW0bqQj3Zf1TtJY2m5hM9rS4uVwA7eD6gB0nLpCk' }],
    },
  });

const LISTING_EVENT_EXAMPLE = {
  id: 'ce_7',
  externalId: 'breach-2026-11',
  issuerId: 'bank-a',
  source: 'card network alert',
  status: 'open',
  confidence: 'confirmed',
  dataElements: ['pan', 'expiry', 'cvv'],
  exposureStart: '2026-05-01T00:00:00Z',
  exposureEnd: '2026-10-31T00:00:00Z',
  createdAt: '2026-11-12T08:00:00.000Z',
};
const listedEventSchema = eventSchema
  .pick({
    id: true,
    externalId: true,
    issuerId: true,
    source: true,
    status: true,
    confidence: true,
    dataElements: true,
    exposureStart: true,
    exposureEnd: true,
    createdAt: true,
  })
  .meta({
    id: 'ListingEvent',
    description:
      "A live event (open or closed) that lists the card, shown as GET /v1/compromise-events shows it. An issuer's own events, and for its own card numbers Leakguard's suspected breaches an analyst confirmed (issuerId leakguard, source leakguard-cpp).",
    example: LISTING_EVENT_EXAMPLE,
  });
type ListingEvent = z.infer<typeof listedEventSchema>;

const LOOKUP_EXAMPLE = {
  cards: [
    {
      index: 0,
      card: '411111******1111',
      fingerprint: 'Vt0rQ3C2qF1nJcO8yBm4dWkX6zA9hLp5sGeR7uNaT2E',
      listed: true,
      events: [LISTING_EVENT_EXAMPLE],
      leakedElements: ['pan', 'expiry', 'cvv'],
      firstListedAt: null,
    },
    {
      index: 1,
      card: null,
      fingerprint: 'x8KcW0bqQj3Zf1TtJY2m5hM9rS4uVwA7eD6gB0nLpCk',
      listed: false,
      events: [],
      leakedElements: [],
      firstListedAt: null,
    },
  ],
};
const lookupResultSchema = z
  .object({
    cards: z.array(
      z.object({
        index: z.number().describe("The card's place in the request (from 0)."),
        card: z
          .string()
          .nullable()
          .describe('The card masked to its BIN and last 4 (looked up by number); null when looked up by fingerprint.'),
        fingerprint: z
          .string()
          .nullable()
          .describe(
            'Its fingerprint under the current card key (by number), or the one given: what DELETE /v1/cards takes. Null when refused.',
          ),
        listed: z.boolean().describe("Listed by a live event the key may see (an issuer's: its own only)."),
        events: z.array(listedEventSchema).describe('Those events, oldest first.'),
        leakedElements: z.array(z.enum(DATA_ELEMENTS)).describe("What leaked about the card: those events' elements."),
        firstListedAt: z
          .string()
          .nullable()
          .describe(
            "Admins only (null for an issuer): when the card was first listed, by any event. A card's entry keeps one time for every issuer's listings, so an issuer is not shown it: it could tell that another issuer listed the card first. An issuer's events carry their createdAt.",
          ),
        refused: z
          .string()
          .optional()
          .describe("Why this card was not looked up (BIN_NOT_OWNED: an issuer's card number outside its BIN ranges)."),
      }),
    ),
  })
  .meta({ id: 'CardLookupReport', example: LOOKUP_EXAMPLE });
type CardResult = z.infer<typeof lookupResultSchema>['cards'][number];

const listingEvent = (e: CompromiseEvent): ListingEvent => ({
  id: e.id,
  externalId: e.externalId,
  issuerId: e.issuerId,
  source: e.source,
  status: e.status,
  confidence: e.confidence,
  dataElements: e.dataElements,
  exposureStart: e.exposureStart,
  exposureEnd: e.exposureEnd,
  createdAt: e.createdAt,
});

export const cardLookupRoutes: FastifyPluginAsyncZod<CardLookupRouteOptions> = async (app, opts) => {
  const { store, keyring } = opts;

  app.post(
    '/v1/cards/lookup',
    {
      onRequest: app.requireRole('issuer', 'admin'),
      bodyLimit: Math.max(app.initialConfig.bodyLimit ?? 0, LOOKUP_BODY_BYTES),
      schema: {
        tags: ['watchlists'],
        operationId: 'lookupCards',
        summary: 'Whether cards are listed, and by which of your events (by card number or fingerprint)',
        security: [{ bearer: [] }],
        description:
          "Answers each card in the request's order: listed or not, the live events (open or closed; never retracted ones) that list it, what leaked, the masked card and its fingerprint under the current card key (what DELETE /v1/cards takes). An issuer sees only its own events: a card listed only by another issuer's events is `listed: false`, and the events of others are never counted nor named; for its own card numbers (looked up by number, in its BIN ranges) it also sees Leakguard's suspected breaches that list them once an analyst confirmed them (issuerId leakguard: which of its cards a breached merchant exposed, to reissue them; an unreviewed suspicion is not shown, since the cards it lists would name its merchant). An issuer may look up card numbers in its BIN ranges (others are `refused`, BIN_NOT_OWNED) and any fingerprint. An admin sees every event. During a card-key rotation a card number is looked up under both keys. A POST so that card numbers never sit in a URL; the answer never holds one.",
        body: lookupBodySchema,
        response: {
          200: lookupResultSchema,
          400: errorResponseSchema,
          401: errorResponseSchema,
          403: errorResponseSchema,
        },
      },
    },
    async (request) => {
      const principal = request.principal!;
      const issuerId = principal.role === 'issuer' ? principal.issuerId! : undefined;
      // An issuer's BIN ranges and events: all its own, whatever the cards name, so that neither the
      // answer nor its time depends on another issuer's listing.
      const [ranges, ownEvents, suspicions] =
        issuerId === undefined
          ? [undefined, undefined, undefined]
          : await Promise.all([store.getBinRanges(issuerId), store.listEvents(issuerId), store.listEvents(CPP_ISSUER)]);
      // The cards an issuer named by number in its ranges: its own, for which breach discovery's
      // suspicions are shown too (a fingerprint proves no ownership).
      const ownCard = new Set<number>();

      const results: CardResult[] = [];
      // Each card's slots (a number: one per key, the primary first), read in one call.
      const slotsOf: EntrySlot[][] = [];
      request.body.cards.forEach((card, index) => {
        const result: CardResult = {
          index,
          card: null,
          fingerprint: null,
          listed: false,
          events: [],
          leakedElements: [],
          firstListedAt: null,
        };
        results.push(result);
        if ('pan' in card) {
          const pan = panOf(card.pan);
          result.card = maskPan(pan);
          if (ranges && !binInRanges(pan, ranges)) {
            result.refused = 'BIN_NOT_OWNED: card is outside your BIN ranges';
            slotsOf.push([]);
            return;
          }
          if (ranges) ownCard.add(index);
          // Its fingerprint under each key (the primary first): one HMAC a key, the slots made of them.
          const { fingerprints } = identifyCard(keyring, pan);
          result.fingerprint = fingerprints[0]!;
          slotsOf.push(fingerprints.map(entrySlot));
        } else {
          result.fingerprint = card.fingerprint;
          slotsOf.push([entrySlot(card.fingerprint)]);
        }
      });
      const raw = await store.getEntries(slotsOf.flat());
      let at = 0;
      const entriesOf = slotsOf.map((slots) =>
        slots.map(() => {
          const entry = raw[at++];
          return entry ? decodeEntry(entry) : null;
        }),
      );

      // The events that may be shown, read from the store as they are now (a retraction made on
      // another engine a moment ago counts): an issuer's own; for an admin, each the entries name.
      const events = new Map<number, CompromiseEvent>();
      const seqs = new Set(entriesOf.flat().flatMap((e) => e?.eventSeqs ?? []));
      for (const event of ownEvents ?? (await Promise.all([...seqs].map((s) => store.getEvent(s)))))
        if (event) events.set(event.seq, event);
      const views = new Map<number, EventView>([...events].map(([seq, e]) => [seq, eventView(e)]));
      const withSuspicions = new Map(views);
      for (const event of (suspicions ?? []).filter((e) => disclosedMerchant(e) !== undefined)) {
        events.set(event.seq, event);
        withSuspicions.set(event.seq, eventView(event));
      }

      entriesOf.forEach((entries, i) => {
        const result = results[i]!;
        // The entries under both keys as one card, live events only (matchEntries, as scoring does).
        const match = matchEntries(entries, ownCard.has(i) ? withSuspicions : views, 0);
        if (!match || match.events.length === 0) return;
        const shown = match.events.map((v) => events.get(v.seq)!).sort((a, b) => a.seq - b.seq);
        result.listed = true;
        result.events = shown.map(listingEvent);
        const leaked = new Set<DataElement>(shown.flatMap((e) => e.dataElements));
        result.leakedElements = DATA_ELEMENTS.filter((e) => leaked.has(e));
        // The entry's time counts every issuer's listings: an admin's to see only.
        if (issuerId === undefined) result.firstListedAt = new Date(match.firstListedAt * 1000).toISOString();
      });
      return { cards: results };
    },
  );
};
