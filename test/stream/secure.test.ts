// Kafka security end to end (#13): a broker with a SASL/SCRAM listener and ACLs, as
// `npm run kafka -- start --secure` runs it (its own state dir here), and the users it made. The
// processor, connecting with credentials that may read the transactions and write the outputs
// and its group, scores and publishes; valid credentials without write permission on the
// transactions cannot inject any; wrong credentials, or none, do not get in.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type KafkaConfig } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../services/logger.ts';
import {
  kafkaStatus,
  readCredentials,
  startKafka,
  stopKafka,
  userSasl,
  type KafkaCredentials,
  type RunningKafka,
} from '../../streams/broker/local-kafka.ts';
import { DEFAULT_STREAM_GROUP_ID, DEFAULT_STREAM_TOPICS, loadKafkaSecurity } from '../../streams/config.ts';
import { TransactionProducer } from '../../streams/producer.ts';
import {
  createHarness,
  generateTransactions,
  kafkaClient,
  notableLines,
  waitFor,
  type Harness,
  type InProcess,
  type OutputReader,
} from './support.ts';

const { Kafka, logLevel, Partitioners } = kafkajs;

const stateDir = mkdtempSync(join(tmpdir(), 'lg-kafka-secure-'));
let broker: RunningKafka;
let credentials: KafkaCredentials;
let h: Harness;
let processor: InProcess;
let reader: OutputReader;

/** The environment a deployment gives a client: the password through a file, never inline. */
const saslEnv = (user: string): Record<string, string> => ({
  KAFKA_SASL_MECHANISM: 'scram-sha-512',
  KAFKA_SASL_USERNAME: user,
  KAFKA_SASL_PASSWORD_FILE: credentials.users[user]!.passwordFile,
});

/** kafkajs reports an authorization failure itself or as the cause of a non-retriable error. */
const errorType = (error: unknown) =>
  (error as { type?: string }).type ?? (error as { cause?: { type?: string } }).cause?.type;

