// One feature definition for two paths. Each feature is declared once, as data; the offline path
// (features/offline.ts, sliding windows over a dataset in time order) and the online path
// (features/online.ts, window counters updated one transaction at a time) both turn a window
// aggregate into the feature value through `windowValue` below, so they cannot drift apart.
import { VELOCITY_FEATURES } from '../core/velocity.ts';
import { engineFeatureSet } from './engine-set.ts';
import type { EngineFeature, FeatureDef, FeatureSet, RowFeature, WindowFeature, WindowStat } from './feature-types.ts';

export type {
  Entity,
  EngineFeature,
  FeatureDef,
  FeatureSet,
  RowFeature,
  WindowFeature,
  WindowStat,
} from './feature-types.ts';

export const DAY_SECONDS = 86_400;

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

/** Row features: what the transaction itself says (handbook: weekend = Sat/Sun, night = hour ≤ 6), in UTC, not local time. */
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
      {
        kind: 'window',
        name: `CUSTOMER_ID_NB_TX_${days}DAY_WINDOW`,
        entity: 'customer',
        stat: 'count',
        days,
        delayDays: 0,
        engine: { count: `card_count_${w}` },
      },
      {
        kind: 'window',
        name: `CUSTOMER_ID_AVG_AMOUNT_${days}DAY_WINDOW`,
        entity: 'customer',
        stat: 'mean_amount',
        days,
        delayDays: 0,
        engine: { count: `card_count_${w}`, amount: `card_amount_${w}` },
      },
    );
  }
  // The engine's merchant stands for the handbook's terminal (one merchant id per terminal).
  for (const days of [1, 7, 30]) {
    const w = ENGINE_WINDOW[days]!;
    defs.push(
      {
        kind: 'window',
        name: `TERMINAL_ID_NB_TX_${days}DAY_WINDOW`,
        entity: 'terminal',
        stat: 'count',
        days,
        delayDays: 7,
        engine: { count: `merchant_delayed_count_${w}` },
      },
      {
        kind: 'window',
        name: `TERMINAL_ID_RISK_${days}DAY_WINDOW`,
        entity: 'terminal',
        stat: 'fraud_share',
        days,
        delayDays: 7,
        engine: { count: `merchant_delayed_count_${w}`, frauds: `merchant_delayed_frauds_${w}` },
      },
    );
  }
  return defs;
}

/** Row features only: the dataset paths (offline windows, online reducer) compute window and row features. */
export function rowKind(f: RowFeature | EngineFeature): RowFeature['kind'] {
  if (f.kind === 'engine')
    throw new Error(
      `feature ${f.name} is computed by the engine: replay the dataset through it (models/replay/engine-replay.ts)`,
    );
  return f.kind;
}

/** The handbook's 15 baseline inputs, in the handbook's order. */
export const HANDBOOK_FEATURE_SET: FeatureSet = { name: 'handbook', version: 1, features: handbookFeatures() };

/** The handbook's 15 and the engine's own features (engine-set.ts), all served by the engine. */
export const ENGINE_FEATURE_SET: FeatureSet = engineFeatureSet(HANDBOOK_FEATURE_SET.features);

export const FEATURE_SETS: Record<string, FeatureSet> = { handbook: HANDBOOK_FEATURE_SET, engine: ENGINE_FEATURE_SET };

export function featureSet(name: string): FeatureSet {
  const fs = FEATURE_SETS[name];
  if (!fs) throw new Error(`unknown feature set "${name}" (known: ${Object.keys(FEATURE_SETS).join(', ')})`);
  return fs;
}

export function featureNames(fs: FeatureSet): string[] {
  return fs.features.map((f) => f.name);
}

/** The window aggregate a feature reads from an engine velocity reading (amounts in major units). */
export function engineAggregate(
  engine: NonNullable<WindowFeature['engine']>,
  reading: Record<string, number>,
): WindowAggregate {
  return {
    count: reading[engine.count] ?? 0,
    amountSum: engine.amount ? (reading[engine.amount] ?? 0) : 0,
    frauds: engine.frauds ? (reading[engine.frauds] ?? 0) : 0,
  };
}

/**
 * A window feature straight from the engine's velocity reading (`StoreReading.velocity`: counts,
 * amounts in major units, delayed merchant counts and frauds), through the same `windowValue` as
 * the offline path. Null for a row feature or a window the engine does not serve: row features
 * come from the transaction itself (`rowValue`).
 */
export function fromEngineReading(def: FeatureDef, reading: Record<string, number>): number | null {
  if (def.kind !== 'window' || !def.engine) return null;
  return windowValue(def.stat, engineAggregate(def.engine, reading));
}

/**
 * What the engine cannot serve for a feature set: counter names it does not have, and window
 * features without an engine mapping (or without the counter their statistic needs), listed by
 * feature name. Empty means every feature comes from an engine reading plus the row.
 */
export function missingEngineCounters(fs: FeatureSet): string[] {
  const known = new Set(VELOCITY_FEATURES);
  const missing: string[] = [];
  for (const f of fs.features) {
    if (f.kind !== 'window') continue;
    const needs = f.stat === 'mean_amount' ? 'amount' : f.stat === 'fraud_share' ? 'frauds' : null;
    if (!f.engine || (needs && !f.engine[needs])) {
      missing.push(f.name);
      continue;
    }
    for (const c of [f.engine.count, f.engine.amount, f.engine.frauds]) if (c && !known.has(c)) missing.push(c);
  }
  return missing;
}
