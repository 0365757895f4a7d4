// `npm run bench:api`: a benchmark, not a test. Starts the engine against a local Redis and a
// minimal Fastify hello-world app as the baseline (same Node binary and flags), drives both with
// k6 (load-tests/score.js) at 1,000 and 3,000 requests/s (open model) and at saturation (closed
// model), then both at half of /v1/score's saturation throughput, and prints throughput, latency
// percentiles, errors, the engine's garbage-collection pauses in each /v1/score phase (from its
// /metrics: count, total, how many over 10 ms) and its event-loop delay there (p99 and max of
// prom-client's 10 ms timer, which the delay is added to: a stall of the engine's own code shows,
// a wait for a core or for Redis does not), and the ratios against #12's targets:
//   /v1/score throughput >= 0.4 x baseline; p99 at half the engine's saturation throughput within
//   2 ms of the baseline's at the same rate.
// Missing a target is a result, not a failure: the exit code is non-zero only when a phase
// could not be run (a server died, k6 failed, nothing answered 2xx). So are score.js's k6
// thresholds (error rate, p99 against the engine's deadline, degraded share, dropped iterations):
// k6's exit code 99 records the crossed ones with the phase. The warm-up and the saturation phase
// (beyond capacity by design) run without them (THRESHOLDS=off).
//
//   npm run bench:api                      full run: 5 s warm-up, 20 s phases (about 3 minutes)
//   npm run bench:api -- --quick           6 s phases, 2 s warm-up
//   npm run bench:api -- --duration 30     seconds per measured phase
//   npm run bench:api -- --cpu-prof        also writes a V8 CPU profile of the engine to load-tests/results/
//   npm run bench:api -- --postgres        cases in a private PostgreSQL (as production runs) instead of PGlite
//   npm run bench:api -- --against 3348c1d the same run on that commit's engine first, then this one's, at the
//                                          same half rate: prints both side by side
import { mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import {
  LOAD_TESTS,
  ROOT,
  RESULTS_DIR,
  ENGINE_DEADLINE_MS,
  K6_THRESHOLDS_CROSSED,
  PhaseError,
  cleanEnv,
  cleanup,
  coresUsed,
  cpuSnapshot,
  crossedThresholds,
  fileStamp,
  flaggedPerThousand,
  fmtInt,
  fmtMs,
  fmtPct,
  fmtRatio,
  freePort,
  installSignalHandlers,
  startCaseDatabase,
  isShuttingDown,
  k6WarningCollector,
  machineBusy,
  parseCommandStats,
  readK6Summary,
  redisInfo,
  sleep,
  startChild,
  stopChild,
  waitUntil,
  provisionTools,
  benchWorkDir,
  startPrivateRedis,
  createKey,
  startEngine,
  rerunAgainst,
  type Child,
  type CommandStat,
  type CoresUsed,
  luaCalls,
  LUA_COMMANDS,
} from './lib/harness.ts';
import { metricValue } from '../test/support/engine-process.ts';

const K6_SCRIPT = join(LOAD_TESTS, 'score.js');
const TREND_STATS = 'avg,min,max,p(50),p(90),p(99),p(99.9)';
const TARGET_THROUGHPUT_RATIO = 0.4;
const TARGET_P99_DIFF_MS = 2;

const USAGE = `usage: npm run bench:api -- [--quick] [--duration <seconds>] [--warmup <seconds>] [--vus <n>] [--postgres] [--cpu-prof]
                              [--half-rate <req/s>] [--against <ref>]
  --quick        short phases (6 s, 2 s warm-up): a smoke run, figures are noisier
  --duration N   seconds per measured phase (1,000 req/s, 3,000 req/s, saturation, half of it); default 20
  --warmup N     seconds of warm-up per target; default 5
  --vus N        virtual users for the saturation phase (closed model); default 64
  --postgres     cases in a private PostgreSQL server (DATABASE_URL) instead of the embedded PGlite, which
                 runs in the engine's process: flagged decisions are made into cases either way
  --cpu-prof     run the engine with --cpu-prof; the profile lands in load-tests/results/
  --half-rate N  the half phase at N requests/s instead of half of this run's saturation throughput
  --against REF  first the same run with the engine of another commit (a git worktree; this driver and load),
                 then this checkout's at the half rate the first run found: both side by side, back to back
                 (each run's own half rate differs with its saturation, and p99 grows steeply with the rate)`;

const log = (message: string) => process.stderr.write(`bench:api: ${message}\n`);

// ---------------------------------------------------------------------------------------------
// Options

function parseOptions() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        vus: { type: 'string' },
        'cpu-prof': { type: 'boolean', default: false },
        postgres: { type: 'boolean', default: false },
        'half-rate': { type: 'string' },
        against: { type: 'string' },
        // Internal, set by --against: the engine and keys CLI of that checkout, the report's path.
        'engine-root': { type: 'string' },
        'results-file': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`bench:api: ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const seconds = (value: string | undefined, name: string, fallback: number) => {
    if (value === undefined) return fallback;
    const n = Number(value.replace(/s$/, ''));
    if (!Number.isFinite(n) || n < 1 || n > 3600) {
      process.stderr.write(`bench:api: --${name} must be a number of seconds between 1 and 3600\n${USAGE}\n`);
      process.exit(2);
    }
    return Math.round(n);
  };
  const halfRate = v['half-rate'] === undefined ? undefined : Number(v['half-rate']);
  if (halfRate !== undefined && (!Number.isInteger(halfRate) || halfRate < 1 || halfRate > 100_000)) {
    process.stderr.write(`bench:api: --half-rate must be an integer between 1 and 100000\n${USAGE}\n`);
    process.exit(2);
  }
  const vus = v.vus === undefined ? 64 : Number(v.vus);
  if (!Number.isInteger(vus) || vus < 1 || vus > 2000) {
    process.stderr.write(`bench:api: --vus must be an integer between 1 and 2000\n${USAGE}\n`);
    process.exit(2);
  }
  return {
    quick: v.quick,
    duration: seconds(v.duration, 'duration', v.quick ? 6 : 20),
    warmup: seconds(v.warmup, 'warmup', v.quick ? 2 : 5),
    vus,
    cpuProf: v['cpu-prof'],
    postgres: v.postgres,
    halfRate,
    against: v.against,
    engineRoot: v['engine-root'],
    resultsFile: v['results-file'],
  };
}

installSignalHandlers(log, 'the engine, the baseline, Redis and k6');

// ---------------------------------------------------------------------------------------------
// Phases

type TargetId = 'baseline' | 'score';
interface Target {
  id: TargetId;
  label: string;
  url: string;
  server: Child;
}

interface PhaseSpec {
  id: 'warmup' | 'rate1k' | 'rate3k' | 'saturation' | 'half';
  label: string;
  mode: 'rate' | 'vus';
  rate?: number;
  vus?: number;
  seconds: number;
  order: TargetId[];
}

interface PhaseResult {
  phase: PhaseSpec['id'];
  target: TargetId;
  mode: 'rate' | 'vus';
  rate?: number | undefined;
  vus?: number | undefined;
  seconds: number;
  ok: boolean;
  failure?: string;
  k6ExitCode: number | null;
  /** score.js's thresholds crossed in this phase (k6 exit code 99), as `metric: expression`; none when run without them. */
  thresholdsCrossed: string[];
  /** Whether the phase ran with score.js's thresholds (not in the warm-up nor at saturation). */
  thresholds: boolean;
  durationS: number;
  requests: number;
  succeeded: number;
  /** 2xx responses per second over the phase. */
  throughput: number;
  errorRate: number;
  droppedIterations: number;
  degradedRate: number;
  maxVus: number;
  latencyMs: { avg: number; min: number; max: number; p50: number; p90: number; p99: number; p999: number };
  cores: CoresUsed;
  /** The engine's garbage-collection pauses over the phase (/v1/score only; the hello-world has no /metrics). */
  gc?: GcPauses | undefined;
  /** The engine's event-loop delay over the phase (prom-client's, sampled every 10 ms), ms: a stall of its own code shows here, a wait for a core or for Redis does not. */
  eventLoop?: { p99Ms: number; maxMs: number } | undefined;
  k6Warnings: string[];
}

/** Pauses of the engine's main thread for garbage collection, from prom-client's nodejs_gc_duration_seconds. */
interface GcPauses {
  count: number;
  ms: number;
  /** Pauses longer than 10 ms (the histogram's 0.01 s bucket): each alone is a p99 of its own at these rates. */
  over10ms: number;
  byKind: Record<string, { count: number; ms: number }>;
}

/** The engine's GC totals so far, by kind: pauses, their seconds, and how many took at most 10 ms. */
type GcTotals = Record<string, { count: number; seconds: number; upTo10ms: number }>;

/**
 * GcTotals from the engine's /metrics, and its event-loop delay since the previous scrape (each
 * scrape starts prom-client's histogram again); undefined when it did not answer.
 */
async function engineTotals(
  url: string,
  token: string,
): Promise<{ gc: GcTotals; eventLoop: { p99Ms: number; maxMs: number } } | undefined> {
  try {
    const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    const totals: GcTotals = {};
    const of = (kind: string) => (totals[kind] ??= { count: 0, seconds: 0, upTo10ms: 0 });
    for (const m of text.matchAll(/^nodejs_gc_duration_seconds_(sum|count)\{kind="(\w+)"\} (\S+)$/gm)) {
      if (m[1] === 'sum') of(m[2]!).seconds = Number(m[3]);
      else of(m[2]!).count = Number(m[3]);
    }
    for (const m of text.matchAll(/^nodejs_gc_duration_seconds_bucket\{le="0\.01",kind="(\w+)"\} (\S+)$/gm))
      of(m[1]!).upTo10ms = Number(m[2]);
    const eventLoop = {
      p99Ms: metricValue(text, 'nodejs_eventloop_lag_p99_seconds') * 1000,
      maxMs: metricValue(text, 'nodejs_eventloop_lag_max_seconds') * 1000,
    };
    return { gc: totals, eventLoop };
  } catch {
    return undefined;
  }
}

function gcBetween(before: GcTotals | undefined, after: GcTotals | undefined): GcPauses | undefined {
  if (!before || !after) return undefined;
  const pauses: GcPauses = { count: 0, ms: 0, over10ms: 0, byKind: {} };
  for (const [kind, a] of Object.entries(after)) {
    const b = before[kind] ?? { count: 0, seconds: 0, upTo10ms: 0 };
    const count = a.count - b.count;
    if (count <= 0) continue;
    const ms = (a.seconds - b.seconds) * 1000;
    pauses.byKind[kind] = { count, ms };
    pauses.count += count;
    pauses.ms += ms;
    pauses.over10ms += count - (a.upTo10ms - b.upTo10ms);
  }
  return pauses;
}

/** The warm-up and the closed-model saturation phase explore beyond capacity: no pass/fail thresholds there. */
const thresholdsOn = (spec: PhaseSpec) => spec.id === 'rate1k' || spec.id === 'rate3k' || spec.id === 'half';

async function runPhase(
  k6: string,
  target: Target,
  spec: PhaseSpec,
  redis: Child,
  apiKey: string,
  workDir: string,
  runId: string,
): Promise<PhaseResult> {
  const summaryFile = join(workDir, `k6-${spec.id}-${target.id}.json`);
  rmSync(summaryFile, { force: true });
  const args = [
    'run',
    '--quiet',
    '--no-color',
    '--no-usage-report',
    '--include-system-env-vars',
    '--address',
    `127.0.0.1:${await freePort()}`,
    '--summary-trend-stats',
    TREND_STATS,
    '-e',
    `TARGET_URL=${target.url}`,
    '-e',
    `MODE=${spec.mode}`,
    '-e',
    `DURATION=${spec.seconds}s`,
    '-e',
    `RUN_ID=${runId}`,
    '-e',
    `SUMMARY_FILE=${summaryFile}`,
    '-e',
    `DEADLINE_MS=${ENGINE_DEADLINE_MS}`,
    '-e',
    `THRESHOLDS=${thresholdsOn(spec) ? 'on' : 'off'}`,
    ...(spec.mode === 'rate' ? ['-e', `RATE=${spec.rate}`] : ['-e', `VUS=${spec.vus}`]),
    K6_SCRIPT,
  ];
  const collector = k6WarningCollector();
  const before = cpuSnapshot(target.server, redis);
  // The API key travels in the environment, not on a command line other users can read.
  const child = startChild(
    `k6 (${spec.id}, ${target.id})`,
    k6,
    args,
    { ...process.env, API_KEY: apiKey },
    collector.onLine,
  );
  const limitMs = (spec.seconds + 60) * 1000;
  const timedOut = await Promise.race([child.exited.then(() => false), sleep(limitMs).then(() => true)]);
  if (timedOut) await stopChild(child);
  const after = cpuSnapshot(target.server, redis);
  const warnings = collector.finish();

  const exitCode = child.proc.exitCode;
  const base: PhaseResult = {
    phase: spec.id,
    target: target.id,
    mode: spec.mode,
    rate: spec.rate,
    vus: spec.vus,
    seconds: spec.seconds,
    ok: false,
    k6ExitCode: exitCode,
    thresholdsCrossed: [],
    thresholds: thresholdsOn(spec),
    durationS: 0,
    requests: 0,
    succeeded: 0,
    throughput: 0,
    errorRate: 0,
    droppedIterations: 0,
    degradedRate: 0,
    maxVus: 0,
    latencyMs: { avg: 0, min: 0, max: 0, p50: 0, p90: 0, p99: 0, p999: 0 },
    cores: coresUsed(before, after),
    k6Warnings: warnings,
  };
  if (isShuttingDown()) return { ...base, failure: 'interrupted' };
  if (timedOut) return { ...base, failure: `k6 did not finish within ${limitMs / 1000} s` };
  if (target.server.done)
    return {
      ...base,
      failure: `${target.server.name} died during the phase:\n  ${target.server.tail.slice(-15).join('\n  ')}`,
    };
  if (redis.done)
    return { ...base, failure: `redis-server died during the phase:\n  ${redis.tail.slice(-15).join('\n  ')}` };
  if (!existsSync(summaryFile))
    return {
      ...base,
      failure: `k6 exited with code ${exitCode} and wrote no summary:\n  ${child.tail.slice(-15).join('\n  ')}`,
    };

  const summary = readK6Summary(summaryFile);
  const m = summary.metrics;
  const value = (metric: string, key: string) => m[metric]?.values[key] ?? 0;
  const durationS = summary.state.testRunDurationMs / 1000;
  const requests = value('http_reqs', 'count');
  const errorRate = value('http_req_failed', 'rate');
  const succeeded = Math.round(requests * (1 - errorRate));
  const result: PhaseResult = {
    ...base,
    thresholdsCrossed: exitCode === K6_THRESHOLDS_CROSSED ? crossedThresholds(summary) : [],
    durationS: Math.round(durationS * 100) / 100,
    requests,
    succeeded,
    throughput: durationS > 0 ? Math.round((succeeded / durationS) * 10) / 10 : 0,
    errorRate,
    droppedIterations: value('dropped_iterations', 'count'),
    degradedRate: value('degraded', 'rate'),
    maxVus: value('vus_max', 'max') || value('vus_max', 'value'),
    latencyMs: {
      avg: value('http_req_duration', 'avg'),
      min: value('http_req_duration', 'min'),
      max: value('http_req_duration', 'max'),
      p50: value('http_req_duration', 'p(50)'),
      p90: value('http_req_duration', 'p(90)'),
      p99: value('http_req_duration', 'p(99)'),
      p999: value('http_req_duration', 'p(99.9)'),
    },
  };
  // 99: thresholds crossed, a result (the summary is complete); any other code is a failed run.
  if (exitCode !== 0 && exitCode !== K6_THRESHOLDS_CROSSED)
    return { ...result, failure: `k6 exited with code ${exitCode}:\n  ${child.tail.slice(-15).join('\n  ')}` };
  if (succeeded === 0) return { ...result, failure: `no 2xx response from ${target.label} (${requests} requests)` };
  return { ...result, ok: true };
}

function progressLine(index: number, total: number, target: Target, spec: PhaseSpec, r: PhaseResult): string {
  const load = spec.mode === 'rate' ? `${fmtInt(spec.rate!)} req/s` : `${spec.vus} VUs`;
  const head = `[${index}/${total}] ${spec.label.padEnd(10)} ${target.label.padEnd(10)} ${load.padEnd(11)} ${spec.seconds} s:`;
  if (!r.ok && r.requests === 0) return `${head} FAILED: ${r.failure}`;
  const c = r.cores;
  return (
    `${head} ${fmtInt(r.throughput)} ok/s, p50 ${fmtMs(r.latencyMs.p50)} p99 ${fmtMs(r.latencyMs.p99)} p99.9 ${fmtMs(r.latencyMs.p999)} ms, ` +
    `errors ${fmtPct(r.errorRate)}, dropped ${fmtInt(r.droppedIterations)}` +
    (r.degradedRate > 0 ? `, degraded ${fmtPct(r.degradedRate)}` : '') +
    (r.thresholdsCrossed.length ? `, k6 thresholds crossed: ${r.thresholdsCrossed.join('; ')}` : '') +
    ` | cores: server ${c.server} redis ${c.redis} k6 ${c.k6} other ${c.other}` +
    (r.gc
      ? ` | GC ${fmtInt(r.gc.count)} pauses, ${fmtMs(r.gc.ms)} ms (${fmtPct(r.gc.ms / 1000 / r.durationS)} of the phase), ${fmtInt(r.gc.over10ms)} over 10 ms`
      : '') +
    (r.eventLoop ? ` | event-loop delay p99 ${fmtMs(r.eventLoop.p99Ms)} max ${fmtMs(r.eventLoop.maxMs)} ms` : '') +
    (r.ok ? '' : `  FAILED: ${r.failure}`)
  );
}

interface Report {
  startedAt: string;
  finishedAt?: string;
  quick: boolean;
  machine: {
    cpus: number;
    cpuModel: string;
    loadAvgBefore: number[];
    otherCoresBefore?: number;
    loadAvgAfter?: number[];
    node: string;
    k6: string;
    redis: string;
    note: string;
  };
  setup: Record<string, unknown>;
  phases: PhaseResult[];
  engineDecisions?: Record<string, number>;
  /** Redis INFO commandstats at the end of the run (only /v1/score phases reach Redis). */
  redisCommandStats?: CommandStat[];
  summary?: ReturnType<typeof summarise>;
  cpuProfile?: string;
  failures: string[];
}

function summarise(phases: PhaseResult[]) {
  const get = (target: TargetId, phase: PhaseSpec['id']) =>
    phases.find((p) => p.target === target && p.phase === phase);
  const side = (target: TargetId) => {
    const sat = get(target, 'saturation');
    const r1 = get(target, 'rate1k');
    const r3 = get(target, 'rate3k');
    const rHalf = get(target, 'half');
    const at = (r: PhaseResult | undefined) =>
      r && {
        achievedRate: r.durationS > 0 ? Math.round((r.requests / r.durationS) * 10) / 10 : 0,
        p50: r.latencyMs.p50,
        p99: r.latencyMs.p99,
        p999: r.latencyMs.p999,
        errorRate: r.errorRate,
        droppedIterations: r.droppedIterations,
        degradedRate: r.degradedRate,
      };
    // Throughput per core the server side used (the engine plus Redis; the baseline has no Redis):
    // not a target, but unlike raw throughput it does not depend on how much CPU k6 left over.
    const serverCores = sat ? sat.cores.server + sat.cores.redis : 0;
    return {
      saturationThroughput: sat?.throughput,
      saturationPerServerCore: sat && serverCores > 0 ? Math.round(sat.throughput / serverCores) : undefined,
      saturation: sat && {
        vus: sat.vus,
        p50: sat.latencyMs.p50,
        p99: sat.latencyMs.p99,
        errorRate: sat.errorRate,
        cores: sat.cores,
      },
      at1k: at(r1),
      at3k: at(r3),
      atHalf: at(rHalf),
    };
  };
  const baseline = side('baseline');
  const score = side('score');
  const ratio = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined && b > 0 ? Math.round((a / b) * 1000) / 1000 : undefined;
  const throughputRatio = ratio(score.saturationThroughput, baseline.saturationThroughput);
  const p99Diff = (a: typeof score.at1k, b: typeof score.at1k) =>
    a && b ? Math.round((a.p99 - b.p99) * 1000) / 1000 : undefined;
  const p99Diff1k = p99Diff(score.at1k, baseline.at1k);
  const p99DiffHalf = p99Diff(score.atHalf, baseline.atHalf);
  const halfRate = phases.find((p) => p.phase === 'half')?.rate;
  return {
    baseline,
    score,
    ratios: {
      throughput: throughputRatio,
      throughputPerServerCore: ratio(score.saturationPerServerCore, baseline.saturationPerServerCore),
      at1k: {
        p50: ratio(score.at1k?.p50, baseline.at1k?.p50),
        p99: ratio(score.at1k?.p99, baseline.at1k?.p99),
        p999: ratio(score.at1k?.p999, baseline.at1k?.p999),
      },
      at3k: {
        p50: ratio(score.at3k?.p50, baseline.at3k?.p50),
        p99: ratio(score.at3k?.p99, baseline.at3k?.p99),
        p999: ratio(score.at3k?.p999, baseline.at3k?.p999),
      },
      atHalf: {
        p50: ratio(score.atHalf?.p50, baseline.atHalf?.p50),
        p99: ratio(score.atHalf?.p99, baseline.atHalf?.p99),
        p999: ratio(score.atHalf?.p999, baseline.atHalf?.p999),
      },
      p99DiffAt1kMs: p99Diff1k,
    },
    halfRate,
    targets: {
      throughputRatio: {
        target: `>= ${TARGET_THROUGHPUT_RATIO}`,
        value: throughputRatio,
        pass: throughputRatio !== undefined && throughputRatio >= TARGET_THROUGHPUT_RATIO,
      },
      p99DiffAtHalfMs: {
        target: `<= ${TARGET_P99_DIFF_MS} ms`,
        value: p99DiffHalf,
        pass: p99DiffHalf !== undefined && p99DiffHalf <= TARGET_P99_DIFF_MS,
      },
    },
  };
}

function printReport(report: Report, resultsPath: string, opts: ReturnType<typeof parseOptions>): void {
  const s = report.summary!;
  const halfWhat =
    opts.halfRate === undefined
      ? "half of /v1/score's saturation throughput"
      : 'the half rate given (--half-rate, --against)';
  const out: string[] = [];
  const w = 16;
  const row = (label: string, b: string, sc: string, ratio = '') =>
    out.push(`  ${label.padEnd(34)}${b.padStart(w)}${sc.padStart(w)}${ratio.padStart(w)}`);
  const rOf = (n: number | undefined) => (n === undefined ? '' : `${fmtRatio(n)}x`);
  const na = (v: number | undefined, f: (n: number) => string) => (v === undefined ? 'n/a' : f(v));

  out.push('');
  out.push(`Leakguard bench:api  ${report.startedAt}${opts.quick ? '  (--quick: short phases, noisier figures)' : ''}`);
  out.push(
    `  ${report.machine.cpus} CPU cores (${report.machine.cpuModel}); load average before ${report.machine.loadAvgBefore.map((l) => l.toFixed(2)).join(' ')}, after ${(report.machine.loadAvgAfter ?? []).map((l) => l.toFixed(2)).join(' ')}`,
  );
  out.push(`  ${report.machine.note}`);
  out.push(
    `  Node ${report.machine.node}, ${report.machine.k6}, redis ${report.machine.redis}; engine NODE_ENV=production LOG_LEVEL=warn, Redis velocity store, cases in ${opts.postgres ? 'a private PostgreSQL' : 'PGlite (embedded, in the engine process; --postgres for PostgreSQL)'}`,
  );
  out.push(
    `  Phases: warm-up ${opts.warmup} s at 1,000 req/s, then ${opts.duration} s each at saturation (${opts.vus} VUs, closed model), at ${halfWhat} (${s.halfRate === undefined ? 'not run' : `${fmtInt(s.halfRate)} req/s`}), at 1,000 and 3,000 req/s (constant arrival rate); baseline and /v1/score alternate.`,
  );
  out.push('');
  row('', 'baseline', '/v1/score', 'score/base');
  row(
    'Saturation throughput (2xx req/s)',
    na(s.baseline.saturationThroughput, fmtInt),
    na(s.score.saturationThroughput, fmtInt),
    rOf(s.ratios.throughput),
  );
  row(
    '  p50 / p99 at saturation (ms)',
    s.baseline.saturation ? `${fmtMs(s.baseline.saturation.p50)} / ${fmtMs(s.baseline.saturation.p99)}` : 'n/a',
    s.score.saturation ? `${fmtMs(s.score.saturation.p50)} / ${fmtMs(s.score.saturation.p99)}` : 'n/a',
  );
  row(
    '  errors at saturation',
    na(s.baseline.saturation?.errorRate, fmtPct),
    na(s.score.saturation?.errorRate, fmtPct),
  );
  row(
    '  per server core (req/s / core)',
    na(s.baseline.saturationPerServerCore, fmtInt),
    na(s.score.saturationPerServerCore, fmtInt),
    rOf(s.ratios.throughputPerServerCore),
  );
  row(
    '  cores: server + redis / k6',
    s.baseline.saturation
      ? `${s.baseline.saturation.cores.server.toFixed(2)} / ${s.baseline.saturation.cores.k6.toFixed(2)}`
      : 'n/a',
    s.score.saturation
      ? `${(s.score.saturation.cores.server + s.score.saturation.cores.redis).toFixed(2)} / ${s.score.saturation.cores.k6.toFixed(2)}`
      : 'n/a',
  );
  for (const [key, label] of [
    ['atHalf', `${s.halfRate === undefined ? 'half' : fmtInt(s.halfRate)} req/s`],
    ['at1k', '1,000 req/s'],
    ['at3k', '3,000 req/s'],
  ] as const) {
    const b = s.baseline[key];
    const sc = s.score[key];
    const r = s.ratios[key];
    row(`${label}  achieved (req/s)`, na(b?.achievedRate, fmtInt), na(sc?.achievedRate, fmtInt));
    row(`${label}  p50 (ms)`, na(b?.p50, fmtMs), na(sc?.p50, fmtMs), rOf(r.p50));
    row(`${label}  p99 (ms)`, na(b?.p99, fmtMs), na(sc?.p99, fmtMs), rOf(r.p99));
    row(`${label}  p99.9 (ms)`, na(b?.p999, fmtMs), na(sc?.p999, fmtMs), rOf(r.p999));
    row(`${label}  errors (non-2xx)`, na(b?.errorRate, fmtPct), na(sc?.errorRate, fmtPct));
    row(`${label}  dropped iterations`, na(b?.droppedIterations, fmtInt), na(sc?.droppedIterations, fmtInt));
    row(`${label}  degraded responses`, '-', na(sc?.degradedRate, fmtPct));
  }
  if (report.engineDecisions) {
    const total = Object.values(report.engineDecisions).reduce((a, b) => a + b, 0);
    out.push(
      `  Engine decisions over the run: ${Object.entries(report.engineDecisions)
        .map(([k, v]) => `${k} ${total ? ((v / total) * 100).toFixed(1) : 0}%`)
        .join(
          ', ',
        )} (${fmtInt(total)} scored; ${flaggedPerThousand(report.engineDecisions).toFixed(0)} per 1,000 flagged: score.js's mix gives about 20: failed 3-D Secure, security-code mismatches, the model's high risks)`,
    );
  }
  const rs = report.redisCommandStats;
  if (rs?.length) {
    const evalsha = luaCalls(rs);
    const inner = rs.filter((c) => ![...LUA_COMMANDS, 'info', 'ping'].includes(c.command)).slice(0, 5);
    out.push(
      `  Redis: ${evalsha ? `${evalsha.command.toUpperCase()} ${evalsha.usecPerCall.toFixed(1)} us/call over ${fmtInt(evalsha.calls)} calls (scoring function and response script)` : 'no Lua call'}; ` +
        `inside them by time: ${inner.map((c) => `${c.command.toUpperCase()} ${evalsha ? Math.round((100 * c.usec) / evalsha.usec) : '?'}% (${(c.calls / Math.max(1, report.engineDecisions ? Object.values(report.engineDecisions).reduce((a, b) => a + b, 0) : 1)).toFixed(1)}/scored, ${c.usecPerCall.toFixed(1)} us)`).join(', ')}`,
    );
  }
  out.push(
    `  Other processes' CPU just before the run: ${report.machine.otherCoresBefore ?? '?'} cores; per phase up to ${Math.max(0, ...report.phases.map((p) => p.cores.other)).toFixed(2)} cores.`,
  );
  out.push('');
  out.push('Targets');
  const t = s.targets;
  out.push(
    `  Throughput at saturation, /v1/score / baseline: ${na(t.throughputRatio.value, fmtRatio)} (target >= ${TARGET_THROUGHPUT_RATIO})  ${t.throughputRatio.pass ? 'PASS' : 'MISS'}`,
  );
  const signed = (v: number | undefined) => (v === undefined ? 'n/a' : `${v >= 0 ? '+' : ''}${v.toFixed(2)} ms`);
  out.push(
    `  p99 at ${halfWhat} (${s.halfRate === undefined ? 'not run' : `${fmtInt(s.halfRate)} req/s`}), /v1/score - baseline: ${signed(t.p99DiffAtHalfMs.value)} (target <= ${TARGET_P99_DIFF_MS} ms)  ${t.p99DiffAtHalfMs.pass ? 'PASS' : 'MISS'}`,
  );
  out.push(`  (not a target: p99 at 1,000 req/s, /v1/score - baseline: ${signed(s.ratios.p99DiffAt1kMs)})`);
  const notes: string[] = [];
  for (const p of report.phases) {
    if (p.mode !== 'rate' || p.phase === 'warmup' || !p.ok) continue;
    const achieved = p.durationS > 0 ? p.requests / p.durationS : 0;
    if (p.droppedIterations > 0.01 * p.rate! * p.seconds || achieved < 0.95 * p.rate!) {
      notes.push(
        `${p.target === 'score' ? '/v1/score' : 'the baseline'} did not sustain ${fmtInt(p.rate!)} req/s (${fmtInt(achieved)} achieved, ${fmtInt(p.droppedIterations)} dropped): its latencies there are those of an overloaded server.`,
      );
    }
  }
  const baseSat = report.phases.find((p) => p.target === 'baseline' && p.phase === 'saturation' && p.ok);
  if (baseSat && baseSat.cores.k6 > 2 * baseSat.cores.server) {
    notes.push(
      `At saturation the baseline is limited by k6, not by Fastify (k6 used ${baseSat.cores.k6.toFixed(2)} cores, the hello-world server ${baseSat.cores.server.toFixed(2)}): ` +
        'the throughput ratio flatters /v1/score. "per server core" compares the servers\' own efficiency.',
    );
  }
  const busiest = Math.max(0, ...report.phases.map((p) => p.cores.other));
  if (busiest > 0.3)
    notes.push(
      `Other processes on this machine used up to ${busiest.toFixed(2)} cores during a phase: figures are disturbed by them.`,
    );
  for (const p of report.phases) {
    if (!p.thresholdsCrossed.length) continue;
    notes.push(
      `k6 thresholds crossed at ${p.phase} on ${p.target === 'score' ? '/v1/score' : 'the baseline'}: ${p.thresholdsCrossed.join('; ')}.`,
    );
  }
  for (const n of notes) out.push(`  Note: ${n}`);
  if (report.cpuProfile) out.push(`  Engine CPU profile: ${report.cpuProfile}`);
  if (report.failures.length) out.push(`  FAILED phases: ${report.failures.length} (see above)`);
  out.push(`Results: ${resultsPath}`);
  out.push('');
  process.stdout.write(`${out.join('\n')}\n`);
}

