// Transaction features: what the request itself says, before any store is read.
// Velocity features come from the store (velocity.ts); both meet in one feature map.
import { amountMajor, type RateTable } from './currency.ts';
import { CHANNELS, CVV_RESULTS, THREE_DS_STATUSES, type ScoreRequest } from './schemas.ts';
import type { VelocityReading } from './velocity.ts';
import { VELOCITY_FEATURES } from './velocity.ts';
import { WATCHLIST_FEATURES, watchlistFeatures } from './watchlist.ts';
import { LIST_FEATURES } from './lists.ts';
import { MODEL_FEATURES } from './model.ts';

import type { FeatureMap } from './feature-map.ts';
export type { FeatureMap, FeatureValue } from './feature-map.ts';

const DAY = 86_400_000;

/**
 * An amount in hundredths of the reference currency's major unit, at the rate in force at `at`:
 * what the velocity amount counters add up and what `amount_ref` shows. Throws UnknownRateError
 * for a currency the table has no rate for (never scored as if it were the reference).
 */
export function referenceCents(rates: RateTable, amountMinor: number, currency: string, at: number): number {
  return Math.round(rates.toReference(amountMinor, currency, at) * 100);
}

/** Card-testing amounts: at most the table's `smallAmount` in the reference currency, compared in reference cents. */
export function isSmallAmount(amountRefCents: number, rates: RateTable): boolean {
  return amountRefCents <= Math.round(rates.smallAmount * 100);
}

export const TRANSACTION_FEATURES = [
  'amount_major',
  'amount_ref',
  'small_amount',
  'channel',
  'card_not_present',
  'cvv_result',
  'three_ds_status',
  'card_expired',
  'account_age_days',
  'has_device',
  'has_ip',
  'has_email',
  'has_shipping_address',
  'shipping_billing_country_mismatch',
  'item_count',
] as const;

/**
 * When a card stops being valid: it is valid through the last day of its expiry month wherever it
 * is used, so the month ends at midnight at UTC−12, the last place on Earth to leave it (12:00 UTC on
 * the next month's first day). Ending it at midnight UTC stepped up an American holder's evening order
 * on the month's last day.
 */
export function expiryEnd(expiryYear: number, expiryMonth: number): number {
  // Date.UTC takes month 0-based: expiryMonth is the next month's index (December's becomes January).
  return Date.UTC(expiryYear, expiryMonth, 1, 12);
}

/**
 * `amountRefCents`: the amount in reference cents (referenceCents), as the counters got it; `small`:
 * whether it is a card-testing amount (isSmallAmount), as the small-amount counters count it.
 */
export function transactionFeatures(
  req: ScoreRequest,
  occurredAt: number,
  amountRefCents: number,
  small: boolean,
): FeatureMap {
  const expired = occurredAt >= expiryEnd(req.card.expiryYear, req.card.expiryMonth);
  const created = req.customer?.accountCreatedAt ? Date.parse(req.customer.accountCreatedAt) : NaN;
  const ship = req.shippingAddress?.country,
    bill = req.billingAddress?.country;
  return {
    amount_major: amountMajor(req.amount, req.currency),
    amount_ref: amountRefCents / 100,
    small_amount: small,
    channel: req.channel,
    card_not_present: req.channel !== 'pos',
    cvv_result: req.card.cvvResult,
    three_ds_status: req.threeDS?.status ?? NO_THREE_DS,
    card_expired: expired,
    account_age_days: Number.isNaN(created) ? -1 : Math.max(0, Math.floor((occurredAt - created) / DAY)),
    has_device: Boolean(req.device?.id),
    has_ip: Boolean(req.device?.ip),
    has_email: Boolean(req.customer?.email),
    has_shipping_address: Boolean(req.shippingAddress?.line1),
    shipping_billing_country_mismatch: Boolean(ship && bill && ship !== bill),
    item_count: (req.items ?? []).reduce((n, i) => n + i.quantity, 0),
  };
}

