// `npm run audit -- verify|export`: checks the audit log's hash chain and names the first broken
// entry (exit 1), or writes the log as NDJSON.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { failWith, type Fail, parseCommand } from './command.ts';
import { PostgresAuditLog } from '../adapters/postgres/audit-log.ts';
import { migrate } from '../adapters/postgres/migrate.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { openSqlClient } from '../runtime.ts';

const USAGE = `usage:
  npm run audit -- verify [--json]
  npm run audit -- export [--out <file>]`;

const fail: Fail = failWith('audit');

async function main(): Promise<number> {
  const { values, command } = parseCommand(
    () => parseArgs({ allowPositionals: true, options: { json: { type: 'boolean', default: false }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }),
    USAGE, fail,
  );
  if (command !== 'verify' && command !== 'export') fail(`unknown command ${command}\n${USAGE}`);
  const config = loadConfig();
  const sql = await openSqlClient(config);
  try {
    await migrate(sql);
    const audit = new PostgresAuditLog(sql);
    if (command === 'verify') {
      const result = await audit.verify();
      if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else if (result.ok) process.stdout.write(`audit log intact: ${result.checked} entries, chain verified\n`);
      else process.stdout.write(`audit log BROKEN at entry ${result.brokenAt}: ${result.reason} (${result.checked - 1} entries before it verified)\n`);
      return result.ok ? 0 : 1;
    }
    const out = values.out ? createWriteStream(values.out, { mode: 0o600 }) : process.stdout;
    await audit.scan(async (entries) => {
      if (!out.write(entries.map((e) => JSON.stringify(e)).join('\n') + '\n')) await once(out, 'drain');
    });
    if (values.out) {
      (out as ReturnType<typeof createWriteStream>).end();
      await once(out, 'finish');
    }
    return 0;
  } finally {
    await sql.close();
  }
}

main().then((code) => process.exit(code), (error: unknown) => {
  if (error instanceof ConfigError) fail(error.message);
  fail((error as Error).message, 1);
});
