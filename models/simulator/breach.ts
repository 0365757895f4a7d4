// Leakguard's breach scenario (spec §5), on top of the handbook generator.
//
// - Some terminals are e-commerce merchants (channel 'ecom'); the others are 'pos'. Every row gets
//   channel, card (a synthetic Luhn-valid PAN per customer, expiry), and for e-commerce rows the
//   customer's device, IP, email and shipping address.
// - Breaches: a merchant (a chain of busy terminals) leaks the cards used there during the
//   exposure window before the breach day. Leaked fields: PAN, expiry, CVV, name, email, address.
// - A share of the leaked cards is used after a delay: card testing (a few small amounts at several
//   e-commerce merchants within minutes to hours), then cash-out (high amounts, often at night) from
//   fraudster devices, IPs and shipping addresses shared across cards; reshippers are reused
//   again and again (Zipf-like choice). Scenario codes: 4 card testing, 5 cash-out.
// - Some leaked cards are reissued (new expiry) before their fraud starts: attempts with the old
//   credentials are declined (AUTH_RESULT=declined), still labelled fraud.
// - Issuers learn of a breach late and upload part of their leaked cards: one list per issuer and
//   breach in the watchlist upload format (pan,expiry_month,expiry_year), its upload time in
//   issuer-lists/uploads.csv (coverage and lag are parameters). Leaked expiries are the original ones.
// - Currencies are regions (currencies.ts): bands of the x coordinate sized by the currencies'
//   shares, so a customer and the terminals in its reach mostly share one. Every row is in its
//   terminal's currency (the fraud too: the currency of the merchant where the card is used):
//   CURRENCY, and AMOUNT_MINOR, the euro amount converted at the rate in force on the row's date
//   (the engine's default rate table) and rounded to the currency's ISO 4217 minor unit.
//   TX_AMOUNT stays the euro amount, so the handbook features and protocol are unchanged.
// The handbook rows are untouched: breach rows are added beside them and exempt from scenarios 1–3.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RateTable } from '../../services/core/currency.ts';
import { readRatesFile } from '../../services/adapters/files/rates-file.ts';
import { Random } from './random.ts';
import { CurrencyRegions, DEFAULT_CURRENCIES, formatCurrencies, type CurrencyShare } from './currencies.ts';
import { DAY_SECONDS, dayDate, type DayBatch, type HandbookOptions, type Population } from './handbook.ts';
import type { ExtraColumns } from './csv.ts';

export interface BreachOptions {
  breaches: number;
  /** Terminals of one breached merchant (a chain: every terminal leaks). */
  merchantTerminals: number;
  breachDay: number;
  breachInterval: number;
  exposureDays: number;
  delayMinDays: number;
  delayMaxDays: number;
  useShare: number;
  testingMerchants: number;
  cashoutMax: number;
  reshippers: number;
  fraudDevices: number;
  issuerCoverage: number;
  issuerLagMinDays: number;
  issuerLagMaxDays: number;
  reissueShare: number;
  ecomShare: number;
  /** Currency regions: codes with their shares of the x axis (parseCurrencies), in band order. */
  currencies: readonly CurrencyShare[];
}
export const BREACH_DEFAULTS: BreachOptions = {
  breaches: 2,
  merchantTerminals: 20,
  breachDay: 60,
  breachInterval: 30,
  exposureDays: 60,
  delayMinDays: 3,
  delayMaxDays: 21,
  useShare: 0.4,
  testingMerchants: 4,
  cashoutMax: 4,
  reshippers: 12,
  fraudDevices: 40,
  issuerCoverage: 0.6,
  issuerLagMinDays: 10,
  issuerLagMaxDays: 40,
  reissueShare: 0.15,
  ecomShare: 0.3,
  currencies: DEFAULT_CURRENCIES,
};
/** Rows per currency (the terminal's): all, frauds, breach frauds (scenarios 4 and 5). */
export interface CurrencyCounts {
  transactions: number;
  frauds: number;
  breachFrauds: number;
}
export interface BreachSummary {
  breaches: number;
  leakedCards: number;
  usedCards: number;
  reissuedCards: number;
  testingTransactions: number;
  cashoutTransactions: number;
  declinedTransactions: number;
  issuerUploads: number;
  uploadedCards: number;
  /** By currency, in the order of the options; the rate table's version. */
  byCurrency: Record<string, CurrencyCounts>;
  rates: string;
}

