// `npm run bench:watchlist`: a benchmark, not a test. Generates a Luhn-valid synthetic list of
// 2.4 million cards (the number of card records the motivating processor held), uploads it
// through the HTTP API (streamed text/csv, as an issuer) to an engine on a private Redis, and
// prints:
//   - cards per second of the upload (wall time of the one POST, `accepted` checked);
//   - Redis memory per listed card (INFO used_memory before and after; bucket encodings and sizes);
//   - scoring p50/p99 on an idle engine and while the upload runs (k6, same load, unlisted cards);
//   - the lookup cost added to /v1/score: p50/p99 with and without a listed card, same run (after
//     the upload: both kinds at once, then alternating phases; CPU per scoring of each kind).
// A benchmark of the engine as `npm start` runs it: non-approve decisions also go to the flagged
// queue and the case ingester (embedded PGlite, in the engine's process).
// Targets on this machine: the 2.4 M upload in at most 30 s, at most 40 bytes of Redis memory per
// card, no more than 1 ms added to the scoring p99 by the lookup. Missing a target is a result, not
// a failure: the exit code is non-zero only when a phase could not be run. So are the k6 script's
// thresholds (error rate, p99 against the engine's deadline, degraded share, dropped iterations):
// k6's exit code 99 records the crossed ones with the phase.
//
//   npm run bench:watchlist                    2.4 M cards, 20 s idle phase, lookup 30 s mixed + 4 x 15 s alternating (about 4 minutes)
//   npm run bench:watchlist -- --quick         240,000 cards, short phases: a smoke run
//   npm run bench:watchlist -- --cards 1000000
//   npm run bench:watchlist -- --cpu-prof      engine CPU profile, summarised for the upload and lookup windows
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { luhnValid } from '../services/core/card.ts';
import { defaultReadingThreads } from '../services/watchlist/reader-pool.ts';
import {
  LOAD_TESTS,
  ROOT,
  RESULTS_DIR,
  ENGINE_DEADLINE_MS,
  K6_STOPPED_BY_API,
  K6_THRESHOLDS_CROSSED,
  PhaseError,
  cleanup,
  coresUsed,
  cpuSnapshot,
  crossedThresholds,
  fileStamp,
  fmtInt,
  fmtMs,
  fmtPct,
  fmtRatio,
  freePort,
  installSignalHandlers,
  processCpu,
  startCaseDatabase,
  isShuttingDown,
  k6Control,
  k6WarningCollector,
  machineCoresOver,
  parseCommandStats,
  readK6Summary,
  redisInfo,
  sleep,
  startChild,
  rerunAgainst,
  stopChild,
  waitUntil,
  provisionTools,
  benchWorkDir,
  startPrivateRedis,
  createKey,
  startEngine,
  type Child,
  type CommandStat,
  type CoresUsed,
  type CpuSnapshot,
  type K6Summary,
  luaCalls,
  LUA_COMMANDS,
} from './lib/harness.ts';
import { monotonicUs, summariseProfile, type ProfileSummary } from './lib/cpuprofile.ts';

const K6_SCRIPT = join(LOAD_TESTS, 'watchlist-score.js');
const TREND_STATS = 'avg,min,max,p(50),p(90),p(99),p(99.9)';
const FULL_CARDS = 2_400_000;
const UNLISTED_FROM = 10_000_000;
const TARGET_UPLOAD_S = 30;
const TARGET_CARDS_PER_S = FULL_CARDS / TARGET_UPLOAD_S;
const TARGET_BYTES_PER_CARD = 40;
const TARGET_ADDED_P99_MS = 1;
const ISSUER = 'bench-issuer';
const MERCHANT = 'bench-merchant';
const LOOKUP_ORDER = ['unlisted', 'listed', 'listed', 'unlisted'] as const;

const USAGE = `usage: npm run bench:watchlist -- [--quick] [--cards <n>] [--rate <req/s>] [--lookup-rate <req/s>]
                                    [--idle-seconds <s>] [--lookup-seconds <s>] [--postgres] [--cpu-prof] [--against <ref>]
  --quick            240,000 cards, 8 s idle phase, 10 s + 4 x 5 s lookup phases: a smoke run (memory per card is
                     inflated by the 65,536 buckets' fixed cost at that size)
  --cards N          cards in the list (default 2,400,000; at most ${fmtInt(UNLISTED_FROM)})
  --rate N           scoring load on the idle engine and during the upload (default 200 req/s)
  --lookup-rate N    scoring load after the upload, listed and unlisted cards together (default 300 req/s)
  --idle-seconds N   the idle-engine scoring phase (default 20)
  --lookup-seconds N each of the 4 alternating lookup phases (default 15); twice that with both kinds at once
  --postgres         cases in a private PostgreSQL server (DATABASE_URL) instead of the embedded PGlite, which
                     runs in the engine's process: non-approve decisions are ingested as cases either way
  --cpu-prof         run the engine with --cpu-prof; the profile lands in load-tests/results/ and its hot
                     spots during the upload and the lookup phases are printed
  --against REF      first the same run with the engine of another commit (a git worktree; this driver, list and
                     load), then this checkout's, back to back: prints the upload's speed-up, degraded answers
                     during the upload and bytes per card of both (issue #12: 3x the commit before the cost work)`;

const log = (message: string) => process.stderr.write(`bench:watchlist: ${message}\n`);
installSignalHandlers(log, 'the engine, Redis and k6');

// ---------------------------------------------------------------------------------------------
// Options

