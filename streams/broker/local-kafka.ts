// The local Apache Kafka broker for tests, benchmarks and local runs: resolve the jars, format a
// KRaft state dir once, run `kafka.Kafka` detached on free loopback ports, stop it again.
// The state dir holds the whole truth (pid file, bootstrap address, logs, data), so any process —
// the CLI, a test, a benchmark — can find, reuse or stop a broker that another one started.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KafkaAdmin } from '../../services/adapters/kafka/client.ts';
import { kafkaClient } from '../../services/adapters/kafka/kafka.ts';
import type { KafkaSecurity } from '../../services/adapters/kafka/security.ts';
import { ADMIN_USER, brokerLog4j, dataDir, NODE_ID, renderProperties, serverProperties, TOOL_LOG4J } from './config.ts';
import { capture, ensureKafkaJars, javaBinary, kafkaVersion, say, tail } from './jars.ts';
import {
  applyTopicsAndAcls,
  brokerSecrets,
  createCredentials,
  credentialsPath,
  readCredentials,
  removeCredentials,
  userSasl,
  writeScramArgs,
  type KafkaCredentials,
} from './secure.ts';
import { LeakguardError } from '../../services/core/errors.ts';
import { canListen, ephemeralLow, freePortIn, LOCAL_PORT_FLOOR } from './ports.ts';

export { ensureKafkaJars, kafkaLibsDir, kafkaVersion } from './jars.ts';
export { readCredentials, userSasl, type KafkaCredentials } from './secure.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** On the java command line so that a pid is only ever taken for this state dir's broker. */
const MARKER = '-Dleakguard.kafka.stateDir';

export interface StartOptions {
  /** Default: ${LEAKGUARD_STATE_DIR:-.leakguard}/kafka under the repository (kafka-secure when secure). */
  stateDir?: string;
  /** How long the broker may take to answer; default LEAKGUARD_KAFKA_START_TIMEOUT_MS or 120 s. */
  startTimeoutMs?: number;
  /** JVM -Xmx; default LEAKGUARD_KAFKA_HEAP or 512m. */
  heap?: string;
  /** Broker settings on top of config.ts's, e.g. { 'auto.create.topics.enable': 'true' }. */
  overrides?: Record<string, string>;
  /**
   * SASL/SCRAM on the client listener and ACLs enforced (config.ts: secureUsers). Fixed when the
   * storage is formatted; unset: whatever the state dir was formatted as (plain for a new one).
   */
  secure?: boolean;
}

export interface RunningKafka {
  /** host:port for clients, e.g. 127.0.0.1:39213. */
  bootstrap: string;
  pid: number;
  stateDir: string;
  version: string;
  /** True when a broker already running in this state dir was reused. */
  reused: boolean;
  /** A secure broker's credentials.json (mode 0600): every user's password, password file and grants. */
  credentialsFile?: string;
}

export interface KafkaStatus {
  /** running: answers at its address; unresponsive: the process lives but does not answer. */
  state: 'running' | 'unresponsive' | 'stopped';
  stateDir: string;
  pid?: number;
  bootstrap?: string;
  version?: string;
  logFile: string;
  /** Set when the state dir holds a secure broker. */
  credentialsFile?: string;
}

/** broker.json: what the last start chose, so a restart can keep the same ports. */
interface BrokerInfo {
  version: string;
  pid: number;
  bootstrap: string;
  brokerPort: number;
  controllerPort: number;
  startedAt: string;
}

/** The secure broker has a state dir of its own, so that both can run side by side. */
export function defaultStateDir(secure = false): string {
  return resolve(REPO_ROOT, process.env.LEAKGUARD_STATE_DIR || '.leakguard', secure ? 'kafka-secure' : 'kafka');
}