export const BREACH_COLUMNS = [
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
] as const;

export const ISSUERS = [
  { id: 'issuer-a', bin: '400012' },
  { id: 'issuer-b', bin: '510034' },
  { id: 'issuer-c', bin: '455678' },
] as const;

/** Luhn check digit for a digit string. */
export function luhnCheckDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}
export function luhnValid(pan: string): boolean {
  return luhnCheckDigit(pan.slice(0, -1)) === pan.charCodeAt(pan.length - 1) - 48;
}

interface BreachEvent {
  id: string;
  terminals: number[];
  day: number;
  leaked: number[];
}
interface FraudRow {
  day: number;
  second: number;
  customer: number;
  terminal: number;
  cents: number;
  scenario: 4 | 5;
  device: string;
  ip: string;
  email: string;
  shipping: string;
  declined: boolean;
  breach: string;
}
interface Tag {
  device: string;
  ip: string;
  email: string;
  shipping: string;
  declined: boolean;
  breach: string;
  /** Expiry the fraudster presents (the leaked one). */
  expiry: string;
}

export class BreachScenario {
  readonly opts: BreachOptions;
  private readonly hb: HandbookOptions;
  private readonly pop: Population;
  private readonly rng: Random;
  private readonly ecom: Uint8Array;
  private readonly ecomTerminals: number[];
  private readonly breachTerminals: Map<number, number>; // terminal → breach index
  private readonly merchants: number[][] = []; // breach index → its terminals
  private readonly lastUse = new Map<number, Map<number, number>>(); // breached terminal → customer → last day
  /** Day from which a customer's card carries its reissued expiry. */
  private readonly reissuedFrom = new Map<number, number>();
  private readonly pending = new Map<number, FraudRow[]>();
  readonly events: BreachEvent[] = [];
  readonly uploads: { issuer: string; breach: string; uploadedAt: string; cards: number[] }[] = [];
  private readonly stats: Omit<BreachSummary, 'byCurrency' | 'rates'> = {
    breaches: 0,
    leakedCards: 0,
    usedCards: 0,
    reissuedCards: 0,
    testingTransactions: 0,
    cashoutTransactions: 0,
    declinedTransactions: 0,
    issuerUploads: 0,
    uploadedCards: 0,
  };
  readonly rates: RateTable;
  readonly regions: CurrencyRegions;
  /** Currency index (into regions.codes) of every terminal and every customer (cardholder). */
  private readonly terminalCurrencyIndex: Uint8Array;
  private readonly customerCurrencyIndex: Uint8Array;
  private readonly currencyCounts: CurrencyCounts[];

