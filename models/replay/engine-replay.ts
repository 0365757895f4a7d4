// Replays a breach-scenario dataset (npm run simulate -- --breach) through the real engine, in
// time order, with what the engine would have known at each moment: issuer lists uploaded at their
// upload times, authorisation declines reported at once, chargebacks for frauds a label delay
// later. The stores are the in-memory ones, on a clock that follows the data. Serves the engine
// feature set's offline path (the features the engine computed) and the breach protocol (the
// decisions it took).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, type EngineObserver, type Evidence } from '../../services/core/engine.ts';
import type { CardKeyring } from '../../services/core/card.ts';
import { ALL_FEATURES } from '../../services/core/features.ts';
import type { ScoringModel } from '../../services/core/model.ts';
import type { Ruleset } from '../../services/core/rules.ts';
import type { ScoreRequest, ScoreResponse } from '../../services/core/schemas.ts';
import {
  DATA_ELEMENTS,
  elementMask,
  cardSlot,
  eventView,
  expiryTag,
  type DataElement,
  type EventView,
  type WatchlistStore,
} from '../../services/core/watchlist.ts';
import type { VelocityStore } from '../../services/core/velocity.ts';
import { DEFAULT_RULESET_PATH, readRulesetFile } from '../../services/adapters/files/ruleset-file.ts';
import { readRatesFile } from '../../services/adapters/files/rates-file.ts';
import { UnknownRateError, type RateTable } from '../../services/core/currency.ts';
import { MemoryVelocityStore } from '../../services/adapters/memory/velocity-store.ts';
import { MemoryWatchlistStore } from '../../services/adapters/memory/watchlist-store.ts';
import { DAY_SECONDS } from '../../services/model/definitions.ts';
import { DatasetError, rowPlace, type Dataset } from '../simulator/csv.ts';
import { chargebackAt, PUBLISHED_LABELS, type LabelAssumption } from '../features/labels.ts';
import { MemoryCardHistoryStore } from '../../services/adapters/memory/card-history-store.ts';
import { HistoryRecorder } from '../../services/breach/recorder.ts';
import { BreachScanner, type ScanOptions } from '../../services/breach/scanner.ts';
import { suspicionsListing } from '../../services/breach/suspicions.ts';

export const REPLAY_KEYRING: CardKeyring = { primary: { id: 'replay', secret: Buffer.alloc(32, 7) } };
/** Velocity windows reach 30 days back, delayed merchant windows 37: older history changes nothing. */
export const HISTORY_DAYS = 37;

export interface ReplayOptions {
  /** The dataset's folder: breaches.csv and issuer-lists/ (for watchlists). */
  dataDir: string;
  watchlists: boolean;
  model?: ScoringModel | undefined;
  ruleset?: Ruleset;
  /** The exchange-rate table; default: services/rates/default.yaml, as the engine serves by default. */
  rates?: RateTable;
  /**
   * Which frauds are charged back and when (features/labels.ts; default: the published protocol's,
   * every one 7 days later). A fraud the issuer declined (AUTH_RESULT) or the engine declined never
   * completed: it is never charged back.
   */
  labels?: LabelAssumption;
  /**
   * The 3-D Secure step-ups the engine asks for, answered: a fraudster holding stolen card data
   * cannot pass the cardholder's bank's challenge (`challenge_failed` at once), a genuine customer
   * passes it but for `genuineFailureShare` who abandon or fail it (chosen by transaction id, the
   * same in every run). Without it, a challenge has no outcome, as in the handbook.
   */
  stepUpOutcomes?: { genuineFailureShare: number };
  /** Rows [from, to) are reported; replay starts HISTORY_DAYS before `from` to build the counters. */
  from?: number;
  to?: number;
  /**
   * Other stores than the in-memory ones (say, Redis for a parity test): the caller opens and
   * closes them. Without them the replay uses fresh in-memory stores on the data's clock.
   */
  stores?: { velocity: VelocityStore; watchlist: WatchlistStore };
  /**
   * Breach discovery in the replay, as the engine runs it (services/runtime.ts): card histories fed
   * by every scoring, fraud labels from the engine's card-testing decisions (at once) and the
   * chargebacks (when they arrive), a scan every `scanEveryMs` of the data's time; the events it
   * opens list the exposed cards, which later rows meet. In-memory stores only.
   */
  cpp?: {
    scanEveryMs: number;
    scan?: ScanOptions;
    /**
     * The merchant a terminal belongs to, for the histories (default: itself). The engine's merchant
     * is the terminal (its counters are the handbook's terminal features), but a merchant with many
     * terminals is one merchant to breach discovery, as its one API key makes it in production.
     */
    merchantOf?: (terminalMerchantId: string) => string;
  };
  onRow(row: number, response: ScoreResponse, evidence: Evidence): void | Promise<void>;
  onProgress?: (done: number, total: number) => void;
  /** Told what the engine scores and the outcomes it records, as a deployment's observers are (a recorder). */
  observer?: Pick<EngineObserver, 'scored' | 'outcomeRecorded'>;
}

