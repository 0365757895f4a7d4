// PGlite is one process's database: the lock beside its data directory admits one process, is
// taken atomically, and is taken over when the process that left it is gone.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PgliteBusy, PgliteSqlClient } from '../../services/adapters/postgres/pglite-client.ts';

const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
afterAll(() => {
  sleeper.kill();
});

describe('the embedded database lock', () => {
  it('refuses a second process while the holder lives, naming it', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'lg-lock-')), 'pglite');
    writeFileSync(`${dir}.lock`, `${sleeper.pid}\n`);
    const error = await PgliteSqlClient.open(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PgliteBusy);
    expect((error as Error).message).toContain(`in use by process ${sleeper.pid}`);
  });

  it('refuses while another process is still writing the lock (an empty lock file)', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'lg-lock-')), 'pglite');
    writeFileSync(`${dir}.lock`, '');
    await expect(PgliteSqlClient.open(dir)).rejects.toThrow(/being opened by another process/);
  });

  it('takes over a lock left by a process that is gone', { timeout: 120_000 }, async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'lg-lock-')), 'pglite');
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(`${dir}.lock`, `${gone.stdout}\n`);
    const client = await PgliteSqlClient.open(dir);
    try {
      expect(readFileSync(`${dir}.lock`, 'utf8').trim()).toBe(String(process.pid));
      expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    } finally {
      await client.close();
    }
  });
});
