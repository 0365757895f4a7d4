// The KafkaClient of client.ts on kafkajs: the only file that imports it (kafka.ts picks it). Its
// logs go through the PAN-safe logger, and it authenticates and encrypts as the environment says
// (security.ts).
import './record-batch-checksum.ts'; // first: before kafkajs loads its checksum module
import './request-queue-idle.ts'; // no 1 ms polling of idle connections
import kafkajs, {
  type Admin,
  type Consumer,
  type ICustomPartitioner,
  type Kafka,
  type KafkaConfig,
  type logCreator,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import type { Logger } from '../../logger.ts';
import type {
  AclGrant,
  BatchPayload,
  CommitOffsets,
  ConsumerOptions,
  KafkaAdmin,
  KafkaClient,
  KafkaClientOptions,
  KafkaConsumer,
  KafkaProducer,
  ProducedRecord,
  ProducerOptions,
  TopicMessages,
  TopicSpec,
} from './client.ts';
import type { KafkaSecurity } from './security.ts';
import { partitionOfKey } from './partitioner.ts';
import { inRequests } from './requests.ts';

const {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka: KafkajsKafka,
  logLevel,
  Partitioners,
  ResourcePatternTypes,
} = kafkajs;

/**
 * kafkajs's DefaultPartitioner, partition for partition (a key lands where a Java producer would
 * put it), with the key's hash taken by partitioner.ts instead of on kafkajs's Long objects.
 * A message with a partition or without a key goes to kafkajs's own, unchanged.
 */
export const javaCompatiblePartitioner: ICustomPartitioner = () => {
  const theirs = Partitioners.DefaultPartitioner();
  return (args) => {
    const { message, partitionMetadata } = args;
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    if (message.key === null || message.key === undefined) return theirs(args);
    return partitionOfKey(message.key, partitionMetadata.length);
  };
};

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

function kafkaLevel(pinoLevel: string): kafkajs.logLevel {
  switch (pinoLevel) {
    case 'silent':
      return logLevel.NOTHING;
    case 'fatal':
    case 'error':
      return logLevel.ERROR;
    case 'warn':
      return logLevel.WARN;
    case 'info':
      return logLevel.INFO;
    default:
      return logLevel.DEBUG;
  }
}

/** kafkajs log entries as structured lines of our logger (which masks card-number-shaped digits). */
export function kafkaLogCreator(logger: Logger): logCreator {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _name, ...extra } = log;
      // kafkajs logs every error answer of the broker at ERROR and then retries it ("coordinator
      // not available" at every first join, leader elections, a broker restart): a warning here.
      // What kafkajs gives up on surfaces as a consumer crash, which the processor logs as an error.
      const method = level === logLevel.ERROR && namespace === 'Connection' ? 'warn' : (LEVELS[level] ?? 'info');
      child[method]({ namespace, ...extra }, message);
    };
}

/** The kafkajs settings of a KafkaSecurity: every Leakguard client connects through these. */
export function kafkaSecurityOptions(security: KafkaSecurity = {}): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  return {
    ...(security.tls ? { ssl: security.tls.ca ? { ca: [security.tls.ca] } : true } : {}),
    // kafkajs types each mechanism apart; a ScramMechanism is one of its own.
    ...(security.sasl ? { sasl: { ...security.sasl } as SASLOptions } : {}),
  };
}

/** A KafkaClient with exactly the settings given; what is unset is kafkajs's default. */
export function kafkajsClient(options: KafkaClientOptions): KafkaClient {
  const { log, retry } = options;
  return new KafkajsClient(
    new KafkajsKafka({
      clientId: options.clientId,
      brokers: options.brokers,
      ...kafkaSecurityOptions(options.security),
      ...(log === undefined
        ? { logLevel: logLevel.NOTHING }
        : log === 'console'
          ? { logLevel: logLevel.WARN }
          : { logLevel: kafkaLevel(log.level), logCreator: kafkaLogCreator(log) }),
      ...(options.connectionTimeoutMs === undefined ? {} : { connectionTimeout: options.connectionTimeoutMs }),
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeout: options.requestTimeoutMs }),
      ...(retry === undefined
        ? {}
        : {
            retry: {
              ...(retry.initialRetryTimeMs === undefined ? {} : { initialRetryTime: retry.initialRetryTimeMs }),
              ...(retry.maxRetryTimeMs === undefined ? {} : { maxRetryTime: retry.maxRetryTimeMs }),
              ...(retry.retries === undefined ? {} : { retries: retry.retries }),
            },
          }),
    }),
  );
}

/** A KafkaClient on a kafkajs client made elsewhere (the tests' harness). */
export class KafkajsClient implements KafkaClient {
  private readonly kafka: Kafka;

  constructor(kafka: Kafka) {
    this.kafka = kafka;
  }

  admin(): KafkaAdmin {
    return new KafkajsAdmin(this.kafka.admin());
  }

  producer(options: ProducerOptions = {}): KafkaProducer {
    return new KafkajsProducer(
      this.kafka.producer({
        allowAutoTopicCreation: options.autoCreateTopics ?? false,
        createPartitioner: javaCompatiblePartitioner,
        ...(options.idempotent ? { idempotent: true, maxInFlightRequests: 1 } : {}),
      }),
    );
  }

