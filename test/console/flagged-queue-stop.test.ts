// A flagged-decision queue whose handler keeps failing (the case database down, the journal's disk
// full) backs off between attempts. Stopping it must not wait the backoff out: an engine shutting
// down while PostgreSQL was unreachable waited up to 5 s for it, and a process with nothing else
// to hold it up exited in the middle of stop() (the backoff's timer holds no process up), its
// top-level `await queue.stop()` never settled (a review's disk-full test met it 1 run in 4).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JournalFlaggedQueue } from '../../services/adapters/files/journal-flagged-queue.ts';
import { MemoryFlaggedQueue, type FlaggedQueue } from '../../services/cases/flagged.ts';
import { flagged } from './fixtures.ts';

const BACKOFF = { initialMs: 60_000, maxMs: 60_000 };

async function stopWhileBackingOff(queue: FlaggedQueue) {
  await queue.publish(flagged({ transactionId: 'tx-1' }));
  let failed!: () => void;
  const firstFailure = new Promise<void>((resolve) => (failed = resolve));
  queue.start(
    async () => {
      throw new Error('the case database is down');
    },
    () => failed(),
  );
  await firstFailure;
  // Backing off for a minute now: stop() ends it, or this reports which one it was.
  const stopped = queue.stop().then(() => 'stopped' as const);
  const outcome = await Promise.race([stopped, new Promise((r) => setTimeout(() => r('still backing off'), 5_000))]);
  expect(outcome).toBe('stopped');
  expect(await queue.pending()).toBe(1);
}

describe('a flagged-decision queue stopped while it backs off', () => {
  it('in memory: stops at once, the decision still queued', async () => {
    await stopWhileBackingOff(new MemoryFlaggedQueue({ backoff: BACKOFF }));
  });

  it('journaled (embedded mode): stops at once, the decision still in its journal', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lg-flagged-stop-')), 'flagged.journal');
    await stopWhileBackingOff(new JournalFlaggedQueue(path, { backoff: BACKOFF }));
    const reopened = new JournalFlaggedQueue(path);
    expect(await reopened.pending()).toBe(1);
    await reopened.stop();
  });
});
