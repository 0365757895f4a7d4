// The local Kafka broker script (streams/broker) against the client the project uses: a real
// Kafka 4 broker in a temporary state dir, kafkajs 2.2.4 through admin, producer and a consumer
// group with manual commits and a rebalance, then a stop that leaves no process behind.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Consumer, type EachBatchPayload, type Kafka as KafkaClient } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaStatus, startKafka, stopKafka, type RunningKafka } from '../streams/broker/local-kafka.ts';

const { Kafka, logLevel, Partitioners } = kafkajs;

const stateDir = mkdtempSync(join(tmpdir(), 'lg-kafka-'));
let broker: RunningKafka;
let client: KafkaClient;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // An exited broker not yet reaped by this process (its parent) is a zombie: dead for our purpose.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

beforeAll(async () => {
  broker = await startKafka({ stateDir });
  // Should the worker die before afterAll, the broker (detached, its own process group) dies with it.
  process.once('exit', () => {
    if (alive(broker.pid)) process.kill(-broker.pid, 'SIGKILL');
  });
  client = new Kafka({ clientId: 'kafka-broker-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
}, 300_000);

afterAll(async () => {
  try {
    if (broker) await stopKafka(stateDir);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}, 120_000);

describe('local Kafka broker', () => {
  it('runs one KRaft node on loopback and records its pid and address in the state dir', async () => {
    expect(broker.bootstrap).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(broker.version).toMatch(/^4\./);
    expect(broker.reused).toBe(false);
    expect(alive(broker.pid)).toBe(true);
    expect(readFileSync(join(stateDir, 'kafka.pid'), 'utf8').trim()).toBe(String(broker.pid));
    expect(readFileSync(join(stateDir, 'bootstrap.txt'), 'utf8').trim()).toBe(broker.bootstrap);
    expect(readFileSync(join(stateDir, 'server.properties'), 'utf8')).toContain('process.roles=broker,controller');

    const status = await kafkaStatus(stateDir);
    expect(status).toMatchObject({ state: 'running', pid: broker.pid, bootstrap: broker.bootstrap });

    const admin = client.admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      expect(cluster.brokers).toEqual([
        expect.objectContaining({ nodeId: 1, host: '127.0.0.1', port: Number(broker.bootstrap.split(':')[1]) }),
      ]);
    } finally {
      await admin.disconnect();
    }
  });

  it('reuses the running broker instead of starting a second one', async () => {
    const again = await startKafka({ stateDir });
    expect(again).toMatchObject({ reused: true, pid: broker.pid, bootstrap: broker.bootstrap });
  });

  it('carries messages through a topic and a consumer group with manual commits', async () => {
    const topic = 'leakguard.test.transactions';
    const groupId = 'kafka-broker-test';
    const admin = client.admin();
    const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const consumer = client.consumer({ groupId, heartbeatInterval: 500, maxWaitTimeInMs: 250 });
    await Promise.all([admin.connect(), producer.connect(), consumer.connect()]);
    try {
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true })).toBe(true);
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(metadata.topics[0]?.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);

      const sent = Array.from({ length: 6 }, (_, i) => ({
        key: `card-${i}`,
        value: JSON.stringify({ transactionId: `tx-${i}`, amountCents: 100 * i }),
        headers: { source: 'test' },
      }));
      const acks = await producer.send({ topic, acks: -1, messages: sent });
      expect(acks.every((r) => r.errorCode === 0)).toBe(true);

      const received: { key: string; value: string; source: string; partition: number }[] = [];
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat }: EachBatchPayload) => {
          for (const message of batch.messages) {
            received.push({
              key: String(message.key),
              value: String(message.value),
              source: String(message.headers?.source),
              partition: batch.partition,
            });
            resolveOffset(message.offset);
          }
          await consumer.commitOffsets([
            { topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() },
          ]);
          await heartbeat();
        },
      });
      await waitFor('all six messages', () => new Set(received.map((m) => m.key)).size >= sent.length);

      // At least once: a rebalance while the group forms can deliver a batch again before its commit.
      expect([...new Set(received.map((m) => m.key))].sort()).toEqual(sent.map((m) => m.key).sort());
      expect(received.find((m) => m.key === 'card-3')).toMatchObject({
        value: '{"transactionId":"tx-3","amountCents":300}',
        source: 'test',
      });
      // Committed offsets come to cover every message, partition by partition (a commit may still be
      // in flight): each reaches its partition's end. The end, not the count of distinct keys: a
      // producer that retried a send under load wrote some messages twice.
      const ends = new Map(
        (await admin.fetchTopicOffsets(topic)).map(({ partition, high }) => [partition, Number(high)]),
      );
      expect([...ends.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(sent.length);
      const committedOffsets = async () => {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return new Map((committed?.partitions ?? []).map(({ partition, offset }) => [partition, Number(offset)]));
      };
      let committed = await committedOffsets();
      for (let i = 0; i < 50 && [...ends].some(([p, end]) => end > 0 && committed.get(p) !== end); i++) {
        await new Promise((r) => setTimeout(r, 100));
        committed = await committedOffsets();
      }
      for (const [partition, end] of ends) if (end > 0) expect(committed.get(partition)).toBe(end);
    } finally {
      await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
      await admin.disconnect();
    }
  });

  it('rebalances the partitions when a second consumer joins the group', async () => {
    const topic = 'leakguard.test.rebalance';
    const groupId = 'kafka-broker-rebalance';
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
    await admin.disconnect();

    const assignments = new Map<string, number[]>();
    const member = (name: string): Consumer => {
      const consumer = client.consumer({
        groupId,
        heartbeatInterval: 500,
        maxWaitTimeInMs: 250,
        sessionTimeout: 10_000,
        rebalanceTimeout: 10_000,
      });
      consumer.on(consumer.events.GROUP_JOIN, (event) =>
        assignments.set(name, event.payload.memberAssignment[topic] ?? []),
      );
      return consumer;
    };
    const first = member('first');
    const second = member('second');
    try {
      await first.connect();
      await first.subscribe({ topics: [topic] });
      await first.run({ eachMessage: async () => undefined });
      await waitFor('the first member to own every partition', () => assignments.get('first')?.length === 4);

      await second.connect();
      await second.subscribe({ topics: [topic] });
      await second.run({ eachMessage: async () => undefined });
      await waitFor(
        'a rebalance that splits the partitions',
        () =>
          (assignments.get('second')?.length ?? 0) > 0 &&
          (assignments.get('first')?.length ?? 0) + (assignments.get('second')?.length ?? 0) === 4,
      );

      const owned = [...(assignments.get('first') ?? []), ...(assignments.get('second') ?? [])].sort();
      expect(owned).toEqual([0, 1, 2, 3]);
      expect(assignments.get('first')?.length).toBeGreaterThan(0);
    } finally {
      await Promise.allSettled([second.disconnect(), first.disconnect()]);
    }
  }, 60_000);

  it('stops the broker and leaves no process or pid file behind', async () => {
    const result = await stopKafka(stateDir);
    expect(result).toMatchObject({ stopped: true, pid: broker.pid, forced: false });
    expect(alive(broker.pid)).toBe(false);
    expect(existsSync(join(stateDir, 'kafka.pid'))).toBe(false);
    expect(existsSync(join(stateDir, 'bootstrap.txt'))).toBe(false);
    expect((await kafkaStatus(stateDir)).state).toBe('stopped');
    expect(await stopKafka(stateDir)).toMatchObject({ stopped: false });
  }, 60_000);
});
