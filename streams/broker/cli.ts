// `npm run kafka -- start|stop|status|jars`: the local broker from a shell. Progress goes to
// stderr; stdout carries only the answer (start: the bootstrap address on its last line), so
// `BOOTSTRAP=$(npm run -s kafka -- start)` works.
import { parseArgs } from 'node:util';
import { ensureKafkaJars, kafkaStatus, startKafka, stopKafka } from './local-kafka.ts';

const USAGE = `usage: npm run kafka -- <command> [--state-dir DIR]

commands:
  start    start the local Kafka broker, or reuse the one running; prints its bootstrap address
  stop     stop it (SIGTERM, SIGKILL after 30 s) and wait for it to exit
  status   print its state; exit 0 running, 1 not answering, 3 stopped
  jars     resolve the broker jars with Maven (no start); prints the classpath dir

options:
  --state-dir DIR   broker state (config, data, logs, pid); default \${LEAKGUARD_STATE_DIR:-.leakguard}/kafka
  -h, --help        this text

environment: LEAKGUARD_KAFKA_VERSION (4.x), LEAKGUARD_KAFKA_HEAP (default 512m),
  LEAKGUARD_KAFKA_START_TIMEOUT_MS (default 120000), LEAKGUARD_CACHE (jar cache)`;

function usage(problem?: string): never {
  if (problem) process.stderr.write(`kafka: ${problem}\n\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(problem ? 2 : 0);
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { 'state-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    usage((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) usage();
  if (positionals.length !== 1) usage(positionals.length === 0 ? 'no command given' : `one command expected, got: ${positionals.join(' ')}`);
  const stateDir = values['state-dir'];

  switch (positionals[0]) {
    case 'start': {
      const kafka = await startKafka({ stateDir });
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
      const where = `pid ${status.pid}, Kafka ${status.version ?? '?'}, state dir ${status.stateDir}, log ${status.logFile}`;
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
    default:
      usage(`unknown command: ${positionals[0]}`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`kafka: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
