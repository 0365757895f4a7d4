// The handbook transaction generator (docs: /work/shared/specs/simulator.md §1–2), streamed one day
// at a time in columnar typed arrays: the default run is ~1.75 M rows and never holds more than
// the 14 days that fraud scenario 3 needs to look ahead.
import { Random } from './random.ts';

export const DAY_SECONDS = 86_400;

export interface HandbookOptions {
  customers: number;
  terminals: number;
  days: number;
  /** First day, YYYY-MM-DD (UTC, the files carry no zone). */
  startDate: string;
  radius: number;
  seed: number;
  scenario1Threshold: number;
  terminalsPerDay: number;
  terminalDays: number;
  customersPerDay: number;
  customerDays: number;
  /** Share of a compromised card's window transactions that are fraud (handbook: one third). */
  customerShare: number;
  amountMultiplier: number;
}

export const HANDBOOK_DEFAULTS: HandbookOptions = {
  customers: 5000,
  terminals: 10_000,
  days: 183,
  startDate: '2018-04-01',
  radius: 5,
  seed: 0,
  scenario1Threshold: 220,
  terminalsPerDay: 2,
  terminalDays: 28,
  customersPerDay: 3,
  customerDays: 14,
  customerShare: 1 / 3,
  amountMultiplier: 5,
};

export interface CustomerProfiles {
  n: number;
  x: Float64Array;
  y: Float64Array;
  meanAmount: Float64Array;
  stdAmount: Float64Array;
  meanTxPerDay: Float64Array;
  /** Terminals in reach, CSR layout: customer c reaches terminals[offsets[c] .. offsets[c+1]). */
  offsets: Int32Array;
  reach: Int32Array;
}
export interface TerminalProfiles {
  n: number;
  x: Float64Array;
  y: Float64Array;
}

/** One day of transactions in time order, columnar. Amounts are integer cents. */
export interface DayBatch {
  day: number;
  /** TRANSACTION_ID of the first row. */
  firstId: number;
  n: number;
  customer: Int32Array;
  terminal: Int32Array;
  /** Seconds since midnight of this day. */
  second: Int32Array;
  amountCents: Int32Array;
  fraud: Uint8Array;
  scenario: Uint8Array;
  /** Rows added by another scenario (breach): the handbook scenarios leave them alone. */
  injected?: Uint8Array;
  /** Per-row payload of the scenario that added the row. */
  tags?: unknown[];
}

export function generateCustomers(opts: HandbookOptions): CustomerProfiles {
  const rng = new Random(opts.seed, 'customers');
  const n = opts.customers;
  const p: CustomerProfiles = {
    n,
    x: new Float64Array(n),
    y: new Float64Array(n),
    meanAmount: new Float64Array(n),
    stdAmount: new Float64Array(n),
    meanTxPerDay: new Float64Array(n),
    offsets: new Int32Array(n + 1),
    reach: new Int32Array(0),
  };
  for (let c = 0; c < n; c++) {
    p.x[c] = rng.uniform(0, 100);
    p.y[c] = rng.uniform(0, 100);
    p.meanAmount[c] = rng.uniform(5, 100);
    p.stdAmount[c] = p.meanAmount[c]! / 2;
    p.meanTxPerDay[c] = rng.uniform(0, 4);
  }
  return p;
}

export function generateTerminals(opts: HandbookOptions): TerminalProfiles {
  const rng = new Random(opts.seed, 'terminals');
  const n = opts.terminals;
  const t: TerminalProfiles = { n, x: new Float64Array(n), y: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    t.x[i] = rng.uniform(0, 100);
    t.y[i] = rng.uniform(0, 100);
  }
  return t;
}

/** Fills customers' terminals in reach: Euclidean distance strictly below r, in terminal id order. */
export function assignReach(customers: CustomerProfiles, terminals: TerminalProfiles, r: number): void {
  const cell = Math.max(r, 1e-9);
  const side = Math.max(1, Math.ceil(100 / cell));
  const cellOf = (v: number) => Math.min(side - 1, Math.max(0, Math.floor(v / cell)));
  const buckets: number[][] = Array.from({ length: side * side }, () => []);
  for (let t = 0; t < terminals.n; t++) buckets[cellOf(terminals.y[t]!) * side + cellOf(terminals.x[t]!)]!.push(t);
  const reach: number[] = [];
  const r2 = r * r;
  for (let c = 0; c < customers.n; c++) {
    customers.offsets[c] = reach.length;
    const cx = customers.x[c]!,
      cy = customers.y[c]!;
    const found: number[] = [];
    const span = Math.ceil(r / cell);
    const gx = cellOf(cx),
      gy = cellOf(cy);
    for (let yy = Math.max(0, gy - span); yy <= Math.min(side - 1, gy + span); yy++) {
      for (let xx = Math.max(0, gx - span); xx <= Math.min(side - 1, gx + span); xx++) {
        for (const t of buckets[yy * side + xx]!) {
          const dx = terminals.x[t]! - cx,
            dy = terminals.y[t]! - cy;
          if (dx * dx + dy * dy < r2) found.push(t);
        }
      }
    }
    found.sort((a, b) => a - b);
    for (const t of found) reach.push(t);
  }
  customers.offsets[customers.n] = reach.length;
  customers.reach = Int32Array.from(reach);
}

/** Date of day `day` after `startDate`, as YYYY-MM-DD. */
export function dayDate(startDate: string, day: number): string {
  return new Date(Date.parse(`${startDate}T00:00:00Z`) + day * DAY_SECONDS * 1000).toISOString().slice(0, 10);
}

