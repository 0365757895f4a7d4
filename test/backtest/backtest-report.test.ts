// What a backtest's report says besides its figures: the orders it could not score (and why, per
// merchant), the warm-up only when there was one, the transactions a candidate decides otherwise
// and the recorded decisions the replay does not reproduce. Known answers from small merchant
// exports and hand-made recordings replayed in this thread.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBacktest, type Configuration } from '../../models/backtest/backtest.ts';
import { htmlReport, textReport } from '../../models/backtest/report.ts';
import { TrafficBuilder } from '../../models/backtest/traffic.ts';
import { DEFAULT_RULESET_PATH } from '../../services/adapters/files/ruleset-file.ts';
import { DEFAULT_RATES_PATH } from '../../services/adapters/files/rates-file.ts';
import { parse, stringify } from 'yaml';

const dir = mkdtempSync(join(tmpdir(), 'lg-backtest-report-'));
const NO_YEN = join(dir, 'rates-no-yen.yaml');
writeFileSync(
  NO_YEN,
  'version: no-yen\nreference: EUR\nsmallAmount: 2\nrates:\n  EUR: [{ from: 2000-01-01, rate: 1 }]\n  USD: [{ from: 2000-01-01, rate: 1.16 }]\n',
);
const configuration = (label: string): Configuration => ({
  label,
  ruleset: DEFAULT_RULESET_PATH,
  model: null,
  rates: NO_YEN,
});
const CARDS = ['4111111111111111', '5555555555554444', '4012888888881881', '4242424242424242'];
const DAY = 86_400_000;
const start = Date.parse('2026-11-02T09:00:00Z');

/** m1: 6 orders in euros and 4 in yen; m2: 3 in euros, 1 in yen; one order an hour. o-0 (yen) and o-2 (euros) charged back. */
function exportTraffic() {
  const builder = new TrafficBuilder('requests');
  const orders: { merchantId: string; currency: string }[] = [
    ...Array.from({ length: 10 }, (_, i) => ({ merchantId: 'm1', currency: i % 5 < 2 ? 'JPY' : 'EUR' })),
    ...Array.from({ length: 4 }, (_, i) => ({ merchantId: 'm2', currency: i === 3 ? 'JPY' : 'EUR' })),
  ];
  orders.forEach((o, i) =>
    builder.add(
      JSON.stringify({
        merchantId: o.merchantId,
        transactionId: `o-${i}`,
        amount: 2500 + 100 * i,
        currency: o.currency,
        channel: 'ecommerce',
        occurredAt: new Date(start + i * 3_600_000).toISOString(),
        card: { number: CARDS[i % CARDS.length], expiryMonth: 3, expiryYear: 2031, cvvResult: 'match' },
        ...(i === 0 || i === 2 ? { outcome: 'chargeback', outcomeAt: new Date(start + 20 * DAY).toISOString() } : {}),
      }),
      `export:${i + 1}`,
    ),
  );
  const traffic = builder.finish();
  expect(traffic.refused).toBe(0);
  return traffic;
}

