// `npm run stream`: the stream processor. KAFKA_BROKERS and REDIS_URL are required; the engine's
// other settings apply as for `npm start` (services/config.ts), the stream's own come from
// streams/config.ts. SIGTERM: finish the batch in flight, commit, leave the group, exit 0.
import { rejectArguments } from '../services/cli/command.ts';
import { ConfigError, loadConfig } from '../services/config.ts';
import { createLogger } from '../services/logger.ts';
import { unknownSettingWarnings } from '../services/settings-names.ts';
import { loadStreamConfig } from './config.ts';
import { createStreamService } from './service.ts';

async function main(): Promise<void> {
  rejectArguments(
    'leakguard stream',
    'usage: npm run stream   (configured by environment variables: KAFKA_BROKERS, REDIS_URL and the tables in README.md and docs/stream-messages.md)',
  );
  const config = loadConfig();
  const stream = loadStreamConfig();
  const logger = createLogger(config.LOG_LEVEL);
  // A misspelt setting is dropped by the schema: said here, one line each, or it passes unseen.
  for (const line of unknownSettingWarnings()) logger.warn(line);
  const service = await createStreamService(config, stream, logger);

  // A failure the Kafka client did not handle must not end the process: the consumer restarts, nothing is lost.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));
  process.on('SIGHUP', () => {
    service.runtime.reloadFiles();
  });

  let stopping = false;
  const stop = async (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing the batch in flight, committing, leaving the group');
    const timer = setTimeout(() => {
      logger.error(
        { timeoutMs: stream.LEAKGUARD_STREAM_SHUTDOWN_TIMEOUT_MS },
        'shutdown took too long; exiting (uncommitted messages will be processed again)',
      );
      process.exit(1);
    }, stream.LEAKGUARD_STREAM_SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    await service.stop();
    logger.info('stream processor stopped; bye');
    process.exit(exitCode);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  // A schema behind found before joining rejects start (below: exit 1). PostgreSQL not reachable
  // then, it is checked once it answers, and behind it stops the processor the same way, joined
  // or still joining (its archive writes would all fail).
  const archiveSchema = service.archiveSchema;
  void archiveSchema?.reached.then(
    () =>
      archiveSchema.done.catch(async (error: unknown) => {
        logger.fatal(
          `transaction archive's database is not set up for this version, stopping: ${(error as Error).message}`,
        );
        await stop('archive database', 1);
      }),
    () => {},
  );
  await service.start();
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`leakguard stream: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`leakguard stream: failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
