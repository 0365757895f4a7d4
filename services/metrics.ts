// Prometheus metrics. Labels are closed sets (route patterns, decisions, stages): a card number,
// or any request-supplied string, can never become a label value.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { STORE_ERROR_STAGES, type EngineObserver } from './core/engine.ts';
import type { FrictionShare, FrictionTracker } from './core/friction.ts';
import { DECISIONS } from './core/schemas.ts';

/** Merchants given their own friction series (the busiest); the rest show only in the console. */
export const FRICTION_METRIC_MERCHANTS = 50;

/**
 * A labelled counter's series exported at 0, one per value of its label, from where it is wired (at
 * start). A series that first appears with its first event, already at 1, is read by increase() and
 * rate() as no increase: an alert on a first refusal or a first loss would never see it. Only for
 * labels whose values are a closed set, so that the series stay few.
 */
export function fromZero<L extends string>(counter: Counter<L>, label: L, values: readonly string[]): void {
  for (const value of values) counter.inc({ [label]: value } as Partial<Record<L, string>>, 0);
}

/** A gauge whose value is read when Prometheus scrapes, from what `report` was given (0 until then). */
function readAtScrape(registry: Registry, name: string, help: string): { report(read: () => number): void } {
  let read = () => 0;
  const gauge: Gauge = new Gauge({ name, help, registers: [registry], collect: () => gauge.set(read()) });
  return {
    report: (reader) => {
      read = reader;
    },
  };
}

/** What waits in the case database to be done: how many, and how long the oldest has (0 when none). */
export interface Backlog {
  count: number;
  oldestAgeSeconds: number;
}

/**
 * Two gauges of a backlog the case database holds, read from it when Prometheus scrapes (the same
 * figure from every engine): its size and its oldest's age. 0 until `report` is given a reader; a
 * read that fails (the database unreachable) leaves the last values.
 */
function backlogAtScrape(
  registry: Registry,
  size: { name: string; help: string },
  age: { name: string; help: string },
): { report(read: () => Promise<Backlog>): void } {
  let read: (() => Promise<Backlog>) | undefined;
  const oldest = new Gauge({ ...age, registers: [registry] });
  const count: Gauge = new Gauge({
    ...size,
    registers: [registry],
    collect: async () => {
      if (!read) return;
      try {
        const backlog = await read();
        count.set(backlog.count);
        oldest.set(backlog.oldestAgeSeconds);
      } catch {
        // The database unreachable: the last values stand.
      }
    },
  });
  return {
    report: (reader) => {
      read = reader;
    },
  };
}

