import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  HANDBOOK_DEFAULTS,
  generateHandbook,
  generatePopulation,
  type HandbookOptions,
  type ScenarioTrace,
} from '../../models/simulator/handbook.ts';
import { dayCsv, readDataset } from '../../models/simulator/csv.ts';
import { Random } from '../../models/simulator/random.ts';
import { simulate } from '../../models/simulator/run.ts';

const small: HandbookOptions = { ...HANDBOOK_DEFAULTS, customers: 400, terminals: 800, days: 60, seed: 7 };

describe('random', () => {
  it('is reproducible per seed and stream, and streams differ', () => {
    const a = new Random(1, 'x'),
      b = new Random(1, 'x'),
      c = new Random(1, 'y'),
      d = new Random(2, 'x');
    const sa = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.nextU32())).not.toEqual(sa);
    expect(Array.from({ length: 5 }, () => d.nextU32())).not.toEqual(sa);
  });
  it('samples uniform, normal and Poisson with the right moments', () => {
    const r = new Random(3);
    const n = 200_000;
    let su = 0,
      sn = 0,
      sn2 = 0,
      sp = 0,
      sp2 = 0;
    for (let i = 0; i < n; i++) {
      su += r.next();
      const z = r.normal(10, 2);
      sn += z;
      sn2 += z * z;
      const p = r.poisson(2.5);
      sp += p;
      sp2 += p * p;
    }
    expect(su / n).toBeCloseTo(0.5, 2);
    expect(sn / n).toBeCloseTo(10, 1);
    expect(Math.sqrt(sn2 / n - (sn / n) ** 2)).toBeCloseTo(2, 1);
    expect(sp / n).toBeCloseTo(2.5, 1);
    expect(sp2 / n - (sp / n) ** 2).toBeCloseTo(2.5, 1);
  });
  it('draws distinct samples', () => {
    const s = new Random(5).sample(10, 10);
    expect([...s].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('handbook generator', () => {
  const pop = generatePopulation(small);
  const trace: ScenarioTrace = { terminals: [], customers: [] };
  const days = [...generateHandbook(small, pop, undefined, trace)];
  const rows = days.flatMap((b) =>
    Array.from({ length: b.n }, (_, i) => ({
      id: b.firstId + i,
      day: b.day,
      c: b.customer[i]!,
      t: b.terminal[i]!,
      s: b.second[i]!,
      a: b.amountCents[i]!,
      f: b.fraud[i]!,
      sc: b.scenario[i]!,
    })),
  );

  it('draws profiles in the stated ranges', () => {
    const c = pop.customers;
    for (let i = 0; i < c.n; i++) {
      expect(c.meanAmount[i]).toBeGreaterThanOrEqual(5);
      expect(c.meanAmount[i]).toBeLessThan(100);
      expect(c.stdAmount[i]).toBe(c.meanAmount[i]! / 2);
      expect(c.meanTxPerDay[i]).toBeLessThan(4);
    }
  });

  it('emits every day in time order with consecutive ids, times inside the day, terminals in reach', () => {
    expect(days.map((b) => b.day)).toEqual(Array.from({ length: small.days }, (_, i) => i));
    let badId = 0,
      backwards = 0,
      outsideDay = 0,
      outOfReach = 0;
    rows.forEach((r, i) => {
      if (r.id !== i) badId++;
      const p = rows[i - 1];
      if (p && r.day * 86400 + r.s < p.day * 86400 + p.s) backwards++;
      if (!(r.s > 0 && r.s < 86400)) outsideDay++;
      const dx = pop.customers.x[r.c]! - pop.terminals.x[r.t]!,
        dy = pop.customers.y[r.c]! - pop.terminals.y[r.t]!;
      if (!(Math.hypot(dx, dy) < small.radius)) outOfReach++;
    });
    expect({ badId, backwards, outsideDay, outOfReach }).toEqual({
      badId: 0,
      backwards: 0,
      outsideDay: 0,
      outOfReach: 0,
    });
  });

  it('makes about the expected number of transactions (Poisson means × share of kept times)', () => {
    let expected = 0;
    for (let c = 0; c < pop.customers.n; c++)
      if (pop.customers.offsets[c + 1]! > pop.customers.offsets[c]!) expected += pop.customers.meanTxPerDay[c]!;
    // P(0 < N(43200, 20000) < 86400) = 0.9692
    expected *= 0.9692 * small.days;
    expect(Math.abs(rows.length - expected) / expected).toBeLessThan(0.03);
  });

  it('applies the three fraud scenarios as stated', () => {
    const sc = (k: number) => rows.filter((r) => r.sc === k);
    // scenario 1: every amount above 220 is fraud (scenario 1 unless a later scenario overwrote it)
    expect(rows.filter((r) => r.a > 22000 && r.sc !== 3 && r.f !== 1)).toEqual([]);
    expect(sc(1).filter((r) => r.a <= 22000)).toEqual([]);
    // labels and codes agree
    expect(rows.filter((r) => (r.f === 1) !== r.sc > 0)).toEqual([]);
    // scenario 2: 2 terminals drawn a day; all their transactions in the next 28 days are fraud
    expect(trace.terminals.length).toBe(2 * small.days);
    const until = new Map<number, [number, number][]>();
    for (const [d, t] of trace.terminals) until.set(t, [...(until.get(t) ?? []), [d, d + small.terminalDays]]);
    const compromised = (t: number, day: number) => (until.get(t) ?? []).some(([a, b]) => day >= a && day < b);
    expect(rows.filter((r) => compromised(r.t, r.day) && r.f !== 1)).toEqual([]);
    expect(sc(2).filter((r) => !compromised(r.t, r.day))).toEqual([]);
    expect(sc(2).length).toBeGreaterThan(0);
    // scenario 3: 3 cards drawn a day; a third of their next 14 days' transactions
    expect(trace.customers.length).toBe(3 * small.days);
    const drawn = new Map<number, number[]>();
    for (const [d, c] of trace.customers) drawn.set(c, [...(drawn.get(c) ?? []), d]);
    expect(
      sc(3).filter((r) => !(drawn.get(r.c) ?? []).some((d) => r.day >= d && r.day < d + small.customerDays)),
    ).toEqual([]);
    const byCard = new Map<number, typeof rows>();
    for (const r of rows) if (drawn.has(r.c)) byCard.set(r.c, [...(byCard.get(r.c) ?? []), r]);
    let bound = 0;
    for (let d = 0; d < small.days; d++) {
      const cards = trace.customers.filter(([dd]) => dd === d).map(([, c]) => c);
      const n = cards.reduce(
        (s, c) => s + (byCard.get(c) ?? []).filter((r) => r.day >= d && r.day < d + small.customerDays).length,
        0,
      );
      bound += Math.floor(n / 3);
    }
    // draws may overlap (one transaction picked twice) so the count is at most the sum of thirds
    expect(sc(3).length).toBeLessThanOrEqual(bound);
    expect(sc(3).length).toBeGreaterThan(bound * 0.9);
    // scenario 3: amounts multiplied by 5 (whole multiples of 5 cents)
    expect(sc(3).length).toBeGreaterThan(0);
    expect(sc(3).filter((r) => r.a % 5 !== 0)).toEqual([]);
    // the genuine amount distribution is unchanged by fraud: scenario-3 amounts are mostly above their card's mean
    const above = sc(3).filter((r) => r.a / 100 > pop.customers.meanAmount[r.c]!).length;
    expect(above / sc(3).length).toBeGreaterThan(0.9);
  });

  it('scenario 3 frauds about a third of each compromised card window', () => {
    // per card with scenario-3 fraud: frauds over transactions in the 14 days from its first fraud
    const first = new Map<number, number>();
    for (const r of rows) if (r.sc === 3 && !first.has(r.c)) first.set(r.c, r.day);
    let inWindow = 0,
      fraud3 = 0;
    for (const r of rows) {
      const d0 = first.get(r.c);
      if (d0 === undefined || r.day < d0 || r.day >= d0 + small.customerDays || d0 + small.customerDays > small.days)
        continue;
      inWindow++;
      if (r.sc === 3) fraud3++;
    }
    // the window starts at the first fraud (not the draw), so the share is a little above one third
    expect(fraud3 / inWindow).toBeGreaterThan(0.28);
    expect(fraud3 / inWindow).toBeLessThan(0.5);
  });

  it('is reproducible: same seed same bytes, other seed other data', () => {
    const csv = (o: HandbookOptions) => [...generateHandbook(o)].map((b) => dayCsv(o.startDate, b)).join('');
    const o = { ...small, days: 20 };
    expect(csv(o)).toBe(csv(o));
    expect(csv({ ...o, seed: 8 })).not.toBe(csv(o));
  });

  it('writes, without the breach scenario, byte for byte what it wrote before the breach scenario had currencies', () => {
    // SHA-256 of the daily files concatenated in name order, generated by the code of commit 1604b5d
    // (npm run simulate -- --customers 300 --terminals 600 --days 40 --seed S). The default dataset
    // (183 days, seed 0) was compared the same way by hand: 3cdaf1d865fbbaa4ba07642ba25cebfcc1eff5abda249fc1f2a3bf2ca5225aca.
    const golden: Record<number, string> = {
      0: '708c7a9b7ba1f42875fbff37f35e861d6439440b7aa9a7725b38477b3204fbfc',
      3: '8bc2d2b0cd820573ee17213976d72fc28412f7e1eb477eb2a2b4962a13fd06a4',
    };
    for (const [seed, sha] of Object.entries(golden)) {
      const dir = mkdtempSync(join(tmpdir(), 'lg-sim-golden-'));
      simulate({ ...HANDBOOK_DEFAULTS, customers: 300, terminals: 600, days: 40, seed: Number(seed) }, dir, undefined);
      const files = readdirSync(dir).sort();
      expect(files).toHaveLength(40);
      const hash = createHash('sha256');
      for (const f of files) hash.update(readFileSync(join(dir, f)));
      expect(hash.digest('hex')).toBe(sha);
      const header = readFileSync(join(dir, files[0]!), 'utf8').split('\n')[0];
      expect(header).not.toMatch(/CURRENCY|AMOUNT_MINOR/);
    }
  });

  it('writes daily files that read back, with or without a pandas index column', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-sim-'));
    const o = { ...small, days: 5 };
    const summary = simulate(o, dir, undefined);
    expect(readdirSync(dir).sort()).toEqual([
      '2018-04-01.csv',
      '2018-04-02.csv',
      '2018-04-03.csv',
      '2018-04-04.csv',
      '2018-04-05.csv',
    ]);
    const ds = readDataset(dir);
    expect(ds.n).toBe(summary.transactions);
    expect(ds.fraud.reduce((s, v) => s + v, 0)).toBe(summary.frauds);
    const first = readFileSync(join(dir, '2018-04-01.csv'), 'utf8').split('\n');
    expect(first[0]).toBe(
      'TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_TIME_SECONDS,TX_TIME_DAYS,TX_FRAUD,TX_FRAUD_SCENARIO',
    );
    expect(first[1]).toMatch(/^0,2018-04-01 \d\d:\d\d:\d\d,\d+,\d+,\d+\.\d\d,\d+,0,[01],[0-3]$/);
    // pandas-style: unnamed leading index column, one file
    const pandas = join(dir, 'pandas');
    mkdirSync(pandas);
    const withIndex = first
      .filter((l) => l)
      .map((l, i) => (i === 0 ? `,${l}` : `${i - 1},${l}`))
      .join('\n');
    writeFileSync(join(pandas, 'all.csv'), withIndex + '\n');
    const one = readDataset(join(pandas, 'all.csv'));
    const day0 = readDataset(dir, { toDate: '2018-04-01' });
    expect(one.n).toBe(day0.n);
    expect([...one.amount]).toEqual([...day0.amount]);
    expect([...one.epochSeconds]).toEqual([...day0.epochSeconds]);
    expect(one.epochSeconds[0]).toBe(Date.parse('2018-04-01T00:00:00Z') / 1000 + ds.timeSeconds[0]!);
  });
});
