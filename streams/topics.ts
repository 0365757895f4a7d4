// The four topics of stream scoring, and their creation at start-up. The broker does not create
// topics on its own (auto.create.topics.enable=false): a typo in a name fails instead of
// inventing a topic, so the processor creates the missing ones before it subscribes.
import type { Admin, ITopicConfig } from 'kafkajs';
import type { Logger } from '../services/logger.ts';
import type { StreamConfig } from './config.ts';

export interface StreamTopics {
  /** Transactions to score: the /v1/score request plus merchantId. */
  input: string;
  /** Every decision, keyed by card fingerprint. */
  decisions: string;
  /** Decisions other than approve, for the review console. */
  flagged: string;
  /** Every input that could not be scored, with the reason; card numbers masked. */
  deadLetter: string;
}

export function topicsOf(config: StreamConfig): StreamTopics {
  return {
    input: config.LEAKGUARD_STREAM_INPUT_TOPIC,
    decisions: config.LEAKGUARD_STREAM_DECISIONS_TOPIC,
    flagged: config.LEAKGUARD_STREAM_FLAGGED_TOPIC,
    deadLetter: config.LEAKGUARD_STREAM_DEAD_LETTER_TOPIC,
  };
}

export function topicDefinitions(config: StreamConfig): ITopicConfig[] {
  const t = topicsOf(config);
  const replicationFactor = config.LEAKGUARD_STREAM_REPLICATION_FACTOR;
  const def = (topic: string, numPartitions: number): ITopicConfig => ({
    topic,
    numPartitions,
    ...(replicationFactor ? { replicationFactor } : {}),
  });
  return [
    def(t.input, config.LEAKGUARD_STREAM_PARTITIONS),
    def(t.decisions, config.LEAKGUARD_STREAM_PARTITIONS),
    def(t.flagged, config.LEAKGUARD_STREAM_PARTITIONS),
    def(t.deadLetter, config.LEAKGUARD_STREAM_DEAD_LETTER_PARTITIONS),
  ];
}

/**
 * Creates the topics that do not exist yet; existing topics are left as they are (a partition
 * count that differs from the configuration is logged, never changed). Several processors may
 * start at once: "already exists" from a concurrent creation is success.
 */
export async function ensureTopics(admin: Admin, config: StreamConfig, logger: Logger): Promise<string[]> {
  const wanted = topicDefinitions(config);
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !existing.has(t.topic));
  if (missing.length > 0) {
    await createTopics(admin, missing);
    logger.info({ topics: missing.map((t) => `${t.topic} (${t.numPartitions} partitions)`) }, 'created stream topics');
  }
  const present = wanted.filter((t) => existing.has(t.topic));
  if (present.length > 0) {
    const metadata = await admin.fetchTopicMetadata({ topics: present.map((t) => t.topic) });
    for (const topic of metadata.topics) {
      const want = wanted.find((w) => w.topic === topic.name)?.numPartitions;
      if (want !== undefined && topic.partitions.length !== want) {
        logger.info(
          { topic: topic.name, partitions: topic.partitions.length, configured: want },
          'topic exists with another partition count; left as it is',
        );
      }
    }
  }
  return missing.map((t) => t.topic);
}

/**
 * Creates topics ("already exists" is success) and waits until every partition has a leader.
 * kafkajs' own waitForLeaders gives up on an "unknown topic" answer that a busy broker gives for
 * a moment after the creation; this waits it out.
 */
export async function createTopics(admin: Admin, topics: ITopicConfig[], timeoutMs = 30_000): Promise<void> {
  try {
    await admin.createTopics({ topics, waitForLeaders: false });
  } catch (error) {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic)).map((t) => t.topic);
    // Under ACLs a client sees only the topics it may use, and creating them is for an admin.
    if (missing.length > 0 && isAuthorizationError(error)) {
      const them = missing.length > 1 ? 'them' : 'it';
      throw new Error(
        `not authorized to create ${missing.join(', ')}, which this user cannot see: create ${them} as an admin (npm run kafka -- grant creates the default topics) and grant this user read or write on ${them}`,
      );
    }
    if (missing.length > 0) throw error;
  }
  await waitForLeaders(admin, topics, timeoutMs);
}

const isAuthorizationError = (error: unknown): boolean => {
  const e = error as { type?: string; errors?: { type?: string }[] };
  return (
    e.type === 'TOPIC_AUTHORIZATION_FAILED' ||
    e.type === 'CLUSTER_AUTHORIZATION_FAILED' ||
    (e.errors ?? []).some((x) => x.type === 'TOPIC_AUTHORIZATION_FAILED' || x.type === 'CLUSTER_AUTHORIZATION_FAILED')
  );
};

async function waitForLeaders(admin: Admin, topics: ITopicConfig[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
      if (metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline)
      throw new Error(`topics ${topics.map((t) => t.topic).join(', ')} have no leader after ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 100));
  }
}
