// Failed authentications are rate-limited per client address (issue #13): a client that keeps
// sending missing or unknown keys gets 429 and costs no key-store lookup; real keys from other
// addresses are untouched, and a key the engine holds as valid still passes from the limited
// address itself (looked up again once its cache entry is stale).
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

  it('cannot lock a valid key out from a shared address: a known key is looked up again, a revoked one stops', async () => {
    // Cloud NAT, a payment gateway, every client behind a load balancer without LEAKGUARD_TRUST_PROXY:
    // the merchant and a client without a key share one address.
    const shared = await buildTestApp({ LEAKGUARD_AUTH_FAILURES_PER_MINUTE: '3', LEAKGUARD_API_KEY_CACHE_MS: '200' });
    try {
      const ADDRESS = '203.0.113.7';
      const on = (headers: Record<string, string>) =>
        shared.app.inject({ method: 'POST', url: '/v1/score', headers, payload: scoreBody(), remoteAddress: ADDRESS });
      const aged = () => new Promise((resolve) => setTimeout(resolve, 300));
      expect((await on(bearer(shared.keys.merchant))).statusCode).toBe(200);
      const junk: number[] = [];
      for (let n = 0; n < 4; n++) junk.push((await on(bearer(randomToken(100 + n)))).statusCode);
      expect(junk).toEqual([401, 401, 401, 429]);
      expect((await on(bearer(shared.keys.merchant))).statusCode).toBe(200);
      // Its cache entry aged: the key the engine holds as valid is looked up again, not refused with the address.
      await aged();
      const again = await on(bearer(shared.keys.merchant));
      expect(again.statusCode).toBe(200);
      expect(again.json()).toHaveProperty('decision');
      // The limit still applies to every key the engine does not know.
      expect((await on(bearer(randomToken(104)))).statusCode).toBe(429);
      expect((await on({})).statusCode).toBe(429);
      // A revoked key stops within the cache lifetime, and is then as unknown as any other.
      const [record] = (await shared.runtime.apiKeys.list()).filter((r) => r.merchantId === 'm1');
      await shared.runtime.apiKeys.revoke(record!.id, new Date().toISOString());
      await aged();
      expect((await on(bearer(shared.keys.merchant))).statusCode).toBe(401);
      expect((await on(bearer(shared.keys.merchant))).statusCode).toBe(429);
    } finally {
      await shared.close();
    }
  });

  it('count an IPv6 client by its /64, as the console does: changing address inside it gains nothing', async () => {
    // One host commonly holds a whole /64: counted per address, it could try without end.
    const inside = (n: number) => `2001:db8:7:8::${n.toString(16)}`;
    const codes: number[] = [];
    for (let n = 1; n <= 5; n++) codes.push((await score(bearer(randomToken(200 + n)), inside(n))).statusCode);
    expect(codes).toEqual([401, 401, 401, 401, 401]);
    const limited: number[] = [];
    for (const address of [inside(6), inside(0xffff), '2001:db8:7:8:aaaa:bbbb:cccc:dddd', '2001:0db8:0007:0008::1'])
      limited.push((await score(bearer(randomToken(210)), address)).statusCode);
    expect(limited).toEqual([429, 429, 429, 429]);
    // The next /64 is another client, and a real key from the limited /64 still works.
    expect((await score(bearer(randomToken(211)), '2001:db8:7:9::1')).statusCode).toBe(401);
    expect((await score(bearer(t.keys.merchant), inside(7))).statusCode).toBe(200);
  });

  it('count an IPv4-mapped IPv6 peer as its IPv4 address', async () => {
    for (let n = 0; n < 5; n++)
      expect((await score(bearer(randomToken(300 + n)), '198.51.100.99')).statusCode).toBe(401);
    expect((await score(bearer(randomToken(305)), '::ffff:198.51.100.99')).statusCode).toBe(429);
  });
});
