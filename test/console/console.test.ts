// The console over HTTP (real app, PGlite): login with password + TOTP, lockout, rate limit,
// sessions and idle expiry, CSRF, roles on every route, injection payloads in every filter,
// hostile merchant strings rendered as text, decisions and their feedback, users, audit.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { caseQuerySchema, servedPage } from '../../services/cases/model.ts';
import { CONSOLE_CSP } from '../../services/console/plugin.ts';
import { totp, verifyPassword } from '../../services/console/credentials.ts';
import { bearer, buildTestApp, scoreBody, type TestApp } from '../support/app.ts';
import { INJECTION_PAYLOADS } from './fixtures.ts';
import { ConsoleClient, enrol, flagCase, freshTotpStep, loggedIn, newUser } from './client.ts';
import { hostileOrder, HOSTILE_EMAIL, PAYLOADS } from './hostile.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' }, { cases: true });
});
afterAll(() => t?.close());

const cases = () => t.runtime.cases!;
const flag = (over: Record<string, unknown> = {}) => flagCase(t, over);

const GET_ROUTES = [
  '/console/queue',
  '/console/dashboard',
  '/console/cases/1',
  '/console/admin/users',
  '/console/admin/audit',
  '/console/admin/audit/export',
  '/console/account',
];
const POST_ROUTES = [
  '/console/logout',
  '/console/queue/take-next',
  '/console/cases/1/assign',
  '/console/cases/1/decision',
  '/console/cases/1/notes',
  '/console/admin/users',
  '/console/admin/users/someone',
  '/console/account/password',
];

