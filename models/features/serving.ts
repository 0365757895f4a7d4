// The serving path of a feature set: one model input vector from the engine's feature map at
// scoring time. Window features come from the engine's counters through `fromEngineReading`
// (definitions.ts: the same `windowValue` the offline path uses); row features from the request.
import type { FeatureMap } from '../../services/core/features.ts';
import { fromEngineReading, rowValue, type FeatureDef, type FeatureSet } from './definitions.ts';

/** Features of a set that the engine cannot compute: a model using them must not be served. */
export function unservableFeatures(fs: FeatureSet): string[] {
  return fs.features.filter((f) => f.kind === 'window' && fromEngineReading(f, {}) === null).map((f) => f.name);
}

const num = (v: FeatureMap[string] | undefined): number => (typeof v === 'number' ? v : v === true ? 1 : 0);

function servedValue(def: FeatureDef, features: FeatureMap, occurredAt: number): number {
  if (def.kind === 'window') return fromEngineReading(def, features as Record<string, number>) ?? 0;
  return rowValue(def.kind, num(features.amount_major), Math.floor(occurredAt / 1000));
}

/** Fills `out` (one slot per feature of the set, in order) from an engine feature map. */
export function servingVector(fs: FeatureSet, features: FeatureMap, occurredAt: number, out = new Float64Array(fs.features.length)): Float64Array {
  const defs = fs.features;
  for (let i = 0; i < defs.length; i++) out[i] = servedValue(defs[i]!, features, occurredAt);
  return out;
}
