// Measures the known problems of ml-random-forest 2.x / ml-cart 2.x on handbook data.
//   sh scripts/run.sh models/bench/rf-properties.ts DATA_DIR
// Prints one line per property: what was checked and what was measured.
/* eslint-disable @typescript-eslint/no-explicit-any -- probes ml-random-forest's untyped internals */
import { RandomForestClassifier } from 'ml-random-forest';
import { loadSplit } from './rf-probe-data.ts';
import { Random } from '../simulator/random.ts';
import { encode, fitBins } from '../training/quantize.ts';
import { trainingOrder } from '../training/tree.ts';

const dir = process.argv[2] ?? '/tmp/lg/hb0';
const { f } = loadSplit(dir);
const cols = f.cols;
const row = (i: number) => Array.from(f.trainX.values.subarray(i * cols, (i + 1) * cols));
const rng = new Random(1, 'probe');
const pickRows = (n: number) => rng.sample(f.trainY.length, n).sort((a, b) => a - b);
const X = (idx: number[]) => idx.map(row);
const Y = (idx: number[]) => idx.map((i) => f.trainY[i]!);

type Json = { baseModel: { estimators: { root: unknown }[] } };
function shape(node: any): { nodes: number; leaves: number; depth: number; fraudLeaves: number } {
  if (!node.left) {
    const d = node.distribution?.data?.[0] ?? node.distribution?.[0] ?? node.distribution;
    const p1 = Array.isArray(d) || ArrayBuffer.isView(d) ? ((d as number[])[1] ?? 0) : 0;
    return { nodes: 1, leaves: 1, depth: 0, fraudLeaves: p1 > 0.5 ? 1 : 0 };
  }
  const l = shape(node.left),
    r = shape(node.right);
  return {
    nodes: 1 + l.nodes + r.nodes,
    leaves: l.leaves + r.leaves,
    depth: 1 + Math.max(l.depth, r.depth),
    fraudLeaves: l.fraudLeaves + r.fraudLeaves,
  };
}
const time = <T>(fn: () => T): [T, number] => {
  const t = performance.now();
  const v = fn();
  return [v, (performance.now() - t) / 1000];
};
const base = { seed: 3, useSampleBagging: false, noOOB: true, replacement: false, maxFeatures: 1.0 };

// 1. gainThreshold 0.01 (ml-cart default) on ~1 % positives
{
  const idx = pickRows(3000);
  const y = Y(idx);
  for (const gainThreshold of [undefined, 1e-9]) {
    const rf = new RandomForestClassifier({
      ...base,
      nEstimators: 1,
      treeOptions: gainThreshold === undefined ? {} : { gainThreshold },
    });
    const [, s] = time(() => rf.train(X(idx), y));
    const sh = shape((rf.toJSON() as unknown as Json).baseModel.estimators[0]!.root);
    console.log(
      `gainThreshold=${gainThreshold ?? 'default 0.01'}: 3000 rows, ${y.reduce((a, b) => a + b, 0)} frauds → ${sh.nodes} nodes, depth ${sh.depth}, ${sh.fraudLeaves} fraud-majority leaves (${s.toFixed(2)} s)`,
    );
  }
}

// 2. predictProbability: hard-vote share, and the first tree's vote is dropped
{
  const idx = pickRows(1500);
  const rf = new RandomForestClassifier({
    ...base,
    nEstimators: 4,
    useSampleBagging: true,
    treeOptions: { gainThreshold: 1e-9 },
  });
  rf.train(X(idx), Y(idx));
  const test = X(pickRows(3000));
  const votes = (rf as any).predictionValues(test) as { getRow(i: number): number[] };
  const p = rf.predictProbability(test, 1);
  let agreeShare = 0,
    agreeDrop = 0;
  const nonBinaryDistinct = new Set<number>();
  for (let i = 0; i < test.length; i++) {
    const v = votes.getRow(i);
    const share = v.filter((x) => x === 1).length / v.length;
    // reduce() without an initial value: the first vote enters as 0 or 1 instead of 1e6/T
    const dropFirst = Math.round(v[0]! + (v.slice(1).filter((x) => x === 1).length * 1e6) / v.length) / 1e6;
    if (Math.abs(p[i]! - share) < 1e-6) agreeShare++;
    if (Math.abs(p[i]! - dropFirst) < 1e-9) agreeDrop++;
    nonBinaryDistinct.add(p[i]!);
  }
  console.log(
    `predictProbability (4 trees): equals vote share on ${agreeShare}/${test.length} rows; equals "first vote as 0/1 + others/4" on ${agreeDrop}/${test.length}; distinct values ${[...nonBinaryDistinct].sort().join(', ')}`,
  );
}