describe('headers and assets', () => {
  it('serves every console page with a strict CSP, nosniff, no-referrer and no framing', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/console/login' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).not.toMatch(/unsafe-inline|unsafe-eval/);
    // The console serves no script: none may run, not even one of its own origin.
    expect(res.headers['content-security-policy']).toContain("script-src 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.body).not.toMatch(/<script|style=/i);
    const css = await t.app.inject({ method: 'GET', url: '/console/assets/console.css' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toContain('text/css');
    for (const url of [
      '/console/assets/../../package.json',
      '/console/assets/%2e%2e%2fpackage.json',
      '/console/assets/..%2f..%2fservices%2fconfig.ts',
      '/console/assets/README.md',
    ]) {
      const r = await t.app.inject({ method: 'GET', url });
      expect(r.statusCode).toBe(404);
      expect(r.body).not.toContain('"name": "leakguard"');
    }
  });

  it("carries the console's headers on the router's own refusals of a console path too (found by a review)", async () => {
    // A malformed escape, an over-long path: answered before any route, where the console's plugin sets nothing.
    for (const [url, status] of [
      ['/console/cases/%E0%A4%A', 400],
      ['/console/assets/%E0%A4%A', 400],
      [`/console/assets/${'a'.repeat(200)}`, 414],
    ] as const) {
      const r = await t.app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(status);
      expect(r.headers['content-security-policy'], url).toBe(CONSOLE_CSP);
      expect(r.headers['x-frame-options'], url).toBe('DENY');
      expect(r.headers['referrer-policy'], url).toBe('no-referrer');
    }
    // The API's own answers are the API's.
    const api = await t.app.inject({ method: 'GET', url: '/v1/cards/%E0%A4%A' });
    expect(api.headers['content-security-policy']).toBeUndefined();
  });
});

describe('login', () => {
  it('signs in with password and TOTP, sets a HttpOnly, Secure, SameSite=Strict __Host- cookie, and audits it', async () => {
    const user = await newUser(t, 'analyst');
    const c = new ConsoleClient(t.app, '10.0.0.1');
    await c.get('/console/login');
    const res = await c.post('/console/login', {
      username: user.username,
      password: user.password,
      code: totp(user.totpSecret),
    });
    expect(res.status).toBe(303);
    expect(res.location).toBe('/console/queue');
    const cookie = ([] as string[])
      .concat(res.headers['set-cookie'] as string[])
      .find((x) => x.startsWith('__Host-lg_console='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\//);
    const queue = await c.get('/console/queue');
    expect(queue.status).toBe(200);
    expect(queue.body).toContain(user.username);
    const entries = await cases().audit.list({ limit: 50, action: 'login' });
    expect(entries.some((e) => e.actor === user.username)).toBe(true);
  });

  it('refuses a wrong password, a wrong code, a reused code and a missing form token, all audited', async () => {
    const user = await newUser(t, 'analyst');
    const c = new ConsoleClient(t.app, '10.0.0.2');
    await c.get('/console/login');
    expect(
      (await c.post('/console/login', { username: user.username, password: 'wrong', code: totp(user.totpSecret) }))
        .status,
    ).toBe(401);
    const wrongCode = await c.post('/console/login', {
      username: user.username,
      password: user.password,
      code: totp(user.totpSecret, Date.now() - 10 * 60_000),
    });
    expect(wrongCode.status).toBe(401);
    expect(wrongCode.body).toContain('Wrong username, password or code.');
    expect((await c.post('/console/login', { username: 'nobody-here', password: 'x', code: '123456' })).status).toBe(
      401,
    );
    const code = totp(user.totpSecret);
    expect((await c.login(user.username, user.password, user.totpSecret, code)).status).toBe(303);
    const again = new ConsoleClient(t.app, '10.0.0.2');
    expect((await again.login(user.username, user.password, user.totpSecret, code)).status).toBe(401);
    const noToken = new ConsoleClient(t.app, '10.0.0.2');
    expect(
      (
        await noToken.post(
          '/console/login',
          { username: user.username, password: user.password, code: totp(user.totpSecret) },
          { csrf: false },
        )
      ).status,
    ).toBe(403);
    const failures = await cases().audit.list({ limit: 100, action: 'login_failed' });
    const reasons = failures.filter((e) => e.target === `user:${user.username}`).map((e) => e.detail.reason);
    expect(reasons).toEqual(expect.arrayContaining(['bad_password', 'bad_code', 'code_reused']));
    expect(failures.some((e) => e.target === 'user:nobody-here' && e.detail.reason === 'unknown_user')).toBe(true);
  });

  it('locks an account for at least 30 minutes after 10 failed attempts, even for the right password', async () => {
    const user = await newUser(t, 'analyst');
    const c = new ConsoleClient(t.app, '10.0.0.3');
    await c.get('/console/login');
    for (let i = 0; i < 10; i++)
      await c.post('/console/login', { username: user.username, password: `bad-${i}`, code: '000000' });
    const stored = await cases().users.find(user.username);
    expect(Date.parse(stored!.lockedUntil!) - Date.now()).toBeGreaterThanOrEqual(29.9 * 60_000);
    const res = await c.login(user.username, user.password, user.totpSecret);
    expect(res.status).toBe(401);
    expect(res.body).toContain('locked');
    const failures = await cases().audit.list({ limit: 100, action: 'login_failed' });
    expect(failures.some((e) => e.target === `user:${user.username}` && e.detail.reason === 'locked')).toBe(true);
  });

  it('rate-limits login attempts per client address', async () => {
    const c = new ConsoleClient(t.app, '10.0.0.4');
    await c.get('/console/login');
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++)
      statuses.push((await c.post('/console/login', { username: `ghost-${i}`, password: 'x', code: '000000' })).status);
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429]);
    // Another address is not affected.
    const other = new ConsoleClient(t.app, '10.0.0.5');
    await other.get('/console/login');
    expect((await other.post('/console/login', { username: 'ghost', password: 'x', code: '000000' })).status).toBe(401);
  });
});

describe('sessions, CSRF and roles', () => {
  it('sends every route without a session (or with a forged one) to login: 303 for pages, 401 for actions', async () => {
    for (const cookie of ['', '__Host-lg_console=forged-token-forged-token-forged-token', 'lg_console=x']) {
      for (const url of GET_ROUTES) {
        const r = await t.app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} });
        // The page asked for rides along, to return to after sign-in (the queue is where it lands anyway).
        const next = url === '/console/queue' ? '' : `?next=${encodeURIComponent(url)}`;
        expect([r.statusCode, r.headers.location], url).toEqual([303, `/console/login${next}`]);
      }
      for (const url of POST_ROUTES) {
        const r = await t.app.inject({
          method: 'POST',
          url,
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
          payload: '_csrf=x',
        });
        expect(r.statusCode, url).toBe(401);
      }
    }
  });

  it('expires a session after 15 minutes without a request, and audits the expiry', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.1.1');
    expect((await client.get('/console/queue')).status).toBe(200);
    await cases().sql.query(`UPDATE console_sessions SET last_seen_at = now() - interval '15 minutes 1 second'`);
    const res = await client.get('/console/queue');
    expect([res.status, res.location]).toEqual([303, '/console/login?expired=1']);
    expect((await client.get('/console/login?expired=1')).body).toContain('Your session expired');
    expect((await client.get('/console/queue')).status).toBe(303);
    expect((await cases().audit.list({ limit: 5, action: 'session_expired' })).length).toBeGreaterThan(0);
  });

  it('refuses every state-changing request without the CSRF token, with a wrong one, or from another origin', async () => {
    const { client } = await loggedIn(t, 'admin', '10.0.1.2');
    const c = await flag();
    const routes = POST_ROUTES.map((r) => r.replace('/1/', `/${c.id}/`))
      .filter((r) => r !== '/console/logout')
      .concat('/console/logout');
    for (const url of routes) {
      const fields = { action: 'mark_fraud', text: 'x', username: 'newbie', role: 'analyst', op: 'disable' };
      const none = await client.post(url, fields, { csrf: false });
      expect(none.status, url).toBe(403);
      expect(none.body).toContain('CSRF');
      expect((await client.post(url, { ...fields, _csrf: 'A'.repeat(43) })).status, url).toBe(403);
    }
    expect(
      (
        await client.post(
          `/console/cases/${c.id}/notes`,
          { text: 'x' },
          { headers: { origin: 'https://evil.example' } },
        )
      ).status,
    ).toBe(403);
    expect((await cases().store.get(c.id))!.status).toBe('open');
    expect(await cases().store.history(c.id)).toHaveLength(1);
    expect(await cases().users.find('newbie')).toBeUndefined();
    // Still signed in: logout was refused too.
    expect((await client.get('/console/queue')).status).toBe(200);
  });

  it('keeps analysts and leads out of admin routes and analysts out of escalated decisions', async () => {
    const c = await flag();
    await cases().store.decide(c.id, 'escalate', 'someone');
    for (const role of ['analyst', 'lead'] as const) {
      const { client } = await loggedIn(t, role, `10.0.1.${role === 'analyst' ? 3 : 4}`);
      for (const url of GET_ROUTES.filter((u) => u.includes('/admin/')))
        expect((await client.get(url)).status, url).toBe(403);
      for (const url of ['/console/admin/users', '/console/admin/users/someone'])
        expect((await client.post(url, { username: 'sneaky', role: 'admin', op: 'role' })).status, url).toBe(403);
      const decide = await client.post(`/console/cases/${c.id}/decision`, { action: 'mark_legitimate' });
      // A refusal lands on the case page too (Post/Redirect/Get), answered with its status.
      expect(decide.status).toBe(303);
      if (role === 'analyst') expect((await client.get(decide.location!)).status).toBe(403);
    }
    expect((await cases().store.get(c.id))!.status).toBe('legitimate');
    expect(await cases().users.find('sneaky')).toBeUndefined();
  });

  it('lets only a lead take an escalated case or one assigned to someone else, and shows the button accordingly', async () => {
    const escalated = await flag();
    await cases().store.decide(escalated.id, 'escalate', 'someone');
    const others = await flag();
    await cases().store.assign(others.id, 'colleague', 'colleague');
    const free = await flag();
    const { client: analyst, user } = await loggedIn(t, 'analyst', '10.0.1.5');
    for (const [c, message] of [
      [escalated, `Case #${escalated.id} is escalated: a lead assigns it.`],
      [others, `Case #${others.id} is assigned to colleague: a lead reassigns it.`],
    ] as const) {
      expect((await analyst.get(`/console/cases/${c.id}`)).body).not.toContain('id="assign-me"');
      const refused = await analyst.post(`/console/cases/${c.id}/assign`);
      expect(refused.status).toBe(403);
      expect(refused.body).toContain(message);
    }
    expect((await cases().store.get(escalated.id))!.assignee).not.toBe(user.username);
    expect((await cases().store.get(others.id))!.assignee).toBe('colleague');
    // The store refuses it under the row lock too (a case escalated after the page was read).
    await expect(cases().store.assign(escalated.id, user.username, user.username)).rejects.toMatchObject({
      code: 'CASE_FORBIDDEN',
    });
    // An unassigned open case is any analyst's to take.
    expect((await analyst.get(`/console/cases/${free.id}`)).body).toContain('id="assign-me"');
    expect((await analyst.post(`/console/cases/${free.id}/assign`)).status).toBe(303);
    expect((await analyst.get(`/console/cases/${free.id}`)).body).not.toContain('id="assign-me"');
    const { client: lead, user: leadUser } = await loggedIn(t, 'lead', '10.0.1.6');
    for (const c of [escalated, others, free]) {
      expect((await lead.get(`/console/cases/${c.id}`)).body).toContain('id="assign-me"');
      expect((await lead.post(`/console/cases/${c.id}/assign`)).status).toBe(303);
      expect((await cases().store.get(c.id))!.assignee).toBe(leadUser.username);
    }
  });
  it('lets only the assignee or a lead decide an assigned case; others see who has it', async () => {
    const c = await flag();
    const { client: a, user: userA } = await loggedIn(t, 'analyst', '10.0.1.7');
    const { client: b, user: userB } = await loggedIn(t, 'analyst', '10.0.1.8');
    expect((await a.post(`/console/cases/${c.id}/assign`)).status).toBe(303);
    const seen = await b.get(`/console/cases/${c.id}`);
    expect(seen.body).not.toContain('id="decide-form"');
    expect(/id="decide-refusal">([^<]*)</.exec(seen.body)?.[1]).toBe(
      `Case #${c.id} is assigned to ${userA.username}: only they or a lead decide it.`,
    );
    for (const action of ['mark_fraud', 'mark_legitimate', 'escalate']) {
      const refused = await b.submit(`/console/cases/${c.id}/decision`, { action, note: 'not mine' });
      expect(refused.status, action).toBe(403);
      expect(refused.body).toContain(`is assigned to ${userA.username}`);
    }
    expect(await cases().store.get(c.id)).toMatchObject({
      status: 'in_review',
      assignee: userA.username,
      decidedBy: null,
    });
    expect((await cases().store.history(c.id)).map((e) => e.kind)).toEqual(['created', 'assigned']);
    // Under the row lock too: B's page may predate the assignment.
    await expect(cases().store.decide(c.id, 'mark_fraud', userB.username)).rejects.toMatchObject({
      code: 'CASE_FORBIDDEN',
    });
    // The assignee sees the form and decides.
    expect((await a.get(`/console/cases/${c.id}`)).body).toContain('id="decide-form"');
    expect((await a.post(`/console/cases/${c.id}/decision`, { action: 'escalate' })).status).toBe(303);
    // A lead decides another's case.
    const other = await flag();
    await cases().store.assign(other.id, userA.username, userA.username);
    const { client: lead, user: leadUser } = await loggedIn(t, 'lead', '10.0.1.9');
    const leadPage = await lead.get(`/console/cases/${other.id}`);
    expect(leadPage.body).toContain('id="decide-form"');
    expect(leadPage.body).not.toContain('id="decide-refusal"');
    expect((await lead.post(`/console/cases/${other.id}/decision`, { action: 'mark_legitimate' })).status).toBe(303);
    expect(await cases().store.get(other.id)).toMatchObject({ status: 'legitimate', decidedBy: leadUser.username });
  });
});

