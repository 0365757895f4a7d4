// `npm run model -- evaluate-cpp --data DIR [--scan-hours H] [--json FILE]`: breach discovery on a
// breach dataset (npm run simulate -- --breach), replayed through the engine with and without it
// (models/evaluation/cpp-protocol.ts); prints the table, writes the JSON when asked.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { cppReport, runCppProtocol } from '../evaluation/cpp-protocol.ts';
import { readDataset } from '../simulator/csv.ts';
import { loadConfig } from '../../services/config.ts';

const USAGE = `usage: npm run model -- evaluate-cpp --data DIR [--scan-hours H (6)] [--alpha A] [--min-cards N]
                                    [--json FILE] [--quiet]
  --alpha, --min-cards: the scan's settings (default: the engine's, LEAKGUARD_CPP_ALPHA and
  LEAKGUARD_CPP_MIN_CARDS)`;

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
  const defaults = loadConfig({});
  const alpha = values.alpha === undefined ? defaults.LEAKGUARD_CPP_ALPHA : Number(values.alpha);
  const minCards = values['min-cards'] === undefined ? defaults.LEAKGUARD_CPP_MIN_CARDS : Number(values['min-cards']);
  if (!(alpha > 0 && alpha < 0.5) || !(Number.isInteger(minCards) && minCards >= 2)) {
    process.stderr.write(
      `model evaluate-cpp: --alpha must be in (0, 0.5), --min-cards a whole number of at least 2\n${USAGE}\n`,
    );
    return 2;
  }
  const ds = readDataset(values.data, { keepExtra: true });
  let last = 0;
  const result = await runCppProtocol(ds, {
    dataDir: values.data,
    scanEveryHours: hours,
    scan: { alpha, minCards },
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
  process.stdout.write(`scan settings: alpha ${alpha}, at least ${minCards} fraudulent cards\n`);
  process.stdout.write(`${cppReport(result)}\n`);
  if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2));
  return 0;
}
