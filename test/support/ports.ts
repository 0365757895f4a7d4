// Free loopback ports for the servers that tests and benchmarks start (Redis, cluster nodes,
// PostgreSQL, engines, receivers): below the kernel's ephemeral range (streams/broker/ports.ts says
// why). Each vitest worker searches its own slice of that range, from a random point, and a
// process never hands out the same port twice, so two workers' probes rarely meet.
import { ephemeralLow, freePortIn, LOCAL_PORT_FLOOR } from '../../streams/broker/ports.ts';

const SLICES = 8;
const sliceSize = Math.floor((ephemeralLow() - LOCAL_PORT_FLOOR) / SLICES);
const slice = Number(process.env.VITEST_POOL_ID ?? process.pid) % SLICES;
const sliceStart = LOCAL_PORT_FLOOR + slice * sliceSize;
let next = Math.floor(Math.random() * sliceSize);
const handedOut = new Set<number>();

/** A loopback port nothing listens on, not handed out before by this process. */
export async function freePort(): Promise<number> {
  const port = await freePortIn(sliceStart, sliceStart + sliceSize, { start: next, exclude: handedOut });
  if (port === undefined) throw new Error(`no free port in ${sliceStart}..${sliceStart + sliceSize - 1}`);
  next = port - sliceStart + 1;
  handedOut.add(port);
  return port;
}

/** `count` distinct free loopback ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  return ports;
}
