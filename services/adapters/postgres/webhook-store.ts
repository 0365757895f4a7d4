// The webhook subscriptions and their durable outbox in PostgreSQL or PGlite (migration
// 006_webhooks.sql). Ordering and exclusivity: an engine takes a subscription's lease (claim,
// FOR UPDATE SKIP LOCKED, so two engines never take the same one) and sends only the oldest
// pending delivery of that subscription; every write a lease holder makes checks it still holds it.
// No transaction is held open while a request is in flight (PGlite has one connection).
import type { Queryable, SqlClient } from './sql-client.ts';
import type { ReversalCategory } from '../../cases/model.ts';
import {
  decisionEvent,
  reversalEvent,
  type Attempt,
  type AttemptOutcome,
  type DecidedCase,
  type Delivery,
  type DeliveryQuery,
  type DeliveryStatus,
  type Lease,
  type OutboxEvent,
  type Page,
  type PendingDelivery,
  type SecretSealer,
  type Subscription,
  type Tenant,
  type TenantKind,
  type WebhookEventType,
  type WebhookStore,
} from '../../webhooks/model.ts';

const iso = (v: unknown): string => (v instanceof Date ? v : new Date(String(v))).toISOString();
const isoOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : iso(v));

interface SubscriptionRow {
  seq: number;
  id: string;
  tenant_kind: TenantKind;
  tenant_id: string;
  url: string;
  event_types: WebhookEventType[];
  description: string;
  created_at: Date;
  previous_secret_until: Date | null;
  created_by_key_id: string | null;
  disabled_reason: string | null;
}
/** A previous secret whose grace period is over counts as none (it is dropped at the next prune). */
const SUBSCRIPTION_COLUMNS = `seq, id, tenant_kind, tenant_id, url, event_types, description, created_at,
  CASE WHEN previous_secret_until > now() THEN previous_secret_until END AS previous_secret_until,
  created_by_key_id, disabled_reason`;
const toSubscription = (r: SubscriptionRow): Subscription => ({
  id: r.id,
  seq: Number(r.seq),
  tenant: { kind: r.tenant_kind, id: r.tenant_id },
  url: r.url,
  eventTypes: r.event_types,
  description: r.description,
  createdAt: iso(r.created_at),
  previousSecretExpiresAt: isoOrNull(r.previous_secret_until),
  createdByKeyId: r.created_by_key_id,
  disabledReason: r.disabled_reason,
});

interface DeliveryRow {
  seq: number;
  id: string;
  subscription_id: string;
  message_id: string;
  event_type: WebhookEventType;
  data: unknown;
  occurred_at: Date;
  status: DeliveryStatus;
  created_at: Date;
  next_attempt_at: Date;
  completed_at: Date | null;
  resend_of: string | null;
}
const DELIVERY_COLUMNS =
  'seq, id, subscription_id, message_id, event_type, data, occurred_at, status, created_at, next_attempt_at, completed_at, resend_of';

interface AttemptRow {
  delivery_seq: number;
  at: Date;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
}

const parseJson = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

/** Without a sealer (tests), secrets are stored as they are. */
const PLAIN: SecretSealer = { seal: (secret) => secret, open: (sealed) => sealed };
const bindingOf = (subscriptionId: string) => `webhook-secret\u0000${subscriptionId}`;
/** The previous secret (a rotation's grace period) is bound apart: it cannot be passed off as the current one. */
const previousBindingOf = (subscriptionId: string) => `webhook-previous-secret\u0000${subscriptionId}`;

export class PostgresWebhookStore implements WebhookStore {
  private readonly sql: SqlClient;
  private readonly sealer: SecretSealer;

  constructor(sql: SqlClient, sealer: SecretSealer = PLAIN) {
    this.sql = sql;
    this.sealer = sealer;
  }

  /** The secret of a row, or null when it cannot be opened; one stored in clear (whsec_) is read as it is. */
  private openSecret(stored: string, subscriptionId: string, binding = bindingOf): string | null {
    if (stored.startsWith('whsec_')) return stored;
    try {
      return this.sealer.open(stored, binding(subscriptionId));
    } catch {
      return null;
    }
  }

