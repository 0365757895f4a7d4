import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PUBLISHED_LABELS } from '../../models/features/labels.ts';
import {
  BAND_SHIFTS,
  CONFIGURATIONS,
  bandVariants,
  configurationResult,
  detectionDelays,
  fraudSpendStopped,
  frictionSpent,
  genuineDecisions,
  genuineStoppedPer1000,
  quantile,
  runBreachProtocol,
  sweepRow,
  type BreachRows,
  type BreachRunResult,
  type FrictionSpent,
} from '../../models/evaluation/breach-protocol.ts';
import { evaluateBreachCommand, renderBreachReport, resultTable } from '../../models/cli/evaluate-breach.ts';
import type { BreachOptions } from '../../models/simulator/breach.ts';
import { simulateSmallBreach, SMALL_BREACH } from '../support/small-breach.ts';
import { readDataset } from '../../models/simulator/csv.ts';
import { DEFAULT_TRAIN_PARAMS } from '../../models/training/train.ts';

// Toy test rows (times in hours): card, hour, amount, fraud, scenario, breach use, stopped, card listed, and a
// decision for the per-decision figures (an index into DECISIONS: 0 approve, 1 challenge, 2 review, 3 decline).
const H = 3600;
const toy = [
  [1, 0, 10, 0, 0, 0, 1, 0, 1], // genuine, stopped; card 1 is never used fraudulently
  [2, 1, 1, 1, 4, 1, 0, 0, 0], // card 2: first fraudulent use at 1 h
  [2, 2, 2, 1, 4, 1, 1, 0, 3], // card 2 detected at 2 h: 1 h
  [3, 2, 5, 1, 4, 1, 0, 1, 0], // card 3: first use at 2 h; on a leak list from here on
  [1, 3, 20, 0, 0, 0, 0, 0, 2],
  [3, 5, 30, 0, 0, 0, 1, 1, 3], // card 3's holder stopped at 5 h: detected, 3 h (any transaction of the card counts)
  [4, 6, 300, 1, 5, 1, 1, 0, 1], // card 4: cash-out stopped at its first use: 0 h
  [5, 7, 50, 1, 2, 0, 1, 0, 1], // handbook frauds: not leaked-card uses
  [5, 8, 25, 1, 3, 0, 0, 0, 0],
  [6, 8, 12, 0, 0, 0, 1, 1, 2], // card 6 stopped before its first fraudulent use: does not count
  [6, 9, 200, 1, 5, 1, 0, 1, 0], // card 6: never detected
  [7, 10, 1.5, 1, 4, 1, 1, 0, 3], // card 7: used before the period (usedBefore) in the tests that say so
  [1, 11, 5, 0, 0, 0, 0, 0, 0],
] as const;
const rows: BreachRows = {
  n: toy.length,
  card: toy.map((r) => r[0]),
  at: toy.map((r) => r[1] * H),
  amount: toy.map((r) => r[2]),
  fraud: toy.map((r) => r[3]),
  scenario: toy.map((r) => r[4]),
  breach: toy.map((r) => r[5]),
  listed: toy.map((r) => r[7]),
};
const stopped = toy.map((r) => r[6]);
const decided = Uint8Array.from(toy.map((r) => r[8]));
const budget = { challenge: 0.2, review: 0.2 };

