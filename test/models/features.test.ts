import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../models/simulator/csv.ts';
import { datasetFromBatches } from '../../models/simulator/csv.ts';
import { HANDBOOK_DEFAULTS, generateHandbook } from '../../models/simulator/handbook.ts';
import {
  HANDBOOK_FEATURE_SET,
  featureNames,
  fromEngineReading,
  missingEngineCounters,
} from '../../services/model/definitions.ts';
import { computeOffline, toCents } from '../../models/features/offline.ts';
import { MemoryWindowSource, emptyOnlineState, recordAndRead, replayParity } from '../../models/features/online.ts';

const H = 3600,
  D = 86_400;
const START = Date.parse('2018-04-01T00:00:00Z') / 1000; // a Sunday

/** A hand-made dataset: [seconds from start, customer, terminal, amount, fraud]. */
function handMade(rows: [number, number, number, number, number][]): Dataset {
  const n = rows.length;
  const ds: Dataset = {
    n,
    transactionId: new Float64Array(n),
    epochSeconds: new Float64Array(n),
    customer: new Int32Array(n),
    terminal: new Int32Array(n),
    amount: new Float64Array(n),
    timeSeconds: new Float64Array(n),
    timeDays: new Int32Array(n),
    fraud: new Uint8Array(n),
    scenario: new Uint8Array(n),
    extra: new Map(),
  };
  rows.forEach(([t, c, term, a, f], i) => {
    ds.transactionId[i] = i;
    ds.epochSeconds[i] = START + t;
    ds.timeSeconds[i] = t;
    ds.timeDays[i] = Math.floor(t / D);
    ds.customer[i] = c;
    ds.terminal[i] = term;
    ds.amount[i] = a;
    ds.fraud[i] = f;
    ds.scenario[i] = f ? 2 : 0;
  });
  return ds;
}

const names = featureNames(HANDBOOK_FEATURE_SET);
const col = (name: string) => names.indexOf(name);
const at = (m: ReturnType<typeof computeOffline>, row: number, name: string) => m.values[row * m.cols + col(name)];

describe('handbook feature set', () => {
  it('has the 15 handbook inputs in order', () => {
    expect(names).toEqual([
      'TX_AMOUNT',
      'TX_DURING_WEEKEND',
      'TX_DURING_NIGHT',
      'CUSTOMER_ID_NB_TX_1DAY_WINDOW',
      'CUSTOMER_ID_AVG_AMOUNT_1DAY_WINDOW',
      'CUSTOMER_ID_NB_TX_7DAY_WINDOW',
      'CUSTOMER_ID_AVG_AMOUNT_7DAY_WINDOW',
      'CUSTOMER_ID_NB_TX_30DAY_WINDOW',
      'CUSTOMER_ID_AVG_AMOUNT_30DAY_WINDOW',
      'TERMINAL_ID_NB_TX_1DAY_WINDOW',
      'TERMINAL_ID_RISK_1DAY_WINDOW',
      'TERMINAL_ID_NB_TX_7DAY_WINDOW',
      'TERMINAL_ID_RISK_7DAY_WINDOW',
      'TERMINAL_ID_NB_TX_30DAY_WINDOW',
      'TERMINAL_ID_RISK_30DAY_WINDOW',
    ]);
  });
  it('maps every window onto counters the engine has, amounts in major units as the engine reads them', () => {
    expect(missingEngineCounters(HANDBOOK_FEATURE_SET)).toEqual([]);
    const reading = {
      card_count_24h: 2,
      card_amount_24h: 30.5,
      card_count_7d: 4,
      card_amount_7d: 100,
      merchant_delayed_count_24h: 4,
      merchant_delayed_frauds_24h: 1,
      merchant_delayed_count_7d: 0,
      merchant_delayed_frauds_7d: 0,
    };
    const byName = (n: string) => HANDBOOK_FEATURE_SET.features.find((f) => f.name === n)!;
    expect(fromEngineReading(byName('CUSTOMER_ID_NB_TX_1DAY_WINDOW'), reading)).toBe(2);
    expect(fromEngineReading(byName('CUSTOMER_ID_AVG_AMOUNT_1DAY_WINDOW'), reading)).toBe(15.25);
    expect(fromEngineReading(byName('CUSTOMER_ID_AVG_AMOUNT_7DAY_WINDOW'), reading)).toBe(25);
    expect(fromEngineReading(byName('TERMINAL_ID_NB_TX_1DAY_WINDOW'), reading)).toBe(4);
    expect(fromEngineReading(byName('TERMINAL_ID_RISK_1DAY_WINDOW'), reading)).toBe(0.25);
    expect(fromEngineReading(byName('TERMINAL_ID_RISK_7DAY_WINDOW'), reading)).toBe(0); // empty window
    expect(fromEngineReading(byName('TX_AMOUNT'), reading)).toBeNull(); // row features come from the row
    // The check names a window without the counter its statistic needs, and unknown counters.
    const unserved = {
      name: 'x',
      version: 1,
      features: [
        {
          kind: 'window',
          name: 'RISK_NO_FRAUDS',
          entity: 'terminal',
          stat: 'fraud_share',
          days: 1,
          delayDays: 7,
          engine: { count: 'merchant_delayed_count_24h' },
        },
        {
          kind: 'window',
          name: 'NB_UNKNOWN',
          entity: 'terminal',
          stat: 'count',
          days: 1,
          delayDays: 7,
          engine: { count: 'terminal_count_24h' },
        },
      ],
    } as const;
    expect(missingEngineCounters(unserved)).toEqual(['RISK_NO_FRAUDS', 'terminal_count_24h']);
  });
});

