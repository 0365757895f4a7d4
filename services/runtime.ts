// Composition root: picks the adapters the configuration asks for and builds the one engine
// that both doors (HTTP, Kafka) use. Nothing else in the code base chooses an adapter.
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { ApiKeyAuthenticator, type ApiKeyStore } from './auth/api-keys.ts';
import { FileApiKeyStore } from './adapters/files/api-key-file-store.ts';
import { DEFAULT_RULESET_PATH, RulesetFile } from './adapters/files/ruleset-file.ts';
import { MemoryVelocityStore } from './adapters/memory/velocity-store.ts';
import { RedisApiKeyStore } from './adapters/redis/api-key-store.ts';
import { MemoryWatchlistStore } from './adapters/memory/watchlist-store.ts';
import { RedisWatchlistStore } from './adapters/redis/watchlist-store.ts';
import type { WatchlistStore } from './core/watchlist.ts';
import type { CardKeyring } from './core/card.ts';
import { WatchlistRegistry } from './watchlist-registry.ts';
import { connectRedis, RedisVelocityStore, whenReady } from './adapters/redis/velocity-store.ts';
import { loadKeyring } from './card-keys.ts';
import type { Config } from './config.ts';
import { Engine } from './core/engine.ts';
import { ALL_FEATURES } from './core/features.ts';
import type { VelocityStore } from './core/velocity.ts';
import type { Logger } from './logger.ts';
import { Metrics } from './metrics.ts';
import { PgSqlClient } from './adapters/postgres/pg-client.ts';
import { PgliteSqlClient } from './adapters/postgres/pglite-client.ts';
import { isConnectionError, type SqlClient } from './adapters/postgres/sql-client.ts';
import { kafkaLabelSink } from './cases/feedback.ts';
import { FlaggedSink, sleep, type FlaggedQueue } from './cases/flagged.ts';
import { JournalFlaggedQueue } from './cases/journal-flagged-queue.ts';
import { MemoryNegativeListStore, RedisNegativeListStore, type NegativeListStore } from './cases/negative-lists.ts';
import { RedisFlaggedQueue } from './cases/redis-flagged-queue.ts';
import { openCaseSystem, type CaseSystem } from './cases/system.ts';
import { ModelFile } from '../models/serving/scoring-model.ts';