  /** `rates`: the table amounts are converted with (default: the engine's default table). */
  constructor(opts: BreachOptions, hb: HandbookOptions, pop: Population, rates: RateTable = readRatesFile()) {
    this.opts = opts;
    this.hb = hb;
    this.pop = pop;
    this.rates = rates;
    const missing = opts.currencies.filter((c) => !rates.has(c.currency)).map((c) => c.currency);
    if (missing.length)
      throw new Error(
        `breach currencies ${formatCurrencies(opts.currencies)}: the rate table ${rates.version} has no rate for ${missing.join(', ')}`,
      );
    if (opts.currencies.length > 255) throw new Error('at most 255 breach currencies');
    // Regions come from the positions alone: no random draw, so every other column is the same whatever the currencies.
    this.regions = new CurrencyRegions(opts.currencies);
    this.terminalCurrencyIndex = Uint8Array.from(pop.terminals.x, (x) => this.regions.indexAt(x));
    this.customerCurrencyIndex = Uint8Array.from(pop.customers.x, (x) => this.regions.indexAt(x));
    this.currencyCounts = this.regions.codes.map(() => ({ transactions: 0, frauds: 0, breachFrauds: 0 }));
    this.rng = new Random(hb.seed, 'breach');
    const setup = new Random(hb.seed, 'breach-setup');
    this.ecom = new Uint8Array(pop.terminals.n);
    this.ecomTerminals = [];
    for (let t = 0; t < pop.terminals.n; t++)
      if (setup.next() < opts.ecomShare) {
        this.ecom[t] = 1;
        this.ecomTerminals.push(t);
      }
    if (this.ecomTerminals.length === 0) this.ecomTerminals.push(0);
    // breached merchants: chains of terminals drawn among the busiest (most customers in reach)
    const reachCount = new Int32Array(pop.terminals.n);
    for (const t of pop.customers.reach) reachCount[t]!++;
    const busiest = Array.from({ length: pop.terminals.n }, (_, t) => t)
      .sort((a, b) => reachCount[b]! - reachCount[a]! || a - b)
      .slice(0, Math.max(1, Math.ceil(pop.terminals.n / 5)));
    this.breachTerminals = new Map();
    for (let k = 0; k < opts.breaches; k++) {
      const free = busiest.filter((t) => !this.breachTerminals.has(t));
      const chain = setup
        .sample(free.length, Math.min(free.length, Math.max(1, opts.merchantTerminals)))
        .map((i) => free[i]!);
      this.merchants.push(chain);
      for (const t of chain) {
        this.breachTerminals.set(t, k);
        this.lastUse.set(t, new Map());
      }
    }
  }

  channel(terminal: number): 'ecom' | 'pos' {
    return this.ecom[terminal] ? 'ecom' : 'pos';
  }

  /** The merchant's (terminal's) currency: every transaction there is in it. */
  terminalCurrency(terminal: number): string {
    return this.regions.codes[this.terminalCurrencyIndex[terminal]!]!;
  }

  /** The cardholder's home currency (the region it lives in). */
  customerCurrency(customer: number): string {
    return this.regions.codes[this.customerCurrencyIndex[customer]!]!;
  }

  static pan(customer: number): string {
    const issuer = ISSUERS[customer % ISSUERS.length]!;
    const body = issuer.bin + String(customer).padStart(9, '0');
    return body + luhnCheckDigit(body);
  }

  static issuerOf(customer: number): string {
    return ISSUERS[customer % ISSUERS.length]!.id;
  }

  /** Expiry as MM/YY: 3 years after the start, month from the customer; reissued cards get a new one. */
  expiry(customer: number, day: number): string {
    const start = new Date(`${this.hb.startDate}T00:00:00Z`);
    const reissued = (this.reissuedFrom.get(customer) ?? Infinity) <= day;
    const year = (start.getUTCFullYear() + 3 + (reissued ? 1 : 0)) % 100;
    const month = reissued ? ((customer + 5) % 12) + 1 : (customer % 12) + 1;
    return `${String(month).padStart(2, '0')}/${String(year).padStart(2, '0')}`;
  }

  private breachDays(): number[] {
    return Array.from({ length: this.opts.breaches }, (_, k) => this.opts.breachDay + k * this.opts.breachInterval);
  }

  /** generateHandbook hook: observes genuine rows, triggers breaches, adds the day's fraud rows. */
  readonly hook = (b: Omit<DayBatch, 'firstId'>): Omit<DayBatch, 'firstId'> => {
    for (let i = 0; i < b.n; i++) {
      const uses = this.lastUse.get(b.terminal[i]!);
      if (uses) uses.set(b.customer[i]!, b.day);
    }
    const days = this.breachDays();
    this.merchants.forEach((chain, k) => {
      if (days[k] === b.day) this.breach(chain, k, b.day);
    });
    const rows = this.pending.get(b.day);
    if (!rows?.length) return b;
    this.pending.delete(b.day);
    return this.merge(b, rows);
  };

