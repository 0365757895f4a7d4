// npm run bench:model -- [--model ARTIFACT.json] [--data DIR] [--rows N] [--repeats R]
// Per-transaction inference time of the compiled forest (packed integer layout, and the float
// reference path) against ml-random-forest's own predict on the same trees (the artifact's forest
// rebuilt as a library model), in the same run. Every pass times each variant once, in turn, so a
// change of load on the shared machine hits them alike; the figures are medians over the passes.
// Without --model, a forest is trained first (on --data, or on a small generated dataset).
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { RandomForestClassifier } from 'ml-random-forest';
import { HANDBOOK_FEATURE_SET, featureNames } from '../../services/model/definitions.ts';
import { datasetFromBatches, readDataset, type Dataset } from '../simulator/csv.ts';
import { HANDBOOK_DEFAULTS, generateHandbook } from '../simulator/handbook.ts';
import { addDays, HANDBOOK_SPLIT } from '../evaluation/protocol.ts';
import { prepare, runSeed } from '../evaluation/evaluate.ts';
import { loadArtifact } from '../../services/model/artifact.ts';
import { CompiledForest } from '../../services/model/forest.ts';
import { DEFAULT_TRAIN_PARAMS } from '../training/train.ts';
import { libraryForestFromFlat } from '../training/compile.ts';
import { callerPath } from '../../services/cli/command.ts';

const USAGE = `usage: npm run bench:model -- [--model ARTIFACT.json] [--data DIR] [--rows N (5000)] [--repeats R (15)] [--trees N (100, without --model)]
  Without --model a forest is trained first, on --data or on a small generated dataset.`;

function fail(message: string): never {
  process.stderr.write(`bench:model: ${message}\n${USAGE}\n`);
  process.exit(2);
}