// 3. feature bagging is per tree, not per split; default replacement:true duplicates columns
{
  const idx = pickRows(500);
  const rf = new RandomForestClassifier({ seed: 3, nEstimators: 5, noOOB: true, maxFeatures: 0.5, treeOptions: {} });
  rf.train(X(idx), Y(idx));
  const ix = (rf as any).indexes as number[][];
  console.log(
    `feature subsets per tree (maxFeatures 0.5, default replacement): ${ix.map((s) => `[${s.join(',')}]`).join(' ')}; duplicates in ${ix.filter((s) => new Set(s).size < s.length).length}/5 trees`,
  );
}

// 4. maxSamples takes the first rows, no shuffle
{
  const n = 1000;
  const idx = pickRows(n);
  const x = X(idx);
  const y = idx.map((_, k) => (k >= n / 2 ? 1 : 0)); // second half positive
  // maxSamples exists in the library (RandomForestBase) but not in its type definitions
  const rf = new RandomForestClassifier({ ...base, nEstimators: 3, maxSamples: 0.5, treeOptions: {} } as never);
  rf.train(x, y);
  const pred = rf.predict(x);
  console.log(
    `maxSamples 0.5 on data whose second half is all positive: predicted positives ${pred.filter((p) => p === 1).length}/${n} (the trees never saw a positive)`,
  );
}

// 5. OOB on small forests
for (const nEstimators of [1, 2, 3, 10]) {
  const idx = pickRows(200);
  try {
    const rf = new RandomForestClassifier({ seed: 3, nEstimators, treeOptions: {} });
    rf.train(X(idx), Y(idx));
    console.log(`OOB with ${nEstimators} trees on 200 rows: ok`);
  } catch (e) {
    console.log(`OOB with ${nEstimators} trees on 200 rows: throws ${(e as Error).message}`);
  }
}

// 6. training time against rows (one tree, library defaults except bagging off, imbalanced data)
for (const n of [1000, 2000, 4000, 8000]) {
  const idx = pickRows(n);
  const x = X(idx),
    y = Y(idx);
  for (const gainThreshold of [undefined, 1e-9]) {
    const rf = new RandomForestClassifier({
      ...base,
      nEstimators: 1,
      treeOptions: gainThreshold === undefined ? {} : { gainThreshold },
    });
    const [, s] = time(() => rf.train(x, y));
    console.log(
      `1 tree, ${n} rows (${y.reduce((a, b) => a + b, 0)} frauds), gainThreshold ${gainThreshold ?? 'default'}: ${s.toFixed(2)} s`,
    );
  }
}
// the library's own forest, defaults (bagging, OOB, features with replacement), 10 trees
for (const n of [2000, 8000]) {
  const idx = pickRows(n);
  const rf = new RandomForestClassifier({ seed: 3, nEstimators: 10 });
  try {
    const [, s] = time(() => rf.train(X(idx), Y(idx)));
    console.log(`library defaults, 10 trees, ${n} rows: ${s.toFixed(2)} s`);
  } catch (e) {
    console.log(`library defaults, 10 trees, ${n} rows: throws ${(e as Error).message}`);
  }
}
// stratified sample (580 frauds + genuine rows): ml-cart's cost depends on the row order
for (const [pos, neg] of [
  [580, 1500],
  [580, 3000],
] as const) {
  const frauds: number[] = [],
    genuine: number[] = [];
  for (let i = 0; i < f.trainY.length; i++) (f.trainY[i] ? frauds : genuine).push(i);
  const idx = Int32Array.from([
    ...rng.sample(frauds.length, Math.min(pos, frauds.length)).map((k) => frauds[k]!),
    ...rng.sample(genuine.length, neg).map((k) => genuine[k]!),
  ]);
  const shuffled = [...idx]
    .map((r) => [r, rng.next()] as const)
    .sort((a, b) => a[1] - b[1])
    .map((a) => a[0]);
  const bins = fitBins(f.trainX.values, f.trainY, cols, 255);
  const codes = encode(bins, f.trainX.values, f.trainY.length, cols);
  const codeRow = (i: number) => Array.from(codes.subarray(i * cols, (i + 1) * cols));
  const variants: [string, number[], (i: number) => number[]][] = [
    ['raw features, shuffled', shuffled, row],
    ['255-bin codes, shuffled', shuffled, codeRow],
    ['255-bin codes, trainingOrder (pairs, genuine, frauds)', trainingOrder(idx, f.trainY), codeRow],
  ];
  for (const [name, order, get] of variants) {
    const rf = new RandomForestClassifier({ ...base, nEstimators: 1, treeOptions: { gainThreshold: 0, maxDepth: 20 } });
    const [, s] = time(() =>
      rf.train(
        order.map(get),
        order.map((i) => f.trainY[i]!),
      ),
    );
    const sh = shape((rf.toJSON() as unknown as Json).baseModel.estimators[0]!.root);
    console.log(
      `1 tree, ${pos} frauds + ${neg} genuine, ${name}: ${s.toFixed(2)} s, ${sh.nodes} nodes, depth ${sh.depth}`,
    );
  }
}
