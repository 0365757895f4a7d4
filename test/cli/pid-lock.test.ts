// The pid lock the embedded database and the engine's state directory are held by: one process at
// a time, a live holder named, a dead one's lock and an abandoned empty one taken over.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquirePidLock } from '../../services/adapters/files/pid-lock.ts';

const busy = (holder: number | undefined) => new Error(`held by ${holder ?? 'someone taking it'}`);
const lockFile = () => join(mkdtempSync(join(tmpdir(), 'lg-lock-')), 'engine.lock');

describe('acquirePidLock', () => {
  it('takes a free lock, names a live holder, and takes over the lock of a process that is gone', async () => {
    const file = lockFile();
    const release = acquirePidLock(file, busy);
    expect(readFileSync(file, 'utf8').trim()).toBe(String(process.pid));
    release();
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']);
    try {
      writeFileSync(file, `${sleeper.pid}\n`);
      expect(() => acquirePidLock(file, busy)).toThrow(`held by ${sleeper.pid}`);
    } finally {
      sleeper.kill();
    }
    await new Promise((resolve) => sleeper.once('exit', resolve));
    acquirePidLock(file, busy)();
  });

  it('waits on an empty lock being written, and takes over one left empty (its owner died before writing)', () => {
    const file = lockFile();
    writeFileSync(file, '');
    expect(() => acquirePidLock(file, busy)).toThrow('held by someone taking it');
    const old = new Date(Date.now() - 10_000);
    utimesSync(file, old, old);
    const release = acquirePidLock(file, busy);
    expect(readFileSync(file, 'utf8').trim()).toBe(String(process.pid));
    release();
  });
});
