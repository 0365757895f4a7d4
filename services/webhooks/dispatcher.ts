// The webhook worker every engine runs once its case database is open. Every poll:
//   1. feeds analysts' decisions (labels not fed yet) into their merchants' queues (one transaction);
//   2. takes the lease of as many subscriptions that have work as it has free slots (concurrency),
//      and starts serving each at once, without waiting for the serves already under way: a slow
//      receiver holds its own slot, never the next poll, the decision feed or another subscription.
//      A serve feeds the issuer's new watchlist hits (read from the hit store past the
//      subscription's cursor, queued and the cursor moved in one transaction), then sends the oldest
//      pending delivery, and the next, in order, until one fails (it waits for its retry: nothing
//      behind it overtakes it), none is due, or its turn is up (then the least recently served go first).
//      First, though, the API key that made the subscription is looked up (creatingKeys): revoked,
//      the subscription is disabled for good (nothing fed or sent again); not in the key store,
//      it is held (nothing fed or sent while the key is missing).
// Nothing here runs on the scoring path: scoring records hits in the hit store, this reads them.
import type {
  Attempt,
  AttemptOutcome,
  CreatingKeyState,
  HitSource,
  Lease,
  OutboxEvent,
  PendingDelivery,
  SendResult,
  WebhookSender,
  WebhookStore,
} from './model.ts';
import { CREATING_KEY_REVOKED, hitEvent, suspectedEvent } from './model.ts';
import { CPP_ISSUER, exposedInRanges, withOwnEvents, type CompromiseEvent } from '../core/watchlist.ts';
import { afterFailure, type RetryPolicy } from './retry.ts';

export interface SignedMessage {
  body: string;
  headers: Readonly<Record<string, string>>;
}

/** An attempt's result (leakguard_webhook_attempts_total): 2xx, another status, no answer. */
export const ATTEMPT_RESULTS = ['success', 'http_error', 'error'] as const;
/** A delivery's final result (leakguard_webhook_deliveries_total). */
export const DELIVERY_RESULTS = ['delivered', 'failed'] as const;

export interface DispatcherObserver {
  attempt?(result: (typeof ATTEMPT_RESULTS)[number], durationMs: number): void;
  delivery?(result: (typeof DELIVERY_RESULTS)[number]): void;
  queue?(depth: number, oldestAgeSeconds: number): void;
  error?(error: unknown, stage: string): void;
  /** A subscription disabled (its creating key revoked), or held (its creating key not in the key store), once each per engine. */
  stopped?(subscriptionId: string, reason: 'revoked' | 'unknown'): void;
}

export interface DispatcherOptions {
  store: WebhookStore;
  sender: WebhookSender;
  hits: HitSource;
  /** Signs with each secret given (one signature each, in that order, in one header). */
  sign(
    secrets: readonly string[],
    message: { id: string; type: string; timestamp: Date; data: unknown },
  ): SignedMessage;
  newId(prefix: 'dlv' | 'msg'): string;
  retry: RetryPolicy;
  /** This process, in the leases it takes. */
  owner: string;
  pollMs: number;
  /** Longer than a request's timeout: a lease is renewed before each attempt. */
  leaseMs: number;
  /** Subscriptions served at once by this engine. */
  concurrency: number;
  /** Hits are read up to this long before now (the hit store's clock may run a little behind). */
  hitLagMs: number;
  /** Hits already fed are read again this far back, and dropped as duplicates: late writes are not missed. */
  hitOverlapMs: number;
  /** Delivered and failed deliveries are kept this long (the delivery log). */
  logRetentionMs: number;
  /**
   * The state of the API key that made a subscription (CreatingKeys: the key store, cached for
   * LEAKGUARD_API_KEY_CACHE_MS). Absent: subscriptions are served whatever their creating key (tests).
   */
  creatingKeys?: (keyId: string) => Promise<CreatingKeyState>;
  observer?: DispatcherObserver;
  now?: () => number;
}

const HIT_PAGE = 500;
/** At most this much of a subscription's hit stream per pass: a long backlog is caught up window by window. */
const HIT_WINDOW_MS = 10 * 60_000;
const DELIVERIES_PER_LEASE = 100;
/** A serve sends no new attempt after this long: with every slot taken, the others get their turn. */
const SERVE_TURN_MS = 5_000;
const DAY_MS = 86_400_000;

export class WebhookDispatcher {
  private readonly o: DispatcherOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private lastStats = 0;
  private lastPrune = 0;
  private readonly now: () => number;
  /** The serves under way, each holding its subscription's lease. */
  private readonly serving = new Set<Promise<void>>();
  /** Subscriptions held for a creating key the key store does not hold: told once each. */
  private readonly held = new Set<string>();

