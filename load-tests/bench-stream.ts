// `npm run bench:stream`: stream scoring under load on this machine. Starts a local Kafka broker,
// a redis-server and one processor (`npm run stream` as a child process, default settings), then:
//   1. backlog: pre-loads N transactions while the processor is stopped, starts it, and times the
//      drain: the sustained input→decision throughput with nothing else running;
//   2. fixed rates, 200/s, 1,000/s and 3,000/s (20 s each): end-to-end latency (producer send →
//      decision read by a consumer of leakguard.decisions) p50/p99, and whether it keeps up;
//   3. as fast as possible while producing: a closed loop that keeps BENCH_STREAM_WINDOW
//      transactions in flight (an open loop would only measure the backlog it builds);
//   4. a fixed rate of a fifth of the sustained throughput (the better of 1 and 3): #12's p99
//      target (< 250 ms there).
// Phase 0 runs the processor with a no-op engine first, BENCH_STREAM_NOOP_ROUNDS times (5): the
// stream layer's own ceiling, the median of its rounds. A round lasts about a second and the first
// runs on code not optimised yet: alone, it understated the ceiling by a fifth or more and moved
// by ±10 % from run to run (docs/capacity.md).
// Consumer lag (sum over partitions, sampled every second) is printed over time for each phase,
// and the CPU each process used per decided transaction (from /proc), with what Redis ran per
// decision (INFO commandstats, the six commands that took most of its time): where the time goes;
// and the Redis memory each phase added per decision (INFO used_memory less the clients' buffers).
// Knobs: BENCH_STREAM_PROCESSORS (1), LEAKGUARD_STREAM_* (passed to the processors), BENCH_STREAM_BACKLOG (30000), BENCH_STREAM_RATES (200,1000,3000), BENCH_STREAM_PHASE_SECONDS (20), BENCH_STREAM_MAX_SECONDS
// (20), BENCH_STREAM_WINDOW (5000), BENCH_STREAM_NOOP_ROUNDS (5), BENCH_STREAM_CARDS (50000), BENCH_STREAM_MERCHANTS (200),
// BENCH_STREAM_CPU_PROFILE=1 (the processors' CPU profiles, in load-tests/results/), BENCH_STREAM_ARCHIVE=1 (the
// processors given DATABASE_URL, a private PostgreSQL server: they archive what they count, as in
// docker-compose.yml; PostgreSQL's own CPU is not in the figures).
// These are figures, not a test; targets: ≥ 3,000 tx/s sustained, p99 < 250 ms at 1,000/s; #12's: one
// processor ≥ 0.15× its no-op engine, p99 < 250 ms at a fifth of the sustained throughput.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import kafkajs from 'kafkajs';
import { ensureJava, ensureMaven, ensureRedis } from '../scripts/provision.ts';
import { RedisApiKeyStore } from '../services/adapters/redis/api-key-store.ts';
import { createApiKey } from '../services/auth/api-keys.ts';
import { createLogger } from '../services/logger.ts';
import { rejectArguments } from '../services/cli/command.ts';
import {
  commandsPerTransaction,
  commandTotals,
  flaggedPerThousand,
  median,
  memoryByFamily,
  RESULTS_DIR,
} from './lib/harness.ts';
import { startKafka, stopKafka } from '../streams/broker/local-kafka.ts';
import { streamConfig } from '../streams/config.ts';
import { migrate } from '../services/adapters/postgres/migrate.ts';
import { PgSqlClient } from '../services/adapters/postgres/pg-client.ts';
import { ensureTopics } from '../streams/topics.ts';
import { freePort } from '../test/support/ports.ts';
import { RedisServer } from '../test/support/redis-server.ts';
import { PostgresServer } from '../test/support/postgres-server.ts';
import {
  cardNumbers,
  LatencyBook,
  noopEngineDrain,
  percentile,
  produceAt,
  sparkline,
  startDecisionReader,
  type Population,
} from './stream-load.ts';

