// Free loopback ports for the servers that tests and benchmarks start (Redis, cluster nodes,
// PostgreSQL, engines, receivers).
//
// Taken below the kernel's ephemeral range, not from `listen(0)`: the kernel hands out listening
// ports from the same range as the local ports of outgoing connections, so between the probe and
// the server's own `listen`, any client connection of any test process could take the port (a
// clean-clone run failed so: "listen EADDRINUSE 127.0.0.1:34311" for an engine). Below the range
// only listeners compete; each vitest worker searches its own slice of it, from a random point, and
// a process never hands out the same port twice, so two probes rarely meet.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const HOST = '127.0.0.1';
const FLOOR = 10_000;
const SLICES = 8;

/** The first port of the kernel's ephemeral range (32768 on Linux unless configured). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > FLOOR + 1_000) return low;
  } catch {
    /* not Linux: the IANA dynamic range starts at 49152 */
    return 49_152;
  }
  return 32_768;
}

const sliceSize = Math.floor((ephemeralLow() - FLOOR) / SLICES);
const slice = Number(process.env.VITEST_POOL_ID ?? process.pid) % SLICES;
const sliceStart = FLOOR + slice * sliceSize;
let next = Math.floor(Math.random() * sliceSize);
const handedOut = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/** A loopback port nothing listens on, not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let tried = 0; tried < sliceSize; tried++) {
    const port = sliceStart + (next++ % sliceSize);
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port in ${sliceStart}..${sliceStart + sliceSize - 1}`);
}

/** `count` distinct free loopback ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  return ports;
}