  constructor(options: DispatcherOptions) {
    this.o = options;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.tick()
        .catch((error: unknown) => this.o.observer?.error?.(error, 'pass'))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(tick, this.o.pollMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Stops taking work; waits for the poll and the serves in flight (their attempts end within the send timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await Promise.all([...this.serving]);
  }

  /** One poll, and the serves it started (and any under way) to their end (tests call it directly). */
  async pass(): Promise<void> {
    await this.tick();
    await Promise.all([...this.serving]);
  }

  /** Feeds the decisions, starts serving the subscriptions with work that free slots allow, and returns. */
  private async tick(): Promise<void> {
    const { store } = this.o;
    try {
      while ((await store.feedDecisions(100, () => this.o.newId('dlv'))) === 100 && !this.stopped);
    } catch (error) {
      this.o.observer?.error?.(error, 'feed-decisions');
    }
    const free = this.o.concurrency - this.serving.size;
    // Only as many leases as can be served now: one claimed and left waiting would run out.
    const leases = free > 0 && !this.stopped ? await store.claim(this.o.owner, this.o.leaseMs, free) : [];
    for (const lease of leases) {
      const serving: Promise<void> = this.serveAndRelease(lease).finally(() => this.serving.delete(serving));
      this.serving.add(serving);
    }
    await this.housekeeping();
  }

  private async serveAndRelease(lease: Lease): Promise<void> {
    try {
      if (!this.stopped) await this.serve(lease);
    } catch (error) {
      this.o.observer?.error?.(error, 'deliver');
    } finally {
      await this.o.store.release(lease).catch((error: unknown) => this.o.observer?.error?.(error, 'release'));
    }
  }

  private async housekeeping(): Promise<void> {
    const now = this.now();
    try {
      if (now - this.lastStats >= Math.min(5_000, this.o.pollMs)) {
        this.lastStats = now;
        const stats = await this.o.store.queueStats();
        this.o.observer?.queue?.(stats.depth, stats.oldestAgeSeconds);
      }
      if (now - this.lastPrune >= 3_600_000) {
        this.lastPrune = now;
        await this.o.store.prune(new Date(now - this.o.logRetentionMs));
      }
    } catch (error) {
      this.o.observer?.error?.(error, 'housekeeping');
    }
  }

  /** Whether the subscription may be fed and sent now: its creating key is live (or it names none). */
  private async mayServe(lease: Lease): Promise<boolean> {
    if (lease.createdByKeyId === null || !this.o.creatingKeys) return true;
    // The key store unreachable, with no answer read yet: it throws, and nothing is fed or sent.
    const state = await this.o.creatingKeys(lease.createdByKeyId);
    if (state === 'live') {
      this.held.delete(lease.subscriptionId);
      return true;
    }
    if (state === 'revoked') {
      await this.o.store.disable(lease, CREATING_KEY_REVOKED);
      this.o.observer?.stopped?.(lease.subscriptionId, 'revoked');
    } else if (!this.held.has(lease.subscriptionId)) {
      this.held.add(lease.subscriptionId);
      this.o.observer?.stopped?.(lease.subscriptionId, 'unknown');
    }
    return false;
  }

  private async serve(lease: Lease): Promise<void> {
    if (!(await this.mayServe(lease))) return;
    if (lease.tenant.kind === 'issuer' && lease.eventTypes.includes('watchlist.hit')) {
      // The hit store unreachable: what is queued still goes (the cursor has not moved, nothing is lost).
      const fed = await this.feedHits(lease).catch((error: unknown) => {
        this.o.observer?.error?.(error, 'feed-hits');
        return true;
      });
      if (!fed) return;
    }
    if (lease.tenant.kind === 'issuer' && lease.eventTypes.includes('compromise.suspected')) {
      const fed = await this.feedSuspected(lease).catch((error: unknown) => {
        this.o.observer?.error?.(error, 'feed-suspected');
        return true;
      });
      if (!fed) return;
    }
    const turnEnds = this.now() + SERVE_TURN_MS;
    for (let sent = 0; sent < DELIVERIES_PER_LEASE && !this.stopped && this.now() < turnEnds; sent++) {
      const head = await this.o.store.head(lease);
      if (!head?.due) return;
      if (!(await this.o.store.renew(lease, this.o.leaseMs))) return;
      if (!(await this.attempt(lease, head))) return;
    }
  }

  /** Queues the hits recorded since the cursor (oldest first) and moves it; false when the lease was lost. */
  private async feedHits(lease: Lease): Promise<boolean> {
    const to = Math.min(this.now() - this.o.hitLagMs, lease.hitsCursorMs + HIT_WINDOW_MS);
    if (to < lease.hitsCursorMs) return true;
    // Read again a little before the cursor (a hit written late is not missed), never before the subscription.
    const from = Math.max(lease.hitsSinceMs, lease.hitsCursorMs - this.o.hitOverlapMs);
    const newestFirst: OutboxEvent[] = [];
    let after: { ms: number; seq: number } | undefined;
    // What the issuer may see of its hits (GET /v1/issuer/hits): those it is shown (cards of its own
    // BIN ranges when the hit was recorded: hitMatches), with its own events' ids only.
    const binRanges = await this.o.hits.getBinRanges(lease.tenant.id);
    let own: Set<number> | undefined;
    for (;;) {
      const page = await this.o.hits.pageHits(lease.tenant.id, { from, to, after, limit: HIT_PAGE, binRanges });
      if (page.items.length > 0) own ??= new Set((await this.o.hits.listEvents(lease.tenant.id)).map((e) => e.seq));
      newestFirst.push(...page.items.map((hit) => hitEvent(withOwnEvents(hit, (seq) => own!.has(seq)))));
      if (!page.hasMore || !page.next) break;
      after = page.next;
    }
    const events = newestFirst.reverse();
    return this.o.store.enqueue(lease, events, to + 1, () => this.o.newId('dlv'));
  }

  /** Queues each state of Leakguard's suspected events that exposed the issuer's cards (each state once); false when the lease was lost. */
  private async feedSuspected(lease: Lease): Promise<boolean> {
    const ranges = await this.o.hits.getBinRanges(lease.tenant.id);
    if (ranges.length === 0) return true;
    // The store keeps a record of the states queued for the subscription (kept as long as it is,
    // unlike the delivery log): a state fed before is dropped there, however long ago, and one that
    // comes to concern the subscription late (its BIN ranges set or widened, a scan adding one of
    // its BINs) is fed then. A subscription made before that record existed (suspectedFedSinceMs):
    // its log's rows dropped before then are not in it, so a state from before that horizon, for a
    // subscription from before it too, counts as sent (it was queued while its row lived). (A day's
    // margin: a row is pruned a retention after it ended.)
    const legacy = lease.suspectedFedSinceMs;
    const horizon =
      legacy === null ? -Infinity : legacy - this.o.logRetentionMs + Math.min(DAY_MS, this.o.logRetentionMs / 2);
    // When its state began: every scan rewrites an open event's evidence (and its updatedAt).
    const stateSince = (e: CompromiseEvent) =>
      Date.parse(e.evidence?.review?.at ?? (e.status === 'open' ? e.createdAt : e.updatedAt));
    const fedAlready = (e: CompromiseEvent) => lease.hitsSinceMs < horizon && stateSince(e) < horizon;
    const events = (await this.o.hits.listEvents(CPP_ISSUER))
      .filter((e) => !fedAlready(e))
      .map((e) => ({ e, exposed: exposedInRanges(e, ranges) }))
      .filter(({ exposed }) => exposed > 0)
      .sort((a, b) => (a.e.updatedAt < b.e.updatedAt ? -1 : 1))
      .map(({ e, exposed }) => suspectedEvent(e, exposed));
    if (events.length === 0) return true;
    return this.o.store.enqueue(lease, events, lease.hitsCursorMs, () => this.o.newId('dlv'));
  }

  /** Signs and sends; a secret that cannot be opened or used is a failed attempt (nothing is sent). */
  private async send(lease: Lease, head: PendingDelivery, started: number): Promise<SendResult> {
    // A secret sealed under a data key this engine no longer holds: nothing can be signed.
    const unreadable = {
      statusCode: null,
      error: 'the signing secret cannot be decrypted: LEAKGUARD_DATA_KEY or LEAKGUARD_PREVIOUS_DATA_KEY',
    };
    if (head.secret === null) return unreadable;
    // During a rotation's grace period, the previous secret signs too, after the current one.
    const secrets = head.previousSecret === null ? [head.secret] : [head.secret, head.previousSecret];
    let signed: SignedMessage;
    try {
      signed = this.o.sign(secrets, {
        id: head.messageId,
        type: head.eventType,
        timestamp: new Date(started),
        data: head.data,
      });
    } catch {
      return unreadable;
    }
    return this.o.sender.send(lease.url, signed.body, signed.headers);
  }

  /** One attempt at the head; true when it was delivered (the next may follow). */
  private async attempt(lease: Lease, head: PendingDelivery): Promise<boolean> {
    const started = this.now();
    const result = await this.send(lease, head, started);
    const durationMs = Math.max(0, this.now() - started);
    const ok = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    const attempt: Attempt = {
      at: new Date(started).toISOString(),
      durationMs,
      statusCode: result.statusCode,
      error: ok ? null : (result.error ?? `receiver answered ${result.statusCode}`),
    };
    this.o.observer?.attempt?.(ok ? 'success' : result.statusCode !== null ? 'http_error' : 'error', durationMs);
    // The retry window runs from when the delivery was queued: behind a receiver that stays down,
    // the queue drains (each delivery tried at least once) rather than wait a whole window per delivery.
    const queuedAt = Math.min(Date.parse(head.createdAt), started);
    const outcome: AttemptOutcome = ok
      ? { status: 'delivered' }
      : afterFailure(this.o.retry, head.attempts + 1, started - queuedAt);
    await this.o.store.recordAttempt(lease, head, attempt, outcome);
    if (outcome.status !== 'pending') this.o.observer?.delivery?.(outcome.status);
    // A failed delivery is given up: the next one may go (in order, after it).
    return outcome.status !== 'pending';
  }
}
