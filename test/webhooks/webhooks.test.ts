// Signed webhooks against real services: the app on a real PostgreSQL (outbox) and a real Redis
// (hits, keys), real receivers on loopback (LEAKGUARD_WEBHOOK_ALLOW_PRIVATE=1) that verify each
// delivery's Standard Webhooks signature. Hits come from real scoring of listed cards, decisions
// from the case store an analyst's decision goes through.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgSqlClient } from '../../services/adapters/postgres/pg-client.ts';
import { openWebhookSystem, type WebhookSystem } from '../../services/webhook-system.ts';
import { PostgresServer } from '../support/postgres-server.ts';
import { freePort } from '../support/ports.ts';
import { RedisServer } from '../support/redis-server.ts';
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

let redis: RedisServer;
let pg: PostgresServer;
let t: TestApp;
let call: Call;
const receivers: Receiver[] = [];
const pans = new Set<string>();

beforeAll(async () => {
  [redis, pg] = await Promise.all([RedisServer.start(), PostgresServer.start()]);
  // Key lookups not cached: a revocation applies at once (a subscription made with the key included).
  t = await buildTestApp(
    { REDIS_URL: redis.url, DATABASE_URL: pg.url, ...WEBHOOK_ENV, LEAKGUARD_API_KEY_CACHE_MS: '0' },
    { cases: true },
  );
  call = async (method, url, key, body, contentType) => {
    const r = await t.app.inject({
      method: method as 'GET',
      url,
      headers: { ...bearer(key), ...(contentType ? { 'content-type': contentType } : {}) },
      ...(body === undefined ? {} : { payload: body as string }),
    });
    return { status: r.statusCode, json: () => r.json() };
  };
}, 60_000);
afterAll(async () => {
  await t?.close();
  await Promise.all(receivers.map((r) => r.close()));
  await redis?.stop();
  await pg?.stop();
});

const receiver = async (port?: number) => {
  const r = await Receiver.start(port);
  receivers.push(r);
  return r;
};
const subscribe = async (key: string, url: string, eventTypes: string[]) => {
  const res = await call('POST', '/v1/webhooks', key, { url, eventTypes });
  expect(res.status).toBe(201);
  return res.json() as { id: string; secret: string; url: string; eventTypes: string[] };
};
let txSerial = 0;
const scoreListed = async (key = t.keys.merchant) => {
  const pan = newCard();
  pans.add(pan);
  await listCards(call, t.keys, 'i1', [pan]);
  const transactionId = `wh-order-${++txSerial}`;
  const started = Date.now();
  const res = await call('POST', '/v1/score', key, scoreRequest(transactionId, pan));
  expect(res.status).toBe(200);
  return { pan, transactionId, ms: Date.now() - started, decision: res.json().decision as string };
};
type Delivery = {
  id: string;
  messageId: string;
  status: string;
  resendOf: string | null;
  nextAttemptAt: string | null;
  waitingBehind: string | null;
  data: Record<string, unknown>;
  attempts: { at: string; durationMs: number; statusCode: number | null; error: string | null }[];
};
const deliveries = async (key: string, id: string): Promise<Delivery[]> => {
  const res = await call('GET', `/v1/webhooks/${id}/deliveries?limit=200`, key);
  expect(res.status).toBe(200);
  return res.json().deliveries as Delivery[];
};
const txOf = (r: { verified(s: string): { data: Record<string, unknown> } }, secret: string) =>
  r.verified(secret).data.transactionId;

