// Signed webhooks (issue #15 §2, docs/webhooks.md): what a subscription is, what its deliveries
// and their attempts are, the event payloads (never a card number: BIN and last 4 only), and the
// ports the store and the sender implement. Pure: no I/O.
import type { ReversalCategory } from '../cases/model.ts';
import { LeakguardError, type LeakguardErrorOptions } from '../core/errors.ts';
import {
  disclosedMerchant,
  disclosedWindow,
  type CompromiseEvent,
  type StoredHit,
  type WatchlistStore,
} from '../core/watchlist.ts';

/** Issuers subscribe to hits on their leaked cards; merchants to analysts' decisions on their orders. */
export const WEBHOOK_EVENT_TYPES = [
  'watchlist.hit',
  'case.decided',
  'case.decision_reversed',
  'compromise.suspected',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
export type TenantKind = 'issuer' | 'merchant';
/** Which tenant may subscribe to which event type. */
export const EVENT_TYPES_OF: Record<TenantKind, readonly WebhookEventType[]> = {
  issuer: ['watchlist.hit', 'compromise.suspected'],
  merchant: ['case.decided', 'case.decision_reversed'],
};

export interface Tenant {
  kind: TenantKind;
  id: string;
}

export interface Subscription {
  id: string;
  /** Position in the tenant's list (cursor pagination). */
  seq: number;
  tenant: Tenant;
  url: string;
  eventTypes: WebhookEventType[];
  description: string;
  createdAt: string;
  /**
   * After a rotation of its signing secret: until when deliveries are also signed with the secret
   * it replaced (its grace period); null when they are signed with the current secret only.
   */
  previousSecretExpiresAt: string | null;
  /** The id of the API key that made it (never the key itself); null for one made before this was recorded. */
  createdByKeyId: string | null;
  /**
   * Why it receives nothing any more (its creating key was revoked: CREATING_KEY_REVOKED, or is
   * not in the key store: CREATING_KEY_UNKNOWN); null while it is served.
   */
  disabledReason: string | null;
}

/** A subscription whose creating key was revoked: disabled for good (the tenant deletes it or subscribes again). */
export const CREATING_KEY_REVOKED = 'creating key revoked';
/**
 * A subscription whose creating key the key store does not hold (another store configured, say):
 * held, not disabled for good, while it is missing.
 */
export const CREATING_KEY_UNKNOWN = 'creating key not found in the key store';

/** What the key store says of a subscription's creating key (services/webhooks/creating-keys.ts). */
export type CreatingKeyState = 'live' | 'revoked' | 'unknown';

/** The longest grace period of a rotated signing secret: 7 days. */
export const MAX_SECRET_GRACE_MS = 7 * 86_400_000;
/** The grace period of a rotated signing secret unless another is asked: 24 hours. */
export const DEFAULT_SECRET_GRACE_MS = 86_400_000;

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** A page of a subscription's delivery log. */
export interface DeliveryQuery {
  /** Only deliveries queued before this one (a seq): the cursor. */
  before?: number | undefined;
  limit: number;
  /** Only deliveries in this status. */
  status?: DeliveryStatus | undefined;
}

export interface Attempt {
  at: string;
  durationMs: number;
  /** The receiver's HTTP status; null when no answer came (error says why). */
  statusCode: number | null;
  error: string | null;
}

export interface Delivery {
  id: string;
  /** Position in the subscription's queue: deliveries are sent in this order. */
  seq: number;
  subscriptionId: string;
  /** The Standard Webhooks `webhook-id`: the same on every attempt and on a re-send. */
  messageId: string;
  eventType: WebhookEventType;
  data: unknown;
  occurredAt: string;
  status: DeliveryStatus;
  attempts: Attempt[];
  createdAt: string;
  /** Pending: when it is attempted next, no sooner than the head's next attempt for one waiting behind it. */
  nextAttemptAt: string | null;
  /**
   * Pending behind an older pending delivery (the head, being retried): that one's id. Deliveries
   * are sent in order, so this one waits until the head is delivered or given up.
   */
  waitingBehind: string | null;
  completedAt: string | null;
  /** A re-send names the delivery it copies. */
  resendOf: string | null;
}

/** An event bound for one subscription's queue. */
export interface OutboxEvent {
  /** The source event: queued once per subscription (a hit's merchant and transaction, a case). */
  key: string;
  type: WebhookEventType;
  occurredAt: string;
  data: unknown;
}

export interface Page<T> {
  items: T[];
  hasMore: boolean;
  /** The seq to continue after; null when nothing more. */
  next: number | null;
}

// --- Payloads --------------------------------------------------------------------------------------

/** Only the BIN and the last 4 of a masked card (`411111******1111`): the payload never carries more. */
function cardOf(bin: string, masked: string): { bin: string; last4: string } {
  const last4 = /([0-9]{4})$/.exec(masked)?.[1] ?? '';
  return { bin: bin.slice(0, 6), last4 };
}

export function hitEvent(hit: StoredHit): OutboxEvent {
  return {
    key: `hit:${hit.merchantId}:${hit.transactionId}`,
    type: 'watchlist.hit',
    occurredAt: hit.at,
    data: {
      merchantId: hit.merchantId,
      transactionId: hit.transactionId,
      at: hit.at,
      recordedAt: hit.recordedAt,
      amount: hit.amount,
      currency: hit.currency,
      decision: hit.decision,
      score: hit.score,
      card: cardOf(hit.bin, hit.card),
      eventIds: hit.eventIds,
    },
  };
}

/**
 * A breach Leakguard suspects (breach discovery, docs/breach-discovery.md) that exposed cards of the
 * issuer's BIN ranges: sent when it opens and again at each change of status or confidence (an
 * analyst confirms or dismisses it), each state once per subscription. The merchant is named only
 * once an analyst confirmed the event (disclosedMerchant): the confirmation is a state of its own
 * (confidence confirmed), so it is sent again, with the merchant.
 */
export function suspectedEvent(event: CompromiseEvent, exposedCards: number): OutboxEvent {
  const merchantId = disclosedMerchant(event);
  return {
    key: `cpp:${event.id}:${event.status}:${event.confidence}`,
    type: 'compromise.suspected',
    occurredAt: event.updatedAt,
    data: {
      eventId: event.id,
      ...(merchantId === undefined ? {} : { merchantId }),
      status: event.status,
      confidence: event.confidence,
      // Whole days until then (disclosedWindow): an instant would name the merchant all the same.
      ...disclosedWindow(event),
      discoveredAt: event.discoveredAt,
      exposedCards,
      ...(event.evidence?.review
        ? { review: { decision: event.evidence.review.decision, at: event.evidence.review.at } }
        : {}),
    },
  };
}

/** A final decision as the feeder reads it from the case database (a label and its case). */
export interface DecidedCase {
  caseId: number;
  merchantId: string;
  transactionId: string;
  label: 'fraud' | 'legitimate';
  decidedAt: string;
  amount: number;
  currency: string;
  bin: string;
  last4: string;
}

export function decisionEvent(d: DecidedCase): OutboxEvent {
  return {
    key: `case:${d.caseId}`,
    type: 'case.decided',
    occurredAt: d.decidedAt,
    data: {
      caseId: d.caseId,
      merchantId: d.merchantId,
      transactionId: d.transactionId,
      decision: d.label,
      decidedAt: d.decidedAt,
      amount: d.amount,
      currency: d.currency,
      card: { bin: d.bin, last4: d.last4 },
    },
  };
}

/** A reversed decision as the feeder reads it: the label withdrawn, and its case. */
export interface ReversedCase {
  caseId: number;
  /** The withdrawn label's row: a case decided, reversed and decided again is reversed again as another event. */
  labelId: number;
  merchantId: string;
  transactionId: string;
  label: 'fraud' | 'legitimate';
  decidedAt: string;
  reversedAt: string;
  category: ReversalCategory;
}

/**
 * A decision the merchant was told (case.decided) and a lead took back: it may have cancelled the
 * order or blocked the customer on it. Sent to the subscriptions that were sent the decision.
 */
export function reversalEvent(r: ReversedCase): OutboxEvent {
  return {
    key: `case:${r.caseId}:reversed:${r.labelId}`,
    type: 'case.decision_reversed',
    occurredAt: r.reversedAt,
    data: {
      caseId: r.caseId,
      merchantId: r.merchantId,
      transactionId: r.transactionId,
      reversedDecision: r.label,
      decidedAt: r.decidedAt,
      reversedAt: r.reversedAt,
      reasonCategory: r.category,
    },
  };
}

// --- Ports ---------------------------------------------------------------------------------------

/** A subscription an engine holds the lease of: only the holder feeds and sends its deliveries. */
export interface Lease {
  subscriptionId: string;
  token: string;
  tenant: Tenant;
  url: string;
  eventTypes: WebhookEventType[];
  /** Hits recorded from this time (ms) on are the subscription's. */
  hitsSinceMs: number;
  /** Hits recorded from this time on are still to be fed. */
  hitsCursorMs: number;
  /**
   * When the record of the suspected-event states queued for it began (ms), for a subscription
   * made before that record existed (migration 019); null: complete since it was made.
   */
  suspectedFedSinceMs: number | null;
  /** The API key that made the subscription; null when made before this was recorded. */
  createdByKeyId: string | null;
}

/** The head of a subscription's queue: its oldest pending delivery. */
export interface PendingDelivery {
  seq: number;
  id: string;
  messageId: string;
  eventType: WebhookEventType;
  data: unknown;
  occurredAt: string;
  attempts: number;
  /** When it was queued: its retry window runs from then. */
  createdAt: string;
  /** Whether it is due now (the database's clock). */
  due: boolean;
  /**
   * The subscription's signing secret as it stands now (read with the head: a rotation applies
   * from the next attempt on); null when it cannot be decrypted (the data key that sealed it is gone),
   * and when the delivery is not due (not opened for a head that is only polled).
   */
  secret: string | null;
  /**
   * During a rotation's grace period (the database's clock), the secret it replaced: it signs too,
   * after the current one. Null otherwise, or when it cannot be decrypted.
   */
  previousSecret: string | null;
}

export type AttemptOutcome = { status: 'delivered' } | { status: 'pending'; retryInMs: number } | { status: 'failed' };

export interface WebhookStore {
  create(input: {
    id: string;
    tenant: Tenant;
    url: string;
    eventTypes: WebhookEventType[];
    description: string;
    secret: string;
    hitsCursorMs: number;
    /** The id of the API key that makes it. */
    createdByKeyId: string | null;
    /** Refused (undefined) when the tenant already has this many subscriptions. */
    maxPerTenant: number;
  }): Promise<Subscription | undefined>;
  get(tenant: Tenant, id: string): Promise<Subscription | undefined>;
  /** The tenant's subscriptions, oldest first, after `after` (a seq). */
  list(tenant: Tenant, after: number | undefined, limit: number): Promise<Page<Subscription>>;
  delete(tenant: Tenant, id: string): Promise<boolean>;
  /**
   * Replaces the tenant's subscription's signing secret with `secret`. With a grace period (ms,
   * more than 0) the current secret becomes its previous one until then (the previous one it may
   * hold is dropped: two secrets at most); without, none is kept. Undefined when no such subscription.
   */
  rotateSecret(tenant: Tenant, id: string, secret: string, graceMs: number): Promise<Subscription | undefined>;
  /** A subscription's deliveries, newest first, with their attempts. */
  deliveries(subscriptionId: string, query: DeliveryQuery): Promise<Page<Delivery>>;
  getDelivery(subscriptionId: string, deliveryId: string): Promise<Delivery | undefined>;
  /** A pending delivery: its next attempt now. Else a new delivery of the same message at the end of the queue. */
  resend(subscriptionId: string, deliveryId: string, newId: string): Promise<Delivery | undefined>;

  /**
   * Case decisions not fed yet: each becomes a delivery for every subscription of its merchant to
   * case.decided, and is marked fed, in one transaction; then, up to `limit` in all, the reversals
   * of decisions that were fed (case.decision_reversed, to the subscriptions told the decision, or
   * subscribed to reversals). Returns how many decisions and reversals were fed.
   */
  feedDecisions(limit: number, newId: () => string): Promise<number>;
  /** Takes the lease of up to `limit` subscriptions that have work (a due head, or hits to feed). */
  claim(owner: string, leaseMs: number, limit: number): Promise<Lease[]>;
  /** Extends a lease; false when it was lost (then the holder stops). */
  renew(lease: Lease, leaseMs: number): Promise<boolean>;
  /**
   * Queues events (ignoring those queued before: a compromise.suspected state once for as long as the
   * subscription lives, whatever the delivery log dropped) and moves the hit cursor, in one
   * transaction; false when the lease was lost.
   */
  enqueue(lease: Lease, events: OutboxEvent[], hitsCursorMs: number, newId: () => string): Promise<boolean>;
  head(lease: Lease): Promise<PendingDelivery | undefined>;
  /** Records an attempt and what follows it (delivered, retry later, given up). */
  recordAttempt(lease: Lease, delivery: PendingDelivery, attempt: Attempt, outcome: AttemptOutcome): Promise<void>;
  release(lease: Lease): Promise<void>;
  /**
   * Disables the leased subscription for good (its creating key was revoked): it is not leased, fed
   * or sent again, and its pending deliveries are given up (failed). Shown with `reason`.
   */
  disable(lease: Lease, reason: string): Promise<void>;
  /** Pending deliveries, and the age of the oldest (seconds; 0 when none). */
  queueStats(): Promise<{ depth: number; oldestAgeSeconds: number }>;
  /**
   * Drops delivered and failed deliveries completed before `before`, and the previous signing
   * secrets whose grace period is over; returns how many deliveries.
   */
  prune(before: Date): Promise<number>;
}

/** Seals signing secrets at rest (the data key, LEAKGUARD_DATA_KEY), each bound to its subscription. */
export interface SecretSealer {
  seal(secret: string, binding: string): string;
  /** Throws when the value cannot be opened. */
  open(sealed: string, binding: string): string;
  /** False for a value sealed under a previous key (or stored in clear): it is sealed again when next read. */
  current?(sealed: string, binding: string): boolean;
}

export interface SendResult {
  statusCode: number | null;
  error: string | null;
}

/** Sends one signed request; never throws (a refusal, a timeout, a reset are results). */
export interface WebhookSender {
  send(url: string, body: string, headers: Readonly<Record<string, string>>): Promise<SendResult>;
}

/** The subscriptions' source of watchlist hits: the watchlist store (pageHits, and the issuer's BIN ranges). */
export type HitSource = Pick<WatchlistStore, 'pageHits' | 'getBinRanges' | 'listEvents'>;

// --- Errors --------------------------------------------------------------------------------------

export class WebhookNotFound extends LeakguardError {
  constructor(message = 'no such webhook subscription', options?: LeakguardErrorOptions) {
    super('WEBHOOK_NOT_FOUND', message, options);
  }
}

export class DeliveryNotFound extends LeakguardError {
  constructor(message = 'no such delivery', options?: LeakguardErrorOptions) {
    super('DELIVERY_NOT_FOUND', message, options);
  }
}

/** A tenant at its number of subscriptions: each one multiplies every event it is sent. */
export class WebhookLimitReached extends LeakguardError {
  constructor(max: number) {
    super(
      'WEBHOOK_LIMIT_REACHED',
      `this key's ${max} webhook subscriptions are as many as allowed: delete one before creating another`,
    );
  }
}

/** A re-send asked of a subscription that receives nothing (its creating key revoked, or not in the key store). */
export class WebhookDisabled extends LeakguardError {
  constructor(reason: string) {
    super(
      'WEBHOOK_DISABLED',
      `this webhook subscription is disabled (${reason}): delete it, and subscribe again with a live key`,
    );
  }
}

/** A receiver URL refused: not http(s), credentials in it, does not resolve, or not a public address. */
export class WebhookUrlRefused extends LeakguardError {
  constructor(reason: string) {
    super('WEBHOOK_URL_REFUSED', `webhook URL refused: ${reason}`, { details: [{ path: 'url', message: reason }] });
  }
}