describe('breach protocol metrics', () => {
  it('share of fraudulent spend stopped, overall and per kind', () => {
    const s = fraudSpendStopped(rows, stopped);
    expect(s.breachTesting).toEqual({
      transactions: 4,
      spend: 9.5,
      stoppedTransactions: 2,
      stoppedSpend: 3.5,
      share: 3.5 / 9.5,
    });
    expect(s.breachCashout).toEqual({
      transactions: 2,
      spend: 500,
      stoppedTransactions: 1,
      stoppedSpend: 300,
      share: 0.6,
    });
    expect(s.handbook).toEqual({
      transactions: 2,
      spend: 75,
      stoppedTransactions: 1,
      stoppedSpend: 50,
      share: 50 / 75,
    });
    expect(s.all).toEqual({
      transactions: 8,
      spend: 584.5,
      stoppedTransactions: 4,
      stoppedSpend: 353.5,
      share: 353.5 / 584.5,
    });
  });

  it('a kind of fraud absent from the rows has no share (NaN), not 0', () => {
    const noBreach = { ...rows, n: 1 };
    expect(fraudSpendStopped(noBreach, stopped).breachCashout.share).toBeNaN();
    expect(fraudSpendStopped(noBreach, stopped).all.spend).toBe(0);
  });

  it('genuine transactions stopped per 1,000 genuine', () => {
    expect(genuineStoppedPer1000(rows, stopped)).toEqual({ genuine: 5, stopped: 3, per1000: 600 });
    expect(genuineStoppedPer1000({ ...rows, n: 0 }, stopped).per1000).toBeNaN();
  });

  it('quantiles interpolate between order statistics', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([0, 1, 3], 0.9)).toBeCloseTo(2.6, 12);
    expect(quantile([7], 0.9)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
  });

  it('detection delay from first fraudulent use to first stopped transaction, per leaked card', () => {
    const d = detectionDelays(rows, stopped, new Set([7]));
    expect(d).toEqual({
      cards: 4,
      detected: 3,
      neverDetectedShare: 0.25,
      hours: [0, 1, 3],
      medianHours: 1,
      p90Hours: expect.closeTo(2.6, 12),
    });
    // without usedBefore, card 7 counts too: first use and detection at 10 h
    const all = detectionDelays(rows, stopped);
    expect([all.cards, all.detected, all.neverDetectedShare, all.hours, all.medianHours]).toEqual([
      5,
      4,
      0.2,
      [0, 0, 1, 3],
      0.5,
    ]);
    // nothing stopped: every card undetected, no delay figures
    const none = detectionDelays(rows, new Array(rows.n).fill(0));
    expect([none.cards, none.detected, none.neverDetectedShare, none.medianHours]).toEqual([5, 0, 1, NaN]);
  });

  it('a configuration stops what it challenges or declines, and detects what it flags in any way', () => {
    // decision codes index DECISIONS: approve, challenge, review, decline
    const decisions = Uint8Array.from(toy.map((r, i) => (r[6] ? 1 + (i % 3) : 0)));
    const c = configurationResult(CONFIGURATIONS[0], rows, decisions, new Set([7]), budget);
    const asStopped = (keep: (d: number) => boolean) => Array.from(decisions, (d) => (keep(d) ? 1 : 0));
    expect(c.fraudSpend.all.stoppedSpend).toBe(
      fraudSpendStopped(
        rows,
        asStopped((d) => d === 1 || d === 3),
      ).all.stoppedSpend,
    );
    expect(c.fraudSpend.all.stoppedSpend).toBeLessThan(353.5); // reviews no longer count as stopped
    expect(c.genuine).toEqual(
      genuineStoppedPer1000(
        rows,
        asStopped((d) => d === 1 || d === 3),
      ),
    );
    expect(c.genuineReviewed).toEqual(
      genuineStoppedPer1000(
        rows,
        asStopped((d) => d === 2),
      ),
    );
    expect(c.genuine.stopped + c.genuineReviewed.stopped).toBe(3);
    // a review detects: the delays are those of "anything but approve"
    expect(c.delays.hours).toEqual([0, 1, 3]);
    expect(Object.values(c.decisions).reduce((s, v) => s + v, 0)).toBe(toy.length);
    expect(c.decisions.approve).toBe(toy.filter((r) => !r[6]).length);
    expect(c.genuineDecisions).toEqual(genuineDecisions(rows, decisions));
    expect(c.friction).toEqual(frictionSpent(decisions, budget));
  });

  it('genuine orders challenged, reviewed and declined per 1,000, for listed cards and the others', () => {
    const g = genuineDecisions(rows, decided);
    // genuine rows 0, 4, 5, 9, 12: listed 5 (decline) and 9 (review); the others 0 (challenge), 4 (review), 12 (approve)
    expect(g.listed).toEqual({
      genuine: 2,
      challenged: 0,
      reviewed: 1,
      declined: 1,
      challengedPer1000: 0,
      reviewedPer1000: 500,
      declinedPer1000: 500,
    });
    expect(g.unlisted).toEqual({
      genuine: 3,
      challenged: 1,
      reviewed: 1,
      declined: 0,
      challengedPer1000: 1000 / 3,
      reviewedPer1000: 1000 / 3,
      declinedPer1000: 0,
    });
    expect(g.all).toEqual({
      genuine: 5,
      challenged: 1,
      reviewed: 2,
      declined: 1,
      challengedPer1000: 200,
      reviewedPer1000: 400,
      declinedPer1000: 200,
    });
    // fraud rows never count, listed or not; a group without genuine orders has no rate
    const none = genuineDecisions({ ...rows, listed: new Array(rows.n).fill(0) }, decided);
    expect(none.listed.genuine).toBe(0);
    expect(none.listed.declinedPer1000).toBeNaN();
    expect(none.unlisted).toEqual({ ...g.all });
  });

  it('friction spent: shares of all orders challenged and reviewed, against the budget', () => {
    // 13 orders: 3 challenged (rows 0, 6, 7), 2 reviewed (4, 9), 3 declined (2, 5, 11)
    const f = frictionSpent(decided, budget);
    expect(f).toEqual({
      orders: 13,
      challenged: 3,
      reviewed: 2,
      declined: 3,
      challengeShare: 3 / 13,
      reviewShare: 2 / 13,
      declineShare: 3 / 13,
      budget,
      over: ['challenge'],
    });
    // a share equal to its budget is within it
    expect(frictionSpent(decided, { challenge: 3 / 13, review: 0 }).over).toEqual(['review']);
    expect(frictionSpent(decided, { challenge: 1, review: 1 }).over).toEqual([]);
    const empty = frictionSpent(new Uint8Array(0), budget);
    expect([empty.orders, empty.challengeShare, empty.over]).toEqual([0, NaN, []]);
  });

  it('band variants: the bands as they are, then each band moved by each shift, impossible moves skipped', () => {
    const { variants, skipped } = bandVariants({ challenge: 30, review: 55, decline: 80 });
    expect(variants).toHaveLength(1 + 3 * BAND_SHIFTS.length);
    expect(skipped).toEqual([]);
    expect(variants[0]).toEqual({ shift: 0, bands: { challenge: 30, review: 55, decline: 80 } });
    expect(variants.slice(1).map((v) => [v.band, v.shift, v.bands.challenge, v.bands.review, v.bands.decline])).toEqual(
      [
        ['challenge', -10, 20, 55, 80],
        ['challenge', -5, 25, 55, 80],
        ['challenge', 5, 35, 55, 80],
        ['challenge', 10, 40, 55, 80],
        ['review', -10, 30, 45, 80],
        ['review', -5, 30, 50, 80],
        ['review', 5, 30, 60, 80],
        ['review', 10, 30, 65, 80],
        ['decline', -10, 30, 55, 70],
        ['decline', -5, 30, 55, 75],
        ['decline', 5, 30, 55, 85],
        ['decline', 10, 30, 55, 90],
      ],
    );
    const tight = bandVariants({ challenge: 5, review: 10, decline: 95 });
    expect(tight.skipped.map((s) => [s.band, s.shift, s.reason])).toEqual([
      ['challenge', -10, 'challenge -5 is outside 0..100'],
      ['challenge', 10, 'breaks challenge ≤ review ≤ decline'],
      ['review', -10, 'breaks challenge ≤ review ≤ decline'],
      ['decline', 10, 'decline 105 is outside 0..100'],
    ]);
    expect(tight.variants.find((v) => v.band === 'review' && v.shift === -5)!.bands).toEqual({
      challenge: 5,
      review: 5,
      decline: 95,
    });
  });

  it('a sweep row: friction, cash-out and all fraud stopped, genuine decisions, from its decisions', () => {
    const variant = { band: 'review' as const, shift: 5, bands: { challenge: 30, review: 60, decline: 80 } };
    const s = sweepRow(variant, rows, decided, budget);
    expect([s.band, s.shift, s.bands]).toEqual([variant.band, variant.shift, variant.bands]);
    expect(s.friction).toEqual(frictionSpent(decided, budget));
    expect(s.genuineDecisions).toEqual(genuineDecisions(rows, decided));
    // stopped = challenged (rows 0, 6, 7) or declined (2, 5, 11): cash-out 300 of 500, all fraud 2 + 300 + 50 + 1.5 of 584.5
    expect(s.fraudSpend.breachCashout).toEqual({
      transactions: 2,
      spend: 500,
      stoppedTransactions: 1,
      stoppedSpend: 300,
      share: 0.6,
    });
    expect(s.fraudSpend.all).toEqual({
      transactions: 8,
      spend: 584.5,
      stoppedTransactions: 4,
      stoppedSpend: 353.5,
      share: 353.5 / 584.5,
    });
  });
});