describe('a backtest report', () => {
  it('says how many orders it could not score and why, in the printout, the HTML and per merchant', async () => {
    const report = await runBacktest(exportTraffic(), {
      baseline: configuration('in force'),
      candidate: configuration('candidate'),
      inProcess: true,
    });
    expect(report.transactions).toMatchObject({
      replayed: 14,
      warmup: 0,
      reported: 9,
      fraud: 1,
      notScored: 5,
      notScoredFraud: 1,
    });
    expect(report.transactions.notScoredBy).toEqual([{ reason: 'no exchange rate for JPY', count: 5 }]);
    expect(report.merchants.map((m) => [m.merchantId, m.transactions, m.notScored])).toEqual([
      ['m1', 6, 4],
      ['m2', 3, 1],
    ]);
    const text = textReport(report);
    const line = '5 transactions not scored (1 of them fraud), left out of every figure: no exchange rate for JPY';
    expect(text).toContain(line);
    // No --from: nothing was replayed for the counters alone.
    expect(text).toMatch(/^Backtest of 9 transactions from /);
    expect(text).not.toContain('warm');
    expect(text).toMatch(/^merchant +transactions +not scored +changed/m);
    expect(text).toMatch(/^m1 +6 +4 +0 /m);
    expect(text).toMatch(/^m2 +3 +1 +0 /m);
    const html = htmlReport(report);
    expect(html).toContain(`<p class="warning">${line}</p>`);
    expect(html).toContain('<td>m1</td><td>6</td><td>4</td><td>0</td>');
  });

  it('names the warm-up only when traffic before --from was replayed for the counters', async () => {
    const from = start + 10 * 3_600_000;
    const report = await runBacktest(exportTraffic(), {
      baseline: configuration('in force'),
      candidate: configuration('candidate'),
      from,
      warmupDays: 1,
      inProcess: true,
    });
    // o-10 … o-13 reported (one in yen, not scored); the ten before them only warmed the counters.
    expect(report.transactions).toMatchObject({ replayed: 14, warmup: 10, reported: 3, notScored: 1 });
    expect(textReport(report)).toMatch(
      /^Backtest of 3 transactions \(10 before them replayed to warm the counters\) from /,
    );
    const none = await runBacktest(exportTraffic(), {
      baseline: configuration('in force'),
      candidate: configuration('candidate'),
      from: start - 30 * DAY,
      inProcess: true,
    });
    expect(none.transactions.warmup).toBe(0);
    expect(textReport(none)).not.toContain('warm');
  });
});

/** The default ruleset plus a rule that declines orders of 30 EUR or more. */
function bigOrdersRuleset(): string {
  const ruleset = parse(readFileSync(DEFAULT_RULESET_PATH, 'utf8')) as { version: string; rules: unknown[] };
  ruleset.version = 'candidate-big-orders';
  ruleset.rules.push({
    code: 'TEST_BIG_ORDER',
    message: 'Order of {amount_ref} in the reference currency',
    when: { feature: 'amount_ref', gte: 30 },
    score: 100,
  });
  const file = join(dir, 'big-orders.yaml');
  writeFileSync(file, stringify(ruleset));
  return file;
}

const inForce: Configuration = {
  label: 'in force',
  ruleset: DEFAULT_RULESET_PATH,
  model: null,
  rates: DEFAULT_RATES_PATH,
};

/** 70 big orders (m1 and m2 taking turns, listed m2 first) and 10 small ones: the candidate declines the big ones. */
function bigOrders() {
  const builder = new TrafficBuilder('requests');
  for (let i = 0; i < 80; i++)
    builder.add(
      JSON.stringify({
        merchantId: i % 2 ? 'm1' : 'm2',
        transactionId: `big-${i}`,
        amount: i < 70 ? 4000 + i : 1000,
        currency: 'EUR',
        channel: 'ecommerce',
        occurredAt: new Date(start + (80 - i) * 60_000).toISOString(),
        card: { number: CARDS[i % CARDS.length], expiryMonth: 3, expiryYear: 2031, cvvResult: 'match' },
      }),
      `export:${i + 1}`,
    );
  return builder.finish();
}
// The big orders' ids, m1's first, each merchant's in time order (the later ids were sent earlier).
const m1 = Array.from({ length: 35 }, (_, k) => `big-${69 - 2 * k}`);
const m2 = Array.from({ length: 35 }, (_, k) => `big-${68 - 2 * k}`);