  consumer(options: ConsumerOptions): KafkaConsumer {
    return new KafkajsConsumer(
      this.kafka.consumer({
        groupId: options.groupId,
        sessionTimeout: options.sessionTimeoutMs,
        rebalanceTimeout: options.rebalanceTimeoutMs,
        heartbeatInterval: options.heartbeatIntervalMs,
        maxWaitTimeInMs: options.maxWaitMs,
        ...(options.minBytes === undefined ? {} : { minBytes: options.minBytes }),
        maxBytesPerPartition: options.maxBytesPerPartition,
        allowAutoTopicCreation: false,
        retry: { restartOnFailure: options.restartOnFailure },
      }),
    );
  }
}

class KafkajsAdmin implements KafkaAdmin {
  private readonly admin: Admin;

  constructor(admin: Admin) {
    this.admin = admin;
  }

  connect = () => this.admin.connect();
  disconnect = () => this.admin.disconnect();
  listTopics = () => this.admin.listTopics();
  createTopics = (options: { topics: TopicSpec[]; waitForLeaders?: boolean }) => this.admin.createTopics(options);
  fetchTopicMetadata = (options: { topics: string[] }) => this.admin.fetchTopicMetadata(options);
  fetchTopicOffsets = (topic: string) => this.admin.fetchTopicOffsets(topic);
  fetchOffsets = (options: { groupId: string; topics: string[] }) => this.admin.fetchOffsets(options);
  describeCluster = () => this.admin.describeCluster();

  async createAcls(grants: AclGrant[]): Promise<void> {
    await this.admin.createAcls({
      acl: grants.map((grant) => ({
        resourceType: grant.resource === 'topic' ? AclResourceTypes.TOPIC : AclResourceTypes.GROUP,
        resourceName: grant.name,
        resourcePatternType: ResourcePatternTypes.LITERAL,
        principal: grant.principal,
        host: '*',
        operation: grant.operation === 'read' ? AclOperationTypes.READ : AclOperationTypes.WRITE,
        permissionType: AclPermissionTypes.ALLOW,
      })),
    });
  }
}

class KafkajsProducer implements KafkaProducer {
  private readonly producer: Producer;

  constructor(producer: Producer) {
    this.producer = producer;
  }

  connect = () => this.producer.connect();
  disconnect = () => this.producer.disconnect();
  // kafkajs's send is this with one topic.
  send = async (batches: TopicMessages[]): Promise<ProducedRecord[]> => {
    const produced: ProducedRecord[] = [];
    for (const request of inRequests(batches))
      produced.push(...(await this.producer.sendBatch({ acks: -1, topicMessages: request })));
    return produced;
  };
}

class KafkajsConsumer implements KafkaConsumer {
  private readonly consumer: Consumer;

  constructor(consumer: Consumer) {
    this.consumer = consumer;
  }

  connect = () => this.consumer.connect();
  disconnect = () => this.consumer.disconnect();
  subscribe = (options: { topics: string[]; fromBeginning: boolean }) => this.consumer.subscribe(options);

  run(options: {
    partitionsConsumedConcurrently: number;
    eachBatch: (payload: BatchPayload) => Promise<void>;
  }): Promise<void> {
    return this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
      eachBatch: (payload) =>
        options.eachBatch({
          batch: payload.batch,
          resolveOffset: payload.resolveOffset,
          heartbeat: payload.heartbeat,
          // With offsets given, kafkajs commits exactly those, at once.
          commitOffsets: payload.commitOffsetsIfNecessary,
          isRunning: payload.isRunning,
          isStale: payload.isStale,
          seek: (offset) =>
            this.consumer.seek({ topic: payload.batch.topic, partition: payload.batch.partition, offset }),
        }),
    });
  }

  async commitOffsets(offsets: CommitOffsets): Promise<void> {
    await this.consumer.commitOffsets(
      offsets.topics.flatMap(({ topic, partitions }) =>
        partitions.map(({ partition, offset }) => ({ topic, partition, offset })),
      ),
    );
  }

  pause(topics: string[]): void {
    this.consumer.pause(topics.map((topic) => ({ topic })));
  }

  resume(topics: string[]): void {
    this.consumer.resume(topics.map((topic) => ({ topic })));
  }

  onGroupJoin(listener: (event: { memberId: string; assignment: Record<string, number[]> }) => void): void {
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) =>
      listener({ memberId: event.payload.memberId, assignment: event.payload.memberAssignment }),
    );
  }

  // kafkajs emits it (its heartbeat between fetches, or a batch handler's error, saw the rebalance)
  // right before it rejoins; a commit requested then reaches the coordinator ahead of the join,
  // which first looks the coordinator up.
  onRebalancing(listener: () => void): void {
    this.consumer.on(this.consumer.events.REBALANCING, () => listener());
  }

  onCrash(listener: (event: { error: Error; restart: boolean }) => void): void {
    this.consumer.on(this.consumer.events.CRASH, (event) =>
      listener({ error: event.payload.error, restart: event.payload.restart }),
    );
  }
}
