// The recording on Kafka: `leakguard.scored` holds every scored transaction and what was learnt of
// it later (services/recording/record.ts), keyed merchant:transaction so that a transaction's
// records share a partition and stay in order; its retention is the recording's. The reader gives
// a backtest the whole topic as it stands when it starts.
import { randomUUID } from 'node:crypto';
import type { RecordSink } from '../../recording/recorder.ts';
import { createTopics } from './topics.ts';
import type { KafkaClient, TopicSpec } from './client.ts';
import { securityFromEnvironment } from './security.ts';

export const RECORDS_TOPIC = 'leakguard.scored';
export const RECORDS_PARTITIONS = 6;

/** Default retention of the recording, days (LEAKGUARD_RECORD_RETENTION_DAYS). */
export const DEFAULT_RECORD_RETENTION_DAYS = 90;

/**
 * The recording is kept for months and its records are JSON of one shape: the broker stores its
 * batches compressed (RECORDS_COMPRESSION), whatever the producer sent, so that no engine or
 * processor spends its own CPU on it. Gzip, not zstd: every Kafka client reads it, kafkajs (the
 * backtest's reader) without a codec of its own.
 */
export const RECORDS_COMPRESSION = 'gzip';

export function recordsTopicDefinition(retentionDays: number, topic = RECORDS_TOPIC): TopicSpec {
  return {
    topic,
    numPartitions: RECORDS_PARTITIONS,
    configEntries: [
      { name: 'retention.ms', value: String(retentionDays * 86_400_000) },
      { name: 'compression.type', value: RECORDS_COMPRESSION },
    ],
  };
}

/** Creates the topic when missing, with the retention in days; an existing one is left as it is. */
export async function ensureRecordsTopic(client: KafkaClient, retentionDays: number, topic = RECORDS_TOPIC) {
  const admin = client.admin();
  await admin.connect();
  try {
    if ((await admin.listTopics()).includes(topic)) return false;
    await createTopics(admin, [recordsTopicDefinition(retentionDays, topic)]);
    return true;
  } finally {
    await admin.disconnect();
  }
}

/**
 * An idempotent producer for the recording. A large write goes in produce requests of bounded size
 * (the producer's send: requests.ts), one after the other; if a later one fails, the recorder offers
 * the whole write again and the records already sent appear twice on the topic: a backtest keeps a
 * transaction's first scoring.
 */
export async function kafkaRecordSink(
  client: KafkaClient,
  options: { retentionDays: number; topic?: string },
): Promise<RecordSink> {
  const topic = options.topic ?? RECORDS_TOPIC;
  await ensureRecordsTopic(client, options.retentionDays, topic);
  const producer = client.producer({ idempotent: true });
  await producer.connect();
  return {
    async write(lines) {
      const messages = lines.map((l) => ({ key: l.key, value: l.json }));
      await producer.send([{ topic, messages }]);
    },
    close: () => producer.disconnect(),
  };
}

/**
 * The engine's recording sink, created only when KAFKA_BROKERS is set (the Kafka client is loaded
 * then, not before), with this process's SASL/TLS settings.
 */
export async function kafkaRecordSinkFromEnvironment(
  brokers: string[],
  retentionDays: number,
  topic: string,
): Promise<RecordSink> {
  const { kafkaClient } = await import('./kafka.ts');
  const client = kafkaClient({ clientId: 'leakguard-recorder', brokers, security: securityFromEnvironment() });
  return kafkaRecordSink(client, { retentionDays, topic });
}

/**
 * Every message of the topic up to its end when the call starts (later ones are not waited for),
 * partition by partition as fetched, through a consumer group of its own that commits nothing.
 */
export async function readRecordsTopic(
  client: KafkaClient,
  onMessage: (value: string) => void,
  options: { topic?: string; onProgress?: (read: number, total: number) => void } = {},
): Promise<number> {
  const topic = options.topic ?? RECORDS_TOPIC;
  const admin = client.admin();
  await admin.connect();
  const ends = new Map<number, bigint>();
  let total = 0n;
  try {
    for (const p of await admin.fetchTopicOffsets(topic)) {
      if (BigInt(p.high) > BigInt(p.low)) {
        ends.set(p.partition, BigInt(p.high));
        total += BigInt(p.high) - BigInt(p.low);
      }
    }
  } finally {
    await admin.disconnect();
  }
  if (ends.size === 0) return 0;
  const consumer = client.consumer({
    groupId: `leakguard-backtest-${randomUUID()}`,
    sessionTimeoutMs: 30_000,
    rebalanceTimeoutMs: 30_000,
    heartbeatIntervalMs: 3_000,
    maxWaitMs: 500,
    maxBytesPerPartition: 4 * 1024 * 1024,
    restartOnFailure: () => Promise.resolve(false),
  });
  await consumer.connect();
  let read = 0;
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer.onCrash(({ error }) => reject(error));
      consumer
        .run({
          partitionsConsumedConcurrently: 1,
          eachBatch: async ({ batch, resolveOffset }) => {
            const end = ends.get(batch.partition);
            for (const m of batch.messages) {
              if (end === undefined || BigInt(m.offset) >= end) break;
              if (m.value) onMessage(m.value.toString('utf8'));
              read++;
              resolveOffset(m.offset);
              if (BigInt(m.offset) + 1n >= end) ends.delete(batch.partition);
            }
            options.onProgress?.(read, Number(total));
            if (ends.size === 0) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return read;
}
