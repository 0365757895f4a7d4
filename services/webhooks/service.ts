// Subscriptions as the API offers them: a tenant (the API key's issuer or merchant) subscribes a
// URL to the event types it may receive; the signing secret is answered once, at creation (and at
// each rotation, the new one, the previous one signing beside it for a grace period). The
// URL is checked (scheme, resolution, no private address unless allowed) here and again before
// every delivery (the sender), since what a name resolves to can change. A subscription names the
// API key that made it: once that key is revoked it receives nothing more (the dispatcher disables
// it), and it shows as disabled here at once (within the key cache). Creating and deleting one is
// audited, under the key's id.
import type {
  CreatingKeyState,
  Delivery,
  DeliveryQuery,
  Page,
  Subscription,
  Tenant,
  WebhookEventType,
  WebhookStore,
} from './model.ts';
import {
  CREATING_KEY_REVOKED,
  CREATING_KEY_UNKNOWN,
  DeliveryNotFound,
  EVENT_TYPES_OF,
  MAX_SECRET_GRACE_MS,
  WebhookLimitReached,
  WebhookNotFound,
  WebhookDisabled,
  WebhookUrlRefused,
} from './model.ts';
import { LeakguardError } from '../core/errors.ts';
import type { AuditLog } from '../cases/audit.ts';

export type UrlCheck = (url: string) => Promise<{ ok: true } | { ok: false; reason: string }>;

export interface WebhookServiceOptions {
  store: WebhookStore;
  checkUrl: UrlCheck;
  newSecret(): string;
  newId(prefix: 'wh' | 'dlv'): string;
  /** Subscriptions a tenant may hold (LEAKGUARD_WEBHOOK_MAX_PER_TENANT). */
  maxPerTenant: number;
  /** The state of a subscription's creating key (the dispatcher's too); absent: never shown disabled unless stored so. */
  creatingKeys?: (keyId: string) => Promise<CreatingKeyState>;
  /** Where creations and deletions are recorded; absent (tests): not audited. */
  audit?: AuditLog;
  now?: () => number;
}

/** The API key asking (the request's principal): its id only, never the key. */
export interface Caller {
  keyId: string;
  label?: string | undefined;
}

export interface NewSubscription {
  url: string;
  eventTypes: WebhookEventType[];
  description?: string | undefined;
}

export class WebhookService {
  private readonly o: WebhookServiceOptions;

  constructor(options: WebhookServiceOptions) {
    this.o = options;
  }

  async create(
    tenant: Tenant,
    input: NewSubscription,
    /** The key asking (the API's routes always name it); absent, the subscription names none. */
    caller?: Caller,
  ): Promise<{ subscription: Subscription; secret: string }> {
    const allowed = EVENT_TYPES_OF[tenant.kind];
    const wrong = input.eventTypes.findIndex((t) => !allowed.includes(t));
    if (wrong >= 0)
      throw new LeakguardError('VALIDATION_FAILED', 'invalid request', {
        details: [
          {
            path: `eventTypes.${wrong}`,
            message: `${tenant.kind} keys subscribe to ${allowed.join(', ')} only`,
          },
        ],
      });
    const check = await this.o.checkUrl(input.url);
    if (!check.ok) throw new WebhookUrlRefused(check.reason);
    const secret = this.o.newSecret();
    const subscription = await this.o.store.create({
      id: this.o.newId('wh'),
      tenant,
      url: input.url,
      eventTypes: [...new Set(input.eventTypes)],
      description: input.description ?? '',
      secret,
      // Hits recorded from now on (the feeder reads the hit store past this cursor).
      hitsCursorMs: (this.o.now ?? Date.now)(),
      createdByKeyId: caller?.keyId ?? null,
      maxPerTenant: this.o.maxPerTenant,
    });
    if (!subscription) throw new WebhookLimitReached(this.o.maxPerTenant);
    // No subscription without its entry: one the log cannot take is withdrawn (its secret was never shown).
    try {
      await this.auditChange('webhook_create', caller, subscription);
    } catch (error) {
      await this.o.store.delete(tenant, subscription.id);
      throw error;
    }
    return { subscription, secret };
  }