/** Two runs side by side: another commit's engine first, then this checkout's, at one half rate. */
function printComparison(baseline: { ref: string; report: Report }, report: Report): void {
  const before = baseline.report.summary,
    after = report.summary;
  if (!before || !after) return;
  const ms = (v: number | undefined) => (v === undefined ? 'n/a' : `${fmtMs(v)} ms`);
  const pair = (a: string, b: string) => `${a} -> ${b}`;
  const ratio = (a?: number, b?: number) => (a && b ? `: x${fmtRatio(b / a)}` : '');
  /** The engine's and Redis's CPU per request in a /v1/score phase, from the cores they used at its rate. */
  const perRequest = (r: Report, phase: PhaseSpec['id']) => {
    const p = r.phases.find((x) => x.phase === phase && x.target === 'score' && x.ok);
    const rate = p && p.durationS > 0 ? p.requests / p.durationS : 0;
    return rate > 0
      ? `engine ${fmtInt((p!.cores.server / rate) * 1e6)} us, Redis ${fmtInt((p!.cores.redis / rate) * 1e6)} us`
      : 'n/a';
  };
  const line = (label: string, text: string) => `  ${label.padEnd(38)}${text}`;
  process.stdout.write(
    [
      '',
      `Against ${baseline.ref} (its engine first, then this checkout's; the same driver and load, back to back)`,
      line(
        'saturation (2xx req/s)',
        pair(fmtInt(before.score.saturationThroughput ?? 0), fmtInt(after.score.saturationThroughput ?? 0)) +
          ratio(before.score.saturationThroughput, after.score.saturationThroughput),
      ),
      line(
        '  /v1/score / baseline',
        pair(fmtRatio(before.ratios.throughput ?? 0), fmtRatio(after.ratios.throughput ?? 0)),
      ),
      line(
        `half rate (${after.halfRate === undefined ? 'n/a' : fmtInt(after.halfRate)} req/s both) p50`,
        pair(ms(before.score.atHalf?.p50), ms(after.score.atHalf?.p50)),
      ),
      line('  p99', pair(ms(before.score.atHalf?.p99), ms(after.score.atHalf?.p99))),
      line(
        '  p99 - baseline (target <= 2 ms)',
        pair(ms(before.targets.p99DiffAtHalfMs.value), ms(after.targets.p99DiffAtHalfMs.value)),
      ),
      line('  CPU per request', pair(perRequest(baseline.report, 'half'), perRequest(report, 'half'))),
      line('1,000 req/s p50', pair(ms(before.score.at1k?.p50), ms(after.score.at1k?.p50))),
      line('  p99', pair(ms(before.score.at1k?.p99), ms(after.score.at1k?.p99))),
      line('  CPU per request', pair(perRequest(baseline.report, 'rate1k'), perRequest(report, 'rate1k'))),
      '',
    ].join('\n'),
  );
}