export interface Runtime {
  engine: Engine;
  store: VelocityStore;
  apiKeys: ApiKeyStore;
  watchlist: WatchlistStore;
  watchlistRegistry: WatchlistRegistry;
  keyring: CardKeyring;
  authenticator: ApiKeyAuthenticator;
  rulesets: RulesetFile;
  /** The model artifact in force (LEAKGUARD_MODEL), or none: scoring then runs on rules alone. */
  models: ModelFile | undefined;
  metrics: Metrics;
  embedded: boolean;
  readiness(): Promise<Record<string, boolean>>;
  /** Waits (bounded) for external stores to connect; the engine works degraded until they do. */
  waitForStores(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
  /** Every non-approve decision goes here first (a Redis stream with REDIS_URL, else in process). */
  flaggedQueue: FlaggedQueue;
  flaggedSink: FlaggedSink;
  /** Negative lists and card allow-lists fed by case decisions (read by the scoring path once wired). */
  negativeLists: NegativeListStore;
  /** Opens PostgreSQL (DATABASE_URL) or PGlite, migrates, starts the case ingester. Once. */
  openCases(): Promise<CaseSystem>;
  readonly cases: CaseSystem | undefined;
}

/** The SQL driver the configuration asks for: a real PostgreSQL, or PGlite under the state directory. */
export async function openSqlClient(config: Config): Promise<SqlClient> {
  return config.DATABASE_URL ? new PgSqlClient({ connectionString: config.DATABASE_URL }) : PgliteSqlClient.open(join(config.LEAKGUARD_STATE_DIR, 'pglite'));
}

export function openApiKeyStore(config: Config, redis?: Redis): ApiKeyStore {
  return redis ? new RedisApiKeyStore(redis) : new FileApiKeyStore(join(config.LEAKGUARD_STATE_DIR, 'api-keys.json'));
}

export function createRuntime(config: Config, logger: Logger): Runtime {
  const { keyring, developmentKeyFile, createdDevelopmentKey } = loadKeyring(config);
  if (developmentKeyFile) {
    logger.warn(
      { keyFile: developmentKeyFile, keyId: keyring.primary.id },
      createdDevelopmentKey
        ? 'DEVELOPMENT CARD KEY CREATED: no LEAKGUARD_CARD_KEY is set, so a fingerprint key was generated under the state directory. Never use it in production.'
        : 'DEVELOPMENT CARD KEY IN USE: fingerprints are keyed by a generated file under the state directory. Set LEAKGUARD_CARD_KEY in production.',
    );
  }

  const metrics = new Metrics();
  const redis = config.REDIS_URL ? connectRedis(config.REDIS_URL) : undefined;
  redis?.on('error', (error: Error) => logger.warn({ err: { message: error.message } }, 'redis connection error'));
  const memoryWatchlist = redis ? undefined : new MemoryWatchlistStore(join(config.LEAKGUARD_STATE_DIR, 'watchlist.journal'));
  const watchlist: WatchlistStore = redis ? new RedisWatchlistStore(redis) : memoryWatchlist!;
  const memoryLists = redis ? undefined : new MemoryNegativeListStore();
  const negativeLists: NegativeListStore = redis ? new RedisNegativeListStore(redis) : memoryLists!;
  const store: VelocityStore = redis ? new RedisVelocityStore(redis) : new MemoryVelocityStore({ watchlist: memoryWatchlist, lists: memoryLists });
  const watchlistRegistry = new WatchlistRegistry(watchlist);
  watchlistRegistry.start(config.LEAKGUARD_WATCHLIST_REFRESH_MS, (error) => logger.warn({ err: { message: (error as Error).message } }, 'watchlist registry refresh failed'));
  const apiKeys = openApiKeyStore(config, redis);

  const rulesetPath = config.LEAKGUARD_RULESET ?? DEFAULT_RULESET_PATH;
  const rulesets = new RulesetFile(rulesetPath, new Set(ALL_FEATURES), (result) => {
    metrics.rulesetReloads.inc({ result: result.ok ? 'ok' : 'refused' });
    if (result.ok) logger.info({ version: result.version }, 'ruleset loaded');
    else logger.error({ error: result.error }, 'ruleset refused; the previous ruleset stays in force');
  });
  const stopWatching = rulesets.watch();
  // A model that cannot be served stops the start-up here, with the loader's reason.
  const models = config.LEAKGUARD_MODEL
    ? new ModelFile(config.LEAKGUARD_MODEL, (result) => {
        metrics.modelReloads.inc({ result: result.ok ? 'ok' : 'refused' });
        if (result.ok) logger.info({ version: result.version }, 'model loaded');
        else logger.error({ error: result.error }, 'model refused; the previous model stays in force');
      })
    : undefined;
  if (models) logger.info({ version: models.model.version, featureSet: models.model.featureSet }, 'model loaded');
  const stopWatchingModel = models?.watch();

  // Cases: flagged decisions leave the scoring path through a durable queue.
  // Embedded mode journals flagged decisions under the state directory: a crash loses none.
  const flaggedQueue: FlaggedQueue = redis ? new RedisFlaggedQueue(redis) : new JournalFlaggedQueue(join(config.LEAKGUARD_STATE_DIR, 'flagged.journal'));
  const flaggedSink = new FlaggedSink({
    keyring, queue: flaggedQueue, watchlist,
    onError: (error) => logger.warn({ err: { message: (error as Error).message } }, 'flagged decision not queued yet: retrying'),
  });

  const engine = new Engine({
    store,
    keyring,
    ruleset: () => rulesets.ruleset,
    deadlineMs: config.LEAKGUARD_DEADLINE_MS,
    observer: { ...metrics.observer(), scored: (merchantId, request, result) => flaggedSink.observe(merchantId, request, result) },
    watchlistEvents: () => watchlistRegistry.events,
    lists: true,
    model: () => models?.model,
  });
  let cases: CaseSystem | undefined;
  let opening: Promise<CaseSystem> | undefined;
  const openCases = () => {
    opening ??= (async () => {
      // A database that is not up yet is waited for; anything else (bad migration, bad URL) is fatal.
      let delay = 200;
      for (;;) {
        const sql = await openSqlClient(config);
        try {
          cases = await openCaseSystem({
            sql, queue: flaggedQueue, negativeLists,
            negativeListTtlMs: config.LEAKGUARD_NEGATIVE_LIST_DAYS * 86_400_000,
            allowListMaxDays: config.LEAKGUARD_ALLOWLIST_MAX_DAYS,
            apiKeys,
            ...(config.KAFKA_BROKERS ? { labels: await kafkaLabelSink(config.KAFKA_BROKERS.split(',')) } : {}),
            onError: (error, stage) => logger.warn({ err: { message: (error as Error).message }, stage }, 'case system: will retry'),
          });
          return cases;
        } catch (error) {
          await sql.close().catch(() => {});
          if (!isConnectionError(error)) throw error;
          logger.warn({ err: { message: (error as Error).message } }, 'PostgreSQL not reachable yet: retrying');
          await sleep(delay);
          delay = Math.min(delay * 2, 5_000);
        }
      }
    })();
    return opening;
  };

  return {
    engine, store, apiKeys, rulesets, models, metrics, watchlist, watchlistRegistry, keyring,
    flaggedQueue, flaggedSink, negativeLists, openCases,
    get cases() {
      return cases;
    },
    authenticator: new ApiKeyAuthenticator(apiKeys, config.LEAKGUARD_API_KEY_CACHE_MS),
    embedded: !redis,
    async waitForStores(timeoutMs = 10_000) {
      const ready = !redis || (await whenReady(redis, timeoutMs).then(() => true, () => false));
      if (ready) await watchlistRegistry.refresh().catch((error: unknown) => logger.warn({ err: { message: (error as Error).message } }, 'watchlist registry not loaded'));
      return ready;
    },
    async readiness() {
      const ok = await Promise.race([store.ping().then(() => true, () => false), new Promise<boolean>((r) => setTimeout(r, 500, false))]);
      return { velocityStore: ok };
    },
    async close() {
      stopWatching();
      stopWatchingModel?.();
      watchlistRegistry.stop();
      await flaggedSink.drain();
      flaggedSink.stop();
      if (cases) await cases.close();
      else await flaggedQueue.stop();
      await store.close();
    },
  };
}