  async list(tenant: Tenant, after: number | undefined, limit: number): Promise<Page<Subscription>> {
    const page = await this.o.store.list(tenant, after, limit);
    return { ...page, items: await Promise.all(page.items.map((s) => this.withState(s))) };
  }

  async get(tenant: Tenant, id: string): Promise<Subscription> {
    const found = await this.o.store.get(tenant, id);
    if (!found) throw new WebhookNotFound();
    return this.withState(found);
  }

  async delete(tenant: Tenant, id: string, caller?: Caller): Promise<void> {
    const found = await this.o.store.get(tenant, id);
    if (!found || !(await this.o.store.delete(tenant, id))) throw new WebhookNotFound();
    await this.auditChange('webhook_delete', caller, found);
  }

  /**
   * Disabled as the store says (an engine found its creating key revoked), or as the key store says
   * now: revoked (the dispatcher disables it at its next poll) or missing. The key store
   * unreachable: as stored.
   */
  private async withState(s: Subscription): Promise<Subscription> {
    if (s.disabledReason !== null || s.createdByKeyId === null || !this.o.creatingKeys) return s;
    const state = await this.o.creatingKeys(s.createdByKeyId).catch(() => 'live' as const);
    if (state === 'live') return s;
    return { ...s, disabledReason: state === 'revoked' ? CREATING_KEY_REVOKED : CREATING_KEY_UNKNOWN };
  }

  private async auditChange(
    action: 'webhook_create' | 'webhook_delete',
    caller: Caller | undefined,
    s: Subscription,
  ): Promise<void> {
    if (!this.o.audit) return;
    await this.o.audit.append({
      actor: caller ? `api-key:${caller.keyId}` : 'unknown',
      action,
      target: `webhook:${s.id}`,
      detail: {
        tenantKind: s.tenant.kind,
        tenantId: s.tenant.id,
        // Where deliveries go, without the path or query (a receiver may carry a token there).
        receiver: new URL(s.url).origin,
        eventTypes: s.eventTypes,
        createdByKeyId: s.createdByKeyId,
        ...(caller?.label ? { keyLabel: caller.label } : {}),
      },
    });
  }

  /**
   * A new signing secret for the tenant's subscription, answered this once. The current one keeps
   * signing deliveries beside it for `graceMs` (0 to 7 days), then is dropped.
   */
  async rotateSecret(
    tenant: Tenant,
    id: string,
    graceMs: number,
  ): Promise<{ subscription: Subscription; secret: string }> {
    if (!Number.isInteger(graceMs) || graceMs < 0 || graceMs > MAX_SECRET_GRACE_MS)
      throw new LeakguardError('VALIDATION_FAILED', 'invalid request', {
        details: [{ path: 'gracePeriodSeconds', message: `must be 0 to ${MAX_SECRET_GRACE_MS / 1000} seconds` }],
      });
    const secret = this.o.newSecret();
    const subscription = await this.o.store.rotateSecret(tenant, id, secret, graceMs);
    if (!subscription) throw new WebhookNotFound();
    return { subscription, secret };
  }

  async deliveries(tenant: Tenant, id: string, query: DeliveryQuery): Promise<Page<Delivery>> {
    await this.get(tenant, id);
    return this.o.store.deliveries(id, query);
  }

  async resend(tenant: Tenant, id: string, deliveryId: string): Promise<Delivery> {
    const subscription = await this.get(tenant, id);
    // It would wait in the queue for good: nothing is sent for a disabled subscription.
    if (subscription.disabledReason !== null) throw new WebhookDisabled(subscription.disabledReason);
    const delivery = await this.o.store.resend(id, deliveryId, this.o.newId('dlv'));
    if (!delivery) throw new DeliveryNotFound();
    return delivery;
  }
}
