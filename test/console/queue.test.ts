// The queue page: "Take next case" takes one of the cases on screen (the filters go with it), and
// a query parameter that is not a filter is said, not silently ignored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { totp } from '../../services/console/credentials.ts';
import { returnPath } from '../../services/console/return-to.ts';
import { ConsoleClient, freshTotpStep, loggedIn, newUser } from './client.ts';
import { flagged } from './fixtures.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' }, { cases: true });
});
afterAll(() => t?.close());
const cases = () => t.runtime.cases!;
const notice = (body: string) => /<p class="notice" id="notice">([^<]*)<\/p>/.exec(body)?.[1];

describe('take next case', () => {
  it('takes the riskiest case of the filters on screen, not of the whole queue', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.43.1');
    const mine = await cases().store.createFromFlagged(flagged({ merchantId: 'tn-shop', score: 20 }));
    await cases().store.createFromFlagged(flagged({ merchantId: 'tn-other', score: 99 }));
    const queue = await client.get('/console/queue?merchant=tn-shop');
    expect(queue.body).toMatch(
      /<form method="post" action="\/console\/queue\/take-next" id="take-next-form">[\s\S]*?<input type="hidden" name="merchant" value="tn-shop" \/>/,
    );
    const taken = await client.post('/console/queue/take-next', { merchant: 'tn-shop' });
    expect(taken.location).toBe(`/console/cases/${mine.id}`);
    // None left for that merchant: back to the same filters, saying so.
    const none = await client.post('/console/queue/take-next', { merchant: 'tn-shop' });
    expect(none.location).toBe('/console/queue?merchant=tn-shop&empty=1');
    expect(notice((await client.get(none.location!)).body)).toBe('No unassigned open case matches these filters.');
    expect((await client.post('/console/queue/take-next', { decision: 'nonsense' })).status).toBe(400);
  });
});

describe('queue parameters', () => {
  it('finds a case by its transaction id, and names a parameter that is not a filter instead of ignoring it', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.43.2');
    const wanted = await cases().store.createFromFlagged(flagged({ merchantId: 'qp-shop', transactionId: 'qp-tx-1' }));
    await cases().store.createFromFlagged(flagged({ merchantId: 'qp-shop', transactionId: 'qp-tx-2' }));
    const found = await client.get('/console/queue?transactionId=qp-tx-1&status=all');
    expect([...found.body.matchAll(/<tr data-case="(\d+)">/g)].map((m) => Number(m[1]))).toEqual([wanted.id]);
    expect(found.body).toContain('name="transactionId" id="f-transactionId" value="qp-tx-1"');
    expect(notice(found.body)).toBeUndefined();
    const mistyped = await client.get('/console/queue?transaction=qp-tx-1&merchant=qp-shop');
    expect(mistyped.status).toBe(200);
    expect(notice(mistyped.body)).toContain(
      'Ignored: transaction is not a queue filter (filters: merchant, transactionId,',
    );
    expect(notice(mistyped.body)).toContain('The cases below are not filtered by it.');
    // A parameter named by a card number is masked before its name is cut to 40 characters (found by
    // a review: cut first, the page could no longer recognise it, and showed 12 of its digits).
    const named = await client.get(`/console/queue?${'a'.repeat(28)}4111111111111111=1`);
    expect(notice(named.body)).toContain(`Ignored: ${'a'.repeat(28)}411111******`);
    expect(named.body).not.toMatch(/\d{7}/);
  });
});

describe('a link followed without a session', () => {
  it('returns to the page asked for after sign-in, a console path only', async () => {
    await freshTotpStep();
    const c = await cases().store.createFromFlagged(flagged({ merchantId: 'rt-shop' }));
    const user = await newUser(t, 'analyst');
    const client = new ConsoleClient(t.app, '10.0.43.3');
    const asked = await client.get(`/console/cases/${c.id}`);
    expect(asked.location).toBe(`/console/login?next=${encodeURIComponent(`/console/cases/${c.id}`)}`);
    const form = await client.get(asked.location!);
    expect(form.body).toContain(`<input type="hidden" name="next" value="/console/cases/${c.id}" />`);
    // A mistyped code keeps it; the sign-in returns to it.
    const typo = await client.post('/console/login', {
      username: user.username,
      password: user.password,
      code: '000000',
      next: `/console/cases/${c.id}`,
    });
    expect(typo.body).toContain(`name="next" value="/console/cases/${c.id}"`);
    const signedIn = await client.post('/console/login', {
      username: user.username,
      password: user.password,
      code: totp(user.totpSecret),
      next: `/console/cases/${c.id}`,
    });
    expect([signedIn.status, signedIn.location]).toEqual([303, `/console/cases/${c.id}`]);
    expect((await client.get(signedIn.location!)).status).toBe(200);
    // The queue's filters come back too.
    expect(returnPath('/console/queue?merchant=rt-shop&status=all')).toBe('/console/queue?merchant=rt-shop&status=all');
    // Never another origin, nor the sign-in itself.
    for (const bad of [
      'https://evil.example/console/queue',
      '//evil.example/console/cases/1',
      '/console//evil.example',
      '/console/\\evil.example',
      '/console/cases/1/../../../x',
      '/console/login?next=/console/queue',
      '/docs',
      'javascript:alert(1)',
    ])
      expect(returnPath(bad), bad).toBeUndefined();
  });

  it('lands on the queue when the next field is foreign', async () => {
    await freshTotpStep();
    const user = await newUser(t, 'analyst');
    const client = new ConsoleClient(t.app, '10.0.43.4');
    await client.get('/console/login');
    const signedIn = await client.post('/console/login', {
      username: user.username,
      password: user.password,
      code: totp(user.totpSecret),
      next: '//evil.example/console/queue',
    });
    expect([signedIn.status, signedIn.location]).toEqual([303, '/console/queue']);
  });
});
