// Outages during a stream. Redis down, or full: the processor publishes no degraded decision,
// pauses, and resumes when Redis is back (or has room), with nothing lost and nothing counted twice
// (unless told to publish degraded decisions). The Kafka broker restarted under a running `npm run stream` process: it
// reconnects, does not die, loses nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import kafkajs from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { startKafka, stopKafka } from '../../streams/broker/local-kafka.ts';
import type { BatchHandler } from '../../streams/processor/batches.ts';
import {
  createHarness,
  fingerprint,
  merchantLogSize,
  generateTransactions,
  notableLines,
  sleep,
  waitFor,
  type GeneratedTx,
  type Harness,
} from './support.ts';
import { transactionsInCardLog } from '../support/card-log.ts';

const { KafkaJSError } = kafkajs;

const harnesses: Harness[] = [];
const brokerDirs: string[] = [];

afterAll(async () => {
  await Promise.allSettled(harnesses.map((h) => h.close()));
  for (const dir of brokerDirs) {
    await stopKafka(dir).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

async function expectCountedOnce(h: Harness, txs: GeneratedTx[]): Promise<void> {
  const probe = new Redis(h.redis.url);
  try {
    const perCard = new Map<string, number>();
    for (const t of txs) perCard.set(t.pan, (perCard.get(t.pan) ?? 0) + 1);
    for (const [pan, count] of perCard)
      expect(await transactionsInCardLog(probe, `lg:{c:${fingerprint(pan)}}:l`)).toBe(count);
    const perMerchant = new Map<string, number>();
    for (const t of txs) perMerchant.set(t.input.merchantId, (perMerchant.get(t.input.merchantId) ?? 0) + 1);
    for (const [merchant, count] of perMerchant) expect(await merchantLogSize(probe, merchant)).toBe(count);
  } finally {
    probe.disconnect();
  }
}

const ids = (txs: GeneratedTx[]) => new Set(txs.map((t) => t.input.transactionId));

/** Waits until every input has been read back decided (or dead-lettered): at most 90 s. */
const everyInputDecided = (reader: Awaited<ReturnType<Harness['reader']>>, txs: GeneratedTx[]) =>
  waitFor(
    'every input to have a decision',
    () =>
      reader.covered().size >= txs.length &&
      new Set(reader.decisions.map((d) => d.value.transactionId)).size >= txs.length,
    90_000,
  );

describe('Redis down during a stream', () => {
  it('pauses without publishing degraded decisions and resumes when Redis is back: nothing lost, nothing counted twice', async () => {
    const h = await createHarness('redis-down', { durableRedis: true });
    harnesses.push(h);
    const processor = await h.startInProcess();
    const reader = await h.reader();
    const txs = generateTransactions(1200, { prefix: 'rd' });
    const producing = h.produceInBackground(txs, 40, 25);

    await waitFor('the stream to flow', () => reader.decisions.length >= 250, 60_000, 5);
    await h.redis.kill();
    await waitFor('the processor to pause', () => processor.service.processor.health().paused, 20_000);
    // While Redis is down, decisions stop (what other partitions had in flight at the kill may
    // still land: a refused connection fails a scoring at once, then the prefix is published).
    await sleep(1_500);
    const during = reader.decisions.length;
    await sleep(2_500);
    expect(reader.decisions.length).toBe(during);
    expect(processor.service.processor.health()).toMatchObject({ ok: true, paused: true });

    await h.redis.resume();
    await producing.done;
    await everyInputDecided(reader, txs);
    expect(new Set(reader.decisions.map((d) => d.value.transactionId))).toEqual(ids(txs));
    expect(reader.deadLetters).toEqual([]);
    expect(reader.decisions.filter((d) => d.value.degraded)).toEqual([]);
    expect(reader.decisions.every((d) => d.value.checks.velocity === 'evaluated')).toBe(true);
    expect(processor.service.processor.health().paused).toBe(false);
    const metrics = await processor.service.metrics.registry.getMetricsAsJSON();
    const pauses = (metrics.find((m) => m.name === 'leakguard_stream_pauses_total')?.values ?? []).reduce(
      (s, v) => s + v.value,
      0,
    );
    expect(pauses).toBeGreaterThanOrEqual(1);
    expect(processor.logs.some((l) => l.includes('consumption resumed'))).toBe(true);
    await expectCountedOnce(h, txs);
  }, 180_000);

  it('stays paused when kafkajs restarts the consumer itself meanwhile: no batch fetched again and again', async () => {
    const h = await createHarness('redis-down-restart', { durableRedis: true, partitions: 2 });
    harnesses.push(h);
    const processor = await h.startInProcess();
    const stream = processor.service.processor;
    // Every batch kafkajs hands over is counted; one crash it deems retriable (it then restarts the
    // consumer itself, with a new group state) is caused once consumption has paused.
    const batches = (stream as unknown as { batches: BatchHandler }).batches;
    const handle = batches.handle.bind(batches);
    let calls = 0;
    let crash = false;
    batches.handle = async (payload) => {
      calls++;
      await handle(payload);
      if (crash && stream.health().paused) {
        crash = false;
        // What kafkajs's fetch loop gives up on at once, restarting the consumer (runner.js).
        throw Object.assign(new KafkaJSError('no broker available (caused by the test)'), {
          name: 'KafkaJSNoBrokerAvailableError',
        });
      }
    };
    const reader = await h.reader();
    const before = generateTransactions(60, { prefix: 'rr' });
    await h.produceTransactions(before);
    await waitFor('the first decisions', () => reader.decisions.length >= before.length, 60_000);

    await h.redis.kill();
    crash = true;
    const during = generateTransactions(60, { prefix: 'rr2', start: Date.now() - 30_000 });
    await h.produceTransactions(during);
    await waitFor('the processor to pause', () => stream.health().paused, 20_000);
    const crashed = () => processor.logs.filter((l) => l.includes('consumer crashed'));
    await waitFor('the consumer to crash', () => crashed().length > 0, 20_000);
    expect(JSON.parse(crashed()[0]!)).toMatchObject({ restart: true });
    const joins = () => processor.logs.filter((l) => l.includes('joined the consumer group')).length;
    const joined = joins();
    await waitFor('the restarted consumer to join', () => joins() > joined, 30_000);
    await sleep(500);
    const callsAtJoin = calls;
    await sleep(3_000);
    expect(calls - callsAtJoin).toBeLessThanOrEqual(1);
    expect(stream.health()).toMatchObject({ consumer: 'running', paused: true });

    await h.redis.resume();
    const txs = [...before, ...during];
    await everyInputDecided(reader, txs);
    expect(new Set(reader.decisions.map((d) => d.value.transactionId))).toEqual(ids(txs));
    expect(reader.deadLetters).toEqual([]);
    expect(reader.decisions.filter((d) => d.value.degraded)).toEqual([]);
    expect(stream.health().paused).toBe(false);
    await expectCountedOnce(h, txs);
  }, 180_000);

  it('publishes degraded decisions instead when LEAKGUARD_STREAM_DEGRADED=allow', async () => {
    const h = await createHarness('redis-allow', { durableRedis: true });
    harnesses.push(h);
    const processor = await h.startInProcess({ LEAKGUARD_STREAM_DEGRADED: 'allow' });
    const reader = await h.reader();
    await h.redis.kill();
    const txs = generateTransactions(30, { prefix: 'allow' });
    await h.produceTransactions(txs);
    await waitFor('degraded decisions', () => reader.decisions.length >= 30, 30_000);
    expect(new Set(reader.decisions.map((d) => d.value.transactionId))).toEqual(ids(txs));
    for (const d of reader.decisions)
      expect(d.value).toMatchObject({ degraded: true, checks: { velocity: 'skipped' } });
    // Published, so counted in the engine's metrics (held back in pause mode, they are not).
    const metrics = await processor.service.runtime.metrics.registry.getMetricsAsJSON();
    expect(metrics.find((m) => m.name === 'leakguard_degraded_responses_total')?.values[0]?.value).toBe(30);
    await h.redis.resume();
  }, 90_000);
});

describe('Redis full during a stream (maxmemory reached, noeviction)', () => {
  it('pauses while Redis refuses writes and resumes when it has room: nothing lost, nothing counted twice', async () => {
    const h = await createHarness('redis-full');
    harnesses.push(h);
    const processor = await h.startInProcess();
    const reader = await h.reader();
    const txs = generateTransactions(600, { prefix: 'rf' });
    // The first 200 flow; the other 400 are sent once Redis is full, so that there is always input
    // to score then (sent together, a fast processor could decide all 600 before Redis filled up).
    const flowing = h.produceInBackground(txs.slice(0, 200), 40, 25);
    const admin = new Redis(h.redis.url);
    try {
      await waitFor('the stream to flow', () => reader.decisions.length >= 150, 60_000, 5);
      await admin.config('SET', 'maxmemory', '1');
      const producing = h.produceInBackground(txs.slice(200), 40, 25);
      await waitFor('the processor to pause', () => processor.service.processor.health().paused, 20_000);
      const pausedAt = Date.now();
      await sleep(1_500);
      const during = reader.decisions.length;
      await sleep(5_000);
      expect(reader.decisions.length).toBe(during);
      expect(processor.service.processor.health().ok).toBe(true);
      // Redis answers its readiness check while it refuses every scoring: each resume pauses again
      // at once, and each time the next try waits twice as long (not a pause every 100 ms).
      const pauseLines = processor.logs.filter((l) => /consumption (paused|resumed)|crash|rebalanc/i.test(l));
      const pauses = pauseLines.filter((l) => l.includes('consumption paused')).length;
      expect(pauses).toBeGreaterThanOrEqual(2);
      expect(pauses, pauseLines.join('\n')).toBeLessThanOrEqual(8);
      expect(processor.logs.some((l) => l.includes('Redis full or read-only?'))).toBe(true);
      expect(Date.now() - pausedAt).toBeGreaterThan(6_000);

      await admin.config('SET', 'maxmemory', '0');
      await Promise.all([flowing.done, producing.done]);
      await everyInputDecided(reader, txs);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      admin.disconnect();
    }
    expect(new Set(reader.decisions.map((d) => d.value.transactionId))).toEqual(ids(txs));
    expect(reader.deadLetters).toEqual([]);
    expect(reader.decisions.filter((d) => d.value.degraded)).toEqual([]);
    expect(processor.service.processor.health().paused).toBe(false);
    await expectCountedOnce(h, txs);
  }, 180_000);
});

describe('Kafka broker restarted during a stream', () => {
  it('keeps the processor process alive, reconnects, and loses nothing', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'lg-kafka-restart-'));
    brokerDirs.push(stateDir);
    const broker = await startKafka({ stateDir });
    const h = await createHarness('broker-restart', { bootstrap: broker.bootstrap });
    harnesses.push(h);
    const child = h.spawnProcessor();
    await child.waitForLog('joined the consumer group');
    const reader = await h.reader();
    const txs = generateTransactions(1200, { prefix: 'br' });
    const producing = h.produceInBackground(txs, 40, 25);

    await waitFor('the stream to flow', () => reader.decisions.length >= 250, 60_000, 5);
    await stopKafka(stateDir);
    await sleep(3_000);
    expect(child.running).toBe(true);
    const again = await startKafka({ stateDir });
    expect(again.bootstrap).toBe(broker.bootstrap);
    // What the topic holds is read by a reader that joins after the restart: the first one is a
    // kafkajs consumer too, which may crash for good on an error it deems not retriable while
    // the broker is away (a clean-clone run saw 400 of 1,200 decisions missing from it, with
    // every input committed), and this test is about the processor, not the test's reader.
    const after = await h.reader();

    await producing.done;
    await waitFor(
      'every input to have a decision',
      () => new Set(after.decisions.map((d) => d.value.transactionId)).size >= txs.length,
      120_000,
    ).catch(async (error: Error) => {
      // Where it stopped (a clean-clone run timed out here once): what is missing, how far the
      // processor committed, and what it said about the broker, its group and its commits.
      const decided = new Set(after.decisions.map((d) => d.value.transactionId));
      const offsets = (await h.commitProgress().catch(() => ({ text: 'unknown' }))).text;
      // More decisions published than the reader holds: the reader stalled, not the processor.
      const published = await h.decisionsPublished().catch(() => 'unknown');
      throw new Error(
        `${error.message}: ${txs.length - decided.size} of ${txs.length} undecided, processor ${child.running ? 'running' : 'exited'} (committed/end per partition: ${offsets}; decisions published ${published}, read ${after.decisions.length}; the first reader read ${reader.decisions.length}, its crashes: ${JSON.stringify(reader.crashes)})\n${notableLines(child.lines).join('\n')}`,
      );
    });
    expect(child.running).toBe(true);
    expect(new Set(after.decisions.map((d) => d.value.transactionId))).toEqual(ids(txs));
    expect(after.deadLetters).toEqual([]);
    // A decision published twice around the restart is the same decision.
    const first = new Map<string, string>();
    for (const d of after.decisions) {
      const summary = JSON.stringify([d.value.score, d.value.decision, d.value.reasons]);
      expect(first.get(d.value.transactionId) ?? summary).toBe(summary);
      first.set(d.value.transactionId, summary);
    }
    await expectCountedOnce(h, txs);
    const exit = await child.kill('SIGTERM');
    expect(exit.code).toBe(0);
  }, 240_000);
});
