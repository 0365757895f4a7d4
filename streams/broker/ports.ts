// Loopback ports for local servers (the development broker here; the test suite's Redis, cluster
// nodes, PostgreSQL and engines through test/support/ports.ts), taken below the kernel's ephemeral
// range rather than from `listen(0)`: the kernel hands out listening ports from the same range as
// the local ports of outgoing connections, so between a probe and the server's own bind — or while a
// broker restarts on its previous port — any client connection could take the port (a clean-clone
// test run failed so: "listen EADDRINUSE 127.0.0.1:34311"). Below the range only listeners compete.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const HOST = '127.0.0.1';
/** Ports below this are left to well-known and registered services. */
export const LOCAL_PORT_FLOOR = 10_000;

/** The first port of the kernel's ephemeral range (Linux: 32768 unless configured; elsewhere 49152). */
export function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > LOCAL_PORT_FLOOR + 1_000 ? low : 32_768;
  } catch {
    return 49_152;
  }
}

/** Whether a listener can bind `port` on the loopback address now. */
export function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/**
 * A port of [from, to) nothing listens on and not in `exclude`, searched from `start` (a random
 * point by default) and wrapping around; undefined when the range has none.
 */
export async function freePortIn(
  from: number,
  to: number,
  options: { start?: number; exclude?: ReadonlySet<number> } = {},
): Promise<number | undefined> {
  const size = to - from;
  const start = options.start ?? Math.floor(Math.random() * size);
  for (let i = 0; i < size; i++) {
    const port = from + ((start + i) % size);
    if (options.exclude?.has(port)) continue;
    if (await canListen(port)) return port;
  }
  return undefined;
}
