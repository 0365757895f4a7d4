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
