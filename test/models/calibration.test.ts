import { describe, expect, it } from 'vitest';
import { calibrationTable } from '../../models/evaluation/metrics.ts';
import { splitWeights } from '../../models/training/feature-use.ts';
import type { FlatForest } from '../../services/model/forest.ts';

describe('calibration table (score deciles)', () => {
  it('cuts the rows sorted by score into equal groups: their score range, mean score and observed fraud rate', () => {
    // 20 rows, scores 0.00..0.95; the top 4 and row 3 are frauds
    const scores = Float64Array.from({ length: 20 }, (_, i) => i / 20);
    const labels = Uint8Array.from({ length: 20 }, (_, i) => (i >= 16 || i === 3 ? 1 : 0));
    const t = calibrationTable(scores, labels);
    expect(t).toHaveLength(10);
    expect(t.map((b) => b.rows)).toEqual(Array(10).fill(2));
    expect(t[0]).toEqual({
      decile: 1,
      rows: 2,
      minScore: 0,
      maxScore: 0.05,
      meanScore: 0.025,
      frauds: 0,
      fraudRate: 0,
    });
    expect(t[1]).toMatchObject({ frauds: 1, fraudRate: 0.5, minScore: 0.1, maxScore: 0.15 });
    expect(t[9]).toMatchObject({ frauds: 2, fraudRate: 1 });
    expect(t[9]!.meanScore).toBeCloseTo(0.925, 12);
    // unsorted input, sizes that do not divide: the first groups one row larger
    const shuffled = calibrationTable([0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.8], [1, 0, 0, 0, 1, 0, 1], 3);
    expect(shuffled.map((b) => [b.rows, b.frauds])).toEqual([
      [3, 0],
      [2, 1],
      [2, 2],
    ]);
    expect(shuffled[0]!.meanScore).toBeCloseTo(0.2, 12);
  });
});

describe('features by share of split weight', () => {
  it('credits each split with its rows times the Gini decrease, and gives the shares', () => {
    // one tree: root on feature 1 (100 rows, 20 % fraud) into a pure leaf (50 rows, 0 %) and a node
    // on feature 0 (50 rows, 40 %) into leaves of 20 rows at 100 % and 30 rows at 0 %.
    const flat: FlatForest = {
      nTrees: 1,
      nFeatures: 3,
      roots: Int32Array.from([0]),
      feature: Int16Array.from([1, -1, 0, -1, -1]),
      threshold: Float64Array.from([0.5, NaN, 2, NaN, NaN]),
      left: Int32Array.from([1, -1, 3, -1, -1]),
      right: Int32Array.from([2, -1, 4, -1, -1]),
      value: Float64Array.from([0.2, 0, 0.4, 1, 0]),
      samples: Int32Array.from([100, 50, 50, 20, 30]),
    };
    const gini = (p: number) => 2 * p * (1 - p);
    const root = 100 * gini(0.2) - 50 * gini(0) - 50 * gini(0.4); // 32 − 24 = 8
    const inner = 50 * gini(0.4) - 20 * gini(1) - 30 * gini(0); // 24
    const w = splitWeights(['a', 'b', 'c'], [flat, flat]);
    expect(w.map((x) => x.name)).toEqual(['a', 'b', 'c']);
    expect(w[0]!.share).toBeCloseTo(inner / (root + inner), 12);
    expect(w[1]!.share).toBeCloseTo(root / (root + inner), 12);
    expect(w.map((x) => x.splits)).toEqual([2, 2, 0]);
    expect(w[2]!.share).toBe(0);
  });
});