const { Kafka, logLevel, Partitioners } = kafkajs;
const REPO = fileURLToPath(new URL('../', import.meta.url));
const USAGE = `usage: npm run bench:stream   (configured by environment variables)
  BENCH_STREAM_BACKLOG (30000)  BENCH_STREAM_PHASE_SECONDS (20)  BENCH_STREAM_MAX_SECONDS (20)
  BENCH_STREAM_WINDOW (5000)  BENCH_STREAM_PROCESSORS (1)  BENCH_STREAM_RATES (200,1000,3000)
  BENCH_STREAM_CARDS (50000)  BENCH_STREAM_MERCHANTS (200)  BENCH_STREAM_NOOP_ROUNDS (5)
  BENCH_STREAM_CPU_PROFILE=1: V8 CPU profiles of the processors, in load-tests/results/
  BENCH_STREAM_ARCHIVE=1: the processors archive what they count (DATABASE_URL, a private PostgreSQL)`;
// It takes no flags: say so rather than run a long benchmark that ignored one.
rejectArguments('bench:stream', USAGE);
const num = (name: string, def: number) => {
  const n = Number(process.env[name] ?? def);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(
      `bench:stream: ${name} must be a number, not ${JSON.stringify(process.env[name])}\n${USAGE}\n`,
    );
    process.exit(2);
  }
  return n;
};
const BACKLOG = num('BENCH_STREAM_BACKLOG', 30_000);
const PHASE_MS = num('BENCH_STREAM_PHASE_SECONDS', 20) * 1000;
const MAX_MS = num('BENCH_STREAM_MAX_SECONDS', 20) * 1000;
const WINDOW = num('BENCH_STREAM_WINDOW', 5_000);
const PROCESSORS = num('BENCH_STREAM_PROCESSORS', 1);
/** Rounds of phase 0, the no-op engine: its figure is their median. */
const NOOP_ROUNDS = Math.max(1, num('BENCH_STREAM_NOOP_ROUNDS', 5));
/** Fixed rates; 200/s shows the pipeline's latency when nothing queues. */
const RATES = (process.env.BENCH_STREAM_RATES ?? '200,1000,3000')
  .split(',')
  .map(Number)
  .filter((r) => r > 0);
const CARDS = num('BENCH_STREAM_CARDS', 50_000);
/** The processors' V8 CPU profiles (written when they stop, at the end of the run). */
const CPU_PROFILE = process.env.BENCH_STREAM_CPU_PROFILE === '1';
const ARCHIVE = process.env.BENCH_STREAM_ARCHIVE === '1';
const MERCHANTS = num('BENCH_STREAM_MERCHANTS', 200);
const TOPIC = 'leakguard.transactions';
const DECISIONS = 'leakguard.decisions';
const GROUP = 'leakguard-stream';
const say = (line: string) => process.stdout.write(`${line}\n`);
/** LEAKGUARD_STREAM_* settings of this shell are passed to the processor: tuning experiments. */
const TUNING = Object.fromEntries(
  Object.entries(process.env).filter(
    (e): e is [string, string] => e[0].startsWith('LEAKGUARD_STREAM_') && e[1] !== undefined,
  ),
);
const LEAKGUARD_STREAM_PARTITIONS_NOTE = Object.keys(TUNING).length
  ? `settings: ${Object.entries(TUNING)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`
  : 'default settings';
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

// ---------------------------------------------------------------- CPU accounting (Linux /proc)

