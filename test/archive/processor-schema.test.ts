// A stream processor that archives (LEAKGUARD_ARCHIVE, DATABASE_URL) checks the database's schema
// before it joins its consumer group, as an engine does before it opens its cases (README,
// "Upgrading"): a migration missing stops it (exit 1, naming the migration and what to run) rather
// than counting transactions whose every archive write would fail; a database not reachable yet
// does not stop it, and is checked once it answers. Real Redis and PostgreSQL, with the roles split
// as in production (docs/console.md, "Least privilege"): the owner migrates, the processor connects
// as the application's role.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DatabaseSetupError,
  grantApplicationRole,
  loadMigrations,
  migrate,
} from '../../services/adapters/postgres/migrate.ts';
import { PgSqlClient } from '../../services/adapters/postgres/pg-client.ts';
import { scoreRequestSchema } from '../../services/core/schemas.ts';
import { scoreBody, TEST_CARD_KEY, TEST_DATA_KEY } from '../support/app.ts';
import { PostgresServer } from '../support/postgres-server.ts';
import { RedisServer } from '../support/redis-server.ts';
import { openRuntime } from '../support/runtime-on.ts';
import { REPO } from '../support/engine-process.ts';

const MIGRATIONS = loadMigrations();
const LAST = MIGRATIONS.at(-1)!;
const LAST_NAME = `${String(LAST.version).padStart(3, '0')}_${LAST.name}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let redis: RedisServer;
let pg: PostgresServer;
let serial = 0;

beforeAll(async () => {
  [redis, pg] = await Promise.all([RedisServer.start(), PostgresServer.start()]);
  const su = new PgSqlClient({ connectionString: pg.url, max: 1 });
  try {
    // The owner is no superuser (as in production); the application's role owns nothing.
    await su.exec('CREATE ROLE lg_ps_owner LOGIN; CREATE ROLE lg_ps_app LOGIN');
  } finally {
    await su.close();
  }
}, 60_000);

afterAll(async () => {
  await redis?.stop();
  await pg?.stop();
});

/**
 * A database of the owner's, migrated by it up to all but the last `missing` migrations, the
 * application's role granted its rights: a rolling deploy whose migrate step was forgotten.
 */
async function databaseBehind(missing: number): Promise<{ owner: string; app: string }> {
  const db = `lg_proc_schema_${process.pid}_${++serial}`;
  const su = new PgSqlClient({ connectionString: pg.url, max: 1 });
  try {
    await su.exec(`CREATE DATABASE ${db} OWNER lg_ps_owner`); // alone: not in a transaction block
  } finally {
    await su.close();
  }
  const url = (role: string) => `postgres://${role}@127.0.0.1:${pg.port}/${db}`;
  const owner = new PgSqlClient({ connectionString: url('lg_ps_owner'), max: 1 });
  try {
    await migrate(owner, MIGRATIONS.slice(0, MIGRATIONS.length - missing));
    await grantApplicationRole(owner, 'lg_ps_app');
  } finally {
    await owner.close();
  }
  return { owner: url('lg_ps_owner'), app: url('lg_ps_app') };
}

const processor = (settings: Record<string, string>) =>
  openRuntime({ REDIS_URL: redis.url, LEAKGUARD_MODEL: 'off', LEAKGUARD_ARCHIVE: 'on', ...settings }, 'processor');

async function archived(url: string, transactionId: string): Promise<number> {
  const sql = new PgSqlClient({ connectionString: url, max: 1 });
  try {
    return (await sql.query('SELECT 1 FROM transaction_archive WHERE transaction_id = $1', [transactionId])).rowCount;
  } finally {
    await sql.close();
  }
}

const request = (transactionId: string) =>
  scoreRequestSchema.parse(
    scoreBody({ transactionId, occurredAt: new Date().toISOString(), device: { id: 'device-ps-1' } }),
  );

describe("a stream processor's archive on a database behind its code", () => {
  it('is refused before anything is consumed, naming the missing migration and what to run', async () => {
    const { app } = await databaseBehind(1);
    const { runtime, dispose } = await processor({ DATABASE_URL: app });
    try {
      const check = runtime.openArchive()!;
      const refused = await check.done.then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(DatabaseSetupError);
      expect((refused as Error).message).toBe(
        `migration ${LAST_NAME} is not applied and this process only checks the schema: run the migrations as the tables' owner (DATABASE_MIGRATION_URL, npm run db -- migrate)`,
      );
      // What streams/service.ts awaits before joining the group.
      await expect(check.reached).rejects.toBe(refused);
    } finally {
      await dispose();
    }
  }, 60_000);

  it('names every migration missing', async () => {
    const { app } = await databaseBehind(2);
    const { runtime, dispose } = await processor({ DATABASE_URL: app });
    try {
      const names = MIGRATIONS.slice(-2).map((m) => `${String(m.version).padStart(3, '0')}_${m.name}`);
      await expect(runtime.openArchive()!.done).rejects.toThrow(`migrations ${names.join(', ')} are not applied`);
    } finally {
      await dispose();
    }
  }, 60_000);

  it('is migrated by the owner when the processor is given DATABASE_MIGRATION_URL, as an engine is, and written to', async () => {
    const { owner, app } = await databaseBehind(1);
    const { runtime, lines, dispose } = await processor({ DATABASE_URL: app, DATABASE_MIGRATION_URL: owner });
    try {
      const check = runtime.openArchive()!;
      await check.done;
      expect(await check.reached).toBe(true);
      const versions = async () => {
        const sql = new PgSqlClient({ connectionString: app, max: 1 });
        try {
          return (await sql.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
            (r) => r.version,
          );
        } finally {
          await sql.close();
        }
      };
      expect(await versions()).toContain(LAST.version);
      const id = `ps-migrated-${serial}`;
      await runtime.engine.score('m1', request(id));
      await runtime.archiveWriter!.flush();
      expect(await archived(app, id)).toBe(1);
      expect(lines.filter((l) => l.includes('transaction archive'))).toEqual([]);
    } finally {
      await dispose();
    }
  }, 60_000);
});