function parseOptions() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        cards: { type: 'string' },
        rate: { type: 'string' },
        'lookup-rate': { type: 'string' },
        'idle-seconds': { type: 'string' },
        'lookup-seconds': { type: 'string' },
        'cpu-prof': { type: 'boolean', default: false },
        postgres: { type: 'boolean', default: false },
        against: { type: 'string' },
        // Internal, set by --against: the engine and keys CLI of that checkout, the report's path.
        'engine-root': { type: 'string' },
        'results-file': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`bench:watchlist: ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const integer = (value: string | undefined, name: string, fallback: number, min: number, max: number) => {
    if (value === undefined) return fallback;
    const n = Number(value.replaceAll('_', '').replace(/s$/, ''));
    if (!Number.isInteger(n) || n < min || n > max) {
      process.stderr.write(
        `bench:watchlist: --${name} must be an integer between ${fmtInt(min)} and ${fmtInt(max)}\n${USAGE}\n`,
      );
      process.exit(2);
    }
    return n;
  };
  return {
    quick: v.quick,
    cards: integer(v.cards, 'cards', v.quick ? FULL_CARDS / 10 : FULL_CARDS, 1, UNLISTED_FROM),
    rate: integer(v.rate, 'rate', 200, 1, 5000),
    lookupRate: integer(v['lookup-rate'], 'lookup-rate', 300, 1, 5000),
    idleSeconds: integer(v['idle-seconds'], 'idle-seconds', v.quick ? 8 : 20, 1, 3600),
    lookupSeconds: integer(v['lookup-seconds'], 'lookup-seconds', v.quick ? 5 : 15, 1, 3600),
    warmupSeconds: v.quick ? 2 : 5,
    cpuProf: v['cpu-prof'],
    postgres: v.postgres,
    against: v.against,
    engineRoot: v['engine-root'],
    resultsFile: v['results-file'],
  };
}
type Options = ReturnType<typeof parseOptions>;

// ---------------------------------------------------------------------------------------------
// The synthetic list. Card i: "4" + (10000 + i % 5000) + floor(i / 5000) zero-padded to 9 digits +
// Luhn check digit; expiry month 1 + i % 12, year 2027 + i % 5. watchlist-score.js computes the very same cards.

const LINE_BYTES = 25; // 16 digits, ",MM,YYYY", "\n"
const HEADER = Buffer.from('pan,expiry_month,expiry_year\n');

function cardNumber(i: number): string {
  const b = Buffer.alloc(LINE_BYTES);
  writeCardLine(b, 0, i);
  return b.toString('latin1', 0, 16);
}

function writeCardLine(buf: Buffer, o: number, i: number): void {
  buf[o] = 52; // 4
  // 5,000 BINs (410000–414999), as an issuer's portfolio spreads: one BIN taking every card would
  // trip the BIN-burst rule on every scoring and turn the benchmark's traffic into cases.
  let bin = 10_000 + (i % 5000);
  for (let p = 5; p >= 1; p--) {
    buf[o + p] = 48 + (bin % 10);
    bin = Math.floor(bin / 10);
  }
  let v = Math.floor(i / 5000);
  for (let p = 14; p >= 6; p--) {
    buf[o + p] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  // Luhn: the check digit goes at position 15, so positions 14, 12, ..., 0 are doubled.
  let sum = 0;
  for (let p = 0; p < 15; p++) {
    let d = buf[o + p]! - 48;
    if (p % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  buf[o + 15] = 48 + ((10 - (sum % 10)) % 10);
  const month = 1 + (i % 12);
  const year = 2027 + (i % 5);
  buf[o + 16] = 44; // ,
  buf[o + 17] = 48 + Math.floor(month / 10);
  buf[o + 18] = 48 + (month % 10);
  buf[o + 19] = 44;
  buf[o + 20] = 50;
  buf[o + 21] = 48;
  buf[o + 22] = 48 + Math.floor((year % 100) / 10);
  buf[o + 23] = 48 + (year % 10);
  buf[o + 24] = 10; // \n
}

/** The list as a byte stream, generated as it is read: 10,000 lines (250 kB) per chunk. */
function cardListStream(cards: number, progress: { sent: number }, linesPerChunk = 10_000): ReadableStream<Uint8Array> {
  let next = 0;
  let headerSent = false;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (!headerSent) {
          headerSent = true;
          controller.enqueue(new Uint8Array(HEADER));
          return;
        }
        if (next >= cards) {
          controller.close();
          return;
        }
        const count = Math.min(linesPerChunk, cards - next);
        const buf = Buffer.allocUnsafe(count * LINE_BYTES);
        for (let k = 0; k < count; k++) writeCardLine(buf, k * LINE_BYTES, next + k);
        next += count;
        progress.sent = next;
        controller.enqueue(buf);
      },
    },
    { highWaterMark: 2 },
  );
}

// ---------------------------------------------------------------------------------------------
// k6 phases

interface LatencyStats {
  requests: number;
  /** requests per second over the phase's nominal duration */
  achievedRate: number;
  errorRate: number;
  droppedIterations: number;
  degradedRate: number;
  /** share of 200 responses with a LEAKED_CARD reason */
  listedRate: number;
  /** share of 200 responses whose decision was not approve (they go to the flagged queue and case ingester) */
  flaggedRate: number;
  avg: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

function statsOf(summary: K6Summary, selector: string, seconds: number): LatencyStats | undefined {
  const m = summary.metrics;
  const metric = (name: string) => m[`${name}{${selector}}`]?.values;
  const d = metric('http_req_duration');
  if (!d) return undefined;
  const requests = metric('http_reqs')?.count ?? 0;
  return {
    requests,
    achievedRate: seconds > 0 ? Math.round((requests / seconds) * 10) / 10 : 0,
    errorRate: metric('http_req_failed')?.rate ?? 0,
    droppedIterations: metric('dropped_iterations')?.count ?? 0,
    degradedRate: metric('degraded')?.rate ?? 0,
    listedRate: metric('listed_flag')?.rate ?? 0,
    flaggedRate: metric('flagged')?.rate ?? 0,
    avg: d.avg ?? 0,
    p50: d['p(50)'] ?? 0,
    p90: d['p(90)'] ?? 0,
    p99: d['p(99)'] ?? 0,
    p999: d['p(99.9)'] ?? 0,
    max: d.max ?? 0,
  };
}

interface K6Run {
  ok: boolean;
  failure?: string;
  exitCode: number | null;
  /** watchlist-score.js's thresholds crossed (k6 exit code 99), as `metric: expression`. */
  thresholdsCrossed: string[];
  summary?: K6Summary;
  warnings: string[];
  cores: CoresUsed;
}

interface K6RunSpec {
  id: string;
  env: Record<string, string>;
  /** Seconds of load the run should last: the time limit is this plus a margin. */
  seconds: number;
  /** Start paused; `control` resumes it (and may stop it) through the REST API. */
  control?: (address: string, k6: Child) => Promise<void>;
}

interface Context {
  k6: string;
  engine: Child;
  redis: Child;
  merchantKey: string;
  workDir: string;
  runBase: string;
}

async function runK6(ctx: Context, spec: K6RunSpec): Promise<K6Run> {
  const summaryFile = join(ctx.workDir, `k6-${spec.id}.json`);
  rmSync(summaryFile, { force: true });
  const address = `127.0.0.1:${await freePort()}`;
  const env = {
    DEADLINE_MS: String(ENGINE_DEADLINE_MS),
    ...spec.env,
    RUN_ID: `${ctx.runBase}${spec.id}`,
    SUMMARY_FILE: summaryFile,
  };
  const args = [
    'run',
    '--quiet',
    '--no-color',
    '--no-usage-report',
    '--include-system-env-vars',
    '--address',
    address,
    '--summary-trend-stats',
    TREND_STATS,
    ...(spec.control ? ['--paused'] : []),
    ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    K6_SCRIPT,
  ];
  const collector = k6WarningCollector();
  const before = cpuSnapshot(ctx.engine, ctx.redis);
  // The API key travels in the environment, not on a command line other users can read.
  const child = startChild(
    `k6 (${spec.id})`,
    ctx.k6,
    args,
    { ...process.env, API_KEY: ctx.merchantKey },
    collector.onLine,
  );
  let stoppedByUs = false;
  let controlError: string | undefined;
  if (spec.control) {
    try {
      await waitUntil(
        'k6 REST API answered',
        child,
        async () => (await fetch(`http://${address}/v1/status`)).ok,
        60_000,
      );
      stoppedByUs = true;
      await spec.control(address, child);
    } catch (error) {
      controlError = (error as Error).message;
      await k6Control(address, { stopped: true }).catch(() => undefined);
    }
  }
  const limitMs = (spec.seconds + 60) * 1000;
  const timedOut = await Promise.race([child.exited.then(() => false), sleep(limitMs).then(() => true)]);
  if (timedOut) await stopChild(child);
  const after = cpuSnapshot(ctx.engine, ctx.redis);
  const warnings = collector.finish();
  const exitCode = child.proc.exitCode;
  const base: K6Run = { ok: false, exitCode, thresholdsCrossed: [], warnings, cores: coresUsed(before, after) };
  if (isShuttingDown()) return { ...base, failure: 'interrupted' };
  if (controlError) return { ...base, failure: controlError };
  if (timedOut) return { ...base, failure: `k6 did not finish within ${limitMs / 1000} s` };
  if (ctx.engine.done)
    return { ...base, failure: `the engine died during the phase:\n  ${ctx.engine.tail.slice(-15).join('\n  ')}` };
  if (ctx.redis.done)
    return { ...base, failure: `redis-server died during the phase:\n  ${ctx.redis.tail.slice(-15).join('\n  ')}` };
  if (!existsSync(summaryFile))
    return {
      ...base,
      failure: `k6 exited with code ${exitCode} and wrote no summary:\n  ${child.tail.slice(-15).join('\n  ')}`,
    };
  const summary = readK6Summary(summaryFile);
  // 99: thresholds crossed, a result (the run went to its end and its summary is complete).
  if (exitCode === K6_THRESHOLDS_CROSSED)
    return { ...base, summary, ok: true, thresholdsCrossed: crossedThresholds(summary) };
  if (exitCode !== 0 && !(stoppedByUs && exitCode === K6_STOPPED_BY_API)) {
    return { ...base, summary, failure: `k6 exited with code ${exitCode}:\n  ${child.tail.slice(-15).join('\n  ')}` };
  }
  return { ...base, summary, ok: true };
}

// ---------------------------------------------------------------------------------------------
// Redis: memory, buckets, command statistics

async function infoField(redis: Redis, section: string, field: string): Promise<number> {
  const m = new RegExp(`^${field}:(\\d+)`, 'm').exec(await redis.info(section));
  return m ? Number(m[1]) : NaN;
}

/**
 * Deletes the keys scoring writes: an identity's counters and lists (`lg:{c:…}`, `lg:{d:…}`, …)
 * and transaction markers and stored responses (`lg:{t:…}`); not the API keys (`lg:{apikeys}`),
 * the watchlists' metadata (`lg:{w}`) or the rate limits, which share the `lg:{` prefix.
 */
