// A recording of traffic, for backtests (docs/backtest.md): every scoring as the engine saw it after
// card reduction, and what was learnt of it later (merchants' outcomes, analysts' labels), joined
// by merchant and transaction id. Never a card number: the card is its keyed fingerprint, BIN and
// last 4; personal fields are kept as the engine's keyed identities, their text replaced by a mark.
import { z } from 'zod';
import type { Evidence, ReducedScoring } from '../core/engine.ts';
import type { FeatureMap, FeatureValue } from '../core/feature-map.ts';
import { LIST_FEATURES, listFeatures } from '../core/lists.ts';
import { WATCHLIST_FEATURES, watchlistFeatures } from '../core/watchlist.ts';
import { DECISIONS, type ScoreRequest, type ScoreResponse } from '../core/schemas.ts';

/**
 * The format's version. 2: a scoring's `lookups` leave out what found nothing (NOTHING_FOUND), most
 * of a record's bytes in version 1, which kept every one. 3: an outcome has `reportedAt`, when it
 * reached the engine (a backtest replays it then, not at its own date). All are read.
 */
export const RECORD_VERSION = 3;
const READ_VERSIONS = [1, 2, RECORD_VERSION] as const;
/** What a personal field's text becomes: its presence is kept (features read it), its content is not. */
export const PERSONAL_MARK = '*';

/** Features a replay on fresh stores cannot compute again: the watchlist's and the lists' answers then. */
const LOOKUP_FEATURES: readonly string[] = [...WATCHLIST_FEATURES, ...LIST_FEATURES];
/**
 * The lookups' answers for a card on no watchlist and entities on no list: most scorings'. A record
 * keeps only the lookups that differ (a listed card's, a listed device's); a replay restores the rest.
 */
export const NOTHING_FOUND: Readonly<FeatureMap> = Object.freeze({
  ...watchlistFeatures(null, [], 0),
  ...listFeatures({ negative: [], allow: [] }, []),
});
const PERSONAL_ENTITIES = ['device', 'ip', 'email', 'shipping'] as const;
const RECORDED_ENTITIES = ['card', ...PERSONAL_ENTITIES] as const;
type RecordedEntity = (typeof RECORDED_ENTITIES)[number];

export interface RecordedCard {
  fingerprint: string;
  keyId: string;
  bin: string;
  last4: string;
  expiryMonth: number;
  expiryYear: number;
  cvvResult: ScoreRequest['card']['cvvResult'];
}

/** The request with its card reduced and its personal text replaced by PERSONAL_MARK. */
export type RecordedRequest = Omit<ScoreRequest, 'card'> & { card: RecordedCard };

export interface ScoredRecord {
  kind: 'scored';
  v: number;
  merchantId: string;
  transactionId: string;
  /** Event time: the transaction's occurredAt, else its arrival (ISO 8601: no long digit run a scanner could take for a card). */
  at: string;
  request: RecordedRequest;
  /** The keyed identities (primary key) of the personal entities, as the counters were kept. */
  entities: Partial<Record<(typeof PERSONAL_ENTITIES)[number], string>>;
  /**
   * The other identities the counters were read under, after the first, where there are any: the
   * card's and the entities' under the previous key while a key rotation is under way, an address's
   * under the previous normalisation. A replay reads them too, as production did; without them a
   * card's history before a rotation would be another card's.
   */
  alternates?: Partial<Record<RecordedEntity, string[]>>;
  /** The watchlist's and the lists' answers then, those that found something (v1: all of them). */
  lookups: FeatureMap;
  decision: ScoreResponse['decision'];
  score: number;
  reasons: string[];
  degraded: boolean;
  versions: ScoreResponse['versions'];
}

