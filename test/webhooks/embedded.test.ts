// The embedded path (PGlite outbox, in-memory hit store with its journal): hits and decisions reach
// real receivers; without LEAKGUARD_WEBHOOK_ALLOW_PRIVATE, private, loopback and link-local
// receivers are refused when subscribing (422) and again at delivery, after resolution; and the
// retry policy's schedule with the defaults spans at least 24 hours.
import { readFileSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpWebhookSender } from '../../services/adapters/webhooks/http-sender.ts';
import { configSchema } from '../../services/config.ts';
import { afterFailure, backoffDelay, schedule } from '../../services/webhooks/retry.ts';
import { bearer, buildTestApp, type TestApp } from '../support/app.ts';
import {
  expectHitOnlyForEightDigitHolder,
  expectRevokedKeyStopsItsSubscriptions,
  listCards,
  newCard,
  Receiver,
  scoreRequest,
  until,
  WEBHOOK_ENV,
  type Call,
} from './support.ts';
import { createApiKey } from '../../services/auth/api-keys.ts';

let t: TestApp;
let closed: TestApp;
let r: Receiver;
const callOn =
  (app: TestApp): Call =>
  async (method, url, key, body, contentType) => {
    const res = await app.app.inject({
      method: method as 'GET',
      url,
      headers: { ...bearer(key), ...(contentType ? { 'content-type': contentType } : {}) },
      ...(body === undefined ? {} : { payload: body as string }),
    });
    return { status: res.statusCode, json: () => res.json() };
  };

beforeAll(async () => {
  [t, closed, r] = await Promise.all([
    // Key lookups not cached: a revocation applies at once (a subscription made with the key included).
    buildTestApp({ ...WEBHOOK_ENV, LEAKGUARD_API_KEY_CACHE_MS: '0' }, { cases: true }),
    buildTestApp({}, { cases: true }),
    Receiver.start(),
  ]);
}, 90_000);
afterAll(async () => {
  await Promise.all([t?.close(), closed?.close(), r?.close()]);
});

