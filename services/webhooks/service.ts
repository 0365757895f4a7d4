// Subscriptions as the API offers them: a tenant (the API key's issuer or merchant) subscribes a
// URL to the event types it may receive; the signing secret is answered once, at creation (and at
// each rotation, the new one, the previous one signing beside it for a grace period). The
// URL is checked (scheme, resolution, no private address unless allowed) here and again before
// every delivery (the sender), since what a name resolves to can change.
import type { Delivery, DeliveryQuery, Page, Subscription, Tenant, WebhookEventType, WebhookStore } from './model.ts';
import {
  DeliveryNotFound,
  EVENT_TYPES_OF,
  MAX_SECRET_GRACE_MS,
  WebhookLimitReached,
  WebhookNotFound,
  WebhookUrlRefused,
} from './model.ts';
import { LeakguardError } from '../core/errors.ts';

export type UrlCheck = (url: string) => Promise<{ ok: true } | { ok: false; reason: string }>;

export interface WebhookServiceOptions {
  store: WebhookStore;
  checkUrl: UrlCheck;
  newSecret(): string;
  newId(prefix: 'wh' | 'dlv'): string;
  /** Subscriptions a tenant may hold (LEAKGUARD_WEBHOOK_MAX_PER_TENANT). */
  maxPerTenant: number;
  now?: () => number;
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

  async create(tenant: Tenant, input: NewSubscription): Promise<{ subscription: Subscription; secret: string }> {
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
      maxPerTenant: this.o.maxPerTenant,
    });
    if (!subscription) throw new WebhookLimitReached(this.o.maxPerTenant);
    return { subscription, secret };
  }

  list(tenant: Tenant, after: number | undefined, limit: number): Promise<Page<Subscription>> {
    return this.o.store.list(tenant, after, limit);
  }

  async get(tenant: Tenant, id: string): Promise<Subscription> {
    const found = await this.o.store.get(tenant, id);
    if (!found) throw new WebhookNotFound();
    return found;
  }

  async delete(tenant: Tenant, id: string): Promise<void> {
    if (!(await this.o.store.delete(tenant, id))) throw new WebhookNotFound();
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
    await this.get(tenant, id);
    const delivery = await this.o.store.resend(id, deliveryId, this.o.newId('dlv'));
    if (!delivery) throw new DeliveryNotFound();
    return delivery;
  }
}
