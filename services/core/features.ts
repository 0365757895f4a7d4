// Transaction features: what the request itself says, before any store is read.
// Velocity features come from the store (velocity.ts); both meet in one feature map.
import type { ScoreRequest } from './schemas.ts';
import type { VelocityReading } from './velocity.ts';
import { VELOCITY_FEATURES } from './velocity.ts';
import { WATCHLIST_FEATURES } from './watchlist.ts';
import { LIST_FEATURES } from './lists.ts';
import { MODEL_FEATURES } from './model.ts';

export type FeatureValue = number | string | boolean;
export type FeatureMap = Record<string, FeatureValue>;

const DAY = 86_400_000;
const exponentCache = new Map<string, number>();

/** Minor-unit exponent of a currency (JPY 0, EUR 2, KWD 3), from the runtime's ICU data. */
export function currencyExponent(currency: string): number {
  let e = exponentCache.get(currency);
  if (e === undefined) {
    e = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    exponentCache.set(currency, e);
  }
  return e;
}

export function amountMajor(amountMinor: number, currency: string): number {
  return amountMinor / 10 ** currencyExponent(currency);
}

/** Card-testing amounts: a few units of the currency (per-currency where a unit is tiny). */
const SMALL_AMOUNT_MAJOR: Record<string, number> = { JPY: 300, KRW: 3000, IDR: 30000, VND: 50000, HUF: 800, CLP: 2000, COP: 8000 };
export function isSmallAmount(amountMinor: number, currency: string): boolean {
  return amountMajor(amountMinor, currency) <= (SMALL_AMOUNT_MAJOR[currency] ?? 2);
}

export const TRANSACTION_FEATURES = [
  'amount_major', 'channel', 'card_not_present', 'cvv_result', 'three_ds_status', 'card_expired',
  'account_age_days', 'has_device', 'has_ip', 'has_email', 'has_shipping_address',
  'shipping_billing_country_mismatch', 'item_count',
] as const;

export function transactionFeatures(req: ScoreRequest, occurredAt: number): FeatureMap {
  const at = new Date(occurredAt);
  // A card is valid through the last day of its expiry month.
  const expired = req.card.expiryYear < at.getUTCFullYear() ||
    (req.card.expiryYear === at.getUTCFullYear() && req.card.expiryMonth < at.getUTCMonth() + 1);
  const created = req.customer?.accountCreatedAt ? Date.parse(req.customer.accountCreatedAt) : NaN;
  const ship = req.shippingAddress?.country, bill = req.billingAddress?.country;
  return {
    amount_major: amountMajor(req.amount, req.currency),
    channel: req.channel,
    card_not_present: req.channel !== 'pos',
    cvv_result: req.card.cvvResult,
    three_ds_status: req.threeDS?.status ?? 'none',
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

export const ALL_FEATURES: readonly string[] = [...TRANSACTION_FEATURES, ...VELOCITY_FEATURES, ...WATCHLIST_FEATURES, ...LIST_FEATURES, ...MODEL_FEATURES];

export function featureMap(tx: FeatureMap, velocity: VelocityReading | undefined): FeatureMap {
  return velocity ? { ...tx, ...velocity } : { ...tx };
}
