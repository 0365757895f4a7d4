// `npm run model -- train-recorded --out ARTIFACT.json`: a forest trained on the deployment's own
// traffic, as the engines recorded it (LEAKGUARD_RECORD), labelled with the outcomes merchants
// reported and the analysts' decisions (models/training/recorded.ts), evaluated on the window's last
// days as a deployment training when they began would have been, and written as an artifact the
// engine serves (LEAKGUARD_MODEL). With --requests, on a merchant's export of /v1/score requests
// instead (npm run replay's file), labelled with its lines' `label` and `outcome`: a model of its own
// before it goes live.
import { parseArgs } from 'node:util';
import { loadConfig } from '../../services/config.ts';
import { callerPath, unwritable } from '../../services/cli/command.ts';
import { readRatesFile } from '../../services/adapters/files/rates-file.ts';
import { modelFeatures } from '../../services/core/model.ts';
import { featureSet, type FeatureSet } from '../../services/model/definitions.ts';
import { buildArtifact, forestDigest, modelVersionProblem, saveArtifact } from '../../services/model/artifact.ts';
import { artifactFeatureSet } from '../../services/model/fingerprint.ts';
import { CompiledForest } from '../../services/model/forest.ts';
import {
  DEFAULT_TRAIN_PARAMS,
  TRAINING_LIBRARY,
  trainForest,
  type TrainParams,
  type TrainResult,
} from '../training/train.ts';
import { featureUse, featureUseLines, splitWeights } from '../training/feature-use.ts';
import {
  day,
  describeHorizon,
  labelledRows,
  recordedTrainingSet,
  trafficNoun,
  TrainingWindowError,
  type RecordedTrainingSet,
} from '../training/recorded.ts';
import { averagePrecision, aucRoc, calibrationTable } from '../evaluation/metrics.ts';
import { applyTrainFlags, parseNumberFlag, TRAIN_FLAGS } from './train-flags.ts';
import { configurations, dateArg, progressBar, readRecording, readRequests, UsageError } from './backtest.ts';
import { progress as lineOrBar } from './progress.ts';

export const TRAIN_RECORDED_USAGE = `usage: npm run model -- train-recorded --out ARTIFACT.json [--source FILE|DIR|kafka | --requests FILE|DIR [--merchant ID]]
         [--from DATE] [--to DATE]
         [--test-days N (7)] [--warmup-days N (37)] [--label-days N] [--failed-challenges leave-out|fraud]
         [--feature-set engine|handbook] [--name VERSION] [--quiet]
         [--trees N (${DEFAULT_TRAIN_PARAMS.trees}) --seed S --leaf-values sample|all|oob and the other training options of model train]

Trains a forest on your own recorded traffic (LEAKGUARD_RECORD): every scoring replayed through the
engine in event time with the configuration in force, as a backtest replays it, each row the model
vector the engine computed then; labels from what the recording holds: a fraud chargeback not
reversed or an analyst's fraud label is fraud, anything else legitimate. Orders declined (by the
engine or the issuer), or whose 3-D Secure challenge failed, never reach a chargeback: unless an
analyst labelled them they are left out (--failed-challenges fraud counts a failed challenge as fraud).
The window's last --test-days are held out: a forest trained on the labels known when they began is
scored on them; the artifact is then trained on every row. What it would decide: npm run backtest.
  --source      as for npm run backtest (default: the topic when KAFKA_BROKERS is set, else LEAKGUARD_RECORD_DIR or <state dir>/records)
  --requests    instead of a recording, before going live: your own history as npm run replay reads it, /v1/score requests
                with occurredAt, optional merchantId (else --merchant, else replay), label fraud|legitimate, outcome and
                outcomeAt; labels from label and outcome (a chargeback not reversed, a fraud label); no decision of
                production to leave out, orders whose outcome is declined or challenge_failed are left out unless labelled
  --from        first scoring used as a row (default: the recording's first plus --warmup-days, so every row has its history)
  --to          end of the rows, exclusive (default: the recording's end less the label horizon, so that their chargebacks could come)
  --label-days  the label horizon: days an order's chargebacks take to come (default: measured on the recording's settled
                chargebacks, 95 % of them, or on the file's chargebacks with outcomeAt; 60 when it holds fewer than 20 of orders
                120 days old)`;

