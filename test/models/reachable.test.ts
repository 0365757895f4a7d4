import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../models/simulator/csv.ts';
import type { Split } from '../../models/evaluation/protocol.ts';
import { HANDBOOK_FEATURE_SET } from '../../services/model/definitions.ts';
import { reachableCardPrecision, terminalFraudWindow, visibleTestFrauds } from '../../models/evaluation/reachable.ts';

const DAY = 86_400;
type Row = [day: number, hour: number, card: number, terminal: number, fraud: number, scenario: number];
function dataset(rows: Row[]): Dataset {
  const n = rows.length;
  const col = <T extends Float64Array | Int32Array | Uint8Array>(
    make: new (n: number) => T,
    f: (r: (typeof rows)[number]) => number,
  ) => {
    const a = new make(n);
    rows.forEach((r, i) => (a[i] = f(r)));
    return a;
  };
  return {
    n,
    transactionId: col(Float64Array, () => 0).map((_, i) => i),
    epochSeconds: col(Float64Array, (r) => r[0] * DAY + r[1] * 3600),
    customer: col(Int32Array, (r) => r[2]),
    terminal: col(Int32Array, (r) => r[3]),
    amount: col(Float64Array, () => 10),
    timeSeconds: col(Float64Array, (r) => r[0] * DAY + r[1] * 3600),
    timeDays: col(Int32Array, (r) => r[0]),
    fraud: col(Uint8Array, (r) => r[4]),
    scenario: col(Uint8Array, (r) => r[5]),
    extra: new Map(),
  };
}
/** Every row from `first` on is a test row, on test day (day − testStart). */
function testSplit(ds: Dataset, first: number, testStart: number): Split {
  const test = Int32Array.from({ length: ds.n - first }, (_, i) => first + i);
  return {
    options: { trainStart: '2018-01-01', trainDays: 7, delayDays: 7, testDays: 7 },
    train: [0, first],
    test,
    testDay: test.map((r) => ds.timeDays[r]! - testStart),
    removedTestRows: 0,
    knownCardsAtEnd: 0,
  };
}

describe('reachable Card Precision@k (what the handbook features can see)', () => {
  it('reads the delayed terminal windows off the feature set: (t − 37 d, t − 7 d]', () => {
    expect(terminalFraudWindow(HANDBOOK_FEATURE_SET)).toEqual({ delayDays: 7, days: 30 });
    expect(
      terminalFraudWindow({ name: 'x', version: 1, features: [{ kind: 'amount', name: 'TX_AMOUNT' }] }),
    ).toBeUndefined();
  });

  it('sees a compromised terminal only once its fraud has passed the label delay', () => {
    const ds = dataset(
      (
        [
          [50, 10, 90, 1, 1, 2], // terminal 1 compromised: fraud on day 50
          [56, 10, 91, 2, 1, 2], // terminal 2: fraud on day 56
          [20, 10, 92, 3, 1, 2], // terminal 3: fraud on day 20 (too old for the 30-day window at day 60)
          // test day 60
          [60, 9, 1, 1, 1, 2], // 10 days after terminal 1's fraud: visible
          [60, 10, 2, 2, 1, 2], // 4 days after terminal 2's: still inside the delay, invisible
          [60, 11, 3, 3, 1, 2], // 40 days after terminal 3's: out of the window, invisible
          [60, 12, 4, 4, 1, 3], // compromised card (inflated amount): visible
          [60, 13, 5, 4, 1, 1], // amount over the threshold: visible
          [60, 14, 6, 5, 0, 0], // genuine
          [57, 10, 7, 1, 1, 2], // exactly 7 days after terminal 1's fraud (boundary: t − 7 d is inside): visible
        ] satisfies Row[]
      ).sort((a, b) => a[0] * 24 + a[1] - (b[0] * 24 + b[1])),
    );
    const first = ds.timeDays.findIndex((d) => d >= 57);
    const split = testSplit(ds, first, 57);
    const visible = visibleTestFrauds(ds, split, HANDBOOK_FEATURE_SET)!;
    const byCard = Object.fromEntries(Array.from(split.test, (row, k) => [ds.customer[row]!, visible[k]]));
    expect(byCard).toEqual({ 7: 1, 1: 1, 2: 0, 3: 0, 4: 1, 5: 1, 6: 0 });
    // With the chargebacks serving would see: terminal 1's fraud charged back 8 days later (on day 58,
    // 10:00) is seen on day 60 but not on day 57; none charged back, no compromised terminal is seen.
    const late = Float64Array.from({ length: ds.n }, (_, i) =>
      ds.fraud[i] ? ds.epochSeconds[i]! + 8 * DAY : Infinity,
    );
    const seen = (arrivals: Float64Array) => {
      const v = visibleTestFrauds(ds, split, HANDBOOK_FEATURE_SET, arrivals)!;
      return Object.fromEntries(Array.from(split.test, (row, k) => [ds.customer[row]!, v[k]]));
    };
    expect(seen(late)).toEqual({ 7: 0, 1: 1, 2: 0, 3: 0, 4: 1, 5: 1, 6: 0 });
    expect(seen(new Float64Array(ds.n).fill(Infinity))).toEqual({ 7: 0, 1: 0, 2: 0, 3: 0, 4: 1, 5: 1, 6: 0 });
  });

  it('ranks the cards with a visible fraud first, the rest at random (expected chance hits), and removes caught cards', () => {
    const ds = dataset([
      [0, 1, 100, 9, 1, 2],
      // test day 0 (dataset day 10): cards 1, 2 visible (scenario 3), card 3 invisible terminal fraud
      [10, 1, 1, 5, 1, 3],
      [10, 2, 2, 5, 1, 3],
      [10, 3, 3, 6, 1, 2],
      [10, 4, 4, 6, 0, 0],
      // test day 1: card 1 again (caught yesterday: removed), card 5 visible (terminal 9 compromised on day 0)
      [11, 1, 1, 5, 1, 3],
      [11, 2, 5, 9, 1, 2],
    ]);
    const split = testSplit(ds, 1, 10);
    const visible = visibleTestFrauds(ds, split, HANDBOOK_FEATURE_SET)!;
    const r = reachableCardPrecision(ds, split, visible, 3);
    expect(r.perDay.map((d) => d.detected)).toEqual([[1, 2], [5]]);
    // day 0: 2 visible cards, then 1 slot left for cards 3 and 4 at random (card 3 a fraud: ½ a hit)
    expect(r.perDay.map((d) => [d.visibleCards, d.invisibleCards])).toEqual([
      [2, 1],
      [1, 0],
    ]);
    expect(r.perDay[0]!.precision).toBeCloseTo(2.5 / 3, 12);
    expect(r.perDay[1]!.precision).toBeCloseTo(1 / 3, 12);
    expect(r.mean).toBeCloseTo(7 / 12, 12);
  });

  it('gives no bound on data with frauds of other scenarios (the breach scenario) or without delayed terminal windows', () => {
    const ds = dataset([
      [0, 1, 1, 1, 1, 4],
      [10, 1, 2, 2, 1, 3],
    ]);
    const split = testSplit(ds, 1, 10);
    expect(visibleTestFrauds(ds, split, HANDBOOK_FEATURE_SET)).toBeUndefined();
    expect(
      visibleTestFrauds(dataset([[10, 1, 2, 2, 1, 3]]), testSplit(dataset([[10, 1, 2, 2, 1, 3]]), 0, 10), {
        name: 'x',
        version: 1,
        features: [],
      }),
    ).toBeUndefined();
  });
});
