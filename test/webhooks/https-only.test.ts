// Deliveries carry card BINs, last 4 digits, amounts and ids: in production a receiver must be
// https://, when subscribing and again at each delivery, unless LEAKGUARD_WEBHOOK_ALLOW_HTTP=1.
// Outside production plain http stays accepted (local receivers, tests).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDestination, HTTPS_REQUIRED } from '../../services/adapters/webhooks/address-guard.ts';
import { HttpWebhookSender } from '../../services/adapters/webhooks/http-sender.ts';
import { configSchema } from '../../services/config.ts';
import { bearer, buildTestApp, type TestApp } from '../support/app.ts';

// Public addresses, written as such: nothing is resolved, nothing is sent (subscribing only checks).
const HTTP = 'http://93.184.216.34/hooks';
const HTTPS = 'https://93.184.216.34/hooks';

const production = (more: Record<string, string> = {}) =>
  buildTestApp(
    {
      NODE_ENV: 'production',
      LEAKGUARD_AUDIT_KEY: 'e'.repeat(64),
      LEAKGUARD_AUDIT_CHECKPOINT_FILE: join(mkdtempSync(join(tmpdir(), 'lg-wh-https-')), 'checkpoints.ndjson'),
      ...more,
    },
    { cases: true },
  );

let strict: TestApp;
let optedOut: TestApp;
let development: TestApp;
beforeAll(async () => {
  [strict, optedOut, development] = await Promise.all([
    production(),
    production({ LEAKGUARD_WEBHOOK_ALLOW_HTTP: '1' }),
    buildTestApp({}, { cases: true }),
  ]);
}, 120_000);
afterAll(async () => {
  await Promise.all([strict?.close(), optedOut?.close(), development?.close()]);
});

const subscribe = (t: TestApp, url: string) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/webhooks',
    headers: bearer(t.keys.issuer),
    payload: { url, eventTypes: ['watchlist.hit'] },
  });

describe('webhook receivers over plain http', () => {
  it('are refused in production when subscribing (422, the reason given); https is accepted', async () => {
    const refused = await subscribe(strict, HTTP);
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'WEBHOOK_URL_REFUSED', details: [{ path: 'url' }] });
    expect(JSON.stringify(refused.json())).toContain('use an https:// URL');
    expect((await subscribe(strict, HTTPS)).statusCode).toBe(201);
  });

  it('are accepted in production with LEAKGUARD_WEBHOOK_ALLOW_HTTP=1 (with a warning), and outside production', async () => {
    expect((await subscribe(optedOut, HTTP)).statusCode).toBe(201);
    expect(optedOut.logs.some((l) => l.includes('LEAKGUARD_WEBHOOK_ALLOW_HTTP=1 in production'))).toBe(true);
    expect(strict.logs.some((l) => l.includes('LEAKGUARD_WEBHOOK_ALLOW_HTTP'))).toBe(false);
    expect((await subscribe(development, HTTP)).statusCode).toBe(201);
  });

  it('are refused again at delivery (a subscription made before, a redirect target)', async () => {
    const sender = new HttpWebhookSender({ allowPrivate: true, requireHttps: true, timeoutMs: 1_000 });
    expect(await sender.send('http://127.0.0.1:9/h', '{}', {})).toEqual({
      statusCode: null,
      error: `refused: ${HTTPS_REQUIRED}`,
    });
    expect(await checkDestination(HTTPS, { allowPrivate: false, requireHttps: true })).toMatchObject({ ok: true });
    expect(await checkDestination(HTTP, { allowPrivate: false })).toMatchObject({ ok: true });
  });

  it('LEAKGUARD_WEBHOOK_ALLOW_HTTP takes 0 or 1', () => {
    expect(configSchema.shape.LEAKGUARD_WEBHOOK_ALLOW_HTTP.parse(undefined)).toBe('0');
    expect(configSchema.shape.LEAKGUARD_WEBHOOK_ALLOW_HTTP.safeParse('yes').success).toBe(false);
  });
});
