// Handbook CSV format: writing one file per day, and reading one file or a folder of daily files,
// with or without the unnamed leading index column pandas adds. Rows are read into columns.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DAY_SECONDS, dayDate, type DayBatch } from './handbook.ts';

export const HANDBOOK_COLUMNS = [
  'TRANSACTION_ID',
  'TX_DATETIME',
  'CUSTOMER_ID',
  'TERMINAL_ID',
  'TX_AMOUNT',
  'TX_TIME_SECONDS',
  'TX_TIME_DAYS',
  'TX_FRAUD',
  'TX_FRAUD_SCENARIO',
] as const;

const pad2 = (v: number) => (v < 10 ? `0${v}` : `${v}`);

export function formatCents(c: number): string {
  const sign = c < 0 ? '-' : '';
  const a = Math.abs(c);
  return `${sign}${Math.floor(a / 100)}.${pad2(a % 100)}`;
}

export function formatClock(second: number): string {
  return `${pad2(Math.floor(second / 3600))}:${pad2(Math.floor(second / 60) % 60)}:${pad2(second % 60)}`;
}

/** Extra per-row columns (the breach scenario's), appended after the handbook columns. */
export interface ExtraColumns {
  names: readonly string[];
  value(row: number, column: number): string;
}

export function dayCsv(startDate: string, b: DayBatch, extra?: ExtraColumns): string {
  const date = dayDate(startDate, b.day);
  const parts: string[] = [[...HANDBOOK_COLUMNS, ...(extra?.names ?? [])].join(',')];
  for (let i = 0; i < b.n; i++) {
    const s = b.second[i]!;
    let line = `${b.firstId + i},${date} ${formatClock(s)},${b.customer[i]},${b.terminal[i]},${formatCents(b.amountCents[i]!)},${b.day * DAY_SECONDS + s},${b.day},${b.fraud[i]},${b.scenario[i]}`;
    if (extra) for (let k = 0; k < extra.names.length; k++) line += `,${extra.value(i, k)}`;
    parts.push(line);
  }
  return parts.join('\n') + '\n';
}

export function writeDay(dir: string, startDate: string, b: DayBatch, extra?: ExtraColumns): string {
  const file = join(dir, `${dayDate(startDate, b.day)}.csv`);
  writeFileSync(file, dayCsv(startDate, b, extra));
  return file;
}

/** A handbook dataset in memory, columnar, in file order (time order). */
export interface Dataset {
  n: number;
  transactionId: Float64Array;
  /** TX_DATETIME as seconds since the Unix epoch (the naive time read as UTC). */
  epochSeconds: Float64Array;
  customer: Int32Array;
  terminal: Int32Array;
  amount: Float64Array;
  timeSeconds: Float64Array;
  timeDays: Int32Array;
  fraud: Uint8Array;
  scenario: Uint8Array;
  /** Any other column (breach mode), as strings. */
  extra: Map<string, string[]>;
  /** Where each row was read (readDataset): for messages that name the file, line and column. */
  origin?: DatasetOrigin;
}

/** The files a dataset was read from, the first row of each, and each row's line in its file. */
export interface DatasetOrigin {
  files: string[];
  headers: string[][];
  firstRow: number[];
  line: Int32Array;
}

/**
 * A dataset that cannot be read or replayed as it is: one line naming the file, the line and the
 * column (`FILE:LINE:COLUMN: NAME: expected …`), never the value itself (a field may hold a card number).
 */
export class DatasetError extends Error {}

/** `FILE:LINE` of a dataset row, `FILE:LINE:COLUMN (NAME)` with a column; `row N` for a dataset made in memory. */
export function rowPlace(ds: Dataset, row: number, column?: string): string {
  const o = ds.origin;
  if (!o) return `row ${row}${column ? ` (${column})` : ''}`;
  let f = 0;
  while (f + 1 < o.firstRow.length && o.firstRow[f + 1]! <= row) f++;
  const at = `${o.files[f]}:${o.line[row]}`;
  if (column === undefined) return at;
  const c = o.headers[f]!.indexOf(column);
  return c < 0 ? `${at} (${column})` : `${at}:${c + 1} (${column})`;
}

/** What a field that should be a number holds instead, in words (never the field itself). */
function notANumber(field: string | undefined): string {
  return field === undefined ? 'no field' : field.trim() === '' ? 'an empty field' : 'other text';
}