const TICK = 100; // USER_HZ
/** A process's CPU seconds so far: in its own code (utime) and in the kernel for it (stime). */
function cpuTimes(pid: number | undefined): { user: number; system: number } {
  if (!pid) return { user: Number.NaN, system: Number.NaN };
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) / TICK, system: Number(fields[12]) / TICK };
  } catch {
    return { user: Number.NaN, system: Number.NaN };
  }
}
function cpuSeconds(pid: number | undefined): number {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

/** CPU seconds used so far by the processor, redis-server, the broker and this process. */
interface CpuMark {
  proc: number;
  /**
   * Of the processor's, in the kernel: its system calls (socket writes among them). Its CPU
   * profile's samples in a write are mostly waits for a core (docs/capacity.md): this says how
   * much of its CPU the kernel's work is.
   */
  procSystem: number;
  redis: number;
  kafka: number;
  bench: number;
  at: number;
  load: number;
}
interface Pids {
  proc: number[];
  redis: number;
  kafka: number;
}
const cpuMark = (pids: Pids): CpuMark => {
  const self = process.cpuUsage();
  return {
    proc: pids.proc.reduce((sum, pid) => sum + cpuSeconds(pid), 0),
    procSystem: pids.proc.reduce((sum, pid) => sum + cpuTimes(pid).system, 0),
    redis: cpuSeconds(pids.redis),
    kafka: cpuSeconds(pids.kafka),
    bench: (self.user + self.system) / 1e6,
    at: Date.now(),
    load: loadavg()[0]!,
  };
};
/** "processor 98% (412 µs/tx) (2 % of it in the kernel), ...": share of one core, and CPU time per decided transaction. */
function cpuReport(from: CpuMark, to: CpuMark, decided: number): string {
  const seconds = (to.at - from.at) / 1000;
  const part = (name: string, a: number, b: number) =>
    `${name} ${Math.round(((b - a) / seconds) * 100)}% (${Math.round(((b - a) * 1e6) / Math.max(1, decided))} µs/tx)`;
  const kernel = Math.round(((to.procSystem - from.procSystem) / Math.max(1e-9, to.proc - from.proc)) * 100);
  return `CPU, share of one core (CPU time per decision): ${part('processor', from.proc, to.proc)} (${kernel} % of it in the kernel), ${part('redis', from.redis, to.redis)}, ${part('kafka', from.kafka, to.kafka)}, ${part('load generator', from.bench, to.bench)}; machine load average ${to.load.toFixed(1)} on ${cpus().length} cores`;
}

interface Sample {
  t: number;
  lag: number;
}
interface PhaseResult {
  name: string;
  offered: string;
  producedRate: number;
  decidedRate: number;
  p50: number;
  p99: number;
  maxLag: number;
  finalLag: number;
  undecided: number;
  /** Redis memory (INFO used_memory less the clients' buffers) the phase added, per decision: markers, responses, counters, flagged queue. */
  redisBytesPerDecision: number;
}

async function main(): Promise<void> {
  ensureJava();
  ensureMaven();
  process.env.LEAKGUARD_TEST_REDIS_SERVER ??= ensureRedis();
  const stateDir = mkdtempSync(join(tmpdir(), 'lg-bench-stream-'));
  const appState = mkdtempSync(join(tmpdir(), 'lg-bench-state-'));
  let redis: RedisServer | undefined;
  let postgres: PostgresServer | undefined;
  const processors: ChildProcess[] = [];
  const cleanup = async () => {
    for (const p of processors) if (p.exitCode === null) p.kill('SIGKILL');
    await redis?.stop().catch(() => undefined);
    await postgres?.stop().catch(() => undefined);
    await stopKafka(stateDir).catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(appState, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

  try {
    if (Object.keys(TUNING).length) say(`processor settings from the environment: ${LEAKGUARD_STREAM_PARTITIONS_NOTE}`);
    say(
      `bench:stream on ${cpus().length} CPU(s) (${cpus()[0]?.model ?? '?'}), Node ${process.version}, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    const broker = await startKafka({ stateDir });
    redis = await RedisServer.start();
    say(`Kafka ${broker.version} at ${broker.bootstrap} (pid ${broker.pid}), redis-server at ${redis.url}`);

    // Merchants: an active merchant API key each.
    const merchants = Array.from({ length: MERCHANTS }, (_, i) => `shop-${i}`);
    const keyRedis = new Redis(redis.url);
    for (const merchantId of merchants)
      await createApiKey(new RedisApiKeyStore(keyRedis), { role: 'merchant', merchantId });
    const redisPid = Number((await keyRedis.info('server')).match(/process_id:(\d+)/)?.[1]);
    keyRedis.disconnect();
    // INFO commandstats before and after each phase: what Redis ran per decision.
    const statsRedis = new Redis(redis.url);
    const commands = async () => commandTotals(await statsRedis.info('commandstats'));
    // Data only: the clients' buffers (a closed loop's pipelined batches) are not what a rate keeps.
    const usedMemory = async () => {
      const info = await statsRedis.info('memory');
      const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
      return field('used_memory') - field('mem_clients_normal');
    };
    const pop: Population = { cards: cardNumbers(CARDS), merchants };
    const pids: Pids = { proc: [], redis: redisPid, kafka: broker.pid };

    const kafka = new Kafka({ clientId: 'bench-stream', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    // The transaction archive's database, migrated as the engine would (the processors do not migrate).
    postgres = ARCHIVE ? await PostgresServer.start() : undefined;
    const database = postgres?.url;
    if (database) {
      const sql = new PgSqlClient({ connectionString: database, max: 1 });
      await migrate(sql).finally(() => sql.close());
    }
    const env = {
      KAFKA_BROKERS: broker.bootstrap,
      REDIS_URL: redis.url,
      ...(database ? { DATABASE_URL: database } : {}),
    };
    await ensureTopics(admin, streamConfig(env), createLogger('warn'));
    const producer = kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();

    // Lag, every second, for the whole run.
    const samples: Sample[] = [];
    const book = new LatencyBook();
    const sample = async () => {
      try {
        const [ends, committed] = await Promise.all([
          admin.fetchTopicOffsets(TOPIC),
          admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] }),
        ]);
        const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Math.max(0, Number(p.offset))]));
        samples.push({
          t: Date.now(),
          lag: ends.reduce((s, e) => s + Number(e.high) - (done.get(e.partition) ?? 0), 0),
        });
      } catch {
        /* a sample lost */
      }
    };
    const sampler = setInterval(() => void sample(), 1000);
    const lagsBetween = (from: number, to: number) => samples.filter((x) => x.t >= from && x.t <= to).map((x) => x.lag);

    // ------------------------------------------------------------ 0. the stream layer alone
    say(
      `\n0. stream layer alone: ${BACKLOG} transactions through the processor with a no-op engine (in this process), ${NOOP_ROUNDS} round${NOOP_ROUNDS > 1 ? 's' : ''}`,
    );
    const noopRounds: { rate: number; cpuMicrosPerTx: number }[] = [];
    for (let round = 0; round < NOOP_ROUNDS; round++)
      noopRounds.push(await noopEngineDrain(kafka, broker.bootstrap, pop, BACKLOG, round));
    const noop = {
      rate: median(noopRounds.map((r) => r.rate)),
      cpuMicrosPerTx: median(noopRounds.map((r) => r.cpuMicrosPerTx)),
    };
    say(
      `   ${Math.round(noop.rate)} tx/s, median of ${noopRounds.map((r) => Math.round(r.rate)).join(', ')}; ${Math.round(noop.cpuMicrosPerTx)} µs of CPU per transaction (consume, validate, produce, commit)`,
    );

    // ------------------------------------------------------------ 1. backlog
    say(
      `\n1. backlog: pre-loading ${BACKLOG} transactions (${CARDS} cards, ${MERCHANTS} merchants) with the processor stopped`,
    );
    const preload = await produceAt({
      producer,
      topic: TOPIC,
      pop,
      prefix: 'backlog',
      rate: Number.POSITIVE_INFINITY,
      total: BACKLOG,
      book,
    });
    say(
      `   produced ${preload.sent} in ${(preload.elapsedMs / 1000).toFixed(1)} s (${Math.round(preload.sent / (preload.elapsedMs / 1000))}/s)`,
    );

    const reader = await startDecisionReader(kafka, DECISIONS, book);
    await sleep(1_500); // the reader joins its group before any decision exists
    const lines: string[] = [];
    const metricsPort = await freePort();
    const METRICS_TOKEN = randomBytes(24).toString('hex');
    /** The processor's own view, from its /metrics: batches and their sizes so far. */
    const batchStats = async () => {
      // The processors run as in production, where /metrics wants the scrape token.
      const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      });
      if (!response.ok) throw new Error(`the processor's /metrics answered ${response.status}`);
      const text = await response.text();
      const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
      return {
        batches: value('leakguard_stream_batch_size_count'),
        messages: value('leakguard_stream_batch_size_sum'),
        seconds: value('leakguard_stream_batch_duration_seconds_sum'),
      };
    };
    // One processor by default; BENCH_STREAM_PROCESSORS > 1 runs several in one consumer group.
    for (let i = 0; i < PROCESSORS; i++) {
      const child = spawn(
        process.execPath,
        [
          '--disable-warning=ExperimentalWarning',
          '--disable-warning=TimeoutNegativeWarning',
          ...(CPU_PROFILE
            ? ['--cpu-prof', `--cpu-prof-dir=${RESULTS_DIR}`, `--cpu-prof-name=processor-${i}-${Date.now()}.cpuprofile`]
            : []),
          'streams/main.ts',
        ],
        {
          cwd: REPO,
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? '',
            ...env,
            NODE_ENV: 'production',
            LEAKGUARD_CARD_KEY: 'b'.repeat(64),
            LEAKGUARD_DATA_KEY: 'c'.repeat(64),
            LEAKGUARD_AUDIT_KEY: 'd'.repeat(64),
            LEAKGUARD_STATE_DIR: appState,
            LOG_LEVEL: 'warn',
            STREAM_METRICS_PORT: String(i === 0 ? metricsPort : 0),
            LEAKGUARD_METRICS_TOKEN: METRICS_TOKEN,
            ...TUNING,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      processors.push(child);
      pids.proc.push(child.pid!);
      const take = (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      child.stdout!.on('data', take);
      child.stderr!.on('data', take);
    }
    const startedAt = Date.now();
    // The drain is timed from the moment the group is formed (start-up and join excluded), not
    // from the first decision: with large batches the first decisions come late, all at once.
    for (;;) {
      const dead = processors.find((p) => p.exitCode !== null);
      if (dead) throw new Error(`processor exited (${dead.exitCode}):\n${lines.slice(-20).join('\n')}`);
      const [group] = (await admin.describeGroups([GROUP])).groups;
      if (group?.state === 'Stable' && group.members.length === PROCESSORS) break;
      if (Date.now() - startedAt > 120_000) throw new Error('the processors did not form their group within 120 s');
      await sleep(20);
    }
    const joined = Date.now();
    const cpuStart = cpuMark(pids);
    let firstDecision = 0;
    while (book.decided < preload.sent) {
      const dead = processors.find((p) => p.exitCode !== null);
      if (dead) throw new Error(`processor exited (${dead.exitCode}):\n${lines.slice(-20).join('\n')}`);
      if (!firstDecision && book.decided > 0) firstDecision = Date.now();
      if (Date.now() - startedAt > 900_000)
        throw new Error(`backlog not drained after 15 min (${book.decided}/${preload.sent})`);
      await sleep(10);
    }
    const drained = Date.now();
    const drainSeconds = (drained - joined) / 1000;
    const backlogRate = preload.sent / drainSeconds;
    say(
      `   processor${PROCESSORS > 1 ? 's' : ''} started and joined the group in ${((joined - startedAt) / 1000).toFixed(1)} s; first decision ${((firstDecision - joined) / 1000).toFixed(2)} s later`,
    );
    say(
      `   drained ${preload.sent} in ${drainSeconds.toFixed(1)} s from the join: ${Math.round(backlogRate)} tx/s input→decision`,
    );
    say(`   ${cpuReport(cpuStart, cpuMark(pids), preload.sent)}`);
    const b = await batchStats().catch((error: unknown) => {
      say(`   (no batch figures: ${(error as Error).message})`);
      return undefined;
    });
    if (b)
      say(
        `   ${b.batches} batches published and committed, ${Math.round(b.messages / b.batches)} messages and ${Math.round((b.seconds / b.batches) * 1000)} ms each on average (${LEAKGUARD_STREAM_PARTITIONS_NOTE})`,
      );
    const backlogLags = lagsBetween(startedAt, drained + 1000);
    say(`   consumer lag (sum over partitions, 1/s): ${sparkline(backlogLags)}  max ${Math.max(0, ...backlogLags)}`);
    book.take();

    // ------------------------------------------------------------ 2. fixed rates, 3. closed loop
    const results: PhaseResult[] = [];
    const phase = async (
      name: string,
      options: { rate: number; durationMs: number; window?: number },
    ): Promise<PhaseResult> => {
      // Start from an empty topic: whatever the previous phase left is decided first (bounded).
      const settle = Date.now() + 180_000;
      while (book.pending > 0 && Date.now() < settle) await sleep(50);
      book.take();
      await sleep(2_000);
      say(`\n${name}`);
      const from = Date.now();
      const decidedBefore = book.decided;
      const c0 = cpuMark(pids);
      const s0 = await commands();
      const m0 = await usedMemory();
      // Transaction ids short and unique per phase (p2, p3, ...): a log member is `<merchant>:<id>|...`,
      // and one longer than 64 bytes (the phase's name made it so) turns every log holding it from a
      // listpack into a skiplist, four times the memory (docs/velocity-features.md).
      const prefix = `p${results.length + 2}`;
      const r = await produceAt({ producer, topic: TOPIC, pop, prefix, book, ...options });
      const sentEnd = Date.now();
      const deadline = Date.now() + 120_000;
      while (book.pending > 0 && Date.now() < deadline) await sleep(20);
      const until = Date.now();
      const c1 = cpuMark(pids);
      const s1 = await commands();
      const m1 = await usedMemory();
      const lat = book.take().sort((a, b) => a - b);
      const decided = book.decided - decidedBefore;
      const decidedRate = decided / ((until - from) / 1000);
      const lags = lagsBetween(from, until);
      const result: PhaseResult = {
        name,
        offered: Number.isFinite(options.rate) ? `${options.rate}/s` : 'max',
        producedRate: r.sent / (r.elapsedMs / 1000),
        decidedRate,
        p50: percentile(lat, 50),
        p99: percentile(lat, 99),
        maxLag: Math.max(0, ...lags),
        finalLag: lags[lags.length - 1] ?? 0,
        undecided: book.pending,
        redisBytesPerDecision: decided > 0 ? (m1 - m0) / decided : 0,
      };
      say(
        `   produced ${r.sent} in ${(r.elapsedMs / 1000).toFixed(1)} s (${Math.round(result.producedRate)}/s); decided ${decided} in ${((until - from) / 1000).toFixed(1)} s (${Math.round(decidedRate)}/s, incl. ${((until - sentEnd) / 1000).toFixed(1)} s after the last send)${book.pending ? `; ${book.pending} NOT decided within 120 s of the last send` : ''}`,
      );
      say(
        `   end-to-end latency (producer send → decision read by a consumer): p50 ${result.p50} ms, p99 ${result.p99} ms, max ${lat[lat.length - 1]} ms over ${lat.length} decisions`,
      );
      say(
        `   consumer lag (sum over partitions, 1/s): ${sparkline(lags)}  max ${result.maxLag}, last ${result.finalLag}`,
      );
      say(`   ${cpuReport(c0, c1, decided)}`);
      if (decided > 0)
        say(
          `   Redis per decision (INFO commandstats): ${commandsPerTransaction(s0, s1, decided, 6).join(', ')}; memory +${((m1 - m0) / 1e6).toFixed(1)} MB, ${Math.round(result.redisBytesPerDecision).toLocaleString('en-US')} bytes per decision (INFO used_memory less the clients' buffers: markers, stored responses, counters, flagged decisions)`,
        );
      results.push(result);
      return result;
    };
    const fixed = new Map<number, PhaseResult>();
    for (const [i, rate] of RATES.entries()) {
      fixed.set(
        rate,
        await phase(`2${'abcdefgh'[i]}. fixed rate ${rate.toLocaleString('en')} tx/s`, { rate, durationMs: PHASE_MS }),
      );
    }
    const r1k = fixed.get(1_000) ?? results[0]!;
    const r3k = fixed.get(3_000) ?? results[results.length - 1]!;
    const rMax = await phase(`3. as fast as possible (closed loop, ≤ ${WINDOW} in flight)`, {
      rate: Number.POSITIVE_INFINITY,
      durationMs: MAX_MS,
      window: WINDOW,
    });
    // #12: p99 at a fixed rate of a fifth of the throughput sustained (whatever this machine's speed).
    const sustained = Math.max(backlogRate, rMax.decidedRate);
    const fifthRate = Math.max(1, Math.round(sustained / 5));
    const rFifth = await phase(`4. a fifth of sustained: ${fifthRate.toLocaleString('en')} tx/s`, {
      rate: fifthRate,
      durationMs: PHASE_MS,
    });
    clearInterval(sampler);

    // ------------------------------------------------------------ summary
    const pad = (v: string | number, n: number) => String(v).padStart(n);
    say(
      `\nSummary: ${PROCESSORS === 1 ? 'one processor' : `${PROCESSORS} processors in one group`} (${LEAKGUARD_STREAM_PARTITIONS_NOTE}, 6 partitions); Kafka, Redis, processors and load generator on this machine`,
    );
    say(
      `${'phase'.padEnd(30)}${pad('offered', 9)}${pad('produced/s', 12)}${pad('decided/s', 11)}${pad('p50 ms', 8)}${pad('p99 ms', 8)}${pad('max lag', 9)}`,
    );
    say(
      `${'0. stream layer, no-op engine'.padEnd(30)}${pad('-', 9)}${pad('-', 12)}${pad(Math.round(noop.rate), 11)}${pad('-', 8)}${pad('-', 8)}${pad('-', 9)}`,
    );
    say(
      `${'1. backlog drain'.padEnd(30)}${pad('-', 9)}${pad('-', 12)}${pad(Math.round(backlogRate), 11)}${pad('-', 8)}${pad('-', 8)}${pad(Math.max(0, ...backlogLags), 9)}`,
    );
    for (const r of results) {
      say(
        `${r.name.slice(0, 29).padEnd(30)}${pad(r.offered, 9)}${pad(Math.round(r.producedRate), 12)}${pad(Math.round(r.decidedRate), 11)}${pad(r.p50, 8)}${pad(r.p99, 8)}${pad(r.maxLag, 9)}`,
      );
    }
    say('\nConsumer lag over the whole run (1 sample/s):');
    say(`   ${sparkline(samples.map((x) => x.lag))}`);
    say(
      `\nTarget ≥ 3,000 tx/s sustained: backlog ${Math.round(backlogRate)}/s, closed loop ${Math.round(rMax.decidedRate)}/s, 3,000/s offered → ${Math.round(r3k.decidedRate)}/s decided → ${sustained >= 3000 && r3k.undecided === 0 ? 'met' : 'NOT met'}`,
    );
    say(`Target p99 < 250 ms at 1,000/s: p99 ${r1k.p99} ms → ${r1k.p99 < 250 ? 'met' : 'NOT met'}`);
    const fifthKept = rFifth.undecided === 0 && rFifth.decidedRate >= 0.95 * fifthRate;
    say(
      `Target (#12) p99 < 250 ms at a fifth of sustained (${fifthRate.toLocaleString('en')} tx/s of ${Math.round(sustained).toLocaleString('en')}): p99 ${rFifth.p99} ms${fifthKept ? '' : ', rate not kept up'} → ${rFifth.p99 < 250 && fifthKept ? 'met' : 'NOT met'}`,
    );
    // The no-op baseline is one processor: with several, each one's share is compared.
    const perProcessor = sustained / PROCESSORS;
    const ratio = perProcessor / noop.rate;
    say(
      `Target (#12) one processor ≥ 0.15× its no-op engine (stretch 0.4×): ${Math.round(perProcessor)}${PROCESSORS > 1 ? ` per processor (${PROCESSORS})` : ''} against ${Math.round(noop.rate)} tx/s = ${ratio.toFixed(3)}× → ${ratio >= 0.15 ? 'met' : 'NOT met'}${CPU_PROFILE ? ' (processors ran under the CPU profiler: slower than without)' : ''}`,
    );
    say(
      `Decisions over the run: ${Object.entries(book.decisions)
        .map(([k, v]) => `${k} ${v}`)
        .join(
          ', ',
        )} (${flaggedPerThousand(book.decisions).toFixed(0)} per 1,000 flagged; the mix gives a few tens: stream-load.ts)`,
    );
    const top = Object.entries(book.flaggedReasons)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6);
    if (top.length) say(`   reasons of the flagged ones: ${top.map(([k, v]) => `${k} ${v}`).join(', ')}`);
    say(
      `Redis memory at the end, by key family (share, mean bytes a key): ${(await memoryByFamily([redis.port])).join(', ')}`,
    );
    if (database) {
      const sql = new PgSqlClient({ connectionString: database, max: 1 });
      const { rows } = await sql
        .query<{ n: string }>('SELECT count(*) AS n FROM transaction_archive')
        .finally(() => sql.close());
      say(`Transaction archive: ${Number(rows[0]!.n).toLocaleString('en-US')} transactions archived by the processors`);
    }
    const pauses = lines
      .filter((l) => l.includes('consumption paused'))
      .map((l) => /"reason":"(\w+)"/.exec(l)?.[1] ?? '?');
    const problems = lines.filter((l) => /"level":(50|60)/.test(l));
    say(
      `Processor: paused ${pauses.length} time(s)${pauses.length ? ` (${[...new Set(pauses)].map((r) => `${r} ×${pauses.filter((p) => p === r).length}`).join(', ')})` : ''}${problems.length ? `; ${problems.length} error line(s), last: ${problems[problems.length - 1]!.slice(0, 300)}` : ''}`,
    );

    await Promise.all(
      processors.map(
        (p) =>
          new Promise((done) => {
            p.once('exit', done);
            p.kill('SIGTERM');
          }),
      ),
    );
    await reader.disconnect();
    await producer.disconnect();
    await admin.disconnect();
    statsRedis.disconnect();
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:stream: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