describe('queue and cases', () => {
  it('treats SQL injection payloads in every filter and path parameter as plain values', async () => {
    await flag();
    const { client } = await loggedIn(t, 'admin', '10.0.2.1');
    const before = await cases().store.count();
    const params = [
      'merchant',
      'decision',
      'reasonCode',
      'watchlistEvent',
      'from',
      'to',
      'status',
      'assignee',
      'sort',
      'page',
      'pageSize',
    ];
    for (const payload of INJECTION_PAYLOADS) {
      for (const p of params) {
        const res = await client.get(`/console/queue?${new URLSearchParams({ [p]: payload })}`);
        expect([200, 400], `${p}=${payload}`).toContain(res.status);
        if (res.status === 200 && !['status', 'sort'].includes(p)) expect(res.body).toContain('No cases match.');
      }
      for (const p of ['action', 'actor', 'before'])
        expect([200, 400]).toContain(
          (await client.get(`/console/admin/audit?${new URLSearchParams({ [p]: payload })}`)).status,
        );
      expect([400, 404]).toContain((await client.get(`/console/cases/${encodeURIComponent(payload)}`)).status);
      expect([400, 404]).toContain(
        (await client.post(`/console/admin/users/${encodeURIComponent(payload)}`, { op: 'disable' })).status,
      );
    }
    expect(await cases().store.count()).toBe(before);
    const users = await cases().sql.query<{ n: number }>('SELECT count(*)::int AS n FROM console_users WHERE disabled');
    expect(Number(users.rows[0]!.n)).toBe(0);
    expect((await cases().audit.verify()).ok).toBe(true);
  });

  it('filters, sorts by risk and pages the queue; take next assigns the riskiest open case', async () => {
    const low = await flag({
      card: { number: '4012888888881881', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
    });
    const high = await flag({
      card: { number: '4012888888881881', expiryMonth: 1, expiryYear: 2020, cvvResult: 'mismatch' },
      threeDS: { status: 'N' },
    });
    expect(high.score).toBeGreaterThan(low.score);
    const { client, user } = await loggedIn(t, 'analyst', '10.0.2.2');
    const q = await client.get('/console/queue?merchant=m1&pageSize=200');
    const ids = [...q.body.matchAll(/data-case="(\d+)"/g)].map((m) => Number(m[1]));
    expect(ids.indexOf(high.id)).toBeLessThan(ids.indexOf(low.id));
    expect((await client.get('/console/queue?reasonCode=THREE_DS_FAILED&merchant=m1')).body).toContain(
      `data-case="${high.id}"`,
    );
    expect((await client.get('/console/queue?reasonCode=THREE_DS_FAILED&merchant=m1')).body).not.toContain(
      `data-case="${low.id}"`,
    );
    expect((await client.get('/console/queue?merchant=m2')).body).toContain('No cases match.');
    const page1 = await client.get('/console/queue?pageSize=1');
    expect(page1.body).toContain('id="next-page"');
    const take = await client.post('/console/queue/take-next');
    expect(take.status).toBe(303);
    const taken = Number(/\/console\/cases\/(\d+)/.exec(take.location!)![1]);
    const expected = (await cases().store.list(caseQuerySchema.parse({ status: 'in_review', assignee: user.username })))
      .items[0]!;
    expect(expected.id).toBe(taken);
  });

  it('takes what browsers send: impossible dates refused as filters, past the last page the last page, a note of CRLF lines, sign-in from either of two tabs', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.2.6');
    // 2026-02-31 rolled over to March in JavaScript and failed in PostgreSQL (500).
    for (const filter of ['from=2026-02-31', 'to=2026-04-31', 'from=0000-01-01']) {
      const res = await client.get(`/console/queue?${filter}`);
      expect(res.status, filter).toBe(400);
      expect(res.body).toContain('must be a date');
    }
    const one = await flag({});
    const list = vi.spyOn(cases().store, 'list');
    const beyond = await client.get('/console/queue?pageSize=1&page=100000');
    expect(beyond.status).toBe(200);
    expect(beyond.body).not.toContain('No cases match.');
    expect(beyond.body).toMatch(/Page (\d+) of \1</);
    // One query for the page: the store answers the last page itself, not a second list.
    expect(list).toHaveBeenCalledTimes(1);
    list.mockRestore();
    // 40 lines of 99 characters: 3,999 in the textarea, 4,038 as submitted (CRLF).
    const note = Array.from({ length: 40 }, () => 'x'.repeat(99)).join('\r\n');
    const decided = await client.post(`/console/cases/${one.id}/decision`, { action: 'mark_legitimate', note });
    expect(decided.status, decided.body.slice(0, 300)).toBe(303);
    // Two sign-in pages open (two tabs, or every tab after an idle expiry): the first one's form still signs in.
    const user = await newUser(t, 'analyst', 'tabs');
    const browser = new ConsoleClient(t.app, '10.0.2.7');
    await browser.get('/console/login');
    const firstTab = browser.csrf;
    await browser.get('/console/login');
    const signedIn = await browser.post('/console/login', {
      _csrf: firstTab,
      username: user.username,
      password: user.password,
      code: totp(user.totpSecret),
    });
    expect(signedIn.status).toBe(303);
    expect((await new ConsoleClient(t.app).get('/console/login?expired=1')).body).toContain(
      'Your session expired after 15 minutes without activity',
    );
  });

  it('pages through the first 10,000 cases of a filter: a deeper page is the deepest one, with a notice', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.2.9');
    // 100,000 cases matching: the store answers the page it can (servedPage), as the real one does.
    const list = vi
      .spyOn(cases().store, 'list')
      .mockImplementation(async (q) => ({ items: [], total: 100_000, page: servedPage(q.page, q.pageSize, 100_000) }));
    try {
      const deep = await client.get('/console/queue?page=5000&pageSize=25');
      expect(deep.status).toBe(200);
      expect(deep.body).toContain('Page 400 of 4000');
      expect(/id="notice">([^<]*)</.exec(deep.body)?.[1]).toBe(
        'Page 5000 is beyond the first 10,000 cases, which is as deep as the queue pages: this is page 400. Narrow the filters (dates, merchant, status) or change the sort to reach the others.',
      );
      expect(deep.body).not.toContain('id="next-page"');
      expect(deep.body).toContain('id="page-bound"');
      const within = await client.get('/console/queue?page=399&pageSize=25');
      expect(within.body).toContain('id="next-page"');
      expect(within.body).not.toContain('id="notice"');
      expect(list).toHaveBeenCalledTimes(2);
    } finally {
      list.mockRestore();
    }
  });

  it('takes the longest note a textarea allows in any script: 4,000 Japanese characters (36 kB URL-encoded), 2,000 emoji', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.2.8');
    // A browser URL-encodes each CJK character as 9 bytes (%E6%BC%A2), an emoji as 12.
    const japanese = '不正利用の疑いあり。カード会社に確認済み、配送先は転送業者。'.repeat(200).slice(0, 4000);
    expect(japanese).toHaveLength(4000);
    const emoji = '💳'.repeat(2000); // 4,000 UTF-16 units: what maxlength counts
    // A card of its own: the other tests' fraud labels are per card.
    const c = await flag({
      card: { number: '4012888888881881', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
    });
    const noted = await client.post(`/console/cases/${c.id}/notes`, { text: emoji });
    expect(noted.status, noted.body.slice(0, 300)).toBe(303);
    const decided = await client.post(`/console/cases/${c.id}/decision`, {
      action: 'mark_fraud',
      note: japanese,
      confirm: 1,
    });
    expect(decided.status, decided.body.slice(0, 300)).toBe(303);
    expect((await cases().store.get(c.id))!.status).toBe('fraud');
    const page = await client.get(`/console/cases/${c.id}`);
    expect(page.body).toContain(japanese);
    expect(page.body).toContain(emoji);
  });

  it('renders hostile merchant strings as text and audits the view', async () => {
    const { client, user } = await loggedIn(t, 'analyst', '10.0.2.3');
    const order = hostileOrder(`hostile-${process.pid}`, 0);
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: { ...bearer(t.keys.merchant), 'content-type': 'application/json' },
      payload: { ...order, customer: { ...order.customer, email: HOSTILE_EMAIL } },
    });
    expect(res.statusCode).toBe(200);
    await t.runtime.flaggedSink.drain();
    await cases().ingester.idle();
    const c = (await cases().store.getByTransaction('m1', order.transactionId))!;
    const page = await client.get(`/console/cases/${c.id}`);
    expect(page.status).toBe(200);
    for (const p of PAYLOADS) expect(page.body).not.toContain(p);
    expect(page.body).not.toMatch(
      /<script|<img|<svg onload|<iframe|onerror=|<a href="javascript|id="injected|<style>|<form action="https/i,
    );
    expect(page.body).toContain('&lt;script&gt;window.__pwned&#61;1&lt;/script&gt;');
    expect(page.body).toContain('400005******5556');
    expect(page.body).toContain('o&#39;neil&#39;--@example.com');
    expect(page.body).not.toContain('4000056655665556');
    const views = await cases().audit.list({ limit: 10, action: 'case_view', actor: user.username });
    expect(views[0]!.target).toBe(`case:${c.id}`);
    // And in the queue.
    const queue = await client.get(`/console/queue?merchant=m1&pageSize=200`);
    expect(queue.body).not.toMatch(/<script|onerror=/i);
  });

  it('decides: fraud feeds the negative lists and a label; legitimate can allow-list the card; notes are kept', async () => {
    const { client, user } = await loggedIn(t, 'analyst', '10.0.2.4');
    const fraud = await flag({
      device: { id: 'dev-fraud-1', ip: '198.51.100.77' },
      customer: { email: 'fraudster@example.com' },
      shippingAddress: { line1: '9 Drop St', city: 'Osaka', country: 'JP' },
    });
    const page = await client.get(`/console/cases/${fraud.id}`);
    expect(page.body).toContain('id="mark-fraud"');
    // ?done= names a notice of the page's own, never a property every object has.
    for (const done of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const odd = await client.get(`/console/cases/${fraud.id}?done=${done}`);
      expect(odd.status, done).toBe(200);
      expect(odd.body, done).not.toContain('id="notice"');
      expect(odd.body, done).not.toMatch(/function|\[native code\]/);
    }
    const res = await client.post(`/console/cases/${fraud.id}/decision`, {
      action: 'mark_fraud',
      note: 'confirmed with issuer <b>now</b>',
      confirm: 1,
    });
    expect(res.status).toBe(303);
    const after = await client.get(res.location!);
    expect(after.body).toContain('Marked as fraud');
    expect(after.body).toContain('confirmed with issuer &lt;b&gt;now&lt;/b&gt;');
    expect(after.body).not.toContain('id="mark-fraud"');
    expect(
      await t.runtime.negativeLists.matches({
        device: [fraud.links.device!],
        ip: [fraud.links.ip!],
        email: [fraud.links.email!],
        shipping: [fraud.links.shipping!],
      }),
    ).toEqual(['device', 'ip', 'email', 'shipping']);
    // The next order from the same device or to the same address meets the negative lists in scoring.
    const next = await t.app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: { authorization: `Bearer ${t.keys.merchant}` },
      payload: scoreBody({
        device: { id: 'dev-fraud-1' },
        shippingAddress: { line1: '9 Drop St', city: 'Osaka', country: 'JP' },
      }),
    });
    expect(next.json().reasons.map((r: { code: string }) => r.code)).toEqual(
      expect.arrayContaining(['DEVICE_CONFIRMED_FRAUD', 'SHIPPING_ADDRESS_CONFIRMED_FRAUD']),
    );
    const labels = await cases().store.labelledCases();
    expect(labels.find((l) => l.caseId === fraud.id)).toMatchObject({ label: 'fraud', decidedBy: user.username });
    // Breach discovery learns the fraud too: the card, at the transaction's own time, as an analyst's label.
    await t.runtime.breach!.recorder.flush();
    expect(await t.runtime.breach!.history.fraudsSince(0)).toContainEqual({
      card: fraud.card.fingerprint,
      firstFraudAt: Date.parse(fraud.occurredAt),
      weight: 0.9,
      fraudMerchants: [fraud.merchantId],
    });
    const legit = await flag({
      card: { number: '378282246310005', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
    });
    await client.get(`/console/cases/${legit.id}`);
    expect(
      (await client.post(`/console/cases/${legit.id}/decision`, { action: 'mark_legitimate', allowListDays: 30 }))
        .status,
    ).toBe(303);
    expect(await t.runtime.negativeLists.isCardAllowed('m1', [legit.card.fingerprint])).toBe(true);
    expect(await t.runtime.negativeLists.isCardAllowed('m2', [legit.card.fingerprint])).toBe(false);
    const again = await t.app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: { authorization: `Bearer ${t.keys.merchant}` },
      payload: scoreBody({
        card: { number: '378282246310005', expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
      }),
    });
    expect(again.json().reasons.map((r: { code: string }) => r.code)).toContain('CARD_ALLOWLISTED');
    expect((await client.submit(`/console/cases/${legit.id}/decision`, { action: 'mark_fraud' })).status).toBe(409);
    const noteRes = await client.post(`/console/cases/${legit.id}/notes`, { text: 'called the customer' });
    expect(noteRes.status).toBe(303);
    const actions = (await cases().audit.list({ limit: 20, actor: user.username })).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['case_decision', 'case_note', 'negative_list_add', 'allowlist_card', 'case_view']),
    );
  });

  it('shows linked cases and a dashboard with server-rendered SVG charts', async () => {
    const a = await flag({ device: { id: 'shared-device-9' } });
    const b = await flag({
      device: { id: 'shared-device-9' },
      card: { number: '4012888888881881', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
    });
    const { client } = await loggedIn(t, 'analyst', '10.0.2.5');
    const page = await client.get(`/console/cases/${b.id}`);
    expect(page.body).toMatch(new RegExp(`href="/console/cases/${a.id}">#${a.id}</a></td><td>[^<]*device`));
    const dash = await client.get('/console/dashboard');
    expect(dash.status).toBe(200);
    for (const id of ['chart-flagged', 'chart-decisions', 'chart-scores', 'chart-events', 'chart-reasons'])
      expect(dash.body).toContain(`id="${id}"`);
    expect((dash.body.match(/<svg class="chart"/g) ?? []).length).toBeGreaterThanOrEqual(4);
    expect(dash.body).toContain('CVV_MISMATCH');
    // The friction each merchant spent, from this engine's scorings, against its budget (5 % / 0.5 % by default).
    const row = /<tr data-merchant="m1">([\s\S]*?)<\/tr>/.exec(dash.body)?.[1];
    expect(row).toBeDefined();
    expect(row).toContain('(5.0 %)');
    expect(row).toContain('(0.50 %)');
    const share = t.runtime.frictionShares().find((f) => f.merchantId === 'm1')!;
    expect(share.orders).toBeGreaterThanOrEqual(2);
    expect(share.challenge + share.review + share.decline).toBeGreaterThan(0);
    expect(row).toContain(share.over.length ? 'over budget' : 'within budget');
    const metrics = await t.app.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(
      /leakguard_friction_share\{merchant="m1",decision="(challenge|review|decline)"\} [0-9.]+/,
    );
    expect(metrics.body).toContain('leakguard_friction_budget{merchant="m1",decision="review"} 0.005');
  });
});

