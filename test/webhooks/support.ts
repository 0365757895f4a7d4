// What the webhook tests share: a real receiver (node:http on loopback) whose answers are
// scripted (a status, a hang, a dropped connection), and the steps that make a watchlist hit
// (an event, a listed card, the issuer's BIN range) through the API of an app or an engine process.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { expect } from 'vitest';
import { luhnComplete } from '../support/card-arbitraries.ts';

export interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body verified against the subscription's secret (throws when the signature is wrong). */
  verified(secret: string): { type: string; timestamp: string; data: Record<string, unknown> };
}

/**
 * What the receiver does with a request: answer a status, hang (never answer), drop the connection,
 * or answer 200 with a body that never ends ('endless').
 */
export type Behaviour = number | 'hang' | 'drop' | 'endless';

export class Receiver {
  readonly requests: Received[] = [];
  /** Answers in turn; when empty, `fallback`. */
  readonly script: Behaviour[] = [];
  fallback: Behaviour = 204;
  /** Each answer waits this long. */
  delayMs = 0;
  inFlight = 0;
  maxInFlight = 0;
  private readonly server: Server;
  private readonly hanging = new Set<import('node:http').ServerResponse>();
  port = 0;

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = req.headers;
        this.requests.push({
          at: Date.now(),
          headers,
          body,
          verified: (secret) =>
            new Webhook(secret).verify(body, {
              'webhook-id': String(headers['webhook-id']),
              'webhook-timestamp': String(headers['webhook-timestamp']),
              'webhook-signature': String(headers['webhook-signature']),
            }) as { type: string; timestamp: string; data: Record<string, unknown> },
        });
        const behaviour = this.script.length > 0 ? this.script.shift()! : this.fallback;
        this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
        res.on('close', () => this.inFlight--);
        if (behaviour === 'hang') {
          this.hanging.add(res);
          return;
        }
        if (behaviour === 'endless') {
          res.writeHead(200, { 'content-type': 'text/plain' }).write('accepted, ');
          this.hanging.add(res);
          return;
        }
        if (behaviour === 'drop') {
          req.socket.destroy();
          return;
        }
        setTimeout(() => res.writeHead(behaviour, { 'content-type': 'text/plain' }).end('ok'), this.delayMs);
      });
    });
  }

  static async start(port = 0): Promise<Receiver> {
    const r = new Receiver();
    await new Promise<void>((resolve) => r.server.listen(port, '127.0.0.1', resolve));
    r.port = (r.server.address() as AddressInfo).port;
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  /** Requests carrying this message id (webhook-id). */
  byMessage(id: string): Received[] {
    return this.requests.filter((r) => r.headers['webhook-id'] === id);
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.socket?.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let serial = Math.floor(Math.random() * 1e6);
/** A fresh Luhn-valid card in the 411111 range. */
export const newCard = () => luhnComplete(`411111${String(serial++).padStart(9, '0')}`);

/** One call to the API: whatever carries it (app.inject, an engine process). */
export type Call = (
  method: string,
  url: string,
  key: string,
  body?: unknown,
  contentType?: string,
) => Promise<{ status: number; json(): any }>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const WEBHOOK_ENV = {
  LEAKGUARD_WEBHOOK_ALLOW_PRIVATE: '1',
  LEAKGUARD_WEBHOOK_POLL_MS: '50',
  LEAKGUARD_WEBHOOK_HIT_LAG_MS: '0',
  LEAKGUARD_WEBHOOK_RETRY_BASE_MS: '100',
  LEAKGUARD_WEBHOOK_RETRY_MAX_DELAY_MS: '800',
  LEAKGUARD_WEBHOOK_RETRY_FOR_MS: '60000',
  LEAKGUARD_WEBHOOK_TIMEOUT_MS: '1000',
};

let eventSerial = 0;
/** An event of the issuer listing `cards`, and the issuer's BIN range over them (set by an admin). */
export async function listCards(
  call: Call,
  keys: { issuer: string; admin: string },
  issuerId: string,
  cards: string[],
) {
  const ranges = await call('PUT', `/v1/issuers/${issuerId}/bin-ranges`, keys.admin, [
    { from: '411111', to: '411111' },
  ]);
  if (ranges.status !== 200) throw new Error(`bin ranges: ${ranges.status}`);
  const event = await call('POST', '/v1/compromise-events', keys.issuer, {
    externalId: `wh-${process.pid}-${++eventSerial}-${Date.now()}`,
    source: 'card network alert',
    exposureStart: '2026-05-01T00:00:00Z',
    exposureEnd: '2026-10-31T00:00:00Z',
    discoveredAt: '2026-11-10T00:00:00Z',
    dataElements: ['pan', 'cvv'],
    confidence: 'confirmed',
  });
  if (event.status !== 201) throw new Error(`event: ${event.status}`);
  const id = (event.json() as { id: string }).id;
  const up = await call('POST', `/v1/compromise-events/${id}/cards`, keys.issuer, cards.join('\n') + '\n', 'text/csv');
  if (up.status !== 200) throw new Error(`upload: ${up.status} ${JSON.stringify(up.json())}`);
  return id;
}

export const scoreRequest = (transactionId: string, pan: string, amount = 4999) => ({
  transactionId,
  amount,
  currency: 'EUR',
  channel: 'ecommerce',
  card: { number: pan, expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
});

/**
 * Card networks moved to 8-digit BINs: two issuers under the 6-digit BIN 555555, each with an
 * 8-digit range, both listing a card of the holder's range (an admin may list any card in an
 * issuer's event). Its hit reaches the holder's watchlist.hit subscription and counts in the
 * holder's event; the neighbour gets no webhook and its event counts nothing.
 */
export async function expectHitOnlyForEightDigitHolder(
  call: Call,
  keys: { admin: string; merchant: string },
  issuerKey: (issuerId: string) => Promise<string>,
  receiver: () => Promise<Receiver>,
  tag: string,
): Promise<void> {
  const [holder, neighbour] = [`b8-holder-${tag}`, `b8-neighbour-${tag}`];
  for (const [issuerId, ranges] of [
    [holder, [{ from: '55555555', to: '55555555' }]],
    [neighbour, [{ from: '55555500', to: '55555554' }]],
  ] as const)
    expect((await call('PUT', `/v1/issuers/${issuerId}/bin-ranges`, keys.admin, ranges)).status).toBe(200);
  const subscribed = await Promise.all(
    [holder, neighbour].map(async (issuerId) => {
      const [key, r] = await Promise.all([issuerKey(issuerId), receiver()]);
      const sub = await call('POST', '/v1/webhooks', key, { url: r.url, eventTypes: ['watchlist.hit'] });
      expect(sub.status).toBe(201);
      return { key, r, secret: (sub.json() as { secret: string }).secret };
    }),
  );
  const pan = luhnComplete(`55555555${String(serial++ % 1e7).padStart(7, '0')}`);
  const events: string[] = [];
  for (const issuerId of [holder, neighbour]) {
    const event = await call('POST', '/v1/compromise-events', keys.admin, {
      externalId: `wh8-${process.pid}-${++eventSerial}-${Date.now()}`,
      issuerId,
      source: 'card network alert',
      exposureStart: '2026-05-01T00:00:00Z',
      exposureEnd: '2026-10-31T00:00:00Z',
      discoveredAt: '2026-11-10T00:00:00Z',
      dataElements: ['pan'],
      confidence: 'confirmed',
    });
    expect(event.status).toBe(201);
    const id = (event.json() as { id: string }).id;
    const up = await call('POST', `/v1/compromise-events/${id}/cards`, keys.admin, `${pan}\n`, 'text/csv');
    expect(up.json()).toMatchObject({ accepted: 1 });
    events.push(id);
  }
  const transactionId = `wh8-${tag}`;
  expect((await call('POST', '/v1/score', keys.merchant, scoreRequest(transactionId, pan))).status).toBe(200);
  const [shown, other] = subscribed;
  const got = await until('the hit delivered to the holder', () =>
    shown!.r.requests.find((q) => q.verified(shown!.secret).data.transactionId === transactionId),
  );
  expect(got.verified(shown!.secret).data).toMatchObject({
    card: { bin: '555555', last4: pan.slice(-4) },
    eventIds: [events[0]],
  });
  expect(got.body).not.toContain(pan);
  expect(got.body).not.toContain('shownTo');
  // The neighbour's feed has passed the hit's time by now (its lag is 0): nothing for it.
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(other!.r.requests).toEqual([]);
  const hitsOf = async (id: string) =>
    (await call('GET', `/v1/compromise-events/${id}`, keys.admin)).json().statistics.hits as number;
  expect([await hitsOf(events[0]!), await hitsOf(events[1]!)]).toEqual([1, 0]);
}

/**
 * A leaked key's subscription (webhook subscriptions outlived the key that made them). Two keys of
 * one issuer each subscribe a receiver, and both get a hit. The leaked key is revoked: it is
 * refused (401); the issuer's other key lists both subscriptions, each naming the key that made it
 * (its id, never the key), the leaked key's as disabled; the next hit reaches the live key's
 * receiver only. The disabled subscription refuses re-sends (409) and the tenant deletes it.
 * Needs LEAKGUARD_API_KEY_CACHE_MS=0 (the revocation applies at once).
 */
export async function expectRevokedKeyStopsItsSubscriptions(
  call: Call,
  keys: { admin: string; merchant: string },
  issuerKey: (issuerId: string, label: string) => Promise<{ key: string; id: string }>,
  revoke: (keyId: string) => Promise<void>,
  receiver: () => Promise<Receiver>,
  tag: string,
): Promise<{ leakedKeyId: string; liveKeyId: string; leakedSub: string; liveSub: string }> {
  const issuerId = `leak-${tag}`;
  const range = '55555561';
  const ranges = await call('PUT', `/v1/issuers/${issuerId}/bin-ranges`, keys.admin, [{ from: range, to: range }]);
  expect(ranges.status).toBe(200);
  const [leaked, live] = await Promise.all([issuerKey(issuerId, 'leaked'), issuerKey(issuerId, 'fraud desk')]);
  const [attacker, own] = await Promise.all([receiver(), receiver()]);
  const subscribe = async (key: string, r: Receiver) => {
    const res = await call('POST', '/v1/webhooks', key, { url: r.url, eventTypes: ['watchlist.hit'] });
    expect(res.status).toBe(201);
    return res.json() as { id: string; secret: string; createdByKeyId: string | null; disabledReason: string | null };
  };
  const leakedSub = await subscribe(leaked.key, attacker);
  const liveSub = await subscribe(live.key, own);
  expect(leakedSub).toMatchObject({ createdByKeyId: leaked.id, disabledReason: null });
  expect(liveSub).toMatchObject({ createdByKeyId: live.id, disabledReason: null });
  const event = await call('POST', '/v1/compromise-events', keys.admin, {
    externalId: `leak-${process.pid}-${++eventSerial}-${Date.now()}`,
    issuerId,
    source: 'card network alert',
    exposureStart: '2026-05-01T00:00:00Z',
    exposureEnd: '2026-10-31T00:00:00Z',
    discoveredAt: '2026-11-10T00:00:00Z',
    dataElements: ['pan'],
    confidence: 'confirmed',
  });
  expect(event.status).toBe(201);
  const eventId = (event.json() as { id: string }).id;
  const pans = [0, 1].map(() => luhnComplete(`${range}${String(serial++ % 1e7).padStart(7, '0')}`));
  const up = await call(
    'POST',
    `/v1/compromise-events/${eventId}/cards`,
    keys.admin,
    `${pans.join('\n')}\n`,
    'text/csv',
  );
  expect(up.json()).toMatchObject({ accepted: 2 });
  const txs = (r: Receiver, secret: string) => r.requests.map((q) => q.verified(secret).data.transactionId);
  const [before, after] = [`leak-before-${tag}`, `leak-after-${tag}`];

  // Before the revocation, both subscriptions receive the hit.
  expect((await call('POST', '/v1/score', keys.merchant, scoreRequest(before, pans[0]!))).status).toBe(200);
  await until('the hit at both receivers', () => attacker.requests.length > 0 && own.requests.length > 0);
  expect([txs(attacker, leakedSub.secret), txs(own, liveSub.secret)]).toEqual([[before], [before]]);

  await revoke(leaked.id);
  expect((await call('GET', '/v1/webhooks', leaked.key)).status).toBe(401);
  const listed = (await call('GET', '/v1/webhooks', live.key)).json().webhooks as Record<string, unknown>[];
  expect(listed).toEqual([
    expect.objectContaining({ id: leakedSub.id, createdByKeyId: leaked.id, disabledReason: 'creating key revoked' }),
    expect.objectContaining({ id: liveSub.id, createdByKeyId: live.id, disabledReason: null }),
  ]);
  expect(JSON.stringify(listed)).not.toContain(leaked.key);

  // After it, the hit reaches the live key's subscription only.
  expect((await call('POST', '/v1/score', keys.merchant, scoreRequest(after, pans[1]!))).status).toBe(200);
  await until("the next hit at the live key's receiver", () => own.requests.length > 1);
  expect(txs(own, liveSub.secret)).toEqual([before, after]);
  // The leaked key's subscription was due the same hit in the same pass: long passed by now.
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(txs(attacker, leakedSub.secret)).toEqual([before]);
  const got = (await call('GET', `/v1/webhooks/${leakedSub.id}`, live.key)).json();
  expect(got).toMatchObject({ disabledReason: 'creating key revoked', createdByKeyId: leaked.id });
  const log = (await call('GET', `/v1/webhooks/${leakedSub.id}/deliveries`, live.key)).json().deliveries as {
    id: string;
  }[];
  const resend = await call('POST', `/v1/webhooks/${leakedSub.id}/deliveries/${log[0]!.id}/resend`, live.key);
  expect([resend.status, resend.json().code]).toEqual([409, 'WEBHOOK_DISABLED']);
  expect((await call('DELETE', `/v1/webhooks/${leakedSub.id}`, live.key)).status).toBe(200);
  expect(((await call('GET', '/v1/webhooks', live.key)).json().webhooks as { id: string }[]).map((w) => w.id)).toEqual([
    liveSub.id,
  ]);
  return { leakedKeyId: leaked.id, liveKeyId: live.id, leakedSub: leakedSub.id, liveSub: liveSub.id };
}