let values: {
  model?: string | undefined;
  data?: string | undefined;
  rows?: string | undefined;
  repeats?: string | undefined;
  trees?: string | undefined;
  help?: boolean | undefined;
};
try {
  ({ values } = parseArgs({
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      rows: { type: 'string' },
      repeats: { type: 'string' },
      trees: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
/** A bad artifact or data folder is a precise message, not a stack trace. */
function orFail<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    return fail((error as Error).message);
  }
}
const positive = (flag: 'rows' | 'repeats' | 'trees', fallback: number) => {
  const n = Number(values[flag] ?? fallback);
  if (!Number.isInteger(n) || n < 1) fail(`--${flag}: a positive integer, not ${JSON.stringify(values[flag])}`);
  return n;
};
const nRows = positive('rows', 5000),
  repeats = positive('repeats', 15);
const lastDate = addDays(HANDBOOK_SPLIT.trainStart, 20);

let ds: Dataset;
if (values.data) {
  const dir = callerPath(values.data);
  ds = orFail(() => readDataset(dir, { toDate: lastDate }));
} else {
  const opts = { ...HANDBOOK_DEFAULTS, customers: 2000, terminals: 4000, days: 136, seed: 42 };
  ds = datasetFromBatches(opts.startDate, generateHandbook(opts));
}
const prepared = prepare(ds, HANDBOOK_FEATURE_SET, HANDBOOK_SPLIT);
const { testX, cols } = prepared.features;

let forest: CompiledForest;
if (values.model) {
  const path = callerPath(values.model);
  forest = orFail(
    () => loadArtifact(path, { name: HANDBOOK_FEATURE_SET.name, features: featureNames(HANDBOOK_FEATURE_SET) }).forest,
  );
} else {
  console.error('no --model: training a forest first');
  forest = (await runSeed(ds, prepared, { ...DEFAULT_TRAIN_PARAMS, trees: positive('trees', 100) })).forest;
}
const lib: RandomForestClassifier = libraryForestFromFlat(forest.flat);

const rows = Math.min(nRows, testX.length / cols);
const vectors = Array.from({ length: rows }, (_, r) => testX.subarray(r * cols, (r + 1) * cols));
const arrays = vectors.map((v) => Array.from(v));

// agreement on these rows: every tree's vote, and the forest class where the vote is not a tie
// (ml-array-mode breaks a 50/50 tie by whichever class reached the count first)
let treeVotesAgree = 0,
  classAgree = 0,
  ties = 0;
const libPred = lib.predict(arrays);
const libVotes = (
  lib as unknown as { predictionValues(x: number[][]): { getRow(i: number): number[] } }
).predictionValues(arrays);
for (let r = 0; r < rows; r++) {
  const share = forest.voteShare(vectors[r]!);
  const v = libVotes.getRow(r);
  if (Math.abs(v.filter((x) => x === 1).length / v.length - share) < 1e-12) treeVotesAgree++;
  if (share === 0.5) ties++;
  else if ((share > 0.5 ? 1 : 0) === libPred[r]) classAgree++;
}

// the float path (thresholds compared as float64): the reference the packed layout must match exactly
const floatForest = new CompiledForest(forest.flat, forest.prior, { packed: false });
let scoreDiff = 0,
  contribDiff = 0;
const out = new Float64Array(cols),
  outFloat = new Float64Array(cols);
for (const v of vectors) {
  scoreDiff = Math.max(scoreDiff, Math.abs(forest.rawScore(v) - floatForest.rawScore(v)));
  forest.contributionsInto(v, out);
  floatForest.contributionsInto(v, outFloat);
  for (let f = 0; f < cols; f++) contribDiff = Math.max(contribDiff, Math.abs(out[f]! - outFloat[f]!));
}
let pathNodes = 0;
{
  const { roots, feature, threshold, right } = forest.flat;
  for (const v of vectors) {
    for (const root of roots) {
      let n = root;
      for (; feature[n]! >= 0; pathNodes++) n = v[feature[n]!]! < threshold[n]! ? n + 1 : right[n]!;
      pathNodes++;
    }
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
type Figure = { wall: number[]; cpu: number[] };
/** Wall time and this thread's CPU time (what a busy, shared machine distorts least) of one run, µs per tx. */
function run(fn: () => number, perRun: number, into: Figure): void {
  const c = process.cpuUsage();
  const t = process.hrtime.bigint();
  const sink = fn();
  into.wall.push(Number(process.hrtime.bigint() - t) / 1000 / perRun);
  const d = process.cpuUsage(c);
  into.cpu.push((d.user + d.system) / perRun);
  if (sink === -1) console.log(sink);
}
const libRows = Math.min(rows, 1000);
const variants: [string, () => number, number][] = [
  ['compiled score (soft vote), packed', () => vectors.reduce((s, v) => s + forest.score(v), 0), rows],
  ['compiled score, float path', () => vectors.reduce((s, v) => s + floatForest.score(v), 0), rows],
  ['score + contributions, packed', () => vectors.reduce((s, v) => s + forest.contributionsInto(v, out), 0), rows],
  [
    'score + contributions, float path',
    () => vectors.reduce((s, v) => s + floatForest.contributionsInto(v, outFloat), 0),
    rows,
  ],
  ['contributions() (allocating), packed', () => vectors.reduce((s, v) => s + forest.contributions(v).raw, 0), rows],
  ['scoreMany (all rows, one call), packed', () => forest.scoreMany(testX.subarray(0, rows * cols), cols).length, rows],
  [
    'ml-random-forest predict, one row/call',
    () => arrays.slice(0, libRows).reduce((s, a) => s + lib.predict([a])[0]!, 0),
    libRows,
  ],
  ['ml-random-forest predict, one batch', () => lib.predict(arrays).length, rows],
];
const figures = variants.map((): Figure => ({ wall: [], cpu: [] }));
for (let k = 0; k < 2; k++) variants.forEach(([, fn, n]) => run(fn, n, { wall: [], cpu: [] })); // warm-up (JIT)
const load = loadavg()[0]!;
for (let k = 0; k < repeats; k++) variants.forEach(([, fn, n], i) => run(fn, n, figures[i]!));
const summary = figures.map((f) => ({
  wall: median(f.wall),
  cpu: median(f.cpu),
  lo: Math.min(...f.cpu),
  hi: Math.max(...f.cpu),
}));
const base = summary[0]!;

console.log(
  `forest: ${forest.flat.nTrees} trees, ${forest.flat.feature.length} nodes, layout ${forest.layout}; mean path ${(pathNodes / rows / forest.flat.nTrees).toFixed(1)} nodes per tree`,
);
console.log(
  `${rows} test transactions; median of ${repeats} passes (cpu range min–max); load average ${load.toFixed(2)} → ${loadavg()[0]!.toFixed(2)} on ${(await import('node:os')).availableParallelism()} cores`,
);
variants.forEach(([name], i) => {
  const x = summary[i]!;
  const ratio =
    i === 0
      ? ''
      : `   ${(x.cpu / base.cpu).toFixed(2)}× cpu, ${(x.wall / base.wall).toFixed(2)}× wall of the packed soft vote`;
  console.log(
    `${name.padEnd(40)} ${x.wall.toFixed(2).padStart(8)} µs/tx wall ${x.cpu.toFixed(2).padStart(8)} µs/tx cpu (${x.lo.toFixed(2)}–${x.hi.toFixed(2)})${ratio}`,
  );
});
console.log(
  `packed vs float path: max |Δ raw score| ${scoreDiff}, max |Δ contribution| ${contribDiff.toExponential(1)} over ${rows} rows`,
);
console.log(`per-tree votes identical (compiled vs library): ${treeVotesAgree}/${rows} rows`);
console.log(`forest class agreement: ${classAgree}/${rows - ties} rows without a tie (${ties} rows with a 50/50 vote)`);
