// TurnBatch, the writer of the stored responses on one Redis: what one event-loop turn adds goes in
// one call; with a gathering time, what later turns add within it goes in that call too, at most
// `max` items a call; drain sends what waits at once.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TurnBatch } from '../../services/adapters/redis/turn-batch.ts';

function recording(max: number, gatherMs?: number) {
  const calls: number[][] = [];
  const batch = new TurnBatch<number>(async (items) => void calls.push(items), max, gatherMs);
  return { calls, batch };
}

describe('TurnBatch', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('without a gathering time: one call per turn', async () => {
    const { calls, batch } = recording(100);
    void batch.add(1);
    void batch.add(2);
    await vi.advanceTimersToNextTimerAsync();
    void batch.add(3);
    await vi.advanceTimersToNextTimerAsync();
    expect(calls).toEqual([[1, 2], [3]]);
  });

  it('with one: the turns within it share a call, and each item settles when its call is answered', async () => {
    const { calls, batch } = recording(100, 5);
    const first = batch.add(1);
    await vi.advanceTimersByTimeAsync(2);
    const second = batch.add(2);
    await vi.advanceTimersByTimeAsync(2);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([[1, 2]]);
    await expect(Promise.all([first, second])).resolves.toEqual([undefined, undefined]);
    void batch.add(3);
    await vi.advanceTimersByTimeAsync(5);
    expect(calls).toEqual([[1, 2], [3]]);
  });

  it('sends at once when max items wait, and drain sends the rest without waiting', async () => {
    const { calls, batch } = recording(3, 1_000);
    for (const n of [1, 2, 3, 4]) void batch.add(n);
    expect(calls).toEqual([[1, 2, 3]]);
    await batch.drain();
    expect(calls).toEqual([[1, 2, 3], [4]]);
    // Nothing is left to send when the gathering time would have ended.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toHaveLength(2);
  });

  it('a failed call rejects the items it carried', async () => {
    const batch = new TurnBatch<number>(async () => Promise.reject(new Error('READONLY')), 10, 5);
    const item = batch.add(1);
    const settled = expect(item).rejects.toThrow('READONLY');
    await vi.advanceTimersByTimeAsync(5);
    await settled;
  });
});
