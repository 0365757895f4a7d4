// What the benchmark drivers (bench-api.ts, bench-watchlist.ts) share: child processes that never
// outlive the driver, free ports, readiness probes, Redis INFO over a raw socket, per-process CPU
// accounting from /proc, the engine's clean environment, number formatting and k6 plumbing.
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { ensureK6, ensureRedis } from '../../scripts/provision.ts';
import { configSchema } from '../../services/config.ts';
import { freePort } from '../../test/support/ports.ts';
import { PostgresServer } from '../../test/support/postgres-server.ts';
import { redisPing } from '../../test/support/redis-server.ts';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LOAD_TESTS = dirname(dirname(fileURLToPath(import.meta.url)));
export const ROOT = dirname(LOAD_TESTS);
export const RESULTS_DIR = join(LOAD_TESTS, 'results');

const execFileAsync = promisify(execFile);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** The middle value (the upper of the two middle ones for an even count). */
export const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A phase that could not run: the driver reports it and exits non-zero. */
export class PhaseError extends Error {}

// ---------------------------------------------------------------------------------------------
// Child processes: every one is tracked and stopped on exit, Ctrl-C and errors.

export interface Child {
  name: string;
  proc: ChildProcess;
  tail: string[];
  exited: Promise<void>;
  done: boolean;
}

const children = new Set<Child>();
const tempDirs: string[] = [];
const cleanups: { run: () => Promise<void>; kill: () => void }[] = [];
let stopping = false;

/** True once a signal asked the driver to stop. */
export const isShuttingDown = () => stopping;

/** A directory removed by cleanup(). */
export function registerTempDir(dir: string): void {
  tempDirs.push(dir);
}

/** Something else to stop in cleanup() (`run`), and to kill at once on an unplanned exit (`kill`). */
export function registerCleanup(run: () => Promise<void>, kill: () => void): void {
  cleanups.push({ run, kill });
}

export function startChild(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  onLine?: (line: string) => void,
  cwd = ROOT,
): Child {
  const proc = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const child: Child = { name, proc, tail: [], exited: Promise.resolve(), done: false };
  child.exited = new Promise<void>((resolve) => {
    proc.once('exit', () => {
      child.done = true;
      children.delete(child);
      resolve();
    });
    proc.once('error', (error) => {
      child.tail.push(`(could not start ${command}: ${error.message})`);
      child.done = true;
      children.delete(child);
      resolve();
    });
  });
  let pending = '';
  const take = (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line) continue;
      child.tail.push(line);
      if (child.tail.length > 40) child.tail.shift();
      onLine?.(line);
    }
  };
  proc.stdout?.on('data', take);
  proc.stderr?.on('data', take);
  children.add(child);
  return child;
}

export async function stopChild(child: Child, graceMs = 5000): Promise<void> {
  if (child.done) return;
  child.proc.kill('SIGTERM');
  await Promise.race([child.exited, sleep(graceMs)]);
  if (!child.done) {
    child.proc.kill('SIGKILL');
    await Promise.race([child.exited, sleep(2000)]);
  }
}

/** Stops every child still running (the engine gets longer to finish) and removes temporary directories. */
export async function cleanup(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c, c.name === 'engine' ? 10_000 : 5000)));
  for (const c of cleanups.splice(0)) await c.run().catch(() => c.kill());
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.length = 0;
}

