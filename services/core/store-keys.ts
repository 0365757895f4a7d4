// The port through which the core names what a store keeps. The core plans which counters and
// lists a transaction touches and which of them must be written together; the store adapter names
// them (services/adapters/redis/keys.ts: hash tags, one Redis Cluster slot per identity) and the
// embedded store keeps the same names.
import { KIND_LETTER, type EntityKind } from './entities.ts';

export const OUTCOME_KINDS = ['declines', 'chargebacks', 'challenge_failures'] as const;
export type CountedOutcome = (typeof OUTCOME_KINDS)[number];

export interface StoreKeys {
  /** An identity's transaction log (members `ref|cents|small`, velocity.ts logMember). */
  log(kind: EntityKind, id: string): string;
  /** The distinct identities of kind `of` seen with an identity. */
  distinct(kind: EntityKind, id: string, of: EntityKind): string;
  /** An identity's reported outcomes of one kind (declines, chargebacks, failed challenges). */
  outcomes(kind: EntityKind, id: string, outcome: CountedOutcome): string;
  /** The delayed counters' transaction log and fraud-label log. */
  delayed(kind: EntityKind, id: string): string;
  frauds(kind: EntityKind, id: string): string;
  /** A transaction's idempotency marker and its stored response. */
  marker(merchantId: string, transactionId: string): string;
  response(merchantId: string, transactionId: string): string;
  /** The reading kept for a retry until the response is stored (its layout, a newline, the reading). */
  kept(merchantId: string, transactionId: string): string;
  /** An analyst's negative-list entry for an entity, and a card allow-listed for a merchant. */
  negative(kind: EntityKind, identity: string): string;
  allow(merchantId: string, fingerprint: string): string;
  /**
   * The group a key belongs to: keys of one group are written in one script (one cluster slot).
   * Every key of one identity (log, distinct, outcomes, delayed, frauds) is in the group of its log.
   */
  groupOf(key: string): string;
}

/**
 * The marker's field for each entity's identity (`e:<kind letter>`): one field each, not one JSON of
 * them all, so that every value of a marker stays short and Redis keeps it compact for its life
 * (a listpack while each value is at most `hash-max-listpack-value`, 64 bytes: ~310 bytes a marker
 * instead of ~670 as a hash table). In the order a marker's entity fields are read.
 */
export const MARKER_ENTITY_FIELDS = (Object.entries(KIND_LETTER) as [EntityKind, string][]).map(
  ([kind, letter]) => [kind, `e:${letter}`] as const,
);

/**
 * Appends a marker's entity fields and values (field, identity, field, ...) for the identities a
 * transaction has, and returns how many; in place, because the claim's arguments take them on
 * every scoring (an array of pairs there measured 14-28 % more engine CPU in three bench:cost runs,
 * on a day when runs of one commit moved by up to ±20 %).
 */
export function appendMarkerEntities(entities: Partial<Record<EntityKind, string>>, out: (string | number)[]): number {
  let count = 0;
  for (const [kind, field] of MARKER_ENTITY_FIELDS) {
    const id = entities[kind];
    if (id !== undefined) {
      out.push(field, id);
      count++;
    }
  }
  return count;
}

/** The entities from the values of a marker's entity fields, read in MARKER_ENTITY_FIELDS's order. */
export function markerEntities(values: readonly (string | null | undefined)[]): Partial<Record<EntityKind, string>> {
  const entities: Partial<Record<EntityKind, string>> = {};
  MARKER_ENTITY_FIELDS.forEach(([kind], i) => {
    const id = values[i];
    if (id !== null && id !== undefined) entities[kind] = id;
  });
  return entities;
}

/**
 * A kept reading (StoreKeys.kept) is its plan's layout, a newline, then the reading: only a plan of
 * the same layout reuses it (layouts never hold a newline; a reading may, when packed).
 */
export const keptValue = (layout: string, reading: string) => `${layout}\n${reading}`;
export function keptReading(value: string | undefined, layout: string): string | undefined {
  if (value === undefined) return undefined;
  const end = value.indexOf('\n');
  return end >= 0 && value.slice(0, end) === layout ? value.slice(end + 1) : undefined;
}
