// Settings of the stream processor, from the environment, validated once at start-up in the same
// style as services/config.ts: a bad value stops the process with the variable's name.
// The engine's own settings (card keys, ruleset, deadline, log level...) come from services/config.ts.
import { z } from 'zod';
import { ConfigError, wholeNumber } from '../services/config.ts';
import { kafkaSecurityProblems, type KafkaSecurity } from '../services/adapters/kafka/security.ts';
import { issueLines } from '../services/core/errors.ts';
import { accessConfigSchema } from '../services/http/access.ts';

/** The default topics and group: the local secure broker (streams/broker) grants its ACLs on these. */
export const DEFAULT_STREAM_TOPICS = {
  input: 'leakguard.transactions',
  decisions: 'leakguard.decisions',
  flagged: 'leakguard.flagged',
  deadLetter: 'leakguard.dead-letter',
} as const;
export const DEFAULT_STREAM_GROUP_ID = 'leakguard-stream';

const int = (def: number, min: number, max: number) => wholeNumber(min, max).default(def);
const topicName = (def: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be 1-249 letters, digits, . _ or - (a Kafka topic name)')
    .refine((v) => v !== '.' && v !== '..', 'must not be . or ..')
    .default(def);
const brokerList = z
  .string()
  .trim()
  .min(1, 'is required: the Kafka bootstrap servers, e.g. kafka:9092 or host1:9092,host2:9092')
  .transform((v) =>
    v
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:]+\]:\d{1,5}$/, 'each entry must be host:port'))
      .min(1, 'must name at least one broker'),
  );

export const streamConfigSchema = z.object({
  KAFKA_BROKERS: brokerList,
  LEAKGUARD_STREAM_CLIENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, 'must be 1-100 letters, digits, . _ -')
    .default('leakguard-stream'),
  LEAKGUARD_STREAM_GROUP_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'must be 1-200 letters, digits, . _ -')
    .default(DEFAULT_STREAM_GROUP_ID),
  LEAKGUARD_STREAM_INPUT_TOPIC: topicName(DEFAULT_STREAM_TOPICS.input),
  LEAKGUARD_STREAM_DECISIONS_TOPIC: topicName(DEFAULT_STREAM_TOPICS.decisions),
  LEAKGUARD_STREAM_FLAGGED_TOPIC: topicName(DEFAULT_STREAM_TOPICS.flagged),
  LEAKGUARD_STREAM_DEAD_LETTER_TOPIC: topicName(DEFAULT_STREAM_TOPICS.deadLetter),
  /** Partitions of the input, decisions and flagged topics when the processor creates them. */
  LEAKGUARD_STREAM_PARTITIONS: int(6, 1, 10_000),
  LEAKGUARD_STREAM_DEAD_LETTER_PARTITIONS: int(1, 1, 10_000),
  /** Replication factor of created topics; unset: the broker's default.replication.factor. */
  LEAKGUARD_STREAM_REPLICATION_FACTOR: wholeNumber(1, 32).optional(),
  /** Most messages scored and published as one unit (one offset commit; produce requests of at most 512 KiB). */
  LEAKGUARD_STREAM_BATCH_SIZE: int(500, 1, 100_000),
  /** Offsets of published outputs are committed together at most this often (and at once on stop or rebalance). */
  LEAKGUARD_STREAM_COMMIT_INTERVAL_MS: int(200, 0, 60_000),
  /** Scorings in flight in this processor, all partitions together (one card's transactions stay in order). */
  LEAKGUARD_STREAM_CONCURRENCY: int(64, 1, 10_000),
  /** Partitions whose batches are processed at the same time. */
  LEAKGUARD_STREAM_PARTITIONS_CONCURRENTLY: int(6, 1, 1_000),
  /** pause: a degraded decision (Redis unreachable) is not published; consumption pauses and resumes when Redis is back. allow: degraded decisions are published. */
  LEAKGUARD_STREAM_DEGRADED: z.enum(['allow', 'pause']).default('pause'),
  /** While paused, how often the stores' readiness is checked. */
  LEAKGUARD_STREAM_RETRY_INTERVAL_MS: int(1_000, 50, 600_000),
  /** How often the set of known merchants (merchants with an active API key) is reloaded. */
  LEAKGUARD_STREAM_MERCHANTS_REFRESH_MS: int(30_000, 100, 86_400_000),
  /**
   * Scoring budget of the stream (replaces LEAKGUARD_DEADLINE_MS, the checkout budget, for this
   * process): nobody waits at a checkout, and a degraded answer costs a pause and a retry. An
   * unreachable Redis fails at once (no offline queue); this bounds a Redis that hangs.
   */
  LEAKGUARD_STREAM_DEADLINE_MS: int(2_000, 5, 10_000),
  LEAKGUARD_STREAM_SESSION_TIMEOUT_MS: int(30_000, 6_000, 300_000),
  LEAKGUARD_STREAM_HEARTBEAT_INTERVAL_MS: int(3_000, 100, 100_000),
  /** Most bytes fetched per partition per request (the Kafka client's default: 1 MiB). */
  LEAKGUARD_STREAM_FETCH_BYTES_PER_PARTITION: int(256 * 1024, 16 * 1024, 64 * 1024 * 1024),
  /** How long a fetch waits for data when the topic is idle (or holds less than LEAKGUARD_STREAM_FETCH_MIN_BYTES). */
  LEAKGUARD_STREAM_MAX_WAIT_MS: int(100, 0, 30_000),
  /** A fetch is answered once this many bytes wait, or after LEAKGUARD_STREAM_MAX_WAIT_MS. */
  LEAKGUARD_STREAM_FETCH_MIN_BYTES: int(1, 1, 64 * 1024 * 1024),
  /** A new consumer group starts at the earliest offset (true) or only at new messages (false). */
  LEAKGUARD_STREAM_FROM_BEGINNING: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** Grace period for SIGTERM: finish the batch, commit, leave the group. */
  LEAKGUARD_STREAM_SHUTDOWN_TIMEOUT_MS: int(30_000, 1_000, 600_000),
  /** How often consumer lag is read from the broker for the metrics. */
  LEAKGUARD_STREAM_LAG_INTERVAL_MS: int(5_000, 100, 600_000),
  STREAM_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port (logged). */
  STREAM_METRICS_PORT: int(9464, 0, 65535),
});
export type StreamConfig = z.infer<typeof streamConfigSchema> & {
  /** SASL/SCRAM and TLS of the Kafka clients (KAFKA_SASL_*, KAFKA_TLS*: services/adapters/kafka/security.ts). */
  kafkaSecurity: KafkaSecurity;
  /** Bearer token for /metrics (LEAKGUARD_METRICS_TOKEN, the engine's variable and rule: services/http/access.ts). */
  metricsToken?: string | undefined;
};
export type StreamConfigInput = z.input<typeof streamConfigSchema>;

