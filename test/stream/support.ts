// Helpers of the stream tests: the shared broker, a harness per test (its own Redis, topics and
// consumer group; merchants m1 and m2 with API keys; the HTTP app on the same Redis and card
// key), processors in process or as child processes, readers of the output topics, and
// transaction generators.
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs, { type Admin, type Consumer, type Kafka, type KafkaConfig, type Producer } from 'kafkajs';
import { inject } from 'vitest';
import type { KafkaClient as LeakguardKafkaClient } from '../../services/adapters/kafka/client.ts';
import { KafkajsClient } from '../../services/adapters/kafka/kafkajs-client.ts';
import { loadConfig } from '../../services/config.ts';
import { fingerprintWith, luhnValid } from '../../services/core/card.ts';
import { subIdentities } from '../../services/core/velocity.ts';
import { REDIS_KEYS as keys } from '../../services/adapters/redis/keys.ts';
import type { Redis } from 'ioredis';
import { createLogger } from '../../services/logger.ts';
import { startKafka } from '../../streams/broker/local-kafka.ts';
import { loadStreamConfig, type StreamConfig } from '../../streams/config.ts';
import { createKafka } from '../../services/adapters/kafka/kafka.ts';
import { StreamMetrics } from '../../streams/metrics.ts';
import { StreamProcessor, type ScoringEngine } from '../../streams/processor/processor.ts';
import type { DeadLetterMessage, DecisionMessage, TransactionMessageInput } from '../../streams/messages.ts';
import { createStreamService, type StreamService } from '../../streams/service.ts';
import { createTopics } from '../../streams/topics.ts';
import { RedisServer } from '../support/redis-server.ts';
import { NodeProcess } from '../support/engine-process.ts';
import { buildTestApp, TEST_CARD_KEY, type TestApp } from '../support/app.ts';

const { Kafka: KafkaClient, logLevel, Partitioners } = kafkajs;
export const REPO = fileURLToPath(new URL('../../', import.meta.url));

export const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The broker shared by all stream test files (started by the first one to ask). */
export async function sharedBroker(): Promise<string> {
  return (await startKafka({ stateDir: inject('streamKafkaStateDir') })).bootstrap;
}

/** `security`: SASL (and TLS) for a secure broker, e.g. { sasl: userSasl(credentials, 'admin') }. */
export function kafkaClient(
  bootstrap: string,
  clientId = 'stream-test',
  security: Pick<KafkaConfig, 'sasl' | 'ssl'> = {},
): Kafka {
  return new KafkaClient({
    clientId,
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5_000 },
    ...security,
  });
}

/** Transactions in a merchant's velocity log: summed over its sub-identities (docs/redis-cluster.md). */
export async function merchantLogSize(probe: Redis, merchant: string): Promise<number> {
  let n = 0;
  for (const sub of subIdentities('merchant', merchant)) n += await probe.zcard(keys.log('merchant', sub));
  return n;
}

export const fingerprint = (pan: string) =>
  fingerprintWith({ id: 'test', secret: Buffer.from(TEST_CARD_KEY, 'hex') }, pan);

/** A Luhn-valid card number with the given prefix. */
export function cardNumber(prefix = '4', length = 16): string {
  let body = prefix;
  while (body.length < length - 1) body += String(randomInt(10));
  for (let check = 0; check < 10; check++) if (luhnValid(body + check)) return body + check;
  throw new Error('unreachable');
}

/** Runs of 12 or more digits (spaces, dashes, dots, slashes, underscores between them): no output may hold one. */
export function longDigitRuns(text: string): string[] {
  return [...text.matchAll(/\d(?:[ ._/-]?\d){11,}/g)].map((m) => m[0]);
}

export interface GeneratedTx {
  input: TransactionMessageInput;
  pan: string;
}

/**
 * Transactions over a small pool of cards so that cards repeat (per-card order and counters
 * matter) and some decisions are not approve: CVV mismatches, small-amount card testing.
 */
export function generateTransactions(
  n: number,
  options: { cards?: string[]; merchants?: string[]; prefix?: string; start?: number } = {},
): GeneratedTx[] {
  const cards = options.cards ?? Array.from({ length: 25 }, () => cardNumber());
  const merchants = options.merchants ?? ['m1', 'm2'];
  const prefix = options.prefix ?? `tx-${randomBytes(3).toString('hex')}`;
  // Event times one millisecond apart, as a real feed has them. (A transaction scored again after a
  // crash gets the reading kept in its marker since it was counted: the same decision either way.)
  const start = options.start ?? Date.now() - 60_000;
  return Array.from({ length: n }, (_, i) => {
    const pan = cards[i % cards.length]!;
    const small = i % 7 === 0;
    return {
      pan,
      input: {
        merchantId: merchants[i % merchants.length]!,
        transactionId: `${prefix}-${i}`,
        occurredAt: new Date(start + i).toISOString(),
        amount: small ? 100 + (i % 3) : 1500 + ((i * 37) % 20000),
        currency: 'EUR',
        channel: 'ecommerce',
        card: {
          number: pan,
          expiryMonth: 1 + (i % 12),
          expiryYear: 2031,
          cvvResult: i % 11 === 0 ? 'mismatch' : 'match',
        },
        device: { id: `dev-${i % 40}`, ip: `203.0.113.${i % 50}` },
        customer: { email: `buyer${i % 60}@example.com` },
      },
    };
  });
}

