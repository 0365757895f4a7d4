// What a backtest's report says besides its figures: the orders it could not score (and why, per
// merchant), the warm-up only when there was one. Known answers from a small merchant export
// replayed in this thread against a rate table without yen.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBacktest, type Configuration } from '../../models/backtest/backtest.ts';
import { htmlReport, textReport } from '../../models/backtest/report.ts';
import { TrafficBuilder } from '../../models/backtest/traffic.ts';
import { DEFAULT_RULESET_PATH } from '../../services/adapters/files/ruleset-file.ts';

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
