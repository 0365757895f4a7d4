// The friction tracker: shares of a merchant's orders per decision over a rolling window, against its budget.
import { describe, expect, it } from 'vitest';
import { FrictionTracker } from '../../services/core/friction.ts';

const HOUR = 3_600_000;
const budget = { challenge: 0.05, review: 0.005 };

describe('friction tracker', () => {
  it('gives each merchant its shares of challenges, reviews and declines, and which budget lines it overspends', () => {
    let now = 10 * 24 * HOUR;
    const t = new FrictionTracker({ now: () => now });
    for (let i = 0; i < 90; i++) t.record('shop', 'approve');
    for (let i = 0; i < 8; i++) t.record('shop', 'challenge');
    t.record('shop', 'review');
    t.record('shop', 'decline');
    t.record('quiet', 'approve');
    expect(t.share('shop', budget)).toEqual({
      merchantId: 'shop',
      orders: 100,
      challenge: 0.08,
      review: 0.01,
      decline: 0.01,
      budget,
      over: ['challenge', 'review'],
    });
    expect(t.share('quiet', budget)).toMatchObject({ orders: 1, challenge: 0, over: [] });
    expect(t.share('unknown', budget)).toBeUndefined();
    expect(t.shares(() => budget).map((s) => s.merchantId)).toEqual(['shop', 'quiet']);
    expect(t.shares(() => budget, 1)).toHaveLength(1);
    now += 2 * HOUR;
    expect(t.share('shop', { challenge: 0.1, review: 0.02 })?.over).toEqual([]);
  });

  it('forgets orders older than the window, hour by hour', () => {
    let now = 5 * 24 * HOUR;
    const t = new FrictionTracker({ now: () => now });
    t.record('m', 'review');
    now += 12 * HOUR;
    t.record('m', 'approve');
    expect(t.share('m', budget)).toMatchObject({ orders: 2, review: 0.5 });
    now += 12 * HOUR + 1; // the first order's hour has left the 24 h window
    expect(t.share('m', budget)).toMatchObject({ orders: 1, review: 0 });
    now += 24 * HOUR;
    expect(t.share('m', budget)).toBeUndefined();
    t.record('m', 'challenge'); // a slot reused a day later starts from zero
    expect(t.share('m', budget)).toMatchObject({ orders: 1, challenge: 1 });
  });

  it('stays bounded: past its limit it forgets the quietest merchants', () => {
    const t = new FrictionTracker({ maxMerchants: 4, now: () => 0 });
    for (let i = 0; i < 5; i++) t.record('busy', 'approve');
    for (const m of ['a', 'b', 'c', 'd', 'e']) t.record(m, 'approve');
    const kept = t.shares(() => budget).map((s) => s.merchantId);
    expect(kept.length).toBeLessThanOrEqual(4);
    expect(kept).toContain('busy');
    expect(kept).toContain('e');
  });
});
