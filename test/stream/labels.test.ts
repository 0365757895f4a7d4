// An analyst's decision reaches `leakguard.labels` on a real broker, and its reversal follows it
// withdrawn. The engine starts while Kafka does not answer: its case database, console and
// transaction archive must not wait for Kafka (they once waited for good, the archive handed a
// pool that was closed under it), and the labels decided meanwhile are published once Kafka
// answers, with no further decision to carry them.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Consumer } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LABELS_TOPIC } from '../../services/adapters/kafka/labels-sink.ts';
import { loadConfig } from '../../services/config.ts';
import { scoreRequestSchema } from '../../services/core/schemas.ts';
import { createLogger } from '../../services/logger.ts';
import { createRuntime, type Runtime } from '../../services/runtime.ts';
import { TEST_CARD_KEY, TEST_DATA_KEY } from '../support/app.ts';
import { freePort } from '../support/ports.ts';
import { kafkaClient, sharedBroker, waitFor } from './support.ts';

const MERCHANT = `labels-${randomBytes(4).toString('hex')}`;
const PAN = '5555555555554444';

/** A loopback port that refuses connections until `open()`, then forwards them to `target`. */
async function gate(target: string): Promise<{ address: string; open(): Promise<void>; close(): Promise<void> }> {
  const port = await freePort();
  const [host, targetPort] = target.split(':') as [string, string];
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  return {
    address: `127.0.0.1:${port}`,
    open: () =>
      new Promise((listening) => {
        server = createServer((client) => {
          const upstream = createConnection({ host, port: Number(targetPort) });
          for (const s of [client, upstream]) {
            sockets.add(s);
            s.on('error', () => s.destroy());
            s.on('close', () => sockets.delete(s));
          }
          client.pipe(upstream).pipe(client);
        }).listen(port, '127.0.0.1', () => listening());
      }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((closed) => (server ? server.close(() => closed()) : closed()));
    },
  };
}

interface Seen {
  key: string;
  value: { caseId: number; label: string; transactionId: string; withdrawn?: boolean };
}

let bootstrap: string;
/** A gauge of the engine's /metrics, read as a scrape reads it. */
const gauge = async (name: string) =>
  (await runtime.metrics.registry.getMetricsAsJSON()).find((m) => m.name === name)?.values[0]?.value;
let broker: Awaited<ReturnType<typeof gate>>;
let runtime: Runtime;
let consumer: Consumer;
const logs: string[] = [];
const seen: Seen[] = [];

beforeAll(async () => {
  bootstrap = await sharedBroker();
  const admin = kafkaClient(bootstrap).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: LABELS_TOPIC, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  broker = await gate(bootstrap);
  const config = loadConfig({
    LEAKGUARD_STATE_DIR: mkdtempSync(join(tmpdir(), 'lg-labels-')),
    LEAKGUARD_CARD_KEY: TEST_CARD_KEY,
    LEAKGUARD_DATA_KEY: TEST_DATA_KEY,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    LEAKGUARD_MODEL: 'off',
    KAFKA_BROKERS: broker.address,
  });
  runtime = createRuntime(config, createLogger(config.LOG_LEVEL, { write: (line: string) => logs.push(line) }));
  expect(await runtime.waitForStores()).toBe(true);
  consumer = kafkaClient(bootstrap).consumer({ groupId: `labels-reader-${MERCHANT}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: LABELS_TOPIC, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const key = message.key?.toString('utf8') ?? '';
      if (key.startsWith(`${MERCHANT}:`)) seen.push({ key, value: JSON.parse(message.value!.toString('utf8')) });
    },
  });
}, 120_000);

afterAll(async () => {
  await runtime?.close();
  await consumer?.disconnect();
  await broker?.close();
});

it('opens the case database and archive while Kafka does not answer, and publishes the labels once it does', async () => {
  // Kafka refuses connections: the case system opens all the same, within seconds.
  const opened = await Promise.race([
    runtime.openCases().then(() => 'open'),
    new Promise((late) => setTimeout(() => late('still opening after 30 s'), 30_000)),
  ]);
  expect(opened).toBe('open');
  const cases = runtime.cases!;

  const scored = await runtime.engine.score(
    MERCHANT,
    scoreRequestSchema.parse({
      transactionId: 'tx-1',
      amount: 2500,
      currency: 'EUR',
      channel: 'ecommerce',
      card: { number: PAN, expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
      customer: { email: 'holder@example.com' },
      device: { id: 'dev-1', ip: '198.51.100.4' },
    }),
  );
  expect(scored.kind === 'scored' && scored.response.decision).not.toBe('approve');
  await runtime.flaggedSink.drain();
  await cases.ingester.idle();
  const flagged = await cases.store.getByTransaction(MERCHANT, 'tx-1');
  expect(flagged).toBeDefined();

  // The archive writes on the pool it was handed: open, not closed by a retry of the opening.
  await waitFor('the scoring archived', async () => {
    const { rows } = await cases.sql.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM transaction_archive WHERE merchant_id = $1',
      [MERCHANT],
    );
    return rows[0]!.n === 1;
  });

  const decided = await cases.feedback.decide(flagged!.id, 'mark_fraud', 'analyst-1');
  expect(decided.result.label).toBe('fraud');
  // Kafka still refuses: the label waits in the outbox, said once, not as PostgreSQL's fault.
  await waitFor('a failed publication', () => logs.some((l) => l.includes('case labels not published to Kafka yet')));
  expect((await cases.store.unpublishedLabels(10)).map((l) => l.transactionId)).toContain('tx-1');
  expect(seen).toEqual([]);
  // What an operator sees: the label waiting, for an alert to watch (ops/prometheus/alerts.yml).
  expect(await gauge('leakguard_labels_unpublished')).toBe(1);
  expect(logs.join('')).not.toContain('PostgreSQL not reachable');

  // Kafka answers: the worker publishes the label without another decision to carry it.
  await broker.open();
  await waitFor('the label on leakguard.labels', () => seen.length === 1, 90_000);
  expect(seen[0]).toMatchObject({
    key: `${MERCHANT}:tx-1`,
    value: { caseId: flagged!.id, label: 'fraud', transactionId: 'tx-1' },
  });
  expect(seen[0]!.value.withdrawn).toBeUndefined();
  expect(await cases.store.unpublishedLabels(10)).toEqual([]);
  expect(await gauge('leakguard_labels_unpublished')).toBe(0);
  expect(await gauge('leakguard_labels_oldest_unpublished_age_seconds')).toBe(0);

  // A reversal follows it, withdrawn.
  await cases.feedback.reverse(flagged!.id, 'lead-1', 'wrong card');
  await waitFor('the withdrawal on leakguard.labels', () => seen.length === 2, 60_000);
  expect(seen[1]).toMatchObject({ key: `${MERCHANT}:tx-1`, value: { label: 'fraud', withdrawn: true } });
  // No card number in what Kafka holds.
  expect(JSON.stringify(seen)).not.toContain(PAN);
}, 240_000);