export interface Population {
  customers: CustomerProfiles;
  terminals: TerminalProfiles;
}

export function generatePopulation(opts: HandbookOptions): Population {
  const customers = generateCustomers(opts);
  const terminals = generateTerminals(opts);
  assignReach(customers, terminals, opts.radius);
  return { customers, terminals };
}

/** Genuine transactions of one day (before any fraud scenario), sorted by time of day. */
export function generateGenuineDay(pop: Population, rng: Random, day: number): Omit<DayBatch, 'firstId'> {
  const { customers: cp } = pop;
  const cust: number[] = [],
    term: number[] = [],
    sec: number[] = [],
    amt: number[] = [];
  for (let c = 0; c < cp.n; c++) {
    const from = cp.offsets[c]!,
      to = cp.offsets[c + 1]!;
    if (to === from) continue;
    const k = rng.poisson(cp.meanTxPerDay[c]!);
    for (let i = 0; i < k; i++) {
      const t = Math.trunc(rng.normal(DAY_SECONDS / 2, 20_000));
      if (!(t > 0 && t < DAY_SECONDS)) continue;
      const mean = cp.meanAmount[c]!;
      let a = rng.normal(mean, cp.stdAmount[c]!);
      if (a < 0) a = rng.uniform(0, 2 * mean);
      cust.push(c);
      term.push(cp.reach[from + rng.int(to - from)]!);
      sec.push(t);
      amt.push(Math.round(a * 100));
    }
  }
  const n = cust.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => sec[i]! - sec[j]! || i - j);
  const b = {
    day,
    n,
    customer: new Int32Array(n),
    terminal: new Int32Array(n),
    second: new Int32Array(n),
    amountCents: new Int32Array(n),
    fraud: new Uint8Array(n),
    scenario: new Uint8Array(n),
  };
  order.forEach((src, i) => {
    b.customer[i] = cust[src]!;
    b.terminal[i] = term[src]!;
    b.second[i] = sec[src]!;
    b.amountCents[i] = amt[src]!;
  });
  return b;
}

/** The scenario draws, [day, id], for tests and audits. */
export interface ScenarioTrace {
  terminals: [number, number][];
  customers: [number, number][];
}

/**
 * Streams the handbook dataset day by day, fraud scenarios applied (1, then 2, then 3, each
 * overwriting the scenario code). `hook` may add rows to a day before the scenarios run
 * (the breach scenario uses it); ids are assigned when a day is final.
 */
export function* generateHandbook(
  opts: HandbookOptions,
  pop: Population = generatePopulation(opts),
  hook?: (day: Omit<DayBatch, 'firstId'>) => Omit<DayBatch, 'firstId'>,
  trace?: ScenarioTrace,
): Generator<DayBatch> {
  const txRng = new Random(opts.seed, 'transactions');
  const s2 = new Random(opts.seed, 'scenario2');
  const s3 = new Random(opts.seed, 'scenario3');
  const compromisedUntil = new Int32Array(pop.terminals.n); // exclusive day; 0 = never
  const threshold = Math.round(opts.scenario1Threshold * 100);
  const buffer = new Map<number, Omit<DayBatch, 'firstId'>>();
  let nextId = 0;

  const applyScenario3 = (drawDay: number) => {
    const chosen = new Set(s3.sample(pop.customers.n, Math.min(opts.customersPerDay, pop.customers.n)));
    for (const c of chosen) trace?.customers.push([drawDay, c]);
    const pool: [Omit<DayBatch, 'firstId'>, number][] = [];
    for (let d = drawDay; d < Math.min(opts.days, drawDay + opts.customerDays); d++) {
      const b = buffer.get(d)!;
      for (let i = 0; i < b.n; i++) if (chosen.has(b.customer[i]!) && !b.injected?.[i]) pool.push([b, i]);
    }
    for (const k of s3.sample(pool.length, Math.floor(pool.length * opts.customerShare + 1e-9))) {
      const [b, i] = pool[k]!;
      b.amountCents[i] = b.amountCents[i]! * opts.amountMultiplier;
      b.fraud[i] = 1;
      b.scenario[i] = 3;
    }
  };
  const emit = (d: number): DayBatch => {
    const b = buffer.get(d)!;
    buffer.delete(d);
    const out = { ...b, firstId: nextId };
    nextId += b.n;
    return out;
  };

  for (let day = 0; day < opts.days; day++) {
    let b = generateGenuineDay(pop, txRng, day);
    if (hook) b = hook(b);
    for (let i = 0; i < b.n; i++) {
      if (b.amountCents[i]! > threshold && !b.injected?.[i]) {
        b.fraud[i] = 1;
        b.scenario[i] = 1;
      }
    }
    for (const t of s2.sample(pop.terminals.n, Math.min(opts.terminalsPerDay, pop.terminals.n))) {
      compromisedUntil[t] = Math.max(compromisedUntil[t]!, day + opts.terminalDays);
      trace?.terminals.push([day, t]);
    }
    for (let i = 0; i < b.n; i++) {
      if (compromisedUntil[b.terminal[i]!]! > day && !b.injected?.[i]) {
        b.fraud[i] = 1;
        b.scenario[i] = 2;
      }
    }
    buffer.set(day, b);
    const ready = day - (opts.customerDays - 1);
    if (ready >= 0) {
      applyScenario3(ready);
      yield emit(ready);
    }
  }
  for (let d = Math.max(0, opts.days - (opts.customerDays - 1)); d < opts.days; d++) {
    applyScenario3(d);
    yield emit(d);
  }
}