  private breach(chain: number[], k: number, day: number): void {
    const o = this.opts,
      rng = this.rng;
    const leakedSet = new Set<number>();
    for (const t of chain) for (const [c, d] of this.lastUse.get(t)!) if (d >= day - o.exposureDays) leakedSet.add(c);
    const leaked = [...leakedSet].sort((a, b) => a - b);
    const id = `B${k + 1}`;
    this.events.push({ id, terminals: chain, day, leaked });
    this.stats.breaches++;
    this.stats.leakedCards += leaked.length;
    // fraudster infrastructure of this breach: devices, IPs, a pool of reshippers (reused, Zipf-like)
    const devices = Array.from({ length: Math.max(1, o.fraudDevices) }, (_, i) => `fd-${id}-${i.toString(16)}`);
    const ips = Array.from(
      { length: Math.max(1, Math.ceil(o.fraudDevices / 2)) },
      () => `185.${rng.int(256)}.${rng.int(256)}.${1 + rng.int(254)}`,
    );
    const reshippers = Array.from(
      { length: Math.max(1, o.reshippers) },
      (_, i) => `RESHIP-${id}-${i} Unit ${100 + rng.int(900)} Harbor Rd`,
    );
    // log-uniform index: the first reshippers take most of the parcels, again and again
    const zipf = (n: number) => Math.min(n - 1, Math.floor(n ** rng.next()) - 1);
    // issuers: each uploads part of its leaked cards, late
    const byIssuer = new Map<string, number[]>();
    for (const c of leaked) {
      const is = BreachScenario.issuerOf(c);
      if (!byIssuer.has(is)) byIssuer.set(is, []);
      byIssuer.get(is)!.push(c);
    }
    for (const [issuer, cards] of byIssuer) {
      const covered = cards.filter(() => rng.next() < o.issuerCoverage);
      if (covered.length === 0) continue;
      const lagSeconds = Math.round(rng.uniform(o.issuerLagMinDays, o.issuerLagMaxDays) * DAY_SECONDS);
      const at = Date.parse(`${this.hb.startDate}T00:00:00Z`) + (day * DAY_SECONDS + lagSeconds) * 1000;
      this.uploads.push({
        issuer,
        breach: id,
        uploadedAt: new Date(at).toISOString().replace('T', ' ').slice(0, 19),
        cards: covered,
      });
      this.stats.issuerUploads++;
      this.stats.uploadedCards += covered.length;
    }
    for (const c of leaked) {
      if (rng.next() >= o.useShare) continue;
      this.stats.usedCards++;
      const start = day + Math.round(rng.uniform(o.delayMinDays, o.delayMaxDays));
      if (rng.next() < o.reissueShare) {
        // reissued between the breach and the first use: the leaked credentials now fail
        const at = day + 1 + rng.int(Math.max(1, start - day));
        if (!this.reissuedFrom.has(c)) {
          this.reissuedFrom.set(c, at);
          this.stats.reissuedCards++;
        }
      }
      const email = `${['sam', 'alex', 'kim', 'lee'][rng.int(4)]}${rng.int(100000)}@mailbox.example`;
      const device = devices[rng.int(devices.length)]!,
        ip = ips[rng.int(ips.length)]!;
      let t = start * DAY_SECONDS + rng.int(DAY_SECONDS);
      const add = (second: number, cents: number, scenario: 4 | 5, shipping: string, dev = device) => {
        const d = Math.floor(second / DAY_SECONDS);
        if (d >= this.hb.days) return;
        const row: FraudRow = {
          day: d,
          second: second - d * DAY_SECONDS,
          customer: c,
          terminal: this.ecomTerminals[rng.int(this.ecomTerminals.length)]!,
          cents,
          scenario,
          device: dev,
          ip,
          email,
          shipping,
          declined: (this.reissuedFrom.get(c) ?? Infinity) <= d,
          breach: id,
        };
        if (!this.pending.has(d)) this.pending.set(d, []);
        this.pending.get(d)!.push(row);
        if (scenario === 4) this.stats.testingTransactions++;
        else this.stats.cashoutTransactions++;
        if (row.declined) this.stats.declinedTransactions++;
      };
      // card testing: a few small amounts within minutes to hours
      const tests = 1 + rng.int(Math.max(1, o.testingMerchants));
      for (let i = 0; i < tests; i++) {
        add(t, 50 + rng.int(150), 4, '');
        t += 60 + rng.int(3 * 3600);
      }
      // cash-out (unless the card was declined: fraudsters drop it): high amounts, often at night
      if ((this.reissuedFrom.get(c) ?? Infinity) <= Math.floor(t / DAY_SECONDS)) continue;
      const cashouts = 1 + rng.int(Math.max(1, o.cashoutMax));
      let when = (Math.floor(t / DAY_SECONDS) + 1 + rng.int(2)) * DAY_SECONDS; // from the next day on
      for (let i = 0; i < cashouts; i++) {
        const night = rng.next() < 0.7;
        const second = when + (night ? rng.int(6 * 3600) : 6 * 3600 + rng.int(18 * 3600));
        const shipping = reshippers[zipf(reshippers.length)]!;
        add(
          Math.max(second, t + 60),
          Math.round(rng.uniform(150, 900) * 100),
          5,
          shipping,
          rng.next() < 0.2 ? devices[rng.int(devices.length)]! : device,
        );
        when += rng.int(2) * DAY_SECONDS;
      }
    }
  }

