// The worker's rules on a real (embedded, in-memory) PostgreSQL, pass by pass: a delivery that fails
// for its whole retry window is given up and the next one goes; what waits behind a failing one is
// never sent before it; a given-up delivery can be re-sent; a hit is queued once per subscription
// however often the feeder reads it again; a subscription only receives hits recorded after it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../services/adapters/postgres/migrate.ts';
import { PgliteSqlClient } from '../../services/adapters/postgres/pglite-client.ts';
import { createLogger } from '../../services/logger.ts';
import { Metrics } from '../../services/metrics.ts';
import type { StoredHit } from '../../services/core/watchlist.ts';
import {
  openWebhookSystem,
  secretSealer,
  type WebhookConfig,
  type WebhookSystem,
} from '../../services/webhook-system.ts';
import { PersonalDataCipher, type DataKeyring } from '../../services/cases/personal-data.ts';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import {
  CREATING_KEY_REVOKED,
  CREATING_KEY_UNKNOWN,
  type HitSource,
  type SecretSealer,
  type SendResult,
  type WebhookSender,
} from '../../services/webhooks/model.ts';
import { until } from './support.ts';
import type { ApiKeyRecord, ApiKeyStore } from '../../services/auth/api-keys.ts';

let sql: PgliteSqlClient;
let system: WebhookSystem;
const metrics = new Metrics();
/** What the fake hit store holds: hits with the time they were recorded. */
const stored: { ms: number; hit: StoredHit }[] = [];
const sent: { url: string; tx: string; id: string }[] = [];
const failing = new Set<string>();

const hit = (transactionId: string, ms: number): { ms: number; hit: StoredHit } => ({
  ms,
  hit: {
    at: new Date(ms).toISOString(),
    recordedAt: new Date(ms).toISOString(),
    merchantId: 'm1',
    transactionId,
    amount: 100,
    currency: 'EUR',
    decision: 'challenge',
    score: 60,
    card: '411111******1111',
    bin: '411111',
    eventIds: ['ce_1'],
  },
});

const config: WebhookConfig = {
  LEAKGUARD_WEBHOOK_ALLOW_PRIVATE: '1',
  LEAKGUARD_WEBHOOK_TIMEOUT_MS: 1_000,
  LEAKGUARD_WEBHOOK_RETRY_BASE_MS: 10,
  LEAKGUARD_WEBHOOK_RETRY_MAX_DELAY_MS: 40,
  LEAKGUARD_WEBHOOK_RETRY_FOR_MS: 250,
  LEAKGUARD_WEBHOOK_POLL_MS: 10,
  LEAKGUARD_WEBHOOK_HIT_LAG_MS: 0,
  LEAKGUARD_WEBHOOK_CONCURRENCY: 2,
  LEAKGUARD_WEBHOOK_LOG_DAYS: 30,
  LEAKGUARD_WEBHOOK_MAX_PER_TENANT: 3,
};

beforeAll(async () => {
  sql = await PgliteSqlClient.open();
  await migrate(sql);
  system = anotherSystem({
    watchlist: {
      // Newest first, within [from, to], as the stores answer; one page.
      pageHits: async (_issuer, q) => ({
        items: stored
          .filter((s) => s.ms >= (q.from ?? 0) && s.ms <= (q.to ?? Infinity))
          .reverse()
          .map((s) => s.hit),
        hasMore: false,
        next: null,
      }),
    },
    sender: {
      send: async (url, body, headers): Promise<SendResult> => {
        const tx = (JSON.parse(body) as { data: { transactionId: string } }).data.transactionId;
        sent.push({ url, tx, id: headers['webhook-id']! });
        return failing.has(tx) ? { statusCode: 500, error: 'receiver answered 500' } : { statusCode: 200, error: null };
      },
    },
  });
}, 60_000);
afterAll(async () => {
  await system?.stop();
  await sql?.close();
});