export interface ReplaySummary {
  replayed: number;
  reported: number;
  uploads: number;
  listedCards: number;
  seconds: number;
  /** With `cpp`: every suspected point a scan named (a merchant is named at each scan that finds it). */
  cppFindings: CppFinding[];
}

export interface CppFinding {
  /** The scan's time (the data's clock), epoch ms. */
  at: number;
  merchantId: string;
  eventId: string;
  fraudCards: number;
  expected: number;
  exposedCards: number;
}

/** A transaction id spread over [0, 1): the same draw in every run (Knuth's multiplicative hash). */
const unitHash = (id: number) => (Math.imul(id >>> 0, 2654435761) >>> 0) / 2 ** 32;

const REQUIRED_COLUMNS = [
  'CARD_PAN',
  'CARD_EXPIRY',
  'CHANNEL',
  'DEVICE_ID',
  'IP',
  'EMAIL',
  'SHIPPING_ADDRESS',
  'AUTH_RESULT',
] as const;

export function assertBreachColumns(ds: Dataset): void {
  const missing = REQUIRED_COLUMNS.filter((c) => !ds.extra.has(c));
  if (missing.length) {
    throw new DatasetError(
      `${ds.origin?.files[0] ?? 'the dataset'}:1: no column ${missing.join(', ')} (expected the breach scenario's columns ${REQUIRED_COLUMNS.join(', ')}): generate it with npm run simulate -- --breach`,
    );
  }
}

/** What each breach column must hold for a row to become a request (values never echoed: CARD_PAN is one). */
const BREACH_FIELDS: readonly [column: string, test: (v: string) => boolean, expected: string][] = [
  ['CARD_PAN', (v) => /^\d{12,19}$/.test(v), 'a card number of 12 to 19 digits'],
  ['CARD_EXPIRY', (v) => /^(0[1-9]|1[0-2])\/\d{2}$/.test(v), 'an expiry MM/YY'],
  ['CHANNEL', (v) => v === 'ecom' || v === 'pos', 'ecom or pos'],
  ['AUTH_RESULT', (v) => v === 'approved' || v === 'declined', 'approved or declined'],
  ['CURRENCY', (v) => v === '' || /^[A-Z]{3}$/.test(v), 'an ISO 4217 code such as EUR, or nothing'],
  ['AMOUNT_MINOR', (v) => v === '' || /^\d+$/.test(v), 'an amount in minor units (whole number), or nothing'],
];

/**
 * Refuses, before minutes of replay, a row whose breach columns the engine could not take (or
 * would take for something else: an AUTH_RESULT that is not `declined` counts as approved),
 * naming its file, line and column.
 */
export function assertBreachRows(ds: Dataset, from: number, to: number): void {
  for (const [column, test, expected] of BREACH_FIELDS) {
    const values = ds.extra.get(column);
    if (!values) continue;
    for (let row = from; row < to; row++)
      if (!test(values[row]!)) throw new DatasetError(`${rowPlace(ds, row, column)}: expected ${expected}`);
  }
}

