// `npm run model -- export-labels --out FILE [--format csv|ndjson] [--since ISO]`: the analysts'
// decided cases (labels joined with the features the engine saw). Not a training set as it is:
// `model train` reads the simulator's CSV layout only, the cases are flagged transactions only, and
// their score/decision/model_score columns are the old system's output (models/README.md).
import { parseArgs } from 'node:util';
import { PostgresCaseStore } from '../../services/adapters/postgres/case-store.ts';
import { migrate } from '../../services/adapters/postgres/migrate.ts';
import { exportLabels } from '../../services/cases/labels-export.ts';
import { ConfigError, loadConfig } from '../../services/config.ts';
import { openSqlClient } from '../../services/runtime.ts';
import { callerPath, unwritable } from '../../services/cli/command.ts';

const USAGE = 'usage: npm run model -- export-labels --out FILE [--format csv|ndjson] [--since 2026-01-01T00:00:00Z]';

function fail(message: string, code = 2): never {
  process.stderr.write(`model export-labels: ${message}\n${code === 2 ? `${USAGE}\n` : ''}`);
  process.exit(code);
}

export async function exportLabelsCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        out: { type: 'string' },
        format: { type: 'string' },
        since: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    fail((error as Error).message);
  }
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { since } = parsed.values;
  const out = parsed.values.out === undefined ? undefined : callerPath(parsed.values.out);
  const format = parsed.values.format ?? (out?.endsWith('.ndjson') ? 'ndjson' : 'csv');
  if (!out) fail('--out FILE is required');
  const problem = unwritable(out);
  if (problem) fail(`--out ${parsed.values.out}: ${problem}`);
  if (format !== 'csv' && format !== 'ndjson') fail('--format must be csv or ndjson');
  if (since !== undefined && Number.isNaN(Date.parse(since))) fail('--since must be an ISO 8601 date-time');
  let sql;
  try {
    sql = await openSqlClient(loadConfig());
  } catch (error) {
    fail((error as Error).message, error instanceof ConfigError ? 2 : 1);
  }
  try {
    await migrate(sql);
    const count = await exportLabels(new PostgresCaseStore(sql), out, format, since);
    process.stdout.write(`exported ${count} labelled cases to ${out} (${format})\n`);
    return 0;
  } finally {
    await sql.close();
  }
}
