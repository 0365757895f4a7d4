// `npm run model -- evaluate-cpp --data DIR [--scan-hours H] [--json FILE]`: breach discovery on a
// breach dataset (npm run simulate -- --breach), replayed through the engine with and without it
// (models/evaluation/cpp-protocol.ts); prints the table, writes the JSON when asked.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { cppReport, GENUINE_STEP_UP_FAILURE, runCppProtocol } from '../evaluation/cpp-protocol.ts';
import { loadScoringModel } from '../../services/adapters/files/model-file.ts';
import { readRatesFile } from '../../services/adapters/files/rates-file.ts';
import { STARTER_MODEL_PATH } from '../../services/model/starter.ts';
import { DatasetError, readDataset } from '../simulator/csv.ts';
import { loadConfig } from '../../services/config.ts';
import { callerPath, unwritable } from '../../services/cli/command.ts';

const USAGE = `usage: npm run model -- evaluate-cpp --data DIR [--scan-hours H (6)] [--alpha A] [--min-cards N]
                                    [--model PATH|off] [--genuine-step-up-failure S (0.1)]
                                    [--json FILE] [--quiet]
  --alpha, --min-cards: the scan's settings (default: the engine's, LEAKGUARD_CPP_ALPHA and
  LEAKGUARD_CPP_MIN_CARDS)
  --model: the model both runs score with (default: the starter model, as the engine serves it)
  --genuine-step-up-failure: the share of genuine customers who fail or abandon a 3-D Secure
  challenge (fraudsters always fail it)`;

export async function evaluateCppCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        data: { type: 'string' },
        'scan-hours': { type: 'string' },
        alpha: { type: 'string' },
        'min-cards': { type: 'string' },
        model: { type: 'string' },
        'genuine-step-up-failure': { type: 'string' },
        json: { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`model evaluate-cpp: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const hours = values['scan-hours'] === undefined ? 6 : Number(values['scan-hours']);
  if (!values.data || !(hours > 0)) {
    process.stderr.write(`model evaluate-cpp: --data DIR is required and --scan-hours must be positive\n${USAGE}\n`);
    return 2;
  }
  const json = values.json === undefined ? undefined : callerPath(values.json);
  const problem = json === undefined ? undefined : unwritable(json);
  if (problem) {
    process.stderr.write(`model evaluate-cpp: --json ${values.json}: ${problem}\n`);
    return 2;
  }
  const defaults = loadConfig({});
  const alpha = values.alpha === undefined ? defaults.LEAKGUARD_CPP_ALPHA : Number(values.alpha);
  const minCards = values['min-cards'] === undefined ? defaults.LEAKGUARD_CPP_MIN_CARDS : Number(values['min-cards']);
  if (!(alpha > 0 && alpha < 0.5) || !(Number.isInteger(minCards) && minCards >= 2)) {
    process.stderr.write(
      `model evaluate-cpp: --alpha must be in (0, 0.5), --min-cards a whole number of at least 2\n${USAGE}\n`,
    );
    return 2;
  }
  const failure =
    values['genuine-step-up-failure'] === undefined
      ? GENUINE_STEP_UP_FAILURE
      : Number(values['genuine-step-up-failure']);
  if (!(failure >= 0 && failure <= 1)) {
    process.stderr.write(`model evaluate-cpp: --genuine-step-up-failure must be a share in [0, 1]\n${USAGE}\n`);
    return 2;
  }
  const modelPath =
    values.model === undefined || values.model === 'off'
      ? (values.model ?? STARTER_MODEL_PATH)
      : callerPath(values.model);
  let model;
  try {
    model =
      modelPath === 'off' ? undefined : loadScoringModel(modelPath, { amountReference: readRatesFile().reference });
  } catch (error) {
    process.stderr.write(`model evaluate-cpp: --model: ${(error as Error).message}\n`);
    return 2;
  }
  const data = callerPath(values.data);
  let ds;
  try {
    ds = readDataset(data, { keepExtra: true });
    if (!ds.extra.has('BREACH_ID'))
      throw new Error('the dataset has no BREACH_ID column: generate it with npm run simulate -- --breach');
  } catch (error) {
    // a DatasetError names the file and the place in it
    process.stderr.write(
      `model evaluate-cpp: ${error instanceof DatasetError ? error.message : `--data ${values.data}: ${(error as Error).message}`}\n`,
    );
    return 2;
  }
  let last = 0;
  let result: Awaited<ReturnType<typeof runCppProtocol>>;
  try {
    result = await runCppProtocol(ds, {
      dataDir: data,
      scanEveryHours: hours,
      scan: { alpha, minCards },
      model,
      genuineStepUpFailure: failure,
      ...(values.quiet || !process.stderr.isTTY
        ? {}
        : {
            onProgress: (run, done, total) => {
              if (Date.now() - last < 500 && done < total) return;
              last = Date.now();
              process.stderr.write(`\r${run} breach discovery: ${Math.round((100 * done) / total)} % `);
              if (done === total) process.stderr.write('\n');
            },
          }),
    });
  } catch (error) {
    if (!(error instanceof DatasetError)) throw error;
    process.stderr.write(`model evaluate-cpp: ${error.message}\n`);
    return 2;
  }
  process.stdout.write(
    `scan settings: alpha ${alpha}, at least ${minCards} fraudulent cards; model: ${model ? model.version : 'off'}; ` +
      `challenges answered: fraudsters fail, ${(failure * 100).toFixed(0)} % of genuine customers fail or abandon\n`,
  );
  process.stdout.write(`${cppReport(result)}\n`);
  if (json) writeFileSync(json, JSON.stringify(result, null, 2));
  return 0;
}