const passes = async (until: () => boolean, max = 400) => {
  for (let i = 0; i < max && !until(); i++) {
    await system.dispatcher.pass();
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** A webhook system on the shared database, passed by hand: its hit source's answers and its sender given. */
const anotherSystem = (o: {
  watchlist?: Partial<HitSource>;
  sender: WebhookSender;
  sealer?: SecretSealer;
  apiKeys?: Pick<ApiKeyStore, 'list'>;
}): WebhookSystem =>
  openWebhookSystem({
    sql,
    // Key lookups not cached: a revocation applies at the next pass.
    config: { ...config, LEAKGUARD_API_KEY_CACHE_MS: 0 },
    ...(o.apiKeys ? { apiKeys: o.apiKeys } : {}),
    metrics,
    logger: createLogger('silent'),
    start: false,
    watchlist: {
      getBinRanges: async () => [],
      listEvents: async () => [],
      pageHits: async () => ({ items: [], hasMore: false, next: null }),
      ...o.watchlist,
    },
    sender: o.sender,
    ...(o.sealer ? { sealer: o.sealer } : {}),
  });

describe('the webhook worker', () => {
  it('gives up a delivery after its retry window, then sends the next; nothing overtakes it meanwhile', async () => {
    const tenant = { kind: 'issuer' as const, id: 'i1' };
    stored.push(hit('before-subscription', Date.now() - 10));
    const { subscription } = await system.service.create(tenant, {
      url: 'http://127.0.0.1:9/a',
      eventTypes: ['watchlist.hit'],
    });
    const now = Date.now();
    stored.push(hit('t1', now + 1), hit('t2', now + 2), hit('t3', now + 3));
    failing.add('t1');
    await new Promise((r) => setTimeout(r, 10));
    await passes(() => sent.some((s) => s.tx === 't3'));
    const order = sent.map((s) => s.tx);
    // t1 retried until its window closed, then t2 and t3: in order, each once, never before t1 was given up.
    expect(order.filter((t) => t === 't1').length).toBeGreaterThan(3);
    expect(order.slice(order.lastIndexOf('t1') + 1)).toEqual(['t2', 't3']);
    expect(order).not.toContain('before-subscription');
    const log = await system.service.deliveries(tenant, subscription.id, { limit: 10 });
    const t1 = log.items.find((d) => (d.data as { transactionId: string }).transactionId === 't1')!;
    expect(t1.status).toBe('failed');
    expect(t1.nextAttemptAt).toBeNull();
    // Retried until the window (250 ms from when it was queued) closed.
    expect(Date.parse(t1.attempts.at(-1)!.at) - Date.parse(t1.createdAt)).toBeGreaterThanOrEqual(250 - 5);
    expect((await metrics.registry.getSingleMetric('leakguard_webhook_deliveries_total')!.get()).values).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ labels: { result: 'failed' }, value: 1 }),
        expect.objectContaining({ labels: { result: 'delivered' }, value: 2 }),
      ]),
    );

    // The feeder reads the same hits again (its overlap): nothing is queued twice.
    await passes(() => false, 5);
    expect(sent.filter((s) => s.tx === 't2')).toHaveLength(1);

    // Re-sent once the receiver is fixed: the same message id, after what is queued.
    failing.delete('t1');
    const again = await system.service.resend(tenant, subscription.id, t1.id);
    expect(again).toMatchObject({ status: 'pending', resendOf: t1.id, messageId: t1.messageId });
    await passes(() => sent.at(-1)?.tx === 't1');
    expect(sent.at(-1)!.id).toBe(t1.messageId);
    const after = await system.service.deliveries(tenant, subscription.id, { limit: 10 });
    expect(after.items[0]).toMatchObject({ id: again.id, status: 'delivered' });
    await system.dispatcher.pass();
    expect((await metrics.registry.getSingleMetric('leakguard_webhook_queue_depth')!.get()).values[0]!.value).toBe(0);
  });

  it('seals secrets at rest; one that cannot be opened is a failed attempt, and nothing is sent unsigned', async () => {
    const sealed = anotherSystem({
      watchlist: { pageHits: async () => ({ items: [stored.at(-1)!.hit], hasMore: false, next: null }) },
      sealer: {
        seal: (secret) => `sealed:${Buffer.from(secret).toString('hex')}`,
        open: () => {
          throw new Error('no such key');
        },
      },
      sender: {
        send: async (url) => {
          sent.push({ url, tx: 'unsigned', id: '' });
          return { statusCode: 200, error: null };
        },
      },
    });
    const tenant = { kind: 'issuer' as const, id: 'i-sealed' };
    const { subscription, secret } = await sealed.service.create(tenant, {
      url: 'http://127.0.0.1:9/sealed',
      eventTypes: ['watchlist.hit'],
    });
    const row = await sql.query<{ secret: string }>('SELECT secret FROM webhook_subscriptions WHERE id = $1', [
      subscription.id,
    ]);
    expect(row.rows[0]!.secret).toBe(`sealed:${Buffer.from(secret).toString('hex')}`);
    stored.push(hit('sealed-1', Date.now() + 1));
    await new Promise((r) => setTimeout(r, 10));
    let log = await sealed.service.deliveries(tenant, subscription.id, { limit: 10 });
    for (let i = 0; i < 100 && (log.items[0]?.attempts.length ?? 0) === 0; i++) {
      await sealed.dispatcher.pass();
      log = await sealed.service.deliveries(tenant, subscription.id, { limit: 10 });
    }
    expect(log.items[0]!.attempts[0]).toMatchObject({
      statusCode: null,
      error: expect.stringContaining('the signing secret cannot be decrypted'),
    });
    expect(sent.filter((s) => s.url.endsWith('/sealed'))).toEqual([]);
  });

  it('seals a secret read under the previous data key again under the current one, so the next rotation keeps it', async () => {
    const key = (id: string) => ({ id, secret: randomBytes(32) });
    const [a, b] = [key('data-a'), key('data-b')];
    const systemWith = (keyring: DataKeyring, got: string[]) =>
      anotherSystem({
        watchlist: { pageHits: async () => ({ items: [stored.at(-1)!.hit], hasMore: false, next: null }) },
        sealer: secretSealer(new PersonalDataCipher(keyring)),
        sender: {
          send: async (_url, _body, headers) => {
            got.push(headers['webhook-signature'] ? 'signed' : 'unsigned');
            return { statusCode: 200, error: null };
          },
        },
      });
    const tenant = { kind: 'issuer' as const, id: 'i-rotating' };
    const before = systemWith({ primary: a }, []);
    const { subscription } = await before.service.create(tenant, {
      url: 'http://127.0.0.1:9/rotating',
      eventTypes: ['watchlist.hit'],
    });
    const storedSecret = async () =>
      (await sql.query<{ secret: string }>('SELECT secret FROM webhook_subscriptions WHERE id = $1', [subscription.id]))
        .rows[0]!.secret;
    expect(await storedSecret()).toMatch(/^pd1\.data-a\./);
    // Rotated: b seals, a still opens. The first claim seals the secret again under b.
    const rotated = systemWith({ primary: b, previous: a }, []);
    await rotated.dispatcher.pass();
    expect(await storedSecret()).toMatch(/^pd1\.data-b\./);
    // The next rotation drops a: the secret still opens, and a delivery is signed.
    const got: string[] = [];
    const after = systemWith({ primary: key('data-c'), previous: b }, got);
    stored.push(hit('rotated-1', Date.now() + 1));
    await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 50 && got.length === 0; i++) await after.dispatcher.pass();
    expect(got.length).toBeGreaterThan(0);
    expect(new Set(got)).toEqual(new Set(['signed']));
    const log = await after.service.deliveries(tenant, subscription.id, { limit: 10 });
    expect(log.items[0]!.attempts.at(-1)).toMatchObject({ statusCode: 200, error: null });
    await Promise.all([before.stop(), rotated.stop(), after.stop()]);
  });

  it("seals a rotated secret's predecessor apart, signs with both until its grace period ends, then drops it", async () => {
    const sealer = secretSealer(new PersonalDataCipher({ primary: { id: 'data-rot', secret: randomBytes(32) } }));
    const got: { body: string; headers: Record<string, string> }[] = [];
    const rotating = anotherSystem({
      watchlist: { pageHits: async () => ({ items: [stored.at(-1)!.hit], hasMore: false, next: null }) },
      sealer,
      sender: {
        send: async (_url, body, headers) => {
          got.push({ body, headers: { ...headers } });
          return { statusCode: 200, error: null };
        },
      },
    });
    const tenant = { kind: 'issuer' as const, id: 'i-secret-rotation' };
    const created = await rotating.service.create(tenant, {
      url: 'http://127.0.0.1:9/secret-rotation',
      eventTypes: ['watchlist.hit'],
    });
    const id = created.subscription.id;
    const row = async () =>
      (
        await sql.query<{ secret: string; previous_secret: string | null; previous_secret_until: Date | null }>(
          'SELECT secret, previous_secret, previous_secret_until FROM webhook_subscriptions WHERE id = $1',
          [id],
        )
      ).rows[0]!;
    const rotated = await rotating.service.rotateSecret(tenant, id, 1_000);
    expect(rotated.secret).not.toBe(created.secret);
    expect(rotated.subscription.previousSecretExpiresAt).not.toBeNull();
    // At rest: both sealed under the data key, the previous one bound apart (it cannot pass for the current one).
    const sealed = await row();
    expect(sealed.previous_secret).toMatch(/^pd1\.data-rot\./);
    expect(sealed.previous_secret).not.toContain(created.secret.slice('whsec_'.length, 20));
    expect(sealer.open(sealed.secret, `webhook-secret\u0000${id}`)).toBe(rotated.secret);
    expect(sealer.open(sealed.previous_secret!, `webhook-previous-secret\u0000${id}`)).toBe(created.secret);
    expect(() => sealer.open(sealed.previous_secret!, `webhook-secret\u0000${id}`)).toThrow();
    const deliver = async (tx: string) => {
      stored.push(hit(tx, Date.now() + 1));
      await new Promise((r) => setTimeout(r, 10));
      for (let i = 0; i < 100 && !got.some((g) => g.body.includes(`"${tx}"`)); i++) await rotating.dispatcher.pass();
      return got.find((g) => g.body.includes(`"${tx}"`))!;
    };
    const verify = (secret: string, g: { body: string; headers: Record<string, string> }) =>
      new Webhook(secret).verify(g.body, g.headers) as { data: { transactionId: string } };
    const during = await deliver('rotation-during');
    expect(during.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    for (const secret of [rotated.secret, created.secret])
      expect(verify(secret, during).data.transactionId).toBe('rotation-during');
    // The grace period over: the previous secret is dropped when the subscription is next served, and signs nothing.
    await new Promise((r) =>
      setTimeout(r, Date.parse(rotated.subscription.previousSecretExpiresAt!) - Date.now() + 50),
    );
    const after = await deliver('rotation-after');
    expect(after.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(verify(rotated.secret, after).data.transactionId).toBe('rotation-after');
    expect(() => verify(created.secret, after)).toThrow();
    expect(await row()).toMatchObject({ previous_secret: null, previous_secret_until: null });
    expect((await rotating.service.get(tenant, id)).previousSecretExpiresAt).toBeNull();
    // An idle subscription (nothing to send, never served): its expired previous secret goes at the prune.
    const merchant = { kind: 'merchant' as const, id: 'm-secret-rotation' };
    const idle = await rotating.service.create(merchant, {
      url: 'http://127.0.0.1:9/idle',
      eventTypes: ['case.decided'],
    });
    await rotating.service.rotateSecret(merchant, idle.subscription.id, 200);
    await new Promise((r) => setTimeout(r, 300));
    const pruning = anotherSystem({ sender: { send: async () => ({ statusCode: 200, error: null }) } });
    await pruning.dispatcher.pass();
    const idleRow = await sql.query<{ previous_secret: string | null }>(
      'SELECT previous_secret FROM webhook_subscriptions WHERE id = $1',
      [idle.subscription.id],
    );
    expect(idleRow.rows[0]!.previous_secret).toBeNull();
    // The grace period is bounded: 0 to 7 days, whole milliseconds.
    for (const graceMs of [-1, 7 * 86_400_000 + 1, 0.5])
      await expect(rotating.service.rotateSecret(tenant, id, graceMs)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    await expect(
      rotating.service.rotateSecret({ kind: 'issuer', id: 'another-issuer' }, id, 1_000),
    ).rejects.toMatchObject({ code: 'WEBHOOK_NOT_FOUND' });
    expect(sealer.open((await row()).secret, `webhook-secret\u0000${id}`)).toBe(rotated.secret);
    await Promise.all([rotating.stop(), pruning.stop()]);
  });

  it('seals a secret again after a rotation that kept the key id (the old key moved to previous without it)', async () => {
    const [a, b, c] = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const systemWith = (keyring: DataKeyring, got: string[]) =>
      anotherSystem({
        watchlist: { pageHits: async () => ({ items: [stored.at(-1)!.hit], hasMore: false, next: null }) },
        sealer: secretSealer(new PersonalDataCipher(keyring)),
        sender: {
          send: async (_url, _body, headers) => {
            got.push(headers['webhook-signature'] ? 'signed' : 'unsigned');
            return { statusCode: 200, error: null };
          },
        },
      });
    const tenant = { kind: 'issuer' as const, id: 'i-same-id' };
    const before = systemWith({ primary: { id: 'pd1key', secret: a } }, []);
    const { subscription } = await before.service.create(tenant, {
      url: 'http://127.0.0.1:9/same-id',
      eventTypes: ['watchlist.hit'],
    });
    const storedSecret = async () =>
      (await sql.query<{ secret: string }>('SELECT secret FROM webhook_subscriptions WHERE id = $1', [subscription.id]))
        .rows[0]!.secret;
    const first = await storedSecret();
    // LEAKGUARD_DATA_KEY_ID kept for the new key b; a moved to LEAKGUARD_PREVIOUS_DATA_KEY without its _ID.
    const rotated = systemWith({ primary: { id: 'pd1key', secret: b }, previous: { id: 'a1b2c3d4', secret: a } }, []);
    await rotated.dispatcher.pass();
    const resealed = await storedSecret();
    expect(resealed).not.toBe(first);
    expect(resealed).toMatch(/^pd1\.pd1key\./);
    // a dropped: what b sealed still opens, and deliveries are signed.
    const got: string[] = [];
    const after = systemWith({ primary: { id: 'pd2key', secret: c }, previous: { id: 'pd1key', secret: b } }, got);
    stored.push(hit('same-id-1', Date.now() + 1));
    await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 50 && got.length === 0; i++) await after.dispatcher.pass();
    expect(new Set(got)).toEqual(new Set(['signed']));
    const log = await after.service.deliveries(tenant, subscription.id, { limit: 10 });
    expect(log.items[0]!.attempts.at(-1)).toMatchObject({ statusCode: 200, error: null });
    await Promise.all([before.stop(), rotated.stop(), after.stop()]);
  });

  it("sends an issuer its own events' ids in a hit only", async () => {
    const bodies: { eventIds: string[] }[] = [];
    const own = anotherSystem({
      watchlist: {
        // ce_1 is this issuer's; ce_2, which listed the same card, another issuer's.
        listEvents: async (issuerId) => (issuerId === 'i-own' ? ([{ seq: 1, issuerId: 'i-own' }] as never) : []),
        pageHits: async () => ({
          items: [{ ...hit('two-issuers', Date.now() + 1).hit, eventIds: ['ce_1', 'ce_2'] }],
          hasMore: false,
          next: null,
        }),
      },
      sender: {
        send: async (_url, body) => {
          bodies.push((JSON.parse(body) as { data: { eventIds: string[] } }).data);
          return { statusCode: 200, error: null };
        },
      },
    });
    await own.service.create(
      { kind: 'issuer', id: 'i-own' },
      { url: 'http://127.0.0.1:9/own', eventTypes: ['watchlist.hit'] },
    );
    await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 50 && bodies.length === 0; i++) await own.dispatcher.pass();
    expect(bodies.map((b) => b.eventIds)).toEqual([['ce_1']]);
    await own.stop();
  });

  it("feeds a suspected event's state once, also after the delivery log has pruned its row", async () => {
    const DAY = 86_400_000;
    const updatedAt = new Date(Date.now() - 40 * DAY).toISOString();
    const suspected = {
      id: 'ce_77',
      seq: 77,
      issuerId: 'leakguard',
      status: 'open',
      confidence: 'suspected',
      updatedAt,
      createdAt: updatedAt,
      discoveredAt: updatedAt,
      evidence: { merchantId: 'breached-shop', exposedByBin: { '411111': 12 } },
    };
    const states: string[] = [];
    const cpp = anotherSystem({
      watchlist: {
        getBinRanges: async () => [{ from: '411111', to: '411111' }],
        listEvents: async () => [suspected] as never,
      },
      sender: {
        send: async (_url, body) => {
          const data = (JSON.parse(body) as { data: { eventId: string; status: string } }).data;
          states.push(`${data.eventId}:${data.status}`);
          return { statusCode: 200, error: null };
        },
      },
    });
    const tenant = { kind: 'issuer' as const, id: 'i-cpp' };
    const { subscription } = await cpp.service.create(tenant, {
      url: 'http://127.0.0.1:9/cpp',
      eventTypes: ['compromise.suspected'],
    });
    const until = async (done: () => boolean) => {
      for (let i = 0; i < 50 && !done(); i++) await cpp.dispatcher.pass();
    };
    // A new subscription gets the current state, however old.
    await until(() => states.length === 1);
    expect(states).toEqual(['ce_77:open']);
    // Thirty-one days on: the row is pruned (as the log's retention does), the subscription is that old.
    await sql.query(
      `UPDATE webhook_deliveries SET completed_at = now() - interval '31 days' WHERE subscription_id = $1`,
      [subscription.id],
    );
    await sql.query(`UPDATE webhook_subscriptions SET hits_since_ms = hits_since_ms - $2 WHERE id = $1`, [
      subscription.id,
      31 * DAY,
    ]);
    expect(await cpp.dispatcher['o'].store.prune(new Date(Date.now() - 30 * DAY))).toBe(1);
    for (let i = 0; i < 5; i++) await cpp.dispatcher.pass();
    expect(states).toEqual(['ce_77:open']);
    // Scanned again today (its evidence rewritten, updatedAt now): the same state, not sent again.
    suspected.updatedAt = new Date().toISOString();
    for (let i = 0; i < 5; i++) await cpp.dispatcher.pass();
    expect(states).toEqual(['ce_77:open']);
    // A new state (dismissed today) is fed.
    Object.assign(suspected, { status: 'retracted', updatedAt: new Date().toISOString() });
    await until(() => states.length === 2);
    expect(states).toEqual(['ce_77:open', 'ce_77:retracted']);
    await cpp.stop();
  });

  it('sends an old subscription a suspected state that came to concern its issuer only now, once', async () => {
    const DAY = 86_400_000;
    const now = Date.now();
    // Open for 35 days; a scan today added a BIN of the issuer's ranges to its evidence.
    const longOpen = {
      id: 'ce_7',
      seq: 7,
      issuerId: 'leakguard',
      status: 'open',
      confidence: 'suspected',
      createdAt: new Date(now - 35 * DAY).toISOString(),
      updatedAt: new Date(now - 60_000).toISOString(),
      exposureStart: '2026-10-01T00:00:00Z',
      exposureEnd: '2026-11-01T00:00:00Z',
      discoveredAt: new Date(now - 35 * DAY).toISOString(),
      evidence: { merchantId: 'shop-x', exposedByBin: { '411111': 3 } as Record<string, number> },
    };
    const got: string[] = [];
    const cpp = anotherSystem({
      watchlist: {
        getBinRanges: async () => [{ from: '411111', to: '411111' }],
        listEvents: async (issuer) => (issuer === 'leakguard' ? [longOpen] : []) as never,
      },
      sender: {
        send: async (url, body) => {
          if (url.includes('/late-'))
            got.push(`${url.slice(url.lastIndexOf('/') + 1)} ${JSON.parse(body).data.eventId}`);
          return { statusCode: 200, error: null };
        },
      },
    });
    const tenant = { kind: 'issuer' as const, id: 'i-late' };
    const aged = async (path: string) => {
      const { subscription } = await cpp.service.create(tenant, {
        url: `http://127.0.0.1:9/${path}`,
        eventTypes: ['compromise.suspected'],
      });
      await sql.query(
        `UPDATE webhook_subscriptions SET hits_since_ms = $2::bigint, hits_cursor_ms = $2::bigint,
           created_at = to_timestamp($2::bigint / 1000.0) WHERE id = $1`,
        [subscription.id, now - 40 * DAY],
      );
      return subscription;
    };
    await aged('late-a');
    // Made before the record of sent states existed (migration 019): what its log dropped before
    // then counts as sent, as before (an upgrade does not send every old state to it again).
    const upgraded = await aged('late-old');
    await sql.query(`UPDATE webhook_subscriptions SET suspected_fed_since_ms = $2::bigint WHERE id = $1`, [
      upgraded.id,
      now,
    ]);
    await cpp.service.create(tenant, { url: 'http://127.0.0.1:9/late-new', eventTypes: ['compromise.suspected'] });
    for (let i = 0; i < 50 && got.length < 2; i++) await cpp.dispatcher.pass();
    for (let i = 0; i < 5; i++) await cpp.dispatcher.pass();
    expect(got.sort()).toEqual(['late-a ce_7', 'late-new ce_7']);
    // Its log pruned, scanned again: the same state is not sent again.
    await sql.query(`UPDATE webhook_deliveries SET completed_at = now() - interval '31 days' WHERE event_key = $1`, [
      'cpp:ce_7:open:suspected',
    ]);
    await cpp.dispatcher['o'].store.prune(new Date(now - 30 * DAY));
    longOpen.updatedAt = new Date().toISOString();
    longOpen.evidence.exposedByBin['411111'] = 5;
    for (let i = 0; i < 5; i++) await cpp.dispatcher.pass();
    expect(got).toHaveLength(2);
    await cpp.stop();
  });

  it("delivers another issuer's new hit within moments while a slow receiver works through its queue", async () => {
    const byIssuer = new Map<string, { ms: number; hit: StoredHit }[]>();
    const sentAt = new Map<string, number>();
    const hol = anotherSystem({
      watchlist: {
        pageHits: async (issuer, q) => ({
          items: (byIssuer.get(issuer) ?? [])
            .filter((s) => s.ms >= (q.from ?? 0) && s.ms <= (q.to ?? Infinity))
            .reverse()
            .map((s) => s.hit),
          hasMore: false,
          next: null,
        }),
      },
      sender: {
        send: async (url, body) => {
          if (!url.includes('/hol-')) return { statusCode: 200, error: null };
          sentAt.set((JSON.parse(body) as { data: { transactionId: string } }).data.transactionId, Date.now());
          // The slow receiver answers 200 after 0.3 s, well within the timeout.
          if (url.endsWith('/hol-slow')) await new Promise((r) => setTimeout(r, 300));
          return { statusCode: 200, error: null };
        },
      },
    });
    for (const bank of ['hol-slow', 'hol-fast'])
      await hol.service.create(
        { kind: 'issuer', id: bank },
        { url: `http://127.0.0.1:9/${bank}`, eventTypes: ['watchlist.hit'] },
      );
    const now = Date.now();
    byIssuer.set(
      'hol-slow',
      Array.from({ length: 30 }, (_, i) => hit(`slow-${i}`, now + 1 + i)),
    );
    await new Promise((r) => setTimeout(r, 50));
    hol.dispatcher.start();
    try {
      await until('the slow queue under way', () => sentAt.has('slow-1'));
      const recorded = Date.now();
      byIssuer.set('hol-fast', [hit('fast-1', recorded)]);
      const delivered = await until('the other issuer delivered', () => sentAt.get('fast-1'), 15_000);
      // Before: it waited for the slow subscription's whole queue (30 × 0.3 s) to go.
      expect(delivered - recorded).toBeLessThan(2_000);
      expect([...sentAt.keys()].filter((tx) => tx.startsWith('slow-')).length).toBeLessThan(30);
    } finally {
      await hol.stop();
    }
  });

  it('names the suspected merchant to the issuer only once an analyst confirmed the event; its window in whole days until then', async () => {
    const updatedAt = new Date().toISOString();
    // The window's ends are two fraudulent cards' visits there, to the millisecond: an issuer would
    // find the one authorisation at that instant in its records, and with it the merchant.
    const [exposureStart, exposureEnd] = ['2026-10-03T09:12:34.567Z', '2026-10-05T17:45:01.250Z'];
    const suspected = {
      id: 'ce_88',
      seq: 88,
      issuerId: 'leakguard',
      externalId: 'cpp:unreviewed-shop',
      description:
        '12 cards that later turned fraudulent were used at merchant unreviewed-shop before their first fraud',
      status: 'open',
      confidence: 'suspected',
      updatedAt,
      createdAt: updatedAt,
      discoveredAt: updatedAt,
      exposureStart,
      exposureEnd,
      evidence: { merchantId: 'unreviewed-shop', exposedByBin: { '411111': 12 } } as Record<string, unknown>,
    };
    const bodies: string[] = [];
    const cpp = anotherSystem({
      watchlist: {
        getBinRanges: async () => [{ from: '411111', to: '411111' }],
        listEvents: async () => [suspected] as never,
      },
      sender: {
        // The database's other subscriptions are served by this worker too: this test's own only.
        send: async (url, body) => {
          if (url.endsWith('/disclosure')) bodies.push(body);
          return { statusCode: 200, error: null };
        },
      },
    });
    await cpp.service.create(
      { kind: 'issuer', id: 'i-disclosure' },
      { url: 'http://127.0.0.1:9/disclosure', eventTypes: ['compromise.suspected'] },
    );
    const until = async (n: number) => {
      for (let i = 0; i < 50 && bodies.length < n; i++) await cpp.dispatcher.pass();
    };
    // Unreviewed: the event, its window, the issuer's exposed cards and its state; no merchant anywhere.
    await until(1);
    const unreviewed = JSON.parse(bodies[0]!) as { type: string; data: Record<string, unknown> };
    expect(unreviewed.type).toBe('compromise.suspected');
    expect(unreviewed.data).toEqual({
      eventId: 'ce_88',
      status: 'open',
      confidence: 'suspected',
      exposureStart: '2026-10-03T00:00:00.000Z',
      exposureEnd: '2026-10-06T00:00:00.000Z',
      discoveredAt: updatedAt,
      exposedCards: 12,
    });
    expect(bodies[0]).not.toContain('unreviewed-shop');
    // Confirmed by an analyst (the console's review): a new state, sent with the merchant.
    const at = new Date().toISOString();
    Object.assign(suspected, {
      confidence: 'confirmed',
      updatedAt: at,
      evidence: { ...suspected.evidence, review: { decision: 'confirmed', by: 'lead-1', at } },
    });
    await until(2);
    expect((JSON.parse(bodies[1]!) as { data: Record<string, unknown> }).data).toMatchObject({
      eventId: 'ce_88',
      merchantId: 'unreviewed-shop',
      confidence: 'confirmed',
      exposureStart,
      exposureEnd,
      review: { decision: 'confirmed', at },
    });
    await cpp.stop();
  });

  it('holds a tenant to LEAKGUARD_WEBHOOK_MAX_PER_TENANT subscriptions, also when created at once; deleting one makes room', async () => {
    const tenant = { kind: 'merchant' as const, id: 'm-capped' };
    const create = () =>
      system.service.create(tenant, { url: 'http://127.0.0.1:9/capped', eventTypes: ['case.decided'] });
    const results = await Promise.allSettled(Array.from({ length: 6 }, create));
    const made = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
    expect(made).toHaveLength(config.LEAKGUARD_WEBHOOK_MAX_PER_TENANT);
    expect(refused.map((e: { code: string; status: number }) => [e.code, e.status])).toEqual(
      Array.from({ length: 3 }, () => ['WEBHOOK_LIMIT_REACHED', 409]),
    );
    // Another tenant is not held by this one's subscriptions.
    await expect(
      system.service.create(
        { kind: 'merchant', id: 'm-other' },
        { url: 'http://127.0.0.1:9/o', eventTypes: ['case.decided'] },
      ),
    ).resolves.toBeDefined();
    const first = (made[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof create>>>).value.subscription;
    await system.service.delete(tenant, first.id);
    await expect(create()).resolves.toBeDefined();
    await expect(create()).rejects.toMatchObject({ code: 'WEBHOOK_LIMIT_REACHED' });
  });

  it('serves a subscription while its creating key is live, disables it for good once revoked, holds it while the key store lacks it', async () => {
    const tenant = { kind: 'issuer' as const, id: 'i-keys' };
    const record = (id: string): ApiKeyRecord => ({
      id,
      hash: `hash-${id}`,
      role: 'issuer',
      issuerId: tenant.id,
      createdAt: new Date().toISOString(),
    });
    const [live, leaked, missing] = ['key_00000000000a', 'key_00000000000b', 'key_00000000000c'];
    const records = [record(live), record(leaked)];
    let storeDown = true;
    const got: { url: string; tx: string }[] = [];
    const keyed = anotherSystem({
      apiKeys: {
        list: async () => {
          if (storeDown) throw new Error('key store down');
          return records.map((r) => ({ ...r }));
        },
      },
      watchlist: {
        pageHits: async (_issuer, q) => ({
          items: stored
            .filter((s) => s.ms >= (q.from ?? 0) && s.ms <= (q.to ?? Infinity))
            .reverse()
            .map((s) => s.hit),
          hasMore: false,
          next: null,
        }),
      },
      sender: {
        send: async (url, body): Promise<SendResult> => {
          got.push({ url, tx: (JSON.parse(body) as { data: { transactionId: string } }).data.transactionId });
          return { statusCode: 200, error: null };
        },
      },
    });
    const subscribe = async (name: string, keyId: string) =>
      (
        await keyed.service.create(
          tenant,
          { url: `http://127.0.0.1:9/keys-${name}`, eventTypes: ['watchlist.hit'] },
          { keyId },
        )
      ).subscription;
    const [liveSub, leakedSub, missingSub] = [
      await subscribe('live', live),
      await subscribe('leaked', leaked),
      await subscribe('missing', missing),
    ];
    expect([liveSub.createdByKeyId, leakedSub.createdByKeyId, missingSub.createdByKeyId]).toEqual([
      live,
      leaked,
      missing,
    ]);
    const txsAt = (name: string) => got.filter((g) => g.url.endsWith(`/keys-${name}`)).map((g) => g.tx);
    const keyedPasses = async (done: () => boolean, max = 200) => {
      for (let i = 0; i < max && !done(); i++) {
        await keyed.dispatcher.pass();
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await new Promise((r) => setTimeout(r, 5));
    stored.push(hit('k1', Date.now()));
    // The key store never answered: nothing is fed or sent.
    await keyedPasses(() => false, 5);
    expect([txsAt('live'), txsAt('leaked'), txsAt('missing')]).toEqual([[], [], []]);

    storeDown = false;
    await keyedPasses(() => txsAt('live').length > 0 && txsAt('leaked').length > 0);
    await keyedPasses(() => false, 5);
    expect([txsAt('live'), txsAt('leaked'), txsAt('missing')]).toEqual([['k1'], ['k1'], []]);
    // Held, shown so, not disabled for good.
    expect((await keyed.service.get(tenant, missingSub.id)).disabledReason).toBe(CREATING_KEY_UNKNOWN);

    records[1] = { ...records[1]!, revokedAt: new Date().toISOString() };
    // Shown disabled at once, before any pass.
    expect((await keyed.service.get(tenant, leakedSub.id)).disabledReason).toBe(CREATING_KEY_REVOKED);
    stored.push(hit('k2', Date.now()));
    await keyedPasses(() => txsAt('live').length > 1);
    await keyedPasses(() => false, 5);
    expect([txsAt('live'), txsAt('leaked')]).toEqual([['k1', 'k2'], ['k1']]);
    const row = async (id: string) =>
      (
        await sql.query<{ disabled_reason: string | null }>(
          'SELECT disabled_reason FROM webhook_subscriptions WHERE id = $1',
          [id],
        )
      ).rows[0]!.disabled_reason;
    expect([await row(liveSub.id), await row(leakedSub.id), await row(missingSub.id)]).toEqual([
      null,
      CREATING_KEY_REVOKED,
      null,
    ]);
    await expect(keyed.service.resend(tenant, leakedSub.id, 'dlv_0000000000000000000000')).rejects.toMatchObject({
      code: 'WEBHOOK_DISABLED',
    });

    // The key store down again: the last answer read stands.
    storeDown = true;
    stored.push(hit('k3', Date.now()));
    await keyedPasses(() => txsAt('live').length > 2);
    await keyedPasses(() => false, 5);
    expect([txsAt('live'), txsAt('leaked'), txsAt('missing')]).toEqual([['k1', 'k2', 'k3'], ['k1'], []]);

    // The missing key back in the store: its subscription is fed what it was held from, in order.
    storeDown = false;
    records.push(record(missing));
    await keyedPasses(() => txsAt('missing').length > 2);
    expect(txsAt('missing')).toEqual(['k1', 'k2', 'k3']);
    expect((await keyed.service.get(tenant, missingSub.id)).disabledReason).toBeNull();
    expect(txsAt('leaked')).toEqual(['k1']);
    await keyed.stop();
  });
});