  private merge(b: Omit<DayBatch, 'firstId'>, rows: FraudRow[]): Omit<DayBatch, 'firstId'> {
    const n = b.n + rows.length;
    const order: [number, number][] = []; // [second, source]: source < b.n genuine, else fraud row
    for (let i = 0; i < b.n; i++) order.push([b.second[i]!, i]);
    rows.forEach((r, k) => order.push([r.second, b.n + k]));
    order.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    const out: Omit<DayBatch, 'firstId'> = {
      day: b.day,
      n,
      customer: new Int32Array(n),
      terminal: new Int32Array(n),
      second: new Int32Array(n),
      amountCents: new Int32Array(n),
      fraud: new Uint8Array(n),
      scenario: new Uint8Array(n),
      injected: new Uint8Array(n),
      tags: new Array(n),
    };
    order.forEach(([, src], i) => {
      if (src < b.n) {
        out.customer[i] = b.customer[src]!;
        out.terminal[i] = b.terminal[src]!;
        out.second[i] = b.second[src]!;
        out.amountCents[i] = b.amountCents[src]!;
        out.fraud[i] = b.fraud[src]!;
        out.scenario[i] = b.scenario[src]!;
        out.injected![i] = b.injected?.[src] ?? 0;
        out.tags![i] = b.tags?.[src];
      } else {
        const r = rows[src - b.n]!;
        out.customer[i] = r.customer;
        out.terminal[i] = r.terminal;
        out.second[i] = r.second;
        out.amountCents[i] = r.cents;
        out.fraud[i] = 1;
        out.scenario[i] = r.scenario;
        out.injected![i] = 1;
        const tag: Tag = {
          device: r.device,
          ip: r.ip,
          email: r.email,
          shipping: r.shipping,
          declined: r.declined,
          breach: r.breach,
          expiry: this.expiry(r.customer, -1),
        };
        out.tags![i] = tag;
      }
    });
    return out;
  }

