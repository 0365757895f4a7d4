// The engine's own features as a model feature set: the handbook's 15 (served from the engine's
// counters) plus what only the engine knows — card testing and spread, devices, IPs, emails and
// shipping addresses shared across cards, declines and chargebacks, the watchlist and exposure,
// analysts' lists, channel, 3-D Secure and cvv result. The engine computes them (services/core/);
// this set names them and says how each becomes a number. Offline they come from replaying a
// dataset through the engine (models/replay/), online from the engine at scoring time: one
// computation, so no training/serving skew. Curated rather than "everything": each column costs
// training time (ml-cart scans every sampled column at every node), and most of the 100-odd
// engine features are windows of the same counter.
import type { EngineFeature, FeatureDef, FeatureSet } from './feature-types.ts';

const engine = (source: string, equals?: string): EngineFeature =>
  equals === undefined
    ? { kind: 'engine', name: source, source }
    : { kind: 'engine', name: `${source}=${equals}`, source, equals };

export const ENGINE_ONLY_FEATURES: readonly EngineFeature[] = [
  // what the request says
  engine('card_not_present'),
  engine('cvv_result', 'mismatch'),
  engine('three_ds_status', 'Y'),
  engine('three_ds_status', 'N'),
  engine('card_expired'),
  engine('shipping_billing_country_mismatch'),
  // this amount against the card's own history (reference currency; −1 without earlier transactions)
  engine('amount_to_card_avg_30d'),
  // card testing and spread
  engine('card_count_10m'),
  engine('card_count_1h'),
  engine('card_small_count_1h'),
  engine('card_small_count_24h'),
  engine('card_distinct_merchants_10m'),
  engine('card_distinct_merchants_1h'),
  engine('card_distinct_merchants_24h'),
  engine('card_distinct_shipping_addresses_7d'),
  engine('card_distinct_devices_7d'),
  // entities shared across stolen cards
  engine('device_distinct_cards_24h'),
  engine('device_distinct_cards_7d'),
  engine('ip_distinct_cards_24h'),
  engine('email_distinct_cards_7d'),
  engine('shipping_distinct_cards_7d'),
  engine('shipping_distinct_cards_30d'),
  // outcomes
  engine('card_declines_24h'),
  engine('card_chargebacks_30d'),
  engine('device_chargebacks_30d'),
  // watchlist and exposure
  engine('card_listed'),
  engine('leaked_cvv'),
  engine('listed_expiry_mismatch'),
  engine('days_since_listed'),
  engine('uses_since_listed'),
  // analysts' lists
  engine('negative_device'),
  engine('negative_shipping'),
  engine('negative_email'),
];

/**
 * Built from the handbook set's definitions, passed in to keep one definition of each.
 * Version 2: TX_AMOUNT in the reference currency (amount_ref), amount_to_card_avg_30d added.
 */
export function engineFeatureSet(handbook: readonly FeatureDef[]): FeatureSet {
  return { name: 'engine', version: 2, features: [...handbook, ...ENGINE_ONLY_FEATURES] };
}
