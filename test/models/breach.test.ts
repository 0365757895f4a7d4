import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HANDBOOK_DEFAULTS, generatePopulation, type HandbookOptions } from '../../models/simulator/handbook.ts';
import {
  BREACH_COLUMNS,
  BREACH_DEFAULTS,
  BreachScenario,
  luhnValid,
  type BreachOptions,
} from '../../models/simulator/breach.ts';
import {
  CurrencyRegions,
  CurrencySpecError,
  DEFAULT_CURRENCIES,
  parseCurrencies,
} from '../../models/simulator/currencies.ts';
import { readDataset } from '../../models/simulator/csv.ts';
import { simulate } from '../../models/simulator/run.ts';
import { currencyExponent } from '../../services/core/currency.ts';
import { readRatesFile } from '../../services/adapters/files/rates-file.ts';

const hb: HandbookOptions = { ...HANDBOOK_DEFAULTS, customers: 800, terminals: 1600, days: 70, seed: 9 };
const breach: BreachOptions = {
  ...BREACH_DEFAULTS,
  breaches: 2,
  breachDay: 25,
  breachInterval: 10,
  exposureDays: 25,
  merchantTerminals: 30,
  useShare: 0.5,
};

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
    for (const c of [
      'CARD_PAN',
      'CARD_EXPIRY',
      'CHANNEL',
      'DEVICE_ID',
      'IP',
      'EMAIL',
      'SHIPPING_ADDRESS',
      'AUTH_RESULT',
      'BREACH_ID',
      'CURRENCY',
      'AMOUNT_MINOR',
    ]) {
      expect(ds.extra.has(c)).toBe(true);
    }
    const header = readFileSync(join(dir, '2018-04-01.csv'), 'utf8').split('\n')[0]!;
    expect(header.endsWith(',BREACH_ID,CURRENCY,AMOUNT_MINOR')).toBe(true);
    expect(summary.breach!.breaches).toBe(2);
    expect(summary.breach!.leakedCards).toBeGreaterThan(50);
    expect(summary.breach!.testingTransactions).toBeGreaterThan(0);
    expect(summary.breach!.cashoutTransactions).toBeGreaterThan(0);
  });

  it('leaves the handbook rows as they are (breach rows are added beside them)', () => {
    expect(summary.transactions - baseline.transactions).toBe(
      summary.breach!.testingTransactions + summary.breach!.cashoutTransactions,
    );
    for (const s of ['1', '2', '3']) expect(summary.byScenario[s]).toBe(baseline.byScenario[s]);
  });

  it('emits one Luhn-valid PAN per card, e-commerce rows with identities, POS rows without', () => {
    const pans = new Map<number, string>();
    let panChanges = 0,
      posWithDevice = 0,
      ecomWithoutEmail = 0,
      ecom = 0;
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
    const events = readFileSync(join(dir, 'breaches.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    const breachDay = new Map(events.map((e) => [e[0]!, (Date.parse(e[2]!) - Date.parse(hb.startDate)) / 86_400_000]));
    const firstTest = new Map<number, number>(),
      firstCash = new Map<number, number>();
    const perAddress = new Map<string, Set<number>>();
    let nightCash = 0,
      cash = 0;
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
    const uploads = readFileSync(join(dir, 'issuer-lists', 'uploads.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    const uploaded = uploads.reduce((s, u) => s + Number(u[4]), 0);
    expect(uploaded).toBe(summary.breach!.uploadedCards);
    expect(uploaded / summary.breach!.leakedCards).toBeGreaterThan(breach.issuerCoverage - 0.15);
    expect(uploaded / summary.breach!.leakedCards).toBeLessThan(breach.issuerCoverage + 0.15);
    const events = readFileSync(join(dir, 'breaches.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    for (const u of uploads) {
      const e = events.find((x) => x[0] === u[1])!;
      const lagDays = (Date.parse(u[2]!.replace(' ', 'T') + 'Z') - Date.parse(e[2]! + 'T00:00:00Z')) / 86_400_000;
      expect(lagDays).toBeGreaterThanOrEqual(breach.issuerLagMinDays);
      expect(lagDays).toBeLessThanOrEqual(breach.issuerLagMaxDays);
      const list = readFileSync(join(dir, 'issuer-lists', u[3]!), 'utf8')
        .trim()
        .split('\n')
        .slice(1);
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

describe('breach scenario currencies', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lg-breach-cur-'));
  const summary = simulate(hb, dir, breach);
  const ds = readDataset(dir, { keepExtra: true });
  const col = (name: string) => ds.extra.get(name)!;
  const rates = readRatesFile();
  // the same population and options: the scenario's regions, to compare against the files
  const scenario = new BreachScenario(breach, hb, generatePopulation(hb));
  const atMs = (i: number) => ds.epochSeconds[i]! * 1000;

  it("writes every row in its terminal's currency, the default ones yen-heavy, shares within tolerance", () => {
    const currency = col('CURRENCY');
    const rows = new Map<string, number>();
    let notTerminals = 0;
    for (let i = 0; i < ds.n; i++) {
      if (currency[i] !== scenario.terminalCurrency(ds.terminal[i]!)) notTerminals++;
      rows.set(currency[i]!, (rows.get(currency[i]!) ?? 0) + 1);
    }
    expect(notTerminals).toBe(0);
    expect(Object.fromEntries([...rows].sort())).toEqual(
      Object.fromEntries(
        Object.entries(summary.breach!.byCurrency)
          .map(([c, n]) => [c, n.transactions])
          .sort(),
      ),
    );
    expect(summary.breach!.rates).toBe(rates.version);
    const terminals = new Map<string, number>(),
      customers = new Map<string, number>();
    for (let t = 0; t < hb.terminals; t++)
      terminals.set(scenario.terminalCurrency(t), (terminals.get(scenario.terminalCurrency(t)) ?? 0) + 1);
    for (let c = 0; c < hb.customers; c++)
      customers.set(scenario.customerCurrency(c), (customers.get(scenario.customerCurrency(c)) ?? 0) + 1);
    for (const { currency: c, share } of DEFAULT_CURRENCIES) {
      expect(terminals.get(c)! / hb.terminals).toBeCloseTo(share, 1); // ±0.05 (1,600 terminals)
      expect(Math.abs(terminals.get(c)! / hb.terminals - share)).toBeLessThan(0.03);
      expect(Math.abs(customers.get(c)! / hb.customers - share)).toBeLessThan(0.04); // 800 customers
      expect(Math.abs(rows.get(c)! / ds.n - share)).toBeLessThan(0.05); // transactions: customers' rates vary
    }
    expect([...rows].sort((a, b) => b[1] - a[1])[0]![0]).toBe('JPY');
  });

  it('mostly keeps a cardholder and the merchants in its reach in one currency', () => {
    let genuine = 0,
      same = 0;
    for (let i = 0; i < ds.n; i++) {
      if (col('BREACH_ID')[i] !== '') continue;
      genuine++;
      if (scenario.customerCurrency(ds.customer[i]!) === col('CURRENCY')[i]) same++;
    }
    // 3 band borders, a reach of 5 on an axis of 100: about 6 % of the genuine rows cross one
    expect(same / genuine).toBeGreaterThan(0.9);
    expect(same / genuine).toBeLessThan(1);
  });

  it('converts the euro amount at the rate of the day, in integer minor units (JPY 0 decimals, KWD 3)', () => {
    const minor = col('AMOUNT_MINOR'),
      currency = col('CURRENCY');
    const bad = { notInteger: 0, notConverted: 0, notRoundTrip: 0, yenOff: 0 };
    let kwdNotTens = 0,
      kwd = 0,
      jpy = 0;
    for (let i = 0; i < ds.n; i++) {
      if (!/^\d+$/.test(minor[i]!)) bad.notInteger++;
      const m = Number(minor[i]),
        c = currency[i]!,
        rate = rates.rate(c, atMs(i))!;
      if (
        m !== rates.fromReference(ds.amount[i]!, c, atMs(i)) ||
        m !== Math.round(ds.amount[i]! * rate * 10 ** currencyExponent(c))
      )
        bad.notConverted++;
      // back in euros, within half a minor unit of TX_AMOUNT (the engine converts back with the same table)
      if (Math.abs(rates.toReference(m, c, atMs(i)) - ds.amount[i]!) > 0.5 / 10 ** currencyExponent(c) / rate + 1e-9)
        bad.notRoundTrip++;
      if (c === 'JPY') {
        jpy++;
        // whole yen, 130 per euro in 2018
        if (Math.abs(m - ds.amount[i]! * 130) > 0.5) bad.yenOff++;
      }
      if (c === 'KWD') {
        kwd++;
        if (m % 10 !== 0) kwdNotTens++;
      }
    }
    expect(bad).toEqual({ notInteger: 0, notConverted: 0, notRoundTrip: 0, yenOff: 0 });
    expect(currencyExponent('JPY')).toBe(0);
    expect(currencyExponent('KWD')).toBe(3);
    expect(jpy).toBeGreaterThan(ds.n / 2);
    // fils are used: most KWD amounts need the third decimal
    expect(kwdNotTens / kwd).toBeGreaterThan(0.8);
  });

  it("puts the breach fraud in the currency of the merchant used; card testing stays a few euros' worth in every currency", () => {
    const testing = new Map<string, number>(),
      cashout = new Map<string, number>();
    for (let i = 0; i < ds.n; i++) {
      const sc = ds.scenario[i]!;
      if (sc < 4) continue;
      const c = col('CURRENCY')[i]!;
      expect(c).toBe(scenario.terminalCurrency(ds.terminal[i]!));
      const eur = rates.toReference(Number(col('AMOUNT_MINOR')[i]), c, atMs(i));
      if (sc === 4) {
        testing.set(c, (testing.get(c) ?? 0) + 1);
        // under the engine's small-amount line (rates.smallAmount, 2 euros) whatever the currency
        expect(eur).toBeLessThan(rates.smallAmount);
      } else {
        cashout.set(c, (cashout.get(c) ?? 0) + 1);
        expect(eur).toBeGreaterThan(149);
      }
    }
    expect(testing.size).toBeGreaterThanOrEqual(3);
    expect(cashout.size).toBeGreaterThanOrEqual(3);
    // breaches.csv names the breached merchant's terminals per currency
    const events = readFileSync(join(dir, 'breaches.csv'), 'utf8').trim().split('\n');
    expect(events[0]!.split(',').at(-1)).toBe('TERMINAL_CURRENCIES');
    for (const e of events.slice(1).map((l) => l.split(','))) {
      const perCurrency = e
        .at(-1)!
        .split(' ')
        .map((p) => p.split(':'));
      expect(perCurrency.reduce((s, [, n]) => s + Number(n), 0)).toBe(e[1]!.split(' ').length);
      for (const [c, n] of perCurrency)
        expect(e[1]!.split(' ').filter((t) => scenario.terminalCurrency(Number(t)) === c)).toHaveLength(Number(n));
    }
  });

  it('in euros only (--currencies EUR): AMOUNT_MINOR is TX_AMOUNT in cents, and every other column is the same', () => {
    const euroDir = mkdtempSync(join(tmpdir(), 'lg-breach-eur-'));
    const euroSummary = simulate(hb, euroDir, { ...breach, currencies: parseCurrencies('EUR', rates) });
    const euro = readDataset(euroDir, { keepExtra: true });
    expect(euro.n).toBe(ds.n);
    expect(euroSummary.breach!.byCurrency).toEqual({
      EUR: {
        transactions: ds.n,
        frauds: summary.frauds,
        breachFrauds: summary.byScenario['4']! + summary.byScenario['5']!,
      },
    });
    let notEuroCents = 0;
    for (let i = 0; i < euro.n; i++) {
      if (
        euro.extra.get('CURRENCY')![i] !== 'EUR' ||
        euro.extra.get('AMOUNT_MINOR')![i] !== String(Math.round(euro.amount[i]! * 100))
      )
        notEuroCents++;
    }
    expect(notEuroCents).toBe(0);
    // currencies draw nothing at random: the rest of the data does not depend on them
    const strip = (text: string) =>
      text
        .split('\n')
        .map((l) => l.split(',').slice(0, -2).join(','))
        .join('\n');
    for (const f of ['2018-04-10.csv', '2018-05-20.csv', '2018-06-09.csv'])
      expect(strip(readFileSync(join(euroDir, f), 'utf8'))).toBe(strip(readFileSync(join(dir, f), 'utf8')));
    expect(readFileSync(join(euroDir, 'issuer-lists', 'uploads.csv'), 'utf8')).toBe(
      readFileSync(join(dir, 'issuer-lists', 'uploads.csv'), 'utf8'),
    );
  });

  it('parses --currencies: CODE:SHARE lists, one code, equal shares; refuses a bad part by naming it', () => {
    expect(parseCurrencies('JPY:0.6,EUR:0.25,USD:0.1,KWD:0.05', rates)).toEqual(DEFAULT_CURRENCIES);
    expect(parseCurrencies('EUR', rates)).toEqual([{ currency: 'EUR', share: 1 }]);
    expect(parseCurrencies('EUR:1', rates)).toEqual([{ currency: 'EUR', share: 1 }]);
    expect(parseCurrencies('jpy, eur', rates)).toEqual([
      { currency: 'JPY', share: 0.5 },
      { currency: 'EUR', share: 0.5 },
    ]);
    const refused = (spec: string) => {
      try {
        parseCurrencies(spec, rates);
      } catch (error) {
        expect(error).toBeInstanceOf(CurrencySpecError);
        return (error as Error).message;
      }
      throw new Error(`accepted ${spec}`);
    };
    expect(refused('JPY:0.6,XYZ:0.4')).toBe("'XYZ:0.4': XYZ is not an ISO 4217 currency code");
    expect(refused('JPY:0.6,ARS:0.4')).toBe(`'ARS:0.4': the rate table ${rates.version} has no rate for ARS`);
    expect(refused('JPY:0.6,EUR:0.3')).toBe("the shares of 'JPY:0.6,EUR:0.3' add up to 0.9, not 1");
    expect(refused('JPY:0.5,EUR')).toBe("'EUR': give a share for every currency or for none");
    expect(refused('JPY:abc')).toBe("'JPY:abc': the share must be a number in (0, 1]");
    expect(refused('JPY:0')).toBe("'JPY:0': the share must be a number in (0, 1]");
    expect(refused('JPY:0.5,JPY:0.5')).toBe("'JPY:0.5': JPY is given twice");
    expect(refused('JPY:0.5,,EUR:0.5')).toBe("part 2 of 'JPY:0.5,,EUR:0.5' is empty");
    expect(refused('yen')).toBe("'yen': YEN is not an ISO 4217 currency code");
    expect(refused('JPY=1')).toBe("'JPY=1': expected CODE or CODE:SHARE (e.g. JPY:0.6)");
    // without a table, only ISO 4217 is checked
    expect(parseCurrencies('ARS:1')).toEqual([{ currency: 'ARS', share: 1 }]);
    expect(
      () =>
        new BreachScenario(
          { ...breach, currencies: [{ currency: 'ARS', share: 1 }] },
          hb,
          generatePopulation({ ...hb, customers: 10, terminals: 10 }),
        ),
    ).toThrow(/no rate for ARS/);
  });

  it('bands the x axis by the shares', () => {
    const r = new CurrencyRegions(DEFAULT_CURRENCIES);
    expect([0, 59.999, 60, 84.999, 85, 94.999, 95, 99.999].map((x) => r.codes[r.indexAt(x)])).toEqual([
      'JPY',
      'JPY',
      'EUR',
      'EUR',
      'USD',
      'USD',
      'KWD',
      'KWD',
    ]);
    const one = new CurrencyRegions([{ currency: 'EUR', share: 1 }]);
    expect([0, 50, 99.99].map((x) => one.indexAt(x))).toEqual([0, 0, 0]);
  });

  it('simulate --currencies: a bad list is a usage error naming the part; without --breach, refused', () => {
    const cwd = join(import.meta.dirname, '../..');
    const out = mkdtempSync(join(tmpdir(), 'lg-breach-cli-'));
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'models/cli/simulate.ts', ...args], {
        cwd,
        encoding: 'utf8',
      });
    const bad = run('--breach', '--currencies', 'JPY:0.7,EUR:0.2,XXX:0.1', '--out', out, '--quiet');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("simulate: --currencies: 'XXX:0.1': XXX is not an ISO 4217 currency code");
    expect(bad.stderr).toContain('usage: npm run simulate');
    const noBreach = run('--currencies', 'EUR', '--out', out, '--quiet');
    expect(noBreach.status).toBe(2);
    expect(noBreach.stderr).toContain('--currencies needs --breach');
    const ok = run(
      '--breach',
      '--currencies',
      'EUR:0.5,JPY:0.5',
      '--customers',
      '60',
      '--terminals',
      '120',
      '--days',
      '3',
      '--out',
      out,
      '--quiet',
    );
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/currencies \(the terminal's; rates [^)]+\): EUR [\d.]+ % of transactions.*; JPY/);
    expect(BREACH_COLUMNS.slice(-2)).toEqual(['CURRENCY', 'AMOUNT_MINOR']);
  });
});
