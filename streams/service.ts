// Wiring of the stream processor: the engine's runtime (the composition root of services/), the
// merchant directory, the Kafka client, the metrics server. `npm run stream` and the tests build
// the processor through this one function.
import { createKafka } from '../services/adapters/kafka/kafka.ts';
import { kafkaSecuritySummary } from '../services/adapters/kafka/security.ts';
import type { Config } from '../services/config.ts';
import { identifyCard } from '../services/core/card.ts';
import type { Logger } from '../services/logger.ts';
import { createRuntime, type ArchiveSchemaCheck, type Runtime } from '../services/runtime.ts';
import type { StreamConfig } from './config.ts';
import { MerchantDirectory } from './merchants.ts';
import { startMetricsServer, StreamMetrics } from './metrics.ts';
import { StreamProcessor } from './processor/processor.ts';

export interface StreamService {
  runtime: Runtime;
  processor: StreamProcessor;
  merchants: MerchantDirectory;
  metrics: StreamMetrics;
  /** Port of /metrics and /healthz; undefined when the server was not asked for. */
  metricsPort: number | undefined;
  /**
   * The check of the archive's schema when this processor archives: its rejection (a migration
   * missing, credentials refused) means stop, at start or later (PostgreSQL reached only then).
   */
  archiveSchema: ArchiveSchemaCheck | undefined;
  /**
   * Joins the group (keeps trying while Kafka is unreachable), once the archive's schema was
   * checked or PostgreSQL found not reachable; rejects, without joining, on a schema behind.
   */
  start(): Promise<void>;
  /** Finishes the batch in flight, commits, leaves the group, closes everything. */
  stop(): Promise<void>;
}

export async function createStreamService(
  config: Config,
  stream: StreamConfig,
  logger: Logger,
  options: { metricsServer?: boolean } = {},
): Promise<StreamService> {
  // The stream has its own scoring budget: nobody waits at a checkout, and a degraded answer is
  // not published (pause mode) but retried, or published degraded (allow mode).
  const runtime = createRuntime({ ...config, LEAKGUARD_DEADLINE_MS: stream.LEAKGUARD_STREAM_DEADLINE_MS }, logger, {
    role: 'processor',
    holdsBackDegraded: stream.LEAKGUARD_STREAM_DEGRADED === 'pause',
  });
  if (!(await runtime.waitForStores(10_000))) logger.warn('Redis not reachable yet: consumption pauses until it is');
  // The transaction archive (docs/capacity.md): outcomes reported after a marker has gone find the
  // transaction there. A processor without a database leaves its transactions to their markers.
  const archiveSchema = runtime.openArchive();
  if (!archiveSchema && config.LEAKGUARD_ARCHIVE === 'on')
    logger.info(
      'transaction archive not written by this processor (no DATABASE_URL): its markers are kept 35 days (LEAKGUARD_MARKER_RETENTION_DAYS) for the outcomes reported later',
    );

  const merchants = new MerchantDirectory(() => runtime.apiKeys.list(), {
    refreshMs: stream.LEAKGUARD_STREAM_MERCHANTS_REFRESH_MS,
    logger,
  });
  await merchants.refresh();
  merchants.start();
  logger.info({ merchants: merchants.size }, 'merchant directory loaded');

  const metrics = new StreamMetrics();
  const kafka = createKafka({
    brokers: stream.KAFKA_BROKERS,
    clientId: stream.LEAKGUARD_STREAM_CLIENT_ID,
    logger,
    security: stream.kafkaSecurity,
  });
  if (config.NODE_ENV === 'production' && !stream.kafkaSecurity.tls) {
    logger.warn(
      { kafka: kafkaSecuritySummary(stream.kafkaSecurity) },
      'Kafka connections are not encrypted (KAFKA_TLS unset) and the transactions carry card numbers: use TLS between hosts',
    );
  }
  const processor = new StreamProcessor({
    engine: runtime.engine,
    kafka,
    config: stream,
    logger,
    metrics,
    merchants,
    identify: (pan) => {
      const card = identifyCard(runtime.keyring, pan);
      return { bin: card.bin, last4: card.last4, fingerprint: card.fingerprints[0]!, keyId: card.keyId };
    },
    // Scoring needs the velocity store; other stores (cases...) do not hold the stream back.
    ready: async () => {
      const r = await runtime.readiness();
      return r.velocityStore ?? Object.values(r).every(Boolean);
    },
  });

  const server =
    options.metricsServer === false
      ? undefined
      : await startMetricsServer({
          host: stream.STREAM_METRICS_HOST,
          port: stream.STREAM_METRICS_PORT,
          registries: [runtime.metrics.registry, metrics.registry],
          health: () => processor.health(),
          access: { token: stream.metricsToken, production: config.NODE_ENV === 'production' },
        });
  if (server)
    logger.info(
      { address: `http://${stream.STREAM_METRICS_HOST}:${server.port}`, port: server.port },
      'stream metrics listening (/metrics, /healthz)',
    );

  let stopped: Promise<void> | undefined;
  return {
    runtime,
    processor,
    merchants,
    metrics,
    metricsPort: server?.port,
    archiveSchema,
    async start() {
      // A database behind this version (a rolling deploy without its migrate step) stops the
      // processor before it joins: joined, it would count transactions it cannot archive.
      await archiveSchema?.reached;
      logger.info(
        {
          brokers: stream.KAFKA_BROKERS,
          kafka: kafkaSecuritySummary(stream.kafkaSecurity),
          group: stream.LEAKGUARD_STREAM_GROUP_ID,
          topics: processor.topics,
          degraded: stream.LEAKGUARD_STREAM_DEGRADED,
        },
        'stream processor starting',
      );
      await processor.start();
    },
    stop() {
      stopped ??= (async () => {
        await processor.stop();
        merchants.stop();
        await server?.close();
        await runtime.close();
      })();
      return stopped;
    },
  };
}