/** A merchant's outcome (authorised, declined, chargeback, ...) as the engine recorded it. */
export interface OutcomeRecord {
  kind: 'outcome';
  v: number;
  merchantId: string;
  transactionId: string;
  outcome: string;
  /** Its own time (the merchant's occurredAt, else its arrival): where it counts. */
  at: string;
  /**
   * When it reached the engine (v3 on; older records have none): a chargeback dated at the dispute
   * may be reported weeks later, and production's scorings in between knew nothing of it.
   */
  reportedAt?: string;
}

/** An analyst's decision on a case; `withdrawn`: a lead reversed it (the labels given before `at` no longer hold). */
export interface LabelRecord {
  kind: 'label';
  v: number;
  merchantId: string;
  transactionId: string;
  label: 'fraud' | 'legitimate' | 'withdrawn';
  at: string;
}

export type TrafficRecord = ScoredRecord | OutcomeRecord | LabelRecord;

const ADDRESS_TEXT = ['name', 'line1', 'line2', 'city', 'region', 'postalCode'] as const;

function marked<T extends object>(value: T | undefined, fields: readonly (keyof T)[]): T | undefined {
  if (!value) return undefined;
  const copy = { ...value };
  for (const f of fields) if (copy[f] !== undefined) (copy as Record<keyof T, unknown>)[f] = PERSONAL_MARK;
  return copy;
}

/** The record of a fresh scoring (not a replayed answer): what a backtest replays. */
export function scoredRecord(
  merchantId: string,
  request: ScoreRequest,
  response: ScoreResponse,
  evidence: Evidence,
): ScoredRecord {
  const { card, device, customer, billingAddress, shippingAddress, items, ...rest } = request;
  const reduced: RecordedRequest = {
    // What is left holds no free text: the transaction id (validated card-free), amount, codes and
    // times (test/backtest/record-fields.test.ts fails on a new string field until it is marked here).
    ...rest,
    occurredAt: new Date(evidence.at).toISOString(),
    card: {
      fingerprint: evidence.card.fingerprint,
      keyId: evidence.card.keyId,
      bin: evidence.card.bin,
      last4: evidence.card.last4,
      expiryMonth: card.expiryMonth,
      expiryYear: card.expiryYear,
      cvvResult: card.cvvResult,
    },
  };
  const markedDevice = marked(device, ['id', 'ip', 'userAgent']);
  const markedCustomer = marked(customer, ['id', 'email', 'phone']);
  const markedBilling = marked(billingAddress, ADDRESS_TEXT);
  const markedShipping = marked(shippingAddress, ADDRESS_TEXT);
  if (markedDevice) reduced.device = markedDevice;
  if (markedCustomer) reduced.customer = markedCustomer;
  if (markedBilling) reduced.billingAddress = markedBilling;
  if (markedShipping) reduced.shippingAddress = markedShipping;
  if (items) reduced.items = items.map((i) => marked(i, ['name', 'sku', 'category'])!);
  const entities: ScoredRecord['entities'] = {};
  for (const kind of PERSONAL_ENTITIES) {
    const identity = evidence.entities[kind]?.[0];
    if (identity) entities[kind] = identity;
  }
  let alternates: ScoredRecord['alternates'];
  for (const kind of RECORDED_ENTITIES) {
    const identities = evidence.entities[kind];
    if (identities && identities.length > 1) (alternates ??= {})[kind] = identities.slice(1);
  }
  const lookups: FeatureMap = {};
  for (const name of LOOKUP_FEATURES) {
    const value = evidence.features[name];
    if (value !== undefined && value !== NOTHING_FOUND[name]) lookups[name] = value;
  }
  return {
    kind: 'scored',
    v: RECORD_VERSION,
    merchantId,
    transactionId: request.transactionId,
    at: new Date(evidence.at).toISOString(),
    request: reduced,
    entities,
    ...(alternates ? { alternates } : {}),
    lookups,
    decision: response.decision,
    score: response.score,
    reasons: response.reasons.map((r) => r.code),
    degraded: response.degraded,
    versions: response.versions,
  };
}