  async create(input: Parameters<WebhookStore['create']>[0]): Promise<Subscription | undefined> {
    return this.sql.transaction(async (tx) => {
      // One creation at a time per tenant, so that two at once cannot both pass the count.
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `webhooks:${input.tenant.kind}:${input.tenant.id}`,
      ]);
      const r = await tx.query<SubscriptionRow>(
        `INSERT INTO webhook_subscriptions (id, tenant_kind, tenant_id, url, event_types, description, secret, hits_since_ms, hits_cursor_ms, created_by_key_id)
         SELECT $1, $2, $3, $4, $5::text[], $6, $7, $8, $8, $10::text
         WHERE (SELECT count(*) FROM webhook_subscriptions WHERE tenant_kind = $2 AND tenant_id = $3) < $9
         RETURNING ${SUBSCRIPTION_COLUMNS}`,
        [
          input.id,
          input.tenant.kind,
          input.tenant.id,
          input.url,
          input.eventTypes,
          input.description,
          this.sealer.seal(input.secret, bindingOf(input.id)),
          input.hitsCursorMs,
          input.maxPerTenant,
          input.createdByKeyId,
        ],
      );
      return r.rows[0] && toSubscription(r.rows[0]);
    });
  }

  async get(tenant: Tenant, id: string): Promise<Subscription | undefined> {
    const r = await this.sql.query<SubscriptionRow>(
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE id = $1 AND tenant_kind = $2 AND tenant_id = $3`,
      [id, tenant.kind, tenant.id],
    );
    return r.rows[0] && toSubscription(r.rows[0]);
  }

  async list(tenant: Tenant, after: number | undefined, limit: number): Promise<Page<Subscription>> {
    const r = await this.sql.query<SubscriptionRow>(
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions
       WHERE tenant_kind = $1 AND tenant_id = $2 AND seq > $3 ORDER BY seq LIMIT $4`,
      [tenant.kind, tenant.id, after ?? 0, limit + 1],
    );
    const items = r.rows.slice(0, limit).map(toSubscription);
    const hasMore = r.rows.length > limit;
    return { items, hasMore, next: hasMore ? items[items.length - 1]!.seq : null };
  }

  async delete(tenant: Tenant, id: string): Promise<boolean> {
    const r = await this.sql.query(
      'DELETE FROM webhook_subscriptions WHERE id = $1 AND tenant_kind = $2 AND tenant_id = $3',
      [id, tenant.kind, tenant.id],
    );
    return r.rowCount > 0;
  }

  async rotateSecret(tenant: Tenant, id: string, secret: string, graceMs: number): Promise<Subscription | undefined> {
    return this.sql.transaction(async (tx) => {
      const found = await tx.query<{ secret: string }>(
        'SELECT secret FROM webhook_subscriptions WHERE id = $1 AND tenant_kind = $2 AND tenant_id = $3 FOR UPDATE',
        [id, tenant.kind, tenant.id],
      );
      const row = found.rows[0];
      if (!row) return undefined;
      // The current secret becomes the previous one, sealed as such; one that cannot be opened
      // (its data key gone) signs nothing, so none is kept. A previous one held until now is dropped.
      const current = graceMs > 0 ? this.openSecret(row.secret, id) : null;
      const r = await tx.query<SubscriptionRow>(
        `UPDATE webhook_subscriptions SET secret = $2, previous_secret = $3::text,
           previous_secret_until = CASE WHEN $3::text IS NULL THEN NULL
                                        ELSE now() + make_interval(secs => $4::double precision / 1000) END
         WHERE id = $1 RETURNING ${SUBSCRIPTION_COLUMNS}`,
        [
          id,
          this.sealer.seal(secret, bindingOf(id)),
          current === null ? null : this.sealer.seal(current, previousBindingOf(id)),
          graceMs,
        ],
      );
      return toSubscription(r.rows[0]!);
    });
  }

  private async withAttempts(q: Queryable, rows: DeliveryRow[]): Promise<Delivery[]> {
    if (rows.length === 0) return [];
    const attempts = await q.query<AttemptRow>(
      `SELECT delivery_seq, at, duration_ms, status_code, error FROM webhook_attempts
       WHERE delivery_seq = ANY($1::bigint[]) ORDER BY id`,
      [rows.map((r) => r.seq)],
    );
    const bySeq = new Map<number, Attempt[]>();
    for (const a of attempts.rows) {
      const list = bySeq.get(Number(a.delivery_seq)) ?? [];
      list.push({ at: iso(a.at), durationMs: a.duration_ms, statusCode: a.status_code, error: a.error });
      bySeq.set(Number(a.delivery_seq), list);
    }
    // The subscription's oldest pending delivery: the ones behind it wait until it is delivered or given up.
    const pending = rows.find((r) => r.status === 'pending');
    const head = pending
      ? (
          await q.query<{ seq: number; id: string; next_attempt_at: Date }>(
            `SELECT seq, id, next_attempt_at FROM webhook_deliveries
             WHERE subscription_id = $1 AND status = 'pending' ORDER BY seq LIMIT 1`,
            [pending.subscription_id],
          )
        ).rows[0]
      : undefined;
    const behindHead = (r: DeliveryRow) =>
      r.status === 'pending' && head !== undefined && Number(r.seq) > Number(head.seq);
    /** A waiting delivery goes no sooner than the head's next attempt: its own time may have passed long ago. */
    const nextAttemptAt = (r: DeliveryRow) =>
      r.status !== 'pending'
        ? null
        : iso(behindHead(r) && head!.next_attempt_at > r.next_attempt_at ? head!.next_attempt_at : r.next_attempt_at);
    return rows.map((r) => ({
      id: r.id,
      seq: Number(r.seq),
      subscriptionId: r.subscription_id,
      messageId: r.message_id,
      eventType: r.event_type,
      data: parseJson(r.data),
      occurredAt: iso(r.occurred_at),
      status: r.status,
      attempts: bySeq.get(Number(r.seq)) ?? [],
      createdAt: iso(r.created_at),
      nextAttemptAt: nextAttemptAt(r),
      waitingBehind: behindHead(r) ? head!.id : null,
      completedAt: isoOrNull(r.completed_at),
      resendOf: r.resend_of,
    }));
  }

  async deliveries(subscriptionId: string, { before, limit, status }: DeliveryQuery): Promise<Page<Delivery>> {
    const r = await this.sql.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries
       WHERE subscription_id = $1 AND ($2::bigint IS NULL OR seq < $2) AND ($4::text IS NULL OR status = $4)
       ORDER BY seq DESC LIMIT $3`,
      [subscriptionId, before ?? null, limit + 1, status ?? null],
    );
    const items = await this.withAttempts(this.sql, r.rows.slice(0, limit));
    const hasMore = r.rows.length > limit;
    return { items, hasMore, next: hasMore ? items[items.length - 1]!.seq : null };
  }

  async getDelivery(subscriptionId: string, deliveryId: string): Promise<Delivery | undefined> {
    const r = await this.sql.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE subscription_id = $1 AND id = $2`,
      [subscriptionId, deliveryId],
    );
    return (await this.withAttempts(this.sql, r.rows))[0];
  }

  async resend(subscriptionId: string, deliveryId: string, newId: string): Promise<Delivery | undefined> {
    return this.sql.transaction(async (tx) => {
      const found = await tx.query<DeliveryRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE subscription_id = $1 AND id = $2 FOR UPDATE`,
        [subscriptionId, deliveryId],
      );
      const original = found.rows[0];
      if (!original) return undefined;
      let row: DeliveryRow;
      if (original.status === 'pending') {
        // Still queued: its next attempt is now (it keeps its place in the order).
        const r = await tx.query<DeliveryRow>(
          `UPDATE webhook_deliveries SET next_attempt_at = now() WHERE seq = $1 RETURNING ${DELIVERY_COLUMNS}`,
          [original.seq],
        );
        row = r.rows[0]!;
      } else {
        // Delivered or failed: the same message again, as a new delivery at the end of the queue.
        const r = await tx.query<DeliveryRow>(
          `INSERT INTO webhook_deliveries (id, subscription_id, message_id, event_type, data, occurred_at, resend_of)
           SELECT $1, subscription_id, message_id, event_type, data, occurred_at, id FROM webhook_deliveries WHERE seq = $2
           RETURNING ${DELIVERY_COLUMNS}`,
          [newId, original.seq],
        );
        row = r.rows[0]!;
      }
      return (await this.withAttempts(tx, [row]))[0];
    });
  }

  async feedDecisions(limit: number, newId: () => string): Promise<number> {
    return this.sql.transaction(async (tx) => {
      // A case's events go out in the order they happened: its reversal before the decision made
      // after it (a receiver applying them in turn keeps the decision in force). Reversals first,
      // then the decisions; one of a case whose earlier decision's reversal is still to be fed (by
      // another engine at this moment, or beyond this call's limit) waits for the next feed.
      const reversals = await this.feedReversals(tx, limit, newId);
      if (reversals >= limit) return reversals;
      const labels = await tx.query<{
        id: number;
        case_id: number;
        merchant_id: string;
        transaction_id: string;
        label: 'fraud' | 'legitimate';
        decided_at: Date;
        amount: number;
        currency: string;
        card_bin: string;
        card_last4: string;
        redecided: boolean;
      }>(
        // A label withdrawn before it was fed (a reversed decision) is not announced; a case decided
        // anew after a reversal is, as another event of its own.
        `SELECT l.id, l.case_id, l.merchant_id, l.transaction_id, l.label, l.decided_at,
                c.amount, c.currency, c.card_bin, c.card_last4,
                EXISTS (SELECT 1 FROM labels p WHERE p.case_id = l.case_id AND p.id < l.id) AS redecided
         FROM labels l JOIN cases c ON c.id = l.case_id
         WHERE NOT l.webhooks_fed AND l.withdrawn_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM labels r WHERE r.case_id = l.case_id AND r.id < l.id
                           AND r.withdrawn_at IS NOT NULL AND r.webhooks_fed AND NOT r.reversal_webhooks_fed)
         ORDER BY l.id LIMIT $1 FOR UPDATE OF l SKIP LOCKED`,
        [limit - reversals],
      );
      if (labels.rows.length === 0) return reversals;
      const merchants = [...new Set(labels.rows.map((l) => l.merchant_id))];
      const subs = await tx.query<{ id: string; tenant_id: string; created_at: Date }>(
        `SELECT id, tenant_id, created_at FROM webhook_subscriptions
         WHERE tenant_kind = 'merchant' AND tenant_id = ANY($1::text[]) AND 'case.decided' = ANY(event_types)
           AND disabled_at IS NULL`,
        [merchants],
      );
      for (const l of labels.rows) {
        const decided: DecidedCase = {
          caseId: Number(l.case_id),
          merchantId: l.merchant_id,
          transactionId: l.transaction_id,
          label: l.label,
          decidedAt: iso(l.decided_at),
          amount: Number(l.amount),
          currency: l.currency,
          bin: l.card_bin,
          last4: l.card_last4,
        };
        for (const s of subs.rows) {
          // A subscription receives the decisions made after it was created.
          if (s.tenant_id !== l.merchant_id || s.created_at.getTime() > new Date(l.decided_at).getTime()) continue;
          const event = decisionEvent(decided);
          await insertEvents(tx, s.id, [l.redecided ? { ...event, key: `${event.key}:label:${l.id}` } : event], newId);
        }
      }
      await tx.query('UPDATE labels SET webhooks_fed = true WHERE id = ANY($1::bigint[])', [
        labels.rows.map((l) => l.id),
      ]);
      return reversals + labels.rows.length;
    });
  }

  /**
   * Reversals of decisions that were announced (a decision reversed before it was fed was never
   * announced, and neither is its reversal): each goes to the merchant's subscriptions that were
   * told the decision (case.decided, created before it) and to those subscribed to reversals.
   */
  private async feedReversals(tx: Queryable, limit: number, newId: () => string): Promise<number> {
    if (limit <= 0) return 0;
    const reversed = await tx.query<{
      id: number;
      case_id: number;
      merchant_id: string;
      transaction_id: string;
      label: 'fraud' | 'legitimate';
      decided_at: Date;
      withdrawn_at: Date;
      withdrawn_category: ReversalCategory | null;
    }>(
      `SELECT id, case_id, merchant_id, transaction_id, label, decided_at, withdrawn_at, withdrawn_category FROM labels
       WHERE withdrawn_at IS NOT NULL AND webhooks_fed AND NOT reversal_webhooks_fed
       ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
    if (reversed.rows.length === 0) return 0;
    const subs = await tx.query<{ id: string; tenant_id: string; created_at: Date; event_types: string[] }>(
      `SELECT id, tenant_id, created_at, event_types FROM webhook_subscriptions
       WHERE tenant_kind = 'merchant' AND tenant_id = ANY($1::text[]) AND disabled_at IS NULL
         AND ('case.decided' = ANY(event_types) OR 'case.decision_reversed' = ANY(event_types))`,
      [[...new Set(reversed.rows.map((r) => r.merchant_id))]],
    );
    for (const r of reversed.rows) {
      const event = reversalEvent({
        caseId: Number(r.case_id),
        labelId: Number(r.id),
        merchantId: r.merchant_id,
        transactionId: r.transaction_id,
        label: r.label,
        decidedAt: iso(r.decided_at),
        reversedAt: iso(r.withdrawn_at),
        category: r.withdrawn_category ?? 'other',
      });
      for (const s of subs.rows) {
        if (s.tenant_id !== r.merchant_id) continue;
        // Told the decision (subscribed before it was made), or subscribed to reversals before this one.
        const toldDecision =
          s.event_types.includes('case.decided') && s.created_at.getTime() <= new Date(r.decided_at).getTime();
        const askedReversals =
          s.event_types.includes('case.decision_reversed') &&
          s.created_at.getTime() <= new Date(r.withdrawn_at).getTime();
        if (toldDecision || askedReversals) await insertEvents(tx, s.id, [event], newId);
      }
    }
    await tx.query('UPDATE labels SET reversal_webhooks_fed = true WHERE id = ANY($1::bigint[])', [
      reversed.rows.map((r) => r.id),
    ]);
    return reversed.rows.length;
  }

  async claim(owner: string, leaseMs: number, limit: number): Promise<Lease[]> {
    const token = `${owner}:${crypto.randomUUID()}`;
    const r = await this.sql.query<{
      id: string;
      tenant_kind: TenantKind;
      tenant_id: string;
      url: string;
      secret: string;
      previous_secret: string | null;
      event_types: WebhookEventType[];
      hits_since_ms: number;
      hits_cursor_ms: number;
      suspected_fed_since_ms: number | null;
      created_by_key_id: string | null;
    }>(
      `UPDATE webhook_subscriptions SET lease_owner = $1, lease_until = now() + make_interval(secs => $2::double precision / 1000),
         -- A previous secret whose grace period is over is dropped.
         previous_secret = CASE WHEN previous_secret_until > now() THEN previous_secret END,
         previous_secret_until = CASE WHEN previous_secret_until > now() THEN previous_secret_until END
       WHERE id IN (
         SELECT w.id FROM webhook_subscriptions w
         WHERE (w.lease_until IS NULL OR w.lease_until < now()) AND w.disabled_at IS NULL
           AND ((w.tenant_kind = 'issuer' AND w.event_types && ARRAY['watchlist.hit', 'compromise.suspected']::text[])
                OR (SELECT d.next_attempt_at FROM webhook_deliveries d
                    WHERE d.subscription_id = w.id AND d.status = 'pending' ORDER BY d.seq LIMIT 1) <= now())
         ORDER BY w.served_at NULLS FIRST, w.seq LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING id, tenant_kind, tenant_id, url, secret, previous_secret, event_types, hits_since_ms, hits_cursor_ms, suspected_fed_since_ms,
         created_by_key_id`,
      [token, leaseMs, limit],
    );
    const leases = r.rows.map((row) => ({
      subscriptionId: row.id,
      token,
      tenant: { kind: row.tenant_kind, id: row.tenant_id },
      url: row.url,
      eventTypes: row.event_types,
      hitsSinceMs: Number(row.hits_since_ms),
      hitsCursorMs: Number(row.hits_cursor_ms),
      suspectedFedSinceMs: row.suspected_fed_since_ms === null ? null : Number(row.suspected_fed_since_ms),
      createdByKeyId: row.created_by_key_id,
    }));
    for (const row of r.rows) {
      await this.resealIfOld(row.id, 'secret', row.secret, bindingOf);
      if (row.previous_secret !== null)
        await this.resealIfOld(row.id, 'previous_secret', row.previous_secret, previousBindingOf);
    }
    return leases;
  }

  private async resealIfOld(
    subscriptionId: string,
    column: 'secret' | 'previous_secret',
    stored: string,
    binding: (id: string) => string,
  ): Promise<void> {
    if (this.sealer.current?.(stored, binding(subscriptionId)) !== false) return;
    const secret = this.openSecret(stored, subscriptionId, binding);
    if (secret !== null) await this.reseal(subscriptionId, column, stored, secret, binding);
  }

  /**
   * Seals a secret read under a previous data key (or stored in clear) under the current one:
   * nothing else ever rewrites it, and the rotation after next would leave it unreadable. Only
   * if the row still holds what was read; a failure is tried again at the next claim.
   */
  private async reseal(
    subscriptionId: string,
    column: 'secret' | 'previous_secret',
    stored: string,
    secret: string,
    binding: (id: string) => string,
  ): Promise<void> {
    try {
      await this.sql.query(`UPDATE webhook_subscriptions SET ${column} = $2 WHERE id = $1 AND ${column} = $3`, [
        subscriptionId,
        this.sealer.seal(secret, binding(subscriptionId)),
        stored,
      ]);
    } catch {
      // The delivery goes on with the secret as read.
    }
  }

  async renew(lease: Lease, leaseMs: number): Promise<boolean> {
    const r = await this.sql.query(
      `UPDATE webhook_subscriptions SET lease_until = now() + make_interval(secs => $3::double precision / 1000)
       WHERE id = $1 AND lease_owner = $2`,
      [lease.subscriptionId, lease.token, leaseMs],
    );
    return r.rowCount === 1;
  }

  async enqueue(lease: Lease, events: OutboxEvent[], hitsCursorMs: number, newId: () => string): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const held = await tx.query(
        `UPDATE webhook_subscriptions SET hits_cursor_ms = $3
         WHERE id = $1 AND lease_owner = $2 AND lease_until > now()`,
        [lease.subscriptionId, lease.token, hitsCursorMs],
      );
      if (held.rowCount !== 1) return false;
      // A suspected event's state goes once: its record outlives the delivery log's row.
      const states = events.filter((e) => e.type === 'compromise.suspected').map((e) => e.key);
      const fresh = new Set(
        states.length === 0
          ? []
          : (
              await tx.query<{ event_key: string }>(
                `INSERT INTO webhook_suspected_fed (subscription_id, event_key)
                 SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING RETURNING event_key`,
                [lease.subscriptionId, states],
              )
            ).rows.map((r) => r.event_key),
      );
      const queued = events.filter((e) => e.type !== 'compromise.suspected' || fresh.has(e.key));
      await insertEvents(tx, lease.subscriptionId, queued, newId);
      lease.hitsCursorMs = hitsCursorMs;
      return true;
    });
  }

  async head(lease: Lease): Promise<PendingDelivery | undefined> {
    const r = await this.sql.query<{
      seq: number;
      id: string;
      message_id: string;
      event_type: WebhookEventType;
      data: unknown;
      occurred_at: Date;
      attempts: number;
      created_at: Date;
      due: boolean;
      secret: string;
      previous_secret: string | null;
    }>(
      // The secrets as they stand at this attempt: a rotation applies from the next attempt on,
      // retries of deliveries queued before it included.
      `SELECT d.seq, d.id, d.message_id, d.event_type, d.data, d.occurred_at, d.attempts, d.created_at,
              d.next_attempt_at <= now() AS due, s.secret,
              CASE WHEN s.previous_secret_until > now() THEN s.previous_secret END AS previous_secret
       FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
       WHERE d.subscription_id = $1 AND d.status = 'pending' ORDER BY d.seq LIMIT 1`,
      [lease.subscriptionId],
    );
    const row = r.rows[0];
    return (
      row && {
        seq: Number(row.seq),
        id: row.id,
        messageId: row.message_id,
        eventType: row.event_type,
        data: parseJson(row.data),
        occurredAt: iso(row.occurred_at),
        attempts: row.attempts,
        createdAt: iso(row.created_at),
        due: row.due,
        // Opened only for an attempt: a head waiting on its retry is polled and not sent.
        secret: row.due ? this.openSecret(row.secret, lease.subscriptionId) : null,
        previousSecret:
          !row.due || row.previous_secret === null
            ? null
            : this.openSecret(row.previous_secret, lease.subscriptionId, previousBindingOf),
      }
    );
  }

  async recordAttempt(
    _lease: Lease,
    delivery: PendingDelivery,
    attempt: Attempt,
    outcome: AttemptOutcome,
  ): Promise<void> {
    try {
      await this.sql.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO webhook_attempts (delivery_seq, at, duration_ms, status_code, error) VALUES ($1, $2::timestamptz, $3, $4, $5)`,
          [delivery.seq, attempt.at, Math.round(attempt.durationMs), attempt.statusCode, attempt.error],
        );
        await tx.query(
          `UPDATE webhook_deliveries SET attempts = attempts + 1,
             first_attempt_at = COALESCE(first_attempt_at, $2::timestamptz),
             status = $3,
             next_attempt_at = CASE WHEN $3 = 'pending' THEN now() + make_interval(secs => $4::double precision / 1000) ELSE next_attempt_at END,
             completed_at = CASE WHEN $3 = 'pending' THEN NULL ELSE now() END
           WHERE seq = $1 AND status = 'pending'`,
          [delivery.seq, attempt.at, outcome.status, outcome.status === 'pending' ? outcome.retryInMs : 0],
        );
      });
    } catch (error) {
      // The subscription was deleted while the attempt was in flight: nothing left to record.
      if ((error as { code?: string }).code !== '23503') throw error;
    }
  }

  async release(lease: Lease): Promise<void> {
    await this.sql.query(
      'UPDATE webhook_subscriptions SET lease_owner = NULL, lease_until = NULL, served_at = now() WHERE id = $1 AND lease_owner = $2',
      [lease.subscriptionId, lease.token],
    );
  }

  async disable(lease: Lease, reason: string): Promise<void> {
    await this.sql.transaction(async (tx) => {
      const r = await tx.query(
        `UPDATE webhook_subscriptions SET disabled_at = now(), disabled_reason = $3
         WHERE id = $1 AND lease_owner = $2 AND disabled_at IS NULL`,
        [lease.subscriptionId, lease.token, reason],
      );
      if (r.rowCount === 0) return;
      // Never sent now: given up, so that they leave the queue (and its metrics) and the log's retention.
      await tx.query(
        `UPDATE webhook_deliveries SET status = 'failed', completed_at = now()
         WHERE subscription_id = $1 AND status = 'pending'`,
        [lease.subscriptionId],
      );
    });
  }

  async queueStats(): Promise<{ depth: number; oldestAgeSeconds: number }> {
    const r = await this.sql.query<{ depth: number; age: number | null }>(
      `SELECT count(*)::int AS depth, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS age
       FROM webhook_deliveries WHERE status = 'pending'`,
    );
    const row = r.rows[0]!;
    return { depth: Number(row.depth), oldestAgeSeconds: Math.max(0, Number(row.age ?? 0)) };
  }

  async prune(before: Date): Promise<number> {
    // Previous secrets whose grace period is over (those of subscriptions served meanwhile are gone already).
    await this.sql.query(
      `UPDATE webhook_subscriptions SET previous_secret = NULL, previous_secret_until = NULL
       WHERE previous_secret_until <= now()`,
    );
    const r = await this.sql.query(
      `DELETE FROM webhook_deliveries WHERE status <> 'pending' AND completed_at < $1::timestamptz`,
      [before.toISOString()],
    );
    return r.rowCount;
  }
}

/** Queues events in their order (ascending seq); an event queued before for the subscription is skipped. */
async function insertEvents(
  tx: Queryable,
  subscriptionId: string,
  events: OutboxEvent[],
  newId: () => string,
): Promise<void> {
  if (events.length === 0) return;
  await tx.query(
    `INSERT INTO webhook_deliveries (id, subscription_id, message_id, event_type, event_key, data, occurred_at)
     SELECT u.id, $1, u.message_id, u.type, u.key, u.data::jsonb, u.at::timestamptz
     FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
          WITH ORDINALITY AS u(id, message_id, type, key, data, at, n)
     ORDER BY u.n
     ON CONFLICT (subscription_id, event_key) DO NOTHING`,
    [
      subscriptionId,
      events.map(() => newId()),
      events.map(() => `msg_${newId().replace(/^[a-z]+_/, '')}`),
      events.map((e) => e.type),
      events.map((e) => e.key),
      events.map((e) => JSON.stringify(e.data)),
      events.map((e) => e.occurredAt),
    ],
  );
}
