// npm run simulate -- [options] --out DIR
// Writes the handbook dataset (one CSV per day, YYYY-MM-DD.csv), optionally with Leakguard's breach
// scenario (--breach): extra columns, breach events and issuer card lists. See --help.
import { accessSync, constants, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { progress } from './progress.ts';
import { HANDBOOK_DEFAULTS, type HandbookOptions } from '../simulator/handbook.ts';
import { BREACH_DEFAULTS, type BreachOptions } from '../simulator/breach.ts';
import { simulate } from '../simulator/run.ts';
import { CurrencySpecError, formatCurrencies, parseCurrencies } from '../simulator/currencies.ts';
import { readRatesFile } from '../../services/adapters/files/rates-file.ts';
import { callerPath } from '../../services/cli/command.ts';
import { isCalendarDate, parseNumberFlag, type NumberRange } from './train-flags.ts';

// Each numeric flag: the option it sets, its help, and the values it takes (a share is 0..1, a
// count a whole number: 1.5 customers made an empty dataset and exit 0, -1 a stack trace).
const count = (min: number, max = 10_000_000): NumberRange => ({ integer: true, min, max });
const share: NumberRange = { integer: false, min: 0, max: 1 };
const days = (min: number): NumberRange => ({ integer: false, min, max: 3_650 });
const numberFlags: Record<string, [keyof HandbookOptions, string, NumberRange]> = {
  customers: ['customers', 'number of customers (cards)', count(1)],
  terminals: ['terminals', 'number of terminals', count(1)],
  days: ['days', 'number of days', count(1, 3_650)],
  radius: [
    'radius',
    'reach radius r: a customer uses terminals closer than r',
    { integer: false, min: 0, minOpen: true, max: 1_000 },
  ],
  seed: ['seed', 'random seed (same seed, same data)', count(0, 2 ** 32 - 1)],
  'scenario1-threshold': [
    'scenario1Threshold',
    'scenario 1: amounts above this are fraud',
    { integer: false, min: 0, max: 1e9 },
  ],
  'terminals-per-day': ['terminalsPerDay', 'scenario 2: terminals compromised per day', count(0)],
  'terminal-days': ['terminalDays', 'scenario 2: days a terminal stays compromised', count(0, 3_650)],
  'customers-per-day': ['customersPerDay', 'scenario 3: cards compromised per day', count(0)],
  'customer-days': ['customerDays', 'scenario 3: days a card stays compromised', count(1, 3_650)],
  'customer-share': ['customerShare', 'scenario 3: share of the window transactions made fraud', share],
  'amount-multiplier': [
    'amountMultiplier',
    'scenario 3: amount multiplier',
    { integer: false, min: 0, minOpen: true, max: 1_000 },
  ],
};
type NumericBreachOption = {
  [K in keyof BreachOptions]: BreachOptions[K] extends number ? K : never;
}[keyof BreachOptions];
const breachFlags: Record<string, [NumericBreachOption, string, NumberRange]> = {
  'breach-count': ['breaches', 'number of breached merchants', count(0, 1_000)],
  'breach-merchant-terminals': ['merchantTerminals', 'terminals of a breached merchant (all leak)', count(1, 100_000)],
  'breach-day': [
    'breachDay',
    'day index of the (first) breach; later ones follow every breach-interval days',
    count(0, 3_650),
  ],
  'breach-interval': ['breachInterval', 'days between breaches', count(1, 3_650)],
  'breach-exposure-days': [
    'exposureDays',
    'cards used at the merchant during this many days before the breach leak',
    count(1, 3_650),
  ],
  'breach-delay-min': ['delayMinDays', 'minimum days from breach to first fraudulent use', days(0)],
  'breach-delay-max': ['delayMaxDays', 'maximum days from breach to first fraudulent use', days(0)],
  'breach-use-share': ['useShare', 'share of the leaked cards fraudsters use', share],
  'breach-testing-merchants': ['testingMerchants', 'card-testing merchants per used card (at most)', count(0, 1_000)],
  'breach-cashout-max': ['cashoutMax', 'cash-out transactions per used card (at most)', count(0, 1_000)],
  'breach-reshippers': ['reshippers', 'shipping addresses in the fraudsters pool (reshippers)', count(1, 1_000_000)],
  'breach-fraud-devices': ['fraudDevices', 'devices in the fraudsters pool', count(1, 1_000_000)],
  'breach-issuer-coverage': ['issuerCoverage', 'share of the leaked cards issuers upload', share],
  'breach-issuer-lag-min': ['issuerLagMinDays', 'minimum days from breach to an issuer upload', days(0)],
  'breach-issuer-lag-max': ['issuerLagMaxDays', 'maximum days from breach to an issuer upload', days(0)],
  'breach-reissue-share': ['reissueShare', 'share of the leaked cards reissued before fraud starts', share],
  'breach-ecom-share': ['ecomShare', 'share of terminals that are e-commerce merchants', share],
};

const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
  out: { type: 'string', short: 'o' },
  start: { type: 'string' },
  breach: { type: 'boolean' },
  force: { type: 'boolean' },
  currencies: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
};
for (const k of [...Object.keys(numberFlags), ...Object.keys(breachFlags)]) options[k] = { type: 'string' };