describe('the transactions decided otherwise', () => {
  it('are listed, by merchant then time, all in the JSON and the first 50 in the printout and the HTML', async () => {
    const report = await runBacktest(bigOrders(), {
      baseline: inForce,
      candidate: { ...inForce, label: 'candidate', ruleset: bigOrdersRuleset() },
      inProcess: true,
    });
    expect(report.transitions.approve.decline.count).toBe(70);
    expect(report.changes).toHaveLength(70);
    expect([report.changesTotal, report.changesLeftOut]).toEqual([70, 0]);
    expect(report.changes.map((c) => c.transactionId)).toEqual([...m1, ...m2]);
    expect(report.changes[0]).toEqual({
      merchantId: 'm1',
      transactionId: 'big-69',
      at: new Date(start + 11 * 60_000).toISOString(),
      decision: ['approve', 'decline'],
      score: [0, 100],
      reasons: { added: ['TEST_BIG_ORDER'], removed: [] },
    });
    expect(report.notReproduced).toEqual([]);

    const text = textReport(report);
    expect(text).toContain('Decisions the candidate changes (first 50 of 70, by merchant then time)');
    expect(text).toMatch(
      /^merchant +transaction +at +in force → candidate +score +reasons \(\+ given, − no longer\)$/m,
    );
    expect(text).toMatch(/^m1 +big-69 +2026-11-02T09:11:00\.000Z +approve → decline +0 → 100 +\+TEST_BIG_ORDER$/m);
    const listed = (out: string) => [...out.matchAll(/big-\d+/g)].map((m) => m[0]);
    expect(listed(text)).toEqual([...m1, ...m2].slice(0, 50));
    // Plain requests have no recorded decision: that list is not printed.
    expect(text).not.toContain('did not reproduce');
    const html = htmlReport(report);
    expect(html).toContain('<h2>Decisions the candidate changes (first 50 of 70, by merchant then time)</h2>');
    expect(listed(html)).toEqual([...m1, ...m2].slice(0, 50));
    expect(html).toContain(
      '<tr><td>m1</td><td>big-69</td><td>2026-11-02T09:11:00.000Z</td><td>approve → decline</td><td>0 → 100</td><td>+TEST_BIG_ORDER</td></tr>',
    );
  });

  it('are bounded in report.json to the first of each list by merchant then time, saying how many are left out', async () => {
    const report = await runBacktest(bigOrders(), {
      baseline: inForce,
      candidate: { ...inForce, label: 'candidate', ruleset: bigOrdersRuleset() },
      inProcess: true,
      listedAtMost: 20,
    });
    // The list is the first 20 of the 70 (held: 40 at most); every figure still counts all 70.
    expect(report.changes.map((c) => c.transactionId)).toEqual([...m1, ...m2].slice(0, 20));
    expect([report.changesTotal, report.changesLeftOut]).toEqual([70, 50]);
    expect(report.transitions.approve.decline.count).toBe(70);
    expect(report.merchants.map((m) => [m.merchantId, m.changed])).toEqual(
      expect.arrayContaining([
        ['m1', 35],
        ['m2', 35],
      ]),
    );
    const line =
      'report.json lists the first 20 of the 70, by merchant then time: 50 left out (every figure counts them all)';
    const text = textReport(report);
    expect(text).toContain(`Decisions the candidate changes (first 50 of 70, by merchant then time)\n${line}\n`);
    // The printout shows the first 50 of what the JSON lists: 20 here.
    expect([...text.matchAll(/big-\d+/g)]).toHaveLength(20);
    expect(htmlReport(report)).toContain(
      `<h2>Decisions the candidate changes (first 50 of 70, by merchant then time)</h2>\n<p>${line}</p>\n`,
    );
  });

  it("never show a card number: an export's merchant id holding one is refused, not echoed", () => {
    const builder = new TrafficBuilder('requests');
    builder.add(
      JSON.stringify({
        merchantId: `shop-${CARDS[0]}`,
        transactionId: 'o-1',
        amount: 1000,
        currency: 'EUR',
        channel: 'ecommerce',
        occurredAt: new Date(start).toISOString(),
        card: { number: CARDS[1], expiryMonth: 3, expiryYear: 2031, cvvResult: 'match' },
      }),
      'export:1',
    );
    const traffic = builder.finish();
    expect(traffic.count).toBe(0);
    expect(traffic.problems).toEqual([
      'export:1: merchantId: must not contain a card number (12 to 19 digits passing the Luhn check, whatever separates them)',
    ]);
  });

  it('include the recorded decisions the in-force replay did not reproduce, with what changed', async () => {
    // A recording made by hand: four scorings of fresh cards, small amounts (the replay approves
    // them, score 0); two were recorded otherwise, one of them degraded then (not compared).
    const scored = (i: number, decision: string, score: number, reasons: string[], degraded = false) =>
      JSON.stringify({
        kind: 'scored',
        v: 2,
        merchantId: i === 3 ? 'a-shop' : 'b-shop',
        transactionId: `rec-${i}`,
        at: new Date(start + i * 60_000).toISOString(),
        request: {
          transactionId: `rec-${i}`,
          amount: 1500,
          currency: 'EUR',
          channel: 'ecommerce',
          occurredAt: new Date(start + i * 60_000).toISOString(),
          card: {
            fingerprint: `fp-${i}`,
            keyId: 'k1',
            bin: '411111',
            last4: '1111',
            expiryMonth: 12,
            expiryYear: 2030,
            cvvResult: 'match',
          },
        },
        entities: {},
        lookups: {},
        decision,
        score,
        reasons,
        degraded,
        versions: { engine: '0.1.0', ruleset: 'old' },
      });
    const builder = new TrafficBuilder('recording');
    builder.add(scored(0, 'approve', 0, []), 'r:1');
    builder.add(scored(1, 'challenge', 40, ['CARD_LISTED', 'HIGH_AMOUNT']), 'r:2');
    builder.add(scored(2, 'decline', 90, ['CARD_LISTED'], true), 'r:3');
    builder.add(scored(3, 'review', 60, ['DEVICE_MANY_CARDS']), 'r:4');
    const traffic = builder.finish();
    expect(traffic.refused).toBe(0);
    const report = await runBacktest(traffic, {
      baseline: inForce,
      candidate: { ...inForce, label: 'candidate' },
      inProcess: true,
    });
    expect(report.recorded).toMatchObject({ compared: 3, agreed: 1, degradedThen: 1 });
    expect([report.notReproducedTotal, report.notReproducedLeftOut]).toEqual([2, 0]);
    expect(report.notReproduced).toEqual([
      {
        merchantId: 'a-shop',
        transactionId: 'rec-3',
        at: new Date(start + 3 * 60_000).toISOString(),
        decision: ['review', 'approve'],
        score: [60, 0],
        reasons: { added: [], removed: ['DEVICE_MANY_CARDS'] },
      },
      {
        merchantId: 'b-shop',
        transactionId: 'rec-1',
        at: new Date(start + 60_000).toISOString(),
        decision: ['challenge', 'approve'],
        score: [40, 0],
        reasons: { added: [], removed: ['CARD_LISTED', 'HIGH_AMOUNT'] },
      },
    ]);
    expect(report.changes).toEqual([]);
    const text = textReport(report);
    expect(text).toContain('Recorded decisions the in-force replay did not reproduce (2, by merchant then time)');
    expect(text).toMatch(/^a-shop +rec-3 +2026-11-02T09:03:00\.000Z +review → approve +60 → 0 +−DEVICE_MANY_CARDS$/m);
    expect(text).toMatch(/^b-shop +rec-1 +.+ +challenge → approve +40 → 0 +−CARD_LISTED −HIGH_AMOUNT$/m);
    const html = htmlReport(report);
    expect(html).toContain('<h2>Decisions the candidate changes (0, by merchant then time)</h2>\n<p>None.</p>');
    expect(html).toContain(
      '<h2>Recorded decisions the in-force replay did not reproduce (2, by merchant then time)</h2>',
    );
    expect(html).toContain('<td>b-shop</td><td>rec-1</td>');

    // Bounded to one: the first by merchant, the count and the fidelity exact.
    const bounded = await runBacktest(traffic, {
      baseline: inForce,
      candidate: { ...inForce, label: 'candidate' },
      inProcess: true,
      listedAtMost: 1,
    });
    expect(bounded.recorded).toMatchObject({ compared: 3, agreed: 1, degradedThen: 1 });
    expect(bounded.notReproduced.map((c) => c.transactionId)).toEqual(['rec-3']);
    expect([bounded.notReproducedTotal, bounded.notReproducedLeftOut]).toEqual([2, 1]);
    expect(textReport(bounded)).toContain(
      'Recorded decisions the in-force replay did not reproduce (2, by merchant then time)\nreport.json lists the first 1 of the 2, by merchant then time: 1 left out (every figure counts them all)\n',
    );
  });
});