async function main(): Promise<number> {
  const opts = parseOptions();
  const baseline = opts.against ? rerunAgainst<Report>(opts.against, import.meta.url, log) : undefined;
  // Both sides at one half rate: the first run's.
  if (baseline && opts.halfRate === undefined) opts.halfRate = baseline.report.summary?.halfRate;
  const startedAt = new Date();
  const stamp = fileStamp(startedAt);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const resultsPath = opts.resultsFile ?? join(RESULTS_DIR, `bench-api-${stamp}.json`);

  log('provisioning redis-server and k6');
  const { redisBin, k6Bin, k6Version, redisVersion } = provisionTools();
  const { workDir, redisDir, stateDir } = benchWorkDir('lg-bench-api-');

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
      note: 'k6, the server under test and Redis share these cores: the load generator takes CPU from the server, most of all at saturation.',
    },
    setup: {
      ...opts,
      node: process.execPath,
      nodeFlags: process.execArgv,
      k6Script: relative(ROOT, K6_SCRIPT),
      trendStats: TREND_STATS,
    },
    phases: [],
    failures: [],
  };

  const { child: redis, url: redisUrl, port: redisPort } = await startPrivateRedis(redisBin, redisDir);
  log(`redis-server ${redisVersion} on ${redisUrl}`);
  const apiKey = await createKey(redisUrl, stateDir, 'merchant', ['--merchant', 'bench'], 'bench-api', opts.engineRoot);
  const profileName = `engine-${stamp}.cpuprofile`;
  // The case store: PGlite in the engine's process (as `npm start` runs it), or a private PostgreSQL.
  const databaseUrl = opts.postgres ? await startCaseDatabase(log) : undefined;
  const {
    child: engine,
    url: engineUrl,
    metricsToken,
  } = await startEngine({
    redisUrl,
    stateDir,
    root: opts.engineRoot,
    cpuProfileName: opts.cpuProf ? profileName : undefined,
    env: databaseUrl ? { DATABASE_URL: databaseUrl } : {},
  });
  const nodeArgs = process.execArgv;

  // The baseline: same binary, same flags, same NODE_ENV.
  const helloPort = await freePort();
  const hello = startChild(
    'baseline',
    process.execPath,
    [...nodeArgs, 'load-tests/hello-server.ts'],
    cleanEnv({ HOST: '127.0.0.1', PORT: String(helloPort), NODE_ENV: 'production' }),
  );
  const helloUrl = `http://127.0.0.1:${helloPort}/hello`;
  await waitUntil(
    'the baseline answered',
    hello,
    async () =>
      (await fetch(helloUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }))
        .status === 200,
  );
  log(`engine on ${engineUrl} (pid ${engine.proc.pid}), baseline on ${helloUrl} (pid ${hello.proc.pid})`);

  // One request by hand first: a contract change should fail here, not as 100% errors under load.
  const probe = await fetch(`${engineUrl}/v1/score`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({
      transactionId: `bench-probe-${Date.now()}`,
      amount: 4999,
      currency: 'EUR',
      channel: 'ecommerce',
      card: { number: '4111111111111111', expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
    }),
  });
  if (probe.status !== 200)
    throw new PhaseError(`POST /v1/score answered ${probe.status}: ${(await probe.text()).slice(0, 300)}`);

  const targets: Record<TargetId, Target> = {
    baseline: { id: 'baseline', label: 'baseline', url: helloUrl, server: hello },
    score: { id: 'score', label: '/v1/score', url: `${engineUrl}/v1/score`, server: engine },
  };
  // Saturation first: the half-rate phase's rate is half of what /v1/score sustained there.
  const plan: PhaseSpec[] = [
    { id: 'warmup', label: 'warm-up', mode: 'rate', rate: 1000, seconds: opts.warmup, order: ['baseline', 'score'] },
    {
      id: 'saturation',
      label: 'saturation',
      mode: 'vus',
      vus: opts.vus,
      seconds: opts.duration,
      order: ['score', 'baseline'],
    },
    { id: 'half', label: 'half sat.', mode: 'rate', seconds: opts.duration, order: ['baseline', 'score'] },
    { id: 'rate1k', label: '1k req/s', mode: 'rate', rate: 1000, seconds: opts.duration, order: ['score', 'baseline'] },
    { id: 'rate3k', label: '3k req/s', mode: 'rate', rate: 3000, seconds: opts.duration, order: ['baseline', 'score'] },
  ];
  // What the rest of the machine is doing while we are idle: other people's work shares these cores.
  const idleStart = machineBusy();
  await sleep(1000);
  report.machine.otherCoresBefore = Math.round((machineBusy() - idleStart) * 100) / 100;
  if (report.machine.otherCoresBefore > 0.3)
    log(
      `other processes were using ${report.machine.otherCoresBefore} of ${cpus().length} cores just before the run: expect disturbed figures`,
    );
  const total = plan.length * 2;
  const estimate = plan.reduce((a, p) => a + 2 * (p.seconds + 3), 0);
  log(`${total} k6 runs, about ${Math.ceil(estimate / 10) * 10} s; k6 and both servers share ${cpus().length} cores`);

  let index = 0;
  const runBase = Date.now().toString(36);
  outer: for (const spec of plan) {
    if (spec.id === 'half' && opts.halfRate !== undefined) spec.rate = opts.halfRate;
    else if (spec.id === 'half') {
      const saturated = report.phases.find((p) => p.phase === 'saturation' && p.target === 'score' && p.ok);
      if (!saturated || saturated.throughput < 2) {
        report.failures.push('half: not run, /v1/score has no saturation throughput to halve');
        index += spec.order.length;
        continue;
      }
      spec.rate = Math.round(saturated.throughput / 2);
    }
    for (const id of spec.order) {
      index++;
      const target = targets[id];
      const before = id === 'score' ? await engineTotals(engineUrl, metricsToken) : undefined;
      const result = await runPhase(k6Bin, target, spec, redis, apiKey, workDir, `${runBase}${index}`);
      if (id === 'score') {
        const after = await engineTotals(engineUrl, metricsToken);
        result.gc = gcBetween(before?.gc, after?.gc);
        result.eventLoop = after?.eventLoop;
      }
      report.phases.push(result);
      process.stderr.write(`bench:api: ${progressLine(index, total, target, spec, result)}\n`);
      if (isShuttingDown()) return 130;
      if (!result.ok) {
        report.failures.push(`${spec.id} ${id}: ${result.failure}`);
        if (engine.done || hello.done || redis.done) break outer;
      }
      await sleep(opts.quick ? 1000 : 2000);
    }
  }

  // The engine's own account of what it decided: shows that velocity counters had history.
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

  try {
    const stats = parseCommandStats(await redisInfo(redisPort, 'commandstats'));
    if (stats.length) report.redisCommandStats = stats;
  } catch {
    // Redis may be gone; that is reported as a failure already.
  }

  // Stopping the engine gracefully is what makes --cpu-prof write its profile.
  await stopChild(engine, 15_000);
  if (opts.cpuProf) {
    const profile = join(RESULTS_DIR, profileName);
    if (existsSync(profile)) report.cpuProfile = relative(ROOT, profile);
    else log('the engine wrote no CPU profile');
  }

  report.finishedAt = new Date().toISOString();
  report.machine.loadAvgAfter = loadavg();
  report.summary = summarise(report.phases);
  writeFileSync(resultsPath, `${JSON.stringify(report, null, 2)}\n`);
  printReport(report, relative(ROOT, resultsPath), opts);
  if (baseline) printComparison(baseline, report);
  for (const f of report.failures) log(`phase failed: ${f}`);
  return report.failures.length ? 1 : 0;
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
