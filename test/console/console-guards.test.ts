// The console's guards and refusals found by a review, over HTTP on a real PostgreSQL server (real
// app, real runtime): a reversed decision whose assignee was disabled goes back to the queue; the
// last admin who can sign in is kept, an admin whose enrolment is pending not counted; a second
// factor locked from the password-change page is audited and counted as one locked at sign-in;
// a note or a reversal's reason refused comes back in its box.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { PostgresServer } from '../support/postgres-server.ts';
import { totp } from '../../services/console/credentials.ts';
import { ConsoleClient, enrol, flagCase, freshTotpStep, loggedIn } from './client.ts';
import { box, notice, unescape } from './page-text.ts';

let pg: PostgresServer;
let t: TestApp;
beforeAll(async () => {
  pg = await PostgresServer.start();
  t = await buildTestApp({ LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14', DATABASE_URL: pg.url }, { cases: true });
}, 120_000);
afterAll(async () => {
  await t?.close();
  await pg?.stop();
});
const cases = () => t.runtime.cases!;

describe('reversing a decision whose assignee was disabled since', () => {
  it('reopens it unassigned, in the queue for take next, audited; an active assignee keeps it', async () => {
    const { client: admin } = await loggedIn(t, 'admin', '10.0.71.1');
    const { client: lead, user: leadUser } = await loggedIn(t, 'lead', '10.0.71.2');
    const { client: gone, user: goneUser } = await loggedIn(t, 'analyst', '10.0.71.3');
    const { client: other, user: otherUser } = await loggedIn(t, 'analyst', '10.0.71.4');
    const decided = await flagCase(t);
    const kept = await flagCase(t);
    expect((await gone.post(`/console/cases/${decided.id}/assign`)).status).toBe(303);
    expect((await gone.post(`/console/cases/${decided.id}/decision`, { action: 'mark_legitimate' })).status).toBe(303);
    expect((await other.post(`/console/cases/${kept.id}/assign`)).status).toBe(303);
    expect((await other.post(`/console/cases/${kept.id}/decision`, { action: 'mark_legitimate' })).status).toBe(303);
    expect((await admin.post(`/console/admin/users/${goneUser.username}`, { op: 'disable' })).status).toBe(200);
    expect(await cases().store.get(decided.id)).toMatchObject({ status: 'legitimate', assignee: goneUser.username });

    await lead.get(`/console/cases/${decided.id}/reverse`);
    const reversed = await lead.post(`/console/cases/${decided.id}/reverse`, {
      category: 'decision_error',
      reason: 'mis-click',
    });
    expect([reversed.status, reversed.location]).toEqual([303, `/console/cases/${decided.id}?done=reversed`]);
    expect(await cases().store.get(decided.id)).toMatchObject({ status: 'open', assignee: null });
    // Nobody is told only the disabled user or a lead decides it: another analyst sees the buttons.
    const page = await other.get(`/console/cases/${decided.id}`);
    expect(page.body).not.toContain('only they or a lead decide it');
    expect(page.body).toContain(`returned it to the queue (from ${goneUser.username})`);
    expect(page.body).toContain('id="assign-me"');
    expect(
      (await cases().audit.list({ limit: 10, action: 'case_assign', actor: leadUser.username })).find(
        (e) => e.target === `case:${decided.id}`,
      ),
    ).toMatchObject({ detail: { assignee: null, from: goneUser.username, via: 'case_reversal' } });
    expect(
      (await cases().audit.list({ limit: 10, action: 'case_decision_reversed', actor: leadUser.username })).find(
        (e) => e.target === `case:${decided.id}`,
      ),
    ).toMatchObject({ detail: { from: 'legitimate', to: 'open' } });
    // Take next offers it (the riskiest unassigned open case: take until it comes, or the queue ends).
    const taken: number[] = [];
    for (let i = 0; i < 50 && !taken.includes(decided.id); i++) {
      const r = await other.post('/console/queue/take-next');
      const id = /\/cases\/(\d+)$/.exec(r.location ?? '')?.[1];
      if (!id) break;
      taken.push(Number(id));
    }
    expect(taken).toContain(decided.id);
    expect(await cases().store.get(decided.id)).toMatchObject({ status: 'in_review', assignee: otherUser.username });

    // An active assignee keeps the case, in review.
    await lead.get(`/console/cases/${kept.id}/reverse`);
    expect(
      (await lead.post(`/console/cases/${kept.id}/reverse`, { category: 'other', reason: 'second look' })).status,
    ).toBe(303);
    expect(await cases().store.get(kept.id)).toMatchObject({ status: 'in_review', assignee: otherUser.username });
    expect(
      (await cases().audit.list({ limit: 20, action: 'case_assign', actor: leadUser.username })).filter(
        (e) => e.target === `case:${kept.id}`,
      ),
    ).toEqual([]);
  });
});

describe('the last admin', () => {
  it('is one who can sign in: a pending enrolment does not count; two admins demoting each other cannot both succeed', async () => {
    await freshTotpStep();
    const { client: admin, user: adminUser } = await loggedIn(t, 'admin', '10.0.72.1');
    for (const u of await cases().users.list())
      if (u.role === 'admin' && u.username !== adminUser.username && !u.disabled)
        await cases().users.update(u.username, { disabled: true });
    const pending = `pending-admin-${process.pid}`;
    const created = await admin.post('/console/admin/users', { username: pending, role: 'admin' });
    expect(created.status).toBe(201);
    const code = /id="enrolment-code">([A-Za-z0-9]+)</.exec(created.body)![1]!;
    // The only admin who can sign in: not demoted, not disabled, while the other has not enrolled.
    const demoted = await admin.post(`/console/admin/users/${adminUser.username}`, { op: 'role', role: 'analyst' });
    expect(demoted.status).toBe(409);
    expect(demoted.body).toContain('The last active admin cannot be disabled or demoted');
    expect(await cases().users.find(adminUser.username)).toMatchObject({ role: 'admin', disabled: false });
    expect((await admin.get('/console/admin/users')).status).toBe(200);
    expect(
      (await cases().audit.list({ limit: 20, action: 'user_update', actor: adminUser.username })).filter(
        (e) => e.target === `user:${adminUser.username}`,
      ),
    ).toEqual([]);

    // Enrolled, the other admin counts: the two then demote each other at once, and one is refused.
    const other = new ConsoleClient(t.app, '10.0.72.2');
    const done = await enrol(other, pending, code, 'a long enough admin passphrase');
    expect(done.finish!.status).toBe(303);
    expect(
      (
        await other.login(
          pending,
          'a long enough admin passphrase',
          done.secret!,
          totp(done.secret!, Date.now() + 30_000),
        )
      ).status,
    ).toBe(303);
    const answers = await Promise.all([
      admin.post(`/console/admin/users/${pending}`, { op: 'role', role: 'lead' }),
      other.post(`/console/admin/users/${adminUser.username}`, { op: 'role', role: 'analyst' }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    expect(await cases().users.countAdmins()).toBe(1);
    const admins = (await cases().users.list()).filter((u) => u.role === 'admin' && !u.disabled && !u.enrolmentPending);
    expect(admins.map((u) => u.username)).toHaveLength(1);
  });
});

describe('a second factor locked from the password-change page', () => {
  it('is audited and counted as at sign-in', async () => {
    await freshTotpStep();
    const { client, user } = await loggedIn(t, 'analyst', '10.0.73.1');
    const locksBefore = (await t.runtime.metrics.secondFactorLocks.get()).values[0]?.value ?? 0;
    // A code that is none of the steps around now (the right one, or the one before or after).
    const near = [-30_000, 0, 30_000].map((d) => totp(user.totpSecret, Date.now() + d));
    let wrong = 0;
    while (near.includes(String(wrong).padStart(6, '0'))) wrong++;
    const change = (code: string) =>
      client.post('/console/account/password', {
        current: user.password,
        code,
        password: 'a brand new passphrase here',
        password2: 'a brand new passphrase here',
      });
    await client.get('/console/account');
    for (let i = 0; i < 10; i++) expect((await change(String(wrong).padStart(6, '0'))).status).toBe(401);
    const stored = (await cases().users.find(user.username))!;
    expect(stored.codeFailures).toBe(10);
    expect(Date.parse(stored.codeLockedUntil!)).toBeGreaterThan(Date.now());
    const locks = (await cases().audit.list({ limit: 20, action: 'login_second_factor_locked' })).filter(
      (e) => e.target === `user:${user.username}`,
    );
    expect(locks).toHaveLength(1);
    expect(locks[0]).toMatchObject({
      actor: 'system:login',
      detail: { wrongCodes: 10, until: stored.codeLockedUntil, ip: '10.0.73.1', via: 'password_change' },
    });
    expect((await t.runtime.metrics.secondFactorLocks.get()).values[0]?.value).toBe(locksBefore + 1);
    // Locked: the right code changes nothing either, and no second lock is written.
    expect((await change(totp(user.totpSecret))).status).toBe(401);
    expect(await cases().users.find(user.username)).toMatchObject({ passwordHash: stored.passwordHash });
    expect(
      (await cases().audit.list({ limit: 20, action: 'login_second_factor_locked' })).filter(
        (e) => e.target === `user:${user.username}`,
      ),
    ).toHaveLength(1);
  });
});

const reverseError = (body: string) =>
  unescape(/<p class="error" id="reverse-error">([^<]*)<\/p>/.exec(body)?.[1] ?? '');

describe('typed text a refusal used to lose', () => {
  it('a decision note with a control character: the case page says why, the note back in its box', async () => {
    const { client: analyst } = await loggedIn(t, 'analyst', '10.0.74.1');
    const c = await flagCase(t);
    expect((await analyst.post(`/console/cases/${c.id}/assign`)).status).toBe(303);
    const refused = await analyst.submit(`/console/cases/${c.id}/decision`, {
      action: 'mark_legitimate',
      note: 'Holder called:\u000b confirmed\r\nby phone',
    });
    expect(refused.status).toBe(400);
    expect(notice(refused.body)).toBe(
      'The note must not contain control characters: nothing was decided. It is back in the note box with what was refused taken out: check it and send it again.',
    );
    expect(box(refused.body, 'decision-note')).toBe('Holder called: confirmed\nby phone');
    expect(await cases().store.get(c.id)).toMatchObject({ status: 'in_review', decidedBy: null });
    // Sent again from the box, it is recorded.
    const again = await analyst.post(`/console/cases/${c.id}/decision`, {
      action: 'mark_legitimate',
      note: box(refused.body, 'decision-note')!,
    });
    expect(again.status).toBe(303);
    expect(await cases().store.get(c.id)).toMatchObject({ status: 'legitimate' });
    expect((await cases().store.history(c.id)).filter((e) => e.kind === 'note').map((e) => e.detail.text)).toEqual([
      'Holder called: confirmed\nby phone',
    ]);
  });

  it("a reversal's reason with a control character: the form again, the reason and category filled in", async () => {
    const { client: lead } = await loggedIn(t, 'lead', '10.0.74.2');
    const c = await flagCase(t);
    expect((await lead.post(`/console/cases/${c.id}/decision`, { action: 'mark_legitimate' })).status).toBe(303);
    await lead.get(`/console/cases/${c.id}/reverse`);
    const refused = await lead.post(`/console/cases/${c.id}/reverse`, {
      category: 'new_evidence',
      reason: 'card \u000bused by the holder',
    });
    expect(refused.status).toBe(400);
    expect(reverseError(refused.body)).toBe(
      'Not reversed: reason: must not contain control characters. Your reason is back in its box with what was refused taken out: check it and send it again.',
    );
    expect(box(refused.body, 'reverse-reason')).toBe('card used by the holder');
    expect(refused.body).toContain('<option value="new_evidence" selected>');
    expect((await cases().store.get(c.id))!.status).toBe('legitimate');
    // Given back masked, as a kept note is: a card number typed in is not echoed.
    const withCard = await lead.post(`/console/cases/${c.id}/reverse`, {
      category: 'other',
      reason: 'holder of 4111 1111 1111 1111 called\u0007',
    });
    expect(withCard.status).toBe(400);
    expect(box(withCard.body, 'reverse-reason')).toMatch(/^holder of .+ called$/);
    expect(withCard.body.replace(/\D/g, '')).not.toContain('4111111111111111');
    const again = await lead.post(`/console/cases/${c.id}/reverse`, {
      category: 'new_evidence',
      reason: box(refused.body, 'reverse-reason')!,
    });
    expect(again.status).toBe(303);
    // Decided by the lead, who holds it: in review again, with them.
    expect((await cases().store.get(c.id))!.status).toBe('in_review');
    expect((await cases().store.history(c.id)).at(-1)!.detail.text).toBe('Decision reversed: card used by the holder');
  });

  it('reversing a case that is no longer decided: the case page says so, the reason in its note box', async () => {
    const { client: lead } = await loggedIn(t, 'lead', '10.0.74.3');
    const { client: otherLead } = await loggedIn(t, 'lead', '10.0.74.4');
    const c = await flagCase(t);
    expect((await lead.post(`/console/cases/${c.id}/decision`, { action: 'mark_legitimate' })).status).toBe(303);
    await lead.get(`/console/cases/${c.id}/reverse`);
    const stale = (await cases().store.get(c.id))!;
    // Another lead reverses it first.
    expect(
      (await otherLead.post(`/console/cases/${c.id}/reverse`, { category: 'other', reason: 'first' })).status,
    ).toBe(303);
    const reason = 'the holder confirmed the order by phone';
    const refused = await lead.submit(`/console/cases/${c.id}/reverse`, { category: 'decision_error', reason });
    expect(refused.status).toBe(409);
    expect(notice(refused.body)).toBe(
      `Case #${c.id} is in review: there is no decision to reverse. Nothing was reversed. Your reason is kept in the note box: add it as a note if it still matters.`,
    );
    expect(refused.body).not.toContain('Something went wrong');
    expect(box(refused.body, 'decision-note')).toBe(reason);
    // Read as still decided by the route, refused by the store under its lock: the same answer.
    const get = vi.spyOn(cases().store, 'get').mockResolvedValueOnce(stale);
    let raced;
    try {
      raced = await lead.submit(`/console/cases/${c.id}/reverse`, { category: 'decision_error', reason });
    } finally {
      get.mockRestore();
    }
    expect(raced.status).toBe(409);
    expect(notice(raced.body)).toBe(
      `Case #${c.id} is in review: its decision was reversed or changed meanwhile, there is none to reverse. Nothing was reversed. Your reason is kept in the note box: add it as a note if it still matters.`,
    );
    expect(box(raced.body, 'decision-note')).toBe(reason);
    expect(
      (await cases().store.history(c.id)).filter((e) => e.kind === 'status' && e.detail.reversed === true),
    ).toHaveLength(1);
  });
});
