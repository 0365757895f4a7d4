// `npm run bench:scale`: proof at scale on one machine (issue #12 §5). Runs the same seeded input
// twice, back to back, and compares every decision:
//   1. single node: one redis-server, one engine (`services/main.ts`, HTTP), one stream processor
//      (`streams/main.ts`);
//   2. scale-out: a three-master Redis Cluster, two engines, two stream processors in one
//      consumer group;
// both with one local Kafka broker (a fresh set of topics per run). Each run has two phases,
// measured apart so that each tier's CPU belongs to one kind of transaction:
//   stream: the processors join their group, then the stream transactions are produced as fast as
//     possible (keyed by merchant, BENCH_SCALE_PARTITIONS partitions); timed from the first send to the last output
//     (decision or dead letter) read back from Kafka;
//   HTTP: POST /v1/score, one sequential client loop per merchant (merchants split between the
//     engines in the scale-out run, all on the one engine in the single-node run); timed from the
//     first request to the last answer.
// Flagged decisions become cases: the engines' case ingesters drain the flagged queue (a Redis
// stream) into their case databases (PGlite here). Each phase's CPU is counted until that queue is
// empty, so the engines appear in the stream phase too. The phases start once the engines' case
// databases are open (an engine answers /readyz before it opens its PGlite database, and the
// opening stalls its event loop for up to ~0.7 s at a time on this machine: scorings meanwhile can
// miss the deadline and answer degraded) and the warm-up's cases are made.
// Each phase starts with an untimed warm-up (BENCH_SCALE_WARMUP transactions: JIT, script cache,
// connections) of other merchants, cards, devices..., so that it leaves the measured counters alone.
// Printed: transactions/s per phase; CPU per transaction of each tier (processors and engines
// from /proc; Redis from each node's INFO cpu, used_cpu_sys + used_cpu_user, summed over the
// cluster's nodes; the Kafka broker from /proc; this driver, which produces, reads and sends);
// the decision mix per 1,000; and "decisions identical: yes (N of N)" or the first differences.
// Exit code 0, unless a phase could not run (1) or the decisions differ (1); 2 on bad usage.
//
// Determinism, which the comparison needs. A transaction's velocity counters depend on the order
// in which the transactions sharing one of its entities (card, device, IP, email, shipping
// address, merchant, BIN) were recorded before it. Real traffic interleaves: a card is used at
// several merchants, a BIN spans all of them, and its decisions depend on arrival order, on one
// node as on many. Two processors score partitions concurrently, two engines serve clients
// concurrently, so the order across partitions and across engines differs from run to run. The
// traffic here is therefore partition-aligned (load-tests/lib/traffic.ts, partitionAlignedTraffic):
// every Kafka message is keyed by MERCHANT (all of a merchant's transactions in one partition, in
// order), each card (with its devices, IP, email and address) is used at one merchant only, each
// merchant has BINs of its own, a card-testing burst attacks one merchant; on HTTP each
// merchant's transactions are sent by one sequential client loop, and the HTTP merchants are not
// the stream's. Then every entity's history is one merchant's history, kept in order, and any
// interleaving of partitions, engines and processes gives the same counters: on one node as on
// many, any difference is a bug (or a degraded answer: the engines run with a generous deadline,
// BENCH_SCALE_DEADLINE_MS, so that a busy shared machine does not turn answers degraded; the
// production default is 50 ms).
//
// Otherwise a realistic mix: merchants of uneven size, returning and new cards, yen and euros,
// amounts spread log-normally, 3-D Secure on a third, 1 % security-code mismatches, a few
// card-testing bursts, so that a few per cent end flagged. The model is the starter model, as
// production runs it (LEAKGUARD_MODEL unset), unless BENCH_SCALE_MODEL says otherwise.
//
// Knobs (environment variables; the script takes no arguments):
//   BENCH_SCALE_STREAM_TRANSACTIONS (20000)  transactions through Kafka
//   BENCH_SCALE_HTTP_TRANSACTIONS (4000)     transactions through POST /v1/score
//   BENCH_SCALE_PARTITIONS (12)              partitions of the input and output topics
//   BENCH_SCALE_STREAM_MERCHANTS (48)        merchants of the stream traffic
//   BENCH_SCALE_HTTP_MERCHANTS (32)          merchants of the HTTP traffic = concurrent client loops
//   BENCH_SCALE_WARMUP (1000)                untimed, uncompared transactions per door before each phase
//   BENCH_SCALE_SEED (20261202)              the traffic's seed
//   BENCH_SCALE_DEADLINE_MS (2000)           the engines' LEAKGUARD_DEADLINE_MS
//   BENCH_SCALE_MODEL (unset)                the processes' LEAKGUARD_MODEL: unset = starter model, `off`, or a path
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Admin, type Consumer, type Kafka } from 'kafkajs';
import { ensureJava, ensureMaven, ensureRedis } from '../scripts/provision.ts';
import { RedisApiKeyStore } from '../services/adapters/redis/api-key-store.ts';
import { connectRedis, whenReady } from '../services/adapters/redis/connection.ts';
import { createApiKey } from '../services/auth/api-keys.ts';
import { FLAGGED_STREAM } from '../services/adapters/redis/flagged-queue.ts';
import { rejectArguments } from '../services/cli/command.ts';
import { createLogger } from '../services/logger.ts';
import { startKafka, stopKafka } from '../streams/broker/local-kafka.ts';
import { streamConfig } from '../streams/config.ts';
import { ensureTopics } from '../streams/topics.ts';
import { RedisCluster } from '../test/support/redis-cluster.ts';
import {
  benchWorkDir,
  cleanEnv,
  cleanup,
  fmtInt,
  installSignalHandlers,
  isShuttingDown,
  machineBusy,
  PhaseError,
  processCpu,
  redisInfo,
  registerCleanup,
  sleep,
  startChild,
  startEngine,
  startPrivateRedis,
  stopChild,
  type Child,
} from './lib/harness.ts';
import { partitionAlignedTraffic, type MerchantTransaction } from './lib/traffic.ts';

