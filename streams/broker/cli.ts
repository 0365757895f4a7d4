// `npm run kafka -- start|stop|status|jars`: the local broker from a shell. Progress goes to
// stderr; stdout carries only the answer (start: the bootstrap address on its last line), so
// `BOOTSTRAP=$(npm run -s kafka -- start)` works.
import { parseArgs } from 'node:util';
import { kafkaClient } from '../../services/adapters/kafka/kafka.ts';
import { ConfigError } from '../../services/config.ts';
import { loadKafkaSecurity } from '../config.ts';
import {
  defaultStateDir,
  ensureKafkaJars,
  kafkaStatus,
  readCredentials,
  startKafka,
  stopKafka,
} from './local-kafka.ts';
import { applyTopicsAndAcls, localSecureUsers } from './secure.ts';
import { callerPath } from '../../services/cli/command.ts';

const USAGE = `usage: npm run kafka -- <command> [--secure] [--state-dir DIR]

commands:
  start    start the local Kafka broker, or reuse the one running; prints its bootstrap address
  stop     stop it (SIGTERM, SIGKILL after 30 s) and wait for it to exit
  status   print its state; exit 0 running, 1 not answering, 3 stopped
  jars     resolve the broker jars with Maven (no start); prints the classpath dir
  grant    on the secure broker at KAFKA_BROKERS, as the super user of KAFKA_SASL_*: create the
           Leakguard topics and grant each user its ACLs (docker-compose.secure.yml runs it)

options:
  --secure          the secure broker: SASL/SCRAM listener, ACLs enforced, users made when its
                    storage is formatted; start names its credentials file (mode 0600) on stderr
  --state-dir DIR   broker state (config, data, logs, pid); default \${LEAKGUARD_STATE_DIR:-.leakguard}/kafka,
                    or .../kafka-secure with --secure
  -h, --help        this text

environment: LEAKGUARD_KAFKA_VERSION (4.x), LEAKGUARD_KAFKA_HEAP (default 512m),
  LEAKGUARD_KAFKA_START_TIMEOUT_MS (default 120000), LEAKGUARD_CACHE (jar cache);
  grant: KAFKA_BROKERS, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD(_FILE), KAFKA_TLS(_CA_FILE)`;

function usage(problem?: string): never {
  if (problem) process.stderr.write(`kafka: ${problem}\n\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(problem ? 2 : 0);
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { 'state-dir': { type: 'string' }, secure: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    usage((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) usage();
  if (positionals.length !== 1)
    usage(positionals.length === 0 ? 'no command given' : `one command expected, got: ${positionals.join(' ')}`);
  const secure = values.secure === true;
  const given = values['state-dir'];
  const stateDir = given !== undefined ? callerPath(given) : secure ? defaultStateDir(true) : undefined;

  switch (positionals[0]) {
    case 'start': {
      // --secure asks for a secure broker; without it, a state dir keeps what it was formatted as.
      const kafka = await startKafka({ stateDir, ...(secure ? { secure } : {}) });
      if (kafka.credentialsFile) {
        const credentials = readCredentials(kafka.stateDir)!;
        const stream = credentials.users['leakguard-stream']!;
        process.stderr.write(
          `leakguard kafka: SASL/SCRAM (${credentials.mechanism}) and ACLs; users, passwords and grants in ${kafka.credentialsFile}\n` +
            `leakguard kafka: the stream processor connects with:\n` +
            `  KAFKA_BROKERS=${kafka.bootstrap} KAFKA_SASL_MECHANISM=${credentials.mechanism} KAFKA_SASL_USERNAME=leakguard-stream KAFKA_SASL_PASSWORD_FILE=${stream.passwordFile}\n`,
        );
      }
      process.stdout.write(`${kafka.bootstrap}\n`);
      return 0;
    }
    case 'stop':
      await stopKafka(stateDir);
      return 0;
    case 'status': {
      const status = await kafkaStatus(stateDir);
      if (status.state === 'stopped') {
        process.stdout.write(`stopped (state dir ${status.stateDir})\n`);
        return 3;
      }
      const where = `pid ${status.pid}, Kafka ${status.version ?? '?'}, ${status.credentialsFile ? `SASL/SCRAM and ACLs (credentials ${status.credentialsFile}), ` : ''}state dir ${status.stateDir}, log ${status.logFile}`;
      if (status.state === 'unresponsive') {
        process.stdout.write(`not answering at ${status.bootstrap ?? '?'} (${where})\n`);
        return 1;
      }
      process.stdout.write(`running at ${status.bootstrap} (${where})\n`);
      return 0;
    }
    case 'jars':
      process.stdout.write(`${await ensureKafkaJars()}\n`);
      return 0;
    case 'grant':
      return grant();
    default:
      usage(`unknown command: ${positionals[0]}`);
  }
}

/** Topics and ACLs of the secure users on any broker, as its super user (credentials from the environment). */
async function grant(): Promise<number> {
  const brokers = (process.env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0)
    throw new ConfigError(
      'invalid configuration:\n  KAFKA_BROKERS: is required: the broker to grant on, e.g. kafka:9092',
    );
  const security = loadKafkaSecurity();
  if (!security.sasl)
    throw new ConfigError(
      'invalid configuration:\n  KAFKA_SASL_MECHANISM: is required: grant connects as a super user (KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD or _FILE too)',
    );
  // Patient: in a compose start-up the broker may still be electing itself.
  const admin = kafkaClient({
    clientId: 'leakguard-grant',
    brokers,
    retry: { retries: 10, initialRetryTimeMs: 500, maxRetryTimeMs: 10_000 },
    security,
  }).admin();
  await admin.connect();
  try {
    await applyTopicsAndAcls(admin, brokers.join(','));
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  for (const user of localSecureUsers()) process.stdout.write(`${user.name}: ${user.role}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`kafka: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  },
);
