// The shapes of a model feature set: what each kind of feature declares. Kept apart from the
// definitions (definitions.ts) so that the engine's set (engine-set.ts) can be built from them.
export type Entity = 'customer' | 'terminal';
export type WindowStat = 'count' | 'mean_amount' | 'fraud_share';

/** Window over (t − (delay + days), t − delay], in days. With delay 0 the current transaction is included. */
export interface WindowFeature {
  kind: 'window';
  name: string;
  entity: Entity;
  stat: WindowStat;
  days: number;
  delayDays: number;
  /**
   * The engine counters that serve this feature online (services/core/velocity.ts): the window's
   * count, its amount sum, its fraud-labelled count. Names of `VelocityReading` entries, whose
   * amounts are in major units (the stores add cents; `readingFrom` divides by 100 once).
   */
  engine?: { count: string; amount?: string; frauds?: string };
}
export interface RowFeature {
  kind: 'amount' | 'weekend' | 'night';
  name: string;
}
/**
 * A feature the engine computes itself (services/core/features.ts, velocity.ts, watchlist.ts,
 * lists.ts): read from its feature map, a number or a flag, or one category of a string feature.
 */
export interface EngineFeature {
  kind: 'engine';
  name: string;
  source: string;
  /** For a categorical source: 1 when it equals this value. */
  equals?: string;
}
export type FeatureDef = WindowFeature | RowFeature | EngineFeature;

export interface FeatureSet {
  name: string;
  version: number;
  features: readonly FeatureDef[];
}