/** The engine's input for a recorded scoring: the request (card number empty, never read) and its reduction. */
export function replayInput(record: ScoredRecord): { request: ScoreRequest; reduced: ReducedScoring } {
  const { fingerprint, keyId, bin, last4, ...card } = record.request.card;
  const alternates = record.alternates ?? {};
  const entities: ReducedScoring['entities'] = {};
  for (const [kind, identity] of Object.entries(record.entities))
    entities[kind as keyof typeof entities] = [identity, ...(alternates[kind as RecordedEntity] ?? [])];
  // A degraded scoring asked neither the watchlist nor the lists: it has no lookups to restore.
  const lookups = record.degraded ? record.lookups : { ...NOTHING_FOUND, ...record.lookups };
  return {
    request: { ...record.request, card: { ...card, number: '' } },
    reduced: {
      card: { fingerprints: [fingerprint, ...(alternates.card ?? [])], keyId, bin, last4 },
      entities,
      lookups,
    },
  };
}

const featureValue: z.ZodType<FeatureValue> = z.union([z.number(), z.string(), z.boolean()]);
const ids = { merchantId: z.string().min(1).max(128), transactionId: z.string().min(1).max(64) };
const isoTime = z.iso.datetime({ offset: true });
const readVersion = z.literal([...READ_VERSIONS]);

/** How a recorded line is read back (a backtest's source may be old or foreign: checked, not trusted). */
export const trafficRecordSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('scored'),
    v: readVersion,
    ...ids,
    at: isoTime,
    request: z
      .object({
        transactionId: z.string(),
        amount: z.number().int().positive(),
        currency: z.string().regex(/^[A-Z]{3}$/),
        channel: z.string(),
        card: z
          .object({
            fingerprint: z.string().min(1),
            keyId: z.string(),
            bin: z.string().regex(/^\d{6,8}$/),
            last4: z.string().regex(/^\d{4}$/),
            expiryMonth: z.number().int(),
            expiryYear: z.number().int(),
            cvvResult: z.string(),
          })
          .passthrough(),
      })
      .passthrough(),
    entities: z.partialRecord(z.enum(PERSONAL_ENTITIES), z.string()),
    alternates: z.partialRecord(z.enum(RECORDED_ENTITIES), z.array(z.string())).optional(),
    lookups: z.record(z.string(), featureValue),
    decision: z.enum(DECISIONS),
    score: z.number(),
    reasons: z.array(z.string()),
    degraded: z.boolean(),
    versions: z.object({ engine: z.string(), ruleset: z.string(), model: z.string().optional() }),
  }),
  z.object({
    kind: z.literal('outcome'),
    v: readVersion,
    ...ids,
    outcome: z.string(),
    at: isoTime,
    reportedAt: isoTime.optional(),
  }),
  z.object({
    kind: z.literal('label'),
    v: readVersion,
    ...ids,
    label: z.enum(['fraud', 'legitimate', 'withdrawn']),
    at: isoTime,
  }),
]);

/**
 * A record's Kafka message key (partitions a transaction's records together). Not a join key: a
 * transaction id may hold ':' (`a` + `b:c` and `a:b` + `c` give the same); joinKey is.
 */
export const recordKey = (r: { merchantId: string; transactionId: string }) => `${r.merchantId}:${r.transactionId}`;

/**
 * The key that joins a scoring with what was learnt of it later (outcomes, labels) in the offline
 * tools: one per (merchant, transaction) pair, whatever characters the ids hold.
 */
export const joinKey = (r: { merchantId: string; transactionId: string }) =>
  JSON.stringify([r.merchantId, r.transactionId]);

/** A record as a sink writes it: its key (recordKey) and its JSON, one line of the recording. */
export interface RecordLine {
  key: string;
  json: string;
}

export const recordLine = (record: TrafficRecord): RecordLine => ({
  key: recordKey(record),
  json: JSON.stringify(record),
});
