// `npm run model -- train-recorded --out ARTIFACT.json`: a forest trained on the deployment's own
// traffic, as the engines recorded it (LEAKGUARD_RECORD), labelled with the outcomes merchants
// reported and the analysts' decisions (models/training/recorded.ts), tested on the window's last
// days, and written as an artifact the engine serves (LEAKGUARD_MODEL).
import { parseArgs } from 'node:util';
import { loadConfig } from '../../services/config.ts';
import { callerPath, unwritable } from '../../services/cli/command.ts';
import { readRatesFile } from '../../services/adapters/files/rates-file.ts';
import { featureSet, type FeatureSet } from '../../services/model/definitions.ts';
import { buildArtifact, forestDigest, modelVersionProblem, saveArtifact } from '../../services/model/artifact.ts';
import { artifactFeatureSet } from '../../services/model/fingerprint.ts';
import { CompiledForest } from '../../services/model/forest.ts';
import { DEFAULT_TRAIN_PARAMS, TRAINING_LIBRARY, trainForest, type TrainParams } from '../training/train.ts';
import { featureUse, featureUseLines, splitWeights } from '../training/feature-use.ts';
import { recordedTrainingSet, type RecordedTrainingSet, type RowSplit } from '../training/recorded.ts';
import { averagePrecision, aucRoc, calibrationTable } from '../evaluation/metrics.ts';
import { applyTrainFlags, TRAIN_FLAGS } from './train-flags.ts';
import { configurations, dateArg, progressBar, readRecording, UsageError } from './backtest.ts';
import { progress as lineOrBar } from './progress.ts';

export const TRAIN_RECORDED_USAGE = `usage: npm run model -- train-recorded --out ARTIFACT.json [--source FILE|DIR|kafka] [--from DATE] [--to DATE]
         [--test-days N (7)] [--warmup-days N (37)] [--failed-challenges leave-out|fraud] [--feature-set engine|handbook]
         [--name VERSION] [--trees N (${DEFAULT_TRAIN_PARAMS.trees}) --seed S and the other training options of model train] [--quiet]

Trains a forest on your own recorded traffic (LEAKGUARD_RECORD): every scoring replayed through the
engine in event time with the configuration in force, as a backtest replays it, each row the model
vector the engine computed then; labels from what the recording holds: a fraud chargeback not
reversed or an analyst's fraud label is fraud, anything else legitimate. Orders declined, or whose
3-D Secure challenge failed, never reach a chargeback: unless an analyst labelled them they are left
out (--failed-challenges fraud counts a failed challenge as fraud). The window's last --test-days are
held out and scored; try the artifact with: npm run backtest -- --model ARTIFACT.json --from <test start>
  --source  as for npm run backtest (default: the topic when KAFKA_BROKERS is set, else LEAKGUARD_RECORD_DIR or <state dir>/records)
  --from    first scoring used as a row (default: the recording's first plus --warmup-days, so every row has its history)
  --to      end of the rows (default: the recording's end); leave out the last weeks, whose chargebacks may not have come`;

/** model_score thresholds the test rows are read at: the default ruleset's MODEL_HIGH_RISK (30) and MODEL_VERY_HIGH_RISK (60). */
const THRESHOLDS = [10, 30, 60];
/** Chargebacks of card-not-present fraud mostly arrive within ~60 days of the order (networks allow 120). */
const LABEL_MATURITY_DAYS = 60;
/** Chargebacks the recording must hold before their delays are measured rather than assumed. */
const MIN_DELAYS_MEASURED = 20;
const DAY_MS = 86_400_000;

