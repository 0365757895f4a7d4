// One feature definition for two paths. Each feature is declared once, as data; the offline path
// (features/offline.ts, sliding windows over a dataset in time order) and the online path
// (features/online.ts, window counters updated one transaction at a time) both turn a window
// aggregate into the feature value through `windowValue` below, so they cannot drift apart.
import { VELOCITY_FEATURES } from '../../services/core/velocity.ts';

export const DAY_SECONDS = 86_400;

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
   * The engine counters that serve this feature online (services/core/velocity.ts), when they
   * exist: counts, and amount sums in cents. Terminal windows with label delay have none yet.
   */
  engine?: { count: string; amountCents?: string };
}
export interface RowFeature {
  kind: 'amount' | 'weekend' | 'night';
  name: string;
}
export type FeatureDef = WindowFeature | RowFeature;

export interface FeatureSet {
  name: string;
  version: number;
  features: readonly FeatureDef[];
}

/** What a window holds when the feature is computed: transactions, their amount sum, their frauds. */
export interface WindowAggregate {
  count: number;
  amountSum: number;
  frauds: number;
}

/** The single place where a window aggregate becomes a feature value (both paths call it). */
export function windowValue(stat: WindowStat, a: WindowAggregate): number {
  switch (stat) {
    case 'count':
      return a.count;
    case 'mean_amount':
      return a.count > 0 ? a.amountSum / a.count : 0;
    case 'fraud_share':
      return a.count > 0 ? a.frauds / a.count : 0;
  }
}

/** Row features: what the transaction itself says (handbook: weekend = Sat/Sun, night = hour ≤ 6). */
export function rowValue(kind: RowFeature['kind'], amount: number, epochSeconds: number): number {
  switch (kind) {
    case 'amount':
      return amount;
    case 'weekend': {
      const dow = new Date(epochSeconds * 1000).getUTCDay();
      return dow === 0 || dow === 6 ? 1 : 0;
    }
    case 'night':
      return Math.floor((((epochSeconds % DAY_SECONDS) + DAY_SECONDS) % DAY_SECONDS) / 3600) <= 6 ? 1 : 0;
  }
}

const ENGINE_WINDOW: Record<number, string> = { 1: '24h', 7: '7d', 30: '30d' };

function handbookFeatures(): FeatureDef[] {
  const defs: FeatureDef[] = [
    { kind: 'amount', name: 'TX_AMOUNT' },
    { kind: 'weekend', name: 'TX_DURING_WEEKEND' },
    { kind: 'night', name: 'TX_DURING_NIGHT' },
  ];
  for (const days of [1, 7, 30]) {
    const w = ENGINE_WINDOW[days]!;
    defs.push(
      { kind: 'window', name: `CUSTOMER_ID_NB_TX_${days}DAY_WINDOW`, entity: 'customer', stat: 'count', days, delayDays: 0, engine: { count: `card_count_${w}` } },
      {
        kind: 'window', name: `CUSTOMER_ID_AVG_AMOUNT_${days}DAY_WINDOW`, entity: 'customer', stat: 'mean_amount', days, delayDays: 0,
        engine: { count: `card_count_${w}`, amountCents: `card_amount_${w}` },
      },
    );
  }
  for (const days of [1, 7, 30]) {
    defs.push(
      { kind: 'window', name: `TERMINAL_ID_NB_TX_${days}DAY_WINDOW`, entity: 'terminal', stat: 'count', days, delayDays: 7 },
      { kind: 'window', name: `TERMINAL_ID_RISK_${days}DAY_WINDOW`, entity: 'terminal', stat: 'fraud_share', days, delayDays: 7 },
    );
  }
  return defs;
}

/** The handbook's 15 baseline inputs, in the handbook's order. */
export const HANDBOOK_FEATURE_SET: FeatureSet = { name: 'handbook', version: 1, features: handbookFeatures() };

export const FEATURE_SETS: Record<string, FeatureSet> = { handbook: HANDBOOK_FEATURE_SET };

export function featureSet(name: string): FeatureSet {
  const fs = FEATURE_SETS[name];
  if (!fs) throw new Error(`unknown feature set "${name}" (known: ${Object.keys(FEATURE_SETS).join(', ')})`);
  return fs;
}

export function featureNames(fs: FeatureSet): string[] {
  return fs.features.map((f) => f.name);
}

/**
 * The handbook customer features straight from an engine velocity reading (card counters, amounts
 * in cents). Null for a feature the engine does not serve (terminal windows with label delay).
 */
export function fromEngineReading(def: FeatureDef, reading: Record<string, number>): number | null {
  if (def.kind !== 'window' || !def.engine) return null;
  const count = reading[def.engine.count] ?? 0;
  const amountSum = def.engine.amountCents ? (reading[def.engine.amountCents] ?? 0) / 100 : 0;
  return windowValue(def.stat, { count, amountSum, frauds: 0 });
}

/** Engine counters named by a feature set that the engine does not have: a contract check. */
export function missingEngineCounters(fs: FeatureSet): string[] {
  const known = new Set(VELOCITY_FEATURES);
  const missing: string[] = [];
  for (const f of fs.features) {
    if (f.kind !== 'window' || !f.engine) continue;
    for (const c of [f.engine.count, f.engine.amountCents]) if (c && !known.has(c)) missing.push(c);
  }
  return missing;
}
