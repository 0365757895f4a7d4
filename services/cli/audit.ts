// `npm run audit -- verify|export`: checks the audit log's hash chain and its signed checkpoints,
// and names the first broken entry, the entries cut from its end or rewritten, or a checkpoint
// that is not genuine; or writes the log as NDJSON. verify's exit status, for a monitoring job:
//   0  intact
//   1  found not genuine (broken chain, cut, rewritten, checkpoint not genuine), or the check
//      failed partway (an entry it could not read)
//   3  unverified: the chain holds, but no signed checkpoint covers the log (no audit key, no
//      checkpoint file where it looked, or none in it): a cut tail cannot be ruled out; the
//      message names the file it looked for
//   75 could not verify: nothing was checked (PostgreSQL not reachable, credentials or database
//      refused, schema behind this version, the embedded database in use by a running engine);
//      the message says what to do, then run it again
//   2  bad usage or configuration
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { callerPath, failWith, type Fail, parseCommand, unwritable } from './command.ts';
import { PostgresAuditLog } from '../adapters/postgres/audit-log.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import type { ChainCheck } from '../cases/audit.ts';
import { DatabaseSetupError, isDatabaseSetupError } from '../adapters/postgres/migrate.ts';
import { connectionFailureSummary, isConnectionError } from '../adapters/postgres/sql-client.ts';
import { PgliteBusy } from '../adapters/postgres/pglite-client.ts';
import { migrateDatabase, openCheckpointFile, openSqlClient } from '../runtime.ts';

const USAGE = `usage:
  npm run audit -- verify [--json]
  npm run audit -- export [--out <file>]`;

const fail: Fail = failWith('audit');

/** sysexits.h's EX_TEMPFAIL, as `npm run upload`'s try-again: no verdict either way (1 is "not genuine"). */
const COULD_NOT_VERIFY = 75;

/** Why verify could not check the log, and what to do before running it again. */
function couldNotVerify(error: unknown): string {
  const message = (error as Error).message;
  if (isConnectionError(error))
    return `PostgreSQL not reachable (${connectionFailureSummary(error)}): check DATABASE_URL and that PostgreSQL is up, then run it again`;
  // Its message says what to run (a migration missing or changed, a role to fix); the embedded
  // database's, which process holds it (the engine: stop it, or verify on DATABASE_URL).
  if (error instanceof DatabaseSetupError || error instanceof PgliteBusy) return message;
  return `PostgreSQL refused the connection (${message}): check DATABASE_URL's user, password and database`;
}

/** The chain holds but nothing signed vouches for its tail: neither "intact" (0) nor "not genuine" (1). */
const UNVERIFIED = 3;

/**
 * Why a whole chain still proves nothing about its tail: entries but no checkpoint to check them
 * against. The engine checkpoints at start and every 5 s, so a log it runs on always has one in
 * its file: none found means this check reads another file than the engine writes.
 */
function uncovered(result: ChainCheck): string | undefined {
  if (!result.ok || result.checked === 0) return undefined;
  const c = result.checkpoints;
  const fix =
    "a cut tail cannot be ruled out. Run this with the engine's LEAKGUARD_AUDIT_KEY and LEAKGUARD_AUDIT_CHECKPOINT_FILE (the default file depends on the home directory, the audit key and how DATABASE_URL spells its host)";
  if (!c) return `no audit key (LEAKGUARD_AUDIT_KEY) to check it against: ${fix}`;
  if (c.missing) return `no checkpoint file ${c.file} (not found): ${fix}`;
  if (!c.latest) return `no signed checkpoint in ${c.file}: ${fix}`;
  return undefined;
}

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
  // Where no file can be written is said before the database is opened (and migrated), exit 2.
  const unfit = values.out === undefined ? undefined : unwritable(callerPath(values.out));
  if (unfit) fail(`--out ${values.out}: ${unfit}`);
  const config = loadConfig();
  if (command === 'export') return exportLog(config, values.out);
  try {
    const result = await verify(config);
    const unverified = uncovered(result);
    if (unverified) {
      if (values.json)
        process.stdout.write(
          `${JSON.stringify({ ...result, ok: null, problem: 'no-checkpoint', reason: unverified })}\n`,
        );
      else process.stdout.write(`audit log UNVERIFIED: ${result.checked} entries, chain verified, but ${unverified}\n`);
      return UNVERIFIED;
    }
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else process.stdout.write(report(result));
    return result.ok ? 0 : 1;
  } catch (error) {
    // A setting to fix stays a usage failure (exit 2, below).
    if (error instanceof ConfigError) throw error;
    // A check that failed partway (an entry it cannot read, as a rewritten one may be) is no
    // "could not verify": 1, as for a log found not genuine.
    if (!isConnectionError(error) && !isDatabaseSetupError(error) && !(error instanceof PgliteBusy)) {
      const reason = `the check failed partway: ${(error as Error).message}`;
      if (values.json) process.stdout.write(`${JSON.stringify({ ok: false, problem: 'failed', reason })}\n`);
      process.stderr.write(`audit: ${reason}; treat the log as not genuine until it is understood\n`);
      return 1;
    }
    const reason = couldNotVerify(error);
    if (values.json) process.stdout.write(`${JSON.stringify({ ok: null, problem: 'unverified', reason })}\n`);
    process.stderr.write(
      `audit: could not verify the audit log (nothing was checked, no finding either way): ${reason}\n`,
    );
    return COULD_NOT_VERIFY;
  }
}

/** Opens the log (migrated as the engine would) with its checkpoints, for `run`; closes it after. */
async function withAuditLog<T>(config: Config, run: (audit: PostgresAuditLog) => Promise<T>): Promise<T> {
  const sql = await openSqlClient(config);
  try {
    await migrateDatabase(config, sql);
    // Read only: verify never makes a development key up (it would have signed nothing).
    const checkpoints = openCheckpointFile(config, { create: false })?.file;
    return await run(new PostgresAuditLog(sql, undefined, checkpoints));
  } finally {
    await sql.close();
  }
}

function verify(config: Config): Promise<ChainCheck> {
  return withAuditLog(config, (audit) => audit.verify());
}

function exportLog(config: Config, out: string | undefined): Promise<number> {
  return withAuditLog(config, async (audit) => {
    const target = out === undefined ? undefined : callerPath(out);
    const stream = target ? createWriteStream(target, { mode: 0o600 }) : process.stdout;
    await audit.scan(async (entries) => {
      if (!stream.write(entries.map((e) => JSON.stringify(e)).join('\n') + '\n')) await once(stream, 'drain');
    });
    if (target) {
      (stream as ReturnType<typeof createWriteStream>).end();
      await once(stream, 'finish');
    }
    return 0;
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) fail(error.message);
    fail((error as Error).message, 1);
  },
);
