// A real redis-server per test file, on a free loopback port, stopped and started at will.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';

/** One PING over a raw socket: true on +PONG, false on anything else within 500 ms. */
export function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => socket.write('PING\r\n'));
    socket.setTimeout(500);
    socket.on('data', (d) => {
      socket.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export class RedisServer {
  private process: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'lg-redis-'));
  readonly port: number;
  /** Durable: an append-only file fsynced on every write, so a killed server comes back with its data, as a production Redis does. */
  private readonly durable: boolean;

  /** A command the server runs under (a profiler: bench:cost --instructions runs it under callgrind). */
  private readonly wrapper: readonly string[];

  private constructor(port: number, durable: boolean, wrapper: readonly string[]) {
    this.port = port;
    this.durable = durable;
    this.wrapper = wrapper;
  }

  static async start(options: { durable?: boolean; wrapper?: readonly string[] } = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), options.durable ?? false, options.wrapper ?? []);
    await server.resume();
    return server;
  }

  /** The server's process id (the wrapper's when it runs under one). */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port. */
  async resume(): Promise<void> {
    const binary = process.env.LEAKGUARD_TEST_REDIS_SERVER ?? 'redis-server';
    const persistence = this.durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    const [command, ...prefix] = [...this.wrapper, binary];
    this.process = spawn(
      command!,
      [
        ...prefix,
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        ...persistence,
        '--dir',
        this.dir,
        '--loglevel',
        'warning',
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + (this.wrapper.length ? 60_000 : 10_000);
    while (Date.now() < deadline) {
      if (await redisPing(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not answer on port ${this.port}`);
  }

  /** Kills the server abruptly, as a crash would. */
  async kill(): Promise<void> {
    const p = this.process;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A TCP proxy that holds every reply from upstream for `delayMs`: a slow Redis. */
export async function startDelayProxy(
  targetPort: number,
  delayMs: number,
): Promise<{ port: number; setDelay(ms: number): void; close(): Promise<void> }> {
  let delay = delayMs;
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ port: targetPort, host: '127.0.0.1' });
    sockets.add(client).add(upstream);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => setTimeout(() => client.writable && client.write(d), delay));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    setDelay: (ms) => (delay = ms),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
