// npm run model -- train    --data DIR [--feature-set handbook|engine] [--from YYYY-MM-DD --to YYYY-MM-DD] [--trees N] [--seed S] --out ARTIFACT.json
// npm run model -- train-recorded --out ARTIFACT.json [--source FILE|DIR|kafka | --requests FILE|DIR [--merchant ID]] ...   (your own traffic: train-recorded.ts)
// npm run model -- evaluate --data DIR[,DIR...] --protocol handbook [--feature-set handbook|engine] [--seeds 1,2,3] [--json FILE] [--report FILE.html]
// Training and tree options (both commands): --genuine-per-tree N --fraud-share X --max-depth N --min-node N
//   --max-features X --bins N --gain-threshold X --workers N
import { statSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { callerPath, unwritable } from '../../services/cli/command.ts';
import { progress as lineOrBar } from './progress.ts';
import { featureNames, featureSet } from '../../services/model/definitions.ts';
import { DatasetError, readDataset, type Dataset } from '../simulator/csv.ts';
import {
  addDays,
  coverageWarnings,
  dateRanges,
  HANDBOOK_SPLIT,
  splitCoverage,
  type SplitOptions,
} from '../evaluation/protocol.ts';
import {
  meanSpread,
  prepareAny,
  REFERENCE,
  runSeed,
  testMetrics,
  withTarget,
  type Prepared,
} from '../evaluation/evaluate.ts';
import { featureHistoryDays, needsEngineReplay, trainingAmountReference } from '../replay/engine-features.ts';
import { renderReport, type ReportDataset, type ReportSeed } from '../evaluation/report.ts';
import { reachableCardPrecision, visibleTestFrauds } from '../evaluation/reachable.ts';
import { DEFAULT_TRAIN_PARAMS, TRAINING_LIBRARY, type TrainParams } from '../training/train.ts';
import { featureUse, featureUseLines, splitWeights } from '../training/feature-use.ts';
import {
  describeLabels,
  LABEL_FLAGS,
  LABEL_USAGE,
  labelsFromFlags,
  TARGET_USAGE,
  targetFromFlag,
  type TargetRecord,
} from '../features/labels.ts';
import type { FlatForest } from '../../services/model/forest.ts';
import { applyTrainFlags, isCalendarDate, parseNumberFlag, TRAIN_FLAGS } from './train-flags.ts';
import {
  buildArtifact,
  forestDigest,
  loadArtifact,
  modelVersionProblem,
  saveArtifact,
} from '../../services/model/artifact.ts';
import { artifactFeatureSet, refuseOtherFeatureSet, unverifiedDefinitions } from '../../services/model/fingerprint.ts';
import { calibrationTable } from '../evaluation/metrics.ts';

const USAGE = `usage:
  npm run model -- train --data DIR [--feature-set handbook|engine] [--from YYYY-MM-DD --to YYYY-MM-DD] [--trees N] [--seed S] [--name VERSION] --out ARTIFACT.json
  npm run model -- evaluate --data DIR --protocol handbook [--feature-set handbook|engine] [--seeds 1,2,3 | --model ARTIFACT.json] [--json FILE] [--report FILE.html]
      (--model: evaluate that artifact on the test week instead of training one; its feature set unless --feature-set)
  npm run model -- evaluate-cpp --data DIR [--scan-hours H] [--json FILE]   (breach discovery with and without, on a breach dataset)
  npm run model -- train-recorded --out ARTIFACT.json [--source FILE|DIR|kafka | --requests FILE|DIR [--merchant ID]] [--from DATE --to DATE] [--test-days N]
      (your own recorded traffic, or before going live your own history of /v1/score requests: --help)
  npm run model -- record-simulated --data DIR --out FILE.ndjson [--to DATE] [--model PATH|off|none]   (a breach dataset as the engines would have recorded it)
  npm run model -- export-labels --out FILE [--format csv|ndjson] [--since ISO-DATE]   (analysts' decisions and merchants' outcomes)
options for train and evaluate:
  --trees N (${DEFAULT_TRAIN_PARAMS.trees})  --genuine-per-tree N (${DEFAULT_TRAIN_PARAMS.genuinePerTree})  --fraud-share X (${DEFAULT_TRAIN_PARAMS.fraudShare})
  --max-depth N (${DEFAULT_TRAIN_PARAMS.maxDepth})  --min-node N (${DEFAULT_TRAIN_PARAMS.minNumSamples})  --max-features X (${DEFAULT_TRAIN_PARAMS.maxFeatures})
  --bins N (${DEFAULT_TRAIN_PARAMS.bins})  --gain-threshold X (${DEFAULT_TRAIN_PARAMS.gainThreshold})  --workers N (${DEFAULT_TRAIN_PARAMS.workers})
  --leaf-values sample|all|oob (${DEFAULT_TRAIN_PARAMS.leafValues}): leaf fraud shares from each tree's resample, all training rows or its out-of-bag rows
${LABEL_USAGE}
${TARGET_USAGE}
  --quiet`;

const options: Record<string, { type: 'string' | 'boolean' }> = {
  data: { type: 'string' },
  out: { type: 'string' },
  'feature-set': { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  protocol: { type: 'string' },
  seeds: { type: 'string' },
  json: { type: 'string' },
  report: { type: 'string' },
  'leaf-values': { type: 'string' },
  name: { type: 'string' },
  model: { type: 'string' },
  target: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean' },
};
for (const k of [...Object.keys(TRAIN_FLAGS), ...LABEL_FLAGS]) options[k] = { type: 'string' };

function fail(message: string): never {
  console.error(`model: ${message}\n\n${USAGE}`);
  process.exit(2);
}

/**
 * An input file that cannot be used (a dataset, its side files, an artifact): one line naming the
 * file and the place in it, exit 2, and no usage (the flags were right).
 */
function failInput(message: string): never {
  console.error(`model: ${message}`);
  process.exit(2);
}

/**
 * Why a prepared split cannot be trained on: no fraud in its training rows under the target (the
 * forest samples frauds in every tree). One line, checked before any training (as train-recorded).
 */
function nothingToLearn(p: Prepared, where = ''): string | undefined {
  const t = p.target;
  if (t.frauds > 0) return undefined;
  const o = p.split.options;
  const period = `${o.trainStart}..${addDays(o.trainStart, o.trainDays - 1)}`;
  return t.target === 'chargebacks'
    ? `${where}no fraud to learn: none of the ${t.truthFrauds} frauds of the train period ${period} is charged back by ${t.cutoff}, the training cut-off (--target chargebacks); a shorter --chargeback-delay-days, a longer train period (--from, --to) or --target truth`
    : `${where}no fraud to learn: no fraud in the train period ${period}; a longer train period (--from, --to)`;
}

if (process.argv[2] === 'evaluate-cpp') {
  const { evaluateCppCommand } = await import('./evaluate-cpp.ts');
  process.exit(await evaluateCppCommand(process.argv.slice(3)));
}

if (process.argv[2] === 'train-recorded') {
  const { trainRecordedCommand, TRAIN_RECORDED_USAGE } = await import('./train-recorded.ts');
  const { runCli } = await import('./backtest.ts');
  // stdout and stderr are synchronous on Linux: nothing written is lost on exit
  process.exit(await runCli(trainRecordedCommand, TRAIN_RECORDED_USAGE, process.argv.slice(3)));
}

if (process.argv[2] === 'record-simulated') {
  const { recordSimulatedCommand, RECORD_SIMULATED_USAGE } = await import('./record-simulated.ts');
  const { runCli } = await import('./backtest.ts');
  process.exit(await runCli(recordSimulatedCommand, RECORD_SIMULATED_USAGE, process.argv.slice(3)));
}

if (process.argv[2] === 'export-labels') {
  const { exportLabelsCommand } = await import('./export-labels.ts');
  process.exit(await exportLabelsCommand(process.argv.slice(3)));
}

// The breach protocol has its own flags and reads the whole dataset: its module parses everything.
const protocolArg = process.argv.findIndex((a) => a === '--protocol' || a.startsWith('--protocol='));
if (
  process.argv[2] === 'evaluate' &&
  protocolArg > 0 &&
  (process.argv[protocolArg]!.slice(11) || process.argv[protocolArg + 1]) === 'breach'
) {
  const { evaluateBreachCommand } = await import('./evaluate-breach.ts');
  process.exit(await evaluateBreachCommand(process.argv.slice(3)));
}

const { values, positionals } = (() => {
  try {
    return parseArgs({ options, allowPositionals: true, strict: true });
  } catch (error) {
    return fail((error as Error).message);
  }
})();
const command = positionals[0];
if (values.help || !command) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}
if (command !== 'train' && command !== 'evaluate')
  fail(`unknown command ${command} (train, evaluate, evaluate-cpp, export-labels)`);
const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
/** A path flag as its caller meant it (relative to the folder npm was called from). */
const pathArg = (k: string) => {
  const v = str(k);
  return v === undefined ? undefined : callerPath(v);
};
// Files written after minutes of work: a folder that cannot take them is said first.
for (const flag of ['out', 'json', 'report']) {
  const target = pathArg(flag);
  const problem = target === undefined ? undefined : unwritable(target);
  if (problem) fail(`--${flag} ${str(flag)}: ${problem}`);
}
const name = str('name');
const nameProblem = name === undefined ? undefined : modelVersionProblem(name);
if (nameProblem) fail(`--name: ${nameProblem}`);
const data = str('data') ?? fail('--data DIR is required');
// An existing model to evaluate (evaluate only): read and checked before any data is.
const given = (() => {
  const path = pathArg('model');
  if (path === undefined) return undefined;
  if (command !== 'evaluate') fail('--model: evaluate only (train writes --out)');
  if (str('seeds') !== undefined) fail('--seeds: not with --model (the model is trained already)');
  try {
    return { path, ...loadArtifact(path) };
  } catch (error) {
    return failInput(`--model ${str('model')}: ${(error as Error).message}`);
  }
})();
const fs = (() => {
  try {
    return featureSet(str('feature-set') ?? given?.artifact.featureSet.name ?? 'handbook');
  } catch (error) {
    return fail(`--feature-set: ${(error as Error).message}`);
  }
})();
if (given) {
  try {
    if (refuseOtherFeatureSet(given.artifact, fs) === 'unverified')
      console.error(`warning: --model ${str('model')}: ${unverifiedDefinitions(given.artifact, fs)}`);
  } catch (error) {
    // another feature set than --feature-set asked for: a usage error; other definitions: the file's
    if (str('feature-set') !== undefined) fail(`--model ${str('model')}: ${(error as Error).message}`);
    failInput(`--model ${str('model')}: ${(error as Error).message}`);
  }
  const reference = trainingAmountReference(fs);
  if ((given.artifact.amountReference ?? 'EUR') !== reference)
    fail(
      `--model ${str('model')}: its amounts are in ${given.artifact.amountReference}, this evaluation's in ${reference}`,
    );
}
const params: TrainParams = { ...DEFAULT_TRAIN_PARAMS };
const flagProblem = applyTrainFlags(params, str);
if (flagProblem) fail(flagProblem);
const leafValues = str('leaf-values');
if (leafValues !== undefined) {
  if (leafValues !== 'sample' && leafValues !== 'all' && leafValues !== 'oob')
    fail('--leaf-values: sample, all or oob');
  params.leafValues = leafValues;
}
const labels = (() => {
  const l = labelsFromFlags(str);
  return typeof l === 'string' ? fail(l) : l;
})();
const target = (() => {
  const t = targetFromFlag(str('target'));
  if ('problem' in t) return fail(t.problem);
  if (given && str('target') !== undefined) fail('--target: not with --model (the model is trained already)');
  return t.target;
})();

function splitFromFlags(): SplitOptions {
  const from = str('from'),
    to = str('to');
  // a real calendar date: Date.parse rolls 2018-02-30 into March, and 2018-04-99 gives NaN (addDays throws)
  for (const [flag, d] of [
    ['from', from],
    ['to', to],
  ] as const)
    if (d !== undefined && !isCalendarDate(d)) fail(`--${flag}: expected a calendar date as YYYY-MM-DD, not ${d}`);
  if (!from && !to) return HANDBOOK_SPLIT;
  const start = from ?? HANDBOOK_SPLIT.trainStart;
  const days = to ? Math.round((Date.parse(to) - Date.parse(start)) / 86_400_000) + 1 : HANDBOOK_SPLIT.trainDays;
  if (days < 1) fail('--to is before --from');
  return { ...HANDBOOK_SPLIT, trainStart: start, trainDays: days };
}

function progress(label: string, total: number) {
  if (values.quiet) return { update: (_: number) => {}, stop: () => {} };
  return lineOrBar(label, total, { unit: 'trees' });
}

/** Progress of an engine replay (engine feature set): transactions, not trees. */
function replayProgress(): ((done: number, total: number) => void) | undefined {
  if (values.quiet || !needsEngineReplay(fs)) return undefined;
  let bar: ReturnType<typeof lineOrBar> | undefined;
  return (done, total) => {
    bar ??= lineOrBar('engine replay', total, { unit: 'transactions' });
    bar.update(done);
    if (done >= total) bar.stop();
  };
}

const split = splitFromFlags();
const lastDate = addDays(split.trainStart, split.trainDays + split.delayDays + split.testDays - 1);
const dataDirs = data
  .split(',')
  .map((d) => d.trim())
  .filter((d) => d)
  .map(callerPath);
if (dataDirs.length === 0) fail('--data DIR is required');
// Every folder is checked before the first one takes minutes to evaluate.
for (const dir of dataDirs) {
  try {
    statSync(dir);
  } catch (error) {
    fail(`--data ${dir}: ${(error as Error).message}`);
  }
}

function read(dir: string): Dataset {
  const t0 = performance.now();
  // The engine feature set replays the breach scenario's columns (cards, devices, ...) through the engine.
  let ds: Dataset;
  try {
    ds = readDataset(dir, { toDate: lastDate, keepExtra: needsEngineReplay(fs) });
  } catch (error) {
    // a DatasetError names the file and the place in it
    if (error instanceof DatasetError) return failInput(error.message);
    return fail(`--data ${dir}: ${(error as Error).message}`);
  }
  console.error(`read ${ds.n} transactions from ${dir} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return ds;
}

if (command === 'train') {
  if (dataDirs.length > 1) fail('--data: train reads one dataset');
  const dir = dataDirs[0]!;
  const out = pathArg('out') ?? fail('--out ARTIFACT.json is required');
  const ds = read(dir);
  // The protocol's test week (after the delay) gives the artifact's metrics when the data reaches it.
  let prepared;
  try {
    prepared = withTarget(ds, await prepareAny(ds, fs, split, dir, false, replayProgress(), labels), fs, target);
  } catch (error) {
    if (error instanceof DatasetError) failInput(error.message);
    fail((error as Error).message);
  }
  const noFraud = nothingToLearn(prepared);
  if (noFraud) failInput(noFraud);
  const hasTest = prepared.split.test.length > 0;
  const coverage = splitCoverage(ds, prepared.split, featureHistoryDays(fs));
  for (const w of coverageWarnings(coverage)) console.error(`model: warning: ${w}`);
  const bar = progress('train', params.trees);
  const r = await runSeed(ds, prepared, params, (d) => bar.update(d));
  bar.stop();
  const trainTo = addDays(split.trainStart, split.trainDays - 1);
  const frauds = prepared.features.trainY.reduce((s, v) => s + v, 0);
  const use = featureUse(
    featureNames(fs),
    { values: prepared.features.trainX.values, rows: prepared.features.trainY.length, cols: prepared.features.cols },
    [r.result.flat],
  );
  const artifact = buildArtifact({
    modelVersion:
      name ??
      // data fingerprint, then the forest's own digest: another training never takes the same name
      `rf-${fs.name}-${new Date().toISOString().slice(0, 10)}-${prepared.fingerprint.slice(7, 15)}-s${params.seed}-${forestDigest({ ...params }, r.result.flat)}`,
    amountReference: trainingAmountReference(fs),
    featureSet: artifactFeatureSet(fs),
    training: {
      data: {
        source: dir,
        from: split.trainStart,
        to: trainTo,
        rows: prepared.features.trainY.length,
        frauds,
        fingerprint: prepared.fingerprint,
        // what the data held before the train period: windows reach this far back
        history: {
          days: coverage.historyDays,
          from: coverage.historyFrom,
          dataFrom: coverage.dataFrom,
          missingDays: coverage.missingHistoryDates.length,
        },
      },
      // features the training rows held constant, and those no tree splits on (they add nothing to a score)
      featureUse: { constant: use.constant, neverSplit: use.neverSplit },
      // the fraud labels the terminal-risk features were computed from (features/labels.ts)
      labels: { ...labels, description: describeLabels(labels) },
      // what the forest learnt: the ground truth, or the frauds charged back by the cut-off
      target: prepared.target,
      params: { ...params },
      seconds: r.trainSeconds,
      cpuSeconds: r.result.cpuSeconds,
      library: TRAINING_LIBRARY,
    },
    metrics: !hasTest
      ? { protocol: 'none: the data does not reach the test week' }
      : {
          protocol: 'handbook single split',
          // the dates the test rows cover, not the protocol's week (the data may end inside it)
          testFrom: coverage.testCovered!.from,
          testTo: coverage.testCovered!.to,
          testDays: coverage.testCovered!.days,
          testPeriod: coverage.testPeriod,
          testPeriodCovered: coverage.missingTestDates.length === 0,
          ...(coverage.missingTestDates.length ? { missingTestDates: coverage.missingTestDates } : {}),
          testTransactions: prepared.split.test.length,
          testFrauds: prepared.features.testY.reduce((s, v) => s + v, 0),
          auc: r.auc,
          ap: r.ap,
          cp100: r.cp100,
          labels: describeLabels(labels),
          target: prepared.target.description,
        },
    prior: r.result.prior,
    flat: r.result.flat,
  });
  try {
    saveArtifact(out, artifact);
  } catch (error) {
    console.error(`model: ${(error as Error).message}`);
    process.exit(1);
  }
  console.log(
    `trained ${params.trees} trees on ${prepared.features.trainY.length} transactions (${frauds} frauds) in ${r.trainSeconds.toFixed(1)} s (${r.result.cpuSeconds.toFixed(1)} s CPU over ${params.workers || 1} thread(s)); ${r.result.flat.feature.length} nodes`,
  );
  for (const l of featureUseLines(use, prepared.features.trainY.length, params.trees)) console.log(l);
  if (hasTest)
    console.log(
      `test ${coverage.testCovered!.from}..${coverage.testCovered!.to}${coverage.missingTestDates.length ? ` (${coverage.testCovered!.days} of the ${coverage.testPeriod.days} test days)` : ''}: AUC ${r.auc.toFixed(3)}  AP ${r.ap.toFixed(3)}  CP@100 ${r.cp100.toFixed(3)}`,
    );
  else console.log('no test week in the data: the artifact carries no evaluation metrics');
  console.log(describeLabels(labels));
  console.log(prepared.target.description);
  console.log(`wrote ${out} (${artifact.modelVersion})`);
} else if (command === 'evaluate') {
  if ((str('protocol') ?? 'handbook') !== 'handbook')
    fail(`unknown protocol ${str('protocol')} (known: handbook, breach)`);
  // Number('') is 0: an empty part ('1,,2') would silently run seed 0
  const seedList = str('seeds') ?? String(params.seed);
  const seeds = seedList.split(',').map((part) => {
    const n = parseNumberFlag('seeds', part.trim(), TRAIN_FLAGS.seed!);
    return typeof n === 'string'
      ? fail(`--seeds: whole numbers from 0 to ${2 ** 32 - 1} separated by commas, not '${part}' in ${seedList}`)
      : n;
  });
  const testDates = Array.from({ length: split.testDays }, (_, i) =>
    addDays(split.trainStart, split.trainDays + split.delayDays + i),
  );
  const evaluated: (ReportDataset & {
    fingerprint: string;
    target: TargetRecord;
    test: {
      transactions: number;
      frauds: number;
      removed: number;
      covered: { from: string; to: string; days: number } | undefined;
      missingDates: string[];
      historyMissingDays: number;
    };
  })[] = [];
  const allFlats: FlatForest[] = [];
  for (const dir of dataDirs) {
    const ds = read(dir);
    const prepared = withTarget(
      ds,
      await prepareAny(ds, fs, split, dir, true, replayProgress(), labels).catch((error: unknown) =>
        error instanceof DatasetError ? failInput(error.message) : fail(`${dir}: ${(error as Error).message}`),
      ),
      fs,
      target,
    );
    const noFraud = given ? undefined : nothingToLearn(prepared, dataDirs.length > 1 ? `${dir}: ` : '');
    if (noFraud) failInput(noFraud);
    const f = prepared.features;
    const frauds = (ys: Uint8Array) => ys.reduce((s, v) => s + v, 0);
    console.error(
      `train ${split.trainStart}..${addDays(split.trainStart, split.trainDays - 1)}: ${f.trainY.length} transactions, ${frauds(f.trainY)} frauds; ` +
        `test ${testDates[0]}..${lastDate}: ${f.testY.length} transactions, ${frauds(f.testY)} frauds ` +
        `(${prepared.split.removedTestRows} removed: known compromised cards)`,
    );
    const coverage = splitCoverage(ds, prepared.split, featureHistoryDays(fs));
    for (const w of coverageWarnings(coverage)) console.error(`model: warning: ${dir}: ${w}`);
    const visible = visibleTestFrauds(ds, prepared.split, fs, prepared.arrivals);
    const reachable = visible && reachableCardPrecision(ds, prepared.split, visible);
    if (reachable)
      console.error(
        `reachable CP@100 ${reachable.mean.toFixed(4)}: ${reachable.perDay.reduce((s, d) => s + d.detected.length, 0)} cards with a fraud these features can see ranked first (at most 100 a day)`,
      );
    const results: ReportSeed[] = [];
    const flats: FlatForest[] = [];
    if (given) {
      const scores = given.forest.scoreMany(f.testX, f.cols);
      const m = testMetrics(ds, prepared, scores);
      allFlats.push(given.forest.flat);
      results.push({ seed: Number(given.artifact.training.params.seed ?? 0), ...m, scores });
      console.error(
        `model ${given.artifact.modelVersion}: AUC ${m.auc.toFixed(4)}  AP ${m.ap.toFixed(4)}  CP@100 ${m.cp100.toFixed(4)}`,
      );
    }
    for (const seed of given ? [] : seeds) {
      const bar = progress(`seed ${seed}`, params.trees);
      const r = await runSeed(ds, prepared, { ...params, seed }, (d) => bar.update(d));
      bar.stop();
      flats.push(r.result.flat);
      allFlats.push(r.result.flat);
      // Keep the figures and scores, not the trees: several datasets × seeds stay small.
      results.push({
        seed,
        auc: r.auc,
        ap: r.ap,
        cp100: r.cp100,
        cpPerDay: r.cpPerDay,
        scores: r.scores,
        trainSeconds: r.trainSeconds,
      });
      console.error(
        `seed ${seed}: AUC ${r.auc.toFixed(4)}  AP ${r.ap.toFixed(4)}  CP@100 ${r.cp100.toFixed(4)}  (train ${r.trainSeconds.toFixed(1)} s wall, ${r.result.cpuSeconds.toFixed(1)} s CPU, ${r.result.flat.feature.length} nodes)`,
      );
    }
    if (!given) {
      const use = featureUse(featureNames(fs), { values: f.trainX.values, rows: f.trainY.length, cols: f.cols }, flats);
      for (const l of featureUseLines(use, f.trainY.length, params.trees * seeds.length))
        console.error(`${dataDirs.length > 1 ? `${dir}: ` : ''}${l}`);
    }
    flats.length = 0;
    evaluated.push({
      name: dir,
      labels: f.testY,
      seeds: results,
      reachable,
      fingerprint: prepared.fingerprint,
      target: prepared.target,
      test: {
        transactions: f.testY.length,
        frauds: frauds(f.testY),
        removed: prepared.split.removedTestRows,
        covered: coverage.testCovered,
        missingDates: coverage.missingTestDates,
        historyMissingDays: coverage.missingHistoryDates.length,
      },
    });
  }
  const all = evaluated.flatMap((d) => d.seeds);
  const auc = meanSpread(all.map((r) => r.auc)),
    ap = meanSpread(all.map((r) => r.ap)),
    cp = meanSpread(all.map((r) => r.cp100));
  const reachable = evaluated.every((d) => d.reachable)
    ? meanSpread(evaluated.map((d) => d.reachable!.mean))
    : undefined;
  const line = (name: string, a: string, b: string, c: string, d = '') =>
    `${name.padEnd(48)} ${a.padStart(15)} ${b.padStart(15)} ${c.padStart(15)} ${d.padStart(15)}`;
  const ms = (m: ReturnType<typeof meanSpread>, n = all.length) =>
    n > 1 ? `${m.mean.toFixed(3)} ± ${m.sd.toFixed(3)}` : m.mean.toFixed(3);
  const several = evaluated.length > 1;
  console.log(line('model (test week)', 'AUC ROC', 'AP', 'CP@100', 'reachable CP@100'));
  if (several) {
    for (const d of evaluated) {
      const m = (k: 'auc' | 'ap' | 'cp100') => meanSpread(d.seeds.map((r) => r[k]));
      console.log(
        line(
          `  ${d.name}`,
          ms(m('auc'), d.seeds.length),
          ms(m('ap'), d.seeds.length),
          ms(m('cp100'), d.seeds.length),
          d.reachable ? d.reachable.mean.toFixed(3) : '—',
        ),
      );
    }
  }
  const runsLabel = `${several ? `${evaluated.length} datasets × ` : ''}${seeds.length} seed${seeds.length > 1 ? 's' : ''}`;
  console.log(
    line(
      given
        ? `${given.artifact.modelVersion} (${given.forest.flat.nTrees} trees)${several ? `, ${evaluated.length} datasets` : ''}`
        : `leakguard forest, ${params.trees} trees, ${runsLabel}`,
      ms(auc),
      ms(ap),
      ms(cp),
      reachable ? ms(reachable, evaluated.length) : '—',
    ),
  );
  for (const r of REFERENCE)
    console.log(line(`handbook: ${r.model}`, r.auc.toFixed(3), r.ap.toFixed(3), r.cp100.toFixed(3)));
  console.log(
    "(handbook figures are on the handbook's own dataset; ours are on the data above. Reachable CP@100: expected score of ranking",
  );
  console.log(
    " first every card with a fraud these features can see, the rest at random; a compromised terminal's fraud is invisible",
  );
  console.log(' until its labels pass the delay.)');
  console.log(describeLabels(labels));
  // What the forests learnt (per dataset: the frauds known by the cut-off differ); a given model's own record.
  if (given) {
    if (given.artifact.training.target) console.log(`(the model's ${given.artifact.training.target.description})`);
  } else for (const d of evaluated) console.log(`${several ? `${d.name}: ` : ''}${d.target.description}`);
  if (given?.artifact.training.labels && given.artifact.training.labels.description !== describeLabels(labels))
    console.log(`(the model was trained under other labels: ${given.artifact.training.labels.description})`);
  // Calibration: every run's test rows pooled (each run scores the same rows of its dataset).
  const calibration = calibrationTable(
    Float64Array.from(evaluated.flatMap((d) => d.seeds.flatMap((r) => Array.from(r.scores)))),
    Uint8Array.from(evaluated.flatMap((d) => d.seeds.flatMap(() => Array.from(d.labels)))),
  );
  console.log('');
  console.log(
    `calibration (test rows${all.length > 1 ? ` of all ${all.length} runs` : ''} by score decile: mean score against the observed fraud rate)`,
  );
  console.log(
    `${'decile'.padEnd(8)}${'rows'.padStart(8)}${'scores'.padStart(19)}${'mean score'.padStart(12)}${'fraud rate'.padStart(12)}${'frauds'.padStart(8)}`,
  );
  for (const b of calibration)
    console.log(
      `${String(b.decile).padEnd(8)}${String(b.rows).padStart(8)}${`${b.minScore.toFixed(3)}–${b.maxScore.toFixed(3)}`.padStart(19)}${b.meanScore.toFixed(4).padStart(12)}${b.fraudRate.toFixed(4).padStart(12)}${String(b.frauds).padStart(8)}`,
    );
  const weights = splitWeights(featureNames(fs), allFlats);
  const trees = allFlats.reduce((s, f) => s + f.nTrees, 0);
  console.log('');
  console.log(
    `features by share of split weight (Gini decrease × training rows at each split, ${trees} trees${allFlats.length > 1 ? ` of ${allFlats.length} forests` : ''})`,
  );
  for (const w of weights)
    console.log(
      `  ${w.name.padEnd(40)} ${(100 * w.share).toFixed(1).padStart(5)} %  ${String(w.splits).padStart(6)} splits`,
    );
  const json = pathArg('json');
  if (json) {
    const out: Record<string, unknown> = { auc: auc.mean, ap: ap.mean, cp100: cp.mean };
    if (reachable) out.reachableCp100 = reachable.mean;
    if (all.length > 1) {
      out.seeds = evaluated.flatMap((d) =>
        d.seeds.map((r) => ({
          ...(several ? { data: d.name } : {}),
          seed: r.seed,
          auc: r.auc,
          ap: r.ap,
          cp100: r.cp100,
        })),
      );
      out.spread = { auc, ap, cp100: cp };
    }
    if (several)
      out.datasets = evaluated.map((d) => ({ data: d.name, reachableCp100: d.reachable?.mean ?? null, test: d.test }));
    else out.test = evaluated[0]!.test;
    if (!given) out.params = params;
    out.featureSet = fs.name;
    out.labels = { ...labels, description: describeLabels(labels) };
    if (!given) out.target = several ? evaluated.map((d) => ({ data: d.name, ...d.target })) : evaluated[0]!.target;
    out.calibration = calibration;
    out.featureWeights = weights;
    if (given) out.model = { path: given.path, version: given.artifact.modelVersion, trees: given.forest.flat.nTrees };
    writeFileSync(json, JSON.stringify(out, null, 2) + '\n');
  }
  const report = pathArg('report');
  if (report) {
    writeFileSync(
      report,
      renderReport({
        title: `Leakguard model evaluation — handbook protocol, feature set "${fs.name}"`,
        subtitle: `train ${split.trainStart}..${addDays(split.trainStart, split.trainDays - 1)}, ${split.delayDays} delay days, test ${testDates[0]}..${lastDate}; data ${dataDirs.join(', ')}`,
        datasets: evaluated,
        reference: REFERENCE,
        testDates,
        calibration,
        featureWeights: weights,
        ...(given ? { modelLabel: `${given.artifact.modelVersion} (${given.forest.flat.nTrees} trees)` } : {}),
        summary: {
          ...Object.fromEntries(
            evaluated.map((d) => [
              `test transactions${several ? `, ${d.name}` : ''}`,
              `${d.test.transactions} (${d.test.frauds} frauds), ${d.test.removed} removed (known compromised cards)` +
                (d.test.missingDates.length
                  ? `; the data covers ${d.test.covered?.days ?? 0} of the ${split.testDays} test days (none on ${dateRanges(d.test.missingDates)})`
                  : '') +
                (d.test.historyMissingDays
                  ? `; ${d.test.historyMissingDays} days of feature history missing before the train period`
                  : ''),
            ]),
          ),
          ...Object.fromEntries(
            evaluated.map((d) => [`training data fingerprint${several ? `, ${d.name}` : ''}`, d.fingerprint]),
          ),
          'fraud labels': describeLabels(labels).replace(/^labels: /, ''),
          ...Object.fromEntries(
            given
              ? []
              : evaluated.map((d) => [
                  `training target${several ? `, ${d.name}` : ''}`,
                  d.target.description.replace(/^target: /, ''),
                ]),
          ),
          ...(given
            ? {
                model: `${given.path} (${given.artifact.modelVersion}, trained on ${given.artifact.training.data.source} ${given.artifact.training.data.from}..${given.artifact.training.data.to})`,
              }
            : {
                parameters: JSON.stringify({ ...params, seed: undefined }),
                'training time per run': all.map((r) => `${(r.trainSeconds ?? NaN).toFixed(1)} s`).join(', '),
              }),
          features: featureNames(fs).join(', '),
        },
      }),
    );
    console.error(`wrote ${report}`);
  }
} else {
  fail(`unknown command ${command}`);
}
