// A transaction scored before a card-key rotation and retried after it (a client's retry, a
// redelivery) on a real Redis: the stored answer, not 409 TRANSACTION_CONFLICT (found by an audit).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bearer, buildTestApp, scoreBody, type TestApp } from '../support/app.ts';
import { RedisServer } from '../support/redis-server.ts';
import { luhnComplete } from '../support/card-arbitraries.ts';

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis.stop();
});

/** An order scored with the app's merchant key. */
const score = (t: TestApp, payload: object) =>
  t.app.inject({ method: 'POST', url: '/v1/score', headers: bearer(t.keys.merchant), payload });

it('answers a retry across a card-key rotation with the stored answer; another payload is still a conflict', async () => {
  const body = scoreBody({ transactionId: 'rotation-1', amount: 2500 });
  const before = await buildTestApp({ REDIS_URL: redis.url, LEAKGUARD_CARD_KEY: 'a'.repeat(64) });
  const first = await score(before, body);
  expect(first.statusCode, first.body).toBe(200);
  await before.close();
  const after = await buildTestApp({
    REDIS_URL: redis.url,
    LEAKGUARD_CARD_KEY: 'b'.repeat(64),
    LEAKGUARD_PREVIOUS_CARD_KEY: 'a'.repeat(64),
  });
  try {
    const send = (payload: object) => score(after, payload);
    const retry = await send(body);
    expect(retry.statusCode, retry.body).toBe(200);
    expect(retry.json()).toEqual(first.json());
    expect((await send({ ...body, amount: 2600 })).json()).toMatchObject({ code: 'TRANSACTION_CONFLICT' });
  } finally {
    await after.close();
  }
});

it('declines no household for its own two cards after a rotation: a card seen again since counts once on the device, IP and e-mail', async () => {
  // Before the rotation the household uses card A; after it, card A again, then card B, from the
  // same device, IP and e-mail. Until 2026-12-07 the device's, IP's and e-mail's sets held A under
  // its old and its new fingerprint, so B's order read 3 cards: DEVICE_MANY_CARDS_24H and
  // IP_MANY_CARDS_1H (35 + 30 points), declined.
  const household = { device: { id: 'family-laptop', ip: '198.51.100.23' }, customer: { email: 'family@example.com' } };
  const order = (number: string) =>
    scoreBody({
      ...household,
      card: { number, expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
      threeDS: { status: 'Y' },
    });
  const A = luhnComplete('455673000000001'),
    B = luhnComplete('455673000000002'),
    C = luhnComplete('455673000000003');
  const before = await buildTestApp({ REDIS_URL: redis.url, LEAKGUARD_CARD_KEY: '5'.repeat(64) });
  try {
    const first = await score(before, order(A));
    expect(first.statusCode, first.body).toBe(200);
  } finally {
    await before.close();
  }
  const after = await buildTestApp({
    REDIS_URL: redis.url,
    LEAKGUARD_CARD_KEY: '6'.repeat(64),
    LEAKGUARD_PREVIOUS_CARD_KEY: '5'.repeat(64),
  });
  try {
    const send = async (number: string) => {
      const res = await score(after, order(number));
      expect(res.statusCode, res.body).toBe(200);
      const answer = res.json() as { decision: string; reasons: { code: string }[] };
      return { decision: answer.decision, codes: answer.reasons.map((r) => r.code) };
    };
    expect((await send(A)).codes).not.toContain('DEVICE_MANY_CARDS_24H');
    const b = await send(B);
    expect(b.codes).not.toContain('DEVICE_MANY_CARDS_24H');
    expect(b.codes).not.toContain('IP_MANY_CARDS_1H');
    expect(b.decision).toBe('approve');
    // A third card on the same device is what the rules are for: still caught.
    const c = await send(C);
    expect(c.codes).toEqual(
      expect.arrayContaining(['DEVICE_MANY_CARDS_24H', 'IP_MANY_CARDS_1H', 'EMAIL_MANY_CARDS_7D']),
    );
  } finally {
    await after.close();
  }
});