describe('hand-over', () => {
  it("returns a disabled user's open cases to the queue, audited; others can then take them", async () => {
    const { client: admin, user: adminUser } = await loggedIn(t, 'admin', '10.0.4.1');
    const { client: b, user: userB } = await loggedIn(t, 'analyst', '10.0.4.2');
    const { client: c } = await loggedIn(t, 'analyst', '10.0.4.3');
    const inReview = await flag();
    const escalated = await flag();
    const decided = await flag();
    for (const k of [inReview, escalated, decided])
      expect((await b.post(`/console/cases/${k.id}/assign`)).status).toBe(303);
    expect((await b.post(`/console/cases/${escalated.id}/decision`, { action: 'escalate' })).status).toBe(303);
    expect((await b.post(`/console/cases/${decided.id}/decision`, { action: 'mark_legitimate' })).status).toBe(303);
    expect((await c.post(`/console/cases/${inReview.id}/assign`)).status).toBe(403);
    const disabled = await admin.post(`/console/admin/users/${userB.username}`, { op: 'disable' });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toContain(`Disabled ${userB.username}; 2 open case(s) returned to the queue.`);
    expect(await cases().store.get(inReview.id)).toMatchObject({ status: 'open', assignee: null });
    expect(await cases().store.get(escalated.id)).toMatchObject({ status: 'escalated', assignee: null });
    // A decided case keeps who decided it.
    expect(await cases().store.get(decided.id)).toMatchObject({ status: 'legitimate', assignee: userB.username });
    expect((await c.get('/console/queue?assignee=-&pageSize=200')).body).toContain(`data-case="${inReview.id}"`);
    const history = await cases().store.history(inReview.id);
    expect(history.at(-1)).toMatchObject({
      kind: 'assigned',
      actor: adminUser.username,
      detail: { assignee: null, from: userB.username },
    });
    expect((await c.get(`/console/cases/${inReview.id}`)).body).toContain(
      `returned it to the queue (from ${userB.username})`,
    );
    const entries = await cases().audit.list({ limit: 20, actor: adminUser.username });
    expect(entries.find((e) => e.action === 'user_disable')).toMatchObject({
      target: `user:${userB.username}`,
      detail: { returnedCases: 2 },
    });
    expect(
      entries
        .filter((e) => e.action === 'case_assign')
        .map((e) => [e.target, e.detail])
        .sort(),
    ).toEqual(
      [
        [`case:${escalated.id}`, { assignee: null, from: userB.username, via: 'user_disable' }],
        [`case:${inReview.id}`, { assignee: null, from: userB.username, via: 'user_disable' }],
      ].sort(),
    );
    expect((await c.post(`/console/cases/${inReview.id}/assign`)).status).toBe(303);
  });

  it('lets a lead assign a case to any active analyst or return it to the queue; analysts may not', async () => {
    const { client: lead, user: leadUser } = await loggedIn(t, 'lead', '10.0.4.4');
    const { client: a, user: userA } = await loggedIn(t, 'analyst', '10.0.4.5');
    const { user: userB } = await loggedIn(t, 'analyst', '10.0.4.6');
    const gone = await newUser(t, 'analyst');
    await cases().users.update(gone.username, { disabled: true });
    const k = await flag();
    expect((await a.post(`/console/cases/${k.id}/assign`)).status).toBe(303);
    const page = await lead.get(`/console/cases/${k.id}`);
    const options = [
      ...(/<select name="username" id="assign-to">([\s\S]*?)<\/select>/.exec(page.body)?.[1] ?? '').matchAll(
        /value="([^"]+)"/g,
      ),
    ].map((m) => m[1]);
    expect(options).toEqual(expect.arrayContaining([userB.username, leadUser.username]));
    expect(options).not.toContain(gone.username);
    expect(options).not.toContain(userA.username);
    expect(page.body).toContain('id="unassign"');
    // An analyst's page offers neither; posting is refused.
    const analystPage = await a.get(`/console/cases/${k.id}`);
    expect(analystPage.body).not.toMatch(/id="assign-to"|id="unassign"/);
    const refused = await a.post(`/console/cases/${k.id}/assign`, { username: userB.username });
    expect(refused.status).toBe(403);
    expect(refused.body).toContain(`Only a lead assigns case #${k.id} to someone else.`);
    expect((await a.post(`/console/cases/${k.id}/unassign`)).status).toBe(403);
    // A lead hands it to B.
    const handed = await lead.post(`/console/cases/${k.id}/assign`, { username: userB.username });
    expect([handed.status, handed.location]).toEqual([303, `/console/cases/${k.id}?done=handed`]);
    expect(await cases().store.get(k.id)).toMatchObject({ status: 'in_review', assignee: userB.username });
    expect((await cases().audit.list({ limit: 5, action: 'case_assign', actor: leadUser.username }))[0]).toMatchObject({
      target: `case:${k.id}`,
      detail: { assignee: userB.username, from: userA.username },
    });
    // Never to a disabled or unknown user, nor one who has not enrolled (checked under the lock too).
    for (const username of [gone.username, 'nobody-at-all'])
      expect((await lead.post(`/console/cases/${k.id}/assign`, { username })).status, username).toBe(409);
    await expect(cases().store.assign(k.id, gone.username, leadUser.username, { lead: true })).rejects.toMatchObject({
      code: 'CASE_CONFLICT',
    });
    expect((await cases().store.get(k.id))!.assignee).toBe(userB.username);
    // And back to the queue.
    const back = await lead.post(`/console/cases/${k.id}/unassign`);
    expect([back.status, back.location]).toEqual([303, `/console/cases/${k.id}?done=unassigned`]);
    expect((await lead.get(back.location!)).body).toContain('Returned to the queue.');
    expect(await cases().store.get(k.id)).toMatchObject({ status: 'open', assignee: null });
    expect((await lead.post(`/console/cases/${k.id}/unassign`)).status).toBe(409);
    expect((await cases().audit.list({ limit: 5, action: 'case_assign', actor: leadUser.username }))[0]).toMatchObject({
      target: `case:${k.id}`,
      detail: { assignee: null, from: userB.username },
    });
  });

  it("offers escalated cases to a lead's take next, first, and never to an analyst's", async () => {
    const { client: analyst } = await loggedIn(t, 'analyst', '10.0.4.7');
    const { client: lead, user: leadUser } = await loggedIn(t, 'lead', '10.0.4.8');
    const k = await flag();
    expect((await analyst.post(`/console/cases/${k.id}/decision`, { action: 'escalate' })).status).toBe(303);
    // Escalating assigned it to the analyst: still the leads' to take.
    await flag(); // an open case at least, for the analyst's take next
    const taken = await analyst.post('/console/queue/take-next');
    expect((await cases().store.get(Number(/\/cases\/(\d+)/.exec(taken.location!)![1])))!.status).toBe('in_review');
    const seen: { id: number; status: string }[] = [];
    for (let i = 0; i < 20 && !seen.some((c) => c.id === k.id); i++) {
      const r = await lead.post('/console/queue/take-next');
      expect(r.location, 'a case offered to the lead').toMatch(/^\/console\/cases\/\d+$/);
      const id = Number(/\/cases\/(\d+)/.exec(r.location!)![1]);
      seen.push({ id, status: (await cases().store.get(id))!.status });
    }
    expect(seen.map((c) => c.status).every((st) => st === 'escalated')).toBe(true);
    expect(seen.at(-1)!.id).toBe(k.id);
    expect(await cases().store.get(k.id)).toMatchObject({ status: 'escalated', assignee: leadUser.username });
    // Held by a lead now: not offered again.
    const next = await lead.post('/console/queue/take-next');
    expect(next.location).not.toBe(`/console/cases/${k.id}`);
    expect(
      (await cases().audit.list({ limit: 50, action: 'case_assign', actor: leadUser.username })).find(
        (e) => e.target === `case:${k.id}`,
      ),
    ).toMatchObject({
      detail: { via: 'take_next', escalated: true },
    });
  });
});