/** model_score thresholds the test rows are read at: the default ruleset's MODEL_HIGH_RISK (30) and MODEL_VERY_HIGH_RISK (60). */
const THRESHOLDS = [10, 30, 60];
const DAY_MS = 86_400_000;

export async function trainRecordedCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      source: { type: 'string' },
      requests: { type: 'string' },
      merchant: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'test-days': { type: 'string' },
      'warmup-days': { type: 'string' },
      'label-days': { type: 'string' },
      'failed-challenges': { type: 'string' },
      'feature-set': { type: 'string' },
      'leaf-values': { type: 'string' },
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
  if (values.source !== undefined && values.requests !== undefined)
    throw new UsageError('--source and --requests: one or the other, the recording or a file of requests');
  // A recording's scorings carry their merchant; a file of requests may leave it to --merchant.
  if (values.merchant !== undefined && values.requests === undefined)
    throw new UsageError('--merchant: only with --requests (the merchant of the lines without merchantId)');
  if (!values.out) throw new UsageError('--out ARTIFACT.json is required');
  const out = callerPath(values.out);
  // Written after minutes of work: a folder that cannot take it is said first.
  const unfit = unwritable(out);
  if (unfit) throw new UsageError(`--out ${values.out}: ${unfit}`);
  const nameProblem = values.name === undefined ? undefined : modelVersionProblem(values.name);
  if (nameProblem) throw new UsageError(`--name: ${nameProblem}`);
  const days = (flag: string, fallback: number | undefined, min: number, max: number) => {
    const v = str(flag);
    if (v === undefined) return fallback;
    const n = parseNumberFlag(flag, v, { integer: true, min, max });
    if (typeof n === 'string') throw new UsageError(n);
    return n;
  };
  const testDays = days('test-days', 7, 0, 365)!;
  const warmupDays = days('warmup-days', 37, 0, 400)!;
  const labelDays = days('label-days', undefined, 0, 400);
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
  const leafValues = values['leaf-values'];
  if (leafValues !== undefined) {
    if (leafValues !== 'sample' && leafValues !== 'all' && leafValues !== 'oob')
      throw new UsageError(`--leaf-values: sample, all or oob, not ${leafValues}`);
    params.leafValues = leafValues;
  }
  const quiet = values.quiet === true;

  const config = loadConfig();
  // The configuration in force, loaded before the recording is read: a file that does not load stops here.
  const [inForce] = configurations(config, {});
  const read =
    values.requests === undefined
      ? await readRecording(values.source, config, quiet).catch((error: unknown) => {
          // No recording where the engines write it: a merchant not live yet has its own history.
          if (error instanceof UsageError && values.source === undefined)
            throw new UsageError(`${error.message}; not live yet? --requests FILE trains on your own history`);
          throw error;
        })
      : await readRequests(values.requests, values.merchant, quiet).then(({ traffic, path }) => ({
          traffic,
          description: `requests ${path}`,
          source: path,
        }));
  const { traffic, description } = read;
  const noun = trafficNoun(traffic.kind);
  if (traffic.refused > 0)
    process.stderr.write(
      `warning: ${traffic.refused} lines of ${noun} refused: ${traffic.problems.slice(0, 3).join(' | ')}\n`,
    );
  if (traffic.count === 0) {
    process.stderr.write(
      `nothing to train on in ${description}: ${noun} holds no ${traffic.kind === 'recording' ? 'scoring' : 'request'}\n`,
    );
    return 1;
  }
  const replayBar = progressBar(quiet, 'replay', 'transactions');
  let set: RecordedTrainingSet;
  try {
    set = await recordedTrainingSet(traffic, {
      configuration: inForce,
      featureSet: fs,
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      ...(labelDays !== undefined ? { labelDays } : {}),
      warmupDays,
      testDays,
      failedChallenges,
      onProgress: (done, total) => replayBar?.update(done, total),
    });
  } catch (error) {
    // What the recording cannot give, said alone: the usage would bury it.
    if (error instanceof TrainingWindowError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  } finally {
    replayBar?.stop();
  }
  for (const line of setLines(set, description)) process.stdout.write(`${line}\n`);
  for (const warning of setWarnings(set, warmupDays)) process.stderr.write(`warning: ${warning}\n`);

  // The evaluation: a forest trained on what was known when the test days began, scored on them.
  const window = {
    from: day(set.window.from),
    to: day(set.window.to - 1),
    testFrom: set.window.testFrom === undefined ? undefined : day(set.window.testFrom),
  };
  const testRows = labelledRows(set, set.labels, set.testStartRow, set.rows);
  const evaluation = testRows.rows > 0 ? await evaluate(set, testRows, params, quiet, window.testFrom!) : undefined;

  // The artifact: every labelled row, with every label the recording holds.
  const all = labelledRows(set, set.labels, 0, set.rows);
  const frauds = count(all.labels);
  if (frauds === 0) {
    process.stderr.write(
      set.source === 'recording'
        ? "no fraud among the rows: labels come from fraud chargebacks (POST /v1/transactions/{id}/outcome) and analysts' decisions in the console; " +
            'widen the window (--from, --to) or wait for them\n'
        : 'no fraud among the rows: labels come from the lines\' "outcome": "chargeback" and "label": "fraud"; ' +
            'widen the window (--from, --to) or export them\n',
    );
    return 1;
  }
  const treeBar = quiet ? undefined : lineOrBar('train', params.trees, { unit: 'trees' });
  const trained = await trainForest(all, params, (done) => treeBar?.update(done));
  treeBar?.stop();
  const use = featureUse(set.names, all, [trained.flat]);
  const firstScoring = traffic.at[0]!;
  const historyFrom = set.window.from - warmupDays * DAY_MS;
  const artifact = buildArtifact({
    modelVersion:
      values.name ??
      `rf-${set.source === 'recording' ? 'recorded' : 'requests'}-${fs.name}-${new Date().toISOString().slice(0, 10)}-${set.fingerprint.slice(7, 15)}-s${params.seed}-${forestDigest({ ...params }, trained.flat)}`,
    amountReference: readRatesFile(inForce.rates).reference,
    featureSet: artifactFeatureSet(fs),
    training: {
      data: {
        source: description,
        from: window.from,
        to: window.to,
        rows: all.rows,
        frauds,
        fingerprint: set.fingerprint,
        history: {
          days: warmupDays,
          from: day(historyFrom),
          dataFrom: day(firstScoring),
          missingDays: missingHistoryDays(set, warmupDays),
        },
      },
      featureUse: { constant: use.constant, neverSplit: use.neverSplit },
      target: {
        // The labels known by a cut-off, as the simulator's `chargebacks` target: engines of earlier
        // versions (a rollback) load the artifact, which a value of its own would stop.
        target: 'chargebacks',
        cutoff: new Date(set.recordingEnd).toISOString(),
        frauds,
        truthFrauds: frauds,
        description: targetDescription(set, failedChallenges, description),
      },
      params: { ...params },
      seconds: trained.seconds,
      cpuSeconds: trained.cpuSeconds,
      library: TRAINING_LIBRARY,
    },
    metrics: evaluation?.metrics ?? {
      protocol: testDays === 0 ? 'none: --test-days 0' : 'none: no labelled row in the test days',
    },
    prior: trained.prior,
    flat: trained.flat,
  });
  saveArtifact(out, artifact);
  const lines = [
    `trained ${params.trees} trees on ${all.rows} transactions (${frauds} frauds) in ${trained.seconds.toFixed(1)} s; ${trained.flat.feature.length} nodes`,
    ...featureUseLines(use, all.rows, params.trees),
    ...(evaluation?.lines ?? ['no test rows: the artifact carries no evaluation']),
    'features by share of split weight:',
    ...splitWeights(set.names, [trained.flat])
      .slice(0, 10)
      .map((w) => `  ${w.name.padEnd(40)} ${(100 * w.share).toFixed(1).padStart(5)} %`),
    `wrote ${out} (${artifact.modelVersion})`,
    // The artifact learnt every row: a backtest of the days after them is one it did not learn from.
    `what it would decide on days it did not learn from: ${
      set.source === 'recording'
        ? `npm run backtest -- --model ${values.out} --source ${read.source}`
        : `npm run replay -- ${values.requests}${values.merchant === undefined ? '' : ` --merchant ${values.merchant}`} --model ${values.out}`
    } --from ${day(set.window.to)}`,
    `  (their frauds may read as legitimate yet: chargebacks take up to ${set.horizon.days} days; a backtest of the rows' own days is in-sample)`,
  ];
  for (const line of lines) process.stdout.write(`${line}\n`);
  return 0;
}

