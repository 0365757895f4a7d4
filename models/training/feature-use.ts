// Which features a training could use and which the forest did use: a column that holds one value
// in every training row can never be split on (a feature the data cannot exercise, such as the
// engine features the replay holds constant, models/README.md), and a feature no tree splits on
// plays no part in any score. Printed after training and kept in the artifact.
import type { FlatForest } from '../../services/model/forest.ts';

export interface FeatureUse {
  /** Features with the same value in every training row, with that value (null: NaN or ±∞, as JSON has none). */
  constant: { name: string; value: number | null }[];
  /** Features no node of any tree splits on (the constant ones among them). */
  neverSplit: string[];
  /** Split nodes on each feature, in feature order. */
  splits: number[];
}

/** The value of each column when every row holds it (NaN counts as one value), else undefined. */
export function constantColumns(values: Float64Array, rows: number, cols: number): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  for (let c = 0; c < cols; c++) {
    if (rows === 0) {
      out.push(undefined);
      continue;
    }
    const first = values[c]!;
    let same = true;
    for (let r = 1; r < rows && same; r++) {
      const v = values[r * cols + c]!;
      same = v === first || (Number.isNaN(v) && Number.isNaN(first));
    }
    out.push(same ? first : undefined);
  }
  return out;
}

/** Split nodes per feature (leaves, feature −1, are not counted). */
export function splitCounts(flat: FlatForest): number[] {
  const counts = new Array<number>(flat.nFeatures).fill(0);
  for (const f of flat.feature) if (f >= 0) counts[f]!++;
  return counts;
}

export function featureUse(
  names: readonly string[],
  train: { values: Float64Array; rows: number; cols: number },
  flats: readonly FlatForest[],
): FeatureUse {
  const constants = constantColumns(train.values, train.rows, train.cols);
  const splits = new Array<number>(names.length).fill(0);
  for (const flat of flats) splitCounts(flat).forEach((n, i) => (splits[i]! += n));
  return {
    constant: names.flatMap((name, i) =>
      constants[i] === undefined ? [] : [{ name, value: Number.isFinite(constants[i]) ? constants[i]! : null }],
    ),
    neverSplit: names.filter((_, i) => splits[i] === 0),
    splits,
  };
}

/** Two lines: the constant features, and the others no tree splits on. */
export function featureUseLines(use: FeatureUse, rows: number, trees: number): string[] {
  const constant = new Set(use.constant.map((c) => c.name));
  const unused = use.neverSplit.filter((n) => !constant.has(n));
  return [
    use.constant.length
      ? `features constant in the ${rows} training rows (${use.constant.length}; no tree can split on them): ${use.constant.map((c) => `${c.name} = ${c.value}`).join(', ')}`
      : `features constant in the ${rows} training rows: none`,
    unused.length
      ? `features that vary but no tree splits on (${unused.length}, over ${trees} trees): ${unused.join(', ')}`
      : `features that vary but no tree splits on: none`,
  ];
}

/** A feature's part in a forest: its split nodes and its share of the forest's split weight. */
export interface FeatureWeight {
  name: string;
  splits: number;
  /** Share of the split weight (Gini decrease × training rows at the node, summed over every split). */
  share: number;
}

const gini = (p: number) => 2 * p * (1 - p);

/**
 * Features by their share of split weight, largest first: at each split, the training rows that
 * reach it times the decrease of Gini impurity from the node to its children (the node's fraud
 * share and rows are the artifact's `value` and `samples`), summed per feature over every tree of
 * every forest given, as a share of the total. The classic mean-decrease-in-impurity importance:
 * what the trees used, on the rows their leaf values were estimated on; not what a feature would
 * be worth alone (correlated features share it).
 */
export function splitWeights(names: readonly string[], flats: readonly FlatForest[]): FeatureWeight[] {
  const weight = new Array<number>(names.length).fill(0),
    splits = new Array<number>(names.length).fill(0);
  for (const f of flats)
    for (let i = 0; i < f.feature.length; i++) {
      const k = f.feature[i]!;
      if (k < 0) continue;
      const l = f.left[i]!,
        r = f.right[i]!;
      const n = f.samples[i]!,
        nl = f.samples[l]!,
        nr = f.samples[r]!;
      splits[k]!++;
      weight[k]! += Math.max(0, n * gini(f.value[i]!) - nl * gini(f.value[l]!) - nr * gini(f.value[r]!));
    }
  const total = weight.reduce((s, w) => s + w, 0);
  return names
    .map((name, i) => ({ name, splits: splits[i]!, share: total > 0 ? weight[i]! / total : 0 }))
    .sort((a, b) => b.share - a.share || a.name.localeCompare(b.name));
}
