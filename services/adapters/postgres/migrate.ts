// Versioned migrations: NNN_name.sql files in ./migrations, applied in order, each in its own
// transaction under an advisory lock, recorded in schema_migrations with a checksum so that an
// edited migration is refused instead of silently skipped.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SqlClient } from './sql-client.ts';

const DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/;
const LOCK_ID = 7_166_232_001;
const INSUFFICIENT_PRIVILEGE = '42501';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export function loadMigrations(dir = DIR): Migration[] {
  return readdirSync(dir)
    .map((file) => ({ file, m: FILE.exec(file) }))
    .filter((f): f is { file: string; m: RegExpExecArray } => f.m !== null)
    .map(({ file, m }) => {
      const sql = readFileSync(`${dir}${file}`, 'utf8');
      return { version: Number(m[1]), name: m[2]!, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    })
    .sort((a, b) => a.version - b.version);
}

/**
 * The database is not set up for this version or this role, and waiting will not change it: a
 * migration missing that this role may not apply, one changed after it was applied, an application
 * role that cannot be given its rights, credentials or a database name PostgreSQL refuses. An
 * engine stops on it (services/main.ts); anything else is retried or served around.
 */
export class DatabaseSetupError extends Error {}

/** PostgreSQL's answers to a connection that no wait will change: bad password or role, no such database. */
const SETUP_ERROR_CODES = new Set(['28P01', '28000', '3D000']);

/** Whether `error` is one a start-up should stop on (DatabaseSetupError, or PostgreSQL refusing the credentials or database). */
export function isDatabaseSetupError(error: unknown): boolean {
  return error instanceof DatabaseSetupError || SETUP_ERROR_CODES.has((error as { code?: string }).code ?? '');
}

/** A migration as its file is named (016_archive_uncounted), for messages an operator acts on. */
const fileStem = (m: Pick<Migration, 'version' | 'name'>) => `${String(m.version).padStart(3, '0')}_${m.name}`;

/** What an operator runs when the schema is behind and this role may not bring it up to date. */
const RUN_MIGRATIONS = "run the migrations as the tables' owner (DATABASE_MIGRATION_URL, npm run db -- migrate)";

const changedAfterApplied = (m: Migration) =>
  new DatabaseSetupError(`migration ${fileStem(m)} was changed after it was applied`);

/**
 * Checks, without changing anything, that the database holds every migration of `migrations` as
 * it is: for a process that writes to the schema but does not migrate it (a stream processor).
 * Throws DatabaseSetupError naming each one missing, or the first one changed after it was applied.
 */
export async function checkMigrated(sql: SqlClient, migrations = loadMigrations()): Promise<void> {
  const known = await sql.query<{ known: boolean }>(`SELECT to_regclass('schema_migrations') IS NOT NULL AS known`);
  const applied = new Map(
    known.rows[0]!.known
      ? (
          await sql.query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations')
        ).rows.map((r) => [r.version, r.checksum] as const)
      : [],
  );
  const missing = migrations.filter((m) => !applied.has(m.version));
  if (missing.length === 1)
    throw new DatabaseSetupError(
      `migration ${fileStem(missing[0]!)} is not applied and this process only checks the schema: ${RUN_MIGRATIONS}`,
    );
  if (missing.length > 1)
    throw new DatabaseSetupError(
      `migrations ${missing.map(fileStem).join(', ')} are not applied and this process only checks the schema: ${RUN_MIGRATIONS}`,
    );
  const changed = migrations.find((m) => applied.get(m.version) !== m.checksum);
  if (changed) throw changedAfterApplied(changed);
}

/** Applies what is missing; returns the versions applied now. */
export async function migrate(sql: SqlClient, migrations = loadMigrations()): Promise<number[]> {
  // Looked up first: the application's own role (DATABASE_MIGRATION_URL set) may not create tables.
  const known = await sql.query(`SELECT to_regclass('schema_migrations') IS NOT NULL AS known`);
  if (!(known.rows[0] as { known: boolean }).known)
    await sql
      .exec(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
  )`,
      )
      .catch(async (error: unknown) => {
        // Two processes racing to create the table: the loser finds it there.
        const exists = await sql.query(
          `SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_migrations'`,
        );
        if (exists.rowCount !== 0) return;
        // An empty database and a role that may not create tables (the application's): not a
        // failure to serve on with the console down, but a set-up step missing.
        if ((error as { code?: string }).code !== INSUFFICIENT_PRIVILEGE) throw error;
        throw new DatabaseSetupError(
          `the database holds no migrations yet and this role may not apply them (${(error as Error).message}): ${RUN_MIGRATIONS}`,
          { cause: error },
        );
      });
  const applied: number[] = [];
  for (const m of migrations) {
    await sql.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_ID]);
      const done = await tx.query<{ checksum: string }>('SELECT checksum FROM schema_migrations WHERE version = $1', [
        m.version,
      ]);
      if (done.rows[0]) {
        if (done.rows[0].checksum !== m.checksum) throw changedAfterApplied(m);
        return;
      }
      try {
        await tx.exec(m.sql);
        await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          m.checksum,
        ]);
      } catch (error) {
        if ((error as { code?: string }).code !== INSUFFICIENT_PRIVILEGE) throw error;
        throw new DatabaseSetupError(
          `migration ${fileStem(m)} is not applied and this role may not apply it (${(error as Error).message}): ${RUN_MIGRATIONS}`,
          { cause: error },
        );
      }
      applied.push(m.version);
    });
  }
  return applied;
}

