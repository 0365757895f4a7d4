// npm run simulate -- [options] --out DIR
// Writes the handbook dataset (one CSV per day, YYYY-MM-DD.csv), optionally with Leakguard's breach
// scenario (--breach): extra columns, breach events and issuer card lists. See --help.
import { accessSync, constants, mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { HANDBOOK_DEFAULTS, type HandbookOptions } from '../simulator/handbook.ts';
import { BREACH_DEFAULTS, type BreachOptions } from '../simulator/breach.ts';
import { simulate } from '../simulator/run.ts';
import { CurrencySpecError, formatCurrencies, parseCurrencies } from '../simulator/currencies.ts';
import { readRatesFile } from '../../services/adapters/files/rates-file.ts';
import { callerPath } from '../../services/cli/command.ts';

const numberFlags: Record<string, [keyof HandbookOptions, string]> = {
  customers: ['customers', 'number of customers (cards)'],
  terminals: ['terminals', 'number of terminals'],
  days: ['days', 'number of days'],
  radius: ['radius', 'reach radius r: a customer uses terminals closer than r'],
  seed: ['seed', 'random seed (same seed, same data)'],
  'scenario1-threshold': ['scenario1Threshold', 'scenario 1: amounts above this are fraud'],
  'terminals-per-day': ['terminalsPerDay', 'scenario 2: terminals compromised per day'],
  'terminal-days': ['terminalDays', 'scenario 2: days a terminal stays compromised'],
  'customers-per-day': ['customersPerDay', 'scenario 3: cards compromised per day'],
  'customer-days': ['customerDays', 'scenario 3: days a card stays compromised'],
  'customer-share': ['customerShare', 'scenario 3: share of the window transactions made fraud'],
  'amount-multiplier': ['amountMultiplier', 'scenario 3: amount multiplier'],
};
type NumericBreachOption = {
  [K in keyof BreachOptions]: BreachOptions[K] extends number ? K : never;
}[keyof BreachOptions];
const breachFlags: Record<string, [NumericBreachOption, string]> = {
  'breach-count': ['breaches', 'number of breached merchants'],
  'breach-merchant-terminals': ['merchantTerminals', 'terminals of a breached merchant (all leak)'],
  'breach-day': ['breachDay', 'day index of the (first) breach; later ones follow every breach-interval days'],
  'breach-interval': ['breachInterval', 'days between breaches'],
  'breach-exposure-days': ['exposureDays', 'cards used at the merchant during this many days before the breach leak'],
  'breach-delay-min': ['delayMinDays', 'minimum days from breach to first fraudulent use'],
  'breach-delay-max': ['delayMaxDays', 'maximum days from breach to first fraudulent use'],
  'breach-use-share': ['useShare', 'share of the leaked cards fraudsters use'],
  'breach-testing-merchants': ['testingMerchants', 'card-testing merchants per used card (at most)'],
  'breach-cashout-max': ['cashoutMax', 'cash-out transactions per used card (at most)'],
  'breach-reshippers': ['reshippers', 'shipping addresses in the fraudsters pool (reshippers)'],
  'breach-fraud-devices': ['fraudDevices', 'devices in the fraudsters pool'],
  'breach-issuer-coverage': ['issuerCoverage', 'share of the leaked cards issuers upload'],
  'breach-issuer-lag-min': ['issuerLagMinDays', 'minimum days from breach to an issuer upload'],
  'breach-issuer-lag-max': ['issuerLagMaxDays', 'maximum days from breach to an issuer upload'],
  'breach-reissue-share': ['reissueShare', 'share of the leaked cards reissued before fraud starts'],
  'breach-ecom-share': ['ecomShare', 'share of terminals that are e-commerce merchants'],
};

const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
  out: { type: 'string', short: 'o' },
  start: { type: 'string' },
  breach: { type: 'boolean' },
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
    '  --out DIR                    output folder (created)',
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

function num(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) {
    console.error(`simulate: --${flag}: not a number: ${v}\n\n${usage()}`);
    process.exit(2);
  }
  return n;
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
  if (!/^\d{4}-\d{2}-\d{2}$/.test(values.start) || Number.isNaN(Date.parse(`${values.start}T00:00:00Z`)))
    fail(`--start: expected a date as YYYY-MM-DD, got ${values.start}`);
  opts.startDate = values.start;
}
for (const [flag, [key]] of Object.entries(numberFlags)) {
  const v = values[flag];
  if (typeof v === 'string') (opts[key] as number) = num(flag, v);
}
if (opts.customerDays < 1 || opts.terminalDays < 0 || opts.days < 1)
  fail('--days and --customer-days must be at least 1, --terminal-days at least 0');
let breach: BreachOptions | undefined;
if (values.breach) {
  breach = { ...BREACH_DEFAULTS };
  for (const [flag, [key]] of Object.entries(breachFlags)) {
    const v = values[flag];
    if (typeof v === 'string') breach[key] = num(flag, v);
  }
  if (typeof values.currencies === 'string') {
    try {
      breach.currencies = parseCurrencies(values.currencies, readRatesFile());
    } catch (error) {
      if (!(error instanceof CurrencySpecError)) throw error;
      console.error(`simulate: --currencies: ${error.message}\n\n${usage()}`);
      process.exit(2);
    }
  }
} else if (typeof values.currencies === 'string') {
  console.error(`simulate: --currencies needs --breach (the handbook dataset has no currency)\n\n${usage()}`);
  process.exit(2);
}

const out = callerPath(values.out);
try {
  mkdirSync(out, { recursive: true });
  accessSync(out, constants.W_OK);
} catch (error) {
  fail(`--out ${out}: ${(error as Error).message}`);
}
const bar = values.quiet
  ? undefined
  : new cliProgress.SingleBar(
      {
        format: 'simulate [{bar}] {value}/{total} days | {rows} rows | {eta_formatted} left',
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
bar?.start(opts.days, 0, { rows: 0 });
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
