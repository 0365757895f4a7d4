// A lead's hand-over of an escalated case: only to someone who may decide it (a lead or an admin).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { flagCase, loggedIn, newUser } from './client.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' }, { cases: true });
});
afterAll(() => t?.close());
const cases = () => t.runtime.cases!;

/** The usernames the page's "Assign to" select offers. */
const offered = (body: string) => {
  const select = /<select name="username" id="assign-to">([\s\S]*?)<\/select>/.exec(body)?.[1] ?? '';
  return [...select.matchAll(/<option value="([^"]+)">/g)].map((m) => m[1]!);
};

describe('handing over an escalated case', () => {
  it('offers leads and admins only, and refuses an analyst', async () => {
    const { client: analyst, user: escalator } = await loggedIn(t, 'analyst', '10.0.42.1');
    const { client: lead } = await loggedIn(t, 'lead', '10.0.42.2');
    const otherAnalyst = await newUser(t, 'analyst');
    const otherLead = await newUser(t, 'lead');
    const admin = await newUser(t, 'admin');
    const c = await flagCase(t);
    expect((await analyst.post(`/console/cases/${c.id}/assign`)).status).toBe(303);
    expect((await analyst.post(`/console/cases/${c.id}/decision`, { action: 'escalate' })).status).toBe(303);
    expect((await cases().store.get(c.id))!).toMatchObject({ status: 'escalated', assignee: escalator.username });

    const names = offered((await lead.get(`/console/cases/${c.id}`)).body);
    expect(names).toEqual(expect.arrayContaining([otherLead.username, admin.username]));
    expect(names).not.toContain(otherAnalyst.username);
    const refused = await lead.post(`/console/cases/${c.id}/assign`, { username: otherAnalyst.username });
    expect(refused.status).toBe(403);
    expect(refused.body).toContain(
      `only a lead or an admin decides it, so it is not assigned to ${otherAnalyst.username}`,
    );
    expect((await cases().store.get(c.id))!.assignee).toBe(escalator.username);
    // To a lead it goes.
    expect((await lead.post(`/console/cases/${c.id}/assign`, { username: otherLead.username })).status).toBe(303);
    expect((await cases().store.get(c.id))!).toMatchObject({ status: 'escalated', assignee: otherLead.username });

    // An open case is still handed to any active user, an analyst included.
    const open = await flagCase(t);
    expect(offered((await lead.get(`/console/cases/${open.id}`)).body)).toContain(otherAnalyst.username);
  });
});