/**
 * A forest trained as a deployment would have trained it when the test days began: on the rows old
 * enough then for their chargebacks to have come (the label horizon), with the labels known then (a
 * chargeback reported during the test days unknown yet), scored on the test days' rows with every
 * label. Figures for the artifact, which is trained again on all rows.
 */
async function evaluate(
  set: RecordedTrainingSet,
  test: ReturnType<typeof labelledRows>,
  params: TrainParams,
  quiet: boolean,
  testFrom: string,
): Promise<{ metrics: Record<string, unknown>; lines: string[] }> {
  const train = labelledRows(set, set.labelsAtTestStart, 0, set.evaluationEndRow);
  const trainFrauds = count(train.labels);
  const testFrauds = count(test.labels);
  const head = `test ${testFrom}..${day(set.window.to - 1)}: ${test.rows} transactions, ${testFrauds} frauds`;
  if (trainFrauds === 0 || testFrauds === 0) {
    const why =
      train.rows === 0
        ? `no row is ${set.horizon.days} days older than they (the label horizon): ${set.source === 'recording' ? 'record' : 'export'} longer, or --test-days 0`
        : trainFrauds === 0
          ? `no fraud was known when they began among the rows ${set.horizon.days} days older`
          : 'no fraud among them';
    return {
      metrics: { protocol: `none: ${why}`, testFrom, testTransactions: test.rows, testFrauds },
      lines: [`${head}: ${why}, no evaluation`],
    };
  }
  const bar = quiet ? undefined : lineOrBar('evaluate', params.trees, { unit: 'trees' });
  let trained: TrainResult;
  try {
    trained = await trainForest(train, params, (done) => bar?.update(done));
  } finally {
    bar?.stop();
  }
  const scores = new CompiledForest(trained.flat, trained.prior).scoreMany(test.values, test.cols);
  const legitimate = test.rows - testFrauds;
  const auc = aucRoc(scores, test.labels),
    ap = averagePrecision(scores, test.labels);
  // As the rules see it: model_score, the probability in percent to one decimal.
  const modelScore = (p: number) => modelFeatures({ probability: p, factors: () => [] }).model_score;
  const thresholds = THRESHOLDS.map((threshold) => {
    let caught = 0,
      stopped = 0;
    for (let i = 0; i < test.rows; i++)
      if (modelScore(scores[i]!) >= threshold) {
        if (test.labels[i]) caught++;
        else stopped++;
      }
    return {
      modelScore: threshold,
      fraudsCaught: caught,
      fraudShare: caught / testFrauds,
      legitimatePer1000: legitimate ? (1000 * stopped) / legitimate : 0,
    };
  });
  const calibration = calibrationTable(scores, test.labels);
  const lines = [
    `${head}: AUC ${auc.toFixed(3)}  AP ${ap.toFixed(3)}`,
    `  (a forest trained on the ${train.rows} rows up to ${set.horizon.days} days before ${testFrom}, with the ${trainFrauds} frauds known on ${testFrom})`,
    'model_score at or above   frauds caught   legitimate per 1,000',
    ...thresholds.map(
      (t) =>
        `${String(t.modelScore).padStart(23)}   ${`${t.fraudsCaught} (${(100 * t.fraudShare).toFixed(1)} %)`.padStart(13)}   ${t.legitimatePer1000.toFixed(1).padStart(20)}`,
    ),
    '(the default ruleset steps up at 30, MODEL_HIGH_RISK, and adds more points at 60, MODEL_VERY_HIGH_RISK)',
    'calibration (test rows by score decile: mean score against the observed fraud rate)',
    ...calibration.map(
      (b) =>
        `  ${String(b.decile).padEnd(3)} ${String(b.rows).padStart(8)} rows  mean ${b.meanScore.toFixed(4)}  fraud rate ${b.fraudRate.toFixed(4)}`,
    ),
  ];
  return {
    metrics: {
      protocol: `${set.source === 'recording' ? 'recorded traffic' : "a merchant's requests"}: a forest trained on the labels known when the last --test-days began, scored on those days; the artifact is trained again on every row`,
      testFrom,
      testTo: day(set.window.to - 1),
      testTransactions: test.rows,
      testFrauds,
      evaluatedOn: { rows: train.rows, frauds: trainFrauds },
      auc,
      ap,
      thresholds,
      calibration,
    },
    lines,
  };
}

