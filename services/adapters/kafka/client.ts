// Leakguard's Kafka client: the part of a Kafka client library that Leakguard uses, in one
// interface. The stream processor (streams/processor/), the transaction producer
// (streams/producer.ts), the topic set-up (streams/topics.ts), the labels sink (labels-sink.ts)
// and the broker tooling (streams/broker/) use only this. One implementation, kafkajs-client.ts,
// is the only file that imports kafkajs; streams/KAFKA-CLIENT.md says what another one must keep.
//
// The admin's call shapes are kafkajs's (object arguments, offsets as decimal strings), so that a
// kafkajs Admin is a TopicAdmin as it is: the benchmarks and the tests' harness create topics
// through streams/topics.ts with their own kafkajs clients.
// Nothing here depends on a library.
import type { Logger } from '../../logger.ts';
import type { KafkaSecurity } from './security.ts';

export interface KafkaClient {
  admin(): KafkaAdmin;
  producer(options?: ProducerOptions): KafkaProducer;
  consumer(options: ConsumerOptions): KafkaConsumer;
}

/** How a client connects (kafka.ts: kafkaClient, createKafka). */
export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  /** SASL/SCRAM and TLS; unset: plaintext, no authentication. */
  security?: KafkaSecurity;
  /**
   * The client library's own log lines: into Leakguard's logger (which masks card numbers) at its
   * level; 'console': the library's own console output, warnings and errors; unset: none.
   */
  log?: Logger | 'console';
  /** Unset: the library's defaults (kafkajs: 1 s to connect, 30 s a request). */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** How often and how patiently a failed request is retried; unset: the library's defaults. */
  retry?: { retries?: number; initialRetryTimeMs?: number; maxRetryTimeMs?: number };
}

// ---------------------------------------------------------------- errors

/**
 * Broker refusals are errors whose `type` is the Kafka protocol's error name (e.g.
 * TOPIC_AUTHORIZATION_FAILED); a request over several topics may fail with an error listing
 * them in `errors`. Every implementation reports them so; this reads them.
 */
export function isAuthorizationError(error: unknown): boolean {
  const e = error as { type?: string; errors?: { type?: string }[] };
  return (
    e.type === 'TOPIC_AUTHORIZATION_FAILED' ||
    e.type === 'CLUSTER_AUTHORIZATION_FAILED' ||
    (e.errors ?? []).some((x) => x.type === 'TOPIC_AUTHORIZATION_FAILED' || x.type === 'CLUSTER_AUTHORIZATION_FAILED')
  );
}

const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/**
 * The broker refused a message (or a batch) for its size: refused again however often it is sent.
 * The refusal may come wrapped (a client's non-retriable error keeps it as `cause`) or listed in
 * `errors`.
 */
export function isMessageTooLargeError(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 4) return false;
  const e = error as { type?: string; cause?: unknown; errors?: unknown[] };
  return (
    TOO_LARGE.has(e.type ?? '') ||
    isMessageTooLargeError(e.cause, depth + 1) ||
    (Array.isArray(e.errors) && e.errors.some((x) => isMessageTooLargeError(x, depth + 1)))
  );
}

// ---------------------------------------------------------------- admin

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  /** Unset: the broker's default.replication.factor. */
  replicationFactor?: number;
  /** Topic-level settings (e.g. retention.ms); unset: the broker's defaults. */
  configEntries?: { name: string; value: string }[];
}

/** What creating topics and waiting for their leaders needs (streams/topics.ts). */
export interface TopicAdmin {
  /** The topics this client may see (under ACLs: those it may describe). */
  listTopics(): Promise<string[]>;
  /** Creates the topics in one request; one that exists already fails it. */
  createTopics(options: { topics: TopicSpec[]; waitForLeaders?: boolean }): Promise<boolean>;
  /** Partitions and their leaders (-1: none yet). */
  fetchTopicMetadata(options: {
    topics: string[];
  }): Promise<{ topics: { name: string; partitions: { partitionId: number; leader: number }[] }[] }>;
}

/** An ACL that allows one principal one operation on one literal resource name, from any host. */
export interface AclGrant {
  resource: 'topic' | 'group';
  name: string;
  /** e.g. User:leakguard-stream */
  principal: string;
  operation: 'read' | 'write';
}

export interface KafkaAdmin extends TopicAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Per partition: the earliest (`low`) and next (`high`) offset. */
  fetchTopicOffsets(topic: string): Promise<{ partition: number; high: string; low: string }[]>;
  /** A group's committed offsets per topic and partition; "-1": none. */
  fetchOffsets(options: {
    groupId: string;
    topics: string[];
  }): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
  describeCluster(): Promise<{ brokers: { nodeId: number; host: string; port: number }[] }>;
  /** Adds the grants; one that exists already is no change. */
  createAcls(grants: AclGrant[]): Promise<void>;
}