describe('subscriptions', () => {
  it('are created per tenant with a secret shown once, listed by cursor, read, and deleted', async () => {
    const r = await receiver();
    const a = await subscribe(t.keys.issuer, r.url, ['watchlist.hit']);
    expect(a.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(a.id).toMatch(/^wh_[A-Za-z0-9_-]{22}$/);
    const b = await subscribe(t.keys.issuer, `${r.url}?second`, ['watchlist.hit']);
    const got = await call('GET', `/v1/webhooks/${a.id}`, t.keys.issuer);
    expect(got.status).toBe(200);
    expect(got.json()).toEqual({
      id: a.id,
      url: r.url,
      eventTypes: ['watchlist.hit'],
      description: '',
      createdAt: expect.any(String),
      previousSecretExpiresAt: null,
      // The key that made it, by its id only.
      createdByKeyId: expect.stringMatching(/^key_[0-9a-f]{12}$/),
      disabledReason: null,
    });
    expect(JSON.stringify(got.json())).not.toContain('whsec_');
    expect(JSON.stringify(got.json())).not.toContain(t.keys.issuer);
    // At rest the secret is sealed under the data key, bound to its subscription.
    const stored = await t.runtime.cases!.sql.query<{ secret: string }>(
      'SELECT secret FROM webhook_subscriptions WHERE id = $1',
      [a.id],
    );
    expect(stored.rows[0]!.secret).not.toContain(a.secret.slice('whsec_'.length, 20));
    expect(stored.rows[0]!.secret).not.toMatch(/^whsec_/);
    // Pages of one, in creation order.
    const first = (await call('GET', '/v1/webhooks?limit=1', t.keys.issuer)).json();
    expect(first).toMatchObject({ has_more: true, webhooks: [{ id: a.id }] });
    const second = (await call('GET', `/v1/webhooks?limit=1&starting_after=${first.next}`, t.keys.issuer)).json();
    expect(second.webhooks.map((w: { id: string }) => w.id)).toEqual([b.id]);
    // Another tenant sees nothing of it.
    expect((await call('GET', `/v1/webhooks/${a.id}`, t.keys.merchant)).json().code).toBe('WEBHOOK_NOT_FOUND');
    expect((await call('GET', '/v1/webhooks', t.keys.merchant)).json().webhooks).toEqual([]);
    expect((await call('DELETE', `/v1/webhooks/${b.id}`, t.keys.merchant)).status).toBe(404);
    // Deleted.
    const del = await call('DELETE', `/v1/webhooks/${b.id}`, t.keys.issuer);
    expect(del.json()).toEqual({ id: b.id, deleted: true });
    expect((await call('GET', `/v1/webhooks/${b.id}`, t.keys.issuer)).status).toBe(404);
    await call('DELETE', `/v1/webhooks/${a.id}`, t.keys.issuer);
  });

  it('refuses bad input precisely: event types of another tenant, bad URLs, unknown fields, admins', async () => {
    const bad = async (key: string, body: unknown) => {
      const res = await call('POST', '/v1/webhooks', key, body);
      return { status: res.status, ...(res.json() as { code: string; details?: { path: string; message: string }[] }) };
    };
    expect(await bad(t.keys.merchant, { url: 'https://example.com/h', eventTypes: ['watchlist.hit'] })).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      details: [
        { path: 'eventTypes.0', message: 'merchant keys subscribe to case.decided, case.decision_reversed only' },
      ],
    });
    expect(await bad(t.keys.issuer, { url: 'ftp://example.com/h', eventTypes: ['watchlist.hit'] })).toMatchObject({
      status: 400,
      details: [{ path: 'url' }],
    });
    const missing = await bad(t.keys.issuer, { eventTypes: ['watchlist.hit'] });
    expect(missing).toMatchObject({ status: 400, details: [{ path: 'url' }] });
    expect(missing.details![0]!.message).not.toContain('http or https');
    expect(await bad(t.keys.issuer, { url: 'https://example.com/h', eventTypes: [] })).toMatchObject({
      status: 400,
      details: [{ path: 'eventTypes' }],
    });
    const pan = '4111111111111111';
    const withPan = await bad(t.keys.issuer, { url: `https://example.com/${pan}`, eventTypes: ['watchlist.hit'] });
    expect(withPan).toMatchObject({ status: 400, details: [{ path: 'url' }] });
    expect(JSON.stringify(withPan)).not.toContain(pan);
    expect(
      await bad(t.keys.issuer, { url: 'https://example.com/h', eventTypes: ['watchlist.hit'], [pan]: 1 }),
    ).toMatchObject({ status: 400 });
    expect(await bad(t.keys.admin, { url: 'https://example.com/h', eventTypes: ['watchlist.hit'] })).toMatchObject({
      status: 403,
      code: 'FORBIDDEN',
    });
    expect((await call('GET', '/v1/webhooks/wh_nope', t.keys.issuer)).status).toBe(400);
    expect((await call('GET', '/v1/webhooks?starting_after=%%', t.keys.issuer)).status).toBe(400);
  });
});

