// The four topics of stream scoring, and their creation at start-up. The broker does not create
// topics on its own (auto.create.topics.enable=false): a typo in a name fails instead of
// inventing a topic, so the processor creates the missing ones before it subscribes, and with
// them leakguard.labels, which the engine writes (services/adapters/kafka/labels-sink.ts).
import type { TopicAdmin, TopicSpec } from '../services/adapters/kafka/client.ts';
import { createTopics, TopicsNotAuthorizedError } from '../services/adapters/kafka/topics.ts';
import { LABELS_TOPIC } from '../services/adapters/kafka/labels-sink.ts';
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

/** Partitions of leakguard.labels when created: labels come a few a minute, from analysts. */
export const LABELS_PARTITIONS = 3;

const definition = (config: StreamConfig, topic: string, numPartitions: number): TopicSpec => {
  const replicationFactor = config.LEAKGUARD_STREAM_REPLICATION_FACTOR;
  return { topic, numPartitions, ...(replicationFactor ? { replicationFactor } : {}) };
};

/** The stream's own four topics. */
export function topicDefinitions(config: StreamConfig): TopicSpec[] {
  const t = topicsOf(config);
  const def = (topic: string, numPartitions: number) => definition(config, topic, numPartitions);
  return [
    def(t.input, config.LEAKGUARD_STREAM_PARTITIONS),
    def(t.decisions, config.LEAKGUARD_STREAM_PARTITIONS),
    def(t.flagged, config.LEAKGUARD_STREAM_PARTITIONS),
    def(t.deadLetter, config.LEAKGUARD_STREAM_DEAD_LETTER_PARTITIONS),
  ];
}

/** leakguard.labels: case labels from the console (key merchant:transaction), for training. */
export function labelsTopicDefinition(config: StreamConfig): TopicSpec {
  return definition(config, LABELS_TOPIC, LABELS_PARTITIONS);
}

/**
 * Creates the topics that do not exist yet; existing topics are left as they are (a partition
 * count that differs from the configuration is logged, never changed). Several processors may
 * start at once: "already exists" from a concurrent creation is success.
 */
export async function ensureTopics(admin: TopicAdmin, config: StreamConfig, logger: Logger): Promise<string[]> {
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
  return [...missing.map((t) => t.topic), ...(await ensureLabelsTopic(admin, config, existing, logger))];
}

/**
 * Creates leakguard.labels when this client does not see it. The processor does not use it, so a
 * refusal is logged, never fatal: under ACLs its user neither sees the topic (an admin made it,
 * only the console's user writes it) nor may create it.
 */
async function ensureLabelsTopic(
  admin: TopicAdmin,
  config: StreamConfig,
  existing: Set<string>,
  logger: Logger,
): Promise<string[]> {
  const labels = labelsTopicDefinition(config);
  if (existing.has(labels.topic)) return [];
  try {
    await createTopics(admin, [labels]);
  } catch (error) {
    if (error instanceof TopicsNotAuthorizedError)
      logger.info(
        { topic: labels.topic },
        'labels topic not visible to this user, who may not create it: left to an admin (npm run kafka -- grant)',
      );
    else
      logger.warn(
        { err: error, topic: labels.topic },
        'could not create the labels topic; case labels are published once it exists',
      );
    return [];
  }
  logger.info({ topics: [`${labels.topic} (${labels.numPartitions} partitions)`] }, 'created the labels topic');
  return [labels.topic];
}

export { createTopics, TopicsNotAuthorizedError };