const SCORING_KEY = /^lg:\{[cdiesmbt]:/;
async function deleteScoringKeys(redis: Redis): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', 'lg:{*', 'COUNT', 2000);
    cursor = next;
    const keys = found.filter((k) => SCORING_KEY.test(k));
    if (keys.length) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

const FLAGGED_STREAM = 'lg:flagged';

/**
 * Waits until the case ingester has consumed the flagged-decision stream (it deletes what it
 * committed): its backlog is scoring's memory, not the watchlist's. Returns the entries left.
 */
async function drainFlagged(redis: Redis, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let left = await redis.xlen(FLAGGED_STREAM);
  while (left > 0 && Date.now() < deadline) {
    await sleep(500);
    left = await redis.xlen(FLAGGED_STREAM);
  }
  return left;
}

/** What the flagged-decision stream holds (every entry counted). */
async function flaggedBytes(redis: Redis): Promise<number> {
  return Number((await redis.memory('USAGE', FLAGGED_STREAM, 'SAMPLES', '0')) ?? 0);
}

/** used_memory once allocations have settled (clients' buffers shrink in Redis's cron). */
async function settledUsedMemory(redis: Redis): Promise<number> {
  await sleep(2000);
  return infoField(redis, 'memory', 'used_memory');
}

interface BucketStats {
  keys: number;
  encodings: Record<string, number>;
  fieldsAvg: number;
  fieldsMax: number;
  memoryUsageSum: number;
  sample: { key: string; encoding: string | null; fields: number; memoryUsage: number | null };
  hashMaxListpackEntries: string;
  hashMaxListpackValue: string;
}

async function bucketStats(redis: Redis): Promise<BucketStats> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', 'lg:w:{*}', 'COUNT', 5000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const encodings: Record<string, number> = {};
  let fieldsSum = 0;
  let fieldsMax = 0;
  let memoryUsageSum = 0;
  for (let i = 0; i < keys.length; i += 2000) {
    const pipeline = redis.pipeline();
    for (const key of keys.slice(i, i + 2000)) pipeline.object('ENCODING', key).hlen(key).memory('USAGE', key);
    const rows = (await pipeline.exec()) ?? [];
    for (let r = 0; r < rows.length; r += 3) {
      const encoding = String(rows[r]![1]);
      encodings[encoding] = (encodings[encoding] ?? 0) + 1;
      const fields = Number(rows[r + 1]![1]);
      fieldsSum += fields;
      fieldsMax = Math.max(fieldsMax, fields);
      memoryUsageSum += Number(rows[r + 2]![1] ?? 0);
    }
  }
  const sampleKey = 'lg:w:{0000}';
  const [enc, fields, usage] = await Promise.all([
    redis.object('ENCODING', sampleKey).catch(() => null),
    redis.hlen(sampleKey),
    redis.memory('USAGE', sampleKey).catch(() => null),
  ]);
  const config = async (name: string) => ((await redis.config('GET', name)) as string[])[1] ?? '?';
  return {
    keys: keys.length,
    encodings,
    fieldsAvg: keys.length ? Math.round((fieldsSum / keys.length) * 10) / 10 : 0,
    fieldsMax,
    memoryUsageSum,
    sample: { key: sampleKey, encoding: enc as string | null, fields, memoryUsage: usage as number | null },
    hashMaxListpackEntries: await config('hash-max-listpack-entries'),
    hashMaxListpackValue: await config('hash-max-listpack-value'),
  };
}

async function commandStats(port: number): Promise<CommandStat[]> {
  return parseCommandStats(await redisInfo(port, 'commandstats'));
}

// ---------------------------------------------------------------------------------------------
// Report

interface Added {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}
interface KindPair {
  listed?: LatencyStats;
  unlisted?: LatencyStats;
  addedMs?: Added;
}

/** What one phase cost, measured inside it (a margin off either end): cores, and Redis commands per scoring. */
interface PhaseCost {
  seconds: number;
  cores: CoresUsed;
  scorings: number;
  engineMsPerScoring: number;
  redisUsPerScoring: number;
  evalshaUsPerScoring: number;
  evalshaCallsPerScoring: number;
  xaddPerScoring: number;
  commandStats: CommandStat[];
}

function pair(listed: LatencyStats | undefined, unlisted: LatencyStats | undefined): KindPair {
  const d = (a: number, b: number) => Math.round((a - b) * 1000) / 1000;
  return {
    ...(listed ? { listed } : {}),
    ...(unlisted ? { unlisted } : {}),
    ...(listed && unlisted
      ? {
          addedMs: {
            p50: d(listed.p50, unlisted.p50),
            p90: d(listed.p90, unlisted.p90),
            p99: d(listed.p99, unlisted.p99),
            p999: d(listed.p999, unlisted.p999),
          },
        }
      : {}),
  };
}

interface PhaseReport {
  ok: boolean;
  failure?: string;
  seconds: number;
  rate: number;
  stats?: LatencyStats;
  cores?: CoresUsed;
  k6Warnings: string[];
  /** k6 thresholds crossed (a result, not a failure). */
  thresholdsCrossed?: string[];
  redisCommandStats?: CommandStat[];
}

interface Report {
  startedAt: string;
  finishedAt?: string;
  quick: boolean;
  machine: {
    cpus: number;
    cpuModel: string;
    loadAvgBefore: number[];
    loadAvgAfter?: number[];
    otherCoresBefore?: number;
    node: string;
    k6: string;
    redis: string;
    note: string;
  };
  setup: Record<string, unknown>;
  idle?: PhaseReport;
  upload?: {
    ok: boolean;
    failure?: string;
    cards: number;
    bytes: number;
    wallS?: number;
    cardsPerSecond?: number;
    accepted?: number;
    duplicates?: number;
    rejected?: number;
    errors?: unknown[];
    cores?: CoresUsed;
    monotonicUs?: { from: number; to: number };
    redisCommandStats?: CommandStat[];
    /** The upload's own script calls, from Redis's SLOWLOG (every call over 1 ms; a 2,000-card batch takes longer). */
    redisScript?: { calls: number; usec: number; maxUsec: number; nsPerCard: number };
    scoring?: PhaseReport;
  };
  memory?: {
    /** Flagged decisions not yet ingested as cases when used_memory was read (before, after): their memory is scoring's. */
    flaggedBacklog: { before: number; beforeBytes: number; after: number; afterBytes: number };
    usedBefore: number;
    usedAfterWithScoringKeys: number;
    scoringKeysRemoved: number;
    usedAfter: number;
    delta: number;
    bytesPerCard?: number;
    bytesPerCardWithScoringKeys?: number;
    buckets?: BucketStats;
  };
  lookup?: {
    ok: boolean;
    failure?: string;
    rate: number;
    warmupSeconds: number;
    mixSeconds: number;
    phaseSeconds: number;
    order: readonly string[];
    /** Both kinds at once (rate/2 each): the same conditions for both. */
    mix: KindPair & { cost?: PhaseCost };
    /** Alternating phases at the full rate: latency per kind, and CPU per scoring phase by phase. */
    alternating: KindPair & { phases: { kind: string; stats?: LatencyStats; cost?: PhaseCost }[] };
    /** CPU per scoring of each kind, averaged over its alternating phases. */
    costPerScoring?: Record<
      'listed' | 'unlisted',
      { engineMs: number; redisUs: number; evalshaUs: number; evalshaCalls: number; xaddCalls: number }
    >;
    cores?: CoresUsed;
    k6Warnings: string[];
    /** k6 thresholds crossed (a result, not a failure). */
    thresholdsCrossed?: string[];
    monotonicUs?: { from: number; to: number };
  };
  targets?: Record<string, { target: string; value: number | undefined; pass: boolean; note?: string }>;
  cpuProfile?: { path: string; upload?: ProfileSummary; lookup?: ProfileSummary; clockCheckMs?: number };
  engineDecisions?: Record<string, number>;
  failures: string[];
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
const signed = (n: number) => `${n >= 0 ? '+' : '-'}${fmtMs(Math.abs(n))}`;

function evaluate(report: Report, opts: Options): NonNullable<Report['targets']> {
  const u = report.upload;
  const m = report.memory;
  const l = report.lookup;
  const projected = u?.cardsPerSecond ? FULL_CARDS / u.cardsPerSecond : undefined;
  return {
    upload: {
      target: `2.4 M cards in <= ${TARGET_UPLOAD_S} s (>= ${fmtInt(TARGET_CARDS_PER_S)} cards/s)`,
      value: opts.cards === FULL_CARDS ? u?.wallS : projected,
      pass: u?.cardsPerSecond !== undefined && u.cardsPerSecond >= TARGET_CARDS_PER_S,
      ...(opts.cards === FULL_CARDS
        ? {}
        : { note: `${fmtInt(opts.cards)} cards uploaded: the time shown is projected to 2.4 M at the measured rate` }),
    },
    memory: {
      target: `<= ${TARGET_BYTES_PER_CARD} bytes of Redis memory per listed card`,
      value: m?.bytesPerCard,
      pass: m?.bytesPerCard !== undefined && m.bytesPerCard <= TARGET_BYTES_PER_CARD,
      ...(opts.cards < FULL_CARDS
        ? { note: `with ${fmtInt(opts.cards)} cards the buckets' fixed cost weighs more per card than at 2.4 M` }
        : {}),
    },
    lookup: {
      target: `<= ${TARGET_ADDED_P99_MS} ms added to the scoring p99 by a listed card`,
      value: l?.mix.addedMs?.p99,
      pass: l?.mix.addedMs !== undefined && l.mix.addedMs.p99 <= TARGET_ADDED_P99_MS,
      note: `both kinds at once; in alternating phases: ${l?.alternating.addedMs ? `${signed(l.alternating.addedMs.p99)} ms` : 'n/a'}`,
    },
  };
}

function printReport(report: Report, resultsPath: string, opts: Options): void {
  const out: string[] = [];
  const na = <T>(v: T | undefined, f: (x: T) => string) => (v === undefined ? 'n/a' : f(v));
  const kv = (label: string, value: string) => out.push(`  ${label.padEnd(40)}${value}`);
  const latencyHeader = (label: string) =>
    out.push(
      `  ${label.padEnd(40)}${['requests', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'errors', 'dropped'].map((h) => h.padStart(10)).join('')}`,
    );
  const latencyRow = (label: string, s: LatencyStats | undefined, extra = '') =>
    out.push(
      `  ${label.padEnd(40)}${s ? [fmtInt(s.requests), fmtMs(s.p50), fmtMs(s.p90), fmtMs(s.p99), fmtMs(s.p999), fmtMs(s.max), fmtPct(s.errorRate), fmtInt(s.droppedIterations)].map((c) => c.padStart(10)).join('') + extra : 'n/a'}`,
    );
  const coresLine = (c: CoresUsed | undefined) =>
    c
      ? `engine ${c.server.toFixed(2)}, redis ${c.redis.toFixed(2)}, k6 ${c.k6.toFixed(2)}, driver ${c.harness.toFixed(2)}, other processes ${c.other.toFixed(2)}`
      : 'n/a';

  const u = report.upload;
  const mem = report.memory;
  const l = report.lookup;
  out.push('');
  out.push(
    `Leakguard bench:watchlist  ${report.startedAt}${opts.quick ? '  (--quick: smaller list, short phases)' : ''}`,
  );
  out.push(
    `  ${report.machine.cpus} CPU cores (${report.machine.cpuModel}); load average before ${report.machine.loadAvgBefore.map((x) => x.toFixed(2)).join(' ')}, after ${(report.machine.loadAvgAfter ?? []).map((x) => x.toFixed(2)).join(' ')}`,
  );
  out.push(`  ${report.machine.note}`);
  out.push(`  Other processes' CPU just before the run: ${report.machine.otherCoresBefore ?? '?'} cores.`);
  out.push(
    `  Node ${report.machine.node}, ${report.machine.k6}, redis ${report.machine.redis}; engine NODE_ENV=production LOG_LEVEL=warn, Redis velocity store and watchlist (no persistence), ${defaultReadingThreads()} upload reading thread(s) (the default: cores - 1, at most 4; engines before 21a3da1 read on the event loop)`,
  );
  out.push(
    `  Case store: ${String(report.setup.caseStore)}: every non-approve decision is queued (Redis stream) and ingested as a case${opts.postgres ? '; PostgreSQL\'s CPU counts as "other processes"' : ''}`,
  );
  out.push(
    `  List: ${fmtInt(opts.cards)} Luhn-valid cards ("4" + one of 5,000 BIN tails + 9-digit serial + check digit, pan,MM,YYYY lines, ${mb(u?.bytes ?? 0)} of text/csv streamed),` +
      ` event (pan, expiry, cvv) of issuer ${ISSUER}, uploaded with the issuer's key (BIN range 410000-414999)`,
  );
  out.push('');
  out.push('Upload  POST /v1/compromise-events/{id}/cards');
  if (u && !u.ok && u.wallS === undefined) kv('FAILED', u.failure ?? '?');
  else if (u) {
    kv('wall time', `${na(u.wallS, (s) => `${s.toFixed(1)} s`)}`);
    kv('cards per second', na(u.cardsPerSecond, fmtInt));
    kv(
      'accepted / duplicates / rejected',
      `${na(u.accepted, fmtInt)} / ${na(u.duplicates, fmtInt)} / ${na(u.rejected, fmtInt)}${u.ok ? '' : `  FAILED: ${u.failure}`}`,
    );
    kv('cores during the upload', coresLine(u.cores));
    if (u.cores && u.wallS && u.accepted) {
      const perCard = (cores: number) => `${(((cores * u.wallS!) / u.accepted!) * 1e6).toFixed(1)} us`;
      kv(
        'CPU per card',
        `engine ${perCard(u.cores.server)}, redis ${perCard(u.cores.redis)} (the concurrent scoring included)`,
      );
    }
    if (u.redisScript)
      kv(
        '  watchlist-add script (SLOWLOG)',
        `${fmtInt(u.redisScript.calls)} calls, ${(u.redisScript.usec / 1e6).toFixed(2)} s, ${fmtInt(u.redisScript.nsPerCard)} ns per card, longest ${(u.redisScript.maxUsec / 1000).toFixed(1)} ms (Redis runs nothing else meanwhile)`,
      );
    const rs = u.redisCommandStats;
    if (rs?.length) {
      const evalsha = luaCalls(rs);
      const inner = rs
        .filter((c) => ![...LUA_COMMANDS, 'info', 'ping', 'config', 'script', 'function'].includes(c.command))
        .slice(0, 5);
      kv(
        'Redis commands (upload + scoring)',
        `${evalsha ? `${evalsha.command.toUpperCase()} ${(evalsha.usec / 1e6).toFixed(2)} s over ${fmtInt(evalsha.calls)} calls` : 'no Lua call'}; ` +
          `inside: ${inner.map((c) => `${c.command.toUpperCase()} ${fmtInt(c.calls)} x ${c.usecPerCall.toFixed(2)} us`).join(', ')}`,
      );
    }
  }
  out.push('');
  out.push(
    'Redis memory (INFO used_memory; the concurrent scoring\'s keys removed and its flagged decisions ingested before "after")',
  );
  if (mem) {
    kv('before / after', `${fmtInt(mem.usedBefore)} / ${fmtInt(mem.usedAfter)} bytes (+${mb(mem.delta)})`);
    kv(
      'per listed card',
      `${na(mem.bytesPerCard, (b) => b.toFixed(1))} bytes  (${na(mem.bytesPerCardWithScoringKeys, (b) => b.toFixed(1))} with the ${fmtInt(mem.scoringKeysRemoved)} scoring keys)`,
    );
    if (mem.flaggedBacklog.before || mem.flaggedBacklog.after) {
      const f = mem.flaggedBacklog;
      kv(
        '  flagged decisions not yet ingested',
        `before ${fmtInt(f.before)} (${fmtInt(f.beforeBytes)} bytes), after ${fmtInt(f.after)} (${fmtInt(f.afterBytes)} bytes): subtracted`,
      );
    }
    const b = mem.buckets;
    if (b) {
      kv(
        'bucket keys lg:w:{xxxx}',
        `${fmtInt(b.keys)}  (${Object.entries(b.encodings)
          .map(([e, n]) => `${e} ${fmtInt(n)}`)
          .join(', ')})`,
      );
      kv(
        'fields per bucket',
        `avg ${b.fieldsAvg}, max ${b.fieldsMax}  (hash-max-listpack-entries ${b.hashMaxListpackEntries}, -value ${b.hashMaxListpackValue})`,
      );
      kv(
        `sample ${b.sample.key}`,
        `MEMORY USAGE ${na(b.sample.memoryUsage ?? undefined, fmtInt)} bytes, ${b.sample.fields} cards, OBJECT ENCODING ${b.sample.encoding}`,
      );
      kv(
        'sum of MEMORY USAGE over the buckets',
        `${fmtInt(b.memoryUsageSum)} bytes (${u?.accepted ? (b.memoryUsageSum / u.accepted).toFixed(1) : '?'} bytes per card)`,
      );
    }
  } else out.push('  n/a');
  out.push('');
  out.push(`Scoring /v1/score, unlisted cards at ${fmtInt(opts.rate)} req/s (constant arrival rate)`);
  latencyHeader('');
  latencyRow(`idle engine (${opts.idleSeconds} s)`, report.idle?.stats);
  latencyRow(`while the upload runs (${na(u?.scoring?.seconds, (s) => s.toFixed(1))} s)`, u?.scoring?.stats);
  if (report.idle?.stats && u?.scoring?.stats)
    kv('  p99 during upload - idle', `${signed(u.scoring.stats.p99 - report.idle.stats.p99)} ms`);
  kv('  cores, idle phase', coresLine(report.idle?.cores));
  if (report.idle?.cores && report.idle.stats) {
    kv(
      '  engine CPU per scoring, idle phase',
      `${((report.idle.cores.server / opts.rate) * 1000).toFixed(2)} ms; decisions not approve: ${fmtPct(report.idle.stats.flaggedRate)} (flagged queue + case ingestion)`,
    );
  }
  for (const [label, p] of [
    ['idle', report.idle],
    ['during upload', u?.scoring],
  ] as const) {
    if (p?.thresholdsCrossed) kv(`  k6 thresholds crossed (${label})`, p.thresholdsCrossed.join('; '));
    if (p && !p.ok) kv(`  FAILED (${label})`, p.failure ?? '?');
  }
  out.push('');
  out.push(
    `Lookup cost  after the upload, ${fmtInt(opts.lookupRate)} req/s in all, after a ${opts.warmupSeconds} s mixed warm-up`,
  );
  if (l) {
    const tail = (st: LatencyStats | undefined) =>
      st ? `  LEAKED_CARD ${fmtPct(st.listedRate)}, not approved ${fmtPct(st.flaggedRate)}` : '';
    const kinds = (p: KindPair) => {
      latencyRow('  unlisted card (lookup misses)', p.unlisted, tail(p.unlisted));
      latencyRow('  listed card (lookup hits)', p.listed, tail(p.listed));
      if (p.addedMs)
        kv(
          '  added by a listed card',
          `p50 ${signed(p.addedMs.p50)} ms, p90 ${signed(p.addedMs.p90)} ms, p99 ${signed(p.addedMs.p99)} ms, p99.9 ${signed(p.addedMs.p999)} ms`,
        );
    };
    latencyHeader(`both at once, ${fmtInt(Math.round(opts.lookupRate / 2))} req/s each, ${l.mixSeconds} s`);
    kinds(l.mix);
    kv('  cores', coresLine(l.mix.cost?.cores));
    latencyHeader(`alternating: ${l.order.join(', ')}, ${l.phaseSeconds} s each`);
    kinds(l.alternating);
    kv(
      '  per phase p50 / p99 (ms)',
      l.alternating.phases
        .map((p, i) => `${i + 1} ${p.kind} ${na(p.stats, (st) => `${fmtMs(st.p50)} / ${fmtMs(st.p99)}`)}`)
        .join(', '),
    );
    kv(
      '  other processes per phase (cores)',
      l.alternating.phases.map((p, i) => `${i + 1} ${na(p.cost, (c) => c.cores.other.toFixed(2))}`).join(', '),
    );
    const c = l.costPerScoring;
    if (c) {
      const plus = (a: number, b: number, digits: number) => `${a - b >= 0 ? '+' : ''}${(a - b).toFixed(digits)}`;
      kv(
        '  CPU per scoring, alternating phases',
        `engine: unlisted ${c.unlisted.engineMs.toFixed(2)} ms, listed ${c.listed.engineMs.toFixed(2)} ms (${plus(c.listed.engineMs, c.unlisted.engineMs, 2)} ms); ` +
          `redis: unlisted ${c.unlisted.redisUs.toFixed(0)} us, listed ${c.listed.redisUs.toFixed(0)} us (${plus(c.listed.redisUs, c.unlisted.redisUs, 0)} us)`,
      );
      kv(
        '  Redis scripts per scoring',
        `Lua (EVALSHA, FCALL) time: unlisted ${c.unlisted.evalshaUs.toFixed(0)} us (${c.unlisted.evalshaCalls.toFixed(2)} calls), listed ${c.listed.evalshaUs.toFixed(0)} us (${c.listed.evalshaCalls.toFixed(2)} calls); ` +
          `XADD per listed scoring ${c.listed.xaddCalls.toFixed(2)} (hit stream + flagged queue), per unlisted ${c.unlisted.xaddCalls.toFixed(2)} (flagged queue)`,
      );
    }
    if (l.thresholdsCrossed) kv('  k6 thresholds crossed', l.thresholdsCrossed.join('; '));
    if (!l.ok) kv('  FAILED', l.failure ?? '?');
  } else out.push('  n/a');
  if (report.engineDecisions) {
    const total = Object.values(report.engineDecisions).reduce((a, b) => a + b, 0);
    out.push(
      `  Engine decisions over the run: ${Object.entries(report.engineDecisions)
        .map(([k, v]) => `${k} ${total ? ((v / total) * 100).toFixed(1) : 0}%`)
        .join(', ')} (${fmtInt(total)} scored)`,
    );
  }
  const cp = report.cpuProfile;
  if (cp) {
    for (const [label, s] of [
      ['upload', cp.upload],
      ['lookup phases', cp.lookup],
    ] as const) {
      if (!s) continue;
      out.push('');
      out.push(
        `Engine CPU profile, ${label} window (${fmtInt(s.windowMs)} ms, ${fmtInt(s.sampledMs)} ms sampled, busy ${fmtPct(s.busyShare)})`,
      );
      out.push(
        '  self time by area:      ' +
          s.byArea
            .slice(0, 8)
            .map((h) => `${h.frame} ${fmtPct(h.share)}`)
            .join(', '),
      );
      out.push(
        '  inclusive time by area: ' +
          s.byAreaInclusive
            .slice(0, 8)
            .map((h) => `${h.frame} ${fmtPct(h.share)}`)
            .join(', '),
      );
      out.push('  self time, top functions:');
      for (const h of s.self.slice(0, 12))
        out.push(`    ${fmtPct(h.share).padStart(7)}  ${fmtInt(h.ms).padStart(7)} ms  ${h.frame}`);
      out.push('  inclusive time, project code:');
      for (const h of s.inclusiveProject.slice(0, 15))
        out.push(`    ${fmtPct(h.share).padStart(7)}  ${fmtInt(h.ms).padStart(7)} ms  ${h.frame}`);
    }
    out.push(`  profile: ${cp.path}`);
  }
  out.push('');
  out.push('Targets');
  const t = report.targets!;
  out.push(
    `  Upload:  ${na(t.upload!.value, (v) => `${v.toFixed(1)} s`)} for 2.4 M cards, ${na(u?.cardsPerSecond, fmtInt)} cards/s (target ${t.upload!.target})  ${t.upload!.pass ? 'PASS' : 'MISS'}`,
  );
  if (t.upload!.note) out.push(`           ${t.upload!.note}`);
  out.push(
    `  Memory:  ${na(t.memory!.value, (v) => `${v.toFixed(1)} bytes`)} per card (target ${t.memory!.target})  ${t.memory!.pass ? 'PASS' : 'MISS'}`,
  );
  if (t.memory!.note) out.push(`           ${t.memory!.note}`);
  out.push(
    `  Lookup:  ${na(t.lookup!.value, (v) => `${signed(v)} ms`)} at p99, listed - unlisted (target ${t.lookup!.target})  ${t.lookup!.pass ? 'PASS' : 'MISS'}`,
  );
  if (t.lookup!.note) out.push(`           ${t.lookup!.note}`);
  const notes: string[] = [];
  const others = [
    report.idle?.cores?.other,
    u?.cores?.other,
    l?.mix.cost?.cores.other,
    ...(l?.alternating.phases.map((p) => p.cost?.cores.other) ?? []),
  ].filter((x): x is number => x !== undefined);
  const busiest = Math.max(0, ...others);
  if (busiest > 0.3)
    notes.push(
      `Other processes on this machine used up to ${busiest.toFixed(2)} of ${report.machine.cpus} cores during a phase: figures are disturbed by them.`,
    );
  for (const p of l ? [l.mix, l.alternating] : []) {
    if (p.listed && p.listed.listedRate + p.listed.degradedRate < 0.999)
      notes.push(
        `Only ${fmtPct(p.listed.listedRate)} of the listed-card scorings carried a LEAKED_CARD reason (${fmtPct(p.listed.degradedRate)} degraded): the lookup missed listed cards.`,
      );
    if (p.unlisted && p.unlisted.listedRate > 0)
      notes.push(`${fmtPct(p.unlisted.listedRate)} of the unlisted-card scorings carried a LEAKED_CARD reason.`);
  }
  const degradedIn = (
    [
      ['idle engine', report.idle?.stats],
      ['during the upload', u?.scoring?.stats],
      ['unlisted (both at once)', l?.mix.unlisted],
      ['listed (both at once)', l?.mix.listed],
      ['unlisted (alternating)', l?.alternating.unlisted],
      ['listed (alternating)', l?.alternating.listed],
    ] as const
  )
    .filter(([, st]) => st && st.degradedRate > 0)
    .map(([label, st]) => `${label} ${fmtPct(st!.degradedRate)}`);
  if (degradedIn.length)
    notes.push(
      `Degraded responses (the store's round trip missed the engine's deadline: no velocity, no watchlist lookup): ${degradedIn.join(', ')}.`,
    );
  if (u?.scoring?.stats && u.scoring.stats.droppedIterations > 0)
    notes.push(
      `k6 dropped ${fmtInt(u.scoring.stats.droppedIterations)} iterations during the upload (not enough VUs for the latencies): the during-upload figures understate the queueing.`,
    );
  for (const n of notes) out.push(`  Note: ${n}`);
  if (report.failures.length) out.push(`  FAILED phases: ${report.failures.length} (see above)`);
  out.push(`Results: ${resultsPath}`);
  out.push('');
  process.stdout.write(`${out.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  const opts = parseOptions();
  const startedAt = new Date();
  const stamp = fileStamp(startedAt);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const resultsPath = opts.resultsFile ?? join(RESULTS_DIR, `bench-watchlist-${stamp}.json`);
  const baseline = opts.against ? rerunAgainst<Report>(opts.against, import.meta.url, log) : undefined;

  // The generator and watchlist-score.js must agree: a few cards through the engine's own Luhn check.
  for (const i of [0, 1, 9, 10, 11, 12345, opts.cards - 1, UNLISTED_FROM, UNLISTED_FROM + 9_999_999]) {
    if (!luhnValid(cardNumber(i)))
      throw new PhaseError(`generator bug: card ${i} (${cardNumber(i)}) fails the Luhn check`);
  }

  log('provisioning redis-server and k6');
  const { redisBin, k6Bin, k6Version, redisVersion } = provisionTools();
  const { workDir, redisDir, stateDir } = benchWorkDir('lg-bench-watchlist-');

  const listBytes = HEADER.length + opts.cards * LINE_BYTES;
  const report: Report = {
    startedAt: startedAt.toISOString(),
    quick: opts.quick,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? '?',
      loadAvgBefore: loadavg(),
      node: process.version,
      k6: k6Version,
      redis: redisVersion,
      note: `k6, the engine, Redis and this driver (which generates the list) share these ${cpus().length} cores: the load generator and the upload's client take CPU from the engine.`,
    },
    setup: {
      ...opts,
      listBytes,
      unlistedFrom: UNLISTED_FROM,
      lookupOrder: LOOKUP_ORDER,
      node: process.execPath,
      nodeFlags: process.execArgv,
      k6Script: relative(ROOT, K6_SCRIPT),
      trendStats: TREND_STATS,
      generator:
        'card i = "4" + (10000 + i % 5000) + floor(i / 5000) zero-padded to 9 digits + Luhn check digit; expiry month 1 + i % 12, year 2027 + i % 5; listed i in [0, cards), unlisted i >= 10,000,000',
    },
    failures: [],
  };

  const { child: redisChild, url: redisUrl, port: redisPort } = await startPrivateRedis(redisBin, redisDir);
  const redis = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 });
  log(`redis-server ${redisVersion} on ${redisUrl}`);

  try {
    // Keys through the keys CLI (the way an operator makes them), one after the other: each CLI
    // run opens the embedded case database to audit its change, and PGlite admits one process.
    const makeKey = (role: string, extra: string[]) =>
      createKey(redisUrl, stateDir, role, extra, 'bench-watchlist', opts.engineRoot);
    const adminKey = await makeKey('admin', []);
    const issuerKey = await makeKey('issuer', ['--issuer', ISSUER]);
    const merchantKey = await makeKey('merchant', ['--merchant', MERCHANT]);

    // The engine, as production would run it.
    const profileName = `engine-watchlist-${stamp}.cpuprofile`;
    let consoleReady = false;
    // The case store: PGlite in the engine's process (as `npm start` runs it), or a private PostgreSQL.
    const databaseUrl = opts.postgres ? await startCaseDatabase(log) : undefined;
    report.setup.caseStore = databaseUrl
      ? 'PostgreSQL (private server, DATABASE_URL)'
      : 'PGlite (embedded, in the engine process)';
    const engineSpawnedUs = monotonicUs();
    const {
      child: engine,
      url: engineUrl,
      metricsToken,
    } = await startEngine({
      redisUrl,
      stateDir,
      root: opts.engineRoot,
      cpuProfileName: opts.cpuProf ? profileName : undefined,
      env: {
        LEAKGUARD_UPLOAD_LIMIT_BYTES: String(Math.max(512 * 1024 * 1024, 2 * listBytes)),
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      },
      onLine: (line: string) => {
        if (/Analyst console|case database could not be opened/.test(line)) consoleReady = true;
      },
    });
    // The case database (PGlite) initialises after the API listens: let it finish before measuring.
    await waitUntil('the engine opened its case database', engine, async () => consoleReady, 120_000).catch(() =>
      log('the case database did not report ready within 120 s: measuring anyway'),
    );
    log(`engine on ${engineUrl} (pid ${engine.proc.pid})`);

    const api = async (method: string, path: string, key: string, body?: unknown): Promise<Record<string, unknown>> => {
      const res = await fetch(`${engineUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (res.status >= 300) throw new PhaseError(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
      return JSON.parse(text) as Record<string, unknown>;
    };

    // The compromise event (declared by an admin for the issuer) and the issuer's BIN range.
    const day = 86_400_000;
    const now = Date.now();
    const event = await api('POST', '/v1/compromise-events', adminKey, {
      externalId: `BENCH-${stamp}`,
      source: 'bench:watchlist synthetic list',
      description: 'processor breach: 2.4 M card records (synthetic)',
      exposureStart: new Date(now - 200 * day).toISOString(),
      exposureEnd: new Date(now - 50 * day).toISOString(),
      discoveredAt: new Date(now - 30 * day).toISOString(),
      dataElements: ['pan', 'expiry', 'cvv'],
      confidence: 'confirmed',
      issuerId: ISSUER,
    });
    const eventId = String(event.id);
    await api('PUT', `/v1/issuers/${ISSUER}/bin-ranges`, adminKey, [{ from: '410000', to: '414999' }]);
    report.setup.event = {
      id: eventId,
      issuer: ISSUER,
      dataElements: ['pan', 'expiry', 'cvv'],
      binRange: '410000-414999',
    };

    // One scoring by hand first: a contract change should fail here, not as 100% errors under load.
    const probe = await fetch(`${engineUrl}/v1/score`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${merchantKey}` },
      body: JSON.stringify({
        transactionId: `bench-probe-${Date.now()}`,
        amount: 4999,
        currency: 'EUR',
        channel: 'ecommerce',
        card: { number: cardNumber(UNLISTED_FROM), expiryMonth: 1, expiryYear: 2027, cvvResult: 'match' },
      }),
    });
    if (probe.status !== 200)
      throw new PhaseError(`POST /v1/score answered ${probe.status}: ${(await probe.text()).slice(0, 300)}`);
    await probe.arrayBuffer();

    report.machine.otherCoresBefore = await machineCoresOver(1000);
    if (report.machine.otherCoresBefore > 0.3)
      log(
        `other processes were using ${report.machine.otherCoresBefore} of ${cpus().length} cores just before the run: expect disturbed figures`,
      );

    const ctx: Context = {
      k6: k6Bin,
      engine,
      redis: redisChild,
      merchantKey,
      workDir,
      runBase: Date.now().toString(36),
    };
    const steadyEnv = {
      TARGET_URL: `${engineUrl}/v1/score`,
      MODE: 'steady',
      RATE: String(opts.rate),
      LISTED_CARDS: String(opts.cards),
      UNLISTED_FROM: String(UNLISTED_FROM),
    };

    // 1. Scoring on the idle engine (after a warm-up), the baseline for scoring during the upload.
    log(
      `[1/3] scoring on the idle engine: ${opts.warmupSeconds} s warm-up, then ${opts.idleSeconds} s at ${opts.rate} req/s`,
    );
    {
      await redis.config('RESETSTAT');
      const run = await runK6(ctx, {
        id: 'idle',
        seconds: opts.warmupSeconds + opts.idleSeconds,
        env: { ...steadyEnv, DURATION: `${opts.idleSeconds}s`, WARMUP_SECONDS: String(opts.warmupSeconds) },
      });
      const stats = run.summary ? statsOf(run.summary, 'phase:steady', opts.idleSeconds) : undefined;
      report.idle = {
        ok: run.ok,
        ...(run.failure ? { failure: run.failure } : {}),
        seconds: opts.idleSeconds,
        rate: opts.rate,
        ...(stats ? { stats } : {}),
        cores: run.cores,
        k6Warnings: run.warnings,
        ...(run.thresholdsCrossed.length ? { thresholdsCrossed: run.thresholdsCrossed } : {}),
      };
      report.idle.redisCommandStats = await commandStats(redisPort).catch(() => undefined);
      if (!run.ok) report.failures.push(`idle scoring: ${run.failure}`);
      if (stats)
        log(
          `      p50 ${fmtMs(stats.p50)} ms, p99 ${fmtMs(stats.p99)} ms, ${fmtInt(stats.requests)} requests, errors ${fmtPct(stats.errorRate)}`,
        );
    }
    if (isShuttingDown()) return 130;

    // 2. The upload, with the same scoring load running through it.
    const backlogBefore = await drainFlagged(redis, 120_000);
    const removedBefore = await deleteScoringKeys(redis);
    const backlogBytesBefore = backlogBefore > 0 ? await flaggedBytes(redis) : 0;
    const usedBefore = (await settledUsedMemory(redis)) - backlogBytesBefore;
    await redis.config('RESETSTAT');
    const slowlogConfig = [
      await redis.config('GET', 'slowlog-log-slower-than'),
      await redis.config('GET', 'slowlog-max-len'),
    ].map((r) => (r as string[])[1]!);
    await redis.config('SET', 'slowlog-log-slower-than', '1000');
    await redis.config('SET', 'slowlog-max-len', '100000');
    await redis.slowlog('RESET');
    log(
      `[2/3] uploading ${fmtInt(opts.cards)} cards (${mb(listBytes)}) to ${eventId} while scoring ${opts.rate} req/s (removed ${fmtInt(removedBefore)} scoring keys; used_memory ${fmtInt(usedBefore)})`,
    );
    const upload: NonNullable<Report['upload']> = { ok: false, cards: opts.cards, bytes: listBytes };
    report.upload = upload;
    let uploadCpuBefore: CpuSnapshot | undefined;
    let uploadCpuAfter: CpuSnapshot | undefined;
    const k6Cpu = [0, 0];
    const uploadRun = await runK6(ctx, {
      id: 'upload',
      seconds: 3600,
      env: { ...steadyEnv, DURATION: '3600s', WARMUP_SECONDS: '0' },
      control: async (address, k6) => {
        const progress = { sent: 0 };
        uploadCpuBefore = cpuSnapshot(engine, redisChild);
        k6Cpu[0] = processCpu(k6.proc.pid)[0];
        await k6Control(address, { paused: false });
        const fromUs = monotonicUs();
        const started = performance.now();
        const ticker = setInterval(() => {
          const s = (performance.now() - started) / 1000;
          log(`      ${s.toFixed(0)} s: ${fmtInt(progress.sent)} cards sent (${fmtInt(progress.sent / s)}/s)`);
        }, 10_000);
        try {
          const res = await fetch(`${engineUrl}/v1/compromise-events/${eventId}/cards`, {
            method: 'POST',
            headers: { authorization: `Bearer ${issuerKey}`, 'content-type': 'text/csv' },
            body: cardListStream(opts.cards, progress),
            duplex: 'half',
            signal: AbortSignal.timeout(3_600_000),
          } as RequestInit);
          const text = await res.text();
          const wallS = (performance.now() - started) / 1000;
          upload.monotonicUs = { from: fromUs, to: monotonicUs() };
          uploadCpuAfter = cpuSnapshot(engine, redisChild);
          k6Cpu[1] = processCpu(k6.proc.pid)[0];
          if (res.status !== 200) throw new PhaseError(`the upload answered ${res.status}: ${text.slice(0, 300)}`);
          const body = JSON.parse(text) as {
            accepted: number;
            duplicates: number;
            rejected: number;
            errors: unknown[];
          };
          Object.assign(upload, {
            wallS: Math.round(wallS * 100) / 100,
            cardsPerSecond: Math.round(body.accepted / wallS),
            accepted: body.accepted,
            duplicates: body.duplicates,
            rejected: body.rejected,
            errors: body.errors.slice(0, 5),
          });
          if (body.accepted !== opts.cards || body.rejected !== 0)
            throw new PhaseError(
              `the upload accepted ${fmtInt(body.accepted)} of ${fmtInt(opts.cards)} cards (${fmtInt(body.duplicates)} duplicates, ${fmtInt(body.rejected)} rejected)`,
            );
          upload.ok = true;
        } finally {
          clearInterval(ticker);
          await k6Control(address, { stopped: true }).catch(() => undefined);
        }
      },
    });
    if (uploadCpuBefore && uploadCpuAfter) {
      // k6 is still running at the end of the upload: its CPU comes from its own /proc entry.
      const c = coresUsed(uploadCpuBefore, uploadCpuAfter);
      const k6Cores =
        Math.round(((k6Cpu[1]! - k6Cpu[0]!) / ((uploadCpuAfter.at - uploadCpuBefore.at) / 1000)) * 100) / 100;
      upload.cores = { ...c, k6: k6Cores, other: Math.max(0, Math.round((c.other - k6Cores) * 100) / 100) };
    }
    {
      const seconds = upload.wallS ?? 0;
      const stats = uploadRun.summary ? statsOf(uploadRun.summary, 'phase:steady', seconds) : undefined;
      upload.scoring = {
        ok: uploadRun.ok,
        ...(uploadRun.failure ? { failure: uploadRun.failure } : {}),
        seconds,
        rate: opts.rate,
        ...(stats ? { stats } : {}),
        k6Warnings: uploadRun.warnings,
        ...(uploadRun.thresholdsCrossed.length ? { thresholdsCrossed: uploadRun.thresholdsCrossed } : {}),
      };
      if (!uploadRun.ok && upload.ok) report.failures.push(`scoring during the upload: ${uploadRun.failure}`);
    }
    if (!upload.ok) {
      upload.failure = uploadRun.failure ?? 'the upload failed';
      report.failures.push(`upload: ${upload.failure}`);
    } else {
      log(
        `      ${fmtInt(upload.accepted!)} cards in ${upload.wallS!.toFixed(1)} s: ${fmtInt(upload.cardsPerSecond!)} cards/s; scoring p99 meanwhile ${na(upload.scoring.stats?.p99)} ms`,
      );
    }
    upload.redisCommandStats = await commandStats(redisPort).catch(() => undefined);
    // The upload's script calls: many keys (one per card), unlike the scoring's few.
    {
      const entries = (await redis.slowlog('GET', -1)) as [number, number, number, string[]][];
      const batches = entries.filter(([, , , args]) => /^eval/i.test(args[0] ?? '') && Number(args[2]) > 100);
      const usec = batches.reduce((a, e) => a + e[2], 0);
      if (batches.length && upload.accepted)
        upload.redisScript = {
          calls: batches.length,
          usec,
          maxUsec: Math.max(...batches.map((e) => e[2])),
          nsPerCard: Math.round((usec / upload.accepted) * 1000),
        };
      await redis.config('SET', 'slowlog-log-slower-than', slowlogConfig[0]!);
      await redis.config('SET', 'slowlog-max-len', slowlogConfig[1]!);
    }
    if (isShuttingDown()) return 130;

    // 3. Memory: the scoring keys written during the upload are removed, so the delta is the list's.
    if (upload.accepted) {
      const backlogAfter = await drainFlagged(redis, 180_000);
      if (backlogAfter > 0)
        log(
          `      the case ingester left ${fmtInt(backlogAfter)} flagged decisions in ${FLAGGED_STREAM}: their memory is subtracted`,
        );
      const usedAfterWithScoringKeys = await settledUsedMemory(redis);
      const scoringKeysRemoved = await deleteScoringKeys(redis);
      const backlogBytes = backlogAfter > 0 ? await flaggedBytes(redis) : 0;
      const usedAfter = (await settledUsedMemory(redis)) - backlogBytes;
      const delta = usedAfter - usedBefore;
      report.memory = {
        flaggedBacklog: {
          before: backlogBefore,
          beforeBytes: backlogBytesBefore,
          after: backlogAfter,
          afterBytes: backlogBytes,
        },
        usedBefore,
        usedAfterWithScoringKeys,
        scoringKeysRemoved,
        usedAfter,
        delta,
        bytesPerCard: Math.round((delta / upload.accepted) * 10) / 10,
        bytesPerCardWithScoringKeys: Math.round(((usedAfterWithScoringKeys - usedBefore) / upload.accepted) * 10) / 10,
      };
      report.memory.buckets = await bucketStats(redis);
      log(
        `      Redis: +${mb(delta)}, ${report.memory.bytesPerCard} bytes per card; ${fmtInt(report.memory.buckets.keys)} buckets (${Object.entries(
          report.memory.buckets.encodings,
        )
          .map(([e, n]) => `${e} ${n}`)
          .join(', ')})`,
      );
    }

    // 4. Lookup cost, in one k6 run: both kinds at once, then alternating phases, each measured inside.
    if (upload.ok) {
      const W = opts.warmupSeconds;
      const M = opts.lookupSeconds * 2;
      const P = opts.lookupSeconds;
      const total = W + M + LOOKUP_ORDER.length * P;
      log(
        `[3/3] lookup cost: ${W} s warm-up, ${M} s of both kinds at once, then ${LOOKUP_ORDER.join(', ')} for ${P} s each, at ${opts.lookupRate} req/s`,
      );
      const windows: { start: number; end: number; kind: string; rate: number }[] = [
        { start: W, end: W + M, kind: 'mix', rate: opts.lookupRate },
        ...LOOKUP_ORDER.map((kind, i) => ({
          start: W + M + i * P,
          end: W + M + (i + 1) * P,
          kind,
          rate: opts.lookupRate,
        })),
      ];
      const costs: (PhaseCost | undefined)[] = [];
      let fromUs = 0;
      const run = await runK6(ctx, {
        id: 'lookup',
        seconds: total,
        env: {
          ...steadyEnv,
          MODE: 'lookup',
          RATE: String(opts.lookupRate),
          WARMUP_SECONDS: String(W),
          MIX_SECONDS: String(M),
          PHASE_SECONDS: String(P),
          PHASES: LOOKUP_ORDER.join(','),
        },
        control: async (address, k6) => {
          await k6Control(address, { paused: false });
          const t0 = performance.now();
          fromUs = monotonicUs() + W * 1e6;
          const until = (s: number) => sleep(Math.max(0, t0 + s * 1000 - performance.now()));
          for (const w of windows) {
            // Inside the phase only: k6 starts and stops scenarios with some slack.
            const margin = Math.min(1, (w.end - w.start) / 5);
            await until(w.start + margin);
            if (k6.done) break;
            const before = cpuSnapshot(engine, redisChild);
            const k6Before = processCpu(k6.proc.pid)[0];
            await redis.config('RESETSTAT');
            await until(w.end - margin / 2);
            if (k6.done) break;
            const after = cpuSnapshot(engine, redisChild);
            const k6After = processCpu(k6.proc.pid)[0];
            const stats = await commandStats(redisPort);
            const seconds = (after.at - before.at) / 1000;
            const c = coresUsed(before, after);
            const k6Cores = Math.round(((k6After - k6Before) / seconds) * 100) / 100;
            const cores = { ...c, k6: k6Cores, other: Math.max(0, Math.round((c.other - k6Cores) * 100) / 100) };
            const scorings = w.rate * seconds;
            const evalsha = luaCalls(stats);
            costs.push({
              seconds: Math.round(seconds * 100) / 100,
              cores,
              scorings: Math.round(scorings),
              engineMsPerScoring: ((after.server - before.server) / scorings) * 1000,
              redisUsPerScoring: ((after.redis - before.redis) / scorings) * 1e6,
              evalshaUsPerScoring: (evalsha?.usec ?? 0) / scorings,
              evalshaCallsPerScoring: (evalsha?.calls ?? 0) / scorings,
              xaddPerScoring: (stats.find((x) => x.command === 'xadd')?.calls ?? 0) / scorings,
              commandStats: stats.filter((x) => !['info', 'config'].includes(x.command)),
            });
          }
        },
      });
      const toUs = monotonicUs();
      const stat = (sel: string, seconds: number) => (run.summary ? statsOf(run.summary, sel, seconds) : undefined);
      const mixCost = costs[0];
      report.lookup = {
        ok: run.ok,
        ...(run.failure ? { failure: run.failure } : {}),
        rate: opts.lookupRate,
        warmupSeconds: W,
        mixSeconds: M,
        phaseSeconds: P,
        order: LOOKUP_ORDER,
        mix: { ...pair(stat('sel:mix_listed', M), stat('sel:mix_unlisted', M)), ...(mixCost ? { cost: mixCost } : {}) },
        alternating: {
          ...pair(stat('sel:alt_listed', 2 * P), stat('sel:alt_unlisted', 2 * P)),
          phases: LOOKUP_ORDER.map((kind, i) => {
            const st = stat(`phase:${i + 1}`, P);
            const cost = costs[i + 1];
            return { kind, ...(st ? { stats: st } : {}), ...(cost ? { cost } : {}) };
          }),
        },
        cores: run.cores,
        k6Warnings: run.warnings,
        ...(run.thresholdsCrossed.length ? { thresholdsCrossed: run.thresholdsCrossed } : {}),
        monotonicUs: { from: fromUs, to: toUs },
      };
      const phases = report.lookup.alternating.phases;
      if (phases.every((p) => p.cost)) {
        const avg = (kind: string) => {
          const of = phases.filter((p) => p.kind === kind).map((p) => p.cost!);
          const mean = (f: (c: PhaseCost) => number) => of.reduce((a, c) => a + f(c), 0) / of.length;
          return {
            engineMs: mean((c) => c.engineMsPerScoring),
            redisUs: mean((c) => c.redisUsPerScoring),
            evalshaUs: mean((c) => c.evalshaUsPerScoring),
            evalshaCalls: mean((c) => c.evalshaCallsPerScoring),
            xaddCalls: mean((c) => c.xaddPerScoring),
          };
        };
        report.lookup.costPerScoring = { listed: avg('listed'), unlisted: avg('unlisted') };
      }
      if (!run.ok) report.failures.push(`lookup phases: ${run.failure}`);
      const m = report.lookup.mix;
      if (m.listed && m.unlisted)
        log(`      both at once: p99 listed ${fmtMs(m.listed.p99)} ms, unlisted ${fmtMs(m.unlisted.p99)} ms`);
    }

    // The engine's own account of what it decided.
    try {
      const metrics = await (
        await fetch(`${engineUrl}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })
      ).text();
      const decisions: Record<string, number> = {};
      for (const m of metrics.matchAll(/^leakguard_decisions_total\{decision="(\w+)"\} (\d+(?:\.\d+)?)/gm))
        decisions[m[1]!] = Number(m[2]);
      if (Object.keys(decisions).length) report.engineDecisions = decisions;
    } catch {
      // The engine may be gone; that is reported as a failure already.
    }

    // Stopping the engine gracefully is what makes --cpu-prof write its profile.
    await stopChild(engine, 15_000);
    if (opts.cpuProf) {
      const profile = join(RESULTS_DIR, profileName);
      if (existsSync(profile)) {
        const up = upload.monotonicUs;
        const lk = report.lookup?.monotonicUs;
        const startTime = (JSON.parse(readFileSync(profile, 'utf8')) as { startTime: number }).startTime;
        report.cpuProfile = {
          path: relative(ROOT, profile),
          // The profile starts shortly after the engine was spawned when both clocks agree.
          clockCheckMs: Math.round((startTime - engineSpawnedUs) / 1000),
          ...(up ? { upload: summariseProfile(profile, up.from, up.to) } : {}),
          ...(lk ? { lookup: summariseProfile(profile, lk.from, lk.to) } : {}),
        };
        if (Math.abs(report.cpuProfile.clockCheckMs!) > 30_000)
          log(
            `the profile's clock seems not to be the driver's (offset ${report.cpuProfile.clockCheckMs} ms): the windows may be wrong`,
          );
      } else log('the engine wrote no CPU profile');
    }
  } finally {
    redis.disconnect();
  }

  report.finishedAt = new Date().toISOString();
  report.machine.loadAvgAfter = loadavg();
  report.targets = evaluate(report, opts);
  writeFileSync(resultsPath, `${JSON.stringify(report, null, 2)}\n`);
  printReport(report, relative(ROOT, resultsPath), opts);
  if (baseline) printComparison(baseline, report);
  for (const f of report.failures) log(`phase failed: ${f}`);
  return report.failures.length ? 1 : 0;
}

function printComparison(baseline: { ref: string; report: Report }, report: Report): void {
  const before = baseline.report,
    ratio = (a?: number, b?: number) => (a && b ? `x${fmtRatio(b / a)}` : 'n/a');
  const degraded = (r: Report) => r.upload?.scoring?.stats?.degradedRate;
  const pct = (v?: number) => (v === undefined ? 'n/a' : fmtPct(v));
  const perCard = (r: Report) => (r.memory?.bytesPerCard === undefined ? 'n/a' : r.memory.bytesPerCard.toFixed(1));
  process.stdout.write(
    [
      '',
      `Against ${baseline.ref} (its engine first, then this checkout's; the same list, load and driver, back to back)`,
      `  upload                       ${fmtInt(before.upload?.cardsPerSecond ?? 0)} -> ${fmtInt(report.upload?.cardsPerSecond ?? 0)} cards/s: ${ratio(before.upload?.cardsPerSecond, report.upload?.cardsPerSecond)} (issue #12: at least x3 against the commit before the cost work)`,
      `  degraded during the upload   ${pct(degraded(before))} -> ${pct(degraded(report))} (issue #12: at most 1 %)`,
      `  Redis bytes per listed card  ${perCard(before)} -> ${perCard(report)} (issue #12: at most 30)`,
      '',
    ].join('\n'),
  );
}

function na(v: number | undefined): string {
  return v === undefined ? 'n/a' : fmtMs(v);
}

let code: number;
try {
  code = await main();
} catch (error) {
  if (!isShuttingDown())
    log(error instanceof PhaseError ? error.message : `failed: ${(error as Error).stack ?? error}`);
  code = isShuttingDown() ? 130 : 1;
} finally {
  if (!isShuttingDown()) await cleanup();
}
if (!isShuttingDown()) process.exit(code);
