// `npm run bench:backtest`: a benchmark, not a test. A recording of N transactions (generated: 200k
// cards over 2,000 merchants with a few dominant ones, 30 days, EUR, USD and JPY, 1 % charged back,
// 2 % on a leaked-card list) written as NDJSON, then:
//   - reading it (parse and check every line): lines per second;
//   - the backtest (two engines, in force and candidate): transactions per second, and minutes per
//     million recorded transactions;
//   - the baseline in the same run: one engine replaying the same traffic in the main thread, and
//     the ratio of the backtest's rate to it (two engines in two worker threads: 1.0 on two free
//     cores, 0.5 on one);
//   - memory once the recording is loaded (heap and the shared lines), per transaction.
//
//   npm run bench:backtest                 1,000,000 transactions (several minutes on 2 cores)
//   npm run bench:backtest -- --n 200000
//   npm run bench:backtest -- --keep FILE   keeps the generated recording (for npm run backtest -- --source FILE)
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { once } from 'node:events';
import { DEFAULT_RULESET_PATH } from '../services/adapters/files/ruleset-file.ts';
import { DEFAULT_RATES_PATH } from '../services/adapters/files/rates-file.ts';
import { ndjsonLines } from '../services/adapters/files/record-file.ts';
import { RECORD_VERSION, type ScoredRecord, type TrafficRecord } from '../services/recording/record.ts';
import { runBacktest } from '../models/backtest/backtest.ts';
import { replayConfiguration, type Configuration } from '../models/backtest/replay.ts';
import { TrafficBuilder } from '../models/backtest/traffic.ts';
import { mulberry32 } from '../test/support/cpp-world.ts';
import { callerPath } from '../services/cli/command.ts';

const USAGE = `usage: npm run bench:backtest -- [--n <transactions>] [--keep <file>]
  --n N        transactions in the generated recording; default 1,000,000 (several minutes on 2 cores)
  --keep FILE  keep the generated recording (for npm run backtest -- --source FILE)`;

function parseOptions() {
  try {
    return parseArgs({
      options: {
        n: { type: 'string' },
        keep: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    process.stderr.write(`bench:backtest: ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
}
const args = parseOptions();
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const N = Number(args.n ?? 1_000_000);
if (!(Number.isInteger(N) && N > 0)) {
  process.stderr.write(`bench:backtest: --n must be a positive whole number\n${USAGE}\n`);
  process.exit(2);
}
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
const T0 = Date.parse('2026-10-01T00:00:00Z');
const SPAN = 30 * 86_400_000;

function* recording(): Generator<TrafficRecord> {
  const rnd = mulberry32(7);
  const pick = (n: number, skew = 1) => Math.floor(n * rnd() ** skew);
  for (let i = 0; i < N; i++) {
    const at = new Date(T0 + Math.floor((i / N) * SPAN)).toISOString();
    const card = pick(200_000);
    const merchantId = `m${pick(2_000, 3)}`;
    const currency = ['EUR', 'EUR', 'USD', 'JPY'][i % 4]!;
    const amount = currency === 'JPY' ? 500 + pick(60_000) : 300 + pick(40_000, 2);
    const listed = card % 50 === 0;
    const record: ScoredRecord = {
      kind: 'scored',
      v: RECORD_VERSION,
      merchantId,
      transactionId: `bt-${i}`,
      at,
      request: {
        transactionId: `bt-${i}`,
        amount,
        currency,
        occurredAt: at,
        channel: 'ecommerce',
        card: {
          fingerprint: `fp${card.toString(36).padStart(41, '0')}`,
          keyId: 'k1',
          bin: String(400000 + (card % 500)),
          last4: String(card % 10_000).padStart(4, '0'),
          expiryMonth: 1 + (card % 12),
          expiryYear: 2029,
          cvvResult: 'match',
        },
        device: { id: '*', ip: '*' },
        customer: { email: '*' },
      },
      entities: { device: `dv${card % 150_000}`, ip: `ip${pick(100_000)}`, email: `em${card}` },
      lookups: listed
        ? { card_listed: true, listed_events: 1, listed_confirmed: true, leaked_cvv: true, days_since_listed: 3 }
        : {},
      decision: 'approve',
      score: 0,
      reasons: [],
      degraded: false,
      versions: { engine: '0.1.0', ruleset: 'recorded' },
    };
    yield record;
    if (rnd() < 0.01)
      yield {
        kind: 'outcome',
        v: RECORD_VERSION,
        merchantId,
        transactionId: record.transactionId,
        outcome: 'chargeback',
        at: new Date(Date.parse(at) + 7 * 86_400_000).toISOString(),
        // Reported the day it is dated: replayed then, as the engine records it (version 3).
        reportedAt: new Date(Date.parse(at) + 7 * 86_400_000).toISOString(),
      };
  }
}

const dir = mkdtempSync(join(tmpdir(), 'lg-bench-backtest-'));
const file = args.keep === undefined ? join(dir, 'records.ndjson') : callerPath(args.keep);
try {
  const out = createWriteStream(file);
  for (const r of recording()) if (!out.write(`${JSON.stringify(r)}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');

  const heapBefore = process.memoryUsage().heapUsed;
  let started = performance.now();
  const builder = new TrafficBuilder('recording');
  for await (const l of ndjsonLines([file])) builder.add(l.text, `${l.file}:${l.line}`);
  const traffic = builder.finish();
  const readSeconds = (performance.now() - started) / 1000;
  const memory = process.memoryUsage();
  const loadedBytes = memory.heapUsed - heapBefore + traffic.bytes.byteLength;

  const config = (label: string): Configuration => ({
    label,
    ruleset: DEFAULT_RULESET_PATH,
    model: null,
    rates: DEFAULT_RATES_PATH,
  });

  // Baseline: one engine over the same traffic, in this thread.
  started = performance.now();
  await replayConfiguration(traffic, config('baseline'), { first: 0, reportFrom: 0, end: traffic.count });
  const oneEngineSeconds = (performance.now() - started) / 1000;

  const report = await runBacktest(traffic, { baseline: config('in force'), candidate: config('candidate') });
  const perSecond = report.rate.perSecond;
  const oneEngine = traffic.count / oneEngineSeconds;
  console.log(`bench:backtest — ${fmt(traffic.count)} recorded transactions, ${fmt(traffic.outcomes.length)} outcomes`);
  console.log(`  read and check:  ${fmt(readSeconds, 1)} s, ${fmt(traffic.count / readSeconds)} lines/s`);
  console.log(
    `  backtest:        ${fmt(report.rate.seconds, 1)} s, ${fmt(perSecond)} transactions/s (two engines, a worker thread each), ${fmt(1e6 / perSecond / 60, 1)} min per million`,
  );
  console.log(
    `  baseline:        one engine, same traffic, this thread: ${fmt(oneEngineSeconds, 1)} s, ${fmt(oneEngine)} transactions/s`,
  );
  console.log(`  ratio:           backtest / one engine = ${(perSecond / oneEngine).toFixed(2)}`);
  console.log(
    `  memory loaded:   ${fmt(loadedBytes / 2 ** 20)} MiB (${fmt(loadedBytes / traffic.count)} B per transaction, lines in shared memory), RSS ${fmt(memory.rss / 2 ** 20)} MiB`,
  );
  console.log(
    `  figures:         fraud ${fmt(report.transactions.fraud)}, stopped in force ${(100 * report.results[0].fraudStopped.share).toFixed(1)} %, legitimate challenged ${report.results[0].legitimatePer1000.challenged} / 1,000`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