/**
 * The checkout request a dataset row stands for (the merchant is the terminal). The amount is the
 * row's own: `AMOUNT_MINOR` in `CURRENCY` when the dataset has those columns (TX_AMOUNT stays the EUR
 * value), else TX_AMOUNT in euro cents.
 */
export function requestOf(ds: Dataset, row: number): { merchantId: string; request: ScoreRequest } {
  const col = (name: string) => ds.extra.get(name)![row]!;
  const [mm, yy] = col('CARD_EXPIRY').split('/');
  const ecom = col('CHANNEL') === 'ecom';
  const currency = ds.extra.get('CURRENCY')?.[row];
  const amountMinor = ds.extra.get('AMOUNT_MINOR')?.[row];
  const own =
    currency && amountMinor
      ? { amount: Number(amountMinor), currency }
      : { amount: Math.round(ds.amount[row]! * 100), currency: 'EUR' };
  const request: ScoreRequest = {
    transactionId: String(ds.transactionId[row]),
    ...own,
    occurredAt: new Date(ds.epochSeconds[row]! * 1000).toISOString(),
    channel: ecom ? 'ecommerce' : 'pos',
    // The scenario leaks security codes: whoever holds a card presents a matching one online.
    card: {
      number: col('CARD_PAN'),
      expiryMonth: Number(mm),
      expiryYear: 2000 + Number(yy),
      cvvResult: ecom ? 'match' : 'not_checked',
    },
  } as ScoreRequest;
  if (ecom) {
    const device = col('DEVICE_ID'),
      ip = col('IP'),
      email = col('EMAIL'),
      address = col('SHIPPING_ADDRESS');
    if (device || ip)
      request.device = { ...(device ? { id: device } : {}), ...(ip ? { ip } : {}) } as ScoreRequest['device'];
    if (email) request.customer = { email } as ScoreRequest['customer'];
    if (address) request.shippingAddress = { line1: address, country: 'FR' };
  }
  return { merchantId: `t${ds.terminal[row]}`, request };
}

interface Upload {
  at: number;
  issuer: string;
  breach: string;
  file: string;
  line: number;
}

/** A side file's rows by column name, each with its line; refused with its place when it does not hold `required`. */
function readCsv(path: string, required: readonly string[]): { row: Record<string, string>; line: number }[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new DatasetError(
      `${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): a breach dataset has it (npm run simulate -- --breach)`,
    );
  }
  const [header = '', ...lines] = text.replace(/\r/g, '').trimEnd().split('\n');
  const names = header.split(',');
  const missing = required.filter((c) => !names.includes(c));
  if (missing.length)
    throw new DatasetError(
      `${path}:1: no column ${missing.join(', ')} (expected a header naming ${required.join(', ')})`,
    );
  return lines.flatMap((l, i) => {
    if (l === '') return [];
    const cells = l.split(',');
    if (cells.length !== names.length)
      throw new DatasetError(
        `${path}:${i + 2}: expected ${names.length} fields as the header has, found ${cells.length}`,
      );
    return [{ row: Object.fromEntries(names.map((n, k) => [n, cells[k]!])), line: i + 2 }];
  });
}

const naiveUtc = (s: string) => Date.parse(`${s.replace(' ', 'T')}${s.length <= 10 ? 'T00:00:00' : ''}Z`);

/** A side file's time field, refused with its place when it is not one. */
function timeField(path: string, line: number, names: string[], row: Record<string, string>, column: string): number {
  const v = row[column]!;
  const t = /^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?$/.test(v) ? naiveUtc(v) : NaN;
  if (Number.isNaN(t))
    throw new DatasetError(
      `${path}:${line}:${names.indexOf(column) + 1} (${column}): expected a time YYYY-MM-DD or YYYY-MM-DD HH:MM:SS`,
    );
  return t;
}