export interface Harness {
  name: string;
  bootstrap: string;
  redis: RedisServer;
  app: TestApp;
  /** The harness's own kafkajs client, as Leakguard's Kafka client (for the producer helper). */
  kafka: LeakguardKafkaClient;
  admin: Admin;
  producer: Producer;
  topics: { input: string; decisions: string; flagged: string; deadLetter: string };
  groupId: string;
  /** Environment of a processor for this harness (child processes and in-process alike). */
  env: Record<string, string>;
  /** Sends raw messages to the input topic (acks -1). */
  produce(
    messages: { key?: string | null; value: string | null; partition?: number; headers?: Record<string, string> }[],
  ): Promise<void>;
  /** Sends generated transactions keyed by masked card (as streams/producer.ts does). */
  produceTransactions(txs: GeneratedTx[]): Promise<void>;
  /** Produces in slices of `slice` every `gapMs`, retrying a slice until the broker takes it (outages). */
  produceInBackground(txs: GeneratedTx[], slice?: number, gapMs?: number): { done: Promise<void>; sent(): number };
  startInProcess(env?: Record<string, string>): Promise<InProcess>;
  spawnProcessor(env?: Record<string, string>): ChildProcessor;
  reader(): Promise<OutputReader>;
  committedOffsets(): Promise<Map<number, bigint>>;
  endOffsets(): Promise<Map<number, bigint>>;
  /** How many messages the decisions topic holds (its partitions' end offsets summed): what a reader should find. */
  decisionsPublished(): Promise<bigint>;
  /** Whether the group committed every partition of the input to its end, and `p: committed/end` per partition. */
  commitProgress(): Promise<{ atEnd: boolean; text: string }>;
  close(): Promise<void>;
}

/** A processor's log lines that tell why a stream stalled: warnings and errors, its broker, group and commits. */
export function notableLines(lines: readonly string[], count = 20): string[] {
  return lines.filter((l) => /"level":(40|50|60)|commit|group|rebalanc|crash|reconnect|broker/i.test(l)).slice(-count);
}

export interface InProcess {
  service: StreamService;
  logs: string[];
  stop(): Promise<void>;
}

export interface HarnessOptions {
  bootstrap?: string;
  partitions?: number;
  env?: Record<string, string>;
  durableRedis?: boolean;
  /** SASL/TLS of the harness's own clients (admin, producer, readers): a secure broker's admin. */
  security?: Pick<KafkaConfig, 'sasl' | 'ssl'>;
  /** Fixed topics and group instead of fresh ones (a secure broker's ACLs name them). */
  topics?: Harness['topics'];
  groupId?: string;
}

export async function createHarness(name: string, options: HarnessOptions = {}): Promise<Harness> {
  const bootstrap = options.bootstrap ?? (await sharedBroker());
  // Whatever is started before a failure is stopped again: a failed set-up leaves no server behind.
  const undo: (() => Promise<unknown>)[] = [];
  try {
    return await buildHarness(name, bootstrap, options, undo);
  } catch (error) {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    throw error;
  }
}

