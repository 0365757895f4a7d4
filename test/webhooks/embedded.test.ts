// The embedded path (PGlite outbox, in-memory hit store with its journal): hits and decisions reach
// real receivers; without LEAKGUARD_WEBHOOK_ALLOW_PRIVATE, private, loopback and link-local
// receivers are refused when subscribing (422) and again at delivery, after resolution; and the
// retry policy's schedule with the defaults spans at least 24 hours.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpWebhookSender } from '../../services/adapters/webhooks/http-sender.ts';
import { configSchema } from '../../services/config.ts';
import { afterFailure, backoffDelay, schedule } from '../../services/webhooks/retry.ts';
import { bearer, buildTestApp, type TestApp } from '../support/app.ts';
import {
  expectHitOnlyForEightDigitHolder,
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
    buildTestApp(WEBHOOK_ENV, { cases: true }),
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