/** On SIGINT, SIGTERM and SIGHUP: stop everything and exit 130. On any exit: kill what is left. */
export function installSignalHandlers(log: (message: string) => void, what: string): void {
  process.on('exit', () => {
    // Last resort (an exit we did not plan): nothing of ours may outlive us.
    for (const c of children) if (!c.done) c.proc.kill('SIGKILL');
    for (const c of cleanups) c.kill();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: stopping ${what}`);
      void cleanup().finally(() => process.exit(130));
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers: ports, readiness, Redis INFO (a free port and a PING: the tests' own helpers)

export { freePort, redisPing };

export async function waitUntil(
  what: string,
  child: Child,
  probe: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.done)
      throw new PhaseError(`${child.name} exited before ${what}:\n  ${child.tail.slice(-15).join('\n  ')}`);
    if (await probe().catch(() => false)) return;
    await sleep(100);
  }
  throw new PhaseError(`${what}: timed out after ${timeoutMs / 1000} s\n  ${child.tail.slice(-15).join('\n  ')}`);
}

/** One INFO section from Redis, over a raw socket (RESP bulk string reply). */
export async function redisInfo(port: number, section: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => socket.write(`INFO ${section}\r\n`));
    let buf = Buffer.alloc(0);
    socket.setTimeout(2000);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const nl = buf.indexOf('\r\n');
      if (nl < 0) return;
      const len = Number(buf.subarray(1, nl).toString());
      if (buf.length >= nl + 2 + len) {
        socket.destroy();
        resolve(buf.subarray(nl + 2, nl + 2 + len).toString());
      }
    });
    socket.on('error', reject);
    socket.on('timeout', () => {
      socket.destroy();
      reject(new Error('INFO timed out'));
    });
  });
}

export interface CommandStat {
  command: string;
  calls: number;
  usec: number;
  usecPerCall: number;
}
/** Commands that run Lua: scripts and functions (the scoring runs as a function, FCALL). */
export const LUA_COMMANDS: readonly string[] = ['evalsha', 'eval', 'fcall'];
/** Every Lua-running command of the stats as one line (its time includes the commands the Lua called). */
export function luaCalls(stats: readonly CommandStat[]): CommandStat | undefined {
  const lua = stats.filter((c) => LUA_COMMANDS.includes(c.command));
  if (lua.length === 0) return undefined;
  const calls = lua.reduce((n, c) => n + c.calls, 0),
    usec = lua.reduce((n, c) => n + c.usec, 0);
  return { command: lua.map((c) => c.command).join('+'), calls, usec, usecPerCall: usec / calls };
}
/** INFO used_memory of one Redis (bytes). */
export async function redisUsedMemory(port: number): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await redisInfo(port, 'memory'))![1]);
}

export function parseCommandStats(info: string): CommandStat[] {
  const stats: CommandStat[] = [];
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/gm)) {
    stats.push({ command: m[1]!, calls: Number(m[2]), usec: Number(m[3]), usecPerCall: Number(m[4]) });
  }
  return stats.sort((a, b) => b.usec - a.usec);
}

/**
 * What Redis ran per transaction between two snapshots of its command counts (calls and µs by
 * command, summed over its nodes): the `top` commands by time, as `name calls× µs`.
 */
export function commandsPerTransaction(
  before: ReadonlyMap<string, { calls: number; usec: number }>,
  after: ReadonlyMap<string, { calls: number; usec: number }>,
  transactions: number,
  top = 10,
): string[] {
  return [...after]
    .map(([name, c]) => {
      const b = before.get(name) ?? { calls: 0, usec: 0 };
      return { name, calls: (c.calls - b.calls) / transactions, usec: (c.usec - b.usec) / transactions };
    })
    .filter((c) => c.calls > 0)
    .sort((a, b) => b.usec - a.usec)
    .slice(0, top)
    .map((c) => `${c.name} ${c.calls.toFixed(1)}× ${c.usec.toFixed(1)} µs`);
}

/** Calls and µs by command, from INFO commandstats. */
export function commandTotals(info: string): Map<string, { calls: number; usec: number }> {
  return new Map(parseCommandStats(info).map((s) => [s.command, { calls: s.calls, usec: s.usec }]));
}

// ---------------------------------------------------------------------------------------------
// CPU accounting

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds used by a process: [own, reaped children]. Zeroes when /proc is not there. */
export function processCpu(pid: number | undefined): [number, number] {
  if (!pid) return [0, 0];
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [(Number(f[11]) + Number(f[12])) / CLK_TCK, (Number(f[13]) + Number(f[14])) / CLK_TCK];
  } catch {
    return [0, 0];
  }
}

/** Busy CPU seconds of the whole machine (every core, every user). */
export function machineBusy(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - (f[3] ?? 0) - (f[4] ?? 0)) / CLK_TCK;
  } catch {
    return 0;
  }
}

export interface CpuSnapshot {
  at: number;
  server: number;
  redis: number;
  /** CPU of the driver's reaped children: k6 runs (a running k6 is counted once it has exited). */
  k6: number;
  self: number;
  machine: number;
}

export function cpuSnapshot(server: Child, redis: Child): CpuSnapshot {
  const [self, reaped] = processCpu(process.pid);
  return {
    at: performance.now(),
    server: processCpu(server.proc.pid)[0],
    redis: processCpu(redis.proc.pid)[0],
    k6: reaped,
    self,
    machine: machineBusy(),
  };
}

/** Average cores used between two snapshots; "other" is everything else on the machine. */
export function coresUsed(a: CpuSnapshot, b: CpuSnapshot) {
  const s = (b.at - a.at) / 1000;
  const server = (b.server - a.server) / s;
  const redis = (b.redis - a.redis) / s;
  const k6 = (b.k6 - a.k6) / s;
  const self = (b.self - a.self) / s;
  const machine = (b.machine - a.machine) / s;
  const r = (n: number) => Math.round(n * 100) / 100;
  return {
    server: r(server),
    redis: r(redis),
    k6: r(k6),
    harness: r(self),
    machine: r(machine),
    other: r(Math.max(0, machine - server - redis - k6 - self)),
  };
}
export type CoresUsed = ReturnType<typeof coresUsed>;

/** Busy cores of the whole machine over `ms`, while the driver itself waits. */
export async function machineCoresOver(ms: number): Promise<number> {
  const start = machineBusy();
  await sleep(ms);
  return Math.round(((machineBusy() - start) / (ms / 1000)) * 100) / 100;
}

// ---------------------------------------------------------------------------------------------
// The engine's environment: nothing of the caller's Leakguard configuration leaks in.

export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('LEAKGUARD_') || ['REDIS_URL', 'PORT', 'HOST', 'LOG_LEVEL', 'NODE_ENV'].includes(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

// ---------------------------------------------------------------------------------------------
// The stack under test: tools, a private Redis, keys made with the keys CLI, the engine.

export interface Tools {
  redisBin: string;
  k6Bin: string;
  k6Version: string;
  redisVersion: string;
}

export function provisionTools(): Tools {
  const redisBin = ensureRedis();
  const k6Bin = ensureK6();
  const k6Version = execFileSync(k6Bin, ['version'], { encoding: 'utf8' }).trim().split('\n')[0]!;
  const redisVersion = /v=(\S+)/.exec(execFileSync(redisBin, ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
  return { redisBin, k6Bin, k6Version, redisVersion };
}

/** A work directory removed at exit, with `redis/` and `state/` (the engine's) inside. */
export function benchWorkDir(prefix: string): { workDir: string; redisDir: string; stateDir: string } {
  const workDir = mkdtempSync(join(tmpdir(), prefix));
  registerTempDir(workDir);
  const redisDir = join(workDir, 'redis');
  const stateDir = join(workDir, 'state');
  mkdirSync(redisDir);
  mkdirSync(stateDir);
  return { workDir, redisDir, stateDir };
}

/** A private redis-server: no persistence, answered PING before this returns. */
export async function startPrivateRedis(
  redisBin: string,
  dir: string,
): Promise<{ child: Child; port: number; url: string }> {
  const port = await freePort();
  const child = startChild(
    'redis-server',
    redisBin,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--loglevel',
      'warning',
    ],
    process.env,
  );
  await waitUntil('redis-server answered PING', child, () => redisPing(port), 10_000);
  return { child, port, url: `redis://127.0.0.1:${port}` };
}

/** A key made through the keys CLI, the way an operator makes one. */
export async function createKey(
  redisUrl: string,
  stateDir: string,
  role: string,
  extra: string[],
  label: string,
  root = ROOT,
): Promise<string> {
  const { stdout } = await execFileAsync(
    process.execPath,
    [...process.execArgv, 'services/cli/keys.ts', 'create', '--role', role, ...extra, '--label', label, '--json'],
    {
      cwd: root,
      encoding: 'utf8',
      env: cleanEnv({ REDIS_URL: redisUrl, LEAKGUARD_STATE_DIR: stateDir }),
    },
  );
  return (JSON.parse(stdout.trim().split('\n').pop()!) as { key: string }).key;
}

/** A private PostgreSQL server for the engine's cases, stopped at exit: its URL, for DATABASE_URL. */
export async function startCaseDatabase(log: (message: string) => void): Promise<string> {
  log('starting a private PostgreSQL server for the case store');
  const server = await PostgresServer.start();
  registerCleanup(
    () => server.stop(),
    () => void server.halt('crash'),
  );
  return server.url;
}

/** The engine as production runs it (NODE_ENV=production, random card, data and audit keys), answering /readyz 200. */
export async function startEngine(o: {
  redisUrl: string;
  stateDir: string;
  /** The checkout whose engine runs (another commit's worktree for a back-to-back comparison); this one by default. */
  root?: string | undefined;
  cpuProfileName?: string | undefined;
  env?: Record<string, string>;
  onLine?: (line: string) => void;
}): Promise<{ child: Child; url: string; metricsToken: string }> {
  const port = await freePort();
  // Production refuses /metrics without a scrape token: one per run.
  const metricsToken = randomBytes(32).toString('hex');
  const profile = o.cpuProfileName
    ? ['--cpu-prof', `--cpu-prof-dir=${RESULTS_DIR}`, `--cpu-prof-name=${o.cpuProfileName}`]
    : [];
  const child = startChild(
    'engine',
    process.execPath,
    [...process.execArgv, ...profile, 'services/main.ts'],
    cleanEnv({
      HOST: '127.0.0.1',
      PORT: String(port),
      REDIS_URL: o.redisUrl,
      LEAKGUARD_CARD_KEY: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'warn',
      LEAKGUARD_RATE_LIMIT_PER_MINUTE: '100000000',
      NODE_ENV: 'production',
      LEAKGUARD_STATE_DIR: o.stateDir,
      LEAKGUARD_METRICS_TOKEN: metricsToken,
      // Production also refuses to start without its personal-data and audit-checkpoint keys.
      LEAKGUARD_DATA_KEY: randomBytes(32).toString('hex'),
      LEAKGUARD_AUDIT_KEY: randomBytes(32).toString('hex'),
      ...o.env,
    }),
    o.onLine,
    o.root,
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntil('the engine answered /readyz 200', child, async () => (await fetch(`${url}/readyz`)).status === 200);
  return { child, url, metricsToken };
}

// ---------------------------------------------------------------------------------------------
// Output

export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
/** Decisions other than approve (challenged, reviewed, declined) per 1,000 decided: the mix's flagged share. */
export function flaggedPerThousand(decisions: Record<string, number>): number {
  const total = Object.values(decisions).reduce((a, b) => a + b, 0);
  return total ? (1000 * (total - (decisions.approve ?? 0))) / total : 0;
}
export const fmtMs = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
export const fmtPct = (n: number) => `${(n * 100).toFixed(2)}%`;
export const fmtRatio = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');

/** Results file names: ISO time without milliseconds, colons replaced (valid on every file system). */
export const fileStamp = (d: Date) =>
  d
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');

// ---------------------------------------------------------------------------------------------
// k6

/**
 * Collects k6's warning and error lines for a phase: echoes the first few to stderr, shows one
 * transport failure (timeouts, refused connections come one line each) and counts the rest.
 */
export function k6WarningCollector(fmt: (n: number) => string = fmtInt) {
  const warnings: string[] = [];
  let failedRequests = 0;
  let suppressed = 0;
  return {
    warnings,
    onLine(line: string) {
      if (!/level=(warning|error)/.test(line) && !/^(ERRO|WARN)/.test(line)) return;
      if (line.includes('Request Failed') && ++failedRequests > 1) return;
      if (warnings.length < 8) {
        warnings.push(line);
        process.stderr.write(`  k6: ${line}\n`);
      } else suppressed++;
    },
    /** Adds the counts of what was not shown; call once the phase is over. */
    finish() {
      if (failedRequests > 1) {
        warnings.push(`(${fmt(failedRequests)} requests failed without an HTTP status: timeouts or connection errors)`);
        process.stderr.write(`  k6: ${warnings.at(-1)}\n`);
      }
      if (suppressed > 0) warnings.push(`(${suppressed} more k6 warning lines)`);
      return warnings;
    },
  };
}

export interface K6Metric {
  values: Record<string, number>;
  /** Each threshold expression of the metric and whether it held. */
  thresholds?: Record<string, { ok: boolean }>;
}
export interface K6Summary {
  metrics: Record<string, K6Metric | undefined>;
  state: { testRunDurationMs: number };
}

export function readK6Summary(file: string): K6Summary {
  return JSON.parse(readFileSync(file, 'utf8')) as K6Summary;
}

/** Pauses, resumes or stops a k6 run through its REST API (`k6 run --address host:port`). */
export async function k6Control(address: string, attributes: { paused?: boolean; stopped?: boolean }): Promise<void> {
  const res = await fetch(`http://${address}/v1/status`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ data: { type: 'status', id: 'default', attributes } }),
  });
  if (!res.ok) throw new Error(`k6 REST API answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  await res.arrayBuffer();
}

/** Exit code of `k6 run` when the test was stopped through the REST API (it still writes its summary). */
export const K6_STOPPED_BY_API = 103;

/**
 * Exit code of `k6 run` when a threshold of the script was crossed (error rate, p99 against the
 * deadline, degraded share, dropped iterations: README.md, "Monitoring"). The run went to its end
 * and wrote its summary: for a benchmark that is a result to report, not a failed phase.
 */
export const K6_THRESHOLDS_CROSSED = 99;

/** The scoring deadline the engine runs with when LEAKGUARD_DEADLINE_MS is unset (the benches' engines): k6's p99 threshold. */
export const ENGINE_DEADLINE_MS: number = configSchema.shape.LEAKGUARD_DEADLINE_MS.parse(undefined);

/** The thresholds a k6 summary marks as crossed, as `metric: expression`. */
export function crossedThresholds(summary: K6Summary): string[] {
  const crossed: string[] = [];
  for (const [metric, m] of Object.entries(summary.metrics))
    for (const [expression, t] of Object.entries(m?.thresholds ?? {}))
      if (!t.ok) crossed.push(`${metric}: ${expression}`);
  return crossed.sort();
}

// ---------------------------------------------------------------------------------------------
// --against REF: another commit's code, back to back with this checkout's

/** `use` run with `ref` checked out in a git worktree that shares this node_modules; the worktree removed after. */
export function withWorktree<T>(ref: string, log: (message: string) => void, use: (worktree: string) => T): T {
  const worktree = mkdtempSync(join(tmpdir(), 'lg-bench-against-'));
  log(`checking out ${ref} in ${worktree}`);
  execFileSync('git', ['worktree', 'add', '--detach', worktree, ref], { cwd: ROOT, stdio: 'ignore' });
  try {
    if (!existsSync(join(worktree, 'node_modules')))
      symlinkSync(join(ROOT, 'node_modules'), join(worktree, 'node_modules'));
    return use(worktree);
  } finally {
    execFileSync('git', ['worktree', 'remove', '--force', worktree], { cwd: ROOT, stdio: 'ignore' });
  }
}

/**
 * The benchmark at `scriptUrl` run again, with its arguments but `--against`, on the
 * engine of `ref` (`--engine-root`, a worktree) and this driver, so that only the engine differs;
 * the report it writes to `--results-file`.
 */
export function rerunAgainst<R>(
  ref: string,
  scriptUrl: string,
  log: (message: string) => void,
): { ref: string; report: R } {
  return withWorktree(ref, log, (worktree) => {
    const resultsFile = join(worktree, 'against.json');
    log(`running with the engine of ${ref} first`);
    const forwarded = process.argv
      .slice(2)
      .filter((a, i, all) => a !== '--against' && all[i - 1] !== '--against' && !a.startsWith('--against='));
    execFileSync(
      process.execPath,
      [
        ...process.execArgv,
        fileURLToPath(scriptUrl),
        ...forwarded,
        '--engine-root',
        worktree,
        '--results-file',
        resultsFile,
      ],
      { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    return { ref, report: JSON.parse(readFileSync(resultsFile, 'utf8')) as R };
  });
}

/**
 * Each key family's share of MEMORY USAGE over every key of the nodes (docs/redis-cluster.md names
 * them), and its keys' mean size: what sizes the markers and responses per transaction
 * (docs/capacity.md, "Redis memory").
 */
export async function memoryByFamily(ports: number[]): Promise<string[]> {
  const { Redis } = await import('ioredis');
  const bytes = new Map<string, number>();
  const counts = new Map<string, number>();
  let total = 0;
  for (const port of ports) {
    const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
    await redis.connect();
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'COUNT', 2000);
        cursor = next;
        const pipeline = redis.pipeline();
        for (const key of keys) pipeline.memory('USAGE', key);
        const sizes = (await pipeline.exec()) ?? [];
        keys.forEach((key, i) => {
          const family = /^lg:\{(\w+):.*\}:?([a-z]*)/.exec(key);
          const name = family ? `${family[1]}:${family[2]}` : key.replace(/\{.*$/, '{…}');
          const size = Number(sizes[i]?.[1] ?? 0);
          bytes.set(name, (bytes.get(name) ?? 0) + size);
          counts.set(name, (counts.get(name) ?? 0) + 1);
          total += size;
        });
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  }
  return [...bytes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(
      ([name, b]) =>
        `${name} ${((100 * b) / Math.max(1, total)).toFixed(0)}% (${Math.round(b / counts.get(name)!).toLocaleString('en-US')} B)`,
    );
}