describe('admin', () => {
  it('creates users with a one-time enrolment code, never a password or TOTP secret; disables and protects the last admin', async () => {
    await freshTotpStep();
    const { client, user: admin } = await loggedIn(t, 'admin', '10.0.3.1');
    const created = await client.post('/console/admin/users', { username: 'new-lead', role: 'lead' });
    expect(created.status).toBe(201);
    // The admin sees a code to hand over, and nothing that signs in.
    expect(created.body).not.toMatch(/id="new-password"|id="new-totp-secret"|<svg|otpauth:/);
    const code = /id="enrolment-code">([A-Za-z0-9]+)</.exec(created.body)![1]!;
    expect(created.body).toContain('href="/console/enrol?username&#61;new-lead"');
    const expires = Date.parse(/id="enrolment-expires">([^<]+)</.exec(created.body)![1]!);
    expect(expires - Date.now()).toBeGreaterThan(23.9 * 3600_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(24 * 3600_000);
    // Stored hashed: neither the code nor a usable password or secret is in the row.
    const row = (
      await cases().sql.query<Record<string, string>>(
        `SELECT password_hash, totp_secret, enrolment_hash FROM console_users WHERE username = 'new-lead'`,
      )
    ).rows[0]!;
    expect(row).toMatchObject({ password_hash: '', totp_secret: '' });
    expect(row.enrolment_hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(row)).not.toContain(code);
    expect((await client.get('/console/admin/users')).body).toMatch(
      /<tr data-user="new-lead">[\s\S]*?enrolment pending until/,
    );
    // Until enrolment nothing signs in, not an empty password and code.
    const lead = new ConsoleClient(t.app, '10.0.3.2');
    await lead.get('/console/login');
    for (const password of ['', code])
      expect((await lead.post('/console/login', { username: 'new-lead', password, code: '000000' })).status).toBe(401);
    // The enrolment form: its own double-submit token, a wrong code, the password policy, a wrong authenticator code.
    await lead.get('/console/enrol');
    expect(
      (await lead.post('/console/enrol', { username: 'new-lead', enrolmentCode: code }, { csrf: false })).status,
    ).toBe(403);
    const wrong = await lead.post('/console/enrol', { username: 'new-lead', enrolmentCode: `${code}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toContain('Unknown, used or expired enrolment code');
    expect(wrong.body).not.toContain('id="totp-secret"');
    for (const [password, password2, message] of [
      ['short-1', 'short-1', 'The password must be at least 12 characters.'],
      ['my-new-lead-passphrase', 'my-new-lead-passphrase', 'The password must not contain the username.'],
      ['aaaaaaaaaaaaaaaa', 'aaaaaaaaaaaaaaaa', 'The password must not be a few characters repeated.'],
      ['correct horse battery staple', 'correct horse battery stapler', 'The two passwords differ.'],
    ]) {
      const r = await enrol(lead, 'new-lead', code, password!, { password2: password2! });
      expect(r.finish!.status, password).toBe(400);
      expect(/id="enrol-error">([^<]*)</.exec(r.finish!.body)?.[1]).toBe(message);
    }
    const badCode = await enrol(lead, 'new-lead', code, 'correct horse battery staple', {
      code: (secret) => totp(secret, Date.now() - 10 * 60_000),
    });
    expect(badCode.finish!.status).toBe(400);
    expect(badCode.finish!.body).toContain('Wrong authenticator code');
    const done = await enrol(lead, 'new-lead', code, 'correct horse battery staple');
    expect([done.finish!.status, done.finish!.location]).toEqual([303, '/console/login?enrolled=1']);
    expect((await lead.get(done.finish!.location!)).body).toContain('Your password and authenticator are set');
    // Single use.
    expect(
      (await enrol(new ConsoleClient(t.app, '10.0.3.2'), 'new-lead', code, 'another good passphrase')).start.status,
    ).toBe(401);
    // The user's own credentials sign in (the next code: the one that confirmed the authenticator is spent).
    const secret = done.secret!;
    expect(
      (await lead.login('new-lead', 'correct horse battery staple', secret, totp(secret, Date.now() + 30_000))).status,
    ).toBe(303);
    expect((await lead.get('/console/dashboard')).status).toBe(200);
    const issued = await cases().audit.list({ limit: 20, action: 'user_enrolment_issued' });
    expect(issued.find((e) => e.target === 'user:new-lead')).toMatchObject({
      actor: admin.username,
      detail: { via: 'create' },
    });
    expect(
      (await cases().audit.list({ limit: 20, action: 'user_enrol' })).find((e) => e.target === 'user:new-lead'),
    ).toMatchObject({ actor: 'new-lead' });
    const enrolFailures = (await cases().audit.list({ limit: 50, action: 'user_enrol_failed' }))
      .filter((e) => e.target === 'user:new-lead')
      .map((e) => e.detail.reason);
    expect(enrolFailures).toEqual(['bad_code', 'bad_code']);
    const loginFailures = (await cases().audit.list({ limit: 100, action: 'login_failed' }))
      .filter((e) => e.target === 'user:new-lead')
      .map((e) => e.detail.reason);
    expect(loginFailures).toEqual(['enrolment_pending', 'enrolment_pending']);
    expect((await client.post('/console/admin/users', { username: 'new-lead', role: 'lead' })).status).toBe(409);
    expect((await client.post('/console/admin/users', { username: '<b>x</b>', role: 'lead' })).status).toBe(400);
    expect((await client.post('/console/admin/users/new-lead', { op: 'disable' })).status).toBe(200);
    expect((await lead.get('/console/dashboard')).status).toBe(303);
    // Demote every other admin first, then the last one cannot demote itself.
    for (const u of await cases().users.list())
      if (u.role === 'admin' && u.username !== admin.username)
        await cases().users.update(u.username, { disabled: true });
    expect((await client.post(`/console/admin/users/${admin.username}`, { op: 'role', role: 'analyst' })).status).toBe(
      409,
    );
    const actions = (await cases().audit.list({ limit: 50, actor: admin.username })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['user_create', 'user_disable']));
  });

  it('resets credentials to a new enrolment code: the old password and sessions end, an expired or replaced code is refused', async () => {
    await freshTotpStep();
    const { client: admin } = await loggedIn(t, 'admin', '10.0.3.5');
    const { client: analyst, user } = await loggedIn(t, 'analyst', '10.0.3.6');
    const reset = await admin.post(`/console/admin/users/${user.username}`, { op: 'reset' });
    expect(reset.status).toBe(200);
    expect(reset.body).not.toMatch(/id="new-password"|id="new-totp-secret"|<svg/);
    const first = /id="enrolment-code">([A-Za-z0-9]+)</.exec(reset.body)![1]!;
    expect((await analyst.get('/console/queue')).status).toBe(303);
    const again = new ConsoleClient(t.app, '10.0.3.6');
    expect(
      (await again.login(user.username, user.password, user.totpSecret, totp(user.totpSecret, Date.now() + 30_000)))
        .status,
    ).toBe(401);
    // Expired: refused.
    await cases().sql.query(
      `UPDATE console_users SET enrolment_expires_at = now() - interval '1 second' WHERE username = $1`,
      [user.username],
    );
    expect((await admin.get('/console/admin/users')).body).toContain('enrolment code expired');
    expect((await enrol(again, user.username, first, 'a passphrase of my own')).start.status).toBe(401);
    // A new code replaces the old one.
    const second = /id="enrolment-code">([A-Za-z0-9]+)</.exec(
      (await admin.post(`/console/admin/users/${user.username}`, { op: 'reset' })).body,
    )![1]!;
    expect(second).not.toBe(first);
    expect((await enrol(again, user.username, first, 'a passphrase of my own')).start.status).toBe(401);
    const done = await enrol(again, user.username, second, 'a passphrase of my own');
    expect(done.finish!.status).toBe(303);
    expect(
      (
        await again.login(
          user.username,
          'a passphrase of my own',
          done.secret!,
          totp(done.secret!, Date.now() + 30_000),
        )
      ).status,
    ).toBe(303);
    const reasons = (await cases().audit.list({ limit: 50, action: 'user_enrol_failed' }))
      .filter((e) => e.target === `user:${user.username}`)
      .map((e) => e.detail.reason);
    expect(reasons).toEqual(['bad_code', 'expired']);
    const issued = (await cases().audit.list({ limit: 50, action: 'user_enrolment_issued' })).filter(
      (e) => e.target === `user:${user.username}`,
    );
    expect(issued.map((e) => e.detail.via)).toEqual(['reset', 'reset']);
  });

  it('lets a signed-in user change their own password with the current one and a code; every session ends', async () => {
    await freshTotpStep();
    const user = await newUser(t, 'analyst');
    const client = new ConsoleClient(t.app, '10.0.3.7');
    const other = new ConsoleClient(t.app, '10.0.3.8');
    // Sign in with the previous step's code and the current one: the change takes the next.
    expect(
      (await client.login(user.username, user.password, user.totpSecret, totp(user.totpSecret, Date.now() - 30_000)))
        .status,
    ).toBe(303);
    expect((await other.login(user.username, user.password, user.totpSecret)).status).toBe(303);
    const page = await client.get('/console/account');
    expect(page.status).toBe(200);
    expect(page.body).toContain('id="password-form"');
    const next = totp(user.totpSecret, Date.now() + 30_000);
    const fresh = 'my own long passphrase';
    // The policy is checked first: no attempt and no code spent.
    const weak = await client.post('/console/account/password', {
      current: user.password,
      code: next,
      password: 'short',
      password2: 'short',
    });
    expect(weak.status).toBe(400);
    expect(/id="enrol-error">([^<]*)</.exec(weak.body)?.[1]).toBe('The new password must be at least 12 characters.');
    const wrongPassword = await client.post('/console/account/password', {
      current: 'nope',
      code: next,
      password: fresh,
      password2: fresh,
    });
    expect(wrongPassword.status).toBe(401);
    const wrongCode = await client.post('/console/account/password', {
      current: user.password,
      code: totp(user.totpSecret, Date.now() - 10 * 60_000),
      password: fresh,
      password2: fresh,
    });
    expect(wrongCode.status).toBe(401);
    expect((await cases().users.find(user.username))!.codeFailures).toBe(1);
    // A code already used (the sign-in's) is refused too.
    expect(
      (
        await client.post('/console/account/password', {
          current: user.password,
          code: totp(user.totpSecret),
          password: fresh,
          password2: fresh,
        })
      ).status,
    ).toBe(401);
    const changed = await client.post('/console/account/password', {
      current: user.password,
      code: next,
      password: fresh,
      password2: fresh,
    });
    expect([changed.status, changed.location]).toEqual([303, '/console/login?changed=1']);
    expect((await client.get('/console/queue')).status).toBe(303);
    expect((await other.get('/console/queue')).status).toBe(303);
    const later = totp(user.totpSecret, Date.now() + 60_000);
    const old = new ConsoleClient(t.app, '10.0.3.9');
    await old.get('/console/login');
    expect(
      (await old.post('/console/login', { username: user.username, password: user.password, code: later })).status,
    ).toBe(401);
    const stored = (await cases().users.find(user.username))!;
    expect(await verifyPassword(fresh, stored.passwordHash)).toBe(true);
    expect(stored.totpSecret).toBe(user.totpSecret);
    const reasons = (await cases().audit.list({ limit: 50, action: 'password_change_failed' }))
      .filter((e) => e.target === `user:${user.username}`)
      .map((e) => e.detail.reason);
    expect(reasons).toEqual(['code_reused', 'bad_code', 'bad_password']);
    expect(
      (await cases().audit.list({ limit: 50, action: 'password_change' })).some((e) => e.actor === user.username),
    ).toBe(true);
  });

  it('lets admins read, verify and export the audit log', async () => {
    const { client } = await loggedIn(t, 'admin', '10.0.3.3');
    const log = await client.get('/console/admin/audit');
    expect(log.status).toBe(200);
    expect(log.body).toContain('login');
    expect((await client.get('/console/admin/audit?verify=1')).body).toMatch(/Chain intact: \d+ entries verified/);
    const exported = await client.get('/console/admin/audit/export');
    expect(exported.status).toBe(200);
    expect(exported.headers['content-disposition']).toMatch(/attachment/);
    const lines = exported.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0].seq).toBe(1);
    expect(lines.every((e: { hash: string }) => /^[0-9a-f]{64}$/.test(e.hash))).toBe(true);
    expect((await cases().audit.list({ limit: 3, action: 'audit_export' })).length).toBe(1);
    // A filtered page holding every match offers no older page (an empty one, before).
    const exports = await client.get('/console/admin/audit?action=audit_export');
    expect(exports.body).toContain('audit_export');
    expect(exports.body).not.toContain('id="older"');
  });

  it('takes a path with a trailing slash, and says what a case number is', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.3.4');
    expect((await client.get('/console/queue/')).status).toBe(200);
    const zero = await client.get('/console/cases/0');
    expect(zero.status).toBe(400);
    expect(zero.body).toContain('must be a case number');
    expect(zero.body).not.toContain('[1-9]');
  });

  it('logs out: the session is gone server-side', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.3.4');
    const token = client.jar.get('__Host-lg_console')!;
    const res = await client.post('/console/logout');
    expect(res.status).toBe(200);
    expect(res.body).toContain('You are signed out');
    const replay = await t.app.inject({
      method: 'GET',
      url: '/console/queue',
      headers: { cookie: `__Host-lg_console=${token}` },
    });
    expect(replay.statusCode).toBe(303);
  });
});