describe('webhooks on the embedded database', () => {
  it('deliver a hit and a decision, signed, in order, without the card number', async () => {
    const call = callOn(t);
    expect(t.runtime.cases!.sql.driver).toBe('pglite');
    const issuerSub = (
      await call('POST', '/v1/webhooks', t.keys.issuer, { url: r.url, eventTypes: ['watchlist.hit'] })
    ).json();
    const merchantSub = (
      await call('POST', '/v1/webhooks', t.keys.merchant, { url: `${r.url}?merchant`, eventTypes: ['case.decided'] })
    ).json();
    const pans = [newCard(), newCard()];
    await listCards(call, t.keys, 'i1', pans);
    for (const [i, pan] of pans.entries())
      expect((await call('POST', '/v1/score', t.keys.merchant, scoreRequest(`emb-${i}`, pan))).status).toBe(200);
    const kase = await until('the case', () => t.runtime.cases!.store.getByTransaction('m1', 'emb-1'));
    await t.runtime.cases!.store.decide(kase.id, 'mark_legitimate', 'analyst-2');
    await until('three deliveries', () => r.requests.length >= 3);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const hits = r.requests.filter((q) => q.headers['webhook-id'] && !String(q.body).includes('case.decided'));
    expect(hits.map((q) => q.verified(issuerSub.secret).data.transactionId)).toEqual(['emb-0', 'emb-1']);
    // The hit's recording time, as GET /v1/issuer/hits shows (and filters) it, besides the transaction's own.
    const listed = (await call('GET', '/v1/issuer/hits', t.keys.issuer)).json().hits as { recordedAt: string }[];
    for (const q of hits) {
      const { transactionId, recordedAt, at } = q.verified(issuerSub.secret).data;
      expect(recordedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(at).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(listed).toContainEqual(expect.objectContaining({ transactionId, recordedAt }));
    }
    const decision = r.requests.find((q) => q.body.includes('case.decided'))!.verified(merchantSub.secret);
    expect(decision.data).toMatchObject({ caseId: kase.id, transactionId: 'emb-1', decision: 'legitimate' });
    expect(r.requests).toHaveLength(3);
    for (const q of r.requests) for (const pan of pans) expect(q.body).not.toContain(pan);
  });

  it("deliver a hit on a card of an issuer's 8-digit range to that issuer, not to another issuer of the same 6-digit BIN", async () => {
    const receivers: Receiver[] = [];
    try {
      await expectHitOnlyForEightDigitHolder(
        callOn(t),
        t.keys,
        async (issuerId) => (await createApiKey(t.runtime.apiKeys, { role: 'issuer', issuerId })).key,
        async () => {
          const own = await Receiver.start();
          receivers.push(own);
          return own;
        },
        'embedded',
      );
    } finally {
      await Promise.all(receivers.map((own) => own.close()));
    }
  });

  it("stops a revoked key's subscriptions (file key store), keeps another key's, and audits who subscribed and who deleted", async () => {
    const receivers: Receiver[] = [];
    try {
      const made = await expectRevokedKeyStopsItsSubscriptions(
        callOn(t),
        t.keys,
        async (issuerId, label) => {
          const { key, record } = await createApiKey(t.runtime.apiKeys, { role: 'issuer', issuerId, label });
          return { key, id: record.id };
        },
        async (keyId) => void (await t.runtime.apiKeys.revoke(keyId, new Date().toISOString(), 'test')),
        async () => {
          const own = await Receiver.start();
          receivers.push(own);
          return own;
        },
        'embedded',
      );
      const audit = t.runtime.cases!.audit;
      const entries = [
        ...(await audit.list({ limit: 100, action: 'webhook_create' })),
        ...(await audit.list({ limit: 100, action: 'webhook_delete' })),
      ].filter((e) => [made.leakedSub, made.liveSub].includes(e.target.slice('webhook:'.length)));
      expect(entries.map((e) => [e.action, e.actor, e.target]).sort()).toEqual(
        [
          ['webhook_create', `api-key:${made.leakedKeyId}`, `webhook:${made.leakedSub}`],
          ['webhook_create', `api-key:${made.liveKeyId}`, `webhook:${made.liveSub}`],
          // The tenant's other key deleted the leaked key's subscription.
          ['webhook_delete', `api-key:${made.liveKeyId}`, `webhook:${made.leakedSub}`],
        ].sort(),
      );
      expect(entries.find((e) => e.target === `webhook:${made.leakedSub}`)!.detail).toMatchObject({
        tenantKind: 'issuer',
        tenantId: 'leak-embedded',
        receiver: new URL(receivers[0]!.url).origin,
        eventTypes: ['watchlist.hit'],
        createdByKeyId: made.leakedKeyId,
        keyLabel: 'leaked',
      });
    } finally {
      await Promise.all(receivers.map((own) => own.close()));
    }
  });

  it('refuses private, loopback and link-local receivers without LEAKGUARD_WEBHOOK_ALLOW_PRIVATE', async () => {
    const call = callOn(closed);
    for (const url of [
      r.url,
      'http://localhost:8080/h',
      'http://10.1.2.3/h',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]:8080/h',
      'http://[::ffff:127.0.0.1]/h',
    ]) {
      const res = await call('POST', '/v1/webhooks', closed.keys.issuer, { url, eventTypes: ['watchlist.hit'] });
      expect(res.status, url).toBe(422);
      expect(res.json()).toMatchObject({ code: 'WEBHOOK_URL_REFUSED', details: [{ path: 'url' }] });
    }
    expect((await call('GET', '/v1/webhooks', closed.keys.issuer)).json().webhooks).toEqual([]);
  });

  it('refuses a reserved example name, as docs/webhooks.md says: its subscription example shows none answered 201', async () => {
    const res = await callOn(t)('POST', '/v1/webhooks', t.keys.issuer, {
      url: 'https://hooks.bank.example/leakguard',
      eventTypes: ['watchlist.hit'],
    });
    expect([res.status, res.json().details]).toEqual([
      422,
      [{ path: 'url', message: expect.stringContaining('host hooks.bank.example does not resolve') }],
    ]);
    // The documented subscription answers 201 only for a URL the reader supplies, never for a name that cannot resolve.
    const doc = readFileSync(new URL('../../docs/webhooks.md', import.meta.url), 'utf8');
    const created = doc.split('\n').filter((line) => line.startsWith('# 201'));
    expect(created.length).toBeGreaterThan(0);
    for (const line of created) expect(line).not.toMatch(/\.(example|test|invalid)\b/);
    expect(doc).toContain('host hooks.bank.example does not resolve');
  });

  it('checks the address again at each delivery, after resolution, and pins the connection to it', async () => {
    const before = r.requests.length;
    const guarded = new HttpWebhookSender({ allowPrivate: false, timeoutMs: 1_000 });
    expect(await guarded.send(r.url, '{}', {})).toEqual({
      statusCode: null,
      error: 'refused: 127.0.0.1 is not a public address',
    });
    // A public-looking name that resolves (now) to a private address: the delivery log (which the
    // tenant reads) does not say which, the operators' hook does.
    const refused: string[] = [];
    const rebinding = new HttpWebhookSender({
      allowPrivate: false,
      timeoutMs: 1_000,
      resolve: async () => ['93.184.216.34', '10.0.0.7'],
      onRefused: (url, address) => refused.push(`${url} ${address}`),
    });
    const rebound = await rebinding.send('http://hooks.example.com/h', '{}', {});
    expect(rebound.error).toBe('refused: host hooks.example.com resolves to an address that is not public');
    expect(refused).toEqual(['http://hooks.example.com/h 10.0.0.7']);
    // With the switch, the name is connected to the address that was checked, whatever DNS says later.
    const allowed = new HttpWebhookSender({ allowPrivate: true, timeoutMs: 1_000, resolve: async () => ['127.0.0.1'] });
    expect(await allowed.send(`http://receiver.invalid:${r.port}/h`, '{}', {})).toEqual({
      statusCode: 204,
      error: null,
    });
    expect(r.requests.length).toBe(before + 1);
  });

  it('tries every checked address in turn, and counts a slow resolution in the timeout', async () => {
    const before = r.requests.length;
    // Nothing listens on the first address (IPv6 loopback): the second one answers.
    const twoAddresses = new HttpWebhookSender({
      allowPrivate: true,
      timeoutMs: 2_000,
      resolve: async () => ['::1', '127.0.0.1'],
    });
    expect(await twoAddresses.send(`http://receiver.invalid:${r.port}/h`, '{}', {})).toEqual({
      statusCode: 204,
      error: null,
    });
    expect(r.requests.length).toBe(before + 1);
    const slowResolver = new HttpWebhookSender({
      allowPrivate: true,
      timeoutMs: 300,
      resolve: () => new Promise((resolve) => setTimeout(() => resolve(['127.0.0.1']), 2_000)),
    });
    const started = performance.now();
    expect(await slowResolver.send(`http://receiver.invalid:${r.port}/h`, '{}', {})).toEqual({
      statusCode: null,
      error: 'timed out after 300 ms',
    });
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(r.requests.length).toBe(before + 1);
  });
});

