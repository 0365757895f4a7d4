// Configuration comes from the environment only, validated once at start-up: a bad value stops
// the process with the variable's name and what is wrong with it.
import { z } from 'zod';
import { kafkaSecurityProblems } from './adapters/kafka/security.ts';
import { parseClusterNodes } from './adapters/redis/connection.ts';
import { RESPONSE_GATHER_MS } from './adapters/redis/velocity-store.ts';
import { isCurrencyCode } from './core/currency.ts';
import { RESPONSE_TTL_MS } from './core/velocity.ts';
import { issueLines, LeakguardError, type LeakguardErrorOptions } from './core/errors.ts';

const optionalString = z.string().trim().min(1).optional();

/**
 * A whole number in range, written in plain decimal digits. z.coerce.number read `PORT=" "` as 0
 * (a random port), `LEAKGUARD_CPP_SCAN_MINUTES=" "` as 0 (scans off), and took `0x10` and `1e3`.
 */
export const wholeNumber = (min: number, max: number) => {
  const error = `must be a whole number from ${min} to ${max}, in decimal digits`;
  return z
    .string({ error })
    .trim()
    .regex(/^\d{1,16}$/, { error })
    .transform(Number)
    .pipe(z.number().int().min(min, { error }).max(max, { error }));
};
/** A number written as decimal digits, with a fraction or an exponent (`0.001`, `1e-6`); no hex, no blank. */
const plainNumber = (error: string) =>
  z
    .string({ error })
    .trim()
    .regex(/^\d+(\.\d+)?([eE][-+]?\d+)?$|^\.\d+([eE][-+]?\d+)?$/, { error })
    .transform(Number);