/**
 * Gives the application's role (DATABASE_URL's user) what it needs and nothing more, after the
 * migrations ran as the owner: read and write the case tables, read and append to the audit log,
 * read schema_migrations. Never UPDATE, DELETE or TRUNCATE on the audit log, and as a non-owner it
 * cannot ALTER the table or DISABLE its trigger either. Run after every migration, so that tables
 * new migrations add are covered. Refuses a role that could still rewrite the log (the owner, one
 * of its members, a superuser): the split would then protect nothing.
 */
export async function grantApplicationRole(sql: SqlClient, role: string): Promise<void> {
  // Identifiers cannot be parameters: the name is checked against a strict pattern, then quoted.
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(role))
    throw new DatabaseSetupError(
      `DATABASE_URL's user ${JSON.stringify(role)} is not a plain role name (letters, digits, _): cannot grant it rights`,
    );
  await sql.transaction(async (tx) => {
    const found = await tx.query<{ superuser: boolean; schema: string }>(
      'SELECT rolsuper AS superuser, current_schema() AS schema FROM pg_roles WHERE rolname = $1',
      [role],
    );
    const row = found.rows[0];
    if (!row)
      throw new DatabaseSetupError(
        `DATABASE_URL connects as ${role}, a role that does not exist: create it (CREATE ROLE ${role} LOGIN PASSWORD '…'), see docs/console.md`,
      );
    const r = `"${role}"`;
    const schema = `"${row.schema.replaceAll('"', '""')}"`;
    await tx.exec(`
      GRANT USAGE ON SCHEMA ${schema} TO ${r};
      GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${r};
      GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schema} TO ${r};
      GRANT EXECUTE ON FUNCTION transaction_archive_maintain(integer) TO ${r};
      REVOKE ALL ON audit_log FROM PUBLIC;
      REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_log FROM ${r};
      REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON schema_migrations FROM ${r};
    `);
    const check = await tx.query<{ rewrites: boolean; owns: boolean }>(
      `SELECT has_table_privilege($1, 'audit_log', 'UPDATE') OR has_table_privilege($1, 'audit_log', 'DELETE') OR has_table_privilege($1, 'audit_log', 'TRUNCATE') AS rewrites,
              pg_has_role($1, (SELECT relowner FROM pg_class WHERE oid = 'audit_log'::regclass), 'MEMBER') AS owns`,
      [role],
    );
    const c = check.rows[0]!;
    if (row.superuser || c.owns || c.rewrites) {
      const why = row.superuser
        ? 'is a superuser'
        : c.owns
          ? 'owns the audit log (or is a member of its owner)'
          : 'may still update or delete audit entries (a grant to a role it belongs to)';
      throw new DatabaseSetupError(
        `DATABASE_URL connects as ${role}, which ${why}: it could cut the audit log. Connect the application as a role of its own that owns nothing (docs/console.md)`,
      );
    }
  });
}

/** Whether the connected role could cut the audit log itself: it owns the table (ALTER, DISABLE TRIGGER), or may update, delete or truncate it. */
export async function canRewriteAuditLog(sql: SqlClient): Promise<boolean> {
  const r = await sql.query<{ can: boolean }>(
    `SELECT has_table_privilege('audit_log', 'UPDATE') OR has_table_privilege('audit_log', 'DELETE') OR has_table_privilege('audit_log', 'TRUNCATE')
            OR pg_has_role((SELECT relowner FROM pg_class WHERE oid = 'audit_log'::regclass), 'MEMBER') AS can`,
  );
  return r.rows[0]!.can;
}
