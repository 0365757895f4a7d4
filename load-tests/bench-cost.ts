// `npm run bench:cost`: a benchmark, not a test. What one scored transaction costs, on a realistic
// mix: the engine's CPU (scoring in process, the path both doors share: features, rules, model,
// flagged decisions queued) and Redis's CPU and commands, per transaction. No HTTP, no Kafka:
// those are bench:api's and bench:stream's. The same seeded traffic every run, so that two commits
// compare back to back on one machine (run it on each, or `--against <git ref>`).
//
// The mix (documented in docs/capacity.md): 60,000 cards used a few times each over a simulated
// day, 500 merchants of which one takes 30 % of the traffic, devices, IPs, emails and shipping
// addresses per cardholder, 25 % yen, 3-D Secure results on a third, a few card-testing bursts and
// leaked cards: a few per cent of orders end challenged, reviewed or declined (printed).
//
//   npm run bench:cost                       20,000 transactions, 32 at a time, one Redis
//   npm run bench:cost -- --cluster          on a three-master Redis Cluster
//   npm run bench:cost -- --transactions N --concurrency N
//   npm run bench:cost -- --rate 2000         an open loop instead: the transactions offered at that rate (not N
//                                            at a time), with each scoring's latency, p50 to max, beside the
//                                            CPU figures: what the engine's background work (histories,
//                                            recording, cases) costs the scorings' tail at a fixed rate
//   npm run bench:cost -- --against a56a654  also runs the same traffic on that commit (a git worktree), back to back
//   npm run bench:cost -- --instructions     Redis under callgrind (valgrind): instructions redis-server executes
//                                            per scoring, one scoring at a time, 2,000 by default. Deterministic
//                                            to a fraction of a per cent where CPU times on these shared machines
//                                            vary by ±15 %: the figure to compare commits by (with --against)
//   npm run bench:cost -- --instructions --profile DIR
//                                            also keeps each run's callgrind profile of the measured scorings in
//                                            DIR, for `callgrind_annotate DIR/<run>.callgrind`: which functions
//                                            of Redis and its Lua the instructions went to
//   npm run bench:cost -- --engine-instructions
//                                            the engine (this benchmark's measuring process: scoring, ioredis, the
//                                            observers) under callgrind: instructions it executes per scoring, its
//                                            garbage collection and compiler threads included. The engine's CPU time
//                                            varies by ±15 % here as Redis's does. Unlike Redis's count, this one moves
//                                            with the machine's load (V8 compiles and collects on threads of its own):
//                                            up to 27 % between two runs of one commit (docs/capacity.md)
//                                            Combines with --instructions, --against and --profile
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
//   npm run bench:cost -- --archive          the engine with its database open, as `npm start` runs it, on a private
//                                            PostgreSQL server: flagged decisions become cases and every counted
//                                            transaction is written to the transaction archive (docs/capacity.md);
//                                            what the engine spends on both, behind the scoring path, is in its CPU
// The seeded mix, shared with bench:scale.
import { traffic } from './lib/traffic.ts';
import {
  commandsPerTransaction,
  commandTotals,
  flaggedPerThousand,
  memoryByFamily,
  redisInfo,
  redisUsedMemory,
  withWorktree,
} from './lib/harness.ts';
import { ensureRedis, ensureValgrind } from '../scripts/provision.ts';
import { callerPath } from '../services/cli/command.ts';

const execFileAsync = promisify(execFile);

const USAGE =
  'usage: npm run bench:cost -- [--transactions N] [--concurrency N | --rate TX_PER_S] [--cluster | [--instructions] [--engine-instructions] [--profile DIR]] [--archive] [--against <git ref>]';