describe('offline features on hand-made examples', () => {
  it('computes row features: amount, weekend (Sat/Sun), night (hour ≤ 6)', () => {
    const ds = handMade([
      [6 * H + 59 * 60, 1, 1, 10, 0], // Sunday 06:59
      [D + 7 * H, 1, 1, 20, 0], // Monday 07:00
      [6 * D + 12 * H, 1, 1, 30, 0], // Saturday
    ]);
    const m = computeOffline(ds, HANDBOOK_FEATURE_SET);
    expect([0, 1, 2].map((r) => at(m, r, 'TX_AMOUNT'))).toEqual([10, 20, 30]);
    expect([0, 1, 2].map((r) => at(m, r, 'TX_DURING_WEEKEND'))).toEqual([1, 0, 1]);
    expect([0, 1, 2].map((r) => at(m, r, 'TX_DURING_NIGHT'))).toEqual([1, 0, 0]);
  });

  it('counts customer windows over (t − n days, t], current transaction included', () => {
    const ds = handMade([
      [10 * H, 1, 1, 10, 0],
      [22 * H, 1, 2, 20, 0],
      [D + 10 * H, 1, 3, 60, 0], // exactly one day after the first: the first is out of its 1-day window
      [D + 11 * H, 2, 3, 5, 0], // another card
      [8 * D + 10 * H, 1, 1, 100, 0], // 7 days after the third: it is out of the 7-day window
    ]);
    const m = computeOffline(ds, HANDBOOK_FEATURE_SET);
    expect(at(m, 0, 'CUSTOMER_ID_NB_TX_1DAY_WINDOW')).toBe(1);
    expect(at(m, 0, 'CUSTOMER_ID_AVG_AMOUNT_1DAY_WINDOW')).toBe(10);
    expect(at(m, 2, 'CUSTOMER_ID_NB_TX_1DAY_WINDOW')).toBe(2);
    expect(at(m, 2, 'CUSTOMER_ID_AVG_AMOUNT_1DAY_WINDOW')).toBe(40);
    expect(at(m, 2, 'CUSTOMER_ID_NB_TX_7DAY_WINDOW')).toBe(3);
    expect(at(m, 2, 'CUSTOMER_ID_AVG_AMOUNT_7DAY_WINDOW')).toBe(30);
    expect(at(m, 3, 'CUSTOMER_ID_NB_TX_30DAY_WINDOW')).toBe(1);
    expect(at(m, 3, 'CUSTOMER_ID_AVG_AMOUNT_30DAY_WINDOW')).toBe(5);
    expect(at(m, 4, 'CUSTOMER_ID_NB_TX_7DAY_WINDOW')).toBe(1);
    expect(at(m, 4, 'CUSTOMER_ID_NB_TX_30DAY_WINDOW')).toBe(4);
    expect(at(m, 4, 'CUSTOMER_ID_AVG_AMOUNT_30DAY_WINDOW')).toBe(47.5);
  });

  it('counts terminal windows with the 7-day delay, over (t − (7 + n) days, t − 7 days], with fraud share', () => {
    const ds = handMade([
      [10 * H, 1, 9, 10, 1], // day 0 10:00, fraud
      [2 * D + 10 * H, 2, 9, 10, 0], // day 2 10:00
      [3 * D, 3, 9, 10, 1], // day 3 00:00, fraud: less than 7 days before rows 3–5
      [7 * D + 10 * H, 4, 9, 10, 0], // day 7 10:00: its 1-day window ends exactly at day 0 10:00 (included)
      [8 * D + 9 * H, 5, 9, 10, 0], // day 8 09:00
      [9 * D + 10 * H, 6, 9, 10, 0], // day 9 10:00
      [40 * D, 7, 9, 10, 0], // day 40: 30-day window (day 3 00:00, day 33 00:00]: the open lower end drops day 3 00:00
    ]);
    const m = computeOffline(ds, HANDBOOK_FEATURE_SET);
    const t = (r: number, n: number) => [
      at(m, r, `TERMINAL_ID_NB_TX_${n}DAY_WINDOW`),
      at(m, r, `TERMINAL_ID_RISK_${n}DAY_WINDOW`),
    ];
    expect(t(0, 1)).toEqual([0, 0]);
    expect(t(2, 30)).toEqual([0, 0]); // nothing 7 days old yet
    expect(t(3, 1)).toEqual([1, 1]);
    expect(t(4, 1)).toEqual([1, 1]);
    expect(t(5, 1)).toEqual([1, 0]);
    expect(t(5, 7)).toEqual([2, 0.5]);
    expect(t(5, 30)).toEqual([2, 0.5]);
    expect(t(6, 30)).toEqual([3, 0]);
    expect(t(6, 7)).toEqual([0, 0]);
  });

  it('computes a row range using all earlier history', () => {
    const ds = handMade([
      [10 * H, 1, 1, 10, 0],
      [11 * H, 1, 1, 30, 0],
      [12 * H, 1, 1, 50, 0],
    ]);
    const m = computeOffline(ds, HANDBOOK_FEATURE_SET, 2, 3);
    expect(m.rows).toBe(1);
    expect(at(m, 0, 'CUSTOMER_ID_NB_TX_1DAY_WINDOW')).toBe(3);
    expect(at(m, 0, 'CUSTOMER_ID_AVG_AMOUNT_1DAY_WINDOW')).toBe(30);
  });
});

