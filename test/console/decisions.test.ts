// Decisions and what they do beyond the case (real app, PGlite): the audit entry commits with the
// decision or the decision does not commit; the effects on other stores (negative lists, the
// allow-list, the learners' labels) are recorded with it (an outbox) and applied at once or, when
// the list store is down, retried until they are, never lost and never a 500 for the analyst.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bearer, buildTestApp, type TestApp } from '../support/app.ts';
import { loggedIn } from './client.ts';

let t: TestApp;
let seq = 0;
beforeAll(async () => {
  t = await buildTestApp({ LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' }, { cases: true });
});
afterAll(() => t?.close());

const cases = () => t.runtime.cases!;
async function flag(over: Record<string, unknown> = {}) {
  const transactionId = `d-${process.pid}-${++seq}`;
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/score',
    headers: { ...bearer(t.keys.merchant), 'content-type': 'application/json' },
    payload: {
      transactionId,
      amount: 2500,
      currency: 'EUR',
      channel: 'ecommerce',
      card: { number: '5555555555554444', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
      ...over,
    },
  });
  expect(res.statusCode).toBe(200);
  expect(res.json().decision).not.toBe('approve');
  await t.runtime.flaggedSink.drain();
  await cases().ingester.idle();
  const c = await cases().store.getByTransaction('m1', transactionId);
  expect(c).toBeDefined();
  return c!;
}

const entities = (n: number) => ({
  device: { id: `dev-decisions-${n}`, ip: `198.51.100.${n}` },
  customer: { email: `someone-${n}@example.com` },
  shippingAddress: { line1: `${n} Drop St`, city: 'Osaka', country: 'JP' },
});
const listed = (c: Awaited<ReturnType<typeof flag>>) =>
  t.runtime.negativeLists.matches({
    device: [c.links.device!],
    ip: [c.links.ip!],
    email: [c.links.email!],
    shipping: [c.links.shipping!],
  });
const auditOf = async (id: number, action: string) =>
  (await cases().audit.list({ limit: 500, action })).filter((e) => e.target === `case:${id}`);

describe('a decision and its effects', () => {
  it('records a fraud decision while the list store is down, says so, and lists its entities once it is back', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.7.1');
    const c = await flag(entities(11));
    await client.get(`/console/cases/${c.id}`);
    const add = vi.spyOn(t.runtime.negativeLists, 'add').mockRejectedValue(new Error('Redis: connection refused'));
    let res;
    try {
      res = await client.post(`/console/cases/${c.id}/decision`, { action: 'mark_fraud' });
    } finally {
      add.mockRestore();
    }
    // Not a 500 for an effect that will be retried: the decision is recorded, and the page says what waits.
    expect(res.status).toBe(303);
    const page = await client.get(res.location!);
    expect(page.body).toContain(
      'Marked as fraud. The decision is recorded. Its device, IP, email and shipping address could not be put on the negative lists yet',
    );
    expect(page.body).toMatch(/could not be put on the negative lists yet[^<]*retried/);
    expect((await cases().store.get(c.id))!.status).toBe('fraud');
    expect(await auditOf(c.id, 'case_decision')).toHaveLength(1);
    expect(await listed(c)).toEqual([]);
    const waiting = await cases().store.latestEffect(c.id);
    expect(waiting).toMatchObject({ status: 'pending', attempts: 1, lastError: 'Redis: connection refused' });
    expect(await cases().store.pendingEffects()).toMatchObject({ count: 1 });
    // Pressing again is refused (decided), but nothing is lost: the worker applies it after its backoff.
    expect((await client.post(`/console/cases/${c.id}/decision`, { action: 'mark_fraud' })).status).toBe(409);
    await vi.waitFor(
      async () => {
        await cases().feedback.applyDue();
        expect(await listed(c)).toEqual(['device', 'ip', 'email', 'shipping']);
      },
      { timeout: 10_000, interval: 250 },
    );
    expect(await cases().store.latestEffect(c.id)).toMatchObject({ status: 'applied' });
    expect((await client.get(res.location!)).body).toMatch(
      /Marked as fraud\. Its device, IP, email and shipping address are on the negative lists until \d{4}-\d{2}-\d{2}\./,
    );
    expect(await cases().store.pendingEffects()).toEqual({ count: 0, oldestAgeSeconds: 0 });
    const [entry] = await auditOf(c.id, 'negative_list_add');
    expect(entry!.detail).toMatchObject({ kinds: ['device', 'ip', 'email', 'shipping'] });
    // Applied twice (a lease ran out while the first engine was at it): the lists hold, the audit has it once.
    expect(await cases().store.effectApplied(waiting!.id, [])).toBe(false);
    expect(await cases().feedback.apply(waiting!)).toBe(true);
    expect(await auditOf(c.id, 'negative_list_add')).toHaveLength(1);
    // The learners got the label too: breach discovery holds the card as an analyst's fraud.
    await t.runtime.breach!.recorder.flush();
    expect((await t.runtime.breach!.history.fraudsSince(0)).map((f) => f.card)).toContain(c.card.fingerprint);
  });

  it('allow-lists a card once the list store answers again', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.7.2');
    const c = await flag({
      card: { number: '4012888888881881', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
    });
    const allow = vi.spyOn(t.runtime.negativeLists, 'allowCard').mockRejectedValue(new Error('Redis: timeout'));
    let res;
    try {
      res = await client.post(`/console/cases/${c.id}/decision`, { action: 'mark_legitimate', allowListDays: 30 });
    } finally {
      allow.mockRestore();
    }
    expect(res.status).toBe(303);
    expect((await client.get(res.location!)).body).toContain(
      'Marked as legitimate. The decision is recorded. The card could not be allow-listed for m1 yet',
    );
    expect(await t.runtime.negativeLists.isCardAllowed('m1', [c.card.fingerprint])).toBe(false);
    await vi.waitFor(
      async () => {
        await cases().feedback.applyDue();
        expect(await t.runtime.negativeLists.isCardAllowed('m1', [c.card.fingerprint])).toBe(true);
      },
      { timeout: 10_000, interval: 250 },
    );
    expect((await auditOf(c.id, 'allowlist_card'))[0]!.detail).toMatchObject({ merchantId: 'm1', days: 30 });
  });

  it('says which entities a fraud decision listed, and that it listed none when the case had none', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.7.4');
    const deviceOnly = await flag({ device: { id: 'dev-decisions-only' } });
    expect(Object.keys(deviceOnly.links)).toEqual(['device']);
    const one = await client.post(`/console/cases/${deviceOnly.id}/decision`, { action: 'mark_fraud' });
    const page = (await client.get(one.location!)).body;
    expect(page).toMatch(/Marked as fraud\. Its device is on the negative lists until \d{4}-\d{2}-\d{2}\./);
    expect(page).not.toMatch(/IP|email|shipping address (is|are) on/);
    const bare = await flag();
    expect(bare.links).toEqual({});
    const none = await client.post(`/console/cases/${bare.id}/decision`, { action: 'mark_fraud' });
    const nonePage = (await client.get(none.location!)).body;
    expect(nonePage).toContain(
      'Marked as fraud. It had no device, IP, email or shipping address to put on the negative lists: none was listed.',
    );
    expect(nonePage).not.toContain('are on the negative lists');
    // A legitimate decision says whether it allow-listed the card, and until when.
    const legit = await flag({
      card: { number: '378282246310005', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
    });
    const allowed = await client.post(`/console/cases/${legit.id}/decision`, {
      action: 'mark_legitimate',
      allowListDays: 7,
    });
    expect((await client.get(allowed.location!)).body).toMatch(
      /Marked as legitimate\. The card is allow-listed for m1 until \d{4}-\d{2}-\d{2}\./,
    );
  });

  it('does not commit a decision whose audit entry cannot be written', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.7.3');
    const c = await flag(entities(12));
    const sql = cases().sql;
    // The database refuses the decision's audit entry (a full disk, a revoked grant: here a trigger).
    await sql.exec(`CREATE FUNCTION refuse_decision_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.action = 'case_decision' THEN RAISE EXCEPTION 'audit refused'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER refuse_decision_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_decision_audit();`);
    let refused;
    try {
      refused = await client.post(`/console/cases/${c.id}/decision`, { action: 'mark_fraud', note: 'sure' });
    } finally {
      await sql.exec(`DROP TRIGGER refuse_decision_audit ON audit_log; DROP FUNCTION refuse_decision_audit();`);
    }
    expect(refused.status).toBe(500);
    // Nothing of it committed: the case is still open, with no label, no effect, no listing, no note.
    const after = await cases().store.get(c.id);
    expect(after!.status).not.toBe('fraud');
    expect(after!.decidedAt).toBeNull();
    expect((await cases().store.labelledCases()).some((l) => l.caseId === c.id)).toBe(false);
    expect(await cases().store.latestEffect(c.id)).toBeUndefined();
    expect((await cases().store.history(c.id)).map((e) => e.kind)).not.toContain('status');
    expect(await listed(c)).toEqual([]);
    // Pressed again once the audit log takes entries: decided, audited, listed.
    const res = await client.post(`/console/cases/${c.id}/decision`, { action: 'mark_fraud', note: 'sure' });
    expect(res.status).toBe(303);
    expect((await cases().store.get(c.id))!.status).toBe('fraud');
    expect((await auditOf(c.id, 'case_decision'))[0]!.detail).toMatchObject({ action: 'mark_fraud', to: 'fraud' });
    expect(await auditOf(c.id, 'case_note')).toHaveLength(1);
    expect(await listed(c)).toEqual(['device', 'ip', 'email', 'shipping']);
  });
});
