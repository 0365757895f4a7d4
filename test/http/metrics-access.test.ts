// /metrics is not public: with LEAKGUARD_METRICS_TOKEN it needs that bearer token; without one it
// is refused in production and served to loopback clients only elsewhere. The watchlist-hit
// counter is labelled by compromise event only (no per-merchant series).
import { afterEach, describe, expect, it } from 'vitest';
import { loadAccessConfig } from '../../services/http/access.ts';
import { ConfigError } from '../../services/config.ts';
import { buildTestApp, type TestApp } from '../support/app.ts';

const TOKEN = 'scrape-Token_0123456789abcdefghijklmnopqrstuv';
let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const scrape = (headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') =>
  t!.app.inject({ method: 'GET', url: '/metrics', headers, remoteAddress });

describe('/metrics access', () => {
  it('needs the scrape token as a bearer token when one is configured, from any address', async () => {
    t = await buildTestApp({ LEAKGUARD_METRICS_TOKEN: TOKEN });
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Bearer wrong-token-wrong-token-wrong-token' },
      { authorization: TOKEN },
      { authorization: `Bearer ${TOKEN}x` },
    ]) {
      const res = await scrape(headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.json().error).toContain('LEAKGUARD_METRICS_TOKEN');
      expect(res.body).not.toContain('leakguard_');
    }
    const ok = await scrape({ authorization: `Bearer ${TOKEN}` }, '198.51.100.20');
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('leakguard_decisions_total');
  });

  it('is refused in production when no token is configured, even from loopback', async () => {
    t = await buildTestApp({ NODE_ENV: 'production' });
    const res = await scrape();
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toContain('LEAKGUARD_METRICS_TOKEN');
  });

  it('stays open to loopback clients only outside production without a token', async () => {
    t = await buildTestApp();
    expect((await scrape({}, '127.0.0.1')).statusCode).toBe(200);
    expect((await scrape({}, '::1')).statusCode).toBe(200);
    const remote = await scrape({}, '203.0.113.5');
    expect(remote.statusCode).toBe(403);
    expect(remote.json().error).toContain('loopback');
  });

  it('labels watchlist hits by compromise event only', async () => {
    t = await buildTestApp();
    const observer = t.runtime.metrics.observer();
    for (let i = 0; i < 50; i++) observer.watchlistHit!(['ce_1'], `merchant-${i}`);
    const body = (await scrape()).body;
    const lines = body.split('\n').filter((l) => l.startsWith('leakguard_watchlist_hits_total'));
    expect(lines).toEqual(['leakguard_watchlist_hits_total{event="ce_1"} 50']);
  });

  it('refuses a short token and a proxy setting that trusts every hop, naming the variable', () => {
    expect(() => loadAccessConfig({ LEAKGUARD_METRICS_TOKEN: 'short' })).toThrow(ConfigError);
    expect(() => loadAccessConfig({ LEAKGUARD_METRICS_TOKEN: 'short' })).toThrow(/LEAKGUARD_METRICS_TOKEN: /);
    expect(() => loadAccessConfig({ LEAKGUARD_TRUST_PROXY: 'true' })).toThrow(/LEAKGUARD_TRUST_PROXY: /);
    expect(() => loadAccessConfig({ LEAKGUARD_TRUST_PROXY: '10.0.0.0/33' })).toThrow(/LEAKGUARD_TRUST_PROXY: /);
    expect(loadAccessConfig({})).toEqual({ trustProxy: false });
    expect(loadAccessConfig({ LEAKGUARD_TRUST_PROXY: 'off' })).toEqual({ trustProxy: false });
    expect(loadAccessConfig({ LEAKGUARD_TRUST_PROXY: '2' })).toEqual({ trustProxy: 2 });
    expect(loadAccessConfig({ LEAKGUARD_TRUST_PROXY: '10.0.0.0/8, loopback,::1' })).toEqual({
      trustProxy: '10.0.0.0/8,loopback,::1',
    });
    expect(loadAccessConfig({ LEAKGUARD_METRICS_TOKEN: TOKEN })).toEqual({ trustProxy: false, metricsToken: TOKEN });
  });
});