const { Kafka: KafkaClient, logLevel, Partitioners } = kafkajs;

const USAGE = `usage: npm run bench:scale   (configured by environment variables)
  single node (1 Redis, 1 engine, 1 processor) against scale-out (3-master Redis Cluster,
  2 engines, 2 processors in one group) on the same seeded input; checks the decisions are identical.
  BENCH_SCALE_STREAM_TRANSACTIONS (20000)  BENCH_SCALE_HTTP_TRANSACTIONS (4000)
  BENCH_SCALE_PARTITIONS (12)  BENCH_SCALE_STREAM_MERCHANTS (48)  BENCH_SCALE_HTTP_MERCHANTS (32)
  BENCH_SCALE_WARMUP (1000)  BENCH_SCALE_SEED (20261202)  BENCH_SCALE_DEADLINE_MS (2000)
  BENCH_SCALE_MODEL (unset: the starter model; off; or a model artifact's path)`;
// It takes no flags: say so rather than run a long benchmark that ignored one.
rejectArguments('bench:scale', USAGE);

const int = (name: string, def: number, min: number, max: number) => {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? def : Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(
      `bench:scale: ${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(raw)}\n${USAGE}\n`,
    );
    process.exit(2);
  }
  return n;
};
const STREAM_N = int('BENCH_SCALE_STREAM_TRANSACTIONS', 20_000, 0, 10_000_000);
const HTTP_N = int('BENCH_SCALE_HTTP_TRANSACTIONS', 4_000, 0, 10_000_000);
const PARTITIONS = int('BENCH_SCALE_PARTITIONS', 12, 1, 1_000);
const STREAM_MERCHANTS = int('BENCH_SCALE_STREAM_MERCHANTS', 48, 1, 10_000);
const HTTP_MERCHANTS = int('BENCH_SCALE_HTTP_MERCHANTS', 32, 1, 10_000);
const SEED = int('BENCH_SCALE_SEED', 20_261_202, 0, 2 ** 31 - 1);
const DEADLINE_MS = int('BENCH_SCALE_DEADLINE_MS', 2_000, 5, 10_000);
const WARMUP = int('BENCH_SCALE_WARMUP', 1_000, 0, 1_000_000);
const MODEL = process.env.BENCH_SCALE_MODEL || undefined;
if (STREAM_N + HTTP_N === 0) {
  process.stderr.write(`bench:scale: nothing to run (both transaction counts are 0)\n${USAGE}\n`);
  process.exit(2);
}

const say = (line = '') => process.stdout.write(`${line}\n`);
const log = (message: string) => process.stderr.write(`bench:scale: ${message}\n`);

// ---------------------------------------------------------------------------------------------
// Outcomes: what each transaction got, comparable across runs.

interface Outcome {
  door: 'stream' | 'http';
  merchant: string;
  /** approve/challenge/review/decline, or "dead letter (reason)", or "HTTP 503"... */
  decision: string;
  score: number | undefined;
  degraded: boolean;
  reasons: string[];
  /** Everything compared: decision, score, reasons (codes and messages, which carry the counts), checks, degraded. */
  canonical: string;
  /** No answer from the engine (an HTTP error, a failed request): never counted as identical. */
  failure: boolean;
  /** "engine x, ruleset y, model z" of a scored answer. */
  versions?: string;
}

interface Response {
  decision: string;
  score: number;
  reasons: { code: string; message: string }[];
  checks: unknown;
  degraded: boolean;
  versions?: { engine: string; ruleset: string; model?: string };
}
const scored = (door: Outcome['door'], merchant: string, r: Response): Outcome => ({
  door,
  merchant,
  decision: r.decision,
  score: r.score,
  degraded: r.degraded,
  reasons: r.reasons.map((x) => x.message),
  canonical: JSON.stringify([r.decision, r.score, r.reasons.map((x) => [x.code, x.message]), r.checks, r.degraded]),
  failure: false,
  ...(r.versions
    ? { versions: `engine ${r.versions.engine}, ruleset ${r.versions.ruleset}, model ${r.versions.model ?? 'none'}` }
    : {}),
});
/** A dead letter (`failure` false: the same dead letter in both runs is the same answer) or no answer at all. */
const failed = (door: Outcome['door'], merchant: string, what: string, failure: boolean): Outcome => ({
  door,
  merchant,
  decision: what,
  score: undefined,
  degraded: false,
  reasons: [],
  canonical: what,
  failure,
});

/** Outputs of the stream (decisions and dead letters), first seen per transaction. */
class OutputBook {
  readonly outcomes = new Map<string, Outcome>();
  readonly perPartition = new Map<number, number>();
  replays = 0;
  /** A transaction output twice with different contents (a redelivery answered differently). */
  inconsistent: string[] = [];
  lastAt = 0;

  add(id: string, outcome: Outcome, partition: number, replayed: boolean): void {
    if (replayed) this.replays++;
    const earlier = this.outcomes.get(id);
    if (earlier) {
      if (earlier.canonical !== outcome.canonical) this.inconsistent.push(id);
      return;
    }
    this.outcomes.set(id, outcome);
    if (!id.startsWith('warmup')) this.perPartition.set(partition, (this.perPartition.get(partition) ?? 0) + 1);
    this.lastAt = performance.now();
  }
}

