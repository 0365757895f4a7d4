// Composition root: picks the adapters the configuration asks for and builds the one engine
// that both doors (HTTP, Kafka) use. Nothing else in the code base chooses an adapter.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { ApiKeyAuthenticator, type ApiKeyStore } from './auth/api-keys.ts';
import { FileApiKeyStore } from './adapters/files/api-key-file-store.ts';
import { DEFAULT_RULESET_PATH, RulesetFile } from './adapters/files/ruleset-file.ts';
import { FrictionTracker, type FrictionShare } from './core/friction.ts';
import { STARTER_MODEL_PATH } from './model/starter.ts';
import { frictionBudget, rulesetVersion, type Ruleset } from './core/rules.ts';
import { DEFAULT_RATES_PATH, RatesFile } from './adapters/files/rates-file.ts';
import { rateStaleness, type RateTable } from './core/currency.ts';
import type { ReloadResult } from './adapters/files/watched-file.ts';
import { MemoryVelocityStore } from './adapters/memory/velocity-store.ts';
import { RedisApiKeyStore } from './adapters/redis/api-key-store.ts';
import { MemoryWatchlistStore } from './adapters/memory/watchlist-store.ts';
import { RedisWatchlistStore } from './adapters/redis/watchlist-store.ts';
import { CPP_ISSUER, CPP_SOURCE, type WatchlistStore } from './core/watchlist.ts';
import type { CardKeyring } from './core/card.ts';
import { WatchlistRegistry } from './watchlist-registry.ts';
import { oversizedReporter, watchRedis } from './redis-watch.ts';
import { RedisVelocityStore } from './adapters/redis/velocity-store.ts';
import { connectRedis, redisTargetOf, whenReady, type RedisClient } from './adapters/redis/connection.ts';
import { migrateKeyLayout } from './adapters/redis/key-migration.ts';
import { moveDistinctSetsIntoLogs } from './adapters/redis/velocity-migration.ts';
import { loadKeyring } from './card-keys.ts';
import { loadDataKeyring } from './data-keys.ts';
import { PersonalDataCipher, protectFlagged } from './cases/personal-data.ts';
import type { Config } from './config.ts';
import { Engine } from './core/engine.ts';
import { ALL_FEATURES } from './core/features.ts';
import type { ScoreResponse } from './core/schemas.ts';
import { CountingReferenceMismatch, type VelocityStore } from './core/velocity.ts';
import type { Logger } from './logger.ts';
import { Metrics, fromZero } from './metrics.ts';
import { PgSqlClient } from './adapters/postgres/pg-client.ts';
import { PgliteSqlClient } from './adapters/postgres/pglite-client.ts';
import {
  connectionFailureSummary,
  isConnectionError,
  untilReachable,
  type SqlClient,
} from './adapters/postgres/sql-client.ts';
import { kafkaLabelSink } from './adapters/kafka/labels-sink.ts';
import { kafkaRecordSinkFromEnvironment } from './adapters/kafka/record-topic.ts';
import { NdjsonRecordSink } from './adapters/files/record-file.ts';
import { TrafficRecorder, type RecordSink } from './recording/recorder.ts';
import { FLAGGED_LOSSES, FlaggedSink, type FlaggedQueue } from './cases/flagged.ts';
import { JournalFlaggedQueue } from './adapters/files/journal-flagged-queue.ts';
import { tornTailMessage, type TornTail } from './adapters/files/journal-file.ts';
import type { NegativeListStore } from './cases/negative-lists.ts';
import { CaseOutcomeNotes } from './cases/outcomes.ts';
import { MemoryNegativeListStore } from './adapters/memory/negative-list-store.ts';
import { RedisNegativeListStore } from './adapters/redis/negative-list-store.ts';
import { RedisFlaggedQueue } from './adapters/redis/flagged-queue.ts';
import { openCaseSystem, type CaseSystem } from './case-system.ts';
import {
  canRewriteAuditLog,
  checkMigrated,
  DatabaseSetupError,
  grantApplicationRole,
  isDatabaseSetupError,
  migrate,
} from './adapters/postgres/migrate.ts';
import { AuditCheckpointer, CheckpointFile, writerName } from './cases/audit-checkpoints.ts';
import type { AuditLog } from './cases/audit.ts';
import { checkpointFileOf, loadAuditKey } from './audit-key.ts';
import { ModelFile, referenceChangeRefused } from './adapters/files/model-file.ts';
import type { CardHistoryStore } from './breach/history.ts';
import { HistoryRecorder, type RecorderOptions as HistoryRecorderOptions } from './breach/recorder.ts';
import { ArchiveWriter } from './archive-writer.ts';
import { atMostEvery } from './log-throttle.ts';
import { markerRetentionMs, type TransactionArchive } from './core/transaction-archive.ts';
import { PgTransactionArchive } from './adapters/postgres/transaction-archive.ts';
import { BreachScanner, scanBudgetFor, type ScanReport } from './breach/scanner.ts';
import { suspicionsListing } from './breach/suspicions.ts';
import { ScanSchedule } from './breach/scan-schedule.ts';
import { MemoryCardHistoryStore } from './adapters/memory/card-history-store.ts';
import { RedisCardHistoryStore } from './adapters/redis/card-history-store.ts';
import { openWebhookSystem, secretSealer, type WebhookSystem } from './webhook-system.ts';

