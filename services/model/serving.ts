// The serving path of a feature set: one model input vector from the engine's feature map at
// scoring time. Window features come from the engine's counters through `fromEngineReading`
// (definitions.ts: the same `windowValue` the offline path uses); row features from the request.
import type { FeatureMap } from '../core/features.ts';
import { ALL_FEATURES } from '../core/features.ts';
import { fromEngineReading, missingEngineCounters, rowValue, type FeatureDef, type FeatureSet } from './definitions.ts';

/** Features of a set that the engine cannot compute: a model using them must not be served. */
export function unservableFeatures(fs: FeatureSet): string[] {
  const known = new Set(ALL_FEATURES);
  const unknownSources = fs.features.filter((f) => f.kind === 'engine' && !known.has(f.source)).map((f) => f.name);
  return [...missingEngineCounters(fs), ...unknownSources];
}

const num = (v: FeatureMap[string] | undefined): number => (typeof v === 'number' ? v : v === true ? 1 : 0);

/** The one place a feature definition becomes a number from the engine's feature map (replay and serving). */
export function servedValue(def: FeatureDef, features: FeatureMap, occurredAt: number): number {
  if (def.kind === 'engine')
    return def.equals !== undefined ? (features[def.source] === def.equals ? 1 : 0) : num(features[def.source]);
  if (def.kind === 'window') return fromEngineReading(def, features as Record<string, number>) ?? 0;
  // The handbook's TX_AMOUNT is in the reference currency: the model means the same in yen and in euros.
  return rowValue(def.kind, num(features.amount_ref), Math.floor(occurredAt / 1000));
}

/** Fills `out` (one slot per feature of the set, in order) from an engine feature map. */
export function servingVector(
  fs: FeatureSet,
  features: FeatureMap,
  occurredAt: number,
  out = new Float64Array(fs.features.length),
): Float64Array {
  const defs = fs.features;
  for (let i = 0; i < defs.length; i++) out[i] = servedValue(defs[i]!, features, occurredAt);
  return out;
}
