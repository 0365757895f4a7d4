// `npm run audit -- verify|export`: checks the audit log's hash chain and its signed checkpoints,
// and names the first broken entry, the entries cut from its end or rewritten, or a checkpoint
// that is not genuine (exit 1); or writes the log as NDJSON.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { callerPath, failWith, type Fail, parseCommand } from './command.ts';
import { PostgresAuditLog } from '../adapters/postgres/audit-log.ts';
import { ConfigError, loadConfig } from '../config.ts';
import type { ChainCheck } from '../cases/audit.ts';
import { migrateDatabase, openCheckpointFile, openSqlClient } from '../runtime.ts';

const USAGE = `usage:
  npm run audit -- verify [--json]
  npm run audit -- export [--out <file>]`;

const fail: Fail = failWith('audit');

function report(result: ChainCheck): string {
  const c = result.checkpoints;
  const against = !c
    ? 'no audit key (LEAKGUARD_AUDIT_KEY), so no checkpoint was checked: a cut tail cannot be seen'
    : c.latest
      ? `${c.valid} signed checkpoints in ${c.file} hold, the furthest #${c.latest.seq} of ${c.latest.at}`
      : `no signed checkpoint in ${c.file}: a cut tail cannot be seen`;
  if (result.ok) return `audit log intact: ${result.checked} entries, chain verified; ${against}\n`;
  const also = (result.also ?? []).map((line) => `  also: ${line}\n`).join('');
  switch (result.problem) {
    case 'chain':
      return `audit log BROKEN at entry ${result.brokenAt}: ${result.reason} (${result.checked - 1} entries before it verified)\n${also}`;
    case 'removed':
      return `audit log CUT: ${result.reason} (${result.checked} entries verified)\n${also}`;
    case 'rewritten':
      return `audit log REWRITTEN: ${result.reason}\n${also}`;
    case 'checkpoint':
      return `audit checkpoint NOT GENUINE: ${result.reason} (the log itself: ${result.checked} entries verified)\n${also}`;
  }
}

async function main(): Promise<number> {
  const { values, command } = parseCommand(
    () =>
      parseArgs({
        allowPositionals: true,
        options: {
          json: { type: 'boolean', default: false },
          out: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      }),
    USAGE,
    fail,
  );
  if (command !== 'verify' && command !== 'export') fail(`unknown command ${command}\n${USAGE}`);
  const config = loadConfig();
  const sql = await openSqlClient(config);
  try {
    await migrateDatabase(config, sql);
    // Read only: verify never makes a development key up (it would have signed nothing).
    const checkpoints = openCheckpointFile(config, { create: false })?.file;
    const audit = new PostgresAuditLog(sql, undefined, checkpoints);
    if (command === 'verify') {
      const result = await audit.verify();
      if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else process.stdout.write(report(result));
      return result.ok ? 0 : 1;
    }
    const target = values.out === undefined ? undefined : callerPath(values.out);
    const out = target ? createWriteStream(target, { mode: 0o600 }) : process.stdout;
    await audit.scan(async (entries) => {
      if (!out.write(entries.map((e) => JSON.stringify(e)).join('\n') + '\n')) await once(out, 'drain');
    });
    if (target) {
      (out as ReturnType<typeof createWriteStream>).end();
      await once(out, 'finish');
    }
    return 0;
  } finally {
    await sql.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) fail(error.message);
    fail((error as Error).message, 1);
  },
);