const int = (def: number, min: number, max: number) => wholeNumber(min, max).default(def);
/** LEAKGUARD_CPP_ALPHA's range, said by each of its checks. */
const ALPHA_RANGE = 'must be a number above 0 and below 0.5 (0.001, 1e-6)';

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(8080, 0, 65535),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  /** A Redis Cluster instead of one Redis: seed nodes, host:port or redis[s]://[user:password@]host:port, comma-separated. */
  REDIS_CLUSTER_NODES: z
    .string()
    .superRefine((v, ctx) => {
      try {
        parseClusterNodes(v);
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          message: `${(error as Error).message} (REDIS_CLUSTER_NODES=host:port,host:port,...)`,
        });
      }
    })
    .optional(),
  LEAKGUARD_STATE_DIR: z.string().min(1).default('.leakguard'),
  LEAKGUARD_CARD_KEY: optionalString,
  LEAKGUARD_CARD_KEY_FILE: optionalString,
  LEAKGUARD_CARD_KEY_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, _ or -')
    .optional(),
  LEAKGUARD_PREVIOUS_CARD_KEY: optionalString,
  LEAKGUARD_PREVIOUS_CARD_KEY_FILE: optionalString,
  LEAKGUARD_PREVIOUS_CARD_KEY_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, _ or -')
    .optional(),
  /** Encrypts the personal data cases keep (email, phone, addresses, IP, device, customer id): data-keys.ts. */
  LEAKGUARD_DATA_KEY: optionalString,
  LEAKGUARD_DATA_KEY_FILE: optionalString,
  LEAKGUARD_DATA_KEY_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, _ or -')
    .optional(),
  LEAKGUARD_PREVIOUS_DATA_KEY: optionalString,
  LEAKGUARD_PREVIOUS_DATA_KEY_FILE: optionalString,
  LEAKGUARD_PREVIOUS_DATA_KEY_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, _ or -')
    .optional(),
  /** A closed case's personal data are erased this many days after it was decided. */
  LEAKGUARD_PERSONAL_DATA_RETENTION_DAYS: int(180, 1, 3650),
  LEAKGUARD_RULESET: optionalString,
  /** The model artifact; unset: the starter model (services/model/); `off`: rules and watchlists only. */
  LEAKGUARD_MODEL: optionalString,
  /** The exchange-rate table (docs/currencies.md); unset: services/rates/default.yaml. */
  LEAKGUARD_RATES: optionalString,
  /**
   * A currency whose newest exchange rate is older than this many days is named in a warning at
   * load and reload, and leakguard_rate_table_oldest_rate_age_days exceeds
   * leakguard_rate_table_max_rate_age_days (alert LeakguardExchangeRatesStale): docs/currencies.md.
   */
  LEAKGUARD_RATES_MAX_AGE_DAYS: int(45, 1, 3650),
  /**
   * The reference currency the velocity counters were written in, which this start replaces with
   * the rate table's (docs/currencies.md, "Changing the reference currency"): the amount sums then
   * mix both until the old entries age out. Unset: a start whose table's reference is not the one the
   * counters were written in is refused.
   */
  LEAKGUARD_REFERENCE_CHANGE_FROM: optionalString.refine(
    (v) => v === undefined || isCurrencyCode(v),
    'must be an ISO 4217 currency code',
  ),
  LEAKGUARD_DEADLINE_MS: int(50, 5, 10_000),
  /**
   * How long a scored transaction's marker is kept (docs/velocity-features.md): outcomes reported
   * later find the transaction in the archive, or are unknown. Unset: 3 days where this process
   * archives its transactions, else 35 (markerRetentionMs). At least two days: longer than a stored
   * response, which a retry must find.
   */
  LEAKGUARD_MARKER_RETENTION_DAYS: wholeNumber(2, 400).optional(),
  /**
   * The transaction archive (docs/capacity.md, "Redis memory"): each counted transaction's identities
   * in PostgreSQL, for the outcomes reported after its marker has gone. Written by the engine, and by
   * a stream processor given DATABASE_URL; kept this many days (chargebacks come up to 120 days on).
   */
  LEAKGUARD_ARCHIVE: z.enum(['on', 'off']).default('on'),
  LEAKGUARD_ARCHIVE_RETENTION_DAYS: int(180, 1, 3650),
  /**
   * How long a scored transaction's response is stored: an identical retry within it gets the same
   * answer; later, an answer read again from the counters (the transaction still counted once). At
   * most two days, the shortest a marker may be kept.
   */
  LEAKGUARD_RESPONSE_RETENTION_HOURS: int(RESPONSE_TTL_MS / 3_600_000, 1, 48),
  /** One Redis: how long a stored response waits for others to go in its call; 0: only its event-loop turn's. */
  LEAKGUARD_RESPONSE_GATHER_MS: int(RESPONSE_GATHER_MS, 0, 1_000),
  LEAKGUARD_BODY_LIMIT_BYTES: int(64 * 1024, 1024, 10 * 1024 * 1024),
  LEAKGUARD_RATE_LIMIT_PER_MINUTE: int(60_000, 1, 100_000_000),
  /** Requests without an API key (the console) per minute: per signed-in account, else per client address. */
  LEAKGUARD_RATE_LIMIT_WITHOUT_KEY_PER_MINUTE: int(3_000, 1, 100_000_000),
  LEAKGUARD_API_KEY_CACHE_MS: int(30_000, 0, 3_600_000),
  /** Failed API key authentications (missing, unknown, revoked) per client address per minute; then 429. */
  LEAKGUARD_AUTH_FAILURES_PER_MINUTE: int(120, 1, 1_000_000),
  /** Card-list uploads: sized so that a 5-million-card NDJSON list fits (about 60 bytes a line). */
  LEAKGUARD_UPLOAD_LIMIT_BYTES: int(512 * 1024 * 1024, 1024, 8 * 1024 * 1024 * 1024),
  /** Threads that parse and fingerprint uploaded card lists; unset: one core less than the machine's, at most 4; 0: on the event loop. */
  LEAKGUARD_UPLOAD_THREADS: wholeNumber(0, 64).optional(),
  LEAKGUARD_WATCHLIST_REFRESH_MS: int(5_000, 100, 600_000),
  /** Cases and the console: a real PostgreSQL; unset: embedded PGlite under the state directory. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  /** The tables' owner, for migrations only; DATABASE_URL's role then gets rights to use them, never to rewrite the audit log. */
  DATABASE_MIGRATION_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  /** Signs the audit log's checkpoints (docs/console.md): kept outside the database, like the card key. */
  LEAKGUARD_AUDIT_KEY: optionalString,
  LEAKGUARD_AUDIT_KEY_FILE: optionalString,
  /** Where checkpoints are appended; unset: one file per key and database under $XDG_STATE_HOME/leakguard. */
  LEAKGUARD_AUDIT_CHECKPOINT_FILE: optionalString,
  /** Optional: labels from case decisions are published to leakguard.labels. */
  KAFKA_BROKERS: z
    .string()
    .regex(/^[A-Za-z0-9.:[\]-]+(,[A-Za-z0-9.:[\]-]+)*$/, 'must be host:port[,host:port...]')
    .optional(),
  /** Console sessions end after this long without a request (PCI DSS 8.2.8: at most 15 minutes). */
  LEAKGUARD_CONSOLE_IDLE_MS: int(15 * 60_000, 1_000, 15 * 60_000),
  /**
   * Console sessions end this long after sign-in however active they are: a stolen or forgotten
   * session cookie stops working within a shift (at most 24 hours).
   */
  LEAKGUARD_CONSOLE_SESSION_MAX_MS: int(12 * 3_600_000, 1_000, 24 * 3_600_000),
  /**
   * Failed logins (password or code) from one address before the account is locked for it, and wrong
   * codes with the right password (any address) before its second factor is locked; for how long (at least 30 minutes).
   */
  LEAKGUARD_LOGIN_MAX_ATTEMPTS: int(10, 3, 10),
  LEAKGUARD_LOGIN_LOCKOUT_MS: int(30 * 60_000, 30 * 60_000, 7 * 86_400_000),
  /** Login attempts per client address per minute. */
  LEAKGUARD_LOGIN_RATE_PER_MINUTE: int(20, 1, 10_000),
  /** scrypt cost (log2 N) for console passwords: 15 = 32 MiB per hash. */
  LEAKGUARD_PASSWORD_SCRYPT_LOG_N: int(15, 14, 20),
  /** How long an entity confirmed in fraud stays on the negative lists. */
  LEAKGUARD_NEGATIVE_LIST_DAYS: int(180, 1, 3650),
  /** Longest allow-listing of a card for a merchant after a legitimate decision. */
  LEAKGUARD_ALLOWLIST_MAX_DAYS: int(90, 1, 365),
  /** Breach discovery (docs/breach-discovery.md): card histories are kept and scanned for common points of purchase. */
  LEAKGUARD_CPP: z.enum(['on', 'off']).default('on'),
  /** Minutes between two scans by the engine (0: only on demand, POST /v1/admin/cpp/scan). */
  LEAKGUARD_CPP_SCAN_MINUTES: int(60, 0, 7 * 24 * 60),
  /**
   * The most fraudulent cards a scan holds (~1 KB each in the engine's heap); past it, the scan
   * tests the most recent cards that fit. 0: the cards that fill half of the engine's heap limit
   * (`node --max-old-space-size`; V8's default follows the machine's memory, up to ~4 GB: ~2.2
   * million cards).
   */
  LEAKGUARD_CPP_SCAN_MAX_CARDS: int(0, 0, 1_000_000_000),
  /** How long a card's merchants are kept, and how far before its first fraud they count. */
  LEAKGUARD_CPP_LOOKBACK_DAYS: int(120, 7, 400),
  /** At most this many merchants per card (its oldest go first). */
  LEAKGUARD_CPP_MERCHANTS_PER_CARD: int(200, 10, 10_000),
  /**
   * Fewest fraudulent cards at a merchant to suspect it, and the family-wise false-suspicion rate
   * across the merchants of a scan. Strict by default: on the default breach dataset 0.001 and 5
   * named 44 merchants wrongly (genuine orders challenged 22 → 58 per 1,000), 1e-6 and 10 named 4
   * (22 → 41), the breaches 4 days later (docs/breach-discovery.md).
   */
  LEAKGUARD_CPP_MIN_CARDS: int(10, 2, 1000),
  LEAKGUARD_CPP_ALPHA: plainNumber(ALPHA_RANGE)
    .pipe(z.number().gt(0, { error: ALPHA_RANGE }).lt(0.5, { error: ALPHA_RANGE }))
    .default(1e-6),
  /**
   * Recording for backtests (docs/backtest.md): every scored transaction, outcome and analyst's label,
   * card reduced, to `leakguard.scored` when KAFKA_BROKERS is set, else to NDJSON files (one per day)
   * under LEAKGUARD_RECORD_DIR (default: <state dir>/records). Kept this many days.
   */
  LEAKGUARD_RECORD: z.enum(['on', 'off']).default('on'),
  LEAKGUARD_RECORD_DIR: optionalString,
  LEAKGUARD_RECORD_RETENTION_DAYS: int(90, 1, 3650),
  LEAKGUARD_RECORD_TOPIC: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be a Kafka topic name')
    .default('leakguard.scored'),
  /** Webhooks (docs/webhooks.md): `1` lets receivers be on private, loopback and link-local addresses (tests, private networks). */
  LEAKGUARD_WEBHOOK_ALLOW_PRIVATE: z.enum(['0', '1']).default('0'),
  /**
   * In production receivers must be https:// (deliveries carry BINs, last 4 digits, amounts, ids);
   * `1` accepts plain http:// there too (a receiver behind a TLS-terminating gateway on a private network).
   */
  LEAKGUARD_WEBHOOK_ALLOW_HTTP: z.enum(['0', '1']).default('0'),
  /** One delivery attempt, connection included, is given up after this long. */
  LEAKGUARD_WEBHOOK_TIMEOUT_MS: int(10_000, 100, 60_000),
  /** Retries: the first after this long, doubling up to the maximum delay, until the delivery was queued LEAKGUARD_WEBHOOK_RETRY_FOR_MS ago. */
  LEAKGUARD_WEBHOOK_RETRY_BASE_MS: int(5_000, 1, 3_600_000),
  LEAKGUARD_WEBHOOK_RETRY_MAX_DELAY_MS: int(3_600_000, 1, 86_400_000),
  LEAKGUARD_WEBHOOK_RETRY_FOR_MS: int(86_400_000, 1, 30 * 86_400_000),
  /** How often an engine looks for deliveries due and new events. */
  LEAKGUARD_WEBHOOK_POLL_MS: int(1_000, 10, 60_000),
  /** Watchlist hits are fed this long after they are recorded (the hit store's clock may lag this engine's). */
  LEAKGUARD_WEBHOOK_HIT_LAG_MS: int(1_000, 0, 60_000),
  /** Subscriptions one engine serves at once (a hanging receiver holds one of them until its timeout). */
  LEAKGUARD_WEBHOOK_CONCURRENCY: int(8, 1, 256),
  /** Delivered and failed deliveries stay in the delivery log this many days. */
  LEAKGUARD_WEBHOOK_LOG_DAYS: int(30, 1, 365),
  /** Subscriptions one API key's tenant (issuer or merchant) may hold: each multiplies every event it is sent. */
  LEAKGUARD_WEBHOOK_MAX_PER_TENANT: int(10, 1, 1000),
});
export type Config = z.infer<typeof configSchema>;

