import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONFIGURATIONS, configurationResult, detectionDelays, fraudSpendStopped, genuineStoppedPer1000, quantile, runBreachProtocol, type BreachRows,
} from '../../models/evaluation/breach-protocol.ts';
import { evaluateBreachCommand, renderBreachReport, resultTable } from '../../models/cli/evaluate-breach.ts';
import { HANDBOOK_DEFAULTS, type HandbookOptions } from '../../models/simulator/handbook.ts';
import { BREACH_DEFAULTS, type BreachOptions } from '../../models/simulator/breach.ts';
import { readDataset } from '../../models/simulator/csv.ts';
import { simulate } from '../../models/simulator/run.ts';
import { DEFAULT_TRAIN_PARAMS } from '../../models/training/train.ts';

// Toy test rows (times in hours): card, hour, amount, fraud, scenario, breach use, stopped.
const H = 3600;
const toy = [
  [1, 0, 10, 0, 0, 0, 1], // genuine, stopped; card 1 is never used fraudulently
  [2, 1, 1, 1, 4, 1, 0], // card 2: first fraudulent use at 1 h
  [2, 2, 2, 1, 4, 1, 1], // card 2 detected at 2 h: 1 h
  [3, 2, 5, 1, 4, 1, 0], // card 3: first use at 2 h
  [1, 3, 20, 0, 0, 0, 0],
  [3, 5, 30, 0, 0, 0, 1], // card 3's holder stopped at 5 h: detected, 3 h (any transaction of the card counts)
  [4, 6, 300, 1, 5, 1, 1], // card 4: cash-out stopped at its first use: 0 h
  [5, 7, 50, 1, 2, 0, 1], // handbook frauds: not leaked-card uses
  [5, 8, 25, 1, 3, 0, 0],
  [6, 8, 12, 0, 0, 0, 1], // card 6 stopped before its first fraudulent use: does not count
  [6, 9, 200, 1, 5, 1, 0], // card 6: never detected
  [7, 10, 1.5, 1, 4, 1, 1], // card 7: used before the period (usedBefore) in the tests that say so
  [1, 11, 5, 0, 0, 0, 0],
] as const;
const rows: BreachRows = {
  n: toy.length, card: toy.map((r) => r[0]), at: toy.map((r) => r[1] * H), amount: toy.map((r) => r[2]), fraud: toy.map((r) => r[3]),
  scenario: toy.map((r) => r[4]), breach: toy.map((r) => r[5]),
};
const stopped = toy.map((r) => r[6]);

describe('breach protocol metrics', () => {
  it('share of fraudulent spend stopped, overall and per kind', () => {
    const s = fraudSpendStopped(rows, stopped);
    expect(s.breachTesting).toEqual({ transactions: 4, spend: 9.5, stoppedTransactions: 2, stoppedSpend: 3.5, share: 3.5 / 9.5 });
    expect(s.breachCashout).toEqual({ transactions: 2, spend: 500, stoppedTransactions: 1, stoppedSpend: 300, share: 0.6 });
    expect(s.handbook).toEqual({ transactions: 2, spend: 75, stoppedTransactions: 1, stoppedSpend: 50, share: 50 / 75 });
    expect(s.all).toEqual({ transactions: 8, spend: 584.5, stoppedTransactions: 4, stoppedSpend: 353.5, share: 353.5 / 584.5 });
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
    expect(d).toEqual({ cards: 4, detected: 3, neverDetectedShare: 0.25, hours: [0, 1, 3], medianHours: 1, p90Hours: expect.closeTo(2.6, 12) });
    // without usedBefore, card 7 counts too: first use and detection at 10 h
    const all = detectionDelays(rows, stopped);
    expect([all.cards, all.detected, all.neverDetectedShare, all.hours, all.medianHours]).toEqual([5, 4, 0.2, [0, 0, 1, 3], 0.5]);
    // nothing stopped: every card undetected, no delay figures
    const none = detectionDelays(rows, new Array(rows.n).fill(0));
    expect([none.cards, none.detected, none.neverDetectedShare, none.medianHours]).toEqual([5, 0, 1, NaN]);
  });

  it('a configuration stops what it challenges or declines, and detects what it flags in any way', () => {
    // decision codes index DECISIONS: approve, challenge, review, decline
    const decisions = Uint8Array.from(toy.map((r, i) => (r[6] ? 1 + (i % 3) : 0)));
    const c = configurationResult(CONFIGURATIONS[0], rows, decisions, new Set([7]));
    const asStopped = (keep: (d: number) => boolean) => Array.from(decisions, (d) => (keep(d) ? 1 : 0));
    expect(c.fraudSpend.all.stoppedSpend).toBe(fraudSpendStopped(rows, asStopped((d) => d === 1 || d === 3)).all.stoppedSpend);
    expect(c.fraudSpend.all.stoppedSpend).toBeLessThan(353.5); // reviews no longer count as stopped
    expect(c.genuine).toEqual(genuineStoppedPer1000(rows, asStopped((d) => d === 1 || d === 3)));
    expect(c.genuineReviewed).toEqual(genuineStoppedPer1000(rows, asStopped((d) => d === 2)));
    expect(c.genuine.stopped + c.genuineReviewed.stopped).toBe(3);
    // a review detects: the delays are those of "anything but approve"
    expect(c.delays.hours).toEqual([0, 1, 3]);
    expect(Object.values(c.decisions).reduce((s, v) => s + v, 0)).toBe(toy.length);
    expect(c.decisions.approve).toBe(toy.filter((r) => !r[6]).length);
  });
});

