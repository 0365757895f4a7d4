// `npm run stream`: the stream processor. KAFKA_BROKERS and REDIS_URL are required; the engine's
// other settings apply as for `npm start` (services/config.ts), the stream's own come from
// streams/config.ts. SIGTERM: finish the batch in flight, commit, leave the group, exit 0 (during
// the start-up: exit 0 at once). SIGHUP: read the ruleset, rate table and model again (during the
// start-up: once started).
import { rejectArguments } from '../services/cli/command.ts';
import { ConfigError, loadConfig } from '../services/config.ts';
import { createLogger } from '../services/logger.ts';
import { unknownSettingWarnings } from '../services/settings-names.ts';
import { loadStreamConfig } from './config.ts';
import { createStreamService, type StreamService } from './service.ts';

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
  // The signals' handlers first: the start-up can take a while (it waits up to 10 s for Redis), and
  // a signal without one ends the process (SIGHUP and SIGTERM by the signal itself, 129 and 143).
  // Before the service exists, SIGHUP is remembered (the files are read again once it does) and
  // SIGTERM or SIGINT ends the process with status 0: nothing was consumed yet.
  let service: StreamService | undefined = undefined;
  let reloadWhenStarted = false;
  // A failure the Kafka client did not handle must not end the process: the consumer restarts, nothing is lost.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));
  process.on('SIGHUP', () => {
    if (service) return service.runtime.reloadFiles();
    reloadWhenStarted = true;
    logger.info('SIGHUP during start-up: the files are read again once started');
  });

  let stopping = false;
  const stop = async (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    if (!service) {
      logger.info({ signal }, 'stopped during start-up: nothing consumed yet; bye');
      process.exit(exitCode);
    }
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

  service = await createStreamService(config, stream, logger);
  if (reloadWhenStarted) service.runtime.reloadFiles();

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