/** Reads the run's decisions and dead-letter topics from the beginning. */
async function startOutputReader(
  kafka: Kafka,
  topics: { decisions: string; deadLetter: string },
  book: OutputBook,
): Promise<Consumer> {
  const consumer = kafka.consumer({
    groupId: `bench-scale-reader-${process.pid}-${Date.now()}`,
    maxWaitTimeInMs: 50,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.decisions, topics.deadLetter], fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 4,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        if (!m.value) continue;
        const v = JSON.parse(m.value.toString('utf8')) as Record<string, unknown>;
        if (batch.topic === topics.decisions) {
          const source = v.source as { partition: number };
          book.add(
            String(v.transactionId),
            scored('stream', String(v.merchantId), v as unknown as Response),
            source.partition,
            v.replayed === true,
          );
        } else if (typeof v.transactionId === 'string') {
          const source = v.source as { partition: number };
          book.add(
            v.transactionId,
            failed('stream', String(v.merchantId ?? '?'), `dead letter (${String(v.reason)})`, false),
            source.partition,
            false,
          );
        }
      }
    },
  });
  return consumer;
}

// ---------------------------------------------------------------------------------------------
// CPU accounting

interface Tiers {
  processors: Child[];
  engines: Child[];
  redisPorts: number[];
  kafkaPid: number;
}
interface Mark {
  at: number;
  processors: number[];
  engines: number[];
  redis: number[];
  kafka: number;
  driver: number;
  machine: number;
}

async function redisCpu(port: number): Promise<number> {
  const info = await redisInfo(port, 'cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return field('used_cpu_sys') + field('used_cpu_user');
}

async function mark(t: Tiers): Promise<Mark> {
  const redis = await Promise.all(t.redisPorts.map(redisCpu));
  const self = process.cpuUsage();
  return {
    at: performance.now(),
    processors: t.processors.map((c) => processCpu(c.proc.pid)[0]),
    engines: t.engines.map((c) => processCpu(c.proc.pid)[0]),
    redis,
    kafka: processCpu(t.kafkaPid)[0],
    driver: (self.user + self.system) / 1e6,
    machine: machineBusy(),
  };
}

interface PhaseCost {
  /** µs of CPU per transaction. */
  processors: number;
  engines: number;
  redis: number;
  kafka: number;
  driver: number;
  /** Shares of each process of a tier (processor 1, 2...; Redis node 1, 2, 3). */
  processorShares: number[];
  engineShares: number[];
  redisShares: number[];
  /** Busy cores of the whole machine, and of processes not ours (another user's tests...). */
  machineCores: number;
  otherCores: number;
}

function costOf(a: Mark, b: Mark, n: number): PhaseCost {
  const seconds = (b.at - a.at) / 1000;
  const deltas = (x: number[], y: number[]) => y.map((v, i) => Math.max(0, v - x[i]!));
  const sum = (x: number[]) => x.reduce((s, v) => s + v, 0);
  const shares = (x: number[]) => x.map((v) => v / Math.max(1e-9, sum(x)));
  const p = deltas(a.processors, b.processors),
    e = deltas(a.engines, b.engines),
    r = deltas(a.redis, b.redis);
  const kafka = Math.max(0, b.kafka - a.kafka),
    driver = b.driver - a.driver;
  const machine = b.machine - a.machine;
  const ours = sum(p) + sum(e) + sum(r) + kafka + driver;
  const per = (s: number) => (s * 1e6) / Math.max(1, n);
  return {
    processors: per(sum(p)),
    engines: per(sum(e)),
    redis: per(sum(r)),
    kafka: per(kafka),
    driver: per(driver),
    processorShares: shares(p),
    engineShares: shares(e),
    redisShares: shares(r),
    machineCores: machine / seconds,
    otherCores: Math.max(0, machine - ours) / seconds,
  };
}

// ---------------------------------------------------------------------------------------------
// One run: a topology, its two phases.

interface Topology {
  key: 'single' | 'scale';
  title: string;
  cluster: boolean;
  engines: number;
  processors: number;
}
const TOPOLOGIES: Topology[] = [
  { key: 'single', title: 'single node', cluster: false, engines: 1, processors: 1 },
  { key: 'scale', title: 'scale-out', cluster: true, engines: 2, processors: 2 },
];

interface PhaseResult {
  n: number;
  seconds: number;
  rate: number;
  cost: PhaseCost;
  /** How long after the last answer the engines were still making cases of flagged decisions (counted in `cost`). */
  casesSeconds: number;
  /** HTTP: each engine's longest event-loop delay during the phase, ms. */
  eventLoopMaxMs?: number[];
}
interface RunResult {
  topology: Topology;
  stream: PhaseResult | undefined;
  http: PhaseResult | undefined;
  outcomes: Map<string, Outcome>;
  replays: number;
  inconsistent: string[];
  perPartition: number[];
  /** Warning and error log lines of the engines and processors (the first 50), and how many there were. */
  problems: { lines: string[]; count: number };
  /** leakguard_redis_errors_total of the engines (warm-up included), by stage. */
  storeErrors: Map<string, number>;
}

/** The input of one population: the measured one, or the warm-up's (merchants and entities of its own). */
interface Input {
  streamMessages: { key: string; value: string }[];
  http: MerchantTransaction[];
  merchants: { stream: string[]; http: string[] };
}

interface Context {
  workDir: string;
  kafka: Kafka;
  admin: Admin;
  bootstrap: string;
  kafkaPid: number;
  main: Input;
  warmup: Input;
  secrets: Record<string, string>;
}

/** The caller's Redis, database and Kafka settings never reach the processes under test. */
function processEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = cleanEnv({});
  for (const k of Object.keys(env)) if (/^(KAFKA_|DATABASE_|REDIS_|STREAM_)/.test(k)) delete env[k];
  return { ...env, ...extra };
}