/** Whole days of the warm-up before the recording's first scoring: history the first rows' counters lack. */
function missingHistoryDays(set: RecordedTrainingSet, warmupDays: number): number {
  return Math.max(0, Math.floor((set.recordingStart - (set.window.from - warmupDays * DAY_MS)) / DAY_MS));
}

function setLines(set: RecordedTrainingSet, description: string): string[] {
  const c = set.counts;
  const left = c.leftOut;
  const recording = set.source === 'recording';
  // A merchant's export: its lines' own labels, and no decision of production (nothing held for review).
  const scorings = recording ? 'scorings' : 'requests';
  const labelledBy = recording ? 'by an analyst' : 'in the file';
  return [
    `read ${description}: ${c.warmup + c.scored} ${scorings} replayed, ${c.warmup} of them before ${day(set.window.from)} only to build the counters`,
    `rows ${day(set.window.from)}..${day(set.window.to - 1)}: ${c.labelled} of ${c.scored} ${scorings}, ${c.frauds} frauds ` +
      `(${c.fraudBy.chargeback} charged back, ${c.fraudBy.analyst} labelled ${labelledBy}, ${c.fraudBy.challengeFailed} failed challenges), ` +
      `${c.labelledLegitimate} labelled legitimate ${labelledBy}`,
    `left out: ${left.declined} declined${recording ? '' : ' (outcome declined)'} and ${left.challengeFailed} failed challenges without a label (no chargeback could come), ${left.notScored} the engine could not score`,
    `read legitimate without a fraud label, though a chargeback was unlikely to come: ${c.unconfirmed.refunded} refunded` +
      (recording ? `, ${c.unconfirmed.reviewUndecided} held for review and never decided` : ''),
    `label horizon ${set.horizon.days} days (${describeHorizon(set.horizon, set.source)}); ${trafficNoun(set.source)} ends ${day(set.recordingEnd)}`,
  ];
}

