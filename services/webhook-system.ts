// Webhooks once the case database is open: part of the composition root with runtime.ts. It builds
// the PostgreSQL (or PGlite) outbox, the HTTP sender behind the address guard, the subscription
// service the API uses and the worker that feeds and sends deliveries (docs/webhooks.md).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { checkDestination } from './adapters/webhooks/address-guard.ts';
import { HttpWebhookSender } from './adapters/webhooks/http-sender.ts';
import { newWebhookSecret, signWebhook } from './adapters/webhooks/signing.ts';
import { PostgresWebhookStore } from './adapters/postgres/webhook-store.ts';
import type { SqlClient } from './adapters/postgres/sql-client.ts';
import type { Config } from './config.ts';
import type { WatchlistStore } from './core/watchlist.ts';
import type { Logger } from './logger.ts';
import { fromZero, type Metrics } from './metrics.ts';
import { ATTEMPT_RESULTS, DELIVERY_RESULTS, WebhookDispatcher } from './webhooks/dispatcher.ts';
import type { SecretSealer, WebhookSender } from './webhooks/model.ts';
import type { PersonalDataCipher } from './cases/personal-data.ts';
import { WebhookService } from './webhooks/service.ts';
import { CreatingKeys } from './webhooks/creating-keys.ts';
import type { ApiKeyStore } from './auth/api-keys.ts';
import type { AuditLog } from './cases/audit.ts';

export interface WebhookSystem {
  service: WebhookService;
  dispatcher: WebhookDispatcher;
  stop(): Promise<void>;
}

/**
 * Signing secrets sealed like personal data (AES-256-GCM under LEAKGUARD_DATA_KEY, rotation
 * included), each bound to its subscription: a database dump alone cannot forge deliveries. One
 * sealed under the previous key is sealed again under the current one when next read, so that the
 * rotation after next does not leave it unreadable.
 */
export function secretSealer(cipher: PersonalDataCipher): SecretSealer {
  type Sealed = Parameters<PersonalDataCipher['seal']>[0];
  return {
    seal: (secret, binding) => cipher.seal({ webhookSecret: secret } as unknown as Sealed, binding),
    open: (sealed, binding) => {
      const value = (cipher.open(sealed, binding) as { webhookSecret?: unknown }).webhookSecret;
      if (typeof value !== 'string') throw new Error('not a sealed webhook secret');
      return value;
    },
    current: (sealed, binding) => cipher.sealedUnderPrimary(sealed, binding),
  };
}

export const newWebhookId = (prefix: string) => `${prefix}_${randomBytes(16).toString('base64url')}`;

export type WebhookConfig = Pick<
  Config,
  | 'LEAKGUARD_WEBHOOK_ALLOW_PRIVATE'
  | 'LEAKGUARD_WEBHOOK_TIMEOUT_MS'
  | 'LEAKGUARD_WEBHOOK_RETRY_BASE_MS'
  | 'LEAKGUARD_WEBHOOK_RETRY_MAX_DELAY_MS'
  | 'LEAKGUARD_WEBHOOK_RETRY_FOR_MS'
  | 'LEAKGUARD_WEBHOOK_POLL_MS'
  | 'LEAKGUARD_WEBHOOK_HIT_LAG_MS'
  | 'LEAKGUARD_WEBHOOK_CONCURRENCY'
  | 'LEAKGUARD_WEBHOOK_LOG_DAYS'
  | 'LEAKGUARD_WEBHOOK_MAX_PER_TENANT'
> &
  // Absent (tests): the default, 30 s.
  Partial<Pick<Config, 'LEAKGUARD_API_KEY_CACHE_MS'>> &
  // Absent (tests): not production, plain http accepted.
  Partial<Pick<Config, 'NODE_ENV' | 'LEAKGUARD_WEBHOOK_ALLOW_HTTP'>>;