async function run(t: Topology, ctx: Context): Promise<RunResult> {
  const dir = join(ctx.workDir, t.key);
  mkdirSync(dir);
  const stateOf = (name: string) => {
    const d = join(dir, name);
    mkdirSync(join(d, 'state-home'), { recursive: true });
    return d;
  };

  // Redis: one server, or a three-master cluster.
  log(`${t.title}: starting ${t.cluster ? 'a three-master Redis Cluster' : 'redis-server'}`);
  let redisChild: Child | undefined;
  let cluster: RedisCluster | undefined;
  let redisEnv: Record<string, string>;
  let redisPorts: number[];
  if (t.cluster) {
    cluster = await RedisCluster.start({ masters: 3 });
    const c = cluster;
    registerCleanup(
      () => c.stop(),
      () => undefined,
    ); // its own exit hook kills the nodes
    redisEnv = { REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.seeds };
    redisPorts = cluster.nodes.map((n) => n.port);
  } else {
    const redisDir = join(dir, 'redis');
    mkdirSync(redisDir);
    const r = await startPrivateRedis(ensureRedis(), redisDir);
    redisChild = r.child;
    redisEnv = { REDIS_URL: r.url, REDIS_CLUSTER_NODES: '' };
    redisPorts = [r.port];
  }

  // A merchant API key for every merchant: the stream's (its merchant directory) and the HTTP's.
  const client = connectRedis(t.cluster ? { clusterNodes: cluster!.seeds } : { url: redisEnv.REDIS_URL! });
  client.on('error', () => undefined);
  const apiKeys = new Map<string, string>();
  try {
    await whenReady(client, 10_000);
    const store = new RedisApiKeyStore(client);
    for (const input of [ctx.warmup, ctx.main]) {
      for (const merchantId of [...input.merchants.stream, ...input.merchants.http]) {
        apiKeys.set(
          merchantId,
          (await createApiKey(store, { role: 'merchant', merchantId, label: 'bench-scale' })).key,
        );
      }
    }
  } catch (error) {
    client.disconnect();
    throw error;
  }
  /** Flagged decisions published and not yet made into cases by the engines' case ingesters. */
  const casesPending = () => client.xlen(FLAGGED_STREAM);

  // Topics of this run.
  const prefix = `bench-scale.${t.key}`;
  const topics = {
    input: `${prefix}.transactions`,
    decisions: `${prefix}.decisions`,
    flagged: `${prefix}.flagged`,
    deadLetter: `${prefix}.dead-letter`,
  };
  const group = `bench-scale-${t.key}`;
  const streamSettings = {
    LEAKGUARD_STREAM_INPUT_TOPIC: topics.input,
    LEAKGUARD_STREAM_DECISIONS_TOPIC: topics.decisions,
    LEAKGUARD_STREAM_FLAGGED_TOPIC: topics.flagged,
    LEAKGUARD_STREAM_DEAD_LETTER_TOPIC: topics.deadLetter,
    LEAKGUARD_STREAM_GROUP_ID: group,
    LEAKGUARD_STREAM_PARTITIONS: String(PARTITIONS),
  };
  await ensureTopics(
    ctx.admin,
    streamConfig({ KAFKA_BROKERS: ctx.bootstrap, ...streamSettings }),
    createLogger('warn'),
  );

  // Engines and processors, started together; the same keys for every process of the run.
  log(`${t.title}: starting ${t.engines} engine(s) and ${t.processors} processor(s)`);
  const model: Record<string, string> = MODEL ? { LEAKGUARD_MODEL: MODEL } : {};
  const problems = { lines: [] as string[], count: 0 };
  let armed = false; // start-up warnings (plaintext Kafka...) are not the run's problems
  let casesOpen = 0; // engines whose case database is open (they print "Analyst console:" then)
  let casesFailed = false;
  const watch = (name: string) => (line: string) => {
    if (name.startsWith('engine') && line.startsWith('Analyst console:')) casesOpen++;
    if (name.startsWith('engine') && line.includes('case database could not be opened')) {
      casesOpen++;
      casesFailed = true;
    }
    if (!armed || !/"level":(40|50|60)/.test(line)) return;
    problems.count++;
    if (problems.lines.length < 50) problems.lines.push(`${name}: ${line.slice(0, 500)}`);
  };
  const engineStarts = Array.from({ length: t.engines }, (_, i) => {
    const stateDir = stateOf(`engine-${i + 1}`);
    return startEngine({
      redisUrl: redisEnv.REDIS_URL!,
      stateDir,
      onLine: watch(`engine-${i + 1}`),
      env: {
        ...redisEnv,
        ...ctx.secrets,
        ...model,
        DATABASE_URL: '',
        XDG_STATE_HOME: join(stateDir, 'state-home'),
        LEAKGUARD_DEADLINE_MS: String(DEADLINE_MS),
      },
    });
  });
  const processors: Child[] = Array.from({ length: t.processors }, (_, i) => {
    const stateDir = stateOf(`processor-${i + 1}`);
    return startChild(
      `processor-${i + 1}`,
      process.execPath,
      [...process.execArgv, 'streams/main.ts'],
      processEnv({
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        KAFKA_BROKERS: ctx.bootstrap,
        ...redisEnv,
        ...ctx.secrets,
        ...model,
        ...streamSettings,
        LEAKGUARD_STREAM_CLIENT_ID: `${group}-${i + 1}`,
        STREAM_METRICS_PORT: '0',
        LEAKGUARD_STATE_DIR: stateDir,
        XDG_STATE_HOME: join(stateDir, 'state-home'),
      }),
      watch(`processor-${i + 1}`),
    );
  });
  const engines = (await Promise.all(engineStarts)).map((e) => ({
    child: e.child,
    url: e.url,
    metricsToken: e.metricsToken,
  }));
  const startedAt = Date.now();
  for (;;) {
    const dead = processors.find((p) => p.done);
    if (dead) throw new PhaseError(`${dead.name} exited at start:\n  ${dead.tail.slice(-15).join('\n  ')}`);
    const [described] = (await ctx.admin.describeGroups([group])).groups;
    if (described?.state === 'Stable' && described.members.length === t.processors) break;
    if (Date.now() - startedAt > 120_000)
      throw new PhaseError(
        `the processors did not form their group within 120 s (${described?.state}, ${described?.members.length} members)`,
      );
    await sleep(50);
  }
  const tiers: Tiers = { processors, engines: engines.map((e) => e.child), redisPorts, kafkaPid: ctx.kafkaPid };
  // An engine answers /readyz before its case database (PGlite) is open; opening it is start-up
  // work, not the phases'.
  for (const deadline = Date.now() + 120_000; casesOpen < engines.length;) {
    const dead = tiers.engines.find((c) => c.done);
    if (dead) throw new PhaseError(`${dead.name} exited at start:\n  ${dead.tail.slice(-15).join('\n  ')}`);
    if (Date.now() > deadline)
      throw new PhaseError(
        `the engines' case databases did not open within 120 s:\n  ${tiers.engines.flatMap((c) => c.tail.slice(-5)).join('\n  ')}`,
      );
    await sleep(100);
  }
  /**
   * Waits until the engines have made a case of every flagged decision so far (the case ingester
   * drains the flagged queue into the case database): the phases' CPU includes that work, and
   * the warm-up's does not spill into the phase after it.
   */
  const casesDrained = async (what: string) => {
    if (casesFailed) return; // told in the report (the engine's error line)
    const deadline = Date.now() + 120_000;
    while ((await casesPending()) > 0) {
      alive();
      if (Date.now() > deadline) {
        log(
          `${t.title}: ${what}: ${await casesPending()} flagged decisions still not made into cases after 120 s; going on`,
        );
        return;
      }
      await sleep(50);
    }
  };
  /** The engines' event-loop delay: prom-client's max since the previous scrape, in ms (reset by reading). */
  const eventLoopMax = async () =>
    Promise.all(
      engines.map(async (e) => {
        const text = await (
          await fetch(`${e.url}/metrics`, { headers: { authorization: `Bearer ${e.metricsToken}` } })
        )
          .text()
          .catch(() => '');
        return Number(/^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1] ?? Number.NaN) * 1000;
      }),
    );
  const alive = () => {
    const dead = [...processors, ...tiers.engines].find((c) => c.done);
    if (dead) throw new PhaseError(`${dead.name} exited during the run:\n  ${dead.tail.slice(-15).join('\n  ')}`);
  };

  // ------------------------------------------------------------ stream phase
  armed = true;
  const book = new OutputBook();
  const reader = await startOutputReader(ctx.kafka, topics, book);
  /** Produces the messages as fast as possible, in order, and waits until each has its output. */
  const streamRound = async (what: string, messages: Input['streamMessages']) => {
    const producer = ctx.kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const target = book.outcomes.size + messages.length;
    try {
      // One request at a time: each partition's messages reach the broker in their order.
      for (let i = 0; i < messages.length; i += 500) {
        await producer.send({ topic: topics.input, acks: -1, messages: messages.slice(i, i + 500) });
      }
    } finally {
      await producer.disconnect();
    }
    let seen = 0;
    let progressAt = Date.now();
    let reportAt = Date.now() + 10_000;
    while (book.outcomes.size < target) {
      if (isShuttingDown()) throw new PhaseError('stopped');
      alive();
      if (book.outcomes.size > seen) {
        seen = book.outcomes.size;
        progressAt = Date.now();
      }
      const done = seen - (target - messages.length);
      if (Date.now() - progressAt > 120_000) {
        throw new PhaseError(
          `${t.title}, ${what}: no new output for 120 s (${fmtInt(done)} of ${fmtInt(messages.length)}):\n  ${processors.flatMap((p) => p.tail.slice(-5)).join('\n  ')}`,
        );
      }
      if (Date.now() > reportAt) {
        log(`${t.title}: ${what}: ${fmtInt(done)} of ${fmtInt(messages.length)} decided`);
        reportAt = Date.now() + 10_000;
      }
      await sleep(20);
    }
  };
  let stream: PhaseResult | undefined;
  try {
    if (ctx.warmup.streamMessages.length > 0) {
      log(
        `${t.title}: stream warm-up, ${fmtInt(ctx.warmup.streamMessages.length)} transactions (not timed, not compared)`,
      );
      await streamRound('stream warm-up', ctx.warmup.streamMessages);
      await casesDrained('stream warm-up');
    }
    const n = ctx.main.streamMessages.length;
    if (n > 0) {
      log(`${t.title}: stream phase, ${fmtInt(n)} transactions over ${PARTITIONS} partitions`);
      await sleep(1_000); // let the machine settle
      const m0 = await mark(tiers);
      await streamRound('stream', ctx.main.streamMessages);
      const decidedAt = performance.now();
      await casesDrained('stream');
      const m1 = await mark(tiers);
      const seconds = (book.lastAt - m0.at) / 1000;
      stream = { n, seconds, rate: n / seconds, cost: costOf(m0, m1, n), casesSeconds: (m1.at - decidedAt) / 1000 };
    }
  } finally {
    await reader.disconnect().catch(() => undefined);
  }

  // ------------------------------------------------------------ HTTP phase
  const outcomes = new Map(book.outcomes);
  /** One sequential client loop per merchant, merchant i on engine i mod engines. */
  const httpRound = async (input: Input) => {
    const byMerchant = new Map<string, MerchantTransaction[]>();
    for (const tx of input.http) byMerchant.set(tx.merchant, [...(byMerchant.get(tx.merchant) ?? []), tx]);
    await Promise.all(
      input.merchants.http.map(async (merchant, i) => {
        const engine = engines[i % engines.length]!;
        const headers = { 'content-type': 'application/json', authorization: `Bearer ${apiKeys.get(merchant)!}` };
        for (const tx of byMerchant.get(merchant) ?? []) {
          if (isShuttingDown()) return;
          let outcome: Outcome;
          try {
            const res = await fetch(`${engine.url}/v1/score`, {
              method: 'POST',
              headers,
              body: JSON.stringify(tx.body),
              signal: AbortSignal.timeout(30_000),
            });
            const text = await res.text();
            outcome =
              res.status === 200
                ? scored('http', merchant, JSON.parse(text) as Response)
                : failed('http', merchant, `HTTP ${res.status} ${text.slice(0, 160)}`, true);
          } catch (error) {
            outcome = failed('http', merchant, `request failed: ${(error as Error).message}`, true);
          }
          outcomes.set(tx.body.transactionId, outcome);
        }
      }),
    );
    if (isShuttingDown()) throw new PhaseError('stopped');
    alive();
  };
  let http: PhaseResult | undefined;
  if (ctx.warmup.http.length > 0) {
    log(`${t.title}: HTTP warm-up, ${fmtInt(ctx.warmup.http.length)} transactions (not timed, not compared)`);
    await httpRound(ctx.warmup);
    await casesDrained('HTTP warm-up');
  }
  if (ctx.main.http.length > 0) {
    const n = ctx.main.http.length;
    log(
      `${t.title}: HTTP phase, ${fmtInt(n)} transactions, ${ctx.main.merchants.http.length} merchant loops over ${engines.length} engine(s)`,
    );
    await sleep(1_000);
    await eventLoopMax();
    const m0 = await mark(tiers);
    await httpRound(ctx.main);
    const answeredAt = performance.now();
    const loop = await eventLoopMax();
    await casesDrained('HTTP');
    const m1 = await mark(tiers);
    const seconds = (answeredAt - m0.at) / 1000;
    http = {
      n,
      seconds,
      rate: n / seconds,
      cost: costOf(m0, m1, n),
      casesSeconds: (m1.at - answeredAt) / 1000,
      eventLoopMaxMs: loop,
    };
  }
  // The engines' own count of velocity-store failures (a degraded answer's cause), by stage.
  const storeErrors = new Map<string, number>();
  for (const e of engines) {
    const text = await (
      await fetch(`${e.url}/metrics`, { headers: { authorization: `Bearer ${e.metricsToken}` } })
    )
      .text()
      .catch(() => '');
    for (const m of text.matchAll(/^leakguard_redis_errors_total\{stage="([^"]+)"\} (\d+)/gm))
      if (Number(m[2]) > 0) storeErrors.set(m[1]!, (storeErrors.get(m[1]!) ?? 0) + Number(m[2]));
  }
  // The warm-up's own outcomes are not compared.
  const warmupIds = new Set([
    ...ctx.warmup.streamMessages.map((m) => (JSON.parse(m.value) as { transactionId: string }).transactionId),
    ...ctx.warmup.http.map((x) => x.body.transactionId),
  ]);
  for (const id of warmupIds) outcomes.delete(id);

  // ------------------------------------------------------------ stop this run's processes
  log(`${t.title}: stopping`);
  await Promise.all(processors.map((p) => stopChild(p, 10_000)));
  await Promise.all(tiers.engines.map((e) => stopChild(e, 10_000)));
  if (redisChild) await stopChild(redisChild);
  client.disconnect();
  await cluster?.stop();
  return {
    topology: t,
    stream,
    http,
    outcomes,
    replays: book.replays,
    inconsistent: book.inconsistent,
    perPartition: Array.from({ length: PARTITIONS }, (_, p) => book.perPartition.get(p) ?? 0),
    problems,
    storeErrors,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

const DECISIONS = ['approve', 'challenge', 'review', 'decline'] as const;

function mix(outcomes: Map<string, Outcome>): string {
  const n = Math.max(1, outcomes.size);
  const count = (f: (o: Outcome) => boolean) => [...outcomes.values()].filter(f).length;
  const per1000 = (k: number) => ((1000 * k) / n).toFixed(1);
  const parts = DECISIONS.map((d) => `${d} ${per1000(count((o) => o.decision === d))}`);
  const other = count((o) => !(DECISIONS as readonly string[]).includes(o.decision));
  const degraded = count((o) => o.degraded);
  return `${parts.join(', ')}${other ? `, not decided ${per1000(other)}` : ''}; degraded ${per1000(degraded)}`;
}

function report(results: RunResult[], expectedIds: string[]): boolean {
  const [a, b] = results as [RunResult, RunResult];
  const pad = (v: string, n: number) => v.padStart(n);
  const W = 14;
  const us = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '-' : fmtInt(n));
  const row = (label: string, f: (r: RunResult) => string, ratio?: (r: RunResult) => number | undefined) => {
    const x = ratio?.(a),
      y = ratio?.(b);
    const q = x !== undefined && y !== undefined && x > 0 ? (y / x).toFixed(2) : '';
    say(`${label.padEnd(44)}${pad(f(a), W)}${pad(f(b), W)}${pad(q, 14)}`);
  };
  const shares = (s: number[]) => (s.length > 1 ? ` (${s.map((x) => `${Math.round(x * 100)}%`).join('/')})` : '');

  say('');
  say(
    `bench:scale on ${cpus().length} CPU(s) (${cpus()[0]?.model ?? '?'}), Node ${process.version}; Kafka, Redis, engines, processors and this driver on the same machine`,
  );
  say(
    `${a.topology.title}: 1 redis-server, 1 engine, 1 processor; ${b.topology.title}: 3-master Redis Cluster, 2 engines, 2 processors (one group)`,
  );
  const versions = [...a.outcomes.values()].find((o) => o.versions)?.versions;
  if (versions)
    say(
      `${versions}${MODEL ? ` (BENCH_SCALE_MODEL=${MODEL})` : ' (LEAKGUARD_MODEL unset: the starter model, as production)'}; engines' deadline ${DEADLINE_MS} ms`,
    );
  say(`${''.padEnd(44)}${pad(a.topology.title, W)}${pad(b.topology.title, W)}${pad('scale/single', 14)}`);
  const phase = (
    name: string,
    get: (r: RunResult) => PhaseResult | undefined,
    tiers: { label: string; value: (c: PhaseCost) => number; shares?: (c: PhaseCost) => number[] }[],
  ) => {
    if (!get(a) && !get(b)) return;
    say(name);
    row(
      '  transactions/s',
      (r) => (get(r) ? fmtInt(get(r)!.rate) : '-'),
      (r) => get(r)?.rate,
    );
    row('  wall time, s', (r) => (get(r) ? get(r)!.seconds.toFixed(1) : '-'));
    say('  CPU µs per transaction');
    for (const tier of tiers) {
      row(
        `    ${tier.label}`,
        (r) => {
          const c = get(r)?.cost;
          return c ? us(tier.value(c)) : '-';
        },
        (r) => (get(r) ? tier.value(get(r)!.cost) : undefined),
      );
    }
    row(
      '    all of the above',
      (r) => {
        const c = get(r)?.cost;
        return c ? us(tiers.reduce((s, t) => s + t.value(c), 0)) : '-';
      },
      (r) => (get(r) ? tiers.reduce((s, t) => s + t.value(get(r)!.cost), 0) : undefined),
    );
    row('  cases still being made after, s', (r) => (get(r) ? get(r)!.casesSeconds.toFixed(1) : '-'));
    if (get(a)?.eventLoopMaxMs || get(b)?.eventLoopMaxMs)
      row(
        "  engines' longest event-loop delay, ms",
        (r) =>
          get(r)
            ?.eventLoopMaxMs?.map((x) => x.toFixed(0))
            .join('/') ?? '-',
      );
    row('  machine busy, cores (not ours)', (r) => {
      const c = get(r)?.cost;
      return c ? `${c.machineCores.toFixed(2)} (${c.otherCores.toFixed(2)})` : '-';
    });
    for (const r of [a, b]) {
      const c = get(r)?.cost;
      if (!c) continue;
      const split = tiers
        .filter((t) => t.shares && t.shares(c).length > 1)
        .map((t) => `${t.label.split(' ')[0]}${shares(t.shares!(c))}`);
      if (split.length) say(`  ${r.topology.title} split: ${split.join(', ')}`);
    }
  };
  phase(`stream (${fmtInt(STREAM_N)} transactions, ${PARTITIONS} partitions, keyed by merchant)`, (r) => r.stream, [
    { label: 'processors', value: (c) => c.processors, shares: (c) => c.processorShares },
    { label: 'engines (cases of flagged decisions)', value: (c) => c.engines, shares: (c) => c.engineShares },
    { label: 'Redis (all nodes, INFO cpu)', value: (c) => c.redis, shares: (c) => c.redisShares },
    { label: 'Kafka broker', value: (c) => c.kafka },
    { label: 'driver (produce, read outputs)', value: (c) => c.driver },
  ]);
  phase(`HTTP POST /v1/score (${fmtInt(HTTP_N)} transactions, ${HTTP_MERCHANTS} merchant loops)`, (r) => r.http, [
    { label: 'engines', value: (c) => c.engines, shares: (c) => c.engineShares },
    { label: 'Redis (all nodes, INFO cpu)', value: (c) => c.redis, shares: (c) => c.redisShares },
    { label: 'driver (HTTP clients)', value: (c) => c.driver },
  ]);
  if (STREAM_N > 0) {
    const spread = (r: RunResult) => `${Math.min(...r.perPartition)}-${Math.max(...r.perPartition)}`;
    say(
      `stream transactions per partition: ${spread(a)} (min-max); redelivered decisions (replays): ${a.topology.title} ${a.replays}, ${b.topology.title} ${b.replays}`,
    );
  }
  say('decisions per 1,000 (stream and HTTP):');
  for (const r of [a, b]) say(`  ${r.topology.title.padEnd(12)} ${mix(r.outcomes)}`);
  for (const r of [a, b]) {
    if (r.storeErrors.size)
      say(
        `  ${r.topology.title}: engines' velocity-store failures (leakguard_redis_errors_total, warm-up included): ${[...r.storeErrors].map(([k, v]) => `${k} ${v}`).join(', ')}`,
      );
    if (r.problems.count) {
      say(
        `  ${r.topology.title}: ${r.problems.count} warning/error log line(s) from the engines and processors; the first:`,
      );
      for (const line of r.problems.lines.slice(0, 3)) say(`    ${line}`);
    }
    if (r.inconsistent.length)
      say(
        `  ${r.topology.title}: ${r.inconsistent.length} transaction(s) output twice with different decisions, first ${r.inconsistent[0]}`,
      );
  }

  // The check.
  const differences: string[] = [];
  let degradedDiffs = 0;
  const describe = (o: Outcome | undefined) =>
    o
      ? `${o.decision}${o.score === undefined ? '' : ` ${o.score}`}${o.degraded ? ' (degraded)' : ''}${o.reasons.length ? `: ${o.reasons.join('; ')}` : ''}`
      : 'no output';
  // Identical: the same answer, and a real one (not degraded, not a failed request).
  const same = (x: Outcome | undefined, y: Outcome | undefined) =>
    !!x && !!y && x.canonical === y.canonical && !x.failure && !y.failure && !x.degraded && !y.degraded;
  for (const id of expectedIds) {
    const x = a.outcomes.get(id),
      y = b.outcomes.get(id);
    if (same(x, y)) continue;
    if (x?.degraded || y?.degraded) degradedDiffs++;
    differences.push(
      `  ${id} (${x?.door ?? y?.door}, ${x?.merchant ?? y?.merchant}):\n      ${a.topology.title}: ${describe(x)}\n      ${b.topology.title}: ${describe(y)}`,
    );
  }
  const inconsistent = a.inconsistent.length + b.inconsistent.length;
  const identical = differences.length === 0 && inconsistent === 0;
  if (identical) {
    say(`decisions identical: yes (${fmtInt(expectedIds.length)} of ${fmtInt(expectedIds.length)})`);
  } else {
    say(
      `decisions identical: NO (${fmtInt(expectedIds.length - differences.length)} of ${fmtInt(expectedIds.length)} identical${degradedDiffs ? `; ${degradedDiffs} of the ${differences.length} involve a degraded answer (raise BENCH_SCALE_DEADLINE_MS?)` : ''}${inconsistent ? `; ${inconsistent} transaction(s) decided twice differently within a run` : ''}); the first differences:`,
    );
    for (const d of differences.slice(0, 8)) say(d);
    const byMerchant = new Map<string, number>();
    for (const id of expectedIds) {
      const x = a.outcomes.get(id),
        y = b.outcomes.get(id);
      if (!same(x, y))
        byMerchant.set(x?.merchant ?? y?.merchant ?? '?', (byMerchant.get(x?.merchant ?? y?.merchant ?? '?') ?? 0) + 1);
    }
    say(
      `  differences by merchant: ${[...byMerchant]
        .sort((p, q) => q[1] - p[1])
        .slice(0, 10)
        .map(([m, k]) => `${m} ${k}`)
        .join(', ')}`,
    );
  }
  return identical;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  installSignalHandlers(log, 'bench:scale');
  log(
    `${cpus().length} CPU(s), load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  ensureJava();
  ensureMaven();
  process.env.LEAKGUARD_TEST_REDIS_SERVER ??= ensureRedis(); // RedisCluster's redis-server

  const traffic = partitionAlignedTraffic({
    streamTransactions: STREAM_N,
    httpTransactions: HTTP_N,
    streamMerchants: STREAM_MERCHANTS,
    httpMerchants: HTTP_MERCHANTS,
    seed: SEED,
  });
  // The warm-up: the same kind of traffic, other merchants, cards, devices...: it leaves the measured counters alone.
  const warmup = partitionAlignedTraffic({
    streamTransactions: STREAM_N === 0 ? 0 : WARMUP,
    httpTransactions: HTTP_N === 0 ? 0 : WARMUP,
    streamMerchants: STREAM_MERCHANTS,
    httpMerchants: HTTP_MERCHANTS,
    seed: SEED + 1,
    population: 1,
  });
  log(
    `traffic (seed ${SEED}): ${fmtInt(traffic.stream.length)} stream transactions at ${traffic.streamMerchants.length} merchants, ${fmtInt(traffic.http.length)} HTTP at ${traffic.httpMerchants.length}; card-testing bursts ${traffic.bursts.stream} + ${traffic.bursts.http}`,
  );

  const { workDir } = benchWorkDir('lg-bench-scale-');
  const kafkaDir = join(workDir, 'kafka');
  log('starting a local Kafka broker');
  const broker = await startKafka({ stateDir: kafkaDir });
  registerCleanup(
    async () => void (await stopKafka(kafkaDir)),
    () => {
      try {
        process.kill(broker.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    },
  );
  log(`Kafka ${broker.version} at ${broker.bootstrap} (pid ${broker.pid})`);
  const kafka = new KafkaClient({ clientId: 'bench-scale', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const input = (x: typeof traffic): Input => ({
      streamMessages: x.stream.map((t) => ({
        key: t.merchant,
        value: JSON.stringify({ merchantId: t.merchant, ...t.body }),
      })),
      http: x.http,
      merchants: { stream: x.streamMerchants, http: x.httpMerchants },
    });
    const ctx: Context = {
      workDir,
      kafka,
      admin,
      bootstrap: broker.bootstrap,
      kafkaPid: broker.pid,
      main: input(traffic),
      warmup: input(warmup),
      // The same keys for every process of both runs: card fingerprints and pseudonyms alike.
      secrets: {
        LEAKGUARD_CARD_KEY: randomBytes(32).toString('hex'),
        LEAKGUARD_DATA_KEY: randomBytes(32).toString('hex'),
        LEAKGUARD_AUDIT_KEY: randomBytes(32).toString('hex'),
      },
    };
    const results: RunResult[] = [];
    for (const t of TOPOLOGIES) results.push(await run(t, ctx));
    const ids = [...traffic.stream, ...traffic.http].map((t) => t.body.transactionId);
    return report(results, ids) ? 0 : 1;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

const started = performance.now();
main().then(
  async (code) => {
    await cleanup();
    log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    process.exit(code);
  },
  async (error: unknown) => {
    if (isShuttingDown()) return; // the signal handler cleans up and exits
    process.stderr.write(
      `bench:scale: ${error instanceof PhaseError ? error.message : ((error as Error).stack ?? String(error))}\n`,
    );
    await cleanup();
    process.exit(1);
  },
);
