// Strict-Transport-Security: TLS is terminated in front of the engine, so the engine says so on every
// answer (API, /docs, console) in production, and on any answer to a request that arrived over https
// (X-Forwarded-Proto from a trusted proxy). Plain http in development gets none (browsers ignore it
// there anyway, but a curl user should not be told otherwise).
import { afterEach, describe, expect, it } from 'vitest';
import { HSTS } from '../../services/http/app.ts';
import { buildTestApp, type TestApp } from '../support/app.ts';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const get = (url: string, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') =>
  t!.app.inject({ method: 'GET', url, headers, remoteAddress });

describe('Strict-Transport-Security', () => {
  it('is sent on API, /docs and error answers in production', async () => {
    t = await buildTestApp({ NODE_ENV: 'production' });
    expect(HSTS).toBe('max-age=63072000; includeSubDomains');
    for (const url of ['/healthz', '/docs/', '/openapi.json', '/v1/watchlists/events', '/no-such-route']) {
      const res = await get(url);
      expect(res.headers['strict-transport-security'], url).toBe(HSTS);
    }
  });

  it('outside production: only when the request came over https through a trusted proxy', async () => {
    t = await buildTestApp({ LEAKGUARD_TRUST_PROXY: 'loopback' }, { cases: true });
    expect((await get('/healthz')).headers['strict-transport-security']).toBeUndefined();
    for (const url of ['/healthz', '/docs/', '/console/login']) {
      const res = await get(url, { 'x-forwarded-proto': 'https' });
      expect(res.headers['strict-transport-security'], url).toBe(HSTS);
    }
    // An untrusted client cannot claim https (nor does it matter: it is only ever more HSTS).
    expect(
      (await get('/console/login', { 'x-forwarded-proto': 'https' }, '203.0.113.9')).headers[
        'strict-transport-security'
      ],
    ).toBeUndefined();
  });
});