describe('breach protocol end to end', () => {
  // Two breaches (2018-04-21, 2018-05-05), fraud 2–8 days after each, issuers upload within days:
  // the first breach's fraud falls in the train period, the second's in the test.
  const hb: HandbookOptions = { ...HANDBOOK_DEFAULTS, customers: 300, terminals: 600, days: 60, seed: 5, terminalsPerDay: 1, customersPerDay: 1 };
  const breach: BreachOptions = {
    ...BREACH_DEFAULTS, breachDay: 20, breachInterval: 14, exposureDays: 20, delayMinDays: 2, delayMaxDays: 8, useShare: 0.5,
    issuerLagMinDays: 1, issuerLagMaxDays: 4, issuerCoverage: 0.8,
  };
  const dir = mkdtempSync(join(tmpdir(), 'lg-breach-protocol-'));
  simulate(hb, dir, breach);
  const ds = readDataset(dir, { keepExtra: true });
  const split = { trainStart: '2018-04-22', trainDays: 10, delayDays: 3 };
  const params = { ...DEFAULT_TRAIN_PARAMS, trees: 5, genuinePerTree: 800, workers: 0 };

  it('evaluates the four configurations with sane figures', async () => {
    const trees: number[] = [];
    const r = await runBreachProtocol(ds, { dataDir: dir, split, params, onTree: (d) => trees.push(d) });
    expect(r.configurations.map((c) => c.id)).toEqual(['rules', 'rules+watchlists', 'rules+model', 'rules+watchlists+model']);
    expect(r.period).toEqual({ trainFrom: '2018-04-22', trainTo: '2018-05-01', testFrom: '2018-05-05', testTo: '2018-05-30' });
    expect(trees.at(-1)).toBe(5);
    expect(r.model.trained).toBe(true);
    expect(r.train!.frauds).toBeGreaterThan(0);
    expect(r.test.breachFrauds).toBeGreaterThan(0);
    expect(r.test.leakedCardsFirstUsed).toBeGreaterThan(0);
    expect(r.replay.listedCards).toBeGreaterThan(0);
    // rules + watchlists through judge is exactly what the engine answered in the replay
    expect(r.engineMismatches).toBe(0);
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
    }
    // The watchlist rules only add to a leaked card's score (its CVV leaked): watchlists stop at
    // least as much of the leaked cards' fraudulent spend as the rules alone.
    const [rules, withLists] = r.configurations;
    const breachStopped = (c: typeof rules) => c!.fraudSpend.breachTesting.stoppedSpend + c!.fraudSpend.breachCashout.stoppedSpend;
    expect(breachStopped(withLists)).toBeGreaterThanOrEqual(breachStopped(rules));
    expect(withLists!.delays.detected).toBeGreaterThanOrEqual(rules!.delays.detected);

    const table = resultTable(r);
    for (const c of CONFIGURATIONS) expect(table).toContain(c.label);
    const html = renderBreachReport(r, dir);
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/(src|href)="http/);
  }, 240_000);

  it('refuses bad input with exit code 2', async () => {
    expect(await evaluateBreachCommand(['--protocol', 'breach', '--data', dir, '--test-days', 'x'])).toBe(2);
    expect(await evaluateBreachCommand(['--protocol', 'breach', '--data', dir, '--from', '2018-13-01'])).toBe(2);
    expect(await evaluateBreachCommand(['--protocol', 'breach', '--data', dir, '--trees', 'many'])).toBe(2);
    expect(await evaluateBreachCommand(['--protocol', 'breach', '--data', dir, '--model', join(dir, 'missing.json')])).toBe(2);
    // a test period without any leaked-card fraud (after the second breach's fraud)
    expect(await evaluateBreachCommand(['--protocol', 'breach', '--data', dir, '--from', '2018-05-20', '--to', '2018-05-21', '--quiet'])).toBe(2);
  });
});