// ---------------------------------------------------------------- producer

export interface ProducerOptions {
  /** Idempotent delivery, one request in flight: the client's own retries add no duplicates. */
  idempotent?: boolean;
  /** Lets a broker that allows it create a topic on the first send (default: no). */
  autoCreateTopics?: boolean;
}

export interface OutgoingMessage {
  key?: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Record<string, string>;
  /** Unset: murmur2 of the key (the Java client's default partitioner), round robin without a key. */
  partition?: number;
  /** Milliseconds since the epoch, decimal; unset: the time of sending. */
  timestamp?: string;
}

export interface TopicMessages {
  topic: string;
  messages: OutgoingMessage[];
}

/** What the broker answered for one partition written to; errorCode 0 is success. */
export interface ProducedRecord {
  topicName: string;
  partition: number;
  errorCode: number;
  baseOffset?: string;
  logAppendTime?: string;
  logStartOffset?: string;
}

export interface KafkaProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /**
   * Sends every message, acknowledged by all in-sync replicas (acks=-1): in one request, or one after
   * the other in requests of bounded size (requests.ts) when they are more than the broker takes at once.
   */
  send(batches: TopicMessages[]): Promise<ProducedRecord[]>;
}

// ---------------------------------------------------------------- consumer

export interface ConsumerOptions {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** How long a fetch waits for data on an idle partition. */
  maxWaitMs: number;
  /** The broker answers a fetch once this many bytes wait, or after maxWaitMs (default 1: at once). */
  minBytes?: number;
  maxBytesPerPartition: number;
  /**
   * Asked when the consumer failed in a way the client retried in vain: true restarts it (an
   * onCrash event with restart=true), false leaves it stopped (restart=false).
   */
  restartOnFailure: (error: Error) => Promise<boolean>;
}

export interface ConsumedMessage {
  offset: string;
  /** The record's timestamp: milliseconds since the epoch, decimal. */
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  /** The record's headers, as the client gives them (a name sent twice: an array; a header without a value: null). */
  headers?: Record<string, Buffer | string | null | (Buffer | string | null)[] | undefined>;
}

export interface ConsumedBatch {
  topic: string;
  partition: number;
  /** The partition's next offset when the batch was fetched. */
  highWatermark: string;
  messages: ConsumedMessage[];
  /**
   * The offset of the last record the fetch held, records not handed over included (a
   * transaction's commit marker, aborted records): at or past the last message's offset.
   */
  lastOffset(): string;
}

export interface CommitOffsets {
  topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
}

/** One fetched batch of one partition, and what its handler may do meanwhile. */
export interface BatchPayload {
  batch: ConsumedBatch;
  /** Marks an offset processed: this member does not hand it out again after a rebalance or a pause. */
  resolveOffset(offset: string): void;
  /** Keeps the group membership alive during a long batch; rejects when a rebalance is under way. */
  heartbeat(): Promise<void>;
  /** Commits these offsets (each the next one to read) now, whatever batch they came from. */
  commitOffsets(offsets: CommitOffsets): Promise<void>;
  /** False once the consumer is stopping. */
  isRunning(): boolean;
  /** True when the partition was seeked elsewhere: the rest of this batch is outdated. */
  isStale(): boolean;
  /** Moves this batch's partition: its next fetch starts at `offset` (the rest of this batch is outdated). */
  seek(offset: string): void;
}

export interface KafkaConsumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(options: { topics: string[]; fromBeginning: boolean }): Promise<void>;
  /**
   * Consumes in the background. Nothing is resolved or committed on the consumer's own: only what
   * the handler resolves and commits. A handler that throws has the batch fetched again.
   */
  run(options: {
    partitionsConsumedConcurrently: number;
    eachBatch: (payload: BatchPayload) => Promise<void>;
  }): Promise<void>;
  /**
   * Commits these offsets (each the next one to read) now, outside any batch, as this member of the
   * group's current generation. May do nothing while the consumer is not running (kafkajs): a caller
   * that must know reads the offsets back.
   */
  commitOffsets(offsets: CommitOffsets): Promise<void>;
  /** Stops fetching these topics (the batch in flight goes on) until resume. */
  pause(topics: string[]): void;
  resume(topics: string[]): void;
  /** After each join of the group: the member's id and its partitions per topic. */
  onGroupJoin(listener: (event: { memberId: string; assignment: Record<string, number[]> }) => void): void;
  /**
   * When the member learns, between batches, that the group rebalances, just before it rejoins
   * (a rebalance seen by a batch handler's heartbeat() is the handler's to act on). A commit started
   * then goes out as this member of the generation ending, ahead of its rejoin: the broker takes it.
   */
  onRebalancing(listener: () => void): void;
  /** When the consumer failed; `restart`: whether it restarts on its own. */
  onCrash(listener: (event: { error: Error; restart: boolean }) => void): void;
}