describe('offline and online paths', () => {
  it('give identical vectors on a generated dataset, row by row', () => {
    const opts = { ...HANDBOOK_DEFAULTS, customers: 300, terminals: 600, days: 50, seed: 11 };
    const ds = datasetFromBatches(opts.startDate, generateHandbook(opts));
    const offline = computeOffline(ds, HANDBOOK_FEATURE_SET);
    const state = emptyOnlineState();
    let mismatches = 0,
      nonZeroRisk = 0;
    for (let i = 0; i < ds.n; i++) {
      const v = recordAndRead(state, HANDBOOK_FEATURE_SET, {
        epochSeconds: ds.epochSeconds[i]!,
        customer: ds.customer[i]!,
        terminal: ds.terminal[i]!,
        amountCents: toCents(ds.amount[i]!),
        fraud: ds.fraud[i] ? 1 : 0,
      });
      for (let c = 0; c < v.length; c++) if (!Object.is(v[c], offline.values[i * offline.cols + c])) mismatches++;
      if (v[col('TERMINAL_ID_RISK_7DAY_WINDOW')]! > 0) nonZeroRisk++;
    }
    expect(ds.n).toBeGreaterThan(20_000);
    expect(nonZeroRisk).toBeGreaterThan(100);
    expect(mismatches).toBe(0);
  });
  it('replayParity compares any window source with the offline matrix (the hook for the Redis parity test)', async () => {
    const opts = { ...HANDBOOK_DEFAULTS, customers: 200, terminals: 400, days: 45, seed: 12 };
    const ds = datasetFromBatches(opts.startDate, generateHandbook(opts));
    const offline = computeOffline(ds, HANDBOOK_FEATURE_SET);
    const report = await replayParity(ds, HANDBOOK_FEATURE_SET, new MemoryWindowSource(HANDBOOK_FEATURE_SET), offline);
    expect(report.rows).toBe(ds.n);
    expect(report.mismatches).toEqual([]);
    // and it does report a source that drifts (amounts off by a cent)
    const drifting = new MemoryWindowSource(HANDBOOK_FEATURE_SET);
    const off = {
      recordAndRead: (
        tx: Parameters<typeof drifting.recordAndRead>[0],
        w: Parameters<typeof drifting.recordAndRead>[1],
      ) => drifting.recordAndRead({ ...tx, amountCents: tx.amountCents + 1 }, w),
    };
    const bad = await replayParity(ds, HANDBOOK_FEATURE_SET, off, offline, 5);
    expect(bad.mismatches.length).toBe(6);
    expect(bad.mismatches[0]!.feature).toBe('CUSTOMER_ID_AVG_AMOUNT_1DAY_WINDOW');
  });
});
