// Training: quantise, draw one stratified sample per tree, train the trees (worker threads),
// compile them into a flat forest.
import { Worker } from 'node:worker_threads';
import { Random } from '../simulator/random.ts';
import { compileForest } from './compile.ts';
import { encode, fitBins, type Bins } from './quantize.ts';
import { trainTree, type TrainedTree, type TreeJob, type TreeParams } from './tree.ts';
import type { FlatForest, PriorCorrection } from '../../services/model/forest.ts';

export interface TrainParams extends TreeParams {
  trees: number;
  seed: number;
  /** Frauds per tree, as a share of the training frauds, drawn with replacement (bootstrap). */
  fraudShare: number;
  /** Genuine rows per tree, drawn with replacement. */
  genuinePerTree: number;
  /** Quantisation budget per feature (at most 256 codes). */
  bins: number;
  /** Worker threads (0: train in this thread). */
  workers: number;
  /**
   * Node fraud shares from each tree's own resampled rows ('sample': the library's leaf
   * distributions), from all training rows reaching the node ('all': same trees, leaf values
   * re-estimated on the full genuine population) or from the rows outside the tree's sample
   * ('oob': honest estimates, but each tree sees only ~37 % of the frauds).
   */
  leafValues: 'sample' | 'all' | 'oob';
}

// AP follows the genuine/fraud ratio inside each tree's sample: 8,000 genuine rows with half the
// frauds' count drawn beat 4,000 with all of them (AP 0.68 → 0.70), and fewer fraud draws and 128
// bins keep ml-cart's candidate splits, hence the cost, down (models/README.md "Measured").
export const DEFAULT_TRAIN_PARAMS: TrainParams = {
  trees: 100,
  seed: 1,
  fraudShare: 0.5,
  genuinePerTree: 8000,
  bins: 128,
  workers: 2,
  maxFeatures: 0.8,
  maxDepth: 20,
  minNumSamples: 3,
  gainThreshold: 0,
  leafValues: 'all',
};

/** The library the trees come from, as artifacts name it. */
export const TRAINING_LIBRARY = 'ml-random-forest 2.1.0 (ml-cart 2.1.1), one estimator per tree';

export interface TrainInput {
  values: Float64Array;
  labels: Uint8Array;
  rows: number;
  cols: number;
}

export interface TrainResult {
  flat: FlatForest;
  prior: PriorCorrection;
  bins: Bins;
  trees: TrainedTree[];
  samples: Int32Array[];
  codes: Uint8Array;
  seconds: number;
  /** CPU seconds of the process (all threads) while training: what a shared machine distorts least. */
  cpuSeconds: number;
}

export function drawSamples(labels: Uint8Array, p: TrainParams): Int32Array[] {
  const frauds: number[] = [],
    genuine: number[] = [];
  for (let i = 0; i < labels.length; i++) (labels[i] ? frauds : genuine).push(i);
  if (frauds.length === 0) throw new Error('no fraud in the training data');
  const nF = Math.max(1, Math.round(frauds.length * p.fraudShare));
  const nG = Math.min(p.genuinePerTree, genuine.length * 4);
  return Array.from({ length: p.trees }, (_, t) => {
    const rng = new Random(p.seed, `tree-${t}`);
    const rows = new Int32Array(nF + nG);
    for (let i = 0; i < nF; i++) rows[i] = frauds[rng.int(frauds.length)]!;
    for (let i = 0; i < nG; i++) rows[nF + i] = genuine[rng.int(genuine.length)]!;
    return rows;
  });
}

/** Rows of 0..rows−1 that are not in the sample. */
export function outOfBag(sample: Int32Array, rows: number): Int32Array {
  const inBag = new Uint8Array(rows);
  for (const r of sample) inBag[r] = 1;
  const out: number[] = [];
  for (let i = 0; i < rows; i++) if (!inBag[i]) out.push(i);
  return Int32Array.from(out);
}

async function trainInWorkers(
  codes: Uint8Array,
  labels: Uint8Array,
  cols: number,
  jobs: TreeJob[],
  p: TrainParams,
  onTree: () => void,
): Promise<TrainedTree[]> {
  const results: TrainedTree[] = new Array(jobs.length);
  const queue = [...jobs];
  const n = Math.max(1, Math.min(p.workers, jobs.length));
  const tree: TreeParams = {
    maxFeatures: p.maxFeatures,
    maxDepth: p.maxDepth,
    minNumSamples: p.minNumSamples,
    gainThreshold: p.gainThreshold,
  };
  await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<void>((resolve, reject) => {
          const w = new Worker(new URL('./worker.ts', import.meta.url), {
            workerData: { codes, labels, cols, params: tree },
          });
          const next = () => {
            const job = queue.shift();
            if (!job) {
              void w.terminate().then(() => resolve());
              return;
            }
            w.postMessage(job);
          };
          w.on('message', (m: { tree: number; result?: TrainedTree; error?: string }) => {
            if (m.error) {
              void w.terminate();
              reject(new Error(`tree ${m.tree}: ${m.error}`));
              return;
            }
            results[m.tree] = m.result!;
            onTree();
            next();
          });
          w.on('error', reject);
          next();
        }),
    ),
  );
  return results;
}

export async function trainForest(
  input: TrainInput,
  p: TrainParams,
  onTree: (done: number) => void = () => {},
): Promise<TrainResult> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const { values, labels, rows, cols } = input;
  const bins = fitBins(values, labels, cols, p.bins);
  const codes = encode(bins, values, rows, cols);
  const samples = drawSamples(labels, p);
  const jobs: TreeJob[] = samples.map((rows, tree) => ({
    tree,
    rows,
    seed: new Random(p.seed, `features-${tree}`).nextU32() & 0x7fffffff,
  }));
  let done = 0;
  const tick = () => onTree(++done);
  let trees: TrainedTree[];
  if (p.workers > 0) trees = await trainInWorkers(codes, labels, cols, jobs, p, tick);
  else {
    trees = jobs.map((j) => {
      const t = trainTree(codes, labels, cols, j, p);
      tick();
      return t;
    });
  }
  const everyRow = Int32Array.from({ length: rows }, (_, i) => i);
  const valueRows =
    p.leafValues === 'all'
      ? samples.map(() => everyRow)
      : p.leafValues === 'oob'
        ? samples.map((s) => outOfBag(s, rows))
        : samples;
  const flat = compileForest(trees, valueRows, codes, labels, cols, bins);
  let frauds = 0;
  for (let i = 0; i < rows; i++) frauds += labels[i]!;
  let sF = 0,
    sN = 0;
  for (const s of valueRows)
    for (const r of s) {
      sN++;
      sF += labels[r]!;
    }
  const prior = { populationFraudShare: frauds / rows, sampleFraudShare: sF / sN };
  const used = process.cpuUsage(cpu);
  return {
    flat,
    prior,
    bins,
    trees,
    samples,
    codes,
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: (used.user + used.system) / 1e6,
  };
}