export class ConfigError extends LeakguardError {
  constructor(message: string, options?: LeakguardErrorOptions) {
    super('CONFIG_INVALID', message, options);
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set": `REDIS_URL= npm start` selects the embedded store.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = configSchema.safeParse(present);
  if (!result.success) {
    const lines = issueLines(result.error, { root: '' }).map((line) => `  ${line}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const c = result.data;
  // A key given both ways: which one is meant cannot be told (the file used to win, silently, for a previous key).
  for (const name of [
    'LEAKGUARD_CARD_KEY',
    'LEAKGUARD_PREVIOUS_CARD_KEY',
    'LEAKGUARD_AUDIT_KEY',
    'LEAKGUARD_DATA_KEY',
    'LEAKGUARD_PREVIOUS_DATA_KEY',
  ] as const) {
    if (c[name] && c[`${name}_FILE`])
      throw new ConfigError(`invalid configuration:\n  ${name}_FILE: set either ${name} or ${name}_FILE, not both`);
  }
  if (c.REDIS_URL && c.REDIS_CLUSTER_NODES)
    throw new ConfigError(
      'invalid configuration:\n  REDIS_CLUSTER_NODES: set either REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both',
    );
  if (c.DATABASE_MIGRATION_URL && !c.DATABASE_URL)
    throw new ConfigError(
      "invalid configuration:\n  DATABASE_MIGRATION_URL: needs DATABASE_URL (the application's own role); the embedded database has no roles",
    );
  // The Kafka clients (labels producer, stream processor) authenticate with these: checked now, not at first connection.
  const kafka = c.KAFKA_BROKERS ? kafkaSecurityProblems(present).problems : [];
  if (kafka.length > 0) throw new ConfigError(`invalid configuration:\n${kafka.join('\n')}`);
  return c;
}
