// After a decision the analyst is not left on the case just closed: its page offers "Take next
// case", which takes the next one by the queue's own take-next rules (the riskiest, oldest
// unassigned open case; escalated ones for leads only).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { flagCase, loggedIn } from './client.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' }, { cases: true });
});
afterAll(() => t?.close());
const cases = () => t.runtime.cases!;

describe('the page after a decision', () => {
  it('offers the next case, taken by the queue rules: assigned to the analyst, never the escalated one', async () => {
    const { client, user } = await loggedIn(t, 'analyst', '10.7.13.1');
    const first = await flagCase(t);
    const second = await flagCase(t);
    await client.get(`/console/cases/${first.id}`);
    const decided = await client.post(`/console/cases/${first.id}/decision`, { action: 'mark_legitimate' });
    expect(decided.location).toBe(`/console/cases/${first.id}?done=mark_legitimate`);
    const result = await client.get(decided.location!);
    expect(result.body).toContain('Marked as legitimate.');
    expect(result.body).toMatch(/<form method="post" action="\/console\/queue\/take-next" id="take-next-form">/);
    const next = await client.post('/console/queue/take-next');
    expect(next.location).toBe(`/console/cases/${second.id}`);
    expect((await cases().store.get(second.id))!.assignee).toBe(user.username);
    // Escalating is a result page too; the escalated case is not the analyst's next one.
    await client.get(next.location!);
    const escalated = await client.post(`/console/cases/${second.id}/decision`, { action: 'escalate' });
    const page = await client.get(escalated.location!);
    expect(page.body).toContain('Escalated to a lead.');
    expect(page.body).toContain('id="take-next-form"');
    expect((await client.post('/console/queue/take-next')).location).toBe('/console/queue?empty=1');
    // A case page opened from the queue is not a result page: no such button there.
    expect((await client.get(`/console/cases/${first.id}`)).body).not.toContain('id="take-next-form"');
  });
});