beforeAll(async () => {
  broker = await startKafka({ stateDir, secure: true });
  // Should the worker die before afterAll, the broker (detached, its own process group) dies with it.
  process.once('exit', () => {
    try {
      process.kill(-broker.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  });
  credentials = readCredentials(stateDir)!;
  // The harness (topic set-up, readers) is the admin; the processor is leakguard-stream.
  h = await createHarness('secure', {
    bootstrap: broker.bootstrap,
    partitions: 6,
    security: { sasl: userSasl(credentials, 'admin') },
    topics: DEFAULT_STREAM_TOPICS,
    groupId: DEFAULT_STREAM_GROUP_ID,
  });
  // Debug level, kafkajs' own lines included: none of them may carry the password.
  processor = await h.startInProcess({ ...saslEnv('leakguard-stream'), LOG_LEVEL: 'debug' });
  reader = await h.reader();
}, 300_000);

afterAll(async () => {
  try {
    await h?.close();
    if (broker) await stopKafka(stateDir);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}, 120_000);

describe('Kafka security (SASL/SCRAM and ACLs)', () => {
  it('makes the users and password files it names, mode 0600, and writes no password to the broker log', () => {
    expect(broker.credentialsFile).toBe(join(stateDir, 'credentials.json'));
    expect(Object.keys(credentials.users).sort()).toEqual([
      'admin',
      'leakguard-console',
      'leakguard-producer',
      'leakguard-stream',
    ]);
    for (const file of [
      broker.credentialsFile!,
      join(stateDir, 'server.properties'),
      ...Object.values(credentials.users).map((u) => u.passwordFile),
    ]) {
      expect(statSync(file).mode & 0o777, file).toBe(0o600);
    }
    const logs =
      readFileSync(join(stateDir, 'broker.log'), 'utf8') + readFileSync(join(stateDir, 'broker.out'), 'utf8');
    expect(logs).toContain('authorizer.class.name = org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    for (const user of Object.values(credentials.users)) expect(logs).not.toContain(user.password);
  });

  it('keeps the state dir secure: reused as such, reported as such, never silently started plain', async () => {
    expect(await startKafka({ stateDir })).toMatchObject({
      reused: true,
      pid: broker.pid,
      credentialsFile: broker.credentialsFile,
    });
    expect(await kafkaStatus(stateDir)).toMatchObject({ state: 'running', credentialsFile: broker.credentialsFile });
    await expect(startKafka({ stateDir, secure: false })).rejects.toThrow(/holds a secure broker/);
  });

  it('scores and publishes with credentials that read the transactions and write the outputs and the group', async () => {
    // The merchants' feed writes through the project's producer, configured as a deployment would.
    const feed = new TransactionProducer({
      brokers: [broker.bootstrap],
      security: loadKafkaSecurity(saslEnv('leakguard-producer')),
      logger: createLogger('silent'),
    });
    await feed.connect();
    const txs = generateTransactions(60, { prefix: 'secure' });
    try {
      await feed.send(txs.map((t) => t.input));
    } finally {
      await feed.disconnect();
    }

    await waitFor('a decision for every transaction', () => reader.decisions.length >= txs.length, 90_000);
    expect(new Set(reader.decisions.map((d) => d.value.transactionId))).toEqual(
      new Set(txs.map((t) => t.input.transactionId)),
    );
    expect(reader.deadLetters).toEqual([]);
    const flagged = reader.decisions.filter((d) => d.value.decision !== 'approve').length;
    await waitFor('the flagged decisions', () => reader.flagged.length >= flagged, 10_000);
    // Committing offsets needs the group ACL: they reach the end of every partition.
    let offsets = '';
    await waitFor(
      'offsets committed to the end',
      async () => {
        const progress = await h.commitProgress();
        offsets = progress.text;
        return progress.atEnd;
      },
      // As long as the decisions may take: a busy machine delays the commit after them as much.
      90_000,
    ).catch((error: Error) => {
      // What the processor said about its group and its commits, to tell why they stopped short.
      throw new Error(
        `${error.message} (committed/end per partition: ${offsets})\n${notableLines(processor.logs).join('\n')}`,
      );
    });

    const logs = processor.logs.join('\n');
    expect(logs).toContain('"sasl":"scram-sha-512"');
    expect(logs).toContain('"username":"leakguard-stream"');
    for (const user of Object.values(credentials.users)) expect(logs).not.toContain(user.password);
  }, 120_000);

  it('refuses transactions from valid credentials without write permission on leakguard.transactions', async () => {
    const before = await h.endOffsets();
    // The console's labels producer, and the processor itself (it only reads its input).
    for (const user of ['leakguard-console', 'leakguard-stream']) {
      const producer = kafkaClient(broker.bootstrap, `inject-${user}`, { sasl: userSasl(credentials, user) }).producer({
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      // Authentication succeeds: the credentials are valid...
      await producer.connect();
      try {
        const [tx] = generateTransactions(1, { prefix: `inject-${user}` });
        // ...the produce is what fails.
        const error = await producer
          .send({
            topic: DEFAULT_STREAM_TOPICS.input,
            acks: -1,
            messages: [{ key: 'x', value: JSON.stringify(tx!.input) }],
          })
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(error, user).toBeInstanceOf(Error);
        expect(errorType(error), user).toBe('TOPIC_AUTHORIZATION_FAILED');
      } finally {
        await producer.disconnect();
      }
    }
    expect(await h.endOffsets()).toEqual(before);
    expect(reader.decisions.filter((d) => d.value.transactionId.startsWith('inject-'))).toEqual([]);
  });

  it('turns away wrong credentials, unknown users and clients without SASL', async () => {
    const attempt = async (security: Pick<KafkaConfig, 'sasl'>) => {
      const admin = new Kafka({
        clientId: 'intruder',
        brokers: [broker.bootstrap],
        logLevel: logLevel.NOTHING,
        connectionTimeout: 3_000,
        retry: { retries: 0 },
        ...security,
      }).admin();
      try {
        await admin.connect();
        await admin.listTopics();
        return undefined;
      } catch (error) {
        return error as Error;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    };
    const failed = 'KafkaJSSASLAuthenticationError';
    expect(
      await attempt({
        sasl: { mechanism: 'scram-sha-512', username: 'leakguard-stream', password: 'not-the-password' },
      }),
    ).toMatchObject({ name: failed });
    expect(
      await attempt({
        sasl: {
          mechanism: 'scram-sha-256',
          username: 'admin',
          password: credentials.users['leakguard-stream']!.password,
        },
      }),
    ).toMatchObject({ name: failed });
    expect(
      await attempt({ sasl: { mechanism: 'scram-sha-512', username: 'mallory', password: 'guess' } }),
    ).toMatchObject({ name: failed });
    // Without SASL the listener closes the connection at the first request after ApiVersions.
    expect(await attempt({})).toBeInstanceOf(Error);
  });

  it('names a topic outside its grants that it may not create, and creates nothing', async () => {
    const child = h.spawnProcessor({
      ...saslEnv('leakguard-stream'),
      LEAKGUARD_STREAM_INPUT_TOPIC: 'leakguard.elsewhere',
      LEAKGUARD_STREAM_GROUP_ID: 'leakguard-elsewhere',
    });
    try {
      await child.waitForLog('not authorized to create leakguard.elsewhere, which this user cannot see', 60_000);
    } finally {
      await child.kill('SIGTERM');
    }
    expect(await h.admin.listTopics()).not.toContain('leakguard.elsewhere');
  }, 90_000);

  it('keeps a processor with a wrong password out, logging the refusal without the password', async () => {
    const wrong = 'wrong-password-0123456789abcdef';
    const child = h.spawnProcessor({
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'leakguard-stream',
      KAFKA_SASL_PASSWORD: wrong,
      LOG_LEVEL: 'debug',
    });
    try {
      await child.waitForLog('authentication failed', 60_000);
      expect(child.lines.join('\n')).not.toContain(wrong);
      expect(child.running).toBe(true); // it keeps trying: credentials may be fixed on the broker's side
    } finally {
      expect(await child.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    }
  }, 90_000);
});
