// Train-and-test on the handbook protocol, for one or several seeds.
import { createHash } from 'node:crypto';
import type { Dataset } from '../simulator/csv.ts';
import type { FeatureSet } from '../../services/model/definitions.ts';
import { CompiledForest } from '../../services/model/forest.ts';
import { trainForest, type TrainParams, type TrainResult } from '../training/train.ts';
import { aucRoc, averagePrecision, cardPrecisionAtK, type CardPrecisionResult } from './metrics.ts';
import {
  handbookSplit,
  splitFeatures,
  splitRows,
  type Split,
  type SplitFeatures,
  type SplitOptions,
  addDays,
} from './protocol.ts';
import { engineFeatureMatrix, needsEngineReplay } from '../replay/engine-features.ts';
import {
  describeTarget,
  knownFrauds,
  labelArrivals,
  PUBLISHED_LABELS,
  type LabelAssumption,
  type TargetRecord,
  type TrainingTarget,
} from '../features/labels.ts';

export interface SeedResult {
  seed: number;
  auc: number;
  ap: number;
  cp100: number;
  cpPerDay: CardPrecisionResult['perDay'];
  trainSeconds: number;
  scores: Float64Array;
  result: TrainResult;
  forest: CompiledForest;
}

export interface Prepared {
  split: Split;
  features: SplitFeatures;
  fingerprint: string;
  /** The fraud labels the features were computed from (features/labels.ts). */
  labels: LabelAssumption;
  /** When each dataset row's fraud label arrives (epoch seconds; Infinity: never). */
  arrivals: Float64Array;
  /** What the training rows' labels (`features.trainY`) are: the ground truth unless `withTarget` said otherwise. */
  target: TargetRecord;
}

/** The training cut-off: the test period's first instant (train days, then the delay days), epoch seconds. */
export function trainingCutoff(o: SplitOptions): number {
  return Date.parse(`${addDays(o.trainStart, o.trainDays + o.delayDays)}T00:00:00Z`) / 1000;
}

function truthTarget(trainY: Uint8Array): TargetRecord {
  const frauds = trainY.reduce((s, v) => s + v, 0);
  const t = { target: 'truth' as const, frauds, truthFrauds: frauds };
  return { ...t, description: describeTarget(t) };
}

/**
 * The prepared split with the training target asked for: `chargebacks` replaces the training rows'
 * labels with the frauds charged back by the training cut-off (the test labels stay the truth).
 */
export function withTarget(ds: Dataset, p: Prepared, fs: FeatureSet, target: TrainingTarget): Prepared {
  if (target === 'truth') return p;
  const cutoff = trainingCutoff(p.split.options);
  const trainY = knownFrauds(p.arrivals, p.split.train[0], p.split.train[1], cutoff);
  const t = {
    target,
    cutoff: new Date(cutoff * 1000).toISOString(),
    frauds: trainY.reduce((s, v) => s + v, 0),
    truthFrauds: p.target.truthFrauds,
  };
  return {
    ...p,
    ...fingerprinted(p.split, { ...p.features, trainY }, fs),
    target: { ...t, description: describeTarget(t) },
  };
}

/** Features of the split, their terminal windows from the chargebacks `labels` says would have arrived. */
export function prepare(
  ds: Dataset,
  fs: FeatureSet,
  o: SplitOptions,
  requireTest = true,
  labels: LabelAssumption = PUBLISHED_LABELS,
): Prepared {
  const split = handbookSplit(ds, o, requireTest);
  const arrivals = labelArrivals(ds, labels);
  const features = splitFeatures(ds, split, fs, undefined, arrivals);
  return { ...fingerprinted(split, features, fs), labels, arrivals, target: truthTarget(features.trainY) };
}

/**
 * `prepare` for any feature set: one with engine features is computed by replaying the dataset
 * (from `dataDir`, with its issuer lists) through the engine.
 */
export async function prepareAny(
  ds: Dataset,
  fs: FeatureSet,
  o: SplitOptions,
  dataDir: string,
  requireTest = true,
  onProgress?: (done: number, total: number) => void,
  labels: LabelAssumption = PUBLISHED_LABELS,
): Promise<Prepared> {
  if (!needsEngineReplay(fs)) return prepare(ds, fs, o, requireTest, labels);
  const split = handbookSplit(ds, o, requireTest);
  const [from, to] = splitRows(split);
  const matrix = await engineFeatureMatrix(ds, fs, dataDir, from, to, onProgress, labels);
  const features = splitFeatures(ds, split, fs, matrix);
  return {
    ...fingerprinted(split, features, fs),
    labels,
    arrivals: labelArrivals(ds, labels),
    target: truthTarget(features.trainY),
  };
}

function fingerprinted(
  split: Split,
  features: SplitFeatures,
  fs: FeatureSet,
): Omit<Prepared, 'labels' | 'arrivals' | 'target'> {
  const h = createHash('sha256');
  h.update(JSON.stringify({ featureSet: fs.name, version: fs.version, names: fs.features.map((f) => f.name) }));
  h.update(
    new Uint8Array(features.trainX.values.buffer, features.trainX.values.byteOffset, features.trainX.values.byteLength),
  );
  h.update(features.trainY);
  return { split, features, fingerprint: `sha256:${h.digest('hex')}` };
}

export function testMetrics(ds: Dataset, p: Prepared, scores: Float64Array) {
  const { split, features } = p;
  const rows = Array.from(split.test, (row, k) => ({
    day: split.testDay[k]!,
    card: ds.customer[row]!,
    score: scores[k]!,
    fraud: features.testY[k]!,
  }));
  const cp = cardPrecisionAtK(rows, 100);
  return {
    auc: aucRoc(scores, features.testY),
    ap: averagePrecision(scores, features.testY),
    cp100: cp.mean,
    cpPerDay: cp.perDay,
  };
}

export async function runSeed(
  ds: Dataset,
  p: Prepared,
  params: TrainParams,
  onTree?: (done: number) => void,
): Promise<SeedResult> {
  const f = p.features;
  const result = await trainForest(
    { values: f.trainX.values, labels: f.trainY, rows: f.trainY.length, cols: f.cols },
    params,
    onTree,
  );
  const forest = new CompiledForest(result.flat, result.prior);
  const scores = forest.scoreMany(f.testX, f.cols);
  const metrics = scores.length ? testMetrics(ds, p, scores) : { auc: NaN, ap: NaN, cp100: NaN, cpPerDay: [] };
  return { seed: params.seed, ...metrics, trainSeconds: result.seconds, scores, result, forest };
}

export function meanSpread(xs: number[]): { mean: number; sd: number; min: number; max: number } {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd, min: Math.min(...xs), max: Math.max(...xs) };
}

export const REFERENCE = [
  { model: 'random scores', auc: 0.5, ap: 0.007, cp100: 0.017 },
  { model: 'logistic regression', auc: 0.871, ap: 0.606, cp100: 0.291 },
  { model: 'decision tree, depth 2', auc: 0.763, ap: 0.496, cp100: 0.241 },
  { model: 'random forest, 100 trees', auc: 0.867, ap: 0.658, cp100: 0.287 },
  { model: 'XGBoost, default', auc: 0.862, ap: 0.639, cp100: 0.273 },
] as const;