/** Builds the webhook system on an open (and migrated) database; the worker starts unless `start` is false. */
export function openWebhookSystem(o: {
  sql: SqlClient;
  config: WebhookConfig;
  watchlist: Pick<WatchlistStore, 'pageHits' | 'getBinRanges' | 'listEvents'>;
  metrics: Metrics;
  logger: Logger;
  sender?: WebhookSender;
  /** Seals the signing secrets at rest (runtime: the data key); absent: stored as they are (tests). */
  sealer?: SecretSealer;
  /**
   * The API key store: a subscription whose creating key is revoked there receives nothing more.
   * Absent (tests): subscriptions are served whatever their creating key.
   */
  apiKeys?: Pick<ApiKeyStore, 'list'>;
  /** Where subscriptions' creations and deletions are recorded; absent (tests): not audited. */
  audit?: AuditLog;
  start?: boolean;
}): WebhookSystem {
  const c = o.config;
  const allowPrivate = c.LEAKGUARD_WEBHOOK_ALLOW_PRIVATE === '1';
  // Deliveries carry BINs, last 4 digits, amounts and ids: in production over TLS only, unless opted out.
  const production = c.NODE_ENV === 'production';
  const requireHttps = production && c.LEAKGUARD_WEBHOOK_ALLOW_HTTP !== '1';
  if (production && !requireHttps)
    o.logger.warn(
      'LEAKGUARD_WEBHOOK_ALLOW_HTTP=1 in production: webhook receivers may be plain http://, deliveries unencrypted',
    );
  const store = new PostgresWebhookStore(o.sql, o.sealer);
  // One listing of the key store serves every subscription for as long as authentication trusts a key.
  const keys = o.apiKeys && new CreatingKeys(o.apiKeys, c.LEAKGUARD_API_KEY_CACHE_MS ?? 30_000);
  const creatingKeys = keys && ((keyId: string) => keys.state(keyId));
  // Tenants are told a name resolves to an address that is not public; operators are told which.
  const refusedAddress = (url: string, address: string, when: string) =>
    o.logger.warn(
      { host: new URL(url).hostname, address, when },
      'webhooks: a receiver resolves to a non-public address',
    );
  const service = new WebhookService({
    store,
    checkUrl: async (url) => {
      const check = await checkDestination(url, { allowPrivate, requireHttps });
      if (!check.ok && check.address !== undefined) refusedAddress(url, check.address, 'subscribing');
      return check;
    },
    newSecret: newWebhookSecret,
    newId: newWebhookId,
    maxPerTenant: c.LEAKGUARD_WEBHOOK_MAX_PER_TENANT,
    ...(creatingKeys ? { creatingKeys } : {}),
    ...(o.audit ? { audit: o.audit } : {}),
  });
  // Each result's series from 0: the alert on increase() sees the first delivery given up too.
  fromZero(o.metrics.webhookAttempts, 'result', ATTEMPT_RESULTS);
  fromZero(o.metrics.webhookDeliveries, 'result', DELIVERY_RESULTS);
  const dispatcher = new WebhookDispatcher({
    store,
    sender:
      o.sender ??
      new HttpWebhookSender({
        allowPrivate,
        requireHttps,
        timeoutMs: c.LEAKGUARD_WEBHOOK_TIMEOUT_MS,
        onRefused: (url, address) => refusedAddress(url, address, 'delivering'),
      }),
    hits: o.watchlist,
    sign: signWebhook,
    newId: newWebhookId,
    retry: {
      baseMs: c.LEAKGUARD_WEBHOOK_RETRY_BASE_MS,
      maxDelayMs: c.LEAKGUARD_WEBHOOK_RETRY_MAX_DELAY_MS,
      retryForMs: c.LEAKGUARD_WEBHOOK_RETRY_FOR_MS,
    },
    owner: `${hostname()}:${process.pid}`,
    pollMs: c.LEAKGUARD_WEBHOOK_POLL_MS,
    leaseMs: 2 * c.LEAKGUARD_WEBHOOK_TIMEOUT_MS + 5_000,
    concurrency: c.LEAKGUARD_WEBHOOK_CONCURRENCY,
    hitLagMs: c.LEAKGUARD_WEBHOOK_HIT_LAG_MS,
    hitOverlapMs: Math.max(60_000, 2 * c.LEAKGUARD_WEBHOOK_HIT_LAG_MS),
    logRetentionMs: c.LEAKGUARD_WEBHOOK_LOG_DAYS * 86_400_000,
    ...(creatingKeys ? { creatingKeys } : {}),
    observer: {
      attempt: (result, durationMs) => {
        o.metrics.webhookAttempts.inc({ result });
        o.metrics.webhookAttemptDuration.observe(durationMs / 1000);
      },
      delivery: (result) => o.metrics.webhookDeliveries.inc({ result }),
      queue: (depth, age) => {
        o.metrics.webhookQueueDepth.set(depth);
        o.metrics.webhookOldestPendingAge.set(age);
      },
      error: (error, stage) => o.logger.warn({ err: error, stage }, 'webhooks: will retry'),
      stopped: (subscriptionId, reason) =>
        reason === 'revoked'
          ? o.logger.info({ subscriptionId }, 'webhooks: subscription disabled: the API key that made it was revoked')
          : o.logger.warn(
              { subscriptionId },
              'webhooks: subscription held: the API key that made it is not in the key store (REDIS_URL or LEAKGUARD_STATE_DIR changed?)',
            ),
    },
  });
  if (o.start !== false) dispatcher.start();
  return { service, dispatcher, stop: () => dispatcher.stop() };
}
