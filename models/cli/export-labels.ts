// `npm run model -- export-labels --out FILE [--format csv|ndjson] [--since ISO]`: what the deployment
// knows of its transactions' labels — the analysts' decisions and the outcomes merchants reported
// (fraud chargebacks not reversed, failed 3-D Secure challenges), joined per transaction, each row
// saying its label's source, with the features the engine saw when a case has them. For analysis,
// not a training set (flagged transactions only have features): `model train-recorded` trains on
// the recording (models/README.md).
import { parseArgs } from 'node:util';
import { PostgresCaseStore } from '../../services/adapters/postgres/case-store.ts';
import { migrate } from '../../services/adapters/postgres/migrate.ts';
import { exportLabelCounts } from '../../services/cases/labels-export.ts';
import { PostgresLabelOutcomes } from '../../services/adapters/postgres/label-outcomes.ts';
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
    const n = await exportLabelCounts(new PostgresCaseStore(sql), out, format, since, new PostgresLabelOutcomes(sql));
    process.stdout.write(
      `exported ${n.total} labels to ${out} (${format}): ${n.analyst} from analysts, ${n.chargeback} from fraud chargebacks, ${n.challenge_failed} from failed challenges\n`,
    );
    return 0;
  } finally {
    await sql.close();
  }
}
