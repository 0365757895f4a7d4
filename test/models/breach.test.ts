import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HANDBOOK_DEFAULTS, type HandbookOptions } from '../../models/simulator/handbook.ts';
import { BREACH_DEFAULTS, BreachScenario, luhnValid, type BreachOptions } from '../../models/simulator/breach.ts';
import { readDataset } from '../../models/simulator/csv.ts';
import { simulate } from '../../models/simulator/run.ts';

const hb: HandbookOptions = { ...HANDBOOK_DEFAULTS, customers: 800, terminals: 1600, days: 70, seed: 9 };
const breach: BreachOptions = { ...BREACH_DEFAULTS, breaches: 2, breachDay: 25, breachInterval: 10, exposureDays: 25, merchantTerminals: 30, useShare: 0.5 };

describe('breach scenario', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lg-breach-'));
  const summary = simulate(hb, dir, breach);
  const ds = readDataset(dir, { keepExtra: true });
  const col = (name: string) => ds.extra.get(name)!;
  const base = mkdtempSync(join(tmpdir(), 'lg-base-'));
  const baseline = simulate(hb, base, undefined);

  it('writes transactions with the breach columns, breach events and issuer lists', () => {
    expect(readdirSync(dir)).toContain('breaches.csv');
    expect(readdirSync(join(dir, 'issuer-lists'))).toContain('uploads.csv');
    for (const c of ['CARD_PAN', 'CARD_EXPIRY', 'CHANNEL', 'DEVICE_ID', 'IP', 'EMAIL', 'SHIPPING_ADDRESS', 'AUTH_RESULT', 'BREACH_ID']) expect(ds.extra.has(c)).toBe(true);
    expect(summary.breach!.breaches).toBe(2);
    expect(summary.breach!.leakedCards).toBeGreaterThan(50);
    expect(summary.breach!.testingTransactions).toBeGreaterThan(0);
    expect(summary.breach!.cashoutTransactions).toBeGreaterThan(0);
  });

  it('leaves the handbook rows as they are (breach rows are added beside them)', () => {
    expect(summary.transactions - baseline.transactions).toBe(summary.breach!.testingTransactions + summary.breach!.cashoutTransactions);
    for (const s of ['1', '2', '3']) expect(summary.byScenario[s]).toBe(baseline.byScenario[s]);
  });

  it('emits one Luhn-valid PAN per card, e-commerce rows with identities, POS rows without', () => {
    const pans = new Map<number, string>();
    let panChanges = 0, posWithDevice = 0, ecomWithoutEmail = 0, ecom = 0;
    for (let i = 0; i < ds.n; i++) {
      const pan = col('CARD_PAN')[i]!;
      const prev = pans.get(ds.customer[i]!);
      if (prev && prev !== pan) panChanges++;
      pans.set(ds.customer[i]!, pan);
      if (col('CHANNEL')[i] === 'pos') {
        if (col('DEVICE_ID')[i] !== '') posWithDevice++;
      } else {
        ecom++;
        if (col('EMAIL')[i] === '') ecomWithoutEmail++;
      }
    }
    expect([panChanges, posWithDevice, ecomWithoutEmail]).toEqual([0, 0, 0]);
    expect(ecom / ds.n).toBeGreaterThan(0.2);
    expect([...pans.values()].every(luhnValid)).toBe(true);
    expect(new Set(pans.values()).size).toBe(pans.size);
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
  });

  it('uses leaked cards only after the breach: card testing first, then cash-out with shared reshippers', () => {
    const events = readFileSync(join(dir, 'breaches.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    const breachDay = new Map(events.map((e) => [e[0]!, (Date.parse(e[2]!) - Date.parse(hb.startDate)) / 86_400_000]));
    const firstTest = new Map<number, number>(), firstCash = new Map<number, number>();
    const perAddress = new Map<string, Set<number>>();
    let nightCash = 0, cash = 0;
    for (let i = 0; i < ds.n; i++) {
      const sc = ds.scenario[i]!;
      if (sc < 4) continue;
      expect(ds.fraud[i]).toBe(1);
      expect(col('CHANNEL')[i]).toBe('ecom');
      expect(ds.timeDays[i]).toBeGreaterThan(breachDay.get(col('BREACH_ID')[i]!)!);
      if (sc === 4) {
        expect(ds.amount[i]).toBeLessThan(2.01);
        if (!firstTest.has(ds.customer[i]!)) firstTest.set(ds.customer[i]!, ds.timeSeconds[i]!);
      } else {
        cash++;
        expect(ds.amount[i]).toBeGreaterThanOrEqual(150);
        if (new Date(ds.epochSeconds[i]! * 1000).getUTCHours() < 6) nightCash++;
        if (!firstCash.has(ds.customer[i]!)) firstCash.set(ds.customer[i]!, ds.timeSeconds[i]!);
        const a = col('SHIPPING_ADDRESS')[i]!;
        if (!perAddress.has(a)) perAddress.set(a, new Set());
        perAddress.get(a)!.add(ds.customer[i]!);
      }
    }
    for (const [card, t] of firstCash) expect(t).toBeGreaterThan(firstTest.get(card)!);
    expect(nightCash / cash).toBeGreaterThan(0.5);
    // some reshipper receives goods for many stolen cards
    expect(Math.max(...[...perAddress.values()].map((s) => s.size))).toBeGreaterThan(5);
  });

  it('declines the leaked credentials of reissued cards; issuers upload part of the leaked cards, late', () => {
    const declined = col('AUTH_RESULT').filter((v) => v === 'declined').length;
    expect(declined).toBe(summary.breach!.declinedTransactions);
    if (summary.breach!.reissuedCards > 0) expect(declined).toBeGreaterThan(0);
    const uploads = readFileSync(join(dir, 'issuer-lists', 'uploads.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    const uploaded = uploads.reduce((s, u) => s + Number(u[4]), 0);
    expect(uploaded).toBe(summary.breach!.uploadedCards);
    expect(uploaded / summary.breach!.leakedCards).toBeGreaterThan(breach.issuerCoverage - 0.15);
    expect(uploaded / summary.breach!.leakedCards).toBeLessThan(breach.issuerCoverage + 0.15);
    const events = readFileSync(join(dir, 'breaches.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    for (const u of uploads) {
      const e = events.find((x) => x[0] === u[1])!;
      const lagDays = (Date.parse(u[2]!.replace(' ', 'T') + 'Z') - Date.parse(e[2]! + 'T00:00:00Z')) / 86_400_000;
      expect(lagDays).toBeGreaterThanOrEqual(breach.issuerLagMinDays);
      expect(lagDays).toBeLessThanOrEqual(breach.issuerLagMaxDays);
      const list = readFileSync(join(dir, 'issuer-lists', u[3]!), 'utf8').trim().split('\n').slice(1);
      expect(list).toHaveLength(Number(u[4]));
      for (const l of list) expect(luhnValid(l.split(',')[0]!)).toBe(true);
    }
    expect(BreachScenario.issuerOf(0)).toBe('issuer-a');
  });

  it('is reproducible with the same seed', () => {
    const again = mkdtempSync(join(tmpdir(), 'lg-breach2-'));
    simulate(hb, again, breach);
    for (const f of ['2018-05-20.csv', 'breaches.csv', join('issuer-lists', 'uploads.csv')]) {
      expect(readFileSync(join(again, f), 'utf8')).toBe(readFileSync(join(dir, f), 'utf8'));
    }
  });
});