  /**
   * The breach columns of a final day batch, for the CSV writer. Counts the batch's rows per
   * currency for the summary: call it once per batch.
   */
  columns(b: DayBatch): ExtraColumns {
    const start = Date.parse(`${this.hb.startDate}T00:00:00Z`) + b.day * DAY_SECONDS * 1000;
    const minor = new Float64Array(b.n);
    for (let i = 0; i < b.n; i++) {
      const ci = this.terminalCurrencyIndex[b.terminal[i]!]!;
      // the rate in force at the transaction's time (rates change at 00:00 UTC of their dates)
      minor[i] = this.rates.fromReference(
        b.amountCents[i]! / 100,
        this.regions.codes[ci]!,
        start + b.second[i]! * 1000,
      );
      const counts = this.currencyCounts[ci]!;
      counts.transactions++;
      if (b.fraud[i]) counts.frauds++;
      if (b.scenario[i] === 4 || b.scenario[i] === 5) counts.breachFrauds++;
    }
    return {
      names: BREACH_COLUMNS,
      value: (i, k) => {
        const c = b.customer[i]!;
        const tag = b.tags?.[i] as Tag | undefined;
        const ch = tag ? 'ecom' : this.channel(b.terminal[i]!);
        switch (BREACH_COLUMNS[k]) {
          case 'CARD_PAN':
            return BreachScenario.pan(c);
          case 'CARD_EXPIRY':
            return tag ? tag.expiry : this.expiry(c, b.day);
          case 'CHANNEL':
            return ch;
          case 'DEVICE_ID':
            return tag ? tag.device : ch === 'ecom' ? `dv-${((c * 2654435761) >>> 0).toString(16)}` : '';
          case 'IP':
            return tag ? tag.ip : ch === 'ecom' ? `10.${(c >> 8) & 255}.${c & 255}.${1 + (c % 250)}` : '';
          case 'EMAIL':
            return tag ? tag.email : ch === 'ecom' ? `customer${c}@mail.example` : '';
          case 'SHIPPING_ADDRESS':
            return tag ? tag.shipping : ch === 'ecom' ? `${1 + (c % 300)} Elm St Apt ${c}` : '';
          case 'AUTH_RESULT':
            return tag?.declined ? 'declined' : 'approved';
          case 'BREACH_ID':
            return tag ? tag.breach : '';
          case 'CURRENCY':
            return this.terminalCurrency(b.terminal[i]!);
          case 'AMOUNT_MINOR':
            return String(minor[i]);
          default:
            return '';
        }
      },
    };
  }

  /** breaches.csv and issuer-lists/ (one file per issuer and breach, plus uploads.csv). */
  writeSideFiles(dir: string): void {
    // data element names of the watchlist API (services/core/watchlist.ts)
    const fields = 'pan;expiry;cvv;name;email;billing_address';
    const lines = [
      'BREACH_ID,TERMINAL_IDS,BREACH_DATE,EXPOSURE_FROM,EXPOSURE_TO,LEAKED_FIELDS,LEAKED_CARDS,FIRST_ISSUER_UPLOAD,TERMINAL_CURRENCIES',
    ];
    for (const e of this.events) {
      const first =
        this.uploads
          .filter((u) => u.breach === e.id)
          .map((u) => u.uploadedAt)
          .sort()[0] ?? '';
      // the breached merchant's terminals per currency, most first: JPY:14 EUR:6
      const perCurrency = new Map<string, number>();
      for (const t of e.terminals)
        perCurrency.set(this.terminalCurrency(t), (perCurrency.get(this.terminalCurrency(t)) ?? 0) + 1);
      const currencies = [...perCurrency]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .map(([c, n]) => `${c}:${n}`)
        .join(' ');
      lines.push(
        [
          e.id,
          e.terminals.join(' '),
          dayDate(this.hb.startDate, e.day),
          dayDate(this.hb.startDate, Math.max(0, e.day - this.opts.exposureDays)),
          dayDate(this.hb.startDate, e.day - 1),
          fields,
          e.leaked.length,
          first,
          currencies,
        ].join(','),
      );
    }
    writeFileSync(join(dir, 'breaches.csv'), lines.join('\n') + '\n');
    const listDir = join(dir, 'issuer-lists');
    mkdirSync(listDir, { recursive: true });
    const index = ['ISSUER,BREACH_ID,UPLOADED_AT,FILE,CARDS'];
    for (const u of this.uploads) {
      const file = `${u.issuer}-${u.breach}.csv`;
      // the upload format of `npm run upload` / POST /v1/compromise-events/{id}/cards
      const lines = u.cards.map((c) => {
        const [mm, yy] = this.expiry(c, -1).split('/');
        return `${BreachScenario.pan(c)},${Number(mm)},${2000 + Number(yy)}`;
      });
      writeFileSync(join(listDir, file), ['pan,expiry_month,expiry_year', ...lines].join('\n') + '\n');
      index.push([u.issuer, u.breach, u.uploadedAt, file, u.cards.length].join(','));
    }
    writeFileSync(join(listDir, 'uploads.csv'), index.join('\n') + '\n');
  }

  summary(): BreachSummary {
    const byCurrency = Object.fromEntries(this.regions.codes.map((c, i) => [c, { ...this.currencyCounts[i]! }]));
    return { ...this.stats, byCurrency, rates: this.rates.version };
  }
}
