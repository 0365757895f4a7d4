// Record and backtest on Kafka: the HTTP engine and a stream processor, both with KAFKA_BROKERS,
// record every scoring (and an outcome) on one `leakguard.scored` topic, card-free; `npm run
// backtest` reads the topic (its default source when KAFKA_BROKERS is set) and its replay of the
// configuration in force reproduces every decision both doors gave.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, type TestApp } from '../support/app.ts';
import { KafkajsClient } from '../../services/adapters/kafka/kafkajs-client.ts';
import { kafkaRecordSink, readRecordsTopic } from '../../services/adapters/kafka/record-topic.ts';
import { TrafficRecorder } from '../../services/recording/recorder.ts';
import { recordLine, type TrafficRecord } from '../../services/recording/record.ts';
import type { BacktestReport } from '../../models/backtest/backtest.ts';
import {
  REPO,
  cardNumber,
  createHarness,
  generateTransactions,
  kafkaClient,
  longDigitRuns,
  waitFor,
  type Harness,
  type OutputReader,
} from './support.ts';

const run = promisify(execFile);
const topic = `t.rec.${randomBytes(3).toString('hex')}.scored`;
let h: Harness;
let http: TestApp;
let reader: OutputReader;
const cards = Array.from({ length: 12 }, () => cardNumber());
const viaHttp = generateTransactions(30, { cards, prefix: 'rec-http', start: Date.now() - 120_000 });
const viaStream = generateTransactions(90, { cards, prefix: 'rec-stream', start: Date.now() - 60_000 });

beforeAll(async () => {
  // One partition: the stream scores in event order, as the replay does.
  h = await createHarness('rec', { partitions: 1, env: { LEAKGUARD_RECORD_TOPIC: topic, LEAKGUARD_MODEL: 'off' } });
  http = await buildTestApp({
    REDIS_URL: h.redis.url,
    KAFKA_BROKERS: h.bootstrap,
    LEAKGUARD_RECORD_TOPIC: topic,
    LOG_LEVEL: 'warn',
  });
  await h.startInProcess();
  reader = await h.reader();
}, 180_000);

afterAll(async () => {
  await http?.close();
  await h?.close();
}, 60_000);

const decisions = new Map<string, string>();

async function topicSize(): Promise<number> {
  const offsets = await h.admin.fetchTopicOffsets(topic).catch(() => []);
  return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
}

