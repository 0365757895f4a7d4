// `npm run model -- record-simulated --data DIR --out FILE.ndjson [--to DATE] [--model PATH|off|none]`:
// a breach dataset (npm run simulate -- --breach) scored by the engine as a deployment would have
// scored it (the default ruleset and rates, the watchlists fed by the issuers' uploads, the starter
// model unless --model), and recorded as its engines record (services/recording/: every scoring, and
// the outcomes when they were reported: issuers' declines at once, chargebacks of completed frauds 7
// days later). What `npm run backtest` and `model train-recorded` read, from data anyone can make.
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadScoringModel } from '../../services/adapters/files/model-file.ts';
import { readRatesFile } from '../../services/adapters/files/rates-file.ts';
import { STARTER_MODEL_PATH } from '../../services/model/starter.ts';
import { callerPath, unwritable } from '../../services/cli/command.ts';
import { TrafficRecorder } from '../../services/recording/recorder.ts';
import { DatasetError, readDataset } from '../simulator/csv.ts';
import { replayThroughEngine } from '../replay/engine-replay.ts';
import { dateArg, InputError, progressBar, UsageError } from './backtest.ts';

export const RECORD_SIMULATED_USAGE = `usage: npm run model -- record-simulated --data DIR --out FILE.ndjson [--to DATE] [--model PATH|off|none] [--quiet]
  Scores a breach dataset (npm run simulate -- --breach) as the default deployment would have, up to
  --to (default: the data's end), and writes what its engines would have recorded: every scoring and
  the outcomes reported (issuers' declines at once, completed frauds charged back 7 days later).
  --model: the model in force (default: the starter model; off or none: no model)`;

export async function recordSimulatedCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      to: { type: 'string' },
      model: { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${RECORD_SIMULATED_USAGE}\n`);
    return 0;
  }
  if (!values.data) throw new UsageError('--data DIR is required (npm run simulate -- --breach --out DIR)');
  if (!values.out) throw new UsageError('--out FILE.ndjson is required');
  const out = callerPath(values.out);
  const unfit = unwritable(out);
  if (unfit) throw new UsageError(`--out ${values.out}: ${unfit}`);
  const to = dateArg('to', values.to);
  // `off` as LEAKGUARD_MODEL says it, `none` as the backtest does.
  const noModel = values.model !== undefined && ['off', 'none'].includes(values.model.toLowerCase());
  const modelPath = values.model === undefined ? STARTER_MODEL_PATH : noModel ? undefined : callerPath(values.model);
  // The engine's rate table: its own errors are its own, not --model's.
  const reference = readRatesFile().reference;
  let model;
  try {
    model = modelPath === undefined ? undefined : loadScoringModel(modelPath, { amountReference: reference });
  } catch (error) {
    throw new InputError(`--model ${values.model}: ${(error as Error).message}`);
  }
  const data = callerPath(values.data);
  let ds;
  try {
    ds = readDataset(data, {
      keepExtra: true,
      ...(to === undefined ? {} : { toDate: new Date(to - 1).toISOString().slice(0, 10) }),
    });
    if (!ds.extra.has('BREACH_ID'))
      throw new DatasetError(`${values.data}: no BREACH_ID column: generate it with npm run simulate -- --breach`);
  } catch (error) {
    throw new InputError(
      error instanceof DatasetError ? error.message : `--data ${values.data}: ${(error as Error).message}`,
    );
  }
  let rows = ds.n;
  if (to !== undefined) while (rows > 0 && ds.epochSeconds[rows - 1]! * 1000 >= to) rows--;
  // Written synchronously: the replay yields no turn to the event loop, and a record waiting for one
  // past the recorder's buffer would be dropped.
  // Written aside, then renamed into place: a run that fails leaves no partial recording to be read.
  const partial = `${out}.partial`;
  const fd = openSync(partial, 'w', 0o600);
  let written = 0,
    dropped = 0;
  const recorder = new TrafficRecorder({
    sink: {
      write: async (lines) => {
        writeSync(fd, lines.map((l) => `${l.json}\n`).join(''));
        written += lines.length;
      },
      close: async () => {},
    },
    onDropped: (n) => (dropped += n),
  });
  const bar = progressBar(values.quiet === true, 'score', 'transactions');
  const summary = await replayThroughEngine(ds, {
    dataDir: data,
    watchlists: true,
    model,
    to: rows,
    onRow: () => {},
    observer: {
      scored: (merchantId, request, result) => recorder.scored(merchantId, request, result),
      outcomeRecorded: (merchantId, transactionId, outcome, at, reportedAt) =>
        recorder.outcome(merchantId, transactionId, outcome, at, reportedAt),
    },
    ...(bar ? { onProgress: (done: number, total: number) => bar.update(done, total) } : {}),
  }).catch((error: unknown) => {
    closeSync(fd);
    rmSync(partial, { force: true });
    if (error instanceof DatasetError) throw new UsageError(error.message);
    throw error;
  });
  bar?.stop();
  await recorder.close();
  closeSync(fd);
  if (dropped > 0) {
    rmSync(partial, { force: true });
    throw new Error(`${dropped} records could not be written to ${out}`);
  }
  renameSync(partial, out);
  process.stdout.write(
    `scored ${summary.replayed} transactions of ${values.data} (model: ${model ? model.version : 'off'}; ${summary.uploads} issuer lists, ${summary.listedCards} cards listed); wrote ${written} records to ${out}\n`,
  );
  return 0;
}