function setWarnings(set: RecordedTrainingSet, warmupDays: number): string[] {
  const warnings: string[] = [];
  const missing = missingHistoryDays(set, warmupDays);
  if (missing > 0)
    warnings.push(
      `${trafficNoun(set.source)} starts ${day(set.recordingStart)}, ${missing} days short of the ${warmupDays} before the rows' start (${day(set.window.from)}): ` +
        "the first rows' counters miss that history (velocity windows reach 30 days, the merchant's delayed ones 37)",
    );
  if (set.immature)
    warnings.push(
      `${set.window.to >= set.recordingEnd ? `the rows reach ${trafficNoun(set.source)}'s end` : `the rows end ${((set.recordingEnd - set.window.to) / DAY_MS).toFixed(0)} days before ${trafficNoun(set.source)} does`}, within the label horizon (${set.horizon.days} days): ` +
        `the frauds of the last days may still read as legitimate (without --to the rows end ${day(set.matureUntil - 1)})`,
    );
  const undated = set.counts.outcomesWithoutReportedAt;
  if (undated > 0 && set.source === 'recording')
    warnings.push(
      `${undated} outcomes were recorded without the time they were reported (records before version 3): ` +
        'replayed at their own date, a chargeback dated before it was reported counts in the features earlier than it did live',
    );
  if (undated > 0 && set.source === 'requests')
    warnings.push(
      `${undated} outcomes without outcomeAt: replayed at their order's time, a chargeback counts in the features of the orders after it ` +
        'from then, earlier than it became known, and does not measure the label horizon (give outcomeAt: the date it reached you)',
    );
  return warnings;
}

function targetDescription(
  set: RecordedTrainingSet,
  failedChallenges: 'leave-out' | 'fraud',
  description: string,
): string {
  const known =
    set.source === 'recording'
      ? `the deployment's recorded labels known by ${new Date(set.recordingEnd).toISOString()}: fraud chargebacks not reversed and analysts' fraud labels`
      : `the merchant's own labels in ${description} known by ${new Date(set.recordingEnd).toISOString()}: fraud chargebacks (outcome) and fraud labels (label)`;
  return (
    `target: ${known}` +
    (failedChallenges === 'fraud' ? ', and failed 3-D Secure challenges' : '') +
    `; declined orders${failedChallenges === 'fraud' ? '' : ' and failed challenges'} without a label left out`
  );
}

const count = (labels: Uint8Array) => labels.reduce((s, v) => s + v, 0);
