// `npm run db -- migrate`: the migrations as a deployment step of their own, run as the tables'
// owner (DATABASE_MIGRATION_URL), which then grants DATABASE_URL's role what the application
// needs. The engine can then run with DATABASE_URL alone and never hold the owner's password.
import { parseArgs } from 'node:util';
import { failWith, type Fail, parseCommand } from './command.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { migrateDatabase, openSqlClient } from '../runtime.ts';

const USAGE = `usage:
  npm run db -- migrate   (DATABASE_MIGRATION_URL: the owner; DATABASE_URL: the application's role, granted its rights)`;

const fail: Fail = failWith('db');

async function main(): Promise<void> {
  const { command } = parseCommand(
    () => parseArgs({ allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } }),
    USAGE,
    fail,
  );
  if (command !== 'migrate') fail(`unknown command ${command}\n${USAGE}`);
  const config = loadConfig();
  if (config.DATABASE_URL && !config.DATABASE_MIGRATION_URL) {
    process.stderr.write(
      "db: no DATABASE_MIGRATION_URL: migrating as DATABASE_URL's role, which then owns the tables and could cut the audit log (docs/console.md)\n",
    );
  }
  const sql = await openSqlClient(config);
  try {
    await migrateDatabase(config, sql);
  } finally {
    await sql.close();
  }
  const role =
    config.DATABASE_MIGRATION_URL && config.DATABASE_URL
      ? decodeURIComponent(new URL(config.DATABASE_URL).username)
      : undefined;
  process.stdout.write(
    `migrations applied${role ? `; ${role} may read and write the cases and only read and append to the audit log` : ''}\n`,
  );
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) fail(error.message);
  fail((error as Error).message, 1);
});