export interface Runtime {
  engine: Engine;
  store: VelocityStore;
  apiKeys: ApiKeyStore;
  watchlist: WatchlistStore;
  watchlistRegistry: WatchlistRegistry;
  keyring: CardKeyring;
  authenticator: ApiKeyAuthenticator;
  rulesets: RulesetFile;
  /** Per merchant over the last 24 h: shares of orders challenged, reviewed, declined, beside its budget (busiest first). */
  frictionShares(limit?: number): FrictionShare[];
  /** The exchange-rate table in force (LEAKGUARD_RATES): every amount feature is in its reference currency. */
  rates: RatesFile;
  /** The model artifact in force (LEAKGUARD_MODEL), or none: scoring then runs on rules alone. */
  models: ModelFile | undefined;
  metrics: Metrics;
  /** Re-reads every file the engine keeps in force (ruleset, rate table, model): SIGHUP. A refused file keeps its predecessor. */
  reloadFiles(): void;
  embedded: boolean;
  /** The Redis or Redis Cluster client when one is configured: shared rate limits and login throttling use it. */
  redis: RedisClient | undefined;
  readiness(): Promise<Record<string, boolean>>;
  /** Waits (bounded) for external stores to connect; the engine works degraded until they do. */
  waitForStores(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
  /** Every non-approve decision goes here first (a Redis stream with REDIS_URL or REDIS_CLUSTER_NODES, else in process). */
  flaggedQueue: FlaggedQueue;
  flaggedSink: FlaggedSink;
  /** Negative lists and card allow-lists fed by case decisions (read by the scoring path once wired). */
  negativeLists: NegativeListStore;
  /** Opens PostgreSQL (DATABASE_URL) or PGlite, migrates, starts the case ingester. Once. */
  openCases(): Promise<CaseSystem>;
  /** The audit log's checkpoint file under its key (LEAKGUARD_AUDIT_KEY; throws ConfigError in production without one). */
  auditCheckpoints(): CheckpointFile;
  readonly cases: CaseSystem | undefined;
  /** Recorded outcomes on their way to the case database (held while it is not open). */
  readonly caseOutcomes: CaseOutcomeNotes;
  /** Signed webhooks (docs/webhooks.md): opened with the case database, on the same SqlClient; its worker runs in every engine. */
  readonly webhooks: WebhookSystem | undefined;
  /** Breach discovery (LEAKGUARD_CPP): the card histories, what feeds them, and the scan. */
  breach: BreachDiscovery | undefined;
  /** The recording for backtests (LEAKGUARD_RECORD), flushed every second and on close. */
  recorder: TrafficRecorder | undefined;
  /**
   * Stream processors: writes counted transactions to the transaction archive (LEAKGUARD_ARCHIVE)
   * when DATABASE_URL is set, its schema checked first (readyArchiveSchema); the engine does from
   * openCases on. Returns that check, or undefined when this process does not archive.
   */
  openArchive(): ArchiveSchemaCheck | undefined;
  /** What feeds the transaction archive, once opened. */
  readonly archiveWriter: ArchiveWriter | undefined;
}

/** A stream processor's check of its archive's schema (openArchive), retried while PostgreSQL is not reachable. */
export interface ArchiveSchemaCheck {
  /** The first try's answer: true, checked (or could not be, logged); false, PostgreSQL not reachable (tried again until it is). Rejects as `done` does. */
  reached: Promise<boolean>;
  /**
   * Settles once the schema was checked, or could not be for a reason logged (writes are tried
   * all the same). Rejects with what waiting will not change (isDatabaseSetupError): a migration
   * missing, credentials refused. The processor must then stop: every write would fail.
   */
  done: Promise<void>;
}

export interface BreachDiscovery {
  history: CardHistoryStore;
  recorder: HistoryRecorder;
  scanner: BreachScanner;
  /** One scan (at the latest visit's time unless `at` is given); scoring sees the events it opened at once. */
  scan(at?: number): Promise<ScanReport>;
  /** Scans every LEAKGUARD_CPP_SCAN_MINUTES when this engine takes the turn (ScanSchedule; stream processors only record). */
  startScans(onScanned?: (error: unknown) => void): void;
}

/** The archive of an engine whose database is not open yet: every call refused, to be retried. */
const notOpen = () => Promise.reject(new Error('transaction archive not open yet (PostgreSQL not reachable)'));
const ARCHIVE_NOT_OPEN: TransactionArchive = {
  append: notOpen,
  find: notOpen,
  markOutcome: notOpen,
  maintain: notOpen,
};

/** How often an engine makes the archive's coming days and drops those past retention (3 days are made ahead). */
const ARCHIVE_MAINTAIN_MS = 60 * 60_000;

/** How long a closing engine keeps offering the case queue the flagged decisions it refused before. */
const FLAGGED_CLOSE_MS = 5_000;

/** An embedded journal's torn last line, dropped at start: which file, where, how much. */
function logTornTail(logger: Logger, torn: TornTail): void {
  logger.warn({ journal: torn.path, offset: torn.offset, line: torn.line, bytes: torn.bytes }, tornTailMessage(torn));
}

/** The SQL driver the configuration asks for: a real PostgreSQL, or PGlite under the state directory. */
export async function openSqlClient(config: Config): Promise<SqlClient> {
  return config.DATABASE_URL
    ? new PgSqlClient({ connectionString: config.DATABASE_URL })
    : PgliteSqlClient.open(join(config.LEAKGUARD_STATE_DIR, 'pglite'));
}

/**
 * Migrations run as the tables' owner when DATABASE_MIGRATION_URL names one, which then grants
 * DATABASE_URL's role what the application needs and no way to rewrite the audit log; without
 * it, on `sql` itself (one role for both, as before: production should split them).
 */
export async function migrateDatabase(config: Config, sql: SqlClient): Promise<void> {
  if (!config.DATABASE_MIGRATION_URL || !config.DATABASE_URL) {
    await migrate(sql);
    return;
  }
  const role = decodeURIComponent(new URL(config.DATABASE_URL).username);
  if (!role)
    throw new DatabaseSetupError(
      'DATABASE_URL must name its user (postgres://user@host/db) when DATABASE_MIGRATION_URL is set: that role is given its rights',
    );
  const owner = new PgSqlClient({ connectionString: config.DATABASE_MIGRATION_URL, max: 1 });
  try {
    await migrate(owner);
    const current = await owner.query<{ user: string }>('SELECT current_user AS user');
    if (current.rows[0]!.user !== role) await grantApplicationRole(owner, role);
  } finally {
    await owner.close();
  }
}

/**
 * A stream processor's database before it archives: migrated as the owner when it is given
 * DATABASE_MIGRATION_URL (as an engine is), else only checked. A processor never migrates as
 * DATABASE_URL's role: processors are many and deployed on their own, and the schema is changed
 * by the owner, or by an engine (docs/console.md, "Least privilege").
 */
export async function readyArchiveSchema(config: Config, sql: SqlClient): Promise<void> {
  if (config.DATABASE_MIGRATION_URL) await migrateDatabase(config, sql);
  else await checkMigrated(sql);
}

/**
 * The checkpoint file of the audit log this configuration opens, under its signing key;
 * undefined when there is no key and `create` is false (a reader in development before any writer).
 */
export function openCheckpointFile(
  config: Config,
  options: { create: boolean },
): { file: CheckpointFile; developmentKeyFile?: string; createdDevelopmentKey?: boolean } | undefined {
  const loaded = loadAuditKey(config, options);
  if (!loaded) return undefined;
  const { key, ...development } = loaded;
  return { file: new CheckpointFile(checkpointFileOf(config, key.id), key), ...development };
}

/**
 * For the CLIs that append: a signed checkpoint of the head they leave. A cut found on the way,
 * or a checkpoint that cannot be written (the engine's next pass covers the entry then), is told
 * on stderr; the command's own work is done by then and stands. `headBefore`: the log's head
 * before the command appended, so that a log without checkpoints is warned of only for entries
 * before the command's own (a fresh deployment's first command is not).
 */
export async function checkpointAuditLog(
  config: Config,
  audit: AuditLog,
  who: string,
  headBefore: Awaited<ReturnType<AuditLog['head']>>,
): Promise<void> {
  const warn = (message: string) => process.stderr.write(`${message}\n`);
  try {
    const { file } = openCheckpointFile(config, { create: true })!;
    const checkpointer = new AuditCheckpointer({
      audit,
      file,
      by: writerName(who),
      onAlarm: (message) => warn(`AUDIT LOG TAMPERING: ${message}. Run npm run audit -- verify`),
      onWarning: (message) => warn(`AUDIT LOG UNCHECKPOINTED: ${message}`),
      headBefore,
    });
    await checkpointer.resume();
    await checkpointer.pass();
  } catch (error) {
    warn(
      `${who}: audit checkpoint not written: ${(error as Error).message.replace(/^invalid configuration:\n\s*/, '')}`,
    );
  }
}

export function openApiKeyStore(config: Config, redis?: RedisClient): ApiKeyStore {
  return redis ? new RedisApiKeyStore(redis) : new FileApiKeyStore(join(config.LEAKGUARD_STATE_DIR, 'api-keys.json'));
}

/** How every file kept in force reports a reload: counted by result, logged with its version or why it was refused. */
function reloadReporter(
  what: string,
  counter: Metrics['rulesetReloads'],
  logger: Logger,
  refused: Metrics['fileRefused'],
): (result: ReloadResult) => void {
  refused.set({ file: what }, 0);
  // A refusal fixed before the next scrape leaves the gauge at 0: the alert reads the counter's
  // increase(), which sees a first refusal only if the series was there, at 0, before it.
  fromZero(counter, 'result', ['ok', 'refused']);
  return (result) => {
    counter.inc({ result: result.ok ? 'ok' : 'refused' });
    refused.set({ file: what }, result.ok ? 0 : 1);
    if (!result.ok) logger.error({ error: result.error }, `${what} refused; the previous ${what} stays in force`);
    else if (result.warning) logger.warn({ version: result.version }, result.warning);
    else logger.info({ version: result.version }, `${what} loaded`);
  };
}

/**
 * A warning naming the currencies whose newest rate is older than LEAKGUARD_RATES_MAX_AGE_DAYS: the
 * engine goes on converting at those rates (not a failure), but the feed that keeps the table current
 * has stopped, or there is none (the shipped table's rates are yearly approximations).
 */
function staleRatesWarning(
  table: RateTable,
  path: string,
  at: number,
  maxAgeDays: number,
): { fields: Record<string, unknown>; message: string } | undefined {
  const { stale } = rateStaleness(table, at, maxAgeDays);
  if (stale.length === 0) return undefined;
  const byDate = new Map<string, string[]>();
  for (const s of stale) byDate.set(s.newest, [...(byDate.get(s.newest) ?? []), s.currency]);
  const dates = [...byDate]
    .map(([date, codes]) => {
      const named =
        codes.length > 8 ? `${codes.slice(0, 8).join(', ')} and ${codes.length - 8} more` : codes.join(', ');
      return `${date} (${stale.find((s) => s.newest === date)!.ageDays} days ago) for ${named}`;
    })
    .join('; ');
  const shipped =
    path === DEFAULT_RATES_PATH ? ' This is the table shipped with Leakguard (approximate yearly rates).' : '';
  return {
    fields: { version: table.version, path, maxAgeDays, stale },
    message:
      `exchange rates older than ${maxAgeDays} days in rate table ${table.version}: the newest rate is from ${dates}. ` +
      `Scoring goes on, converting these currencies at those rates.${shipped} ` +
      `Feed current rates: point LEAKGUARD_RATES at a table your treasury or card-scheme feed keeps current, ` +
      `or raise LEAKGUARD_RATES_MAX_AGE_DAYS if these rates are meant to last (docs/currencies.md, "Stale rates")`,
  };
}

/** LEAKGUARD_MODEL: unset, the starter model the project ships; `off`, none; else the artifact's path. */
export function modelPathOf(config: Pick<Config, 'LEAKGUARD_MODEL'>): string | undefined {
  const v = config.LEAKGUARD_MODEL;
  if (v === undefined) return STARTER_MODEL_PATH;
  return v.toLowerCase() === 'off' ? undefined : v;
}

export function createRuntime(
  config: Config,
  logger: Logger,
  {
    role = 'engine',
    holdsBackDegraded = false,
  }: {
    role?: 'engine' | 'processor';
    /**
     * A stream processor in `pause` mode: a degraded answer is held back and the transaction
     * scored again once the store is back, so it is no decision to record, archive, learn from or
     * make a case of, nor to count in the decisions' metrics and friction.
     */
    holdsBackDegraded?: boolean;
  } = {},
): Runtime {
  // Whether this process archives its counted transactions: an engine always has a database (PGlite
  // when DATABASE_URL is unset) and archives from openCases on, which services/main.ts calls at
  // start; a stream processor only when given DATABASE_URL (openArchive). Its markers are kept
  // short (3 days) from the start either way.
  const archives = config.LEAKGUARD_ARCHIVE === 'on' && (role === 'engine' || config.DATABASE_URL !== undefined);
  const { keyring, developmentKeyFile, createdDevelopmentKey } = loadKeyring(config);
  if (developmentKeyFile) {
    logger.warn(
      { keyFile: developmentKeyFile, keyId: keyring.primary.id },
      createdDevelopmentKey
        ? 'DEVELOPMENT CARD KEY CREATED: no LEAKGUARD_CARD_KEY is set, so a fingerprint key was generated under the state directory. Never use it in production.'
        : 'DEVELOPMENT CARD KEY IN USE: fingerprints are keyed by a generated file under the state directory. Set LEAKGUARD_CARD_KEY in production.',
    );
  }
  // Personal data in cases are sealed under their own key, kept outside every store like the card key.
  const dataKeys = loadDataKeyring(config, keyring);
  if (dataKeys.developmentKeyFile) {
    logger.warn(
      { keyFile: dataKeys.developmentKeyFile, keyId: dataKeys.keyring.primary.id },
      dataKeys.createdDevelopmentKey
        ? 'DEVELOPMENT DATA KEY CREATED: no LEAKGUARD_DATA_KEY is set, so the key that encrypts personal data in cases was generated under the state directory. Never use it in production.'
        : 'DEVELOPMENT DATA KEY IN USE: personal data in cases are encrypted with a generated file under the state directory. Set LEAKGUARD_DATA_KEY in production.',
    );
  }
  // Which keys this process holds, by id (never their material): a rotation whose previous key did
  // not load shows here, not as cards listed before it that stopped matching.
  const logKeys = (
    what: string,
    { primary, previous }: { primary: { id: string }; previous?: { id: string } | undefined },
  ) =>
    logger.info(
      { primary: primary.id, previous: previous?.id ?? null },
      previous ? `${what}: ${primary.id}, previous ${previous.id}` : `${what}: ${primary.id}, no previous key`,
    );
  logKeys('card keys', keyring);
  logKeys('data keys', dataKeys.keyring);
  const cipher = new PersonalDataCipher(dataKeys.keyring);

  // The audit log's checkpoints are signed with a key kept outside the database (services/audit-key.ts);
  // loaded by what opens the case database (the engine at start), not by the stream processor.
  let checkpointFile: CheckpointFile | undefined;
  const auditCheckpoints = () => {
    if (checkpointFile) return checkpointFile;
    const { file, ...auditKey } = openCheckpointFile(config, { create: true })!;
    if (auditKey.developmentKeyFile) {
      logger.warn(
        { keyFile: auditKey.developmentKeyFile, keyId: file.keyId },
        auditKey.createdDevelopmentKey
          ? 'DEVELOPMENT AUDIT KEY CREATED: no LEAKGUARD_AUDIT_KEY is set, so the key that signs audit checkpoints was generated under the state directory. Never use it in production.'
          : 'DEVELOPMENT AUDIT KEY IN USE: audit checkpoints are signed with a generated file under the state directory. Set LEAKGUARD_AUDIT_KEY in production.',
      );
    }
    logger.info({ file: file.path, keyId: file.keyId }, 'audit checkpoints');
    return (checkpointFile = file);
  };

  const metrics = new Metrics();
  // The files kept in force, first: one that does not load (ruleset, rate table with its path and
  // every problem, a model the engine cannot serve) stops the start-up before any connection opens.
  const rulesetPath = config.LEAKGUARD_RULESET ?? DEFAULT_RULESET_PATH;
  const reportRulesetReload = reloadReporter('ruleset', metrics.rulesetReloads, logger, metrics.fileRefused);
  const rulesetInForce = (r: Ruleset) => {
    metrics.rulesetInfo.reset();
    metrics.rulesetInfo.set({ version: r.version, digest: r.digest }, 1);
  };
  const rulesets: RulesetFile = new RulesetFile(rulesetPath, new Set(ALL_FEATURES), (result) => {
    reportRulesetReload(result);
    if (result.ok) rulesetInForce(rulesets.ruleset);
  });
  rulesetInForce(rulesets.ruleset);
  logger.info(
    { version: rulesetVersion(rulesets.ruleset), rules: rulesets.ruleset.rules.length, path: rulesets.path },
    'ruleset loaded',
  );
  // Mistakes that leave rules firing as before (docs/decision-policy.md, "What is refused"): loaded, and said.
  if (rulesets.ruleset.warnings)
    logger.warn({ path: rulesets.path, warnings: rulesets.ruleset.warnings }, 'ruleset loaded with mistakes to fix');
  // The model reads amounts in the currency it was trained on: the table's reference must stay it
  // (RatesFile refuses any change of reference at reload, model or not: the counters hold its amounts).
  let models: ModelFile | undefined = undefined;
  const warnOfStaleRates = (file: RatesFile) => {
    const warning = staleRatesWarning(file.rates, file.path, Date.now(), config.LEAKGUARD_RATES_MAX_AGE_DAYS);
    if (warning) logger.warn(warning.fields, warning.message);
  };
  const reportRatesReload = reloadReporter('rate table', metrics.rateTableReloads, logger, metrics.fileRefused);
  const rates: RatesFile = new RatesFile(
    config.LEAKGUARD_RATES ?? DEFAULT_RATES_PATH,
    (result) => {
      reportRatesReload(result);
      if (result.ok) warnOfStaleRates(rates);
    },
    (table) => {
      if (models && table.reference !== models.model.amountReference)
        throw new Error(referenceChangeRefused(models.model, table.reference));
    },
  );
  logger.info(
    { version: rates.rates.version, reference: rates.rates.reference, path: rates.path },
    'rate table loaded',
  );
  // Rates keep being used however old (RateTable.rate): said at load and reload, and measured at each scrape.
  warnOfStaleRates(rates);
  metrics.rateTableMaxRateAge.set(config.LEAKGUARD_RATES_MAX_AGE_DAYS);
  metrics.rateTableOldestRateAge.report(
    () => rateStaleness(rates.rates, Date.now(), config.LEAKGUARD_RATES_MAX_AGE_DAYS).oldestAgeDays,
  );
  const modelPath = modelPathOf(config);
  const reportModelReload = reloadReporter('model', metrics.modelReloads, logger, metrics.fileRefused);
  models = modelPath
    ? new ModelFile(
        modelPath,
        (result) => {
          reportModelReload(result);
          if (result.ok && models?.model.unverified) logger.warn(models.model.unverified);
        },
        () => rates.rates.reference,
      )
    : undefined;
  if (models) logger.info({ version: models.model.version, featureSet: models.model.featureSet }, 'model loaded');
  if (models?.model.unverified) logger.warn(models.model.unverified);
  const stopWatching = rulesets.watch();
  const stopWatchingRates = rates.watch();
  const stopWatchingModel = models?.watch();

  const redisTarget = redisTargetOf(config);
  const redis = redisTarget ? connectRedis(redisTarget) : undefined;
  redis?.on('error', (error: Error) => logger.warn({ err: error }, 'redis connection error'));
  const memoryWatchlist = redis
    ? undefined
    : new MemoryWatchlistStore(join(config.LEAKGUARD_STATE_DIR, 'watchlist.journal'));
  const watchlist: WatchlistStore = redis ? new RedisWatchlistStore(redis) : memoryWatchlist!;
  if (memoryWatchlist?.torn) logTornTail(logger, memoryWatchlist.torn);
  const memoryLists = redis ? undefined : new MemoryNegativeListStore();
  const negativeLists: NegativeListStore = redis ? new RedisNegativeListStore(redis) : memoryLists!;
  const retention = {
    markerTtlMs: markerRetentionMs(config.LEAKGUARD_MARKER_RETENTION_DAYS, archives),
    responseTtlMs: config.LEAKGUARD_RESPONSE_RETENTION_HOURS * 3_600_000,
  };
  const redisStore = redis
    ? new RedisVelocityStore(redis, {
        responseGatherMs: config.LEAKGUARD_RESPONSE_GATHER_MS,
        ...retention,
        onOversized: oversizedReporter(metrics, logger),
      })
    : undefined;
  const store: VelocityStore =
    redisStore ?? new MemoryVelocityStore({ watchlist: memoryWatchlist, lists: memoryLists, ...retention });
  const watchlistRegistry = new WatchlistRegistry(watchlist);
  watchlistRegistry.start(config.LEAKGUARD_WATCHLIST_REFRESH_MS, (error) =>
    logger.warn({ err: error }, 'watchlist registry refresh failed'),
  );
  const apiKeys = openApiKeyStore(config, redis);

  // Cases: flagged decisions leave the scoring path through a durable queue.
  // Embedded mode journals flagged decisions under the state directory: a crash loses none.
  const flaggedQueue: FlaggedQueue = redis
    ? new RedisFlaggedQueue(redis)
    : new JournalFlaggedQueue(join(config.LEAKGUARD_STATE_DIR, 'flagged.journal'), {
        protect: (f) => protectFlagged(f, cipher),
      });
  if (flaggedQueue instanceof JournalFlaggedQueue && flaggedQueue.torn) logTornTail(logger, flaggedQueue.torn);
  // Each reason's series from 0: the critical alert on increase() sees the first lost decision too.
  fromZero(metrics.flaggedLost, 'reason', FLAGGED_LOSSES);
  const flaggedSink = new FlaggedSink({
    cipher,
    queue: flaggedQueue,
    watchlist,
    onError: (error) => logger.warn({ err: error }, 'flagged decision not queued yet: retrying'),
    onLost: (lost, reason) => {
      metrics.flaggedLost.inc({ reason }, lost.length);
      // Which transactions (ids only): their decisions stand, but no analyst will see a case of them.
      logger.error(
        {
          lost: lost.length,
          reason,
          transactions: lost.slice(0, 100).map((f) => ({ merchantId: f.merchantId, transactionId: f.transactionId })),
        },
        reason === 'shutdown'
          ? 'flagged decisions lost at shutdown: the case queue (Redis) refused them until the end; no case will be made of them'
          : 'flagged decisions lost: the case queue (Redis) refused them until the waiting buffer was full; no case will be made of them',
      );
    },
  });
  metrics.flaggedWaiting.report(() => flaggedSink.waiting());

  // Breach discovery: card histories fed off the scoring path, scanned for common points of purchase.
  const breach =
    config.LEAKGUARD_CPP === 'on'
      ? openBreachDiscovery(config, logger, metrics, redis, watchlist, (merchantId, transactionId) =>
          engine.transactionOf(merchantId, transactionId),
        )
      : undefined;
  if (breach) metrics.countOpenSuspected = () => countOpenSuspected(watchlist);

  // The transaction archive: fed off the scoring path once a database is open (archive-writer.ts).
  let archive: TransactionArchive | undefined;
  let archiveWriter: ArchiveWriter | undefined;
  let archiveSql: SqlClient | undefined;
  let archiveCheck: ArchiveSchemaCheck | undefined;
  let closing = false;
  let maintainTimer: NodeJS.Timeout | undefined;
  const startArchive = (opening: Promise<TransactionArchive>) => {
    // A processor's opening fails on a schema behind: the writer hears it, the processor stops.
    opening.then(
      (a) => (archive = a),
      () => {},
    );
    // Retried every second while PostgreSQL refuses: said once a minute, counted every time.
    const warnNow = atMostEvery(60_000);
    const warnDropped = atMostEvery(60_000);
    archiveWriter = new ArchiveWriter({
      archive: opening,
      onError: (error) => {
        metrics.archiveErrors.inc();
        if (warnNow()) {
          logger.warn(
            { waiting: archiveWriter?.waiting },
            `transaction archive not written yet (PostgreSQL): ${connectionFailureSummary(error)}, retrying every second`,
          );
          logger.debug({ err: error }, 'transaction archive write failure');
        }
      },
      onDropped: (count) => {
        metrics.archiveDropped.inc(count);
        if (warnDropped())
          logger.error(
            { dropped: count },
            'counted transactions not archived (PostgreSQL refused them until the buffer was full, or the process stopped): outcomes reported for them after their markers have gone will be unknown',
          );
      },
      onWritten: (count) => metrics.archiveWritten.inc(count),
    });
  };
  metrics.archiveWaiting.report(() => archiveWriter?.waiting ?? 0);
  /** Engines keep the archive's days (every engine may: the database takes one at a time). */
  const startMaintaining = (a: TransactionArchive) => {
    const maintain = () =>
      a.maintain(config.LEAKGUARD_ARCHIVE_RETENTION_DAYS).then(
        (n) => metrics.archiveDaysDropped.inc(n),
        (error: unknown) =>
          logger.warn(
            { err: error },
            'transaction archive: its coming days not made, or old ones not dropped: will retry',
          ),
      );
    void maintain();
    maintainTimer = setInterval(() => void maintain(), ARCHIVE_MAINTAIN_MS);
    maintainTimer.unref();
  };

  // The recording for backtests: fed off the scoring path, written in batches.
  const recorder = config.LEAKGUARD_RECORD === 'on' ? openRecording(config, logger, metrics) : undefined;

  // The friction each merchant's customers meet, against its budget: metrics and the console read it.
  const friction = new FrictionTracker();
  const frictionShares = (limit?: number) =>
    friction.shares((merchantId) => frictionBudget(rulesets.ruleset, merchantId), limit);
  metrics.reportFriction(frictionShares);

  // Recorded outcomes, noted in the case database for the analysts (services/cases/outcomes.ts).
  let cases: CaseSystem | undefined;
  const outcomeWarning = atMostEvery(60_000);
  const caseOutcomes = new CaseOutcomeNotes(
    () => cases?.store,
    (error) => {
      if (outcomeWarning())
        logger.warn(
          { err: error },
          'recorded outcomes not noted on their cases yet (case database): retrying every second',
        );
    },
    (count) =>
      logger.error(
        { count },
        'recorded outcomes not noted on their cases (the case database refused them until the end, or too many waited): their case pages show what the transaction archive noted only',
      ),
  );

  const counting = metrics.observer(friction);
  // A degraded answer a paused processor holds back: scored again once the store is back, then decided.
  const heldBack = (response: Pick<ScoreResponse, 'degraded'>) => holdsBackDegraded && response.degraded;
  const engine = new Engine({
    store,
    keyring,
    ruleset: () => rulesets.ruleset,
    rates: () => rates.rates,
    deadlineMs: config.LEAKGUARD_DEADLINE_MS,
    observer: {
      ...counting,
      decision: (response, merchantId) => {
        if (!heldBack(response)) counting.decision?.(response, merchantId);
      },
      scored: (merchantId, request, result) => {
        if (result.kind === 'scored' && heldBack(result.response)) return;
        flaggedSink.observe(merchantId, request, result);
        breach?.recorder.scored(merchantId, result);
        recorder?.scored(merchantId, request, result);
        archiveWriter?.scored(merchantId, result);
      },
      outcomeRecorded: (merchantId, transactionId, outcome, at, reportedAt) => {
        breach?.recorder.outcome(merchantId, transactionId, outcome);
        recorder?.outcome(merchantId, transactionId, outcome, at, reportedAt);
        caseOutcomes.note(merchantId, transactionId, outcome, at);
      },
    },
    watchlistEvents: () => watchlistRegistry.events,
    issuerBinRanges: () => watchlistRegistry.binRanges,
    lists: true,
    model: () => models?.model,
    // Until the database is open an outcome needing the archive is refused (503: retried), not unknown.
    archive: () => archive ?? (archiveWriter ? ARCHIVE_NOT_OPEN : undefined),
  });
  let scanTimer: NodeJS.Timeout | undefined;
  /** The background move of old distinct sets (velocity-migration.ts), awaited before closing. */
  let distinctMove: Promise<void> | undefined;
  let stopRedisWatch: (() => void) | undefined;
  /**
   * The counters' amounts are in the reference they were written in, and Redis keeps them across a
   * restart: a start with a table in another reference is refused (CountingReferenceMismatch), or
   * replaces it when LEAKGUARD_REFERENCE_CHANGE_FROM names the one recorded.
   */
  const checkCountingReference = async () => {
    const reference = rates.rates.reference;
    const replacing = config.LEAKGUARD_REFERENCE_CHANGE_FROM;
    let checked: Awaited<ReturnType<VelocityStore['countingReference']>>;
    try {
      checked = await store.countingReference(reference, replacing);
    } catch (error) {
      // Redis reached but refusing (full, failing over): scoring answers degraded meanwhile, as without the check.
      logger.warn(
        { err: error, reference },
        'the reference currency of the velocity counters could not be checked: it will be at the next start',
      );
      return;
    }
    const { result, recorded } = checked;
    if (result === 'mismatch') throw new CountingReferenceMismatch(recorded!, reference, replacing);
    if (result === 'replaced')
      logger.warn(
        { from: recorded, reference },
        `reference currency changed from ${recorded} to ${reference} (LEAKGUARD_REFERENCE_CHANGE_FROM): the velocity amount sums mix ${recorded} and ${reference} amounts until the ${recorded} entries age out (up to 30 days); remove the setting`,
      );
    else if (result === 'recorded') logger.info({ reference }, `velocity counters: amounts counted in ${reference}`);
  };
  let webhooks: WebhookSystem | undefined;
  let opening: Promise<CaseSystem> | undefined;
  // The first attempt to open the case database (PGlite's start stalls the event loop for a
  // moment): not ready meanwhile, so that no scoring is routed here to miss its deadline. A
  // database that is down is not waited for: scoring does not need it (flagged decisions queue).
  let firstOpenSettled = true;
  let archiveOpened: ((a: TransactionArchive) => void) | undefined;
  const openCases = () => {
    if (opening) return opening;
    firstOpenSettled = false;
    if (archives && role === 'engine' && !archiveWriter)
      startArchive(new Promise<TransactionArchive>((resolve) => (archiveOpened = resolve)));
    opening = (async () => {
      const checkpoints = auditCheckpoints();
      // Made once, connected at its first send: Kafka being down holds nothing here.
      const labels = config.KAFKA_BROKERS
        ? await kafkaLabelSink({ brokers: config.KAFKA_BROKERS.split(',') })
        : undefined;
      const warnLabels = atMostEvery(60_000);
      // One client for every attempt (a pool reconnects by itself): the archive is handed it once
      // the schema is there and keeps it, whatever fails after that and is retried.
      const sql = await openSqlClient(config);
      let handedToArchive = false;
      // A database that is not up yet is waited for (not once the runtime closes); anything else
      // (bad migration, bad URL) is fatal.
      try {
        return await untilReachable(
          async () => {
            await migrateDatabase(config, sql).finally(() => (firstOpenSettled = true));
            if (archiveOpened) {
              const a = new PgTransactionArchive(sql);
              archiveOpened(a);
              archiveOpened = undefined;
              handedToArchive = true;
              startMaintaining(a);
            }
            if (config.NODE_ENV === 'production' && sql.driver === 'pg' && (await canRewriteAuditLog(sql))) {
              logger.warn(
                'DATABASE_URL connects as a role that owns the audit log or may delete from it: a cut is still found against the checkpoints, but set DATABASE_MIGRATION_URL and give the application a role of its own (docs/console.md)',
              );
            }
            // The case system's own reason for a lost flagged decision, from 0 as the sink's are.
            fromZero(metrics.flaggedLost, 'reason', ['refused_by_database']);
            cases = await openCaseSystem({
              sql,
              queue: flaggedQueue,
              negativeLists,
              negativeListTtlMs: config.LEAKGUARD_NEGATIVE_LIST_DAYS * 86_400_000,
              allowListMaxDays: config.LEAKGUARD_ALLOWLIST_MAX_DAYS,
              apiKeys,
              cipher,
              retentionDays: config.LEAKGUARD_PERSONAL_DATA_RETENTION_DAYS,
              checkpoints: {
                file: checkpoints,
                by: writerName('engine'),
                onAlarm: (message) => {
                  metrics.auditTampering.set(1);
                  logger.error(
                    { checkpoints: checkpoints.path },
                    `AUDIT LOG TAMPERING: ${message}. Run npm run audit -- verify`,
                  );
                },
                onWarning: (message) =>
                  logger.warn({ checkpoints: checkpoints.path }, `AUDIT LOG UNCHECKPOINTED: ${message}`),
              },
              ...(labels ? { labels } : {}),
              ...(breach
                ? {
                    onFraudDecision: (card: string, at: number, merchantId: string, transactionId: string) =>
                      breach.recorder.fraud({ card, at, source: 'analyst', merchantId, transactionId }),
                    onFraudWithdrawn: (card: string, at: number, merchantId: string, transactionId: string) =>
                      breach.recorder.withdrawFraud({ card, at, source: 'analyst', merchantId, transactionId }),
                  }
                : {}),
              ...(recorder
                ? {
                    onLabel: (merchantId: string, transactionId: string, label: 'fraud' | 'legitimate', at: number) =>
                      recorder.label(merchantId, transactionId, label, at),
                    onLabelWithdrawn: (merchantId: string, transactionId: string, _label: string, at: number) =>
                      recorder.labelWithdrawn(merchantId, transactionId, at),
                  }
                : {}),
              onEffectFailed: (error, effect) => {
                metrics.decisionEffectFailures.inc();
                logger.warn(
                  { err: error, caseId: effect.caseId, effectId: effect.id, attempts: effect.attempts + 1 },
                  "a decision's effects (negative lists, allow-list, labels) could not be applied: retried until they are",
                );
              },
              onError: (error, stage) => {
                if (stage !== 'labels') logger.warn({ err: error, stage }, 'case system: will retry');
                // Tried again every few seconds while Kafka is down: said once a minute.
                else if (warnLabels())
                  logger.warn(
                    `case labels not published to Kafka yet (${connectionFailureSummary(error)}): they wait in the case database and are sent when it answers`,
                  );
              },
              onRefused: (flagged, error) => {
                metrics.flaggedLost.inc({ reason: 'refused_by_database' });
                logger.error(
                  { err: error, merchantId: flagged.merchantId, transactionId: flagged.transactionId },
                  'the case database refuses this flagged decision for its data: set aside, no case is made of it',
                );
              },
            });
            // Outcomes recorded while the database was not open are noted now.
            void caseOutcomes.flush();
            const caseStore = cases.store;
            metrics.decisionEffectsPending.report(() => caseStore.pendingEffects());
            // Only where labels are published: without KAFKA_BROKERS they stay in the database by design.
            if (labels) metrics.labelsUnpublished.report(() => caseStore.unpublishedLabelStats());
            // Webhooks read their sources (hits, decisions) off the scoring path, from their own outbox.
            webhooks = openWebhookSystem({
              sql,
              config,
              watchlist,
              metrics,
              logger,
              sealer: secretSealer(cipher),
              apiKeys,
              audit: cases.audit,
            });
            return cases;
          },
          // One line a retry; the stack (the same every time) at debug only.
          (error, retryInMs) => {
            logger.warn(
              `PostgreSQL not reachable yet: ${connectionFailureSummary(error)}, retrying in ${retryInMs / 1000}s`,
            );
            logger.debug({ err: error }, 'PostgreSQL connection failure');
          },
          () => closing,
        );
      } catch (error) {
        await labels?.close().catch(() => {});
        // The archive keeps the pool it was handed: it writes on while the console is unavailable.
        if (!handedToArchive || closing) await sql.close().catch(() => {});
        throw error;
      }
    })();
    // Opened, or given up for good (a bad migration): settled either way.
    opening.then(
      () => (firstOpenSettled = true),
      () => (firstOpenSettled = true),
    );
    return opening;
  };

  return {
    engine,
    store,
    apiKeys,
    rulesets,
    frictionShares,
    rates,
    models,
    metrics,
    watchlist,
    watchlistRegistry,
    keyring,
    flaggedQueue,
    flaggedSink,
    negativeLists,
    openCases,
    auditCheckpoints,
    get cases() {
      return cases;
    },
    caseOutcomes,
    get webhooks() {
      return webhooks;
    },
    get archiveWriter() {
      return archiveWriter;
    },
    openArchive() {
      if (archiveCheck || !archives || role !== 'processor') return archiveCheck;
      const sql = (archiveSql = new PgSqlClient({ connectionString: config.DATABASE_URL!, max: 2 }));
      let reached!: (answer: boolean) => void;
      const firstTry = new Promise<boolean>((resolve) => (reached = resolve));
      // As the engine's openCases: a database not up yet is waited for, one not set up stops.
      const done = untilReachable(
        async () => {
          try {
            await readyArchiveSchema(config, sql);
          } catch (error) {
            if (closing) return;
            if (isDatabaseSetupError(error) || isConnectionError(error)) throw error;
            logger.error(
              { err: error },
              "the transaction archive's schema could not be checked: its writes are tried all the same",
            );
          }
        },
        (error, retryInMs) => {
          reached(false);
          logger.warn(
            `PostgreSQL not reachable yet: ${connectionFailureSummary(error)}; the transaction archive's schema is checked once it is (retrying in ${retryInMs / 1000}s), its writes wait meanwhile`,
          );
          logger.debug({ err: error }, 'PostgreSQL connection failure');
        },
      ).then(() => reached(true));
      // Written once checked: a schema behind stops the processor before a write fails.
      startArchive(done.then(() => new PgTransactionArchive(sql)));
      const reachedOnce = Promise.race([firstTry, done.then(() => true)]);
      reachedOnce.catch(() => {}); // told through `done` to whoever only watches that
      archiveCheck = { reached: reachedOnce, done };
      return archiveCheck;
    },
    recorder,
    breach: breach && {
      ...breach,
      async scan(at) {
        await breach.recorder.flush();
        const started = performance.now();
        try {
          const report = await breach.scanner.scan(at);
          metrics.cppScans.inc({ result: 'ok' });
          // Newly suspected merchants only: one found again (open, confirmed, dismissed or closed)
          // is in the report, not in the count (leakguard_cpp_suspected_open_events says what waits).
          metrics.cppSuspected.inc(report.findings.filter((f) => f.created).length);
          metrics.cppScanSeconds.set((performance.now() - started) / 1000);
          metrics.cppScanCards.set(report.fraudulentCards);
          metrics.cppScanCoveredDays.set((report.at - report.scannedFrom) / 86_400_000);
          metrics.cppScanBudgetUsed.set(report.labelledCards / breach.scanner.options.maxCards);
          if (report.truncated) {
            metrics.cppScansTruncated.inc();
            logger.warn(
              { scannedFrom: new Date(report.scannedFrom).toISOString(), maxCards: breach.scanner.options.maxCards },
              'breach scan truncated: the cards labelled in its longest window exceed its budget (LEAKGUARD_CPP_SCAN_MAX_CARDS); it tested the most recent cards that fit',
            );
          }
          if (report.findings.length > 0) await watchlistRegistry.refresh();
          return report;
        } catch (error) {
          metrics.cppScans.inc({ result: 'failed' });
          throw error;
        }
      },
      startScans(onScanned) {
        if (config.LEAKGUARD_CPP_SCAN_MINUTES === 0) return;
        // Each result's series from 0: an alert on increase() then sees the first failure too.
        for (const result of ['ok', 'failed', 'skipped']) metrics.cppScans.inc({ result }, 0);
        // Every engine ticks; the one that takes the turn scans (ScanSchedule): one scan per
        // interval for the deployment. Its name in Redis says which engine has the turn.
        const everyMs = config.LEAKGUARD_CPP_SCAN_MINUTES * 60_000;
        const schedule = new ScanSchedule(breach.history, () => this.scan(), {
          holder: `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
          everyMs,
        });
        scanTimer = setInterval(() => {
          schedule
            .tick()
            .then((report) => {
              if (!report) {
                metrics.cppScans.inc({ result: 'skipped' });
                logger.debug("breach scan: another engine has this interval's turn");
                return;
              }
              const suspected = report.findings.filter((f) => f.event.status !== 'retracted');
              if (suspected.length > 0)
                logger.warn(
                  { suspected: suspected.map((f) => ({ merchantId: f.point.merchantId, event: f.event.id })) },
                  'breach scan: suspected points of compromise',
                );
              onScanned?.(undefined);
            })
            .catch((error: unknown) => {
              logger.warn({ err: error }, 'breach scan failed');
              onScanned?.(error);
            });
        }, everyMs);
        scanTimer.unref();
      },
    },
    authenticator: new ApiKeyAuthenticator(apiKeys, {
      cacheMs: config.LEAKGUARD_API_KEY_CACHE_MS,
      failuresPerMinute: config.LEAKGUARD_AUTH_FAILURES_PER_MINUTE,
    }),
    embedded: !redis,
    redis,
    reloadFiles() {
      rulesets.reload();
      rates.reload();
      models?.reload();
    },
    async waitForStores(timeoutMs = 10_000) {
      const ready =
        !redis ||
        (await whenReady(redis, timeoutMs).then(
          () => true,
          () => false,
        ));
      // Read now and then whether Redis may drop keys, and how full it is; from now on, even if it is not reachable yet.
      if (redis) stopRedisWatch ??= watchRedis(redis, metrics, logger, (limit) => redisStore?.setMemberLimit(limit));
      // Keys written before the cluster layout (a single Redis only): renamed once, before they are read.
      if (ready && redis) {
        await migrateKeyLayout(redis).then(
          (m) =>
            m.renamed + m.conflicts > 0 &&
            logger.info(m, 'Redis keys renamed to the cluster layout (docs/redis-cluster.md)'),
          (error: unknown) => logger.error({ err: error }, 'Redis key layout migration failed'),
        );
        // Cards' distinct sets of the previous version, into their logs: in the background.
        distinctMove ??= moveDistinctSetsIntoLogs(redis).then(
          (m) =>
            void (
              m.sets > 0 && logger.info(m, "cards' distinct sets moved into their logs (docs/velocity-features.md)")
            ),
          (error: unknown) => logger.error({ err: error }, "moving cards' distinct sets into their logs failed"),
        );
      }
      if (ready) await checkCountingReference();
      if (ready)
        await watchlistRegistry
          .refresh()
          .catch((error: unknown) => logger.warn({ err: error }, 'watchlist registry not loaded'));
      return ready;
    },
    async readiness() {
      const ok = await Promise.race([
        store.ping().then(
          () => true,
          () => false,
        ),
        new Promise<boolean>((r) => setTimeout(r, 500, false)),
      ]);
      const checks: Record<string, boolean> = { velocityStore: ok };
      if (!firstOpenSettled) checks.caseDatabase = false;
      return checks;
    },
    async close() {
      closing = true;
      await distinctMove;
      stopRedisWatch?.();
      stopWatching();
      stopWatchingRates();
      stopWatchingModel?.();
      watchlistRegistry.stop();
      await flaggedSink.close(FLAGGED_CLOSE_MS);
      if (scanTimer) clearInterval(scanTimer);
      await breach?.recorder.close();
      await recorder?.close();
      if (maintainTimer) clearInterval(maintainTimer);
      await archiveWriter?.close();
      await archiveSql?.close();
      await webhooks?.stop();
      await caseOutcomes.close();
      if (cases) await cases.close();
      else await flaggedQueue.stop();
      await store.close();
    },
  };
}

function openBreachDiscovery(
  config: Config,
  logger: Logger,
  metrics: Metrics,
  redis: RedisClient | undefined,
  watchlist: WatchlistStore,
  transactionOf: HistoryRecorderOptions['transactionOf'],
): Omit<BreachDiscovery, 'scan' | 'startScans'> {
  const options = {
    retentionMs: config.LEAKGUARD_CPP_LOOKBACK_DAYS * 86_400_000,
    merchantsPerCard: config.LEAKGUARD_CPP_MERCHANTS_PER_CARD,
  };
  const history: CardHistoryStore = redis
    ? new RedisCardHistoryStore(redis, options)
    : new MemoryCardHistoryStore(options);
  const recorder = new HistoryRecorder({
    store: history,
    transactionOf,
    suspicionsListing: (card) => suspicionsListing(watchlist, card),
    onError: (error) => {
      metrics.cppHistoryErrors.inc();
      logger.warn({ err: error }, 'card histories not written yet: retrying');
    },
    onDropped: (count) => metrics.cppHistoryDropped.inc(count),
  });
  const scanner = new BreachScanner(history, watchlist, {
    maxCards: config.LEAKGUARD_CPP_SCAN_MAX_CARDS || scanBudgetFor(getHeapStatistics().heap_size_limit),
    lookbackMs: options.retentionMs,
    minCards: config.LEAKGUARD_CPP_MIN_CARDS,
    alpha: config.LEAKGUARD_CPP_ALPHA,
  });
  return { history, recorder, scanner };
}

/** The recording's sink: `leakguard.scored` with Kafka, else a folder of daily NDJSON files. */
function openRecording(config: Config, logger: Logger, metrics: Metrics): TrafficRecorder {
  const retentionDays = config.LEAKGUARD_RECORD_RETENTION_DAYS;
  const sink: RecordSink | Promise<RecordSink> = config.KAFKA_BROKERS
    ? kafkaRecordSinkFromEnvironment(config.KAFKA_BROKERS.split(','), retentionDays, config.LEAKGUARD_RECORD_TOPIC)
    : new NdjsonRecordSink(config.LEAKGUARD_RECORD_DIR ?? join(config.LEAKGUARD_STATE_DIR, 'records'), {
        retentionDays,
        onError: (error) => logger.warn({ err: error }, 'a finished day of traffic records not compressed yet'),
      });
  return new TrafficRecorder({
    sink,
    onError: (error) => {
      metrics.recordErrors.inc();
      logger.warn({ err: error }, 'traffic records not written yet: retrying');
    },
    onDropped: (count) => metrics.recordsDropped.inc(count),
    onWritten: (count) => metrics.recordsWritten.inc(count),
  });
}

/** Leakguard's suspected events still open and unreviewed (neither confirmed nor dismissed), read a page at a time. */
export async function countOpenSuspected(watchlist: WatchlistStore): Promise<number> {
  let count = 0;
  let after: number | undefined;
  for (;;) {
    const page = await watchlist.pageEvents({ issuerId: CPP_ISSUER, status: 'open', after, limit: 1000 });
    for (const e of page.items)
      if (e.source === CPP_SOURCE && e.confidence === 'suspected' && !e.evidence?.review) count++;
    if (!page.hasMore || page.next === null) return count;
    after = page.next;
  }
}
