// A lock held by a process as a file naming its pid: created atomically (O_EXCL), so of two
// processes taking it at once one wins and the other is told who holds it; a lock left by a
// process that is gone is taken over. One machine's processes only (a pid means nothing elsewhere).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Takes the lock or throws what `busy` makes of its holder (the pid of a live process; undefined
 * when another process is taking it at this very moment). Returns its release.
 */
export function acquirePidLock(lockFile: string, busy: (holder: number | undefined) => Error): () => void {
  const release = () => rmSync(lockFile, { force: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(lockFile, `${process.pid}\n`, { mode: 0o600, flag: 'wx' });
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder: number;
    try {
      holder = Number(readFileSync(lockFile, 'utf8').trim());
    } catch {
      continue; // removed meanwhile: try again
    }
    if (!holder) {
      // Created but not written yet by its owner: give it a moment rather than take it over.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      continue;
    }
    if (holder !== process.pid && alive(holder)) throw busy(holder);
    rmSync(lockFile, { force: true });
  }
  throw busy(undefined);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