function usage(): string {
  const line = (flag: string, help: string, def: unknown) => `  --${flag.padEnd(26)} ${help} (default ${def})`;
  return [
    'usage: npm run simulate -- [options] --out DIR',
    '',
    '  --out DIR                    output folder (created; refused when it holds anything, unless --force)',
    '  --force                      --out may hold a previous dataset: its files (daily CSVs, breaches.csv, issuer-lists/) are removed first',
    line('start', 'first day YYYY-MM-DD', HANDBOOK_DEFAULTS.startDate),
    ...Object.entries(numberFlags).map(([f, [k, h]]) => line(f, h, HANDBOOK_DEFAULTS[k])),
    '  --breach                     add the breach scenario (extra columns, breaches.csv, issuer-lists/)',
    ...Object.entries(breachFlags).map(([f, [k, h]]) => line(f, h, BREACH_DEFAULTS[k])),
    line(
      'currencies',
      'with --breach: currencies of merchants and cardholders, CODE:SHARE,... (regions: bands of x sized by the shares; CODE alone: one currency)',
      formatCurrencies(BREACH_DEFAULTS.currencies),
    ),
    '  --quiet                      no progress bar',
  ].join('\n');
}

/** A usage error: said with the usage, exit 2, never a stack trace. */
function fail(message: string): never {
  console.error(`simulate: ${message}\n\n${usage()}`);
  return process.exit(2);
}

function num(flag: string, v: string, range: NumberRange): number {
  const n = parseNumberFlag(flag, v, range);
  return typeof n === 'string' ? fail(n) : n;
}

const { values } = (() => {
  try {
    return parseArgs({ options, strict: true, allowPositionals: false });
  } catch (error) {
    console.error(`simulate: ${(error as Error).message}\n\n${usage()}`);
    return process.exit(2);
  }
})();
if (values.help) {
  console.log(usage());
  process.exit(0);
}
if (typeof values.out !== 'string') {
  console.error(usage());
  process.exit(2);
}
const opts: HandbookOptions = { ...HANDBOOK_DEFAULTS };
if (typeof values.start === 'string') {
  if (!isCalendarDate(values.start)) fail(`--start: expected a calendar date as YYYY-MM-DD, got ${values.start}`);
  opts.startDate = values.start;
}
for (const [flag, [key, , range]] of Object.entries(numberFlags)) {
  const v = values[flag];
  if (typeof v === 'string') (opts[key] as number) = num(flag, v, range);
}
let breach: BreachOptions | undefined;
if (values.breach) {
  breach = { ...BREACH_DEFAULTS };
  for (const [flag, [key, , range]] of Object.entries(breachFlags)) {
    const v = values[flag];
    if (typeof v === 'string') breach[key] = num(flag, v, range);
  }
  for (const [min, max, a, b] of [
    ['breach-delay-min', 'breach-delay-max', breach.delayMinDays, breach.delayMaxDays],
    ['breach-issuer-lag-min', 'breach-issuer-lag-max', breach.issuerLagMinDays, breach.issuerLagMaxDays],
  ] as const)
    if (a > b) fail(`--${min} (${a}) must not be more than --${max} (${b})`);
  if (typeof values.currencies === 'string') {
    try {
      breach.currencies = parseCurrencies(values.currencies, readRatesFile());
    } catch (error) {
      if (!(error instanceof CurrencySpecError)) throw error;
      console.error(`simulate: --currencies: ${error.message}\n\n${usage()}`);
      process.exit(2);
    }
  }
  // Breaches on days the dataset does not reach never happen: said, not left to a "0 breaches" summary.
  const within = Array.from(
    { length: breach.breaches },
    (_, k) => breach!.breachDay + k * breach!.breachInterval,
  ).filter((d) => d < opts.days).length;
  if (within < breach.breaches)
    console.error(
      `simulate: warning: ${within === 0 ? 'no breach happens' : `only ${within} of the ${breach.breaches} breaches happen`}: ` +
        `breaches fall on day ${breach.breachDay} (--breach-day)${breach.breaches > 1 ? ` and every ${breach.breachInterval} days after (--breach-interval)` : ''}, ` +
        `the dataset has days 0..${opts.days - 1} (--days ${opts.days}); ${within === 0 ? `a --breach-day below ${opts.days} or ` : ''}more --days`,
    );
} else if (typeof values.currencies === 'string') {
  console.error(`simulate: --currencies needs --breach (the handbook dataset has no currency)\n\n${usage()}`);
  process.exit(2);
}