/** This amount against the card's earlier ones: they need the velocity reading, so they come with it. */
export const RELATIVE_AMOUNT_FEATURES = ['amount_to_card_avg_7d', 'amount_to_card_avg_30d'] as const;
/** Each relative amount's name and the card's count and sum it divides by (names made once). */
export const RELATIVE_WINDOWS = (['7d', '30d'] as const).map(
  (w) => [`amount_to_card_avg_${w}`, `card_count_${w}`, `card_amount_${w}`] as const,
);

/**
 * This amount divided by the mean of the card's earlier amounts in the window, all in reference
 * cents. The reading counts the current transaction already: it is taken out. −1 when the card
 * has no earlier transaction in the window. An earlier total below one reference cent counts as one.
 */
export function relativeAmountFeatures(amountRefCents: number, velocity: VelocityReading): FeatureMap {
  const out: FeatureMap = {};
  for (const [name, count, amount] of RELATIVE_WINDOWS) {
    const earlier = (velocity[count] ?? 0) - 1;
    const earlierCents = Math.round((velocity[amount] ?? 0) * 100) - amountRefCents;
    out[name] = earlier > 0 ? (amountRefCents * earlier) / Math.max(earlierCents, 1) : -1;
  }
  return out;
}

export const ALL_FEATURES: readonly string[] = [
  ...TRANSACTION_FEATURES,
  ...RELATIVE_AMOUNT_FEATURES,
  ...VELOCITY_FEATURES,
  ...WATCHLIST_FEATURES,
  ...LIST_FEATURES,
  ...MODEL_FEATURES,
];

/**
 * What a feature's value is, hence what a rule may compare it with: a number (gt, gte, lt, lte, eq,
 * neq, in), a flag (true or false: eq, neq) or a category (one of `values`: eq, neq, in). A rule that
 * compares otherwise could never fire: it is refused at load (rules.ts).
 */
export type FeatureKind = { type: 'number' } | { type: 'flag' } | { type: 'category'; values: readonly string[] };

const NUMBER: FeatureKind = { type: 'number' };
const FLAG: FeatureKind = { type: 'flag' };
/** `three_ds_status` is `none` when the request carries no 3-D Secure result. */
export const NO_THREE_DS = 'none';

const TRANSACTION_FEATURE_KINDS: Record<(typeof TRANSACTION_FEATURES)[number], FeatureKind> = {
  amount_major: NUMBER,
  amount_ref: NUMBER,
  small_amount: FLAG,
  channel: { type: 'category', values: CHANNELS },
  card_not_present: FLAG,
  cvv_result: { type: 'category', values: CVV_RESULTS },
  three_ds_status: { type: 'category', values: [...THREE_DS_STATUSES, NO_THREE_DS] },
  card_expired: FLAG,
  account_age_days: NUMBER,
  has_device: FLAG,
  has_ip: FLAG,
  has_email: FLAG,
  has_shipping_address: FLAG,
  shipping_billing_country_mismatch: FLAG,
  item_count: NUMBER,
};

/**
 * The feature catalogue: every feature's kind. Velocity counts, relative amounts and the model's
 * score are numbers, list hits flags; a watchlist feature is what its no-match value is.
 */
export const FEATURE_KINDS: ReadonlyMap<string, FeatureKind> = new Map<string, FeatureKind>([
  ...Object.entries(TRANSACTION_FEATURE_KINDS),
  ...RELATIVE_AMOUNT_FEATURES.map((name) => [name, NUMBER] as const),
  ...VELOCITY_FEATURES.map((name) => [name, NUMBER] as const),
  ...Object.entries(watchlistFeatures(null, [], 0)).map(
    ([name, v]) => [name, typeof v === 'boolean' ? FLAG : NUMBER] as const,
  ),
  ...LIST_FEATURES.map((name) => [name, FLAG] as const),
  ...MODEL_FEATURES.map((name) => [name, NUMBER] as const),
]);

/**
 * The request's features and, unless degraded (no reading), the velocity features and the relative
 * amounts. The reading becomes the map (it is made afresh for each scoring): copying its hundred
 * features into a new object cost about 20 µs a scoring, measured.
 */
export function featureMap(tx: FeatureMap, velocity: VelocityReading | undefined, amountRefCents: number): FeatureMap {
  return velocity ? Object.assign(velocity, tx, relativeAmountFeatures(amountRefCents, velocity)) : { ...tx };
}
