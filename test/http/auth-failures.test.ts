// Failed authentications are rate-limited per client address (issue #13): a client that keeps
// sending missing or unknown keys gets 429 and costs no key-store lookup; real keys from other
// addresses are untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, scoreBody, type TestApp } from '../support/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ LEAKGUARD_AUTH_FAILURES_PER_MINUTE: '5' });
});
afterAll(() => t.close());

const GUESSER = '203.0.113.9';
const MERCHANT = '198.51.100.7';
const score = (headers: Record<string, string>, remoteAddress: string) =>
  t.app.inject({ method: 'POST', url: '/v1/score', headers, payload: scoreBody(), remoteAddress });
const randomToken = (n: number) => `lgm_${String(n).padStart(43, 'x')}`;

describe('failed API key authentications', () => {
  it('answer 429 past the limit per address; a real key from another address still works', async () => {
    for (let n = 0; n < 5; n++) {
      const res = await score(bearer(randomToken(n)), GUESSER);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: 'missing or invalid API key', code: 'UNAUTHENTICATED' });
    }
    const limited = await score(bearer(randomToken(5)), GUESSER);
    expect(limited.statusCode).toBe(429);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.json()).toEqual({
      error: 'too many failed authentications from your address: retry later',
      code: 'AUTH_RATE_LIMITED',
      details: [
        {
          path: 'headers.authorization',
          message: `more than 5 missing or invalid API keys in a minute; retry after ${retryAfter} s`,
        },
      ],
    });
    // A missing key counts as a failure too, and is limited the same way.
    expect((await score({}, GUESSER)).statusCode).toBe(429);

    const real = await score(bearer(t.keys.merchant), MERCHANT);
    expect(real.statusCode).toBe(200);
    expect(real.json()).toHaveProperty('decision');
    // Another address has its own count: a wrong key there is a plain 401.
    expect((await score(bearer(randomToken(6)), MERCHANT)).statusCode).toBe(401);
  });
});
