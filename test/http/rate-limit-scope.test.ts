// What the API rate limit counts, and under which limit (found by a review): health checks,
// readiness probes and Prometheus scrapes share no bucket with anything (a per-merchant limit
// throttled the load balancer's probes and the scrapes: LeakguardTargetDown fired, /readyz looked
// not ready); requests without an API key have a limit of their own, not the per-key one, counted
// per console account once signed in (analysts behind one NAT share no bucket), else per address.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, type TestApp } from '../support/app.ts';
import { ConsoleClient, newUser } from '../console/client.ts';

const METRICS_TOKEN = 'm'.repeat(40);
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp(
    {
      LEAKGUARD_RATE_LIMIT_PER_MINUTE: '3',
      LEAKGUARD_RATE_LIMIT_WITHOUT_KEY_PER_MINUTE: '8',
      LEAKGUARD_METRICS_TOKEN: METRICS_TOKEN,
      LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14',
    },
    { cases: true },
  );
}, 120_000);
afterAll(() => t?.close());

describe('the API rate limit', () => {
  it('never holds back health checks, readiness probes or metrics scrapes', async () => {
    const from = '10.6.0.1';
    const statuses = async (url: string, headers: Record<string, string> = {}) => {
      const out: number[] = [];
      for (let i = 0; i < 20; i++)
        out.push((await t.app.inject({ method: 'GET', url, remoteAddress: from, headers })).statusCode);
      return out;
    };
    const twenty = (status: number) => Array.from({ length: 20 }, () => status);
    expect(await statuses('/healthz')).toEqual(twenty(200));
    expect(await statuses('/readyz')).toEqual(twenty(200));
    expect(await statuses('/metrics', bearer(METRICS_TOKEN))).toEqual(twenty(200));
    // Nor do they count against the address's other requests.
    expect((await t.app.inject({ method: 'GET', url: '/console/login', remoteAddress: from })).statusCode).toBe(200);
  });

  it('limits requests without a key by their own limit, per address, an IPv6 client by its /64', async () => {
    // The console's sign-in form: a page without a key, and no session yet.
    const form = (remoteAddress: string) => t.app.inject({ method: 'GET', url: '/console/login', remoteAddress });
    const codes: number[] = [];
    // Each try from another address of the same /64: one host commonly holds all of it.
    for (let n = 1; n <= 10; n++) codes.push((await form(`2001:db8:7:8::${n}`)).statusCode);
    // 8 a minute (LEAKGUARD_RATE_LIMIT_WITHOUT_KEY_PER_MINUTE), not the keys' 3.
    expect(codes).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 429, 429]);
    expect((await form('2001:db8:7:9::1')).statusCode).toBe(200);
    // A key's requests from that address have the key's limit, untouched by the address's.
    const events = () =>
      t.app.inject({
        method: 'GET',
        url: '/v1/compromise-events',
        remoteAddress: '2001:db8:7:8::1',
        headers: bearer(t.keys.issuer),
      });
    const keyed: number[] = [];
    for (let i = 0; i < 4; i++) keyed.push((await events()).statusCode);
    expect(keyed).toEqual([200, 200, 200, 429]);
  });

  it('counts a signed-in analyst’s console pages per account: colleagues behind one address share no bucket', async () => {
    const office = '10.6.1.1';
    const [a, b] = [await newUser(t, 'analyst'), await newUser(t, 'analyst')];
    const [ca, cb] = [new ConsoleClient(t.app, office), new ConsoleClient(t.app, office)];
    // Signing in: the form and its post count for the address (4 of its 8).
    expect((await ca.login(a.username, a.password, a.totpSecret)).status).toBe(303);
    expect((await cb.login(b.username, b.password, b.totpSecret)).status).toBe(303);
    // Each has 8 pages a minute of their own (one spent landing on the queue after signing in).
    const views = async (c: ConsoleClient, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await c.get('/console/queue')).status);
      return out;
    };
    expect(await views(ca, 7)).toEqual([200, 200, 200, 200, 200, 200, 200]);
    expect(await views(cb, 7)).toEqual([200, 200, 200, 200, 200, 200, 200]);
    expect(await views(ca, 1)).toEqual([429]);
    // The address's own count is where the sign-ins left it: the sign-in form still opens.
    expect((await new ConsoleClient(t.app, office).get('/console/login')).status).toBe(200);
  });
});
