import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAIN_PARAMS, trainForest } from '../../models/training/train.ts';
import { constantColumns, featureUse, featureUseLines, splitCounts } from '../../models/training/feature-use.ts';

// 600 rows, 4 columns: `signal` decides the label, `flag` is 0 in every row (as the replay holds
// cvv_result=mismatch), `missing` is NaN in every row, `noise` varies and says nothing.
const rows = 600,
  cols = 4;
const values = new Float64Array(rows * cols);
const labels = new Uint8Array(rows);
for (let r = 0; r < rows; r++) {
  const signal = r % 10;
  values[r * cols] = signal;
  values[r * cols + 1] = 0;
  values[r * cols + 2] = NaN;
  values[r * cols + 3] = (r * 7919) % 13;
  labels[r] = signal >= 8 ? 1 : 0;
}
const names = ['signal', 'flag', 'missing', 'noise'];

describe('feature use', () => {
  it('finds the columns with one value in every row (NaN is one value), and only those', () => {
    expect(constantColumns(values, rows, cols)).toEqual([undefined, 0, NaN, undefined]);
    expect(constantColumns(values, 0, cols)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('after training: the constant features with their value, and every feature no tree splits on', async () => {
    const trained = await trainForest(
      { values, labels, rows, cols },
      { ...DEFAULT_TRAIN_PARAMS, trees: 5, genuinePerTree: 200, workers: 0, maxFeatures: 1, bins: 16 },
    );
    const counts = splitCounts(trained.flat);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBe(0);
    expect(counts[2]).toBe(0);
    const use = featureUse(names, { values, rows, cols }, [trained.flat]);
    expect(use.constant).toEqual([
      { name: 'flag', value: 0 },
      { name: 'missing', value: null },
    ]);
    expect(use.neverSplit).toEqual(expect.arrayContaining(['flag', 'missing']));
    expect(use.neverSplit).not.toContain('signal');
    expect(use.splits).toEqual(counts);
    // a feature that varies but is never split on is named apart from the constant ones
    const lines = featureUseLines({ ...use, neverSplit: [...new Set([...use.neverSplit, 'noise'])] }, rows, 5);
    expect(lines[0]).toBe(
      'features constant in the 600 training rows (2; no tree can split on them): flag = 0, missing = null',
    );
    expect(lines[1]).toBe('features that vary but no tree splits on (1, over 5 trees): noise');
    expect(featureUseLines({ constant: [], neverSplit: [], splits: [1, 1, 1, 1] }, rows, 5)).toEqual([
      'features constant in the 600 training rows: none',
      'features that vary but no tree splits on: none',
    ]);
  });
});