export async function trainRecordedCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      source: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'test-days': { type: 'string' },
      'warmup-days': { type: 'string' },
      'failed-challenges': { type: 'string' },
      'feature-set': { type: 'string' },
      name: { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean' },
      ...Object.fromEntries(Object.keys(TRAIN_FLAGS).map((k) => [k, { type: 'string' as const }])),
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${TRAIN_RECORDED_USAGE}\n`);
    return 0;
  }
  const str = (k: string) => (values as Record<string, string | boolean | undefined>)[k] as string | undefined;
  if (!values.out) throw new UsageError('--out ARTIFACT.json is required');
  const out = callerPath(values.out);
  // Written after minutes of work: a folder that cannot take it is said first.
  const unfit = unwritable(out);
  if (unfit) throw new UsageError(`--out ${values.out}: ${unfit}`);
  const nameProblem = values.name === undefined ? undefined : modelVersionProblem(values.name);
  if (nameProblem) throw new UsageError(`--name: ${nameProblem}`);
  const days = (flag: string, fallback: number, max: number) => {
    const v = str(flag);
    const n = v === undefined ? fallback : Number(v);
    if (!Number.isInteger(n) || n < 0 || n > max || v?.trim() === '')
      throw new UsageError(`--${flag}: a whole number of days from 0 to ${max}, not ${v}`);
    return n;
  };
  const testDays = days('test-days', 7, 365);
  const warmupDays = days('warmup-days', 37, 400);
  const from = dateArg('from', values.from);
  const to = dateArg('to', values.to);
  if (from !== undefined && to !== undefined && to <= from) throw new UsageError('--to: must be after --from');
  const failedChallenges = values['failed-challenges'] ?? 'leave-out';
  if (failedChallenges !== 'leave-out' && failedChallenges !== 'fraud')
    throw new UsageError(`--failed-challenges: leave-out or fraud, not ${failedChallenges}`);
  let fs: FeatureSet;
  try {
    fs = featureSet(values['feature-set'] ?? 'engine');
  } catch (error) {
    throw new UsageError(`--feature-set: ${(error as Error).message}`);
  }
  const params: TrainParams = { ...DEFAULT_TRAIN_PARAMS };
  const flagProblem = applyTrainFlags(params, str);
  if (flagProblem) throw new UsageError(flagProblem);
  const quiet = values.quiet === true;

  const config = loadConfig();
  // The configuration in force, loaded before the recording is read: a file that does not load stops here.
  const [inForce] = configurations(config, {});
  const { traffic, description } = await readRecording(values.source, config, quiet);
  if (traffic.refused > 0)
    process.stderr.write(
      `warning: ${traffic.refused} lines of the recording refused: ${traffic.problems.slice(0, 3).join(' | ')}\n`,
    );
  if (traffic.count === 0) {
    process.stderr.write(`nothing to train on in ${description}: the recording holds no scoring\n`);
    return 1;
  }
  const replayBar = progressBar(quiet, 'replay', 'transactions');
  const set = await recordedTrainingSet(traffic, {
    configuration: inForce,
    featureSet: fs,
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    warmupDays,
    testDays,
    failedChallenges,
    onProgress: (done, total) => replayBar?.update(done, total),
  });
  replayBar?.stop();
  for (const line of setLines(set, description)) process.stdout.write(`${line}\n`);
  const trainFrauds = count(set.train.labels);
  if (trainFrauds === 0) {
    process.stderr.write(
      "no fraud among the training rows: labels come from fraud chargebacks (POST /v1/transactions/{id}/outcome) and analysts' decisions in the console; " +
        'widen the window (--from, --to, --test-days) or wait for them\n',
    );
    return 1;
  }
  const warning = labelMaturityWarning(set);
  if (warning) process.stderr.write(`warning: ${warning}\n`);

  const treeBar = quiet ? undefined : lineOrBar('train', params.trees, { unit: 'trees' });
  const trained = await trainForest(
    { values: set.train.values, labels: set.train.labels, rows: set.train.rows, cols: set.cols },
    params,
    (done) => treeBar?.update(done),
  );
  treeBar?.stop();
  const test = testFigures(set.test, set.cols, new CompiledForest(trained.flat, trained.prior));
  const use = featureUse(set.names, { ...set.train, cols: set.cols }, [trained.flat]);
  const window = {
    from: day(set.window.from),
    to: day(set.window.to - 1),
    testFrom: set.window.testFrom === undefined ? undefined : day(set.window.testFrom),
  };
  const firstScoring = traffic.at[0]!;
  const historyFrom = set.window.from - warmupDays * DAY_MS;
  const artifact = buildArtifact({
    modelVersion:
      values.name ??
      `rf-recorded-${fs.name}-${new Date().toISOString().slice(0, 10)}-${set.fingerprint.slice(7, 15)}-s${params.seed}-${forestDigest({ ...params }, trained.flat)}`,
    amountReference: readRatesFile(inForce.rates).reference,
    featureSet: artifactFeatureSet(fs),
    training: {
      data: {
        source: description,
        from: window.from,
        to: day((set.window.testFrom ?? set.window.to) - 1),
        rows: set.train.rows,
        frauds: trainFrauds,
        fingerprint: set.fingerprint,
        history: {
          days: warmupDays,
          from: day(historyFrom),
          dataFrom: day(firstScoring),
          missingDays: Math.max(0, Math.ceil((firstScoring - historyFrom) / DAY_MS)),
        },
      },
      featureUse: { constant: use.constant, neverSplit: use.neverSplit },
      target: {
        target: 'recorded',
        cutoff: new Date(set.labelsKnownUntil).toISOString(),
        frauds: trainFrauds,
        truthFrauds: trainFrauds,
        description: targetDescription(set, failedChallenges),
      },
      params: { ...params },
      seconds: trained.seconds,
      cpuSeconds: trained.cpuSeconds,
      library: TRAINING_LIBRARY,
    },
    metrics: test
      ? {
          protocol: "recorded traffic, time split: the window's last days held out",
          testFrom: window.testFrom,
          testTo: window.to,
          testTransactions: set.test.rows,
          testFrauds: test.frauds,
          auc: test.auc,
          ap: test.ap,
          thresholds: test.thresholds,
        }
      : { protocol: 'none: no test rows (--test-days 0, or none in the window)' },
    prior: trained.prior,
    flat: trained.flat,
  });
  saveArtifact(out, artifact);
  const lines = [
    `trained ${params.trees} trees on ${set.train.rows} transactions (${trainFrauds} frauds) in ${trained.seconds.toFixed(1)} s; ${trained.flat.feature.length} nodes`,
    ...featureUseLines(use, set.train.rows, params.trees),
  ];
  if (!test) lines.push('no test rows: the artifact carries no evaluation');
  else if (test.frauds === 0)
    lines.push(`test ${window.testFrom}..${window.to}: ${set.test.rows} transactions, no fraud among them: no AUC`);
  else {
    lines.push(
      `test ${window.testFrom}..${window.to}: ${set.test.rows} transactions, ${test.frauds} frauds: AUC ${test.auc.toFixed(3)}  AP ${test.ap.toFixed(3)}`,
      'model_score at or above   frauds caught   legitimate per 1,000',
    );
    for (const t of test.thresholds)
      lines.push(
        `${String(t.modelScore).padStart(23)}   ${`${t.fraudsCaught} (${(100 * t.fraudShare).toFixed(1)} %)`.padStart(13)}   ${t.legitimatePer1000.toFixed(1).padStart(20)}`,
      );
    lines.push(
      '(the default ruleset steps up at 30, MODEL_HIGH_RISK, and adds more points at 60, MODEL_VERY_HIGH_RISK)',
    );
    lines.push('calibration (test rows by score decile: mean score against the observed fraud rate)');
    for (const b of test.calibration)
      lines.push(
        `  ${String(b.decile).padEnd(3)} ${String(b.rows).padStart(8)} rows  mean ${b.meanScore.toFixed(4)}  fraud rate ${b.fraudRate.toFixed(4)}`,
      );
  }
  lines.push('features by share of split weight:');
  for (const w of splitWeights(set.names, [trained.flat]).slice(0, 10))
    lines.push(`  ${w.name.padEnd(40)} ${(100 * w.share).toFixed(1).padStart(5)} %`);
  lines.push(`wrote ${out} (${artifact.modelVersion})`);
  lines.push(
    `what it would decide: npm run backtest -- --model ${values.out} --source ${values.source ?? description}${window.testFrom ? ` --from ${window.testFrom}` : ''}`,
  );
  for (const line of lines) process.stdout.write(`${line}\n`);
  return 0;
}

/**
 * Whether the rows end too close to the recording's end for their chargebacks to have come: measured
 * on the chargebacks the recording holds (95 % of them reported within p95 days of their order),
 * else the usual horizon of card-not-present chargebacks.
 */
export function labelMaturityWarning(set: RecordedTrainingSet): string | undefined {
  const measured = set.chargebackDays.count >= MIN_DELAYS_MEASURED;
  const horizon = measured ? Math.ceil(set.chargebackDays.p95) : LABEL_MATURITY_DAYS;
  const margin = (set.labelsKnownUntil - set.window.to) / DAY_MS;
  if (margin >= horizon) return undefined;
  const why = measured
    ? `95 % of the ${set.chargebackDays.count} chargebacks in the recording came within ${horizon} days of their order`
    : `chargebacks come weeks after an order (most within ${LABEL_MATURITY_DAYS} days; the recording holds too few to measure)`;
  const end = set.labelsKnownUntil - horizon * DAY_MS;
  const remedy =
    end > set.window.from
      ? `--to ${day(end)} leaves out those rows`
      : 'the recording is too short to leave them out: record longer';
  return `the rows end ${Math.max(0, margin).toFixed(0)} days before the recording does, and ${why}: the frauds of the last days may still read as legitimate (${remedy})`;
}

function setLines(set: RecordedTrainingSet, description: string): string[] {
  const c = set.counts;
  const left = c.leftOut;
  return [
    `read ${description}: ${c.warmup + c.scored} scorings replayed, ${c.warmup} of them before ${day(set.window.from)} only to build the counters`,
    `rows ${day(set.window.from)}..${day(set.window.to - 1)}: ${c.used} of ${c.scored} scorings, ${c.frauds} frauds ` +
      `(${c.fraudBy.chargeback} charged back, ${c.fraudBy.analyst} labelled by an analyst, ${c.fraudBy.challengeFailed} failed challenges), ` +
      `${c.labelledLegitimate} labelled legitimate by an analyst`,
    `left out: ${left.declined} declined and ${left.challengeFailed} failed challenges without a label (no chargeback could come), ${left.notScored} the engine could not score`,
  ];
}

function targetDescription(set: RecordedTrainingSet, failedChallenges: 'leave-out' | 'fraud'): string {
  return (
    `target: the deployment's recorded labels known by ${new Date(set.labelsKnownUntil).toISOString()}: fraud chargebacks not reversed and analysts' fraud labels` +
    (failedChallenges === 'fraud' ? ', and failed 3-D Secure challenges' : '') +
    `; declined orders${failedChallenges === 'fraud' ? '' : ' and failed challenges'} without a label left out`
  );
}

function testFigures(split: RowSplit, cols: number, forest: CompiledForest) {
  if (split.rows === 0) return undefined;
  const scores = forest.scoreMany(split.values, cols);
  const frauds = count(split.labels);
  const legitimate = split.rows - frauds;
  return {
    frauds,
    auc: frauds > 0 && legitimate > 0 ? aucRoc(scores, split.labels) : NaN,
    ap: frauds > 0 ? averagePrecision(scores, split.labels) : NaN,
    thresholds: THRESHOLDS.map((modelScore) => {
      let caught = 0,
        stopped = 0;
      for (let i = 0; i < split.rows; i++)
        if (100 * scores[i]! >= modelScore) {
          if (split.labels[i]) caught++;
          else stopped++;
        }
      return {
        modelScore,
        fraudsCaught: caught,
        fraudShare: frauds ? caught / frauds : 0,
        legitimatePer1000: legitimate ? (1000 * stopped) / legitimate : 0,
      };
    }),
    calibration: calibrationTable(scores, split.labels),
  };
}

const count = (labels: Uint8Array) => labels.reduce((s, v) => s + v, 0);
const day = (t: number) => new Date(t).toISOString().slice(0, 10);
