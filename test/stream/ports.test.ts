// Loopback ports for local servers (streams/broker/ports.ts): below the kernel's ephemeral range,
// never one a listener holds or the caller excluded, found wherever the search starts.
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { canListen, ephemeralLow, freePortIn, LOCAL_PORT_FLOOR } from '../../streams/broker/ports.ts';
import { freePort, freePorts } from '../support/ports.ts';

const held: Server[] = [];
const hold = (port: number) =>
  new Promise<void>((resolve, reject) => {
    const server = createServer();
    held.push(server);
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
afterEach(async () => {
  await Promise.all(held.splice(0).map((s) => new Promise((done) => s.close(done))));
});

describe('loopback ports below the ephemeral range', () => {
  it('reads the kernel range and stays below it', async () => {
    const low = ephemeralLow();
    expect(low).toBeGreaterThan(LOCAL_PORT_FLOOR);
    const ports = await freePorts(5);
    expect(new Set(ports).size).toBe(5);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(LOCAL_PORT_FLOOR);
      expect(p).toBeLessThan(low);
    }
  });

  it('skips a port a listener holds and one the caller excludes, and wraps around to find one', async () => {
    const held1 = await freePort();
    await hold(held1);
    expect(await canListen(held1)).toBe(false);
    expect(await freePortIn(held1, held1 + 1)).toBeUndefined();

    const free = await freePort();
    expect(await freePortIn(free, free + 1)).toBe(free);
    expect(await freePortIn(free, free + 1, { exclude: new Set([free]) })).toBeUndefined();
    // [free, free + 2) searched from its second port, held (by this test, or by someone else if
    // it was taken already): the search wraps around to the first.
    await hold(free + 1).catch(() => undefined);
    expect(await freePortIn(free, free + 2, { start: 1 })).toBe(free);
  });

  it('never hands out the same port twice in one process, even once it is free again', async () => {
    const first = await freePort();
    expect(await canListen(first)).toBe(true);
    const next = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(next).not.toContain(first);
  });
});