const { values: opts } = parseCostArgs();
function parseCostArgs() {
  try {
    return parseArgs({
      options: {
        transactions: { type: 'string', default: '20000' },
        concurrency: { type: 'string', default: '32' },
        rate: { type: 'string' },
        cluster: { type: 'boolean', default: false },
        archive: { type: 'boolean', default: false },
        instructions: { type: 'boolean', default: false },
        'engine-instructions': { type: 'boolean', default: false },
        label: { type: 'string' },
        profile: { type: 'string' },
        against: { type: 'string' },
        root: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`bench:cost: ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
}
if (opts.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
// Under callgrind Redis or the engine runs ~50× slower: fewer scorings, one at a time (the same
// commands in the same order every run), unless asked otherwise.
const given = (name: string) => process.argv.includes(`--${name}`);
/** Set for a child run under callgrind (--engine-instructions): where callgrind writes its counts. */
const ENGINE_CALLGRIND_ENV = 'LEAKGUARD_BENCH_ENGINE_CALLGRIND';
const ENGINE_CALLGRIND_OUT = process.env[ENGINE_CALLGRIND_ENV];
const counting = opts.instructions || opts['engine-instructions'] || ENGINE_CALLGRIND_OUT !== undefined;
const N = Number(counting && !given('transactions') ? 2000 : opts.transactions),
  CONCURRENCY = Number(counting && !given('concurrency') ? 1 : opts.concurrency);
/** --rate: transactions offered per second (an open loop), instead of CONCURRENCY at a time. */
const RATE = opts.rate === undefined ? undefined : Number(opts.rate);
if (!(N >= 1000) || !(CONCURRENCY >= 1)) {
  process.stderr.write('bench:cost: --transactions must be at least 1000 and --concurrency at least 1\n');
  process.exit(2);
}
if (RATE !== undefined && (!(RATE > 0) || counting || given('concurrency'))) {
  process.stderr.write(
    'bench:cost: --rate takes transactions per second (above 0), without --concurrency, --instructions or --engine-instructions\n',
  );
  process.exit(2);
}
if (opts.profile !== undefined) opts.profile = callerPath(opts.profile);
if (opts.profile && !counting) {
  process.stderr.write(
    'bench:cost: --profile keeps the callgrind profiles of --instructions or --engine-instructions; add one\n',
  );
  process.exit(2);
}
if (counting && opts.cluster) {
  process.stderr.write('bench:cost: instructions are counted on one Redis; leave out --cluster\n');
  process.exit(2);
}
if (counting) ensureValgrind();
// RedisServer and RedisCluster (test/support) start this redis-server: installed when missing.
process.env.LEAKGUARD_TEST_REDIS_SERVER ??= ensureRedis();
const log = (m: string) => process.stderr.write(`bench:cost: ${m}\n`);
const HERE = new URL('..', import.meta.url).pathname;
// The code measured: this checkout, or (--root) another commit's worktree driven by this script.
const ROOT = opts.root ?? HERE;

interface Result {
  label: string;
  engineUsPerTx: number;
  redisUsPerTx: number;
  redisCallsPerTx: number;
  txPerSecond: number;
  decisions: Record<string, number>;
  degraded: number;
  topCommands: string[];
  /** Redis memory (INFO used_memory, every node) the whole run added, per card it used. */
  redisBytesPerCard: number;
  cards: number;
  keys: number;
  /** Key families (`<kind letter>:<suffix>`, e.g. c:l a card's log, t:m a transaction's marker) by share of the keys' memory, with their keys' mean size. */
  memoryByFamily: string[];
  /** --instructions: instructions redis-server executed per scoring (callgrind). */
  redisInstructionsPerTx?: number;
  /** --engine-instructions: instructions the engine's process executed per scoring (callgrind). */
  engineInstructionsPerTx?: number;
  /** --archive: the transaction archive's rows and its table's size with its indexes, per row. */
  archive?: { rows: number; bytesPerRow: number };
  /** --rate: each scoring's latency (engine.score, issue to answer), ms. */
  latencyMs?: { p50: number; p99: number; p999: number; max: number };
}

/** The latencies' percentiles (sorted in place). */
function percentiles(ms: number[]): NonNullable<Result['latencyMs']> {
  ms.sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!;
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: ms[ms.length - 1]! };
}

/**
 * Runs callgrind_control on a process under callgrind without blocking this one: when that process
 * is this one, callgrind answers only while it runs guest code, so a timer keeps it stepping.
 */
async function callgrindControl(flag: '-z' | '-d', pid: number): Promise<void> {
  const awake = setInterval(() => {}, 5);
  try {
    await execFileAsync('callgrind_control', [flag, String(pid)]);
  } finally {
    clearInterval(awake);
  }
}
/** Counts a process's instructions from now on (callgrind_control zeroes its counters). */
const zeroInstructions = (pid: number) => callgrindControl('-z', pid);
/** Instructions counted since the last zero: callgrind dumps them to `<out>.<n>` ("summary: N"). */
async function instructionsSinceZero(pid: number, outFile: string): Promise<{ count: number; dump: string }> {
  await callgrindControl('-d', pid);
  for (let n = 9; n >= 1; n--) {
    const dump = `${outFile}.${n}`;
    if (existsSync(dump)) return { count: Number(/^summary: (\d+)/m.exec(readFileSync(dump, 'utf8'))![1]), dump };
  }
  throw new Error(`callgrind wrote no dump next to ${outFile}`);
}

/** Keeps a callgrind dump in --profile's folder as `<label>.<what>.callgrind`. */
function keepProfile(label: string, what: string, dump: string): void {
  if (!opts.profile) return;
  mkdirSync(opts.profile, { recursive: true });
  const kept = join(opts.profile, `${label.replace(/[^\w.-]+/g, '-')}.${what}.callgrind`);
  copyFileSync(dump, kept);
  log(`callgrind profile of ${what} (${label}): ${kept} (callgrind_annotate ${kept})`);
}

async function measure(label: string): Promise<Result> {
  const [{ createRuntime }, { loadConfig }, { createLogger }, { scoreRequestSchema }] = await Promise.all([
    import(join(ROOT, 'services/runtime.ts')),
    import(join(ROOT, 'services/config.ts')),
    import(join(ROOT, 'services/logger.ts')),
    import(join(ROOT, 'services/core/schemas.ts')),
  ]);
  const { RedisServer } = await import(join(HERE, 'test/support/redis-server.ts'));
  const { RedisCluster } = await import(join(HERE, 'test/support/redis-cluster.ts'));
  const stateDir = mkdtempSync(join(tmpdir(), 'lg-bench-cost-'));
  const callgrindOut = join(stateDir, 'callgrind.out');
  const single = opts.cluster
    ? undefined
    : await RedisServer.start(
        opts.instructions ? { wrapper: ['valgrind', '--tool=callgrind', `--callgrind-out-file=${callgrindOut}`] } : {},
      );
  const cluster = opts.cluster ? await RedisCluster.start() : undefined;
  const { PostgresServer } = await import(join(HERE, 'test/support/postgres-server.ts'));
  const database = opts.archive ? await PostgresServer.start() : undefined;
  const ports: number[] = single ? [single.port] : cluster!.nodes.map((n: { port: number }) => n.port);
  try {
    const config = loadConfig({
      NODE_ENV: 'test',
      LEAKGUARD_STATE_DIR: stateDir,
      LEAKGUARD_CARD_KEY: 'a'.repeat(64),
      LEAKGUARD_DATA_KEY: 'd'.repeat(64),
      LOG_LEVEL: 'silent',
      // Under callgrind a scoring takes ~50× longer: no answer should turn degraded for that.
      LEAKGUARD_DEADLINE_MS: counting ? '10000' : '2000',
      ...(single ? { REDIS_URL: single.url } : { REDIS_CLUSTER_NODES: cluster!.seeds }),
      ...(database ? { DATABASE_URL: database.url } : {}),
    });
    const usedMemory = async () => (await Promise.all(ports.map(redisUsedMemory))).reduce((a, b) => a + b, 0);
    const memoryBefore = await usedMemory();
    const runtime = createRuntime(config, createLogger('silent'));
    if (!(await runtime.waitForStores())) throw new Error('Redis did not connect');
    if (database) await runtime.openCases();
    const requests = traffic(N + 2000).map((t) => ({
      merchant: t.merchant,
      request: scoreRequestSchema.parse(t.body),
    }));
    const latencies: number[] = [];
    const run = async (slice: typeof requests, rate?: number) => {
      let next = 0;
      const decisions: Record<string, number> = {};
      let degraded = 0;
      const count = (result: { kind: string; response?: { decision: string; degraded: boolean } }) => {
        if (result.kind !== 'scored' || !result.response) return;
        decisions[result.response.decision] = (decisions[result.response.decision] ?? 0) + 1;
        if (result.response.degraded) degraded++;
      };
      if (rate !== undefined) {
        // An open loop: each transaction issued at its time whatever the answers before it.
        const started = performance.now();
        const answers: Promise<void>[] = [];
        while (next < slice.length) {
          const due = Math.min(slice.length, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
          while (next < due) {
            const t = slice[next++]!;
            const issued = performance.now();
            answers.push(
              runtime.engine.score(t.merchant, t.request).then((result: Parameters<typeof count>[0]) => {
                latencies.push(performance.now() - issued);
                count(result);
              }),
            );
          }
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
        await Promise.all(answers);
        return { decisions, degraded };
      }
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < slice.length) {
            const t = slice[next++]!;
            count(await runtime.engine.score(t.merchant, t.request));
          }
        }),
      );
      return { decisions, degraded };
    };
    await run(requests.slice(0, 2000)); // warm-up: JIT, script cache, connections
    await runtime.flaggedSink.drain();
    const redisCpu = async () => {
      let cpu = 0,
        calls = 0;
      const byCommand = new Map<string, { calls: number; usec: number }>();
      for (const port of ports) {
        const info = await redisInfo(port, 'cpu');
        cpu += Number(/used_cpu_sys:([\d.]+)/.exec(info)![1]) + Number(/used_cpu_user:([\d.]+)/.exec(info)![1]);
        for (const [name, c] of commandTotals(await redisInfo(port, 'commandstats'))) {
          calls += c.calls;
          const sum = byCommand.get(name) ?? { calls: 0, usec: 0 };
          byCommand.set(name, { calls: sum.calls + c.calls, usec: sum.usec + c.usec });
        }
      }
      return { cpu, calls, byCommand };
    };
    const r0 = await redisCpu();
    if (opts.instructions) await zeroInstructions(single!.pid!);
    if (ENGINE_CALLGRIND_OUT) await zeroInstructions(process.pid);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const { decisions, degraded } = await run(requests.slice(2000), RATE);
    await runtime.flaggedSink.drain();
    // Absent before the archive (an earlier commit measured with --against).
    await runtime.archiveWriter?.flush();
    const wall = (performance.now() - t0) / 1000;
    const c1 = process.cpuUsage(c0);
    // The engine's count first: asking for Redis's spawns a process from this one.
    const engineCounted = ENGINE_CALLGRIND_OUT
      ? await instructionsSinceZero(process.pid, ENGINE_CALLGRIND_OUT)
      : undefined;
    const redisCounted = opts.instructions ? await instructionsSinceZero(single!.pid!, callgrindOut) : undefined;
    if (redisCounted) keepProfile(label, 'redis', redisCounted.dump);
    if (engineCounted) keepProfile(label, 'engine', engineCounted.dump);
    const r1 = await redisCpu();
    await runtime.close();
    const archive = database ? await archiveSize(database.url) : undefined;
    // Every key the run wrote (counters, markers, stored responses) stays for its retention: the
    // memory the cards in use cost, each with its devices, addresses, merchants and BINs.
    const memoryAfter = await usedMemory();
    const cards = new Set(requests.map((t) => t.request.card.number)).size;
    let keys = 0;
    for (const port of ports) keys += Number(/keys=(\d+)/.exec(await redisInfo(port, 'keyspace'))?.[1] ?? 0);
    // Under callgrind a pass over every key would take minutes: not measured there.
    const families = counting ? [] : await memoryByFamily(ports);
    // Where Redis spends it (script time includes the commands the script calls).
    const topCommands = commandsPerTransaction(r0.byCommand, r1.byCommand, N);
    return {
      topCommands,
      label,
      engineUsPerTx: (c1.user + c1.system) / N,
      redisUsPerTx: ((r1.cpu - r0.cpu) * 1e6) / N,
      redisCallsPerTx: (r1.calls - r0.calls - ports.length * 2) / N,
      txPerSecond: N / wall,
      decisions,
      degraded,
      redisBytesPerCard: (memoryAfter - memoryBefore) / cards,
      cards,
      keys,
      memoryByFamily: families,
      ...(redisCounted ? { redisInstructionsPerTx: redisCounted.count / N } : {}),
      ...(engineCounted ? { engineInstructionsPerTx: engineCounted.count / N } : {}),
      ...(archive ? { archive } : {}),
      ...(RATE !== undefined ? { latencyMs: percentiles(latencies) } : {}),
    };
  } finally {
    await single?.stop();
    await cluster?.stop();
    await database?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** The transaction archive's rows and bytes per row (table, indexes and TOAST); none before the archive existed. */
async function archiveSize(url: string): Promise<Result['archive']> {
  const { PgSqlClient } = await import(join(HERE, 'services/adapters/postgres/pg-client.ts'));
  const sql = new PgSqlClient({ connectionString: url, max: 1 });
  try {
    const { rows } = await sql.query(`SELECT to_regclass('transaction_archive') IS NOT NULL AS present`);
    if (!(rows[0] as { present: boolean }).present) return undefined;
    await sql.query('VACUUM ANALYZE transaction_archive');
    // A partition per day: the parent holds nothing itself.
    const size = await sql.query(
      `SELECT (SELECT count(*) FROM transaction_archive)::bigint AS n,
              (SELECT coalesce(sum(pg_total_relation_size(inhrelid)), pg_total_relation_size('transaction_archive'))
                 FROM pg_inherits WHERE inhparent = 'transaction_archive'::regclass)::bigint AS bytes`,
    );
    const { n, bytes } = size.rows[0] as { n: string; bytes: string };
    return { rows: Number(n), bytesPerRow: Number(bytes) / Math.max(1, Number(n)) };
  } finally {
    await sql.close();
  }
}

function print(results: Result[]) {
  const row = (r: Result) => {
    return (
      `${r.label.padEnd(28)} ${r.engineUsPerTx.toFixed(0).padStart(8)} µs ${r.redisUsPerTx.toFixed(0).padStart(8)} µs ${r.redisCallsPerTx.toFixed(1).padStart(8)} ${r.txPerSecond.toFixed(0).padStart(8)}/s   ` +
      `challenge ${r.decisions.challenge ?? 0}, review ${r.decisions.review ?? 0}, decline ${r.decisions.decline ?? 0} (${flaggedPerThousand(r.decisions).toFixed(1)} per 1,000), degraded ${r.degraded}`
    );
  };
  process.stdout.write(
    `\n${N.toLocaleString('en-US')} transactions, ${RATE !== undefined ? `offered at ${RATE.toLocaleString('en-US')}/s` : `${CONCURRENCY} at a time`}, ${opts.cluster ? 'three-master Redis Cluster' : 'one Redis'}${opts.archive ? ', database open (cases, transaction archive) on PostgreSQL' : ''}; per transaction:\n`,
  );
  process.stdout.write(
    `${'code'.padEnd(28)} ${'engine CPU'.padStart(11)} ${'Redis CPU'.padStart(11)} ${'commands'.padStart(8)} ${'rate'.padStart(10)}   decisions\n`,
  );
  for (const r of results) process.stdout.write(`${row(r)}\n`);
  for (const r of results) process.stdout.write(`  ${r.label}, Redis per transaction: ${r.topCommands.join(', ')}\n`);
  for (const r of results)
    process.stdout.write(
      `  ${r.label}, Redis memory: ${Math.round(r.redisBytesPerCard).toLocaleString('en-US')} bytes per active card (${r.cards.toLocaleString('en-US')} cards used, ${r.keys.toLocaleString('en-US')} keys; every entity's counters, markers and responses included; per listed card: npm run bench:watchlist)${r.memoryByFamily.length ? `; by key family, share and mean bytes a key: ${r.memoryByFamily.join(', ')}` : ''}\n`,
    );
  for (const r of results)
    if (r.latencyMs) {
      const { p50, p99, p999, max } = r.latencyMs;
      process.stdout.write(
        `  ${r.label}, latency of a scoring at ${RATE!.toLocaleString('en-US')}/s (issue to answer): p50 ${p50.toFixed(2)}, p99 ${p99.toFixed(2)}, p99.9 ${p999.toFixed(2)}, max ${max.toFixed(1)} ms\n`,
      );
    }
  for (const r of results)
    if (r.archive)
      process.stdout.write(
        `  ${r.label}, transaction archive: ${r.archive.rows.toLocaleString('en-US')} rows, ${Math.round(r.archive.bytesPerRow)} bytes each in PostgreSQL (table and indexes)\n`,
      );
  for (const r of results)
    if (r.redisInstructionsPerTx !== undefined)
      process.stdout.write(
        `  ${r.label}, redis-server instructions per transaction (callgrind): ${Math.round(r.redisInstructionsPerTx).toLocaleString('en-US')} (the Redis CPU time above is under valgrind: compare these)\n`,
      );
  for (const r of results)
    if (r.engineInstructionsPerTx !== undefined)
      process.stdout.write(
        `  ${r.label}, engine instructions per transaction (callgrind): ${Math.round(r.engineInstructionsPerTx).toLocaleString('en-US')} (the engine CPU time above is under valgrind: compare these)\n`,
      );
  if (results.length === 2) {
    const [a, b] = results as [Result, Result];
    const ratio = (name: string, x: number | undefined, y: number | undefined) =>
      x && y ? `, ${name} instructions ${(y / x).toFixed(3)}` : '';
    const instructions =
      ratio('engine', a.engineInstructionsPerTx, b.engineInstructionsPerTx) +
      ratio('Redis', a.redisInstructionsPerTx, b.redisInstructionsPerTx);
    process.stdout.write(
      `ratio ${b.label} / ${a.label}: engine CPU ${(b.engineUsPerTx / a.engineUsPerTx).toFixed(2)}, Redis CPU ${(b.redisUsPerTx / a.redisUsPerTx).toFixed(2)}${instructions} (target: each at most 0.25 of the commit before the cost work)\n`,
    );
  }
}

if (opts.root) {
  // A child run (another commit's worktree, or any run under callgrind): one result as JSON.
  process.stdout.write(`${JSON.stringify(await measure(opts.label ?? 'other'))}\n`);
  process.exit(0);
}

/** Measures the code at `root` in a child process (under callgrind for --engine-instructions). */
function measureInChild(root: string, label: string): Result {
  const script = [
    ...process.execArgv,
    new URL(import.meta.url).pathname,
    '--root',
    root,
    '--label',
    label,
    '--transactions',
    String(N),
    ...(RATE !== undefined ? ['--rate', String(RATE)] : ['--concurrency', String(CONCURRENCY)]),
    ...(opts.cluster ? ['--cluster'] : []),
    ...(opts.archive ? ['--archive'] : []),
    ...(opts.instructions ? ['--instructions'] : []),
    ...(opts.profile ? ['--profile', opts.profile] : []),
  ];
  const stateDir = opts['engine-instructions'] ? mkdtempSync(join(tmpdir(), 'lg-bench-engine-')) : undefined;
  const out = stateDir ? join(stateDir, 'callgrind.out') : undefined;
  try {
    const stdout = execFileSync(
      out ? 'valgrind' : process.execPath,
      out
        ? // V8 writes machine code as it runs: callgrind must notice code changed anywhere but in files.
          [
            '-q',
            '--tool=callgrind',
            '--smc-check=all-non-file',
            `--callgrind-out-file=${out}`,
            process.execPath,
            ...script,
          ]
        : script,
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        env: out ? { ...process.env, [ENGINE_CALLGRIND_ENV]: out } : process.env,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    return JSON.parse(stdout.trim().split('\n').pop()!) as Result;
  } finally {
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  }
}

const results: Result[] = [];
if (opts.against) {
  const ref = opts.against;
  withWorktree(ref, log, (worktree) => {
    log(`measuring ${ref}`);
    results.push(measureInChild(worktree, ref));
  });
}
log(
  `measuring this checkout (${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: HERE, encoding: 'utf8' }).trim()})`,
);
// Under callgrind the engine is a child too; otherwise it is measured in this process.
results.push(opts['engine-instructions'] ? measureInChild(HERE, 'this checkout') : await measure('this checkout'));
print(results);
if (opts.json) process.stdout.write(`${JSON.stringify(results)}\n`);
process.exit(0);
