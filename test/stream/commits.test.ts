// The processor's offset commits: gathered per interval; a failed one is retried an interval
// later on its own, not only when the next batch comes (an idle stream kept them uncommitted:
// a clean-clone run waited 90 s for offsets that a commit lost to a rebalance never retried).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CommitQueue } from '../../streams/processor/commits.ts';
import { createLogger } from '../../services/logger.ts';

type Commit = Parameters<CommitQueue['later']>[3];
type Offsets = Parameters<Commit>[0];

describe('CommitQueue', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  const queue = (owns: (p: number) => boolean = () => true) =>
    new CommitQueue({ intervalMs: 1_000, logger: createLogger('silent'), owns });

  it('commits the latest offset of each partition once per interval', async () => {
    const commits: Offsets[] = [];
    const commit: Commit = async (o) => void commits.push(o);
    const q = queue();
    q.later('tx', 0, '5', commit);
    q.later('tx', 0, '9', commit);
    q.later('tx', 1, '3', commit);
    expect(commits).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(commits).toEqual([
      {
        topics: [
          {
            topic: 'tx',
            partitions: [
              { partition: 0, offset: '9' },
              { partition: 1, offset: '3' },
            ],
          },
        ],
      },
    ]);
  });

  it('retries a failed commit an interval later with no new batch, then stops', async () => {
    const attempts: Offsets[] = [];
    let failures = 2;
    const commit: Commit = async (o) => {
      attempts.push(o);
      if (failures-- > 0) throw new Error('REBALANCE_IN_PROGRESS');
    };
    const q = queue();
    q.later('tx', 2, '60', commit);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(attempts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(attempts).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(attempts).toHaveLength(3);
    expect(attempts[2]).toEqual({ topics: [{ topic: 'tx', partitions: [{ partition: 2, offset: '60' }] }] });
    // Committed: nothing left to retry.
    await vi.advanceTimersByTimeAsync(5_000);
    expect(attempts).toHaveLength(3);
  });

  it('does not retry a failed commit for a partition it no longer owns', async () => {
    const attempts: Offsets[] = [];
    let owned = true;
    const commit: Commit = async (o) => {
      attempts.push(o);
      owned = false; // a rebalance moved the partition while the commit failed
      throw new Error('REBALANCE_IN_PROGRESS');
    };
    const q = queue(() => owned);
    q.later('tx', 0, '7', commit);
    await vi.advanceTimersByTimeAsync(1_000);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(attempts).toHaveLength(1);
  });
});
