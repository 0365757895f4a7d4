// npm run bench:model -- [--model ARTIFACT.json] [--data DIR] [--rows N] [--repeats R]
// Per-transaction inference time of the compiled forest against ml-random-forest's own predict on
// the same trees (the artifact's forest rebuilt as a library model), in the same run.
// Without --model, a forest is trained first (on --data, or on a small generated dataset).
import { parseArgs } from 'node:util';
import { RandomForestClassifier } from 'ml-random-forest';
import { HANDBOOK_FEATURE_SET, featureNames } from '../features/definitions.ts';
import { datasetFromBatches, readDataset, type Dataset } from '../simulator/csv.ts';
import { HANDBOOK_DEFAULTS, generateHandbook } from '../simulator/handbook.ts';
import { addDays, HANDBOOK_SPLIT } from '../evaluation/protocol.ts';
import { prepare, runSeed } from '../evaluation/evaluate.ts';
import { loadArtifact } from '../serving/artifact.ts';
import { CompiledForest } from '../serving/forest.ts';
import { DEFAULT_TRAIN_PARAMS } from '../training/train.ts';
import { libraryForestFromFlat } from '../training/compile.ts';

const { values } = parseArgs({
  options: { model: { type: 'string' }, data: { type: 'string' }, rows: { type: 'string' }, repeats: { type: 'string' }, trees: { type: 'string' } },
  strict: true,
});
const nRows = Number(values.rows ?? 5000), repeats = Number(values.repeats ?? 7);
const lastDate = addDays(HANDBOOK_SPLIT.trainStart, 20);

let ds: Dataset;
if (values.data) ds = readDataset(values.data, { toDate: lastDate });
else {
  const opts = { ...HANDBOOK_DEFAULTS, customers: 2000, terminals: 4000, days: 136, seed: 42 };
  ds = datasetFromBatches(opts.startDate, generateHandbook(opts));
}
const prepared = prepare(ds, HANDBOOK_FEATURE_SET, HANDBOOK_SPLIT);
const { testX, cols } = prepared.features;

let forest: CompiledForest;
if (values.model) {
  forest = loadArtifact(values.model, { name: HANDBOOK_FEATURE_SET.name, features: featureNames(HANDBOOK_FEATURE_SET) }).forest;
} else {
  console.error('no --model: training a forest first');
  forest = (await runSeed(ds, prepared, { ...DEFAULT_TRAIN_PARAMS, trees: Number(values.trees ?? 100) })).forest;
}
const lib: RandomForestClassifier = libraryForestFromFlat(forest.flat);

const rows = Math.min(nRows, testX.length / cols);
const vectors = Array.from({ length: rows }, (_, r) => testX.subarray(r * cols, (r + 1) * cols));
const arrays = vectors.map((v) => Array.from(v));

// agreement on these rows: every tree's vote, and the forest class where the vote is not a tie
// (ml-array-mode breaks a 50/50 tie by whichever class reached the count first)
let treeVotesAgree = 0, classAgree = 0, ties = 0;
const libPred = lib.predict(arrays);
const libVotes = (lib as unknown as { predictionValues(x: number[][]): { getRow(i: number): number[] } }).predictionValues(arrays);
for (let r = 0; r < rows; r++) {
  const share = forest.voteShare(vectors[r]!);
  const v = libVotes.getRow(r);
  if (Math.abs(v.filter((x) => x === 1).length / v.length - share) < 1e-12) treeVotesAgree++;
  if (share === 0.5) ties++;
  else if ((share > 0.5 ? 1 : 0) === libPred[r]) classAgree++;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** Median over runs of wall time and of this thread's CPU time (CPU time is what a busy, shared machine distorts least), µs per tx. */
function time(fn: () => number, perRun: number): { wall: number; cpu: number } {
  const wall: number[] = [], cpu: number[] = [];
  let sink = 0;
  for (let k = 0; k < repeats; k++) {
    const c = process.cpuUsage();
    const t = process.hrtime.bigint();
    sink += fn();
    wall.push(Number(process.hrtime.bigint() - t) / 1000 / perRun);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / perRun);
  }
  if (sink === -1) console.log(sink);
  return { wall: median(wall), cpu: median(cpu) };
}
time(() => vectors.reduce((s, v) => s + forest.score(v), 0), rows); // warm-up
const compiled = time(() => vectors.reduce((s, v) => s + forest.score(v), 0), rows);
const contrib = time(() => vectors.reduce((s, v) => s + forest.contributions(v).raw, 0), rows);
const libRows = Math.min(rows, 1000);
const libSingle = time(() => arrays.slice(0, libRows).reduce((s, a) => s + lib.predict([a])[0]!, 0), libRows);
const libBatch = time(() => lib.predict(arrays).length, rows);
const fmt = (x: { wall: number; cpu: number }) => `${x.wall.toFixed(2).padStart(8)} µs/tx wall ${x.cpu.toFixed(2).padStart(8)} µs/tx cpu`;
const ratio = (x: { wall: number; cpu: number }) => `ratio ${(x.wall / compiled.wall).toFixed(1)}× wall, ${(x.cpu / compiled.cpu).toFixed(1)}× cpu`;

console.log(`forest: ${forest.flat.nTrees} trees, ${forest.flat.feature.length} nodes; ${rows} test transactions; median of ${repeats} runs`);
console.log(`compiled score (soft vote)             ${fmt(compiled)}`);
console.log(`compiled score + contributions         ${fmt(contrib)}`);
console.log(`ml-random-forest predict, one row/call ${fmt(libSingle)}   ${ratio(libSingle)}`);
console.log(`ml-random-forest predict, one batch    ${fmt(libBatch)}   ${ratio(libBatch)}`);
console.log(`per-tree votes identical (compiled vs library): ${treeVotesAgree}/${rows} rows`);
console.log(`forest class agreement: ${classAgree}/${rows - ties} rows without a tie (${ties} rows with a 50/50 vote)`);
