// One tree = one ml-random-forest model of one estimator (ml-cart CART underneath), trained on a
// per-tree stratified sample of quantised rows. Used in worker threads and in-thread alike.
import { RandomForestClassifier } from 'ml-random-forest';

export interface TreeParams {
  /** Share of the features each tree sees (ml-random-forest samples them per tree, not per split). */
  maxFeatures: number;
  maxDepth: number;
  /** ml-cart: a node with at most this many rows becomes a leaf. */
  minNumSamples: number;
  /** ml-cart: minimum Gini gain to split (library default 0.01 stops on rare positives). */
  gainThreshold: number;
}

/** ml-cart's node as it serialises (toJSON). */
export interface CartNode {
  splitColumn?: number;
  splitValue?: number;
  left?: CartNode;
  right?: CartNode;
  distribution?: number[][] | number;
}

export interface TrainedTree {
  /** Column of the full feature vector for each of the tree's columns (ml-random-forest `indexes`). */
  columns: number[];
  /** The library's own serialised estimator: { options, root, name: 'DTClassifier' }. */
  estimator: { options: Record<string, unknown>; root: CartNode; name: string };
}

export interface TreeJob {
  tree: number;
  seed: number;
  /** Training rows of this tree (indices into the codes matrix, repeats allowed). */
  rows: Int32Array;
}

/**
 * Row order given to ml-cart, which sets its cost (measured: 5 s → 0.85 s a tree on 580 frauds +
 * 3000 genuine rows):
 * - a few genuine/fraud pairs first: ml-cart's class count (getNumberOfClasses) runs indexOf per
 *   element, which is quadratic when one class only appears late in an array;
 * - then all genuine rows, then all frauds: featureSplit sorts each column stably and adds a
 *   candidate split at every label change, so within a run of equal codes there is at most one.
 */
export const INTERLEAVED_PAIRS = 16;
export function trainingOrder(rows: Int32Array, labels: Uint8Array): number[] {
  const genuine: number[] = [],
    frauds: number[] = [];
  for (const r of rows) (labels[r] ? frauds : genuine).push(r);
  const k = Math.min(INTERLEAVED_PAIRS, genuine.length, frauds.length);
  const front: number[] = [];
  for (let i = 0; i < k; i++) front.push(genuine[i]!, frauds[i]!);
  return [...front, ...genuine.slice(k), ...frauds.slice(k)];
}

export function trainTree(
  codes: Uint8Array,
  labels: Uint8Array,
  cols: number,
  job: TreeJob,
  params: TreeParams,
): TrainedTree {
  const ordered = trainingOrder(job.rows, labels);
  const X = ordered.map((r) => Array.from(codes.subarray(r * cols, (r + 1) * cols)));
  const y = ordered.map((r) => labels[r]!);
  const rf = new RandomForestClassifier({
    nEstimators: 1,
    seed: job.seed,
    maxFeatures: params.maxFeatures >= 1 ? cols : Math.max(1, Math.round(params.maxFeatures * cols)),
    replacement: false,
    useSampleBagging: false,
    noOOB: true,
    treeOptions: {
      gainThreshold: params.gainThreshold,
      maxDepth: params.maxDepth,
      minNumSamples: params.minNumSamples,
    },
  });
  rf.train(X, y);
  const json = JSON.parse(JSON.stringify(rf.toJSON())) as {
    baseModel: { indexes: number[][]; estimators: TrainedTree['estimator'][] };
  };
  return { columns: json.baseModel.indexes[0]!, estimator: json.baseModel.estimators[0]! };
}