describe('recording on Kafka', () => {
  it('keeps what both doors scored, and an outcome, on the topic, card-free', async () => {
    for (const { input } of viaHttp) {
      const { merchantId: _m, ...body } = input;
      const res = await http.app.inject({
        method: 'POST',
        url: '/v1/score',
        headers: bearer(http.keys.merchant),
        payload: { ...body },
      });
      expect(res.statusCode, res.body).toBe(200);
      decisions.set(input.transactionId, res.json<{ decision: string }>().decision);
    }
    // The HTTP app scores as m1 (its key's merchant): the stream's transactions are m1's and m2's.
    await h.produceTransactions(viaStream);
    await waitFor('every streamed decision', () => reader.decisions.length >= viaStream.length, 90_000);
    for (const d of reader.decisions) decisions.set(d.value.transactionId, d.value.decision);
    const charged = viaStream.find((t) => t.input.merchantId === 'm1')!.input.transactionId;
    const outcome = await http.app.inject({
      method: 'POST',
      url: `/v1/transactions/${charged}/outcome`,
      headers: bearer(http.keys.merchant),
      payload: { outcome: 'chargeback', reasonCode: '10.4' },
    });
    expect(outcome.statusCode, outcome.body).toBeLessThan(300);
    await http.runtime.recorder!.flush();
    const expected = viaHttp.length + viaStream.length + 1;
    await waitFor('the recording on the topic', async () => (await topicSize()) >= expected, 60_000);

    const values: string[] = [];
    await readRecordsTopic(new KafkajsClient(kafkaClient(h.bootstrap, 'rec-test')), (v) => values.push(v), { topic });
    expect(values).toHaveLength(expected);
    const text = values.join('\n');
    expect(longDigitRuns(text)).toEqual([]);
    for (const pan of cards) expect(text).not.toContain(pan);
    const kinds = values.map((v) => (JSON.parse(v) as { kind: string }).kind);
    expect(kinds.filter((k) => k === 'scored')).toHaveLength(viaHttp.length + viaStream.length);
    expect(kinds.filter((k) => k === 'outcome')).toHaveLength(1);
  }, 150_000);

  it('is the default source of npm run backtest, whose in-force replay reproduces every decision', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lg-backtest-kafka-'));
    const { stdout } = await run(process.execPath, ['models/cli/backtest.ts', '--quiet', '--out', out], {
      cwd: REPO,
      env: {
        ...process.env,
        KAFKA_BROKERS: h.bootstrap,
        LEAKGUARD_RECORD_TOPIC: topic,
        LEAKGUARD_MODEL: 'off',
        LEAKGUARD_STATE_DIR: out,
      },
    });
    expect(stdout).toContain(`from ${topic} at ${h.bootstrap}`);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as BacktestReport;
    const n = viaHttp.length + viaStream.length;
    expect(report.transactions).toMatchObject({ reported: n, fraud: 1 });
    expect(report.recorded).toMatchObject({ compared: n, agreed: n, share: 1 });
    const recordedMix = [...decisions.values()].filter((d) => d !== 'approve').length;
    expect(recordedMix).toBeGreaterThan(0);
    expect(n - report.results[0].decisions.approve.count).toBe(recordedMix);
  }, 120_000);

  it('writes a backlog many times the broker message size whole, in bounded requests', async () => {
    // 20,000 records of ~1.1 KB, ~3.7 MB per partition: one request of them, as a recorder sent
    // everything that waited, is refused by the broker (message.max.bytes, 1 MiB by default).
    const backlog = `t.rec.${randomBytes(3).toString('hex')}.backlog`;
    const client = new KafkajsClient(kafkaClient(h.bootstrap, 'rec-backlog'));
    const sink = await kafkaRecordSink(client, { retentionDays: 1, topic: backlog });
    const pad = 'x'.repeat(1_000);
    const record = (i: number): TrafficRecord => ({
      kind: 'outcome',
      v: 1,
      merchantId: 'm1',
      transactionId: `backlog-${i}-${pad}`,
      outcome: 'authorised',
      at: '2026-12-05T00:00:00.000Z',
    });
    // The sink alone, handed 10,000 at once: it splits them into requests under the limit.
    await sink.write(Array.from({ length: 10_000 }, (_, i) => recordLine(record(i))));
    // The recorder, 10,000 waiting at once (a slow second, an outage): written in slices.
    const errors: unknown[] = [];
    let written = 0;
    const recorder = new TrafficRecorder({
      sink,
      flushMs: 60_000,
      onError: (e) => errors.push(e),
      onWritten: (k) => (written += k),
    });
    for (let i = 10_000; i < 20_000; i++)
      recorder.outcome('m1', record(i).transactionId, 'authorised', Date.now(), Date.now());
    await recorder.close();
    expect(errors).toEqual([]);
    expect(written).toBe(10_000);

    const ids = new Set<string>();
    const read = await readRecordsTopic(
      new KafkajsClient(kafkaClient(h.bootstrap, 'rec-backlog-read')),
      (v) => ids.add((JSON.parse(v) as { transactionId: string }).transactionId),
      { topic: backlog },
    );
    expect(read).toBe(20_000);
    expect(ids.size).toBe(20_000);
    // Made by the sink, the topic is stored compressed by the broker (the records above were read
    // back through its gzip batches).
    const admin = kafkaClient(h.bootstrap, 'rec-backlog-config').admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: backlog, configNames: ['compression.type'] }],
      });
      expect(resources[0]!.configEntries).toEqual([
        expect.objectContaining({ configName: 'compression.type', configValue: 'gzip' }),
      ]);
    } finally {
      await admin.disconnect();
    }
  }, 120_000);
});