const stateFiles = (stateDir: string) => ({
  pid: join(stateDir, 'kafka.pid'),
  /** Written only once the broker answers: its presence means "ready". */
  bootstrap: join(stateDir, 'bootstrap.txt'),
  info: join(stateDir, 'broker.json'),
  lock: join(stateDir, 'start.lock'),
  server: join(stateDir, 'server.properties'),
  log4j: join(stateDir, 'log4j2.properties'),
  toolLog4j: join(stateDir, 'tool-log4j2.properties'),
  /** log4j's rolling broker log. */
  log: join(stateDir, 'broker.log'),
  /** The JVM's own stdout and stderr: crashes before logging starts, OOM, bad flags. */
  out: join(stateDir, 'broker.out'),
  /** The SCRAM users' arguments of a secure format, present only while it runs. */
  scramArgs: join(stateDir, 'format-scram.args'),
});

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (!raw) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}=${raw} is not a positive number`);
  return value;
}

// ---------------------------------------------------------------- processes

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A zombie (exited, not yet reaped by its parent) still answers kill(0).
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): kill(0) is all we know
  }
}

/** Alive, and the java process started for this state dir (not a recycled pid). */
function isOurBroker(pid: number, stateDir: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(`${MARKER}=${stateDir}`);
  } catch {
    return existsSync('/proc/self') ? false : true;
  }
}

function readPid(stateDir: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(stateFiles(stateDir).pid, 'utf8'), 10);
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function readInfo(stateDir: string): BrokerInfo | undefined {
  try {
    return JSON.parse(readFileSync(stateFiles(stateDir).info, 'utf8')) as BrokerInfo;
  } catch {
    return undefined;
  }
}

function clearRunFiles(stateDir: string): void {
  const files = stateFiles(stateDir);
  rmSync(files.pid, { force: true });
  rmSync(files.bootstrap, { force: true });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  // The broker leads its own process group (detached); fall back to the pid alone.
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
  return true;
}

/** SIGTERM (Kafka's shutdown hook closes logs cleanly), then SIGKILL after graceMs. Returns true if forced. */
async function terminate(pid: number, graceMs: number): Promise<boolean> {
  signalGroup(pid, 'SIGTERM');
  if (await waitForExit(pid, graceMs)) return false;
  say(`pid ${pid} still running ${Math.round(graceMs / 1000)} s after SIGTERM; sending SIGKILL`);
  signalGroup(pid, 'SIGKILL');
  if (!(await waitForExit(pid, 10_000))) throw new Error(`Kafka pid ${pid} survived SIGKILL`);
  return true;
}

/** The lock's holder (0: not written yet) and its age in ms; undefined when it is gone. */
function readLock(lock: string): { holder: number; age: number } | undefined {
  try {
    const holder = Number.parseInt(readFileSync(lock, 'utf8'), 10) || 0;
    return { holder, age: Date.now() - statSync(lock).mtimeMs };
  } catch {
    return undefined;
  }
}

/**
 * One starter or stopper per state dir at a time (parallel test workers, a CLI next to a test).
 * The lock file names its holder; a dead holder's lock is taken over.
 */
async function withLock<T>(stateDir: string, waitMs: number, work: () => Promise<T>): Promise<T> {
  const lock = stateFiles(stateDir).lock;
  const deadline = Date.now() + waitMs;
  let announced = false;
  for (;;) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const seen = readLock(lock);
    if (!seen) continue; // released between our two looks
    const { holder, age } = seen;
    // An empty lock is one being written right now, unless it is old.
    if ((holder && !isAlive(holder)) || (!holder && age > 5_000)) {
      rmSync(lock, { force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(
        `gave up waiting for pid ${holder}, which is starting or stopping Kafka in ${stateDir} (lock ${lock})`,
      );
    if (!announced) say(`waiting for pid ${holder}, which is starting or stopping Kafka in ${stateDir}`);
    announced = true;
    await sleep(250);
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { force: true });
  }
}

// ---------------------------------------------------------------- ports, probe

/** The previous ports when both are still free (a stable address across restarts), else fresh ones
 * below the ephemeral range (ports.ts: a client reconnecting meanwhile cannot take them). */
async function pickPorts(previous?: BrokerInfo): Promise<{ brokerPort: number; controllerPort: number }> {
  if (previous && (await canListen(previous.brokerPort)) && (await canListen(previous.controllerPort))) {
    return { brokerPort: previous.brokerPort, controllerPort: previous.controllerPort };
  }
  const top = ephemeralLow();
  const brokerPort = await freePortIn(LOCAL_PORT_FLOOR, top);
  const controllerPort = brokerPort && (await freePortIn(LOCAL_PORT_FLOOR, top, { exclude: new Set([brokerPort]) }));
  if (brokerPort === undefined || controllerPort === undefined)
    throw new PortTakenError(`no free loopback port in ${LOCAL_PORT_FLOOR}..${top - 1}`);
  return { brokerPort, controllerPort };
}

type Sasl = KafkaSecurity['sasl'];

/** The admin's SASL settings for a secure state dir; none for a plain one. */
const adminSasl = (credentials: KafkaCredentials | undefined): Sasl =>
  credentials ? userSasl(credentials, ADMIN_USER) : undefined;

function adminClient(bootstrap: string, sasl: Sasl, retries: number): KafkaAdmin {
  return kafkaClient({
    clientId: 'leakguard-broker-probe',
    brokers: [bootstrap],
    connectionTimeoutMs: 1_000,
    requestTimeoutMs: 5_000,
    retry: { retries },
    ...(sasl ? { security: { sasl } } : {}),
  }).admin();
}

/** Answers when the broker serves metadata and lists itself: clients can produce and consume. */
async function answers(bootstrap: string, sasl?: Sasl): Promise<boolean> {
  const admin = adminClient(bootstrap, sasl, 0);
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.some((b) => b.nodeId === NODE_ID);
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** What a file gained since `from` (the current start's part of an appended log), at most 64 KB. */
function readSince(file: string, from: number): string {
  try {
    const size = statSync(file).size;
    const start = size < from ? 0 : Math.max(from, size - 65_536); // smaller: log4j rolled it
    const buffer = Buffer.alloc(size - start);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buffer, 0, buffer.length, start);
    } finally {
      closeSync(fd);
    }
    return buffer.toString('utf8');
  } catch {
    return '';
  }
}

const sizeOf = (file: string) => (existsSync(file) ? statSync(file).size : 0);

// ---------------------------------------------------------------- start

function heapSetting(opts: StartOptions): string {
  const heap = opts.heap ?? (process.env.LEAKGUARD_KAFKA_HEAP || '512m');
  if (!/^\d+[kmgKMG]$/.test(heap)) throw new Error(`Kafka heap "${heap}" is not a JVM size such as 512m or 1g`);
  return heap;
}

/** Kafka's Uuid text form: 16 random bytes, base64url; never a leading '-' (the CLI would read a flag). */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Formats the storage; a secure one gets its SCRAM users now (the metadata log is where they live). */
async function formatStorage(
  java: string,
  libs: string,
  stateDir: string,
  credentials?: KafkaCredentials,
): Promise<void> {
  const files = stateFiles(stateDir);
  const clusterId = newClusterId();
  writeFileSync(files.toolLog4j, TOOL_LOG4J);
  // The passwords go through an @file that the tool reads: a command line is visible to every user (ps).
  if (credentials) writeScramArgs(files.scramArgs, credentials);
  let result: { code: number; output: string };
  try {
    result = await capture(
      java,
      [
        '-Xmx256m',
        `-Dlog4j2.configurationFile=${files.toolLog4j}`,
        '-cp',
        join(libs, '*'),
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        files.server,
        ...(credentials ? [`@${files.scramArgs}`] : []),
      ],
      stateDir,
      `Java not found (${java})`,
    );
  } finally {
    rmSync(files.scramArgs, { force: true });
  }
  if (result.code !== 0) {
    throw new Error(
      `formatting KRaft storage in ${dataDir(stateDir)} failed (exit ${result.code}):\n${tail(result.output, 30)}`,
    );
  }
  say(
    `formatted KRaft storage in ${dataDir(stateDir)} (cluster id ${clusterId}${credentials ? `; SCRAM users ${Object.keys(credentials.users).join(', ')}` : ''})`,
  );
}

/** The default topics and every user's ACLs, as the admin (idempotent: on every start of a secure broker). */
async function secureSetup(bootstrap: string, credentials: KafkaCredentials): Promise<void> {
  const admin = adminClient(bootstrap, adminSasl(credentials), 5);
  await admin.connect();
  try {
    await applyTopicsAndAcls(admin, bootstrap);
  } catch (error) {
    throw new Error(
      `the secure broker at ${bootstrap} is up, but creating its topics and ACLs failed: ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