describe('breach protocol end to end', () => {
  // Two breaches (2018-04-21, 2018-05-05), fraud 2–8 days after each, issuers upload within days:
  // the first breach's fraud falls in the train period, the second's in the test. The same
  // scenario in the default currencies (yen-heavy) and in euros only.
  const breach = SMALL_BREACH;
  const generate = (o: BreachOptions) => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-breach-protocol-'));
    simulateSmallBreach(dir, { breach: o });
    return { dir, ds: readDataset(dir, { keepExtra: true }) };
  };
  const multi = generate(breach);
  const euro = generate({ ...breach, currencies: [{ currency: 'EUR', share: 1 }] });
  const { dir, ds } = multi;
  const split = { trainStart: '2018-04-22', trainDays: 10, delayDays: 3 };
  const params = { ...DEFAULT_TRAIN_PARAMS, trees: 5, genuinePerTree: 800, workers: 0 };

  const checkResult = (r: BreachRunResult) => {
    expect(r.configurations.map((c) => c.id)).toEqual([
      'rules',
      'rules+watchlists',
      'rules+model',
      'rules+watchlists+model',
    ]);
    expect(r.period).toEqual({
      trainFrom: '2018-04-22',
      trainTo: '2018-05-01',
      testFrom: '2018-05-05',
      testTo: '2018-05-30',
    });
    expect(r.model.trained).toBe(true);
    expect(r.train!.frauds).toBeGreaterThan(0);
    expect(r.test.breachFrauds).toBeGreaterThan(0);
    expect(r.test.leakedCardsFirstUsed).toBeGreaterThan(0);
    expect(r.replay.listedCards).toBeGreaterThan(0);
    // rules + watchlists through judge is exactly what the engine answered in the replay
    expect(r.engineMismatches).toBe(0);
    // the listed/unlisted split is the same for every configuration, and some genuine orders are of listed cards
    expect(r.test.genuineListed).toBeGreaterThan(0);
    expect(r.test.genuineListed).toBeLessThan(r.configurations[0]!.genuineDecisions.all.genuine);
    for (const c of r.configurations) {
      expect(c.genuine.per1000).toBeGreaterThanOrEqual(0);
      expect(c.genuine.per1000).toBeLessThanOrEqual(1000);
      for (const s of Object.values(c.fraudSpend)) {
        expect(s.stoppedSpend).toBeLessThanOrEqual(s.spend);
        if (s.transactions) expect(s.share).toBeGreaterThanOrEqual(0);
      }
      // every configuration judges the same rows
      expect(c.fraudSpend.all.spend).toBe(r.configurations[0]!.fraudSpend.all.spend);
      expect(c.delays.cards).toBe(r.test.leakedCardsFirstUsed);
      expect(c.delays.detected).toBeLessThanOrEqual(c.delays.cards);
      expect(c.delays.hours.every((h) => h >= 0)).toBe(true);
      expect(c.delays.hours).toEqual([...c.delays.hours].sort((a, b) => a - b));
      expect(c.delays.neverDetectedShare).toBeCloseTo(1 - c.delays.detected / c.delays.cards, 12);
      // per-decision genuine figures agree with the older aggregates and with the decision counts
      const g = c.genuineDecisions;
      expect(g.listed.genuine).toBe(r.test.genuineListed);
      expect(g.listed.genuine + g.unlisted.genuine).toBe(g.all.genuine);
      expect(g.all.genuine).toBe(c.genuine.genuine);
      expect(g.all.challenged + g.all.declined).toBe(c.genuine.stopped);
      expect(g.all.reviewed).toBe(c.genuineReviewed.stopped);
      for (const k of ['challenged', 'reviewed', 'declined'] as const)
        expect(g.listed[k] + g.unlisted[k]).toBe(g.all[k]);
      expect(c.friction.orders).toBe(r.test.transactions);
      expect([c.friction.challenged, c.friction.reviewed, c.friction.declined]).toEqual([
        c.decisions.challenge,
        c.decisions.review,
        c.decisions.decline,
      ]);
      expect(c.friction.budget).toEqual({ challenge: 0.05, review: 0.005 }); // the default ruleset's
    }
    // The watchlist rules only add to a leaked card's score (its CVV leaked): watchlists stop at
    // least as much of the leaked cards' fraudulent spend as the rules alone.
    const [rules, withLists] = r.configurations;
    const breachStopped = (c: typeof rules) =>
      c!.fraudSpend.breachTesting.stoppedSpend + c!.fraudSpend.breachCashout.stoppedSpend;
    expect(breachStopped(withLists)).toBeGreaterThanOrEqual(breachStopped(rules));
    expect(withLists!.delays.detected).toBeGreaterThanOrEqual(rules!.delays.detected);

    // The sweep: the full configuration as it is, then each band moved; the first row is that configuration.
    const full = r.configurations.find((c) => c.id === 'rules+watchlists+model')!;
    expect(r.sweep.configuration).toBe('rules+watchlists+model');
    expect(r.sweep.rows).toHaveLength(13);
    expect(r.sweep.skipped).toEqual([]);
    const [asIs, ...moved] = r.sweep.rows;
    expect(asIs!.band).toBeUndefined();
    expect(asIs!.friction).toEqual(full.friction);
    expect(asIs!.genuineDecisions).toEqual(full.genuineDecisions);
    expect(asIs!.fraudSpend.breachCashout).toEqual(full.fraudSpend.breachCashout);
    const flagged = (f: FrictionSpent) => f.challenged + f.reviewed + f.declined;
    for (const s of moved) {
      expect(s.friction.orders).toBe(r.test.transactions);
      expect(s.fraudSpend.all.spend).toBe(full.fraudSpend.all.spend);
      // a lower challenge band flags at least as many orders, a higher one at most as many; the same for declines
      if (s.band === 'challenge')
        expect(Math.sign(flagged(s.friction) - flagged(asIs!.friction)) * Math.sign(s.shift)).toBeLessThanOrEqual(0);
      if (s.band === 'decline')
        expect(Math.sign(s.friction.declined - asIs!.friction.declined) * Math.sign(s.shift)).toBeLessThanOrEqual(0);
    }
    // some move changes something on this data
    expect(
      moved.some(
        (s) => flagged(s.friction) !== flagged(asIs!.friction) || s.friction.declined !== asIs!.friction.declined,
      ),
    ).toBe(true);

    const table = resultTable(r);
    // the tables say the labels the replay fed the engine (here the published protocol's)
    expect(r.labels).toEqual(PUBLISHED_LABELS);
    expect(table.split('\n')[0]).toMatch(/^labels: every completed fraud charged back 7 days after the transaction/);
    for (const c of CONFIGURATIONS) expect(table).toContain(c.label);
    for (const head of [
      'CASH-OUT stopped',
      'listed: challenged',
      'other: declined',
      'challenged (budget 5.00 %)',
      'reviewed (budget 0.50 %)',
      'within budget',
      'challenge −10',
      'decline +10',
    ]) {
      expect(table).toContain(head);
    }
    const html = renderBreachReport(r, dir);
    expect(html).toContain('<svg');
    expect(html).toContain('What a threshold change would do');
    expect(html).not.toMatch(/(src|href)="http/);
    expect(html).not.toMatch(/NaN|undefined/);
  };

  it('evaluates the four configurations with sane figures on a multi-currency dataset', async () => {
    const trees: number[] = [];
    const r = await runBreachProtocol(ds, { dataDir: dir, split, params, onTree: (d) => trees.push(d) });
    expect(trees.at(-1)).toBe(5);
    checkResult(r);
    // the test rows are in several currencies, yen first
    const currencies = Object.entries(r.test.currencies!).sort((a, b) => b[1] - a[1]);
    expect(currencies.map(([c]) => c).sort()).toEqual(['EUR', 'JPY', 'KWD', 'USD']);
    expect(currencies[0]![0]).toBe('JPY');
    expect(currencies.reduce((s, [, n]) => s + n, 0)).toBe(r.test.transactions);
  }, 240_000);

  it('works the same on an EUR-only dataset', async () => {
    const r = await runBreachProtocol(euro.ds, { dataDir: euro.dir, split, params });
    checkResult(r);
    expect(r.test.currencies).toEqual({ EUR: r.test.transactions });
  }, 240_000);

  it('refuses bad input with exit code 2', async () => {
    expect(await evaluateBreachCommand(['--protocol', 'breach', '--data', dir, '--test-days', 'x'])).toBe(2);
    expect(await evaluateBreachCommand(['--protocol', 'breach', '--data', dir, '--from', '2018-13-01'])).toBe(2);
    expect(await evaluateBreachCommand(['--protocol', 'breach', '--data', dir, '--trees', 'many'])).toBe(2);
    // The training flags' ranges, as model train has them (models/cli/train-flags.ts).
    for (const [flag, value] of [
      ['--bins', '1'],
      ['--genuine-per-tree', '0'],
      ['--workers', '-1'],
      ['--trees', '2.5'],
    ])
      expect(await evaluateBreachCommand(['--protocol', 'breach', '--data', dir, flag!, value!]), flag).toBe(2);
    expect(
      await evaluateBreachCommand(['--protocol', 'breach', '--data', dir, '--model', join(dir, 'missing.json')]),
    ).toBe(2);
    // a test period without any leaked-card fraud (after the second breach's fraud)
    expect(
      await evaluateBreachCommand([
        '--protocol',
        'breach',
        '--data',
        dir,
        '--from',
        '2018-05-20',
        '--to',
        '2018-05-21',
        '--quiet',
      ]),
    ).toBe(2);
  });
});
