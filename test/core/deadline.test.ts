import { once } from 'node:events';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDeadline } from '../../services/core/deadline.ts';

// An echo server on its own thread: it answers while this thread is busy, as Redis does. It
// raises a shared flag once its answer is written (on loopback, then in this side's socket).
const ECHO = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const flag = new Int32Array(workerData);
const server = net.createServer((s) => s.on('data', (d) => { s.write(d); Atomics.store(flag, 0, 1); }));
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

class Late extends Error {}
const late = () => new Late('late');

describe('withDeadline', () => {
  const answered = new Int32Array(new SharedArrayBuffer(4));
  let worker: Worker;
  let socket: Socket;
  beforeAll(async () => {
    worker = new Worker(ECHO, { eval: true, workerData: answered.buffer });
    const [port] = (await once(worker, 'message')) as [number];
    socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    expect((socket.address() as AddressInfo).port).toBeGreaterThan(0);
  });
  afterAll(async () => {
    socket.destroy();
    await worker.terminate();
  });

  it('takes a reply that came in while the event loop was busy past the deadline', async () => {
    Atomics.store(answered, 0, 0);
    const reply = once(socket, 'data').then(([d]) => String(d));
    const guarded = withDeadline(reply, 5, late);
    socket.write('pong');
    // Busy past the deadline, until the answer is in this side's socket: the deadline's timer and
    // the reply are then due in the same turn, the timer first.
    const started = performance.now();
    while (Atomics.load(answered, 0) === 0 || performance.now() - started < 20) {
      if (performance.now() - started > 10_000) throw new Error('the echo server did not answer');
    }
    await expect(guarded).resolves.toBe('pong');
  });

  it('rejects with the late error when nothing came by the end of the deadline turn', async () => {
    const started = performance.now();
    await expect(withDeadline(new Promise<never>(() => {}), 20, late)).rejects.toBeInstanceOf(Late);
    expect(performance.now() - started).toBeGreaterThanOrEqual(19);
  });

  it('rejects a reply that comes in a later turn', async () => {
    const slow = new Promise<string>((resolve) => setTimeout(() => setImmediate(() => resolve('slow')), 40));
    await expect(withDeadline(slow, 5, late)).rejects.toBeInstanceOf(Late);
  });

  it('rejects at once when no time is left, and passes on the promise’s own failure', async () => {
    let settled = false;
    const never = new Promise<never>(() => {});
    const guarded = withDeadline(never, 0, late).finally(() => (settled = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(settled).toBe(true);
    await expect(guarded).rejects.toBeInstanceOf(Late);
    await expect(withDeadline(Promise.reject(new Error('refused')), 50, late)).rejects.toThrow('refused');
    await expect(withDeadline(Promise.resolve(7), 50, late)).resolves.toBe(7);
  });
});
