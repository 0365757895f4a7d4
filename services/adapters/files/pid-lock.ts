// A lock held by a process as a file naming its pid: created atomically (O_EXCL), so of two
// processes taking it at once one wins and the other is told who holds it; a lock left by a
// process that is gone is taken over. One machine's processes only (a pid means nothing elsewhere).
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';

/** An empty lock older than this was left by a process that died between creating and writing it. */
const EMPTY_LOCK_STALE_MS = 2_000;

/**
 * Takes the lock or throws what `busy` makes of its holder (the pid of a live process; undefined
 * when another process is taking it at this very moment). Returns its release.
 */
export function acquirePidLock(lockFile: string, busy: (holder: number | undefined) => Error): () => void {
  const release = () => rmSync(lockFile, { force: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number | undefined;
    try {
      fd = openSync(lockFile, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (fd !== undefined) {
      try {
        writeSync(fd, `${process.pid}\n`);
      } catch (error) {
        // Created but not written (a full disk): not left behind for every later start to wait on.
        release();
        throw error;
      } finally {
        closeSync(fd);
      }
      return release;
    }
    let holder: number;
    try {
      holder = Number(readFileSync(lockFile, 'utf8').trim());
    } catch {
      continue; // removed meanwhile: try again
    }
    if (!holder) {
      // Created but not written yet by its owner: give it a moment rather than take it over,
      // unless it has been empty too long for that (its owner died in between).
      if (Date.now() - mtimeOf(lockFile) > EMPTY_LOCK_STALE_MS) rmSync(lockFile, { force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      continue;
    }
    if (holder !== process.pid && alive(holder)) throw busy(holder);
    rmSync(lockFile, { force: true });
  }
  throw busy(undefined);
}

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return Date.now();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