describe('the retry policy', () => {
  const defaults = {
    baseMs: configSchema.shape.LEAKGUARD_WEBHOOK_RETRY_BASE_MS.parse(undefined),
    maxDelayMs: configSchema.shape.LEAKGUARD_WEBHOOK_RETRY_MAX_DELAY_MS.parse(undefined),
    retryForMs: configSchema.shape.LEAKGUARD_WEBHOOK_RETRY_FOR_MS.parse(undefined),
  };

  it('backs off exponentially from 5 s to an hour and retries for at least 24 hours', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(defaults, n))).toEqual([5_000, 10_000, 20_000, 40_000]);
    expect(backoffDelay(defaults, 30)).toBe(3_600_000);
    const s = schedule(defaults);
    expect(s.totalMs).toBeGreaterThanOrEqual(24 * 3_600_000);
    expect(s.delaysMs.length).toBeGreaterThan(20);
    for (let i = 1; i < s.delaysMs.length - 1; i++) expect(s.delaysMs[i]).toBeGreaterThanOrEqual(s.delaysMs[i - 1]!);
  });

  it('jitters a delay down by at most 20 %, ends the last wait at the window, then gives up', () => {
    expect(afterFailure(defaults, 1, 0, () => 1)).toEqual({ status: 'pending', retryInMs: 4_000 });
    expect(afterFailure(defaults, 40, defaults.retryForMs - 1_000, () => 0)).toEqual({
      status: 'pending',
      retryInMs: 1_000,
    });
    expect(afterFailure(defaults, 41, defaults.retryForMs, () => 0)).toEqual({ status: 'failed' });
  });
});

