// The secure variant of the local broker: SCRAM users and their passwords (made once, when the
// storage is formatted), the format arguments that write them into the metadata log, and the
// topics and ACLs granted on every start. The passwords live in the state dir only, in files of
// mode 0600; they never reach a command line (the format tool reads them from an @file).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AclGrant, KafkaAdmin } from '../../services/adapters/kafka/client.ts';
import { LABELS_TOPIC } from '../../services/adapters/kafka/labels-sink.ts';
import {
  DEFAULT_RECORD_RETENTION_DAYS,
  RECORDS_TOPIC,
  recordsTopicDefinition,
} from '../../services/adapters/kafka/record-topic.ts';
import type { KafkaSecurity } from '../../services/adapters/kafka/security.ts';
import { DEFAULT_STREAM_GROUP_ID, DEFAULT_STREAM_TOPICS, streamConfig } from '../config.ts';
import { createTopics, labelsTopicDefinition, topicDefinitions } from '../topics.ts';
import { ADMIN_USER, SCRAM_MECHANISMS, secureUsers, type BrokerSecrets, type SecureUser } from './config.ts';

/** credentials.json: what `npm run kafka -- start --secure` wrote, for people and tests. */
export interface KafkaCredentials {
  /** What clients should use (KAFKA_SASL_MECHANISM); every user exists for SCRAM-SHA-256 too. */
  mechanism: 'scram-sha-512';
  users: Record<string, { role: string; password: string; passwordFile: string }>;
  /** The controller listener's PLAIN password: for server.properties only, no client uses it. */
  controllerPassword: string;
}

export const credentialsPath = (stateDir: string): string => join(stateDir, 'credentials.json');
const secretsDir = (stateDir: string) => join(stateDir, 'secrets');

/** The users of the local secure broker, on the processor's default topics and group. */
export function localSecureUsers(): SecureUser[] {
  return secureUsers({
    ...DEFAULT_STREAM_TOPICS,
    transactions: DEFAULT_STREAM_TOPICS.input,
    group: DEFAULT_STREAM_GROUP_ID,
    labels: LABELS_TOPIC,
    records: RECORDS_TOPIC,
  });
}

/** Hex: no character that SCRAM's name=value syntax, JAAS quoting or a shell would treat specially. */
const newPassword = () => randomBytes(24).toString('hex');

function writeSecret(file: string, text: string): void {
  rmSync(file, { force: true }); // a mode is applied only when the file is created
  writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
}

/** New passwords for every user (a fresh storage only: the metadata log is where SCRAM users live). */
export function createCredentials(stateDir: string): KafkaCredentials {
  const dir = secretsDir(stateDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const users: KafkaCredentials['users'] = {};
  for (const user of localSecureUsers()) {
    const password = newPassword();
    const passwordFile = join(dir, `${user.name}.password`);
    writeSecret(passwordFile, `${password}\n`);
    users[user.name] = { role: user.role, password, passwordFile };
  }
  const credentials: KafkaCredentials = { mechanism: 'scram-sha-512', users, controllerPassword: newPassword() };
  writeSecret(credentialsPath(stateDir), `${JSON.stringify(credentials, null, 2)}\n`);
  return credentials;
}

/** A plain storage has no users: credentials left by an earlier, deleted one must not pass for its. */
export function removeCredentials(stateDir: string): undefined {
  rmSync(credentialsPath(stateDir), { force: true });
  rmSync(secretsDir(stateDir), { recursive: true, force: true });
  return undefined;
}

export function readCredentials(stateDir: string): KafkaCredentials | undefined {
  const file = credentialsPath(stateDir);
  if (!existsSync(file)) return undefined;
  const credentials = JSON.parse(readFileSync(file, 'utf8')) as KafkaCredentials;
  if (!credentials.users?.[ADMIN_USER]?.password || !credentials.controllerPassword)
    throw new Error(
      `${file} does not hold the admin's credentials; delete the state dir ${stateDir} for a fresh secure broker`,
    );
  return credentials;
}

export const brokerSecrets = (credentials: KafkaCredentials): BrokerSecrets => ({
  adminPassword: credentials.users[ADMIN_USER]!.password,
  controllerPassword: credentials.controllerPassword,
});

/** SASL settings of one user of the credentials file: a KafkaSecurity's `sasl` (and kafkajs's). */
export function userSasl(
  credentials: KafkaCredentials,
  user: string,
): NonNullable<KafkaSecurity['sasl']> & { mechanism: KafkaCredentials['mechanism'] } {
  const entry = credentials.users[user];
  if (!entry)
    throw new Error(
      `no user ${user} in the broker's credentials (users: ${Object.keys(credentials.users).join(', ')})`,
    );
  return { mechanism: credentials.mechanism, username: user, password: entry.password };
}

/**
 * Arguments of `kafka-storage format` that add every user for both SCRAM mechanisms, one per line
 * of an @file (mode 0600, removed by the caller): `--add-scram SCRAM-SHA-512=[name=...,password=...]`.
 */
export function writeScramArgs(file: string, credentials: KafkaCredentials): void {
  const lines: string[] = [];
  for (const [name, { password }] of Object.entries(credentials.users)) {
    for (const mechanism of SCRAM_MECHANISMS)
      lines.push('--add-scram', `${mechanism}=[name=${name},password=${password}]`);
  }
  writeSecret(file, `${lines.join('\n')}\n`);
}

/**
 * Creates the default topics (no client but the admin may) and grants every user its ACLs.
 * Both are idempotent: run on every start, so a grant added here reaches an existing state dir.
 */
export async function applyTopicsAndAcls(admin: KafkaAdmin, bootstrap: string): Promise<void> {
  const config = streamConfig({ KAFKA_BROKERS: bootstrap });
  await createTopics(admin, [
    ...topicDefinitions(config),
    labelsTopicDefinition(config),
    recordsTopicDefinition(DEFAULT_RECORD_RETENTION_DAYS),
  ]);
  const grants: AclGrant[] = localSecureUsers().flatMap((user) =>
    user.grants.map((grant) => ({
      resource: grant.resource,
      name: grant.name,
      principal: `User:${user.name}`,
      operation: grant.operation,
    })),
  );
  await admin.createAcls(grants);
}