const BREACH_SIDE_COLUMNS = ['BREACH_ID', 'EXPOSURE_FROM', 'EXPOSURE_TO', 'LEAKED_FIELDS'] as const;
const UPLOAD_COLUMNS = ['ISSUER', 'BREACH_ID', 'UPLOADED_AT', 'FILE'] as const;
const ISSUER_LIST_COLUMNS = ['pan', 'expiry_month', 'expiry_year'] as const;

function readUploads(dataDir: string): {
  uploads: Upload[];
  breaches: Map<string, { from: number; to: number; elements: DataElement[] }>;
} {
  const breaches = new Map<string, { from: number; to: number; elements: DataElement[] }>();
  const breachesPath = join(dataDir, 'breaches.csv');
  for (const { row: b, line } of readCsv(breachesPath, BREACH_SIDE_COLUMNS)) {
    const elements = b
      .LEAKED_FIELDS!.split(';')
      .filter((e): e is DataElement => (DATA_ELEMENTS as readonly string[]).includes(e));
    breaches.set(b.BREACH_ID!, {
      from: timeField(breachesPath, line, [...Object.keys(b)], b, 'EXPOSURE_FROM'),
      to: timeField(breachesPath, line, [...Object.keys(b)], b, 'EXPOSURE_TO') + DAY_SECONDS * 1000 - 1000,
      elements,
    });
  }
  const uploadsPath = join(dataDir, 'issuer-lists', 'uploads.csv');
  const uploads = readCsv(uploadsPath, UPLOAD_COLUMNS)
    .map(({ row: u, line }) => ({
      at: timeField(uploadsPath, line, [...Object.keys(u)], u, 'UPLOADED_AT'),
      issuer: u.ISSUER!,
      breach: u.BREACH_ID!,
      file: u.FILE!,
      line,
    }))
    .sort((a, b) => a.at - b.at);
  for (const u of uploads)
    if (!breaches.has(u.breach))
      throw new DatasetError(
        `${uploadsPath}:${u.line}:${UPLOAD_COLUMNS.indexOf('BREACH_ID') + 1} (BREACH_ID): expected a breach that breaches.csv lists`,
      );
  return { uploads, breaches };
}

