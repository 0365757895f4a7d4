// A real PostgreSQL server per test file: initdb into a temp dir, `postgres` on a free loopback
// port, stopped and started at will. As root the server runs as the `postgres` system user
// (PostgreSQL refuses to run as root). Binaries: LEAKGUARD_TEST_POSTGRES_BIN, else Debian's.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.ts';

function postgresBin(): string {
  const configured = process.env.LEAKGUARD_TEST_POSTGRES_BIN;
  if (configured) return configured;
  const dir = execFileSync('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1'], {
    encoding: 'utf8',
  }).trim();
  if (!dir || !existsSync(`${dir}/initdb`))
    throw new Error(
      'PostgreSQL binaries not found: run npm test (it installs them) or set LEAKGUARD_TEST_POSTGRES_BIN',
    );
  return dir;
}

function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  if (spawnSync('id', ['postgres']).status !== 0)
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
  return { uid: id('-u'), gid: id('-g') };
}

export class PostgresServer {
  private process: ChildProcess | undefined;
  private readonly root = mkdtempSync(join(tmpdir(), 'lg-pg-'));
  private readonly dataDir = join(this.root, 'data');
  private readonly user = runAs();
  private readonly bin = postgresBin();
  readonly port: number;

  private constructor(port: number) {
    this.port = port;
  }

  static async start(): Promise<PostgresServer> {
    const server = new PostgresServer(await freePort());
    if (server.user) chownSync(server.root, server.user.uid, server.user.gid);
    const init = spawnSync(
      `${server.bin}/initdb`,
      ['-D', server.dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C'],
      {
        encoding: 'utf8',
        ...(server.user ?? {}),
      },
    );
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
    await server.resume();
    return server;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Starts (again) on the same port and data directory. */
  async resume(): Promise<void> {
    this.process = spawn(
      `${this.bin}/postgres`,
      [
        '-D',
        this.dataDir,
        '-k',
        this.root,
        '-p',
        String(this.port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=50',
      ],
      { stdio: 'ignore', ...(this.user ?? {}) },
    );
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 500 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch {
        await client.end().catch(() => {});
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`postgres did not answer on port ${this.port}`);
  }

  /** A new empty database on this server; returns its URL. */
  async createDatabase(name: string): Promise<string> {
    const client = new pg.Client({ connectionString: this.url });
    await client.connect();
    try {
      if (!/^[a-z0-9_]{1,40}$/.test(name)) throw new Error('bad database name');
      // Identifiers cannot be parameters; the name was checked against a strict pattern above.
      await client.query(`CREATE DATABASE ${name}`);
    } finally {
      await client.end();
    }
    return `postgres://postgres@127.0.0.1:${this.port}/${name}`;
  }

  /** Stops the server: 'fast' (SIGINT, clean) or 'crash' (SIGKILL). */
  async halt(mode: 'fast' | 'crash' = 'fast'): Promise<void> {
    const p = this.process;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(mode === 'fast' ? 'SIGINT' : 'SIGKILL');
    });
    if (mode === 'crash') {
      // Orphaned backends of a killed postmaster hold the shared memory; let them notice.
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  async stop(): Promise<void> {
    await this.halt('fast');
    rmSync(this.root, { recursive: true, force: true });
  }
}
