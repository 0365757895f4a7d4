// The stream processor's /metrics follows the engine's rule (services/http/access.ts): with
// LEAKGUARD_METRICS_TOKEN, the bearer token from anywhere; without one, nobody in production and
// loopback clients only elsewhere. /healthz stays open (container health checks).
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import { ConfigError } from '../../services/config.ts';
import { loadStreamConfig } from '../../streams/config.ts';
import { startMetricsServer } from '../../streams/metrics.ts';
import type { MetricsAccess } from '../../services/http/access.ts';

const TOKEN = 'scrape-Token_0123456789abcdefghijklmnopqrstuv';
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/**
 * Serves on loopback; `seenFrom`: the address the server sees its clients at (every machine has a
 * loopback interface, not every one another: a test client cannot always reach it from elsewhere).
 */
async function serve(access: MetricsAccess, seenFrom?: string) {
  const registry = new Registry();
  new Counter({ name: 'leakguard_stream_test_total', help: 'test', registers: [registry] }).inc();
  const server = await startMetricsServer({
    host: '127.0.0.1',
    port: 0,
    registries: [registry],
    health: () => ({ ok: true }) as never,
    access,
  });
  if (seenFrom)
    server.server.prependListener('connection', (socket: Socket) =>
      Object.defineProperty(socket, 'remoteAddress', { value: seenFrom }),
    );
  close = server.close;
  return server.port;
}

const get = (port: number, path: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });

describe('stream processor /metrics access', () => {
  it('needs the scrape token as a bearer token when one is configured', async () => {
    const port = await serve({ token: TOKEN, production: true });
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer nope' }, { authorization: TOKEN }]) {
      const res = await get(port, '/metrics', headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(JSON.parse(res.body).error).toContain('LEAKGUARD_METRICS_TOKEN');
      expect(res.body).not.toContain('leakguard_stream_test_total');
    }
    const ok = await get(port, '/metrics', { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('leakguard_stream_test_total');
    expect((await get(port, '/healthz')).status).toBe(200);
  });

  it('is refused in production without a token, even from loopback; /healthz stays open', async () => {
    const port = await serve({ production: true });
    const res = await get(port, '/metrics');
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).error).toContain('LEAKGUARD_METRICS_TOKEN');
    expect((await get(port, '/healthz')).status).toBe(200);
  });

  it('outside production without a token: loopback clients only', async () => {
    const port = await serve({ production: false });
    expect((await get(port, '/metrics')).status).toBe(200);
    await close!();
    const remote = await get(await serve({ production: false }, '203.0.113.5'), '/metrics');
    expect(remote.status).toBe(403);
    expect(JSON.parse(remote.body).error).toContain('loopback');
  });

  it("reads LEAKGUARD_METRICS_TOKEN with the engine's check", () => {
    const base = { KAFKA_BROKERS: 'kafka:9092', REDIS_URL: 'redis://redis:6379' };
    expect(loadStreamConfig(base).metricsToken).toBeUndefined();
    expect(loadStreamConfig({ ...base, LEAKGUARD_METRICS_TOKEN: TOKEN }).metricsToken).toBe(TOKEN);
    expect(() => loadStreamConfig({ ...base, LEAKGUARD_METRICS_TOKEN: 'short' })).toThrow(ConfigError);
    expect(() => loadStreamConfig({ ...base, LEAKGUARD_METRICS_TOKEN: 'short' })).toThrow(/LEAKGUARD_METRICS_TOKEN: /);
  });
});
