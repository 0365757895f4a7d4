// Leakguard's key layout in Redis. Everything stored about one identity shares its hash tag
// `lg:{<kind letter>:<id>}`, so that it lives in one Redis Cluster slot and one script can read
// and write it all; a transaction's marker, stored response and kept reading share `lg:{t:<merchant>:<tx>}`;
// watchlist entries live in 65,536 buckets `lg:w:{xxxx}`, one slot each (core/watchlist.ts picks
// the bucket). docs/redis-cluster.md has the whole table. The embedded store keeps the same names.
import { KIND_LETTER, type EntityKind } from '../../core/entities.ts';
import type { CountedOutcome, StoreKeys } from '../../core/store-keys.ts';

const OUTCOME_LETTER: Record<CountedOutcome, string> = { declines: 'd', chargebacks: 'c', challenge_failures: 'x' };

/** The key prefix of everything stored about one identity: its hash tag puts it all in one slot. */
export const entityTag = (kind: EntityKind, id: string) => `lg:{${KIND_LETTER[kind]}:${id}}`;

/** The hash of a watchlist bucket (core/watchlist.ts EntrySlot.bucket: four hex digits). */
export const watchlistBucketKey = (bucket: string) => `lg:w:{${bucket}}`;

export const REDIS_KEYS: StoreKeys = {
  log: (kind, id) => `${entityTag(kind, id)}:l`,
  distinct: (kind, id, of) => `${entityTag(kind, id)}:d${KIND_LETTER[of]}`,
  outcomes: (kind, id, outcome) => `${entityTag(kind, id)}:o${OUTCOME_LETTER[outcome]}`,
  delayed: (kind, id) => `${entityTag(kind, id)}:y`,
  frauds: (kind, id) => `${entityTag(kind, id)}:f`,
  marker: (merchantId, transactionId) => `lg:{t:${merchantId}:${transactionId}}:m`,
  response: (merchantId, transactionId) => `lg:{t:${merchantId}:${transactionId}}:r`,
  kept: (merchantId, transactionId) => `lg:{t:${merchantId}:${transactionId}}:k`,
  negative: (kind, identity) => `${entityTag(kind, identity)}:neg`,
  allow: (merchantId, fingerprint) => `${entityTag('card', fingerprint)}:allow:${merchantId}`,
  // The hash tag: what Redis Cluster hashes to pick the slot.
  groupOf: (key) => key.slice(0, key.indexOf('}') + 1),
};

/**
 * Breach discovery's card histories (services/breach/): a card's merchants and fraud labels in its
 * own slot, a merchant's cards in the merchant's (sub-identity's) slot, each day's labelled cards
 * spread over tags of their own, and the small shared keys — the weekly distinct-card estimates,
 * the latest visit and label — under one tag, written once per batch, not once per transaction.
 */
export const HISTORY_KEYS = {
  /** A card's merchants at its last visit to each (written before 2026-12-07: at its first). */
  cardMerchants: (fingerprint: string) => `${entityTag('card', fingerprint)}:h`,
  /** The same merchants at its first visit to each (history.lua PAIR: bounded with the key above, by the last visit). */
  cardFirstVisits: (fingerprint: string) => `${entityTag('card', fingerprint)}:hv`,
  /**
   * A merchant's cards at their last visit there, and the days since their first in each score's
   * fraction (history.lua SPAN; spanOf): a breach presumed over lists the cards whose visits there
   * span its window.
   */
  merchantCards: (merchantSubIdentity: string) => `${entityTag('merchant', merchantSubIdentity)}:h`,
  /** A card's fraud labels, in the card's slot beside its merchants: read per card, kept the retention. */
  cardFrauds: (fingerprint: string) => `${entityTag('card', fingerprint)}:hf`,
  /**
   * The cards labelled on a day (days since the epoch, labelDay), in FRAUD_DAY_SHARDS keys of their
   * own slots each: what a scan reads to find the cards of its windows, spread over the nodes.
   */
  fraudDay: (day: number, shard: number) => `lg:{cpp:f:${day}:${shard}}`,
  /** The newest fraud label written: where the retention's floor and the scan's last day come from. */
  latestFraud: 'lg:{cpp}:tf',
  /** Each source's whole log, before labels were kept per card: moved into the keys above by a scan. */
  legacyFrauds: (source: string) => `lg:{cpp}:f:${source}`,
  week: (week: number) => `lg:{cpp}:w:${week}`,
  /** The distinct card–merchant pairs of a week (HyperLogLog): how many merchants the average card uses. */
  pairsWeek: (week: number) => `lg:{cpp}:p:${week}`,
  latest: 'lg:{cpp}:t',
  /** Whose turn the periodic scan is (an engine's holder name), expiring with the turn. */
  scanTurn: 'lg:{cpp}:scan',
};

/** How many keys a day's labelled cards are spread over (a card always in the same one). */
export const FRAUD_DAY_SHARDS = 16;
