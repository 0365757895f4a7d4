// Console sessions have an absolute lifetime (LEAKGUARD_CONSOLE_SESSION_MAX_MS) besides the idle
// timeout: a session in constant use still ends that long after sign-in, and the next request goes
// to the sign-in page with a notice saying why, audited like an idle expiry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { loggedIn } from './client.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp(
    { LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14', LEAKGUARD_CONSOLE_SESSION_MAX_MS: '60000' },
    { cases: true },
  );
});
afterAll(() => t?.close());

const cases = () => t.runtime.cases!;

describe('session lifetime', () => {
  it('ends an active session once it is older than the configured lifetime, with a notice, and audits it', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.8.1');
    const token = client.jar.get('__Host-lg_console')!;
    // Signed in 59 s ago and used all along: still within the 60 s lifetime.
    await cases().sql.query(`UPDATE console_sessions SET created_at = now() - interval '59 seconds'`);
    expect((await client.get('/console/queue')).status).toBe(200);
    // 61 s ago, and just seen (never idle): the lifetime alone ends it.
    await cases().sql.query(`UPDATE console_sessions SET created_at = now() - interval '61 seconds'`);
    const res = await client.get('/console/queue');
    expect([res.status, res.location]).toEqual([303, '/console/login?expired=max_age']);
    expect((await client.get('/console/login?expired=max_age')).body).toContain(
      'Your session ended: a session lasts at most 1 minute after sign-in. Sign in again.',
    );
    // Gone server-side: the old cookie replayed is not a session any more.
    const replay = await t.app.inject({
      method: 'GET',
      url: '/console/queue',
      headers: { cookie: `__Host-lg_console=${token}` },
    });
    expect([replay.statusCode, replay.headers.location]).toEqual([303, '/console/login']);
    const [entry] = await cases().audit.list({ limit: 1, action: 'session_expired' });
    expect(entry).toMatchObject({ actor: 'console', detail: { ip: '10.0.8.1', reason: 'max_age' } });
  });

  it('refuses an action of a session past its lifetime with 401', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.8.2');
    await cases().sql.query(`UPDATE console_sessions SET created_at = now() - interval '61 seconds'`);
    const res = await client.post('/console/queue/take-next');
    expect(res.status).toBe(401);
    expect(res.body).toContain('Your session expired. Sign in again.');
    expect(client.jar.has('__Host-lg_console')).toBe(false);
  });

  it('still tells an idle expiry apart: its own notice', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.8.3');
    await cases().sql.query(
      `UPDATE console_sessions SET created_at = now() - interval '61 seconds', last_seen_at = now() - interval '16 minutes'`,
    );
    const res = await client.get('/console/queue');
    expect([res.status, res.location]).toEqual([303, '/console/login?expired=1']);
  });
});