const out = callerPath(values.out);
// A dataset is the folder's daily files: writing a second one over the first would mix them (the
// first's days outside the second's range stay, its breaches.csv and issuer lists too) and every
// reader would take the mixture for one dataset.
const DATASET_FILE = /^(\d{4}-\d{2}-\d{2}\.csv|breaches\.csv|issuer-lists)$/;
const existing = (() => {
  try {
    return statSync(out).isDirectory() ? readdirSync(out) : undefined;
  } catch {
    return undefined; // absent (created below), or the error is said there
  }
})();
if (existing && existing.length > 0) {
  if (!values.force)
    fail(
      `--out ${out} is not empty (${existing.length} entries, e.g. ${existing.sort()[0]}): writing a dataset there would mix it with what is there; choose an empty or new folder, or add --force to remove the previous dataset's files first`,
    );
  const ours = existing.filter((f) => DATASET_FILE.test(f));
  for (const f of ours) rmSync(join(out, f), { recursive: true, force: true });
  const others = existing.length - ours.length;
  console.error(
    `simulate: --force: removed ${ours.length} file(s) of the previous dataset from ${out}` +
      (others > 0 ? `; kept ${others} other entries (not dataset files; readers ignore them)` : ''),
  );
}
try {
  mkdirSync(out, { recursive: true });
  accessSync(out, constants.W_OK);
} catch (error) {
  fail(`--out ${out}: ${(error as Error).message}`);
}
const bar = values.quiet
  ? undefined
  : progress('simulate', opts.days, { unit: 'days', barSuffix: ' | {rows} rows', payload: { rows: 0 } });
const started = performance.now();
const summary = simulate(opts, out, breach, (days, rows) => bar?.update(days, { rows }));
bar?.stop();
const seconds = (performance.now() - started) / 1000;

const pct = (a: number, b: number) => `${((100 * a) / Math.max(1, b)).toFixed(3)} %`;
console.log(`wrote ${summary.files} daily files to ${out} in ${seconds.toFixed(1)} s`);
console.log(`transactions: ${summary.transactions}  (${(summary.transactions / opts.days).toFixed(0)} a day)`);
console.log(
  `frauds: ${summary.frauds}  fraud rate ${pct(summary.frauds, summary.transactions)}  (${(summary.frauds / opts.days).toFixed(1)} a day)`,
);
console.log(
  `by scenario: ${Object.entries(summary.byScenario)
    .map(([s, n]) => `${s}: ${n}`)
    .join(', ')}`,
);
console.log(`compromised cards (any fraud): ${summary.fraudCards}`);
if (summary.breach) {
  const b = summary.breach;
  console.log(
    `breach: ${b.breaches} breaches, ${b.leakedCards} leaked cards, ${b.usedCards} used, ${b.reissuedCards} reissued, ` +
      `${b.testingTransactions} card-testing and ${b.cashoutTransactions} cash-out transactions (${b.declinedTransactions} declined), ` +
      `${b.issuerUploads} issuer uploads covering ${b.uploadedCards} cards`,
  );
  const share = (n: number, d: number) => `${((100 * n) / Math.max(1, d)).toFixed(1)} %`;
  const breachFrauds = b.testingTransactions + b.cashoutTransactions;
  console.log(
    `currencies (the terminal's; rates ${b.rates}): ` +
      Object.entries(b.byCurrency)
        .map(
          ([c, n]) =>
            `${c} ${share(n.transactions, summary.transactions)} of transactions, ${share(n.frauds, summary.frauds)} of frauds, ${share(n.breachFrauds, breachFrauds)} of breach frauds`,
        )
        .join('; '),
  );
}
