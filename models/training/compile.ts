// From ml-random-forest trees (trained on quantised codes) to the flat forest that serves raw
// feature values, and back to ml-random-forest models for agreement tests and benchmarks.
import { RandomForestClassifier } from 'ml-random-forest';
import { FlatForestBuilder, type FlatForest } from '../../services/model/forest.ts';
import { rawThreshold, type Bins } from './quantize.ts';
import type { CartNode, TrainedTree } from './tree.ts';

function leafFraudShare(node: CartNode): number {
  const d = node.distribution;
  if (typeof d === 'number') return d;
  return d?.[0]?.[1] ?? 0;
}

/**
 * Compiles trees into one flat forest over raw features. Internal node values (needed for
 * contributions) are the fraud shares of the tree's own training rows reaching the node.
 */
export function compileForest(
  trees: readonly TrainedTree[],
  sampleRows: readonly Int32Array[],
  codes: Uint8Array,
  labels: Uint8Array,
  cols: number,
  bins: Bins,
): FlatForest {
  const b = new FlatForestBuilder(cols);
  trees.forEach((tree, t) => {
    const rows = sampleRows[t]!;
    const visit = (node: CartNode, members: number[]): number => {
      let frauds = 0;
      for (const r of members) frauds += labels[r]!;
      if (!node.left || !node.right || node.splitColumn === undefined || node.splitValue === undefined) {
        // the library's leaf distribution is what its rows say; fall back to it for an empty leaf
        const value = members.length ? frauds / members.length : leafFraudShare(node);
        return b.node(-1, 0, value, members.length);
      }
      const col = tree.columns[node.splitColumn]!;
      const l: number[] = [],
        r: number[] = [];
      for (const m of members) (codes[m * cols + col]! < node.splitValue ? l : r).push(m);
      const id = b.node(
        col,
        rawThreshold(bins.cuts[col]!, node.splitValue),
        members.length ? frauds / members.length : 0,
        members.length,
      );
      const li = visit(node.left, l);
      const ri = visit(node.right, r);
      b.link(id, li, ri);
      return id;
    };
    b.root(visit(tree.estimator.root, [...rows]));
  });
  return b.build();
}

/** The trained trees as one ml-random-forest classifier (input: quantised codes). */
export function libraryForest(trees: readonly TrainedTree[], cols: number): RandomForestClassifier {
  return RandomForestClassifier.load({
    name: 'RFClassifier',
    baseModel: {
      indexes: trees.map((t) => t.columns),
      n: trees[0]?.columns.length ?? cols,
      replacement: false,
      maxFeatures: 1,
      nEstimators: trees.length,
      treeOptions: {},
      isClassifier: true,
      seed: 0,
      useSampleBagging: false,
      estimators: trees.map((t) => structuredClone(t.estimator)),
    },
  } as never);
}

/** A flat forest rebuilt as an ml-random-forest classifier over raw features (benchmarks). */
export function libraryForestFromFlat(flat: FlatForest): RandomForestClassifier {
  const toNode = (n: number): CartNode => {
    if (flat.feature[n]! < 0) {
      const v = flat.value[n]!;
      return { distribution: [[1 - v, v]] };
    }
    return {
      splitColumn: flat.feature[n]!,
      splitValue: flat.threshold[n]!,
      left: toNode(flat.left[n]!),
      right: toNode(flat.right[n]!),
    };
  };
  const all = Array.from({ length: flat.nFeatures }, (_, i) => i);
  const estimators = Array.from(flat.roots, (root) => ({
    name: 'DTClassifier',
    options: { kind: 'classifier', gainFunction: 'gini', splitFunction: 'mean' },
    root: toNode(root),
  }));
  return RandomForestClassifier.load({
    name: 'RFClassifier',
    baseModel: {
      indexes: estimators.map(() => all),
      n: flat.nFeatures,
      replacement: false,
      maxFeatures: 1,
      nEstimators: flat.nTrees,
      treeOptions: {},
      isClassifier: true,
      seed: 0,
      useSampleBagging: false,
      estimators,
    },
  } as never);
}