class PortTakenError extends LeakguardError {
  constructor(message: string) {
    super('PORT_TAKEN', message);
  }
}

interface Launch {
  java: string;
  libs: string;
  stateDir: string;
  version: string;
  heap: string;
  brokerPort: number;
  controllerPort: number;
  timeoutMs: number;
  credentials?: KafkaCredentials;
}

async function launch(l: Launch): Promise<RunningKafka> {
  const files = stateFiles(l.stateDir);
  const bootstrap = `127.0.0.1:${l.brokerPort}`;
  const logFrom = sizeOf(files.log);
  appendFileSync(files.out, `==== leakguard: Kafka ${l.version} starting at ${new Date().toISOString()} ====\n`);
  const outFrom = sizeOf(files.out);
  const out = openSync(files.out, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      l.java,
      [
        `-Xmx${l.heap}`,
        // Kafka's own JVM defaults (kafka-run-class.sh), and die rather than limp on OOM.
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-XX:InitiatingHeapOccupancyPercent=35',
        '-XX:+ExplicitGCInvokesConcurrent',
        '-XX:+ExitOnOutOfMemoryError',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${files.log4j}`,
        `-Dkafka.logs.dir=${l.stateDir}`,
        `${MARKER}=${l.stateDir}`,
        '-cp',
        join(l.libs, '*'),
        'kafka.Kafka',
        files.server,
      ],
      // Its own process group: outlives the CLI, and a Ctrl-C in the terminal does not reach it.
      { cwd: l.stateDir, detached: true, stdio: ['ignore', out, out] },
    );
  } finally {
    closeSync(out);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${l.java}`);
  let exit: string | undefined;
  child.once('exit', (code, signal) => {
    exit = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  });
  child.unref();

  const info: BrokerInfo = {
    version: l.version,
    pid,
    bootstrap,
    brokerPort: l.brokerPort,
    controllerPort: l.controllerPort,
    startedAt: new Date().toISOString(),
  };
  writeFileSync(files.pid, `${pid}\n`);
  writeFileSync(files.info, `${JSON.stringify(info, null, 2)}\n`);

  const started = Date.now();
  const deadline = started + l.timeoutMs;
  let lastNote = started;
  for (;;) {
    if (exit === undefined && (await answers(bootstrap, adminSasl(l.credentials)))) break;
    if (exit !== undefined || Date.now() > deadline) {
      const reason = exit ?? `did not answer at ${bootstrap} within ${Math.round(l.timeoutMs / 1000)} s`;
      if (exit === undefined) await terminate(pid, 10_000).catch(() => undefined);
      clearRunFiles(l.stateDir);
      const log = readSince(files.log, logFrom);
      const jvm = readSince(files.out, outFrom);
      if (/BindException|Address already in use/.test(log + jvm))
        throw new PortTakenError(`port ${l.brokerPort} or ${l.controllerPort} was taken`);
      throw new Error(
        `Kafka ${l.version} (pid ${pid}) ${reason}.\n` +
          `--- ${files.log} (last 40 lines) ---\n${tail(log, 40) || '(empty)'}\n` +
          `--- ${files.out} (JVM output, last 20 lines) ---\n${tail(jvm, 20) || '(empty)'}`,
      );
    }
    if (Date.now() - lastNote > 15_000) {
      say(`still waiting for Kafka to answer at ${bootstrap} (${Math.round((Date.now() - started) / 1000)} s)`);
      lastNote = Date.now();
    }
    await sleep(500);
  }
  if (l.credentials) await secureSetup(bootstrap, l.credentials);
  writeFileSync(files.bootstrap, `${bootstrap}\n`);
  say(
    `Kafka ${l.version} is up at ${bootstrap} (pid ${pid}, ${((Date.now() - started) / 1000).toFixed(1)} s${l.credentials ? ', SASL/SCRAM and ACLs' : ''}); log ${files.log}`,
  );
  return {
    bootstrap,
    pid,
    stateDir: l.stateDir,
    version: l.version,
    reused: false,
    ...(l.credentials ? { credentialsFile: credentialsPath(l.stateDir) } : {}),
  };
}

/**
 * The state dir's credentials when it is (or is to be) secure. The mode is fixed at format time:
 * asking for the other one is an error that says how to get it, never a silent switch.
 */
function securityOf(
  stateDir: string,
  wanted: boolean | undefined,
): { credentials?: KafkaCredentials; format: boolean } {
  const formatted = existsSync(join(dataDir(stateDir), 'meta.properties'));
  const existing = readCredentials(stateDir);
  if (!formatted) return { format: true };
  if (wanted === true && !existing) {
    throw new Error(
      `the Kafka state dir ${stateDir} was formatted without SCRAM users, so it cannot start secure; use another --state-dir (the CLI's --secure default is .leakguard/kafka-secure) or delete ${dataDir(stateDir)}`,
    );
  }
  if (wanted === false && existing) {
    throw new Error(
      `the Kafka state dir ${stateDir} holds a secure broker (${credentialsPath(stateDir)}); start it with secure (--secure), or use another state dir`,
    );
  }
  return { ...(existing ? { credentials: existing } : {}), format: false };
}

/**
 * Starts the broker of a state dir, or returns the one already running there. Resolves the jars
 * and formats the storage on first use; the data survives stop and start.
 */
export async function startKafka(opts: StartOptions = {}): Promise<RunningKafka> {
  const stateDir = opts.stateDir ? resolve(opts.stateDir) : defaultStateDir(opts.secure === true);
  const timeoutMs = opts.startTimeoutMs ?? envNumber('LEAKGUARD_KAFKA_START_TIMEOUT_MS') ?? 120_000;
  const heap = heapSetting(opts);
  const version = kafkaVersion();
  mkdirSync(stateDir, { recursive: true });
  const files = stateFiles(stateDir);

  return withLock(stateDir, timeoutMs + 60_000, async () => {
    const pid = readPid(stateDir);
    const previous = readInfo(stateDir);
    const security = securityOf(stateDir, opts.secure);
    if (pid && isOurBroker(pid, stateDir)) {
      const bootstrap = previous?.pid === pid ? previous.bootstrap : undefined;
      if (!bootstrap)
        throw new Error(
          `Kafka pid ${pid} runs in ${stateDir} but ${files.info} does not name its address; stop it (npm run kafka -- stop) and start again`,
        );
      const deadline = Date.now() + timeoutMs;
      while (!(await answers(bootstrap, adminSasl(security.credentials)))) {
        if (!isAlive(pid) || Date.now() > deadline) {
          throw new Error(
            `Kafka pid ${pid} in ${stateDir} is running but does not answer at ${bootstrap}; see ${files.log}, or stop it (npm run kafka -- stop)`,
          );
        }
        await sleep(500);
      }
      writeFileSync(files.bootstrap, `${bootstrap}\n`);
      const running = previous?.version ?? 'unknown';
      if (running !== version) say(`note: the running broker is Kafka ${running}, not ${version}; stop it to switch`);
      say(`reusing Kafka pid ${pid} at ${bootstrap} (${stateDir})`);
      if (security.credentials) await secureSetup(bootstrap, security.credentials);
      return {
        bootstrap,
        pid,
        stateDir,
        version: running,
        reused: true,
        ...(security.credentials ? { credentialsFile: credentialsPath(stateDir) } : {}),
      };
    }
    if (pid) say(`removing the stale pid file of pid ${pid}`);
    clearRunFiles(stateDir);

    const libs = await ensureKafkaJars(version);
    const java = javaBinary();
    // A fresh storage gets fresh users, or none; credentials left over belonged to deleted data.
    let credentials = security.credentials;
    if (security.format) credentials = opts.secure ? createCredentials(stateDir) : removeCredentials(stateDir);
    let preferred = previous;
    for (let attempt = 1; ; attempt++) {
      const ports = await pickPorts(preferred);
      const properties = serverProperties({
        ...ports,
        stateDir,
        overrides: opts.overrides,
        ...(credentials ? { secure: brokerSecrets(credentials) } : {}),
      });
      // A secure broker's holds the admin's and the controller's passwords: 0600 from its creation on.
      writeFileSync(
        files.server,
        renderProperties(
          properties,
          'Generated by streams/broker on every start; edits are overwritten (use StartOptions.overrides).',
        ),
        { mode: 0o600 },
      );
      chmodSync(files.server, 0o600);
      writeFileSync(files.log4j, brokerLog4j(files.log));
      if (!existsSync(join(dataDir(stateDir), 'meta.properties')))
        await formatStorage(java, libs, stateDir, credentials);
      say(
        `starting Kafka ${version} on 127.0.0.1:${ports.brokerPort} (controller ${ports.controllerPort}), state ${stateDir}`,
      );
      try {
        return await launch({
          java,
          libs,
          stateDir,
          version,
          heap,
          ...ports,
          timeoutMs,
          ...(credentials ? { credentials } : {}),
        });
      } catch (err) {
        if (!(err instanceof PortTakenError) || attempt >= 3) throw err;
        say(`${err.message} before the broker bound it; retrying on fresh ports`);
        preferred = undefined;
      }
    }
  });
}

// ---------------------------------------------------------------- stop, status

/** Stops the broker of a state dir: SIGTERM, then SIGKILL after graceMs (default 30 s); waits for exit. */
export async function stopKafka(
  stateDir?: string,
  opts: { graceMs?: number } = {},
): Promise<{ stopped: boolean; pid?: number; forced: boolean }> {
  const dir = stateDir ? resolve(stateDir) : defaultStateDir();
  if (!existsSync(dir)) {
    say(`no Kafka state in ${dir}; nothing to stop`);
    return { stopped: false, forced: false };
  }
  return withLock(dir, 240_000, async () => {
    const pid = readPid(dir);
    clearRunFiles(dir);
    if (!pid || !isOurBroker(pid, dir)) {
      say(`Kafka is not running in ${dir}`);
      return { stopped: false, forced: false };
    }
    const started = Date.now();
    say(`stopping Kafka pid ${pid}`);
    const forced = await terminate(pid, opts.graceMs ?? 30_000);
    say(`stopped Kafka pid ${pid} in ${((Date.now() - started) / 1000).toFixed(1)} s${forced ? ' (killed)' : ''}`);
    return { stopped: true, pid, forced };
  });
}

export async function kafkaStatus(stateDir?: string): Promise<KafkaStatus> {
  const dir = stateDir ? resolve(stateDir) : defaultStateDir();
  const logFile = stateFiles(dir).log;
  const pid = readPid(dir);
  if (!pid || !isOurBroker(pid, dir)) return { state: 'stopped', stateDir: dir, logFile };
  const info = readInfo(dir);
  const bootstrap = info?.pid === pid ? info.bootstrap : undefined;
  const credentials = readCredentials(dir);
  const state = bootstrap && (await answers(bootstrap, adminSasl(credentials))) ? 'running' : 'unresponsive';
  return {
    state,
    stateDir: dir,
    pid,
    bootstrap,
    version: info?.version,
    logFile,
    ...(credentials ? { credentialsFile: credentialsPath(dir) } : {}),
  };
}