export class Metrics {
  readonly registry = new Registry();
  readonly requestDuration = new Histogram({
    name: 'leakguard_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly decisions = new Counter({
    name: 'leakguard_decisions_total',
    help: 'Decisions by outcome',
    labelNames: ['decision'],
    registers: [this.registry],
  });
  readonly chargebackReasonCodesUnknown = new Counter({
    name: 'leakguard_chargeback_reason_codes_unknown_total',
    help: 'Chargebacks whose reason code is in no table (services/core/chargebacks.ts): counted as fraud. A steady rate means a network or format the tables miss',
    registers: [this.registry],
  });
  readonly misnamedFields = new Counter({
    name: 'leakguard_misnamed_fields_total',
    help: "Fields of /v1/score requests sent under a near miss of a field's name (occured_at, shipping_address), dropped unread, by the field they resemble: an integration whose orders are scored without that signal",
    labelNames: ['field'],
    registers: [this.registry],
  });
  readonly degraded = new Counter({
    name: 'leakguard_degraded_responses_total',
    help: 'Responses given without every signal',
    registers: [this.registry],
  });
  readonly storeErrors = new Counter({
    name: 'leakguard_redis_errors_total',
    help: 'Velocity store failures (Redis errors and deadline overruns) by stage',
    labelNames: ['stage'],
    registers: [this.registry],
  });
  readonly redisEvictingNodes = new Gauge({
    name: 'leakguard_redis_evicting_nodes',
    help: 'Redis masters whose maxmemory-policy is not noeviction: under memory pressure they drop keys silently (counters read low, a retry can be counted twice). -1: the policy could not be read',
    registers: [this.registry],
  });
  readonly redisMemoryUsedRatio = new Gauge({
    name: 'leakguard_redis_memory_used_ratio',
    help: 'The fullest Redis master: used_memory over maxmemory (at 1 a noeviction Redis refuses writes and scorings are degraded). -1: unknown, or no master has a maxmemory',
    registers: [this.registry],
  });
  readonly redisOversizedMembers = new Counter({
    name: 'leakguard_redis_oversized_log_members_total',
    help: "Transactions whose ids make a velocity log member longer than Redis's zset-max-listpack-value: every log they reach is a skiplist, ~4x the memory",
    registers: [this.registry],
  });
  // By event only: a merchant label would grow a series per merchant per event (the issuer's hit
  // list and the console say which merchants).
  readonly watchlistHits = new Counter({
    name: 'leakguard_watchlist_hits_total',
    help: 'Scorings of listed cards, by compromise event',
    labelNames: ['event'],
    registers: [this.registry],
  });
  readonly watchlistCards = new Counter({
    name: 'leakguard_watchlist_upload_lines_total',
    help: 'Card-list upload lines by result',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly rulesetReloads = new Counter({
    name: 'leakguard_ruleset_reloads_total',
    help: 'Ruleset reloads by result',
    labelNames: ['result'],
    registers: [this.registry],
  });
  /** Decisions by ruleset are read through this: a `ruleset` label on the decision counters would multiply their series with every edit. */
  readonly rulesetInfo = new Gauge({
    name: 'leakguard_ruleset_info',
    help: 'The ruleset in force: 1, labelled with its declared version and its content digest (versions.ruleset in answers is version+digest)',
    labelNames: ['version', 'digest'],
    registers: [this.registry],
  });
  readonly modelReloads = new Counter({
    name: 'leakguard_model_reloads_total',
    help: 'Model artifact reloads by result',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly rateTableReloads = new Counter({
    name: 'leakguard_rate_table_reloads_total',
    help: 'Exchange-rate table reloads by result',
    labelNames: ['result'],
    registers: [this.registry],
  });
  /** How current the rate table in force is (docs/currencies.md, "Stale rates"): read at each scrape. */
  readonly rateTableOldestRateAge = readAtScrape(
    this.registry,
    'leakguard_rate_table_oldest_rate_age_days',
    "Age in whole days of the oldest among the rate table's newest rates, one per currency (the reference left out): the table's feed has stopped for the currency it names in the engine's warning",
  );
  readonly rateTableMaxRateAge = new Gauge({
    name: 'leakguard_rate_table_max_rate_age_days',
    help: 'LEAKGUARD_RATES_MAX_AGE_DAYS: a newest rate older than this many days is stale (warned at load and reload, alerted on)',
    registers: [this.registry],
  });
  readonly fileRefused = new Gauge({
    name: 'leakguard_file_refused',
    help: 'Per file kept in force (ruleset, rate table, model): 1 when its last reload was refused, so the file on disk is not the one in force and the next start-up would fail on it; 0 otherwise',
    labelNames: ['file'],
    registers: [this.registry],
  });
  // Breach discovery (docs/breach-discovery.md).
  readonly cppScans = new Counter({
    name: 'leakguard_cpp_scans_total',
    help: 'Breach scans for common points of purchase, by result: ok, failed, or skipped (a periodic tick while another engine had the turn)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly cppSuspected = new Counter({
    name: 'leakguard_cpp_suspected_total',
    help: 'Suspected events opened by breach scans (a merchant newly suspected; a later scan finding it again is not counted)',
    registers: [this.registry],
  });
  /** Counts Leakguard's open suspected events that await an analyst (set by the runtime); unset: the gauge reads 0. */
  countOpenSuspected: (() => Promise<number>) | undefined;
  // Read at each scrape, so that every engine says the same and a review shows at once (alert
  // LeakguardSuspectedBreach): what waits for an analyst, not how often scans find it.
  readonly cppSuspectedOpen: Gauge = new Gauge({
    name: 'leakguard_cpp_suspected_open_events',
    help: "Leakguard's suspected events still open and unreviewed (confirm or dismiss them in the console)",
    registers: [this.registry],
    collect: async () => {
      if (!this.countOpenSuspected) return;
      try {
        this.cppSuspectedOpen.set(await this.countOpenSuspected());
      } catch {
        // The store unreachable: the last count stands (its own alerts say the store is down).
      }
    },
  });
  // An hourly job: what its last run took (alert LeakguardBreachScanSlow), and the fraudulent cards it
  // read, which its time and memory grow with (docs/capacity.md, "What breaks first").
  readonly cppScanSeconds = new Gauge({
    name: 'leakguard_cpp_scan_last_duration_seconds',
    help: 'How long the last breach scan of this engine took, in seconds',
    registers: [this.registry],
  });
  readonly cppScanCards = new Gauge({
    name: 'leakguard_cpp_scan_last_fraudulent_cards',
    help: 'Fraudulent cards (latest episode in the windows) the last breach scan of this engine read',
    registers: [this.registry],
  });
  // A scan past its budget tests only the most recent cards that fit (alert LeakguardBreachScanTruncated).
  readonly cppScansTruncated = new Counter({
    name: 'leakguard_cpp_scans_truncated_total',
    help: 'Breach scans whose longest window held more labelled cards than their budget (LEAKGUARD_CPP_SCAN_MAX_CARDS): they tested the most recent cards that fit',
    registers: [this.registry],
  });
  readonly cppScanBudgetUsed = new Gauge({
    name: 'leakguard_cpp_scan_last_budget_used_ratio',
    help: 'The share of its budget (LEAKGUARD_CPP_SCAN_MAX_CARDS) the last breach scan of this engine held in labelled cards: near 1, scans are about to be truncated (leakguard_cpp_scans_truncated_total counts those that were)',
    registers: [this.registry],
  });
  readonly cppScanCoveredDays = new Gauge({
    name: 'leakguard_cpp_scan_last_covered_days',
    help: 'Days of fraud onsets the last breach scan of this engine tested: its longest window (30), or fewer when truncated',
    registers: [this.registry],
  });
  readonly cppHistoryErrors = new Counter({
    name: 'leakguard_cpp_history_write_errors_total',
    help: 'Card-history batches the store refused (kept for the next flush)',
    registers: [this.registry],
  });
  readonly cppHistoryDropped = new Counter({
    name: 'leakguard_cpp_history_dropped_total',
    help: 'Visits dropped because the card-history buffer was full while the store was failing',
    registers: [this.registry],
  });
  // The recording for backtests (docs/backtest.md).
  readonly recordsWritten = new Counter({
    name: 'leakguard_records_written_total',
    help: 'Traffic records (scorings, outcomes, labels) written to the recording',
    registers: [this.registry],
  });
  readonly recordErrors = new Counter({
    name: 'leakguard_record_write_errors_total',
    help: 'Recording batches the sink refused (kept for the next flush)',
    registers: [this.registry],
  });
  readonly recordsDropped = new Counter({
    name: 'leakguard_records_dropped_total',
    help: 'Traffic records dropped because the recording buffer was full while the sink was failing',
    registers: [this.registry],
  });
  // The transaction archive (services/archive-writer.ts; docs/capacity.md, "Redis memory").
  readonly archiveWritten = new Counter({
    name: 'leakguard_archive_written_total',
    help: 'Counted transactions written to the transaction archive (PostgreSQL)',
    registers: [this.registry],
  });
  readonly archiveErrors = new Counter({
    name: 'leakguard_archive_write_errors_total',
    help: 'Transaction-archive batches PostgreSQL refused (kept for the next flush)',
    registers: [this.registry],
  });
  readonly archiveDropped = new Counter({
    name: 'leakguard_archive_dropped_total',
    help: 'Transactions not archived because the waiting buffer was full while PostgreSQL was failing: an outcome reported after their marker has gone is unknown',
    registers: [this.registry],
  });
  readonly archiveDaysDropped = new Counter({
    name: 'leakguard_archive_days_dropped_total',
    help: 'Days of the transaction archive (a partition each) dropped past LEAKGUARD_ARCHIVE_RETENTION_DAYS',
    registers: [this.registry],
  });
  /** Read at scrape time from the runtime's archive writer. */
  readonly archiveWaiting = readAtScrape(
    this.registry,
    'leakguard_archive_waiting',
    'Counted transactions held in this process until the transaction archive (PostgreSQL) takes them',
  );
  readonly rateLimitUnchecked = new Counter({
    name: 'leakguard_rate_limit_unchecked_total',
    help: 'Requests the shared rate limit could not count in Redis (failed or late): API requests let through uncounted (api), sign-ins counted by this engine alone (login)',
    labelNames: ['limit'],
    registers: [this.registry],
  });
  readonly secondFactorLocks = new Counter({
    name: 'leakguard_console_second_factor_locks_total',
    help: 'Console accounts whose second factor was locked for every address after too many wrong TOTP codes given with the right password (a stolen password)',
    registers: [this.registry],
  });
  // Flagged decisions on their way to the case queue (services/cases/flagged.ts FlaggedSink).
  readonly flaggedLost = new Counter({
    name: 'leakguard_flagged_lost_total',
    help: 'Flagged decisions no case will be made of: the queue (Redis) refused them until the waiting buffer was full (buffer_full), the engine stopped with them waiting (shutdown), or the case database refused one for its data (refused_by_database)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  /** Read at scrape time from the runtime's flagged sink. */
  readonly flaggedWaiting = readAtScrape(
    this.registry,
    'leakguard_flagged_waiting',
    'Flagged decisions the case queue (Redis) refused so far, held in this process and retried',
  );
  // A decision's effects outside its transaction (services/cases/feedback.ts): negative lists,
  // allow-list, learners' labels. Written with the decision, applied at once or retried.
  /** Set to 1 by the audit checkpointer's alarm (AUDIT LOG TAMPERING), and left there: only a person clears it, by a restart. */
  readonly auditTampering = new Gauge({
    name: 'leakguard_audit_tampering_detected',
    help: '1 once this engine found the audit log cut or rewritten since a signed checkpoint, or a checkpoint not genuine (AUDIT LOG TAMPERING in its log; npm run audit -- verify names it); 0 otherwise',
    registers: [this.registry],
  });
  readonly decisionEffectFailures = new Counter({
    name: 'leakguard_decision_effect_failures_total',
    help: "Failed attempts at a decision's effects (negative lists, allow-list, labels for breach discovery and backtests); each is retried until applied",
    registers: [this.registry],
  });
  /** Decisions whose effects wait, read from the case store (reported by the runtime). */
  readonly decisionEffectsPending = backlogAtScrape(
    this.registry,
    {
      name: 'leakguard_decision_effects_pending',
      help: 'Decisions whose effects (negative lists, allow-list, labels) are recorded but not applied yet: they are retried (alert when it stays above 0)',
    },
    {
      name: 'leakguard_decision_effects_oldest_pending_age_seconds',
      help: 'Age of the oldest decision whose effects are not applied yet (0 when none)',
    },
  );
  /** Labels waiting for Kafka (reported by the runtime only where it publishes them). */
  readonly labelsUnpublished = backlogAtScrape(
    this.registry,
    {
      name: 'leakguard_labels_unpublished',
      help: "Analysts' labels (and withdrawals) not yet published to leakguard.labels: they wait in the case database while Kafka does not take them (alert when the oldest grows)",
    },
    {
      name: 'leakguard_labels_oldest_unpublished_age_seconds',
      help: 'Age of the oldest label not yet published to leakguard.labels (0 when none)',
    },
  );
  readonly webhookAttempts = new Counter({
    name: 'leakguard_webhook_attempts_total',
    help: 'Webhook delivery attempts by result (success: 2xx; http_error: another status; error: refused, timeout, network)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly webhookAttemptDuration = new Histogram({
    name: 'leakguard_webhook_attempt_duration_seconds',
    help: 'Webhook delivery attempt duration, connection included',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly webhookDeliveries = new Counter({
    name: 'leakguard_webhook_deliveries_total',
    help: 'Webhook deliveries by final result (delivered, or failed after the whole retry window)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly webhookQueueDepth = new Gauge({
    name: 'leakguard_webhook_queue_depth',
    help: 'Webhook deliveries pending (every subscription)',
    registers: [this.registry],
  });
  readonly webhookOldestPendingAge = new Gauge({
    name: 'leakguard_webhook_oldest_pending_age_seconds',
    help: 'Age of the oldest pending webhook delivery (0 when none)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Unknown until read (services/redis-watch.ts), and without a Redis (embedded mode).
    this.redisEvictingNodes.set(-1);
    this.redisMemoryUsedRatio.set(-1);
  }

  /**
   * The friction budget spent, per merchant over the tracker's window, read at scrape time: the share
   * of orders challenged, reviewed and declined, and the budget beside it. The busiest merchants only,
   * so that the label set stays bounded whatever the number of merchants.
   */
  reportFriction(shares: (limit: number) => FrictionShare[]): void {
    let cached: { at: number; shares: FrictionShare[] } | undefined;
    const current = () => {
      // Three gauges collect in one scrape: compute the shares once.
      if (!cached || Date.now() - cached.at > 1000)
        cached = { at: Date.now(), shares: shares(FRICTION_METRIC_MERCHANTS) };
      return cached.shares;
    };
    // One gauge per figure, each refilled from the same shares at scrape time.
    const gauge = (
      name: string,
      help: string,
      labelNames: string[],
      fill: (set: (labels: Record<string, string>, value: number) => void, s: FrictionShare) => void,
    ) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        collect() {
          this.reset();
          for (const s of current()) fill((labels, value) => this.set(labels, value), s);
        },
      });
    gauge(
      'leakguard_friction_share',
      "Share of a merchant's orders challenged, reviewed or declined over the last 24 h (this engine; busiest merchants)",
      ['merchant', 'decision'],
      (set, s) => {
        for (const d of ['challenge', 'review', 'decline'] as const) set({ merchant: s.merchantId, decision: d }, s[d]);
      },
    );
    gauge(
      'leakguard_friction_budget',
      "A merchant's friction budget: the share of orders it accepts to see challenged or reviewed",
      ['merchant', 'decision'],
      (set, s) => {
        for (const d of ['challenge', 'review'] as const) set({ merchant: s.merchantId, decision: d }, s.budget[d]);
      },
    );
    gauge('leakguard_friction_orders', 'Orders behind leakguard_friction_share', ['merchant'], (set, s) =>
      set({ merchant: s.merchantId }, s.orders),
    );
  }

  /** The engine's observer: decisions counted (and, when given, into the friction tracker). */
  observer(friction?: FrictionTracker): EngineObserver {
    // The alerts read the decline share and the store errors by rate(): every series from 0.
    fromZero(this.decisions, 'decision', DECISIONS);
    fromZero(this.storeErrors, 'stage', STORE_ERROR_STAGES);
    return {
      decision: (response, merchantId) => {
        this.decisions.inc({ decision: response.decision });
        friction?.record(merchantId, response.decision);
        if (response.degraded) this.degraded.inc();
      },
      storeError: (_error, stage) => this.storeErrors.inc({ stage }),
      watchlistHit: (eventIds) => {
        for (const event of eventIds) this.watchlistHits.inc({ event });
      },
    };
  }
}
