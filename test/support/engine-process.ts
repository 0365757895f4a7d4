// Real Leakguard processes for multi-process tests: an engine (`services/main.ts`) spawned with
// its own port and environment, its output collected line by line; a small HTTP client that can
// speak from any loopback address (127.0.0.0/8), so that per-address limits (API rate limit of
// unauthenticated calls, console sign-in throttling, lockout) can be exercised without one test's
// calls counting against another's; a console "browser" (cookie jar, CSRF token) that can post to
// any engine; and a reader of Prometheus text.
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** A node script of the repository as a child process, its stdout and stderr kept as lines. */
export class NodeProcess {
  readonly process: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly name: string;

  constructor(name: string, script: string, env: Record<string, string>) {
    this.name = name;
    this.process = spawn(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', '--disable-warning=TimeoutNegativeWarning', script],
      {
        cwd: REPO,
        // Only what is given: nothing of the test runner's own environment (REDIS_URL, DATABASE_URL...) leaks in.
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          TMPDIR: process.env.TMPDIR ?? '/tmp',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let buffered = '';
    const take = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      this.lines.push(...parts);
    };
    this.process.stdout!.on('data', take);
    this.process.stderr!.on('data', take);
    this.exited = new Promise((resolve) => this.process.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** The JSON log lines (pino) whose message is `msg`. */
  logs(msg: string): Record<string, unknown>[] {
    const found: Record<string, unknown>[] = [];
    for (const line of this.lines) {
      if (!line.startsWith('{')) continue;
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (parsed.msg === msg) found.push(parsed);
      } catch {
        /* not a log line */
      }
    }
    return found;
  }

  async waitForLine(text: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.lines.some((l) => l.includes(text))) {
      if (!this.running)
        throw new Error(`${this.name} exited before printing "${text}":\n${this.lines.slice(-30).join('\n')}`);
      if (Date.now() > deadline)
        throw new Error(
          `${this.name} did not print "${text}" within ${timeoutMs} ms:\n${this.lines.slice(-30).join('\n')}`,
        );
      await sleep(50);
    }
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.running) throw new Error(`${this.name} is not running:\n${this.lines.slice(-20).join('\n')}`);
    this.process.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.running && this.process.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** `npm start` as a child process on a free port of its own. */
export class EngineProcess extends NodeProcess {
  readonly port: number;
  readonly base: string;

  private constructor(name: string, port: number, env: Record<string, string>) {
    super(name, 'services/main.ts', { ...env, HOST: '127.0.0.1', PORT: String(port) });
    this.port = port;
    this.base = `http://127.0.0.1:${port}`;
  }

  /** Spawns the engine; `ready()` waits for it to listen (and, with a database, for its console). */
  static async spawn(name: string, env: Record<string, string>): Promise<EngineProcess> {
    return new EngineProcess(name, await freePort(), env);
  }

  async ready(options: { console?: boolean; timeoutMs?: number } = {}): Promise<this> {
    await this.waitForLine('Listening on', options.timeoutMs);
    if (options.console) await this.waitForLine('Analyst console:', options.timeoutMs);
    return this;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP from a chosen loopback address.

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json<T = any>(): T;
}

export interface HttpRequest {
  method?: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON. */
  body?: string | Buffer | object;
  /** The client's source address (any 127.x.y.z reaches a server on 127.0.0.1 on Linux). */
  from?: string;
  timeoutMs?: number;
}

export function http(base: string, path: string, options: HttpRequest = {}): Promise<HttpReply> {
  const url = new URL(path, base);
  const isJson = options.body !== undefined && typeof options.body === 'object' && !Buffer.isBuffer(options.body);
  const payload =
    options.body === undefined ? undefined : isJson ? JSON.stringify(options.body) : (options.body as string | Buffer);
  const headers: Record<string, string> = {
    ...(isJson ? { 'content-type': 'application/json' } : {}),
    ...(options.headers ?? {}),
  };
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: options.method ?? (payload === undefined ? 'GET' : 'POST'),
        headers,
        agent: false,
        ...(options.from ? { localAddress: options.from } : {}),
        timeout: options.timeoutMs ?? 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${options.method ?? 'GET'} ${url} timed out`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** Fresh loopback addresses, one per caller that must not share a per-address limit with another. */
export class Loopback {
  private next: number;
  private readonly prefix: string;

  constructor(prefix = '127.77', start = 1) {
    this.prefix = prefix;
    this.next = start;
  }

  address(): string {
    const n = this.next++;
    return `${this.prefix}.${Math.floor(n / 250)}.${1 + (n % 250)}`;
  }
}

// ---------------------------------------------------------------------------------------------
// The console, as a browser would use it: one cookie jar and one address, any engine.

export class ConsoleBrowser {
  readonly jar = new Map<string, string>();
  csrf = '';
  readonly from: string;

  constructor(from: string) {
    this.from = from;
  }

  private take(reply: HttpReply): HttpReply {
    const set = reply.headers['set-cookie'];
    for (const c of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /Max-Age=0/i.test(c)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const token = /name="_csrf" value="([A-Za-z0-9_-]+)"/.exec(reply.body)?.[1];
    if (token) this.csrf = token;
    return reply;
  }

  private cookie(): Record<string, string> {
    return this.jar.size ? { cookie: [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ') } : {};
  }

  async get(base: string, path: string): Promise<HttpReply> {
    return this.take(await http(base, path, { from: this.from, headers: this.cookie() }));
  }

  async post(base: string, path: string, fields: Record<string, string>): Promise<HttpReply> {
    const form = new URLSearchParams(Object.entries({ _csrf: this.csrf, ...fields }));
    return this.take(
      await http(base, path, {
        method: 'POST',
        from: this.from,
        body: form.toString(),
        headers: { ...this.cookie(), 'content-type': 'application/x-www-form-urlencoded' },
      }),
    );
  }
}

// ---------------------------------------------------------------------------------------------

/** The sum of a metric's samples in Prometheus text whose labels include `labels` (0 when absent). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}
