// `npm run stream` as a process: SIGKILLed in the middle of a stream and started again, every
// input gets its decision, a repeated decision is the same decision, and the velocity counters in
// Redis hold each transaction once. SIGTERM finishes the batch, commits, leaves the group, exit 0.
// Bad configuration stops it with the variable's name, exit 2.
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createHarness,
  fingerprint,
  merchantLogSize,
  generateTransactions,
  REPO,
  waitFor,
  type GeneratedTx,
  type Harness,
  type OutputReader,
} from './support.ts';
import { transactionsInCardLog } from '../support/card-log.ts';

let h: Harness;
let reader: OutputReader;
let txs: GeneratedTx[];

beforeAll(async () => {
  h = await createHarness('crash', { env: { LEAKGUARD_STREAM_BATCH_SIZE: '50', LOG_LEVEL: 'info' } });
  reader = await h.reader();
}, 180_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

describe('the processor process', () => {
  it('loses nothing and counts nothing twice when SIGKILLed in the middle of a stream', async () => {
    txs = generateTransactions(1500, { prefix: 'crash' });
    // A backlog first, so that the processor is busy (scoring, publishing, committing) at the kill;
    // the rest produced while it runs and after it died.
    await h.produceTransactions(txs.slice(0, 1000));
    const first = h.spawnProcessor();
    await first.waitForLog('joined the consumer group');
    const producing = h.produceInBackground(txs.slice(1000), 50, 20);
    await waitFor('a third of the decisions', () => reader.decisions.length >= 500, 60_000, 5);
    const killed = await first.kill('SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    const atKill = reader.decisions.length;
    expect(atKill).toBeLessThan(txs.length);

    const second = h.spawnProcessor();
    await producing.done;
    await waitFor(
      'every input to have a decision',
      () => new Set(reader.decisions.map((d) => d.value.transactionId)).size >= txs.length,
      90_000,
    );
    expect(reader.deadLetters).toEqual([]);
    expect(new Set(reader.decisions.map((d) => d.value.transactionId))).toEqual(
      new Set(txs.map((t) => t.input.transactionId)),
    );

    // A decision published twice (processed, not yet committed, at the kill) is the same decision.
    const seen = new Map<string, (typeof reader.decisions)[number]['value']>();
    let repeats = 0;
    for (const d of reader.decisions) {
      const before = seen.get(d.value.transactionId);
      if (before) {
        repeats++;
        expect({ score: d.value.score, decision: d.value.decision, reasons: d.value.reasons }).toEqual({
          score: before.score,
          decision: before.decision,
          reasons: before.reasons,
        });
        expect(d.value.replayed).toBe(true);
      } else seen.set(d.value.transactionId, d.value);
    }
    expect(reader.decisions.length).toBe(txs.length + repeats);
    // The kill did catch transactions scored (counted) but not committed: they came back as replays.
    expect(reader.decisions.filter((d) => d.value.replayed).length).toBeGreaterThan(0);

    // The counters hold every transaction once: per card, per merchant.
    const probe = new Redis(h.redis.url);
    try {
      const perCard = new Map<string, number>();
      const perMerchant = new Map<string, number>();
      for (const t of txs) {
        perCard.set(t.pan, (perCard.get(t.pan) ?? 0) + 1);
        perMerchant.set(t.input.merchantId, (perMerchant.get(t.input.merchantId) ?? 0) + 1);
      }
      for (const [pan, count] of perCard) {
        expect(await transactionsInCardLog(probe, `lg:{c:${fingerprint(pan)}}:l`)).toBe(count);
      }
      for (const [merchant, count] of perMerchant) expect(await merchantLogSize(probe, merchant)).toBe(count);
    } finally {
      probe.disconnect();
    }
    await second.kill('SIGKILL');
  }, 180_000);

  it('on SIGTERM finishes its batch, commits, leaves the group and exits 0; a successor goes on from there', async () => {
    const more = generateTransactions(600, { prefix: 'term' });
    const proc = h.spawnProcessor();
    await proc.waitForLog('joined the consumer group');
    const before = reader.decisions.length;
    const producing = h.produceTransactions(more);
    // New transactions scored by this processor: the first outputs can be replays of the previous
    // test's last batch (killed before its commit), which count no decision in the metrics.
    await waitFor(
      'the stream to be flowing',
      () =>
        reader.decisions.slice(before).filter((d) => d.value.transactionId.startsWith('term-') && !d.value.replayed)
          .length >= 100,
      60_000,
      5,
    );

    // Its metrics and health, on the port it logged.
    const line = proc.lines.find((l) => l.includes('stream metrics listening'))!;
    const port = (JSON.parse(line) as { port: number }).port;
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      ok: true,
      consumer: 'running',
      paused: expect.any(Boolean),
      assignedPartitions: [0, 1, 2, 3],
    });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const name of [
      'leakguard_stream_consumer_lag{topic=',
      'leakguard_stream_batch_size_bucket',
      'leakguard_stream_end_to_end_seconds_bucket',
      'leakguard_stream_pauses_total',
    ]) {
      expect(metrics).toContain(name);
    }
    // The counters' series are there from the start, at 0: this processor's decisions moved them.
    expect(metrics).toMatch(/^leakguard_stream_messages_total\{outcome="decision"\} [1-9]/m);
    expect(metrics).toMatch(/^leakguard_decisions_total\{decision="\w+"\} [1-9]/m);
    const exit = await proc.kill('SIGTERM');
    await producing;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(proc.logged('stream processor stopped; bye')).toBe(true);

    // It left the group (no wait for a session timeout).
    const [group] = (await h.admin.describeGroups([h.groupId])).groups;
    expect(group?.members).toEqual([]);
    const committed = await h.committedOffsets();
    // Everything it published is on the decisions topic by now: let the reader reach its end.
    const decisionEnds = (await h.admin.fetchTopicOffsets(h.topics.decisions)).reduce((s, p) => s + Number(p.high), 0);
    await waitFor('the reader to read every decision', () => reader.decisions.length >= decisionEnds, 30_000);
    const published = new Map<number, bigint>();
    for (const d of reader.decisions) {
      const next = BigInt(d.value.source.offset) + 1n;
      if (next > (published.get(d.value.source.partition) ?? 0n)) published.set(d.value.source.partition, next);
    }
    // Everything it published is committed (its last batch included), and nothing more.
    expect(committed.size).toBe(4);
    for (const [partition, offset] of committed)
      expect(offset, `partition ${partition}`).toBe(published.get(partition));

    const successor = h.spawnProcessor();
    await waitFor(
      'the rest',
      () => more.every((t) => reader.decisions.some((d) => d.value.transactionId === t.input.transactionId)),
      60_000,
    );
    await successor.kill('SIGTERM');
  }, 120_000);

  it('refuses to start without KAFKA_BROKERS or REDIS_URL, naming the variable, exit 2', () => {
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'streams/main.ts'], {
        cwd: REPO,
        env: { PATH: process.env.PATH ?? '', ...env },
        encoding: 'utf8',
        timeout: 30_000,
      });
    const noKafka = run({ REDIS_URL: h.redis.url });
    expect(noKafka.status).toBe(2);
    expect(noKafka.stderr).toContain('KAFKA_BROKERS: is required');
    const noRedis = run({ KAFKA_BROKERS: h.bootstrap });
    expect(noRedis.status).toBe(2);
    expect(noRedis.stderr).toContain('REDIS_URL: is required');
    const bad = run({
      KAFKA_BROKERS: h.bootstrap,
      REDIS_URL: h.redis.url,
      LEAKGUARD_STREAM_DEGRADED: 'sometimes',
      LEAKGUARD_STREAM_BATCH_SIZE: '0',
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('LEAKGUARD_STREAM_DEGRADED');
    expect(bad.stderr).toContain('LEAKGUARD_STREAM_BATCH_SIZE');
  });
});