export interface ReadOptions {
  /** Only daily files (YYYY-MM-DD.csv) within [from, to] are read from a folder. */
  fromDate?: string;
  toDate?: string;
  keepExtra?: boolean;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The number the digits s[from, to) spell; NaN when one is not a digit. */
function digits(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return v;
}

/**
 * YYYY-MM-DD HH:MM:SS (the time, or its seconds, optional; fractional seconds ignored) on a
 * calendar day, as epoch seconds; NaN otherwise (Date.UTC would roll 2018-02-30 into March). Read
 * character by character: it runs once a row.
 */
function parseDateTime(s: string): number {
  const n = s.length;
  if (n < 10 || s[4] !== '-' || s[7] !== '-') return NaN;
  const y = digits(s, 0, 4),
    mo = digits(s, 5, 7),
    d = digits(s, 8, 10);
  let h = 0,
    mi = 0,
    se = 0;
  if (n > 10) {
    if ((s[10] !== ' ' && s[10] !== 'T') || n < 16 || s[13] !== ':') return NaN;
    h = digits(s, 11, 13);
    mi = digits(s, 14, 16);
    if (n > 16) {
      if (s[16] !== ':' || n < 19 || (n > 19 && (s[19] !== '.' || Number.isNaN(digits(s, 20, n))))) return NaN;
      se = digits(s, 17, 19);
    }
  }
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  // NaN fails every comparison below: `!(…)` refuses it
  if (!(mo >= 1 && mo <= 12 && d >= 1 && d <= MONTH_DAYS[mo - 1]! + (mo === 2 && leap ? 1 : 0))) return NaN;
  if (!(h <= 23 && mi <= 59 && se <= 59)) return NaN;
  return Date.UTC(y, mo - 1, d, h, mi, se) / 1000;
}

/** One file, or a folder's daily files (YYYY-MM-DD.csv; other .csv files only when there are none). */
export function listDataFiles(path: string, opts: ReadOptions = {}): string[] {
  if (!statSync(path).isDirectory()) return [path];
  const csv = readdirSync(path)
    .filter((f) => f.endsWith('.csv'))
    .sort();
  const daily = csv.filter((f) => /^\d{4}-\d{2}-\d{2}\.csv$/.test(f));
  if (daily.length === 0) return csv.map((f) => join(path, f));
  return daily
    .filter((f) => {
      const d = f.slice(0, 10);
      return (!opts.fromDate || d >= opts.fromDate) && (!opts.toDate || d <= opts.toDate);
    })
    .map((f) => join(path, f));
}

class Grow<T extends Float64Array | Int32Array | Uint8Array> {
  buf: T;
  n = 0;
  private readonly make: (n: number) => T;
  constructor(make: (n: number) => T) {
    this.make = make;
    this.buf = make(1 << 16);
  }
  push(v: number) {
    if (this.n === this.buf.length) {
      const next = this.make(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = v;
  }
  done(): T {
    return this.buf.subarray(0, this.n) as T;
  }
}

export function readDataset(path: string, opts: ReadOptions = {}): Dataset {
  const id = new Grow((n) => new Float64Array(n)),
    ep = new Grow((n) => new Float64Array(n));
  const cu = new Grow((n) => new Int32Array(n)),
    te = new Grow((n) => new Int32Array(n));
  const am = new Grow((n) => new Float64Array(n)),
    ts = new Grow((n) => new Float64Array(n));
  const td = new Grow((n) => new Int32Array(n)),
    fr = new Grow((n) => new Uint8Array(n)),
    sc = new Grow((n) => new Uint8Array(n));
  const extra = new Map<string, string[]>();
  const origin: DatasetOrigin = { files: [], headers: [], firstRow: [], line: new Int32Array(0) };
  const lines = new Grow((n) => new Int32Array(n));
  const files = listDataFiles(path, opts);
  if (files.length === 0 && statSync(path).isDirectory() && !readdirSync(path).some((f) => f.endsWith('.csv')))
    throw new DatasetError(`${path}: no .csv file (expected a dataset's daily files, YYYY-MM-DD.csv)`);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    let pos = text.indexOf('\n');
    if (pos < 0) pos = text.length;
    const header = text.slice(0, pos).replace(/\r$/, '').split(',');
    const col = (name: string) => header.indexOf(name);
    const idx = {
      id: col('TRANSACTION_ID'),
      dt: col('TX_DATETIME'),
      cu: col('CUSTOMER_ID'),
      te: col('TERMINAL_ID'),
      am: col('TX_AMOUNT'),
      ts: col('TX_TIME_SECONDS'),
      td: col('TX_TIME_DAYS'),
      fr: col('TX_FRAUD'),
      sc: col('TX_FRAUD_SCENARIO'),
    };
    const missing = HANDBOOK_COLUMNS.filter((c) => c !== 'TX_FRAUD_SCENARIO' && !header.includes(c));
    if (missing.length)
      throw new DatasetError(
        `${file}:1: no column ${missing.join(', ')} in the header (expected a header naming ${HANDBOOK_COLUMNS.slice(0, -1).join(', ')}; TX_FRAUD_SCENARIO and others optional)`,
      );
    origin.files.push(file);
    origin.headers.push(header);
    origin.firstRow.push(id.n);
    // A leading unnamed column (pandas index) is just another column we do not read.
    const known = new Set<number>(Object.values(idx));
    const extraCols = opts.keepExtra
      ? header.map((h, i) => [h, i] as const).filter(([h, i]) => !known.has(i) && h !== '' && !/^Unnamed/.test(h))
      : [];
    for (const [h] of extraCols) if (!extra.has(h)) extra.set(h, []);
    pos++;
    let lineNo = 1;
    let f: string[] = [];
    // A row that does not parse would train on NaN, silently: refused with its place instead.
    const where = (column: keyof typeof idx) => `${file}:${lineNo}:${idx[column] + 1} (${header[idx[column]]})`;
    const number = (column: keyof typeof idx) => {
      const field = f[idx[column]];
      const v = field === undefined || field.trim() === '' ? NaN : +field;
      if (!Number.isFinite(v))
        throw new DatasetError(
          `${where(column)}: expected a number, found ${notANumber(field)} (the row has ${f.length} fields, the header ${header.length})`,
        );
      return v;
    };
    while (pos < text.length) {
      let end = text.indexOf('\n', pos);
      if (end < 0) end = text.length;
      let line = text.slice(pos, end);
      pos = end + 1;
      lineNo++;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.length === 0) continue;
      f = line.split(',');
      const at = parseDateTime(f[idx.dt] ?? '');
      if (!Number.isFinite(at))
        throw new DatasetError(`${where('dt')}: expected a time YYYY-MM-DD HH:MM:SS on a calendar day`);
      lines.push(lineNo);
      id.push(number('id'));
      ep.push(at);
      cu.push(number('cu'));
      te.push(number('te'));
      am.push(number('am'));
      ts.push(number('ts'));
      td.push(number('td'));
      const fraud = number('fr');
      if (fraud !== 0 && fraud !== 1) throw new DatasetError(`${where('fr')}: expected 0 or 1`);
      fr.push(fraud);
      sc.push(idx.sc >= 0 ? +f[idx.sc]! || 0 : 0);
      for (const [h, i] of extraCols) extra.get(h)!.push(f[i] ?? '');
    }
  }
  return {
    n: id.n,
    transactionId: id.done(),
    epochSeconds: ep.done(),
    customer: cu.done(),
    terminal: te.done(),
    amount: am.done(),
    timeSeconds: ts.done(),
    timeDays: td.done(),
    fraud: fr.done(),
    scenario: sc.done(),
    extra,
    origin: { ...origin, line: lines.done() },
  };
}

/** Builds an in-memory dataset directly from generated day batches (tests, in-process pipelines). */
export function datasetFromBatches(startDate: string, batches: Iterable<DayBatch>): Dataset {
  const all = [...batches];
  const n = all.reduce((s, b) => s + b.n, 0);
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
  const start = Date.parse(`${startDate}T00:00:00Z`) / 1000;
  let r = 0;
  for (const b of all) {
    for (let i = 0; i < b.n; i++, r++) {
      const t = b.day * DAY_SECONDS + b.second[i]!;
      ds.transactionId[r] = b.firstId + i;
      ds.epochSeconds[r] = start + t;
      ds.customer[r] = b.customer[i]!;
      ds.terminal[r] = b.terminal[i]!;
      ds.amount[r] = b.amountCents[i]! / 100;
      ds.timeSeconds[r] = t;
      ds.timeDays[r] = b.day;
      ds.fraud[r] = b.fraud[i]!;
      ds.scenario[r] = b.scenario[i]!;
    }
  }
  return ds;
}
