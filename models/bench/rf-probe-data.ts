// Small helper for the ml-random-forest measurements: the handbook split of a dataset, cached.
import { readDataset } from '../simulator/csv.ts';
import { HANDBOOK_FEATURE_SET } from '../../services/model/definitions.ts';
import { handbookSplit, splitFeatures } from '../evaluation/protocol.ts';

export function loadSplit(dir: string) {
  const t0 = performance.now();
  const ds = readDataset(dir, { toDate: '2018-08-14' });
  const t1 = performance.now();
  const split = handbookSplit(ds);
  const f = splitFeatures(ds, split, HANDBOOK_FEATURE_SET);
  const t2 = performance.now();
  console.error(
    `read ${ds.n} rows in ${((t1 - t0) / 1000).toFixed(1)} s, features in ${((t2 - t1) / 1000).toFixed(1)} s; train ${f.trainY.length} (${f.trainY.reduce((s, v) => s + v, 0)} frauds), test ${f.testY.length} (${f.testY.reduce((s, v) => s + v, 0)} frauds), removed ${split.removedTestRows}`,
  );
  return { ds, split, f };
}