describe('deliveries', () => {
  it("a hit from real scoring of a listed card reaches the issuer's subscription, signed, without the card number", async () => {
    const r = await receiver();
    const sub = await subscribe(t.keys.issuer, r.url, ['watchlist.hit']);
    const hit = await scoreListed();
    expect(hit.decision).not.toBe('approve');
    const got = await until('the hit delivered', () =>
      r.requests.find((q) => txOf(q, sub.secret) === hit.transactionId),
    );
    const payload = got.verified(sub.secret);
    expect(payload.type).toBe('watchlist.hit');
    expect(payload.data).toMatchObject({
      merchantId: 'm1',
      transactionId: hit.transactionId,
      amount: 4999,
      currency: 'EUR',
      card: { bin: '411111', last4: hit.pan.slice(-4) },
      eventIds: [expect.stringMatching(/^ce_/)],
    });
    expect(got.headers['webhook-id']).toMatch(/^msg_/);
    expect(got.body).not.toContain(hit.pan);
    expect(() => got.verified('whsec_' + Buffer.alloc(32, 1).toString('base64'))).toThrow();
    const log = await until('the delivery logged as delivered', async () => {
      const d = await deliveries(t.keys.issuer, sub.id);
      return d[0]?.status === 'delivered' && d;
    });
    expect(log).toHaveLength(1);
    expect(log[0]!.attempts).toEqual([
      { at: expect.any(String), durationMs: expect.any(Number), statusCode: 204, error: null },
    ]);
    await call('DELETE', `/v1/webhooks/${sub.id}`, t.keys.issuer);
  });

  it("a hit on a card of an issuer's 8-digit range reaches that issuer, not another issuer of the same 6-digit BIN", async () => {
    await expectHitOnlyForEightDigitHolder(
      call,
      t.keys,
      async (issuerId) => (await createApiKey(t.runtime.apiKeys, { role: 'issuer', issuerId })).key,
      receiver,
      'redis',
    );
  });

  it("a revoked key's subscription receives no more hits (Redis key store); the issuer's other key's does", async () => {
    await expectRevokedKeyStopsItsSubscriptions(
      call,
      t.keys,
      async (issuerId, label) => {
        const { key, record } = await createApiKey(t.runtime.apiKeys, { role: 'issuer', issuerId, label });
        return { key, id: record.id };
      },
      async (keyId) => void (await t.runtime.apiKeys.revoke(keyId, new Date().toISOString(), 'test')),
      receiver,
      'redis',
    );
  });

  it("a revoked merchant key's subscription is sent no more decisions, nor the retries queued before", async () => {
    const [leaked, live] = await Promise.all(
      ['leaked', 'shop backend'].map((label) =>
        createApiKey(t.runtime.apiKeys, { role: 'merchant', merchantId: 'm-leak', label }),
      ),
    );
    const [attacker, mine] = await Promise.all([receiver(), receiver()]);
    attacker.fallback = 503;
    const leakedSub = await subscribe(leaked!.key, attacker.url, ['case.decided']);
    const liveSub = await subscribe(live!.key, mine.url, ['case.decided']);
    const cases = t.runtime.cases!;
    const decide = async () => {
      const flagged = await scoreListed(live!.key);
      const kase = await until('the case', () => cases.store.getByTransaction('m-leak', flagged.transactionId));
      await cases.store.decide(kase.id, 'mark_fraud', 'analyst-1');
      return kase.id;
    };
    const first = await decide();
    // The attacker's receiver fails: the decision waits there for its next attempt.
    await until('a first attempt at the leaked key', () => attacker.requests.length > 0);
    await until('the decision delivered', () => mine.requests.length > 0);
    await t.runtime.apiKeys.revoke(leaked!.record.id, new Date().toISOString(), 'test');
    expect((await call('GET', '/v1/webhooks', leaked!.key)).status).toBe(401);
    const attempts = attacker.requests.length;
    const second = await decide();
    await until('the second decision delivered', () => mine.requests.length > 1);
    expect(mine.requests.map((q) => q.verified(liveSub.secret).data.caseId)).toEqual([first, second]);
    // Retries came every 100-800 ms before: none since.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(attacker.requests.length).toBeLessThanOrEqual(attempts + 1);
    const settled = attacker.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(attacker.requests).toHaveLength(settled);
    expect(attacker.requests.every((q) => q.verified(leakedSub.secret).data.caseId === first)).toBe(true);
    // Its queue is given up; the live key's subscription is served.
    await until("the leaked key's deliveries given up", async () =>
      (await deliveries(live!.key, leakedSub.id)).every((d) => d.status === 'failed'),
    );
    const got = (await call('GET', `/v1/webhooks/${leakedSub.id}`, live!.key)).json();
    expect(got).toMatchObject({ createdByKeyId: leaked!.record.id, disabledReason: 'creating key revoked' });
    const own = (await call('GET', `/v1/webhooks/${liveSub.id}`, live!.key)).json();
    expect(own).toMatchObject({ createdByKeyId: live!.record.id, disabledReason: null });
    await call('DELETE', `/v1/webhooks/${leakedSub.id}`, live!.key);
    await call('DELETE', `/v1/webhooks/${liveSub.id}`, live!.key);
  });

  it("an analyst's decision reaches the merchant's subscription, and no other merchant's", async () => {
    const mine = await receiver();
    const other = await receiver();
    const sub = await subscribe(t.keys.merchant, mine.url, ['case.decided']);
    const otherSub = await subscribe(t.keys.otherMerchant, other.url, ['case.decided']);
    const flagged = await scoreListed();
    const cases = t.runtime.cases!;
    const kase = await until('the case', () => cases.store.getByTransaction('m1', flagged.transactionId));
    await cases.store.decide(kase.id, 'mark_fraud', 'analyst-1', 'confirmed with the cardholder');
    const got = await until('the decision delivered', () => mine.requests[0]);
    const payload = got.verified(sub.secret);
    expect(payload.type).toBe('case.decided');
    expect(payload.data).toMatchObject({
      caseId: kase.id,
      merchantId: 'm1',
      transactionId: flagged.transactionId,
      decision: 'fraud',
      amount: 4999,
      currency: 'EUR',
      card: { bin: '411111', last4: flagged.pan.slice(-4) },
    });
    expect(got.body).not.toContain(flagged.pan);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(other.requests).toEqual([]);
    expect(mine.requests).toHaveLength(1);
    // Reversed by a lead and decided anew: the merchant is told the reversal (its category, never
    // the lead's words, which may hold a card number), then the new decision.
    await cases.feedback.reverse(kase.id, 'lead-1', `the cardholder was mistaken, card ${flagged.pan}`, {
      category: 'decision_error',
    });
    const reversal = await until('the reversal delivered', () => mine.requests[1]);
    const told = reversal.verified(sub.secret);
    expect(told.type).toBe('case.decision_reversed');
    expect(told.data).toEqual({
      caseId: kase.id,
      merchantId: 'm1',
      transactionId: flagged.transactionId,
      reversedDecision: 'fraud',
      decidedAt: expect.any(String),
      reversedAt: expect.any(String),
      reasonCategory: 'decision_error',
    });
    expect(Date.parse(told.data.reversedAt as string)).toBeGreaterThanOrEqual(
      Date.parse(told.data.decidedAt as string),
    );
    expect(reversal.body).not.toContain(flagged.pan);
    expect(reversal.body).not.toContain('mistaken');
    expect(reversal.headers['webhook-id']).not.toBe(got.headers['webhook-id']);
    // The case stays with its analyst: the lead decides it as a lead.
    await cases.store.decide(kase.id, 'mark_legitimate', 'lead-1', undefined, { mayDecideOthers: true });
    const redecided = await until('the new decision delivered', () => mine.requests[2]);
    expect(redecided.verified(sub.secret).data).toMatchObject({ caseId: kase.id, decision: 'legitimate' });
    expect(other.requests).toEqual([]);
    // In the delivery log like the others, delivered, each once.
    // Recorded once the receiver's answer is in (a moment after the request).
    await until('all three recorded delivered', async () =>
      (await deliveries(t.keys.merchant, sub.id)).every((d) => d.status === 'delivered'),
    );
    expect(await deliveries(t.keys.merchant, sub.id)).toHaveLength(3);
    expect(mine.requests).toHaveLength(3);
    await call('DELETE', `/v1/webhooks/${sub.id}`, t.keys.merchant);
    await call('DELETE', `/v1/webhooks/${otherSub.id}`, t.keys.otherMerchant);
  });

  it('tells a subscription to reversals of a reversal, retried until its receiver takes it', async () => {
    const decisions = await receiver();
    const decided = await subscribe(t.keys.merchant, decisions.url, ['case.decided']);
    const flagged = await scoreListed();
    const cases = t.runtime.cases!;
    const kase = await until('the case', () => cases.store.getByTransaction('m1', flagged.transactionId));
    await cases.store.decide(kase.id, 'mark_legitimate', 'analyst-1');
    await until('the decision announced', () => decisions.requests[0]);
    // Subscribed after the decision, to reversals: it is told the reversal, not the decision.
    const r = await receiver();
    r.script.push(503);
    const sub = await subscribe(t.keys.merchant, r.url, ['case.decision_reversed']);
    await cases.feedback.reverse(kase.id, 'lead-1', 'seen in a fraud ring', { category: 'new_evidence' });
    const got = await until('the reversal delivered after a retry', () => r.requests[1]);
    expect(got.headers['webhook-id']).toBe(r.requests[0]!.headers['webhook-id']);
    expect(got.verified(sub.secret)).toMatchObject({
      type: 'case.decision_reversed',
      data: { caseId: kase.id, reversedDecision: 'legitimate', reasonCategory: 'new_evidence' },
    });
    const logged = await until('the reversal recorded delivered', async () => {
      const [d] = await deliveries(t.keys.merchant, sub.id);
      return d?.status === 'delivered' ? d : undefined;
    });
    expect(logged.attempts.map((a) => a.statusCode)).toEqual([503, 204]);
    // The subscription told the decision is told its reversal too, unasked.
    const toldToo = await until('the reversal told the decision subscription', () => decisions.requests[1]);
    expect(toldToo.verified(decided.secret).type).toBe('case.decision_reversed');
    expect(r.requests).toHaveLength(2);
    await call('DELETE', `/v1/webhooks/${sub.id}`, t.keys.merchant);
    await call('DELETE', `/v1/webhooks/${decided.id}`, t.keys.merchant);
  });

  it('sends a reversal before the new decision when both were made between two feeds', async () => {
    const r = await receiver();
    const sub = await subscribe(t.keys.merchant, r.url, ['case.decided']);
    const flagged = await scoreListed();
    const cases = t.runtime.cases!;
    const worker = t.runtime.webhooks!.dispatcher;
    const kase = await until('the case', () => cases.store.getByTransaction('m1', flagged.transactionId));
    await cases.store.decide(kase.id, 'mark_fraud', 'analyst-1');
    await until('the decision delivered', () => r.requests[0]);
    // The worker paused: the lead reverses the decision and decides the case anew before its next feed.
    await worker.stop();
    await cases.feedback.reverse(kase.id, 'lead-1', 'wrong card', { category: 'decision_error' });
    await cases.store.decide(kase.id, 'mark_legitimate', 'lead-1', undefined, { mayDecideOthers: true });
    worker.start();
    await until('all three delivered', () => r.requests.length >= 3);
    const told = r.requests.map((q) => {
      const { type, data } = q.verified(sub.secret);
      return `${type}:${String(data.decision ?? data.reversedDecision)}`;
    });
    // Applied in turn, the receiver ends with the decision in force.
    expect(told).toEqual(['case.decided:fraud', 'case.decision_reversed:fraud', 'case.decided:legitimate']);
    await call('DELETE', `/v1/webhooks/${sub.id}`, t.keys.merchant);
  });

  it('counts a 2xx whose body never ends as delivered, once, and sends the next', async () => {
    const r = await receiver();
    r.script.push('endless');
    const sub = await subscribe(t.keys.issuer, r.url, ['watchlist.hit']);
    const a = await scoreListed();
    const b = await scoreListed();
    await until('both sent', () => r.requests.length >= 2);
    await until('both recorded delivered', async () =>
      (await deliveries(t.keys.issuer, sub.id)).every((d) => d.status === 'delivered'),
    );
    const log = await deliveries(t.keys.issuer, sub.id);
    expect(log.map((d) => d.data.transactionId)).toEqual([b.transactionId, a.transactionId]);
    // One attempt each: the first is 200 (its body read for a moment, then dropped), not a timeout.
    expect(log[1]!.attempts).toEqual([
      { at: expect.any(String), durationMs: expect.any(Number), statusCode: 200, error: null },
    ]);
    expect(r.requests.map((q) => txOf(q, sub.secret))).toEqual([a.transactionId, b.transactionId]);
    await call('DELETE', `/v1/webhooks/${sub.id}`, t.keys.issuer);
  });

  it('retries 5xx, a dropped connection and a timeout with growing delays, and keeps the order', async () => {
    const r = await receiver();
    r.script.push(503, 'drop', 'hang', 500);
    const sub = await subscribe(t.keys.issuer, r.url, ['watchlist.hit']);
    const a = await scoreListed();
    const b = await scoreListed();
    const c = await scoreListed();
    await until('all three delivered', () => r.requests.length >= 7, 30_000);
    const order = r.requests.map((q) => txOf(q, sub.secret));
    expect(order).toEqual([a, a, a, a, a, b, c].map((x) => x.transactionId));
    // Backoff: 100 ms doubling (up to 20 % jitter off), the timeout (1 s) before the third wait.
    const gaps = r.requests.slice(1, 5).map((q, i) => q.at - r.requests[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(80);
    expect(gaps[1]).toBeGreaterThanOrEqual(160);
    expect(gaps[2]).toBeGreaterThanOrEqual(1_000 + 320);
    expect(gaps[3]).toBeGreaterThanOrEqual(640);
    // Every attempt of a message carries the same webhook-id.
    expect(new Set(r.requests.slice(0, 5).map((q) => q.headers['webhook-id'])).size).toBe(1);
    const log = await until('the log complete', async () => {
      const d = await deliveries(t.keys.issuer, sub.id);
      return d.every((x) => x.status === 'delivered') && d.length === 3 && d;
    });
    const first = log.find((d) => d.data.transactionId === a.transactionId)!;
    expect(first.attempts.map((x) => x.statusCode)).toEqual([503, null, null, 500, 204]);
    expect(first.attempts[0]!.error).toBe('receiver answered 503');
    expect(first.attempts[1]!.error).toMatch(/ECONNRESET|socket hang up/);
    expect(first.attempts[2]!.error).toBe('timed out after 1000 ms');
    expect(first.attempts[2]!.durationMs).toBeGreaterThanOrEqual(990);
    await call('DELETE', `/v1/webhooks/${sub.id}`, t.keys.issuer);
  });

  it('shows a delivery queued behind one being retried as waiting behind it, due no sooner', async () => {
    const port = await freePort();
    const sub = await subscribe(t.keys.issuer, `http://127.0.0.1:${port}/hooks`, ['watchlist.hit']);
    const first = await scoreListed();
    await until(
      'the first attempt failed',
      async () => ((await deliveries(t.keys.issuer, sub.id))[0]?.attempts.length ?? 0) >= 1,
    );
    const second = await scoreListed();
    const [waiting, head] = await until('the second queued behind a retried head', async () => {
      const d = await deliveries(t.keys.issuer, sub.id);
      return d.length === 2 && (d[1]!.attempts.length ?? 0) >= 2 && d;
    });
    expect([head!.data.transactionId, waiting!.data.transactionId]).toEqual([
      first.transactionId,
      second.transactionId,
    ]);
    expect(head).toMatchObject({ status: 'pending', waitingBehind: null });
    expect(waiting).toMatchObject({ status: 'pending', waitingBehind: head!.id, attempts: [] });
    // Never a time already past while it waits: no sooner than the head's next attempt.
    expect(Date.parse(waiting!.nextAttemptAt!)).toBeGreaterThanOrEqual(Date.parse(head!.nextAttemptAt!));
    const r = await receiver(port);
    await until('both delivered, in order', () => r.requests.length >= 2, 10_000);
    const done = await until('the log complete', async () => {
      const d = await deliveries(t.keys.issuer, sub.id);
      return d.every((x) => x.status === 'delivered') && d;
    });
    expect(done.map((d) => [d.waitingBehind, d.nextAttemptAt])).toEqual([
      [null, null],
      [null, null],
    ]);
    await call('DELETE', `/v1/webhooks/${sub.id}`, t.keys.issuer);
  });

  it('retries a refused connection until the receiver is up', async () => {
    const port = await freePort();
    const sub = await subscribe(t.keys.issuer, `http://127.0.0.1:${port}/hooks`, ['watchlist.hit']);
    const hit = await scoreListed();
    const refused = await until('refused attempts logged', async () => {
      const d = await deliveries(t.keys.issuer, sub.id);
      return (d[0]?.attempts.length ?? 0) >= 2 && d[0];
    });
    expect(refused.status).toBe('pending');
    expect(refused.attempts[0]!.error).toMatch(/ECONNREFUSED/);
    const r = await receiver(port);
    const got = await until('delivered once up', () => r.requests[0], 10_000);
    expect(txOf(got, sub.secret)).toBe(hit.transactionId);
    await call('DELETE', `/v1/webhooks/${sub.id}`, t.keys.issuer);
  });

  it('re-sends a delivered message with the same webhook-id, on request; unknown deliveries are 404', async () => {
    const r = await receiver();
    const sub = await subscribe(t.keys.issuer, r.url, ['watchlist.hit']);
    await scoreListed();
    await until('delivered', () => r.requests[0]);
    const [original] = await until('logged', async () => {
      const d = await deliveries(t.keys.issuer, sub.id);
      return d[0]?.status === 'delivered' && d;
    });
    const res = await call('POST', `/v1/webhooks/${sub.id}/deliveries/${original!.id}/resend`, t.keys.issuer);
    expect(res.status).toBe(202);
    expect(res.json()).toMatchObject({ status: 'pending', resendOf: original!.id, messageId: original!.messageId });
    await until('sent again', () => r.requests.length === 2);
    expect(r.requests[1]!.headers['webhook-id']).toBe(original!.messageId);
    expect(r.requests[1]!.verified(sub.secret).data).toEqual(r.requests[0]!.verified(sub.secret).data);
    const missing = await call(
      'POST',
      `/v1/webhooks/${sub.id}/deliveries/dlv_AAAAAAAAAAAAAAAAAAAAAA/resend`,
      t.keys.issuer,
    );
    expect(missing.status).toBe(404);
    expect(missing.json().code).toBe('DELIVERY_NOT_FOUND');
    expect((await call('GET', `/v1/webhooks/${sub.id}/deliveries`, t.keys.merchant)).status).toBe(404);
    // The log pages by cursor, newest first.
    const page = (await call('GET', `/v1/webhooks/${sub.id}/deliveries?limit=1`, t.keys.issuer)).json();
    expect(page.has_more).toBe(true);
    expect(page.deliveries[0].resendOf).toBe(original!.id);
    const next = (
      await call('GET', `/v1/webhooks/${sub.id}/deliveries?limit=1&starting_after=${page.next}`, t.keys.issuer)
    ).json();
    expect(next).toMatchObject({ has_more: false, next: null, deliveries: [{ id: original!.id }] });
    // `status` keeps the deliveries in that status; a parameter the log does not take is refused, not ignored.
    await until('both delivered', async () =>
      (await deliveries(t.keys.issuer, sub.id)).every((d) => d.status === 'delivered'),
    );
    const byStatus = async (query: string) => {
      const res = await call('GET', `/v1/webhooks/${sub.id}/deliveries?${query}`, t.keys.issuer);
      return { status: res.status, body: res.json() };
    };
    expect((await byStatus('status=failed')).body.deliveries).toEqual([]);
    expect((await byStatus('status=delivered')).body.deliveries).toHaveLength(2);
    expect((await byStatus('status=delivered&limit=1')).body).toMatchObject({ has_more: true });
    for (const query of ['status=gone', 'state=failed'])
      expect(await byStatus(query)).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    expect((await byStatus('state=failed')).body.details).toEqual([
      { path: 'querystring', message: 'has fields that are not allowed: state' },
    ]);
    // Another list's cursor (an events page's `next`, the same kind of number) is refused, not read as a delivery's place.
    await listCards(call, t.keys, 'i1', [newCard()]); // a second event: the first page has a `next`
    const eventsCursor = (await call('GET', '/v1/compromise-events?limit=1', t.keys.issuer)).json().next;
    expect(eventsCursor).toEqual(expect.any(String));
    for (const url of [`/v1/webhooks/${sub.id}/deliveries`, '/v1/webhooks']) {
      const res = await call('GET', `${url}?starting_after=${eventsCursor}`, t.keys.issuer);
      expect([res.status, res.json().details?.[0]?.path], url).toEqual([400, 'querystring.starting_after']);
    }
    const one = await call('GET', `/v1/webhooks/${sub.id}?status=failed`, t.keys.issuer);
    expect([one.status, one.json().details]).toEqual([
      400,
      [{ path: 'querystring', message: 'has fields that are not allowed: status' }],
    ]);
    const list = await call('GET', '/v1/webhooks?merchantId=x', t.keys.issuer);
    expect([list.status, list.json().details]).toEqual([
      400,
      [{ path: 'querystring', message: 'has fields that are not allowed: merchantId' }],
    ]);
    await call('DELETE', `/v1/webhooks/${sub.id}`, t.keys.issuer);
  });

  it('a hanging receiver does not hold up scoring', async () => {
    const r = await receiver();
    r.fallback = 'hang';
    const sub = await subscribe(t.keys.issuer, r.url, ['watchlist.hit']);
    await scoreListed();
    await until('a request hanging', () => r.inFlight > 0);
    const timings: number[] = [];
    for (let i = 0; i < 15; i++) timings.push((await scoreListed()).ms);
    expect(r.inFlight).toBeGreaterThan(0);
    // The scoring deadline is 2 s in tests; answers come at once, not after the receiver's timeout.
    expect(Math.max(...timings)).toBeLessThan(500);
    await call('DELETE', `/v1/webhooks/${sub.id}`, t.keys.issuer);
  });

  it('two engines on one database never send a subscription concurrently, and send each message once, in order', async () => {
    const second = new PgSqlClient({ connectionString: pg.url });
    const other: WebhookSystem = openWebhookSystem({
      sql: second,
      config: t.config,
      watchlist: t.runtime.watchlist,
      metrics: t.runtime.metrics,
      logger: { warn: () => {} } as never,
    });
    try {
      const r = await receiver();
      r.delayMs = 40;
      const sub = await subscribe(t.keys.issuer, r.url, ['watchlist.hit']);
      const sent: string[] = [];
      for (let i = 0; i < 8; i++) sent.push((await scoreListed()).transactionId);
      await until('all delivered', () => r.requests.length >= 8, 30_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(r.requests.map((q) => txOf(q, sub.secret))).toEqual(sent);
      expect(r.maxInFlight).toBe(1);
      await call('DELETE', `/v1/webhooks/${sub.id}`, t.keys.issuer);
    } finally {
      await other.stop();
      await second.close();
    }
  });

  it('exports delivery metrics', async () => {
    const scrape = await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
    expect(scrape.body).toMatch(/leakguard_webhook_attempts_total\{result="success"\} [1-9]/);
    expect(scrape.body).toMatch(/leakguard_webhook_attempts_total\{result="http_error"\} [1-9]/);
    expect(scrape.body).toMatch(/leakguard_webhook_deliveries_total\{result="delivered"\} [1-9]/);
    expect(scrape.body).toContain('leakguard_webhook_queue_depth');
    expect(scrape.body).toContain('leakguard_webhook_oldest_pending_age_seconds');
  });

  it('no card number in any payload or delivery log', () => {
    const everything = receivers.flatMap((r) => r.requests.map((q) => q.body)).join('\n');
    expect(everything.length).toBeGreaterThan(0);
    for (const pan of pans) expect(everything).not.toContain(pan);
  });
});
