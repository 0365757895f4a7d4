// The embedded driver: PGlite (PostgreSQL compiled to WASM) with its data directory on disk.
// One connection, so statements are serialised; transactions use PGlite's own.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { Queryable, SqlClient, SqlResult } from './sql-client.ts';
import { LeakguardError } from '../../core/errors.ts';
import { acquirePidLock } from '../files/pid-lock.ts';

type Db = Pick<PGlite, 'query' | 'exec'>;

function wrap(db: Db): Queryable {
  return {
    async query<T>(text: string, params: readonly unknown[] = []): Promise<SqlResult<T>> {
      const result = await db.query<T>(text, params as unknown[]);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    },
    async exec(script: string) {
      await db.exec(script);
    },
  };
}

export class PgliteSqlClient implements SqlClient {
  readonly driver = 'pglite' as const;
  private readonly db: PGlite;
  private readonly q: Queryable;

  private constructor(db: PGlite) {
    this.db = db;
    this.q = wrap(db);
  }

  private lockFile: string | undefined;

  /**
   * `dataDir` undefined: in memory (tests only). PGlite is one process's database: a lock file
   * beside the data directory refuses a second process (say, a CLI while the engine runs).
   */
  static async open(dataDir?: string): Promise<PgliteSqlClient> {
    let lockFile: string | undefined;
    if (dataDir) {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      lockFile = `${dataDir}.lock`;
      acquireLock(lockFile, dataDir);
      if (!existsSync(join(dataDir, 'PG_VERSION'))) await initInChild(dataDir);
    }
    const db = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
    const client = new PgliteSqlClient(db);
    client.lockFile = lockFile;
    return client;
  }

  query<T>(text: string, params?: readonly unknown[]): Promise<SqlResult<T>> {
    return this.q.query<T>(text, params);
  }

  exec(script: string): Promise<void> {
    return this.q.exec(script);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(wrap(tx)));
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
    if (this.lockFile) rmSync(this.lockFile, { force: true });
  }
}

export class PgliteBusy extends LeakguardError {
  constructor(message: string) {
    super('DATABASE_BUSY', message);
  }
}

/** initdb in a child process, so that this process's event loop keeps serving meanwhile. */
function initInChild(dataDir: string): Promise<void> {
  const script = fileURLToPath(new URL('./pglite-init.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', script, dataDir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // Background work: it yields the CPU to the serving process and everything else.
    try {
      if (child.pid) setPriority(child.pid, 10);
    } catch {
      // not permitted here: run at normal priority
    }
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`could not create the embedded database in ${dataDir}: ${stderr.trim().slice(0, 500)}`)),
    );
  });
}

function acquireLock(lockFile: string, dataDir: string): void {
  acquirePidLock(
    lockFile,
    (holder) =>
      new PgliteBusy(
        holder
          ? `the embedded database ${dataDir} is in use by process ${holder}: stop it first, or use DATABASE_URL`
          : `the embedded database ${dataDir} is being opened by another process: try again, or use DATABASE_URL`,
      ),
  );
}
