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

/** Applies what is missing; returns the versions applied now. */
export async function migrate(sql: SqlClient, migrations = loadMigrations()): Promise<number[]> {
  await sql.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
  )`).catch(async (error: unknown) => {
    // Two processes racing to create the table: the loser finds it there.
    const exists = await sql.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_migrations'`);
    if (exists.rowCount === 0) throw error;
  });
  const applied: number[] = [];
  for (const m of migrations) {
    await sql.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_ID]);
      const done = await tx.query<{ checksum: string }>('SELECT checksum FROM schema_migrations WHERE version = $1', [m.version]);
      if (done.rows[0]) {
        if (done.rows[0].checksum !== m.checksum) throw new Error(`migration ${m.version}_${m.name} was changed after it was applied`);
        return;
      }
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
      applied.push(m.version);
    });
  }
  return applied;
}
