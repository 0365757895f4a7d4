// Redis key layout of the watchlists. Entries live in 65,536 bucket hashes, each its own slot
// (keys.ts watchlistBucketKey: `lg:w:{xxxx}`), so that millions of cards spread over a cluster.
// Event metadata, statistics and hit streams are small and written together by one script
// (record-hit.lua): they share one hash tag, `{w}`, hence one slot.
const TAG = 'lg:{w}';

export const watchlistKeys = {
  /** Counter issuing event sequence numbers. */
  seq: `${TAG}:event-seq`,
  /** Set of every event's sequence number. */
  events: `${TAG}:events`,
  /** Hash issuer NUL external id → sequence number: an event is created once per external id. */
  externalIds: `${TAG}:external-ids`,
  /** Hash issuer → JSON BIN ranges. */
  binRanges: `${TAG}:bin-ranges`,
  /** Hash of one event: m (JSON metadata), listed, removed, hits, lastHit. */
  event: (seq: number | string) => `${TAG}:ev:${seq}`,
  /** Set of the merchants where one event's cards were tried. */
  eventMerchants: (seq: number | string) => `${TAG}:ev:${seq}:merchants`,
  /** Set of the transactions (merchant:transaction) already counted as hits of one event: a retried hit counts once. */
  eventHitTransactions: (seq: number | string) => `${TAG}:ev:${seq}:tx`,
  /** Stream of one issuer's hits, newest last. */
  hits: (issuerId: string) => `${TAG}:hits:${issuerId}`,
};

/** Before the cluster layout (no hash tags): renamed by key-migration.ts on a single Redis. */
export const legacyWatchlistKeys = {
  seq: 'lg:w:event-seq',
  events: 'lg:w:events',
  externalIds: 'lg:w:external-ids',
  binRanges: 'lg:w:bin-ranges',
  event: (seq: number | string) => `lg:w:ev:${seq}`,
  eventMerchants: (seq: number | string) => `lg:w:ev:${seq}:merchants`,
  hits: (issuerId: string) => `lg:w:hits:{${issuerId}}`,
};
