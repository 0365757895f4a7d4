// A transaction scored before a card-key rotation and retried after it (a client's retry, a
// redelivery) on a real Redis: the stored answer, not 409 TRANSACTION_CONFLICT (found by an audit).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bearer, buildTestApp, scoreBody } from '../support/app.ts';
import { RedisServer } from '../support/redis-server.ts';

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis.stop();
});

it('answers a retry across a card-key rotation with the stored answer; another payload is still a conflict', async () => {
  const body = scoreBody({ transactionId: 'rotation-1', amount: 2500 });
  const before = await buildTestApp({ REDIS_URL: redis.url, LEAKGUARD_CARD_KEY: 'a'.repeat(64) });
  const first = await before.app.inject({
    method: 'POST',
    url: '/v1/score',
    headers: bearer(before.keys.merchant),
    payload: body,
  });
  expect(first.statusCode, first.body).toBe(200);
  await before.close();
  const after = await buildTestApp({
    REDIS_URL: redis.url,
    LEAKGUARD_CARD_KEY: 'b'.repeat(64),
    LEAKGUARD_PREVIOUS_CARD_KEY: 'a'.repeat(64),
  });
  try {
    const send = (payload: object) =>
      after.app.inject({ method: 'POST', url: '/v1/score', headers: bearer(after.keys.merchant), payload });
    const retry = await send(body);
    expect(retry.statusCode, retry.body).toBe(200);
    expect(retry.json()).toEqual(first.json());
    expect((await send({ ...body, amount: 2600 })).json()).toMatchObject({ code: 'TRANSACTION_CONFLICT' });
  } finally {
    await after.close();
  }
});