async function buildHarness(
  name: string,
  bootstrap: string,
  options: HarnessOptions,
  undo: (() => Promise<unknown>)[],
): Promise<Harness> {
  const redis = await RedisServer.start({ durable: options.durableRedis ?? false });
  undo.push(() => redis.stop());
  const app = await buildTestApp({ REDIS_URL: redis.url, LOG_LEVEL: 'warn' });
  undo.push(() => app.close());
  const id = `${name}.${randomBytes(3).toString('hex')}`;
  const topics = options.topics ?? {
    input: `t.${id}.transactions`,
    decisions: `t.${id}.decisions`,
    flagged: `t.${id}.flagged`,
    deadLetter: `t.${id}.dead-letter`,
  };
  const groupId = options.groupId ?? `g.${id}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'lg-stream-state-'));
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    REDIS_URL: redis.url,
    KAFKA_BROKERS: bootstrap,
    LEAKGUARD_CARD_KEY: TEST_CARD_KEY,
    LEAKGUARD_STATE_DIR: stateDir,
    STREAM_METRICS_PORT: '0',
    LEAKGUARD_STREAM_GROUP_ID: groupId,
    LEAKGUARD_STREAM_INPUT_TOPIC: topics.input,
    LEAKGUARD_STREAM_DECISIONS_TOPIC: topics.decisions,
    LEAKGUARD_STREAM_FLAGGED_TOPIC: topics.flagged,
    LEAKGUARD_STREAM_DEAD_LETTER_TOPIC: topics.deadLetter,
    LEAKGUARD_STREAM_PARTITIONS: String(options.partitions ?? 4),
    LEAKGUARD_STREAM_MAX_WAIT_MS: '50',
    LEAKGUARD_STREAM_RETRY_INTERVAL_MS: '200',
    LEAKGUARD_STREAM_SESSION_TIMEOUT_MS: '10000',
    LEAKGUARD_STREAM_HEARTBEAT_INTERVAL_MS: '1000',
    LEAKGUARD_STREAM_LAG_INTERVAL_MS: '500',
    ...options.env,
  };
  undo.push(async () => rmSync(stateDir, { recursive: true, force: true }));
  const kafka = kafkaClient(bootstrap, `test-${name}`, options.security);
  const admin = kafka.admin();
  await admin.connect();
  undo.push(() => admin.disconnect());
  // Created here so producing can start before any processor (which would create them too).
  const partitions = options.partitions ?? 4;
  await createTopics(admin, [
    { topic: topics.input, numPartitions: partitions },
    { topic: topics.decisions, numPartitions: partitions },
    { topic: topics.flagged, numPartitions: partitions },
    { topic: topics.deadLetter, numPartitions: 1 },
  ]);
  // Idempotent: a send kafkajs retries (a leader not yet elected on a topic just made, a slow
  // broker) must not write the inputs twice, or a clean run would see more inputs than it sent.
  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();

  const inProcess: InProcess[] = [];
  const children: ChildProcessor[] = [];
  const readers: OutputReader[] = [];

  const harness: Harness = {
    name,
    bootstrap,
    redis,
    app,
    kafka: new KafkajsClient(kafka),
    admin,
    producer,
    topics,
    groupId,
    env,
    async produce(messages) {
      await producer.send({
        topic: topics.input,
        acks: -1,
        messages: messages.map((m) => ({
          key: m.key ?? null,
          value: m.value,
          ...(m.partition === undefined ? {} : { partition: m.partition }),
          ...(m.headers ? { headers: m.headers } : {}),
        })),
      });
    },
    async produceTransactions(txs) {
      const { maskPan } = await import('../../services/core/card.ts');
      for (let i = 0; i < txs.length; i += 200) {
        await producer.send({
          topic: topics.input,
          acks: -1,
          messages: txs.slice(i, i + 200).map((t) => ({ key: maskPan(t.pan), value: JSON.stringify(t.input) })),
        });
      }
    },
    produceInBackground(txs, slice = 50, gapMs = 20) {
      let sent = 0;
      const done = (async () => {
        while (sent < txs.length) {
          try {
            await harness.produceTransactions(txs.slice(sent, sent + slice));
            sent += slice;
          } catch {
            await sleep(250);
            continue;
          }
          await sleep(gapMs);
        }
        sent = txs.length;
      })();
      return { done, sent: () => sent };
    },
    async startInProcess(extra = {}) {
      const all = { ...env, ...extra };
      const logs: string[] = [];
      const logger = createLogger(all.LOG_LEVEL ?? 'info', { write: (line: string) => logs.push(line) });
      const service = await createStreamService(loadConfig(all), loadStreamConfig(all), logger, {
        metricsServer: false,
      });
      await service.start();
      const handle: InProcess = { service, logs, stop: () => service.stop() };
      inProcess.push(handle);
      return handle;
    },
    spawnProcessor(extra = {}) {
      const child = new ChildProcessor({ ...env, ...extra });
      children.push(child);
      return child;
    },
    async reader() {
      const reader = await OutputReader.start(kafka, topics);
      readers.push(reader);
      return reader;
    },
    async committedOffsets() {
      const [t] = await admin.fetchOffsets({ groupId, topics: [topics.input] });
      return new Map((t?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    },
    async endOffsets() {
      return new Map((await admin.fetchTopicOffsets(topics.input)).map((p) => [p.partition, BigInt(p.high)]));
    },
    async decisionsPublished() {
      return (await admin.fetchTopicOffsets(topics.decisions)).reduce((n, p) => n + BigInt(p.high), 0n);
    },
    async commitProgress() {
      const [committed, ends] = await Promise.all([this.committedOffsets(), this.endOffsets()]);
      return {
        // A partition that never received a message has nothing to commit: the broker reports its
        // committed offset as -1 (none), which is at its end of 0 (60 random keys over 6 partitions
        // leave one empty now and then; that wait never ended).
        atEnd: [...ends].every(([p, end]) => {
          const at = committed.get(p) ?? -1n;
          return at === end || (end === 0n && at < 0n);
        }),
        text: [...ends].map(([p, end]) => `${p}: ${committed.get(p) ?? '-'}/${end}`).join(', '),
      };
    },
    async close() {
      await Promise.allSettled(readers.map((r) => r.close()));
      await Promise.allSettled(inProcess.map((p) => p.stop()));
      await Promise.allSettled(children.map((c) => c.kill('SIGKILL')));
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      await app.close().catch(() => undefined);
      await redis.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return harness;
}

export interface Output<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  /** Its headers, as text. */
  headers: Record<string, string>;
  raw: string;
  value: T;
}

/** Reads the three output topics from the beginning, in a group of its own. */
export class OutputReader {
  readonly decisions: Output<DecisionMessage>[] = [];
  readonly flagged: Output<DecisionMessage>[] = [];
  readonly deadLetters: Output<DeadLetterMessage>[] = [];
  /** Crashes of the reader's own consumer, and whether kafkajs restarts it (a test's diagnostics). */
  readonly crashes: { error: string; restart: boolean }[] = [];
  private readonly seen = new Set<string>();
  private readonly consumer: Consumer;

  private constructor(consumer: Consumer) {
    this.consumer = consumer;
  }

  static async start(kafka: Kafka, topics: Harness['topics']): Promise<OutputReader> {
    const consumer = kafka.consumer({
      groupId: `reader-${randomBytes(4).toString('hex')}`,
      maxWaitTimeInMs: 100,
      heartbeatInterval: 1000,
      sessionTimeout: 10_000,
    });
    const reader = new OutputReader(consumer);
    consumer.on(consumer.events.CRASH, ({ payload }) =>
      reader.crashes.push({ error: String(payload.error), restart: payload.restart }),
    );
    await consumer.connect();
    await consumer.subscribe({ topics: [topics.decisions, topics.flagged, topics.deadLetter], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        // The reader itself is at least once (a restart re-reads since its last auto-commit):
        // each output message is counted once, by its position.
        const position = `${topic}/${partition}/${message.offset}`;
        if (reader.seen.has(position)) return;
        reader.seen.add(position);
        const raw = message.value?.toString('utf8') ?? '';
        const out = {
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString('utf8') ?? null,
          headers: Object.fromEntries(
            Object.entries(message.headers ?? {}).map(([name, v]) => [name, String(Array.isArray(v) ? v[0] : v)]),
          ),
          raw,
          value: JSON.parse(raw),
        };
        if (topic === topics.decisions) reader.decisions.push(out);
        else if (topic === topics.flagged) reader.flagged.push(out);
        else reader.deadLetters.push(out);
      },
    });
    return reader;
  }

  /** Distinct input positions (partition/offset) covered by decisions and dead letters. */
  covered(): Set<string> {
    const s = new Set<string>();
    for (const d of this.decisions) s.add(`${d.value.source.partition}/${d.value.source.offset}`);
    for (const d of this.deadLetters) s.add(`${d.value.source.partition}/${d.value.source.offset}`);
    return s;
  }

  async close(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/** `npm run stream` as a child process (node streams/main.ts), its log lines collected. */
export class ChildProcessor extends NodeProcess {
  constructor(env: Record<string, string>) {
    super('processor', 'streams/main.ts', env);
  }

  logged(text: string): boolean {
    return this.lines.some((l) => l.includes(text));
  }

  async waitForLog(text: string, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `"${text}" in the processor's log (last lines: ${this.lines.slice(-5).join(' | ')})`,
      () => {
        if (!this.running && !this.logged(text))
          throw new Error(`processor exited before logging "${text}":\n${this.lines.slice(-20).join('\n')}`);
        return this.logged(text);
      },
      timeoutMs,
    );
  }

  async kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.process.kill(signal);
    return this.exited;
  }
}

/** A processor around a stand-in engine, in this process: every merchant known, every card fingerprint 'fp'. */
export function standInProcessor(
  config: StreamConfig,
  engine: ScoringEngine,
  clientId: string,
  metrics = new StreamMetrics(),
): StreamProcessor {
  const logger = createLogger('warn');
  return new StreamProcessor({
    engine,
    kafka: createKafka({ brokers: config.KAFKA_BROKERS, clientId, logger }),
    config,
    logger,
    metrics,
    merchants: { status: async () => 'known' },
    identify: (pan) => ({ bin: pan.slice(0, 6), last4: pan.slice(-4), fingerprint: 'fp', keyId: 'k' }),
    ready: async () => true,
  });
}