/** First row at or after a time (rows are in time order). */
function firstRowAt(ds: Dataset, epochSeconds: number): number {
  let lo = 0,
    hi = ds.n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ds.epochSeconds[mid]! < epochSeconds) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * When the replay reports a row's chargeback, epoch ms; Infinity when never: a genuine row, a fraud
 * `labels` leaves uncharged, or one that never completed (declined by the issuer, AUTH_RESULT, or by
 * the engine's decision).
 */
export function chargebackDueMs(ds: Dataset, row: number, decision: string, labels: LabelAssumption): number {
  if (!ds.fraud[row] || decision === 'decline') return Infinity;
  const declined = ds.extra.get('AUTH_RESULT')?.[row] === 'declined';
  return chargebackAt(ds.transactionId[row]!, ds.epochSeconds[row]!, labels, declined) * 1000;
}

export async function replayThroughEngine(ds: Dataset, o: ReplayOptions): Promise<ReplaySummary> {
  assertBreachColumns(ds);
  const started = performance.now();
  const from = o.from ?? 0,
    to = o.to ?? ds.n;
  const start = from > 0 ? firstRowAt(ds, ds.epochSeconds[from]! - HISTORY_DAYS * DAY_SECONDS) : 0;
  assertBreachRows(ds, start, to);
  let clock = ds.n ? ds.epochSeconds[start]! * 1000 : 0;
  const memoryWatchlist = o.stores ? undefined : new MemoryWatchlistStore();
  const watchlist: WatchlistStore = o.stores?.watchlist ?? memoryWatchlist!;
  const store: VelocityStore =
    o.stores?.velocity ?? new MemoryVelocityStore({ now: () => clock, watchlist: memoryWatchlist });
  const events = new Map<number, EventView>();
  const ruleset = o.ruleset ?? readRulesetFile(DEFAULT_RULESET_PATH, new Set(ALL_FEATURES));
  const rates = o.rates ?? readRatesFile();
  const cpp =
    o.cpp && !o.stores
      ? (() => {
          const history = new MemoryCardHistoryStore();
          return {
            every: o.cpp.scanEveryMs,
            recorder: new HistoryRecorder({
              store: history,
              transactionOf: (m, t) => store.transactionOf(m, t),
              suspicionsListing: (card) => suspicionsListing(watchlist, card),
              ...(o.cpp.merchantOf ? { merchantOf: o.cpp.merchantOf } : {}),
              flushMs: 2 ** 30, // flushed before each scan instead
            }),
            scanner: new BreachScanner(history, watchlist, o.cpp.scan),
          };
        })()
      : undefined;
  const cppFindings: CppFinding[] = [];
  const engine = new Engine({
    observer: {
      scored: (merchantId, request, result) => {
        cpp?.recorder.scored(merchantId, result);
        o.observer?.scored?.(merchantId, request, result);
      },
      outcomeRecorded: (merchantId, transactionId, outcome, at, reportedAt) => {
        cpp?.recorder.outcome(merchantId, transactionId, outcome);
        o.observer?.outcomeRecorded?.(merchantId, transactionId, outcome, at, reportedAt);
      },
    },
    store,
    keyring: REPLAY_KEYRING,
    ruleset: () => ruleset,
    rates: () => rates,
    // No deadline in a replay: every answer is a full one.
    deadlineMs: 600_000,
    now: () => clock,
    ...(o.watchlists ? { watchlistEvents: () => events } : {}),
    ...(o.model ? { model: () => o.model } : {}),
  });

  const { uploads, breaches } = o.watchlists ? readUploads(o.dataDir) : { uploads: [], breaches: new Map() };
  let nextUpload = 0,
    listedCards = 0;
  const upload = async (u: Upload) => {
    const breach = breaches.get(u.breach);
    if (!breach) throw new Error(`issuer-lists/uploads.csv names breach ${u.breach}, which breaches.csv does not list`);
    const now = new Date(u.at);
    const { event } = await watchlist.createEvent(
      {
        externalId: u.breach,
        source: 'simulated breach',
        description: '',
        exposureStart: new Date(breach.from).toISOString(),
        exposureEnd: new Date(breach.to).toISOString(),
        discoveredAt: now.toISOString(),
        dataElements: breach.elements,
        confidence: 'confirmed',
      },
      u.issuer,
      now,
    );
    events.set(event.seq, eventView(event));
    const key = REPLAY_KEYRING.primary;
    const listPath = join(o.dataDir, 'issuer-lists', u.file);
    const cards = readCsv(listPath, ISSUER_LIST_COLUMNS).map(({ row: c, line }) => {
      // the upload format (npm run upload): never echoed, a pan is a card number
      const problem = !/^\d{12,19}$/.test(c.pan!)
        ? ['pan', 'a card number of 12 to 19 digits']
        : !/^(0?[1-9]|1[0-2])$/.test(c.expiry_month!)
          ? ['expiry_month', 'a month 1 to 12']
          : !/^\d{4}$/.test(c.expiry_year!)
            ? ['expiry_year', 'a year YYYY']
            : undefined;
      if (problem)
        throw new DatasetError(
          `${listPath}:${line}:${Object.keys(c).indexOf(problem[0]!) + 1} (${problem[0]}): expected ${problem[1]}`,
        );
      return {
        slot: cardSlot(key, c.pan!),
        expiryTag: expiryTag(key, c.pan!, Number(c.expiry_month), Number(c.expiry_year)),
      };
    });
    await watchlist.addCards(event.seq, elementMask(event.dataElements), cards, Math.floor(u.at / 1000));
    listedCards += cards.length;
  };

  // Chargebacks come after a delay that varies by transaction: a queue kept in arrival order (a
  // fixed delay appends in order; a drawn one inserts, usually near the end).
  const labels = o.labels ?? PUBLISHED_LABELS;
  const chargebacks: { at: number; merchantId: string; transactionId: string }[] = [];
  let nextChargeback = 0;
  const enqueue = (c: { at: number; merchantId: string; transactionId: string }) => {
    let i = chargebacks.length;
    while (i > nextChargeback && chargebacks[i - 1]!.at > c.at) i--;
    chargebacks.splice(i, 0, c);
  };
  const auth = ds.extra.get('AUTH_RESULT')!;

  let reported = 0;
  let nextScan = cpp ? (ds.n ? ds.epochSeconds[start]! * 1000 + cpp.every : Infinity) : Infinity;
  const scan = async (at: number) => {
    await cpp!.recorder.flush();
    const report = await cpp!.scanner.scan(at);
    for (const f of report.findings)
      cppFindings.push({
        at,
        merchantId: f.point.merchantId,
        eventId: f.event.id,
        fraudCards: f.point.fraudCards,
        expected: f.point.expected,
        exposedCards: f.event.evidence?.exposedCards ?? 0,
      });
    // The engine's registry refresh: the events the scan opened are scored from now on.
    if (report.findings.length > 0) for (const [seq, view] of await watchlist.eventViews()) events.set(seq, view);
  };
  for (let row = start; row < to; row++) {
    const at = ds.epochSeconds[row]! * 1000;
    while (at >= nextScan) {
      clock = nextScan;
      await scan(nextScan);
      nextScan += cpp!.every;
    }
    while (nextUpload < uploads.length && uploads[nextUpload]!.at <= at) {
      clock = uploads[nextUpload]!.at;
      await upload(uploads[nextUpload++]!);
    }
    while (nextChargeback < chargebacks.length && chargebacks[nextChargeback]!.at <= at) {
      const c = chargebacks[nextChargeback++]!;
      clock = c.at;
      await engine.recordOutcome(c.merchantId, c.transactionId, 'chargeback', c.at);
    }
    clock = at;
    const { merchantId, request } = requestOf(ds, row);
    let result: Awaited<ReturnType<typeof engine.score>>;
    try {
      result = await engine.score(merchantId, request);
    } catch (error) {
      // A row the engine refuses: its place, the engine's reason (a currency code is no card number).
      if (error instanceof UnknownRateError)
        throw new DatasetError(
          `${rowPlace(ds, row, 'CURRENCY')}: expected a currency the rate table has a rate for (${error.message})`,
        );
      throw new DatasetError(`${rowPlace(ds, row)}: ${(error as Error).message}`);
    }
    if (result.kind !== 'scored' || !result.evidence)
      throw new DatasetError(
        `${rowPlace(ds, row, 'TRANSACTION_ID')}: expected a transaction id no earlier row has (the engine did not score it afresh)`,
      );
    // The issuer's authorisation answer reaches the merchant at once; a fraud's chargeback later.
    if (auth[row] === 'declined') await engine.recordOutcome(merchantId, request.transactionId, 'declined', at);
    if (
      o.stepUpOutcomes &&
      result.response.decision === 'challenge' &&
      (ds.fraud[row] || unitHash(ds.transactionId[row]!) < o.stepUpOutcomes.genuineFailureShare)
    )
      await engine.recordOutcome(merchantId, request.transactionId, 'challenge_failed', at);
    const due = chargebackDueMs(ds, row, result.response.decision, labels);
    if (Number.isFinite(due)) enqueue({ at: due, merchantId, transactionId: request.transactionId });
    if (row >= from) {
      await o.onRow(row, result.response, result.evidence);
      reported++;
    }
    if (o.onProgress && (row - start) % 5000 === 0) o.onProgress(row - start, to - start);
  }
  o.onProgress?.(to - start, to - start);
  await cpp?.recorder.close();
  if (!o.stores) {
    await store.close();
    await watchlist.close();
  }
  return {
    replayed: to - start,
    reported,
    uploads: nextUpload,
    listedCards,
    seconds: (performance.now() - started) / 1000,
    cppFindings,
  };
}