describe("a stream processor's archive on a database up to date", () => {
  it('is checked, and written to', async () => {
    const { app } = await databaseBehind(0);
    const { runtime, lines, dispose } = await processor({ DATABASE_URL: app });
    try {
      const check = runtime.openArchive()!;
      expect(await check.reached).toBe(true);
      await check.done;
      const id = `ps-current-${serial}`;
      await runtime.engine.score('m1', request(id));
      await runtime.archiveWriter!.flush();
      expect(await archived(app, id)).toBe(1);
      expect(lines.filter((l) => l.includes('transaction archive'))).toEqual([]);
    } finally {
      await dispose();
    }
  }, 60_000);
});

describe('a stream processor started while PostgreSQL is down', () => {
  it('is not stopped: it goes on, its writes waiting, and finds the schema behind once PostgreSQL is back', async () => {
    const { app } = await databaseBehind(1);
    await pg.halt('fast');
    let resumed = false;
    const { runtime, lines, dispose } = await processor({ DATABASE_URL: app });
    try {
      const check = runtime.openArchive()!;
      let settled = false;
      const outcome = check.done.then(
        () => 'checked',
        (error: unknown) => error,
      );
      void outcome.finally(() => (settled = true));
      expect(await check.reached).toBe(false);
      expect(lines.some((l) => l.includes('PostgreSQL not reachable yet'))).toBe(true);
      await runtime.engine.score('m1', request(`ps-down-${serial}`));
      expect(runtime.archiveWriter!.waiting).toBe(1);
      await sleep(500);
      expect(settled).toBe(false);
      await pg.resume();
      resumed = true;
      const error = await outcome;
      expect(error).toBeInstanceOf(DatabaseSetupError);
      expect((error as Error).message).toContain(`migration ${LAST_NAME} is not applied`);
    } finally {
      if (!resumed) await pg.resume();
      await dispose();
    }
  }, 60_000);

  it('writes what waited once PostgreSQL is back with the schema up to date', async () => {
    const { app } = await databaseBehind(0);
    await pg.halt('fast');
    let resumed = false;
    const { runtime, dispose } = await processor({ DATABASE_URL: app });
    try {
      const check = runtime.openArchive()!;
      expect(await check.reached).toBe(false);
      const id = `ps-late-${serial}`;
      await runtime.engine.score('m1', request(id));
      await pg.resume();
      resumed = true;
      await check.done;
      for (let i = 0; i < 50 && runtime.archiveWriter!.waiting > 0; i++) await sleep(100);
      expect(runtime.archiveWriter!.waiting).toBe(0);
      expect(await archived(app, id)).toBe(1);
    } finally {
      if (!resumed) await pg.resume();
      await dispose();
    }
  }, 60_000);
});

describe('npm run stream on a database behind its code', () => {
  let stateDir: string;
  beforeAll(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'lg-proc-schema-'));
  });
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  // Kafka is never reached (nothing listens on port 9): what stops the processor is the schema.
  const streamEnv = (databaseUrl: string, logLevel = 'warn') => ({
    PATH: process.env.PATH ?? '',
    KAFKA_BROKERS: '127.0.0.1:9',
    REDIS_URL: redis.url,
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: logLevel,
    STREAM_METRICS_PORT: '0',
    LEAKGUARD_STREAM_SHUTDOWN_TIMEOUT_MS: '30000',
    LEAKGUARD_MODEL: 'off',
    LEAKGUARD_CARD_KEY: TEST_CARD_KEY,
    LEAKGUARD_DATA_KEY: TEST_DATA_KEY,
    LEAKGUARD_STATE_DIR: stateDir,
  });
  const STREAM = ['--disable-warning=ExperimentalWarning', 'streams/main.ts'];

  it('stops with exit 1 before joining, naming the missing migration and what to run', async () => {
    const { app } = await databaseBehind(1);
    const run = spawnSync(process.execPath, STREAM, {
      cwd: REPO,
      env: streamEnv(app),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.stderr).toContain(
      `leakguard stream: failed to start: migration ${LAST_NAME} is not applied and this process only checks the schema: run the migrations as the tables' owner (DATABASE_MIGRATION_URL, npm run db -- migrate)`,
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stdout).not.toContain('could not start consuming');
    expect(run.status).toBe(1);
  }, 60_000);

  it('started while PostgreSQL is down, goes on, then stops with exit 1 once it finds the schema behind', async () => {
    const { app } = await databaseBehind(1);
    await pg.halt('fast');
    let resumed = false;
    const child = spawn(process.execPath, STREAM, { cwd: REPO, env: streamEnv(app, 'info') });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 200 && !output.includes('PostgreSQL not reachable yet'); i++) await sleep(100);
      expect(output).toContain('PostgreSQL not reachable yet');
      // Not stopped by a database merely down: it goes on to join its group (Kafka, here never reached).
      for (let i = 0; i < 200 && !output.includes('stream processor starting'); i++) await sleep(100);
      expect(output).toContain('stream processor starting');
      expect(child.exitCode).toBeNull();
      await pg.resume();
      resumed = true;
      expect(await exited).toBe(1);
      expect(output).toContain(
        `transaction archive's database is not set up for this version, stopping: migration ${LAST_NAME} is not applied`,
      );
    } finally {
      if (!resumed) await pg.resume();
      child.kill('SIGKILL');
    }
  }, 90_000);
});
