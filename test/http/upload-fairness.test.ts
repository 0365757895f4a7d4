// An upload must not freeze scoring, whatever its lines (issue #13): one issuer key sent lines of
// a digit and thousands of spaces, the line parser backtracked on each, and /healthz and
// /v1/score stood still for seconds. Real sockets, a real Redis, scoring while the upload runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, scoreBody, type TestApp } from '../support/app.ts';
import { RedisServer } from '../support/redis-server.ts';

const DEADLINE_MS = 250;
let redis: RedisServer;
let t: TestApp;
let base: string;

beforeAll(async () => {
  redis = await RedisServer.start();
  // The shared test app's upload limit is small; this upload is megabytes.
  t = await buildTestApp({
    REDIS_URL: redis.url,
    LEAKGUARD_UPLOAD_LIMIT_BYTES: String(64 * 1024 * 1024),
    LEAKGUARD_DEADLINE_MS: String(DEADLINE_MS),
  });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  // An issuer without BIN ranges is refused before its list is read: this one has some.
  await t.runtime.watchlist.setBinRanges('i1', [{ from: '411111', to: '411199' }]);
});
afterAll(async () => {
  await t.close();
  await redis.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a card-list upload of pathological lines', () => {
  it('leaves /v1/score and /healthz answering within the deadline while it runs', async () => {
    const ev = await t.app.inject({
      method: 'POST',
      url: '/v1/compromise-events',
      headers: bearer(t.keys.issuer),
      payload: {
        externalId: 'spaces',
        source: 's',
        exposureStart: '2026-01-01T00:00:00Z',
        exposureEnd: '2026-02-01T00:00:00Z',
        discoveredAt: '2026-03-01T00:00:00Z',
        dataElements: ['pan'],
      },
    });
    const eventId = ev.json().id as string;
    // Warm up scoring (connections, compiled scripts) before measuring it.
    for (let i = 0; i < 5; i++)
      await fetch(`${base}/v1/score`, {
        method: 'POST',
        headers: { ...bearer(t.keys.merchant), 'content-type': 'application/json' },
        body: JSON.stringify(scoreBody()),
      });

    // Six bursts of 1 MiB (256 lines of a digit, 4,000 spaces and a letter) 50 ms apart: the upload
    // lasts long enough to score meanwhile, and each burst is more than one 64 KiB read. One card
    // first: a list none of whose first 1,000 lines is a card would be refused there, unread.
    const line = `1${' '.repeat(4_000)}x\n`;
    const burst = new TextEncoder().encode(line.repeat(256));
    const first = new TextEncoder().encode(`4111111111111111\n${line.repeat(256)}`);
    const BURSTS = 6;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === BURSTS) return controller.close();
        if (sent > 0) await sleep(50);
        sent++;
        controller.enqueue(sent === 1 ? first : burst);
      },
    });
    let uploading = true;
    const upload = fetch(`${base}/v1/compromise-events/${eventId}/cards`, {
      method: 'POST',
      headers: { ...bearer(t.keys.issuer), 'content-type': 'text/csv' },
      body,
      duplex: 'half',
    } as RequestInit)
      .then(async (res) => ({ status: res.status, body: await res.json() }))
      .finally(() => (uploading = false));

    const timings: { route: string; ms: number; status: number; degraded?: boolean }[] = [];
    while (uploading) {
      let start = performance.now();
      const res = await fetch(`${base}/v1/score`, {
        method: 'POST',
        headers: { ...bearer(t.keys.merchant), 'content-type': 'application/json' },
        body: JSON.stringify(scoreBody()),
      });
      const scored = (await res.json()) as { degraded: boolean };
      timings.push({ route: 'score', ms: performance.now() - start, status: res.status, degraded: scored.degraded });
      start = performance.now();
      const health = await fetch(`${base}/healthz`);
      await health.arrayBuffer();
      timings.push({ route: 'healthz', ms: performance.now() - start, status: health.status });
      await sleep(5);
    }
    const result = await upload;
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ accepted: 1, rejected: 256 * BURSTS });
    expect(result.body.errors[0]).toEqual({
      line: 2,
      code: 'MALFORMED',
      reason: 'expected pan[,expiry_month,expiry_year]',
      card: '(unreadable)',
    });

    // Scoring really ran meanwhile, more than once.
    expect(timings.length).toBeGreaterThanOrEqual(4);
    for (const x of timings) expect(x.status).toBe(200);
    // Within the deadline, with room for a shared machine's HTTP overhead; the frozen engine took seconds.
    const slowest = Math.max(...timings.map((x) => x.ms));
    expect(slowest).toBeLessThan(DEADLINE_MS * 2);
    expect(timings.filter((x) => x.degraded)).toEqual([]);
  });
});
