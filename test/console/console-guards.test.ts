// The console's guards and refusals found by a review, over HTTP on a real PostgreSQL server (real
// app, real runtime): a reversed decision whose assignee was disabled goes back to the queue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { PostgresServer } from '../support/postgres-server.ts';
import { flagCase, loggedIn } from './client.ts';

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