/**
 * Reads the stream settings; REDIS_URL is checked here too, because the stream has no embedded
 * mode, and the Kafka security settings (a password file is read now, once).
 */
export function loadStreamConfig(env: NodeJS.ProcessEnv = process.env): StreamConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const problems: string[] = [];
  if (!present.REDIS_URL && !present.REDIS_CLUSTER_NODES) {
    problems.push(
      '  REDIS_URL: is required for the stream processor (velocity counters must be shared and durable), e.g. redis://redis:6379, or REDIS_CLUSTER_NODES for a Redis Cluster',
    );
  }
  if (!present.KAFKA_BROKERS) present.KAFKA_BROKERS = '';
  const result = streamConfigSchema.safeParse(present);
  if (!result.success) problems.push(...issueLines(result.error, { root: '' }).map((line) => `  ${line}`));
  const c = result.data;
  if (c && c.LEAKGUARD_STREAM_HEARTBEAT_INTERVAL_MS * 3 > c.LEAKGUARD_STREAM_SESSION_TIMEOUT_MS) {
    problems.push(
      '  LEAKGUARD_STREAM_HEARTBEAT_INTERVAL_MS: must be at most a third of LEAKGUARD_STREAM_SESSION_TIMEOUT_MS',
    );
  }
  const kafka = kafkaSecurityProblems(present);
  problems.push(...kafka.problems);
  if (
    c &&
    new Set([
      c.LEAKGUARD_STREAM_INPUT_TOPIC,
      c.LEAKGUARD_STREAM_DECISIONS_TOPIC,
      c.LEAKGUARD_STREAM_FLAGGED_TOPIC,
      c.LEAKGUARD_STREAM_DEAD_LETTER_TOPIC,
    ]).size < 4
  ) {
    problems.push(
      '  LEAKGUARD_STREAM_INPUT_TOPIC: the input, decisions, flagged and dead-letter topics must be four different topics',
    );
  }
  // The scrape token: the engine's variable, checked the same way (services/http/access.ts).
  const token = accessConfigSchema.pick({ LEAKGUARD_METRICS_TOKEN: true }).safeParse({
    LEAKGUARD_METRICS_TOKEN: present.LEAKGUARD_METRICS_TOKEN,
  });
  if (!token.success) problems.push(...issueLines(token.error, { root: '' }).map((line) => `  ${line}`));
  if (problems.length > 0 || !c || !token.success)
    throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  const metricsToken = token.data.LEAKGUARD_METRICS_TOKEN;
  return { ...c, kafkaSecurity: kafka.security, ...(metricsToken ? { metricsToken } : {}) };
}

/** For tests and tools: a full configuration from a few settings (no SASL, no TLS unless given). */
export function streamConfig(over: StreamConfigInput, kafkaSecurity: KafkaSecurity = {}): StreamConfig {
  return { ...streamConfigSchema.parse(over), kafkaSecurity };
}

/** KAFKA_SASL_* and KAFKA_TLS* from the environment; a bad value is a ConfigError naming the variable. */
export function loadKafkaSecurity(env: Record<string, string | undefined> = process.env): KafkaSecurity {
  const { security, problems } = kafkaSecurityProblems(env);
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  return security;
}