describe('rotating a signing secret (embedded database)', () => {
  const receivers: Receiver[] = [];
  afterAll(() => Promise.all(receivers.map((q) => q.close())));
  const call: Call = (...args) => callOn(t)(...args);
  const receiver = async () => {
    const q = await Receiver.start();
    receivers.push(q);
    return q;
  };
  const subscribe = async (key: string, url: string, eventTypes: string[]) => {
    const res = await call('POST', '/v1/webhooks', key, { url, eventTypes });
    expect(res.status).toBe(201);
    return res.json() as { id: string; secret: string; url: string; eventTypes: string[] };
  };
  let txSerial = 0;
  const scoreListed = async () => {
    const pan = newCard();
    await listCards(call, t.keys, 'i1', [pan]);
    const transactionId = `emb-rotation-${++txSerial}`;
    expect((await call('POST', '/v1/score', t.keys.merchant, scoreRequest(transactionId, pan))).status).toBe(200);
    return { pan, transactionId };
  };
  const deliveries = async (key: string, id: string): Promise<{ status: string }[]> => {
    const res = await call('GET', `/v1/webhooks/${id}/deliveries?limit=200`, key);
    expect(res.status).toBe(200);
    return res.json().deliveries as { status: string }[];
  };

  it("rotates a secret: the new one answered once, the previous one sealed and accepted until its grace period ends; another tenant's is not found", async () => {
    const r = await receiver();
    const sub = await subscribe(t.keys.issuer, r.url, ['watchlist.hit']);
    const rotate = (key: string, body?: unknown, id = sub.id) =>
      call('POST', `/v1/webhooks/${id}/secret/rotate`, key, body);
    const stored = async () =>
      (
        await t.runtime.cases!.sql.query<{ secret: string; previous_secret: string | null }>(
          'SELECT secret, previous_secret FROM webhook_subscriptions WHERE id = $1',
          [sub.id],
        )
      ).rows[0]!;
    const before = Date.now();
    // No body: the default grace period, 24 hours.
    const res = await rotate(t.keys.issuer);
    expect(res.status).toBe(200);
    const rotated = res.json() as { secret: string; previousSecretExpiresAt: string };
    expect(rotated).toEqual({
      id: sub.id,
      url: r.url,
      eventTypes: ['watchlist.hit'],
      description: '',
      createdAt: expect.any(String),
      previousSecretExpiresAt: expect.any(String),
      createdByKeyId: expect.stringMatching(/^key_[0-9a-f]{12}$/),
      disabledReason: null,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]+=*$/),
    });
    expect(rotated.secret).not.toBe(sub.secret);
    const grace = Date.parse(rotated.previousSecretExpiresAt) - before;
    expect(grace).toBeGreaterThan(86_400_000 - 60_000);
    expect(grace).toBeLessThan(86_400_000 + 60_000);
    // Read back: until when the previous secret is accepted, never either secret.
    const got = (await call('GET', `/v1/webhooks/${sub.id}`, t.keys.issuer)).json();
    expect(got.previousSecretExpiresAt).toBe(rotated.previousSecretExpiresAt);
    const listed = (await call('GET', '/v1/webhooks', t.keys.issuer)).json().webhooks as { id: string }[];
    expect(listed.find((w) => w.id === sub.id)).toMatchObject({
      previousSecretExpiresAt: rotated.previousSecretExpiresAt,
    });
    expect(JSON.stringify([got, listed])).not.toContain('whsec_');
    // At rest both are sealed under the data key.
    const sealed = await stored();
    for (const [value, secret] of [
      [sealed.secret, rotated.secret],
      [sealed.previous_secret!, sub.secret],
    ] as const) {
      expect(value).not.toMatch(/^whsec_/);
      expect(value).not.toContain(secret.slice('whsec_'.length, 20));
    }
    // Another tenant: not found, and nothing changes.
    const other = await rotate(t.keys.merchant, { gracePeriodSeconds: 60 });
    expect(other.status).toBe(404);
    expect(other.json().code).toBe('WEBHOOK_NOT_FOUND');
    expect(JSON.stringify(other.json())).not.toContain('whsec_');
    expect(await rotate(t.keys.admin)).toMatchObject({ status: 403 });
    // Bad input, precisely.
    const bad = async (body: unknown) => {
      const res = await rotate(t.keys.issuer, body);
      return { status: res.status, ...(res.json() as { code: string; details?: { path: string; message: string }[] }) };
    };
    for (const gracePeriodSeconds of [-1, 604_801, 1.5, '3600', null])
      expect(await bad({ gracePeriodSeconds })).toMatchObject({
        status: 400,
        code: 'VALIDATION_FAILED',
        details: [{ path: 'gracePeriodSeconds' }],
      });
    expect((await bad({ gracePeriodSeconds: 604_801 })).details![0]!.message).toContain('604800');
    expect(await bad({ grace: 60 })).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect((await bad({ grace: 60 })).details![0]!.message).toContain('grace');
    expect(await bad([])).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    const badId = await rotate(t.keys.issuer, {}, 'wh_nope');
    expect(badId.status).toBe(400);
    expect(badId.json().details).toEqual([
      { path: 'params.id', message: 'must be a webhook id (wh_ and 22 characters)' },
    ]);
    expect(await stored()).toEqual(sealed);
    // No grace period: the previous secret is dropped at once.
    const now = await rotate(t.keys.issuer, { gracePeriodSeconds: 0 });
    expect(now.status).toBe(200);
    expect(now.json().previousSecretExpiresAt).toBeNull();
    expect((await stored()).previous_secret).toBeNull();
    expect((await call('GET', `/v1/webhooks/${sub.id}`, t.keys.issuer)).json().previousSecretExpiresAt).toBeNull();
    // A subscription deleted is not found.
    await call('DELETE', `/v1/webhooks/${sub.id}`, t.keys.issuer);
    expect((await rotate(t.keys.issuer)).status).toBe(404);
  });

  it('signs with the new and the previous secret through a grace period, retries queued before it included, one webhook-id per event; then with the new one only', async () => {
    const r = await receiver();
    r.fallback = 503;
    const sub = await subscribe(t.keys.issuer, r.url, ['watchlist.hit']);
    const txIn = (q: { body: string }) =>
      (JSON.parse(q.body) as { data: { transactionId: string } }).data.transactionId;
    const signatures = (q: { headers: Record<string, unknown> }) => String(q.headers['webhook-signature']).split(' ');
    const rotate = async (gracePeriodSeconds?: number) => {
      const res = await call(
        'POST',
        `/v1/webhooks/${sub.id}/secret/rotate`,
        t.keys.issuer,
        gracePeriodSeconds === undefined ? undefined : { gracePeriodSeconds },
      );
      expect(res.status).toBe(200);
      return res.json() as { secret: string; previousSecretExpiresAt: string | null };
    };
    // Queued and refused before the rotation: signed with the one secret.
    const first = await scoreListed();
    const refused = await until('the first attempt', () => r.requests.find((q) => txIn(q) === first.transactionId));
    expect(signatures(refused)).toHaveLength(1);
    expect(refused.verified(sub.secret).data.transactionId).toBe(first.transactionId);
    const rotated = await rotate(5);
    // Its retries now carry both signatures, the new one first: a receiver holding either accepts them.
    const retried = await until('a retry signed with both secrets', () =>
      r.requests.find((q) => txIn(q) === first.transactionId && signatures(q).length === 2),
    );
    r.fallback = 204;
    for (const secret of [sub.secret, rotated.secret])
      expect(retried.verified(secret).data.transactionId).toBe(first.transactionId);
    expect(() => retried.verified(`whsec_${Buffer.alloc(32, 7).toString('base64')}`)).toThrow();
    // The new secret's signature first.
    expect(
      new Webhook(rotated.secret).verify(retried.body, {
        'webhook-id': String(retried.headers['webhook-id']),
        'webhook-timestamp': String(retried.headers['webhook-timestamp']),
        'webhook-signature': signatures(retried)[0]!,
      }),
    ).toMatchObject({ type: 'watchlist.hit' });
    await until(
      'the first delivered',
      async () => (await deliveries(t.keys.issuer, sub.id))[0]?.status === 'delivered',
    );
    // A new event during the grace period: both signatures too.
    const second = await scoreListed();
    const during = await until('the second delivered', () => r.requests.find((q) => txIn(q) === second.transactionId));
    expect(signatures(during)).toHaveLength(2);
    for (const secret of [sub.secret, rotated.secret])
      expect(during.verified(secret).data.transactionId).toBe(second.transactionId);
    // The grace period over: the previous secret no longer verifies anything, and is no longer said to.
    await new Promise((resolve) =>
      setTimeout(resolve, Date.parse(rotated.previousSecretExpiresAt!) - Date.now() + 200),
    );
    expect((await call('GET', `/v1/webhooks/${sub.id}`, t.keys.issuer)).json().previousSecretExpiresAt).toBeNull();
    const third = await scoreListed();
    const after = await until('the third delivered', () => r.requests.find((q) => txIn(q) === third.transactionId));
    expect(signatures(after)).toHaveLength(1);
    expect(after.verified(rotated.secret).data.transactionId).toBe(third.transactionId);
    expect(() => after.verified(sub.secret)).toThrow();
    // Rotated twice in a grace period: the current secret replaces the previous one, never more than two.
    const twice = await rotate();
    const thrice = await rotate();
    const fourth = await scoreListed();
    const last = await until('the fourth delivered', () => r.requests.find((q) => txIn(q) === fourth.transactionId));
    expect(signatures(last)).toHaveLength(2);
    for (const secret of [thrice.secret, twice.secret])
      expect(last.verified(secret).data.transactionId).toBe(fourth.transactionId);
    for (const secret of [rotated.secret, sub.secret]) expect(() => last.verified(secret)).toThrow();
    // One webhook-id per event throughout, each event its own; one delivery per event.
    const events = [first, second, third, fourth].map((e) => e.transactionId);
    const ids = events.map(
      (tx) => new Set(r.requests.filter((q) => txIn(q) === tx).map((q) => q.headers['webhook-id'])),
    );
    expect(ids.map((s) => s.size)).toEqual([1, 1, 1, 1]);
    expect(new Set(ids.flatMap((s) => [...s])).size).toBe(4);
    await until('all four recorded delivered', async () => {
      const log = await deliveries(t.keys.issuer, sub.id);
      return log.length === 4 && log.every((d) => d.status === 'delivered');
    });
    await call('DELETE', `/v1/webhooks/${sub.id}`, t.keys.issuer);
  }, 30_000);
});
