// Decisions and what they do beyond the case (real app, PGlite): the audit entry commits with the
// decision or the decision does not commit; the effects on other stores (negative lists, the
// allow-list, the learners' labels) are recorded with it (an outbox) and applied at once or, when
// the list store is down, retried until they are, never lost and never a 500 for the analyst.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { flagCase, loggedIn } from './client.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' }, { cases: true });
});
afterAll(() => t?.close());

const cases = () => t.runtime.cases!;
const flag = (over: Record<string, unknown> = {}) => flagCase(t, over);

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
      res = await client.post(`/console/cases/${c.id}/decision`, { action: 'mark_fraud', confirm: 1 });
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
    expect((await client.submit(`/console/cases/${c.id}/decision`, { action: 'mark_fraud', confirm: 1 })).status).toBe(
      409,
    );
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
    const one = await client.post(`/console/cases/${deviceOnly.id}/decision`, { action: 'mark_fraud', confirm: 1 });
    const page = (await client.get(one.location!)).body;
    expect(page).toMatch(/Marked as fraud\. Its device is on the negative lists until \d{4}-\d{2}-\d{2}\./);
    expect(page).not.toMatch(/IP|email|shipping address (is|are) on/);
    const bare = await flag();
    expect(bare.links).toEqual({});
    const none = await client.post(`/console/cases/${bare.id}/decision`, { action: 'mark_fraud', confirm: 1 });
    const nonePage = (await client.get(none.location!)).body;
    expect(nonePage).toContain(
      'Marked as fraud. It had no device, IP, email or shipping address to put on the negative lists: none was listed.',
    );
    expect(nonePage).not.toContain('are on the negative lists');
    // A legitimate decision says whether it allow-listed the card, and until when.
    const legit = await flag({
      card: { number: '5105105105105100', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
    });
    const allowed = await client.post(`/console/cases/${legit.id}/decision`, {
      action: 'mark_legitimate',
      allowListDays: 7,
    });
    expect((await client.get(allowed.location!)).body).toMatch(
      /Marked as legitimate\. The card is allow-listed for m1 until \d{4}-\d{2}-\d{2}\./,
    );
  });

  it('asks before marking fraud: a page says what will be listed, and keeps the note', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.7.5');
    const c = await flag({ device: { id: 'dev-decisions-confirm' }, customer: { email: 'confirm@example.com' } });
    const ask = await client.post(`/console/cases/${c.id}/decision`, {
      action: 'mark_fraud',
      note: 'issuer <says> so',
    });
    expect(ask.status).toBe(200);
    expect(ask.body).toMatch(/Its device, email go on the negative lists for 180 days/);
    expect(ask.body).toContain('name="confirm" value="1"');
    expect(ask.body).toContain('name="note" value="issuer &lt;says&gt; so"');
    expect(ask.body).not.toMatch(/<script/i);
    // Nothing was decided yet.
    expect((await cases().store.get(c.id))!.status).not.toBe('fraud');
    expect(await auditOf(c.id, 'case_decision')).toEqual([]);
    expect(await listed(c)).toEqual([]);
    // The page's form, as the browser sends it.
    const res = await client.post(`/console/cases/${c.id}/decision`, {
      action: 'mark_fraud',
      confirm: 1,
      note: 'issuer <says> so',
    });
    expect(res.status).toBe(303);
    expect((await cases().store.get(c.id))!.status).toBe('fraud');
    expect((await cases().store.history(c.id)).find((e) => e.kind === 'note')!.detail).toEqual({
      text: 'issuer <says> so',
    });
    // Marking legitimate or escalating asks nothing more; a decided case is refused, not asked about.
    expect((await client.submit(`/console/cases/${c.id}/decision`, { action: 'mark_fraud' })).status).toBe(409);
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
      refused = await client.post(`/console/cases/${c.id}/decision`, {
        action: 'mark_fraud',
        note: 'sure',
        confirm: 1,
      });
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
    const res = await client.post(`/console/cases/${c.id}/decision`, {
      action: 'mark_fraud',
      note: 'sure',
      confirm: 1,
    });
    expect(res.status).toBe(303);
    expect((await cases().store.get(c.id))!.status).toBe('fraud');
    expect((await auditOf(c.id, 'case_decision'))[0]!.detail).toMatchObject({ action: 'mark_fraud', to: 'fraud' });
    expect(await auditOf(c.id, 'case_note')).toHaveLength(1);
    expect(await listed(c)).toEqual(['device', 'ip', 'email', 'shipping']);
  });
});

describe('reversing a decision', () => {
  const VISA = { number: '4111111111111111', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' };

  it("lets a lead reverse a fraud decision: its own entries and label go, another decision's stay", async () => {
    const { client: analyst } = await loggedIn(t, 'analyst', '10.0.8.1');
    const { client: lead, user: leadUser } = await loggedIn(t, 'lead', '10.0.8.2');
    // Two frauds share a device; the wrong one also lists its own email, IP and address.
    const other = await flag({ device: { id: 'dev-shared-reversal' } });
    const wrong = await flag({
      card: VISA,
      device: { id: 'dev-shared-reversal', ip: '203.0.113.9' },
      customer: { email: 'genuine-customer@example.com' },
      shippingAddress: { line1: '1 Real St', city: 'Lyon', country: 'FR' },
    });
    expect(wrong.links.device).toBe(other.links.device);
    for (const c of [other, wrong])
      expect((await analyst.post(`/console/cases/${c.id}/decision`, { action: 'mark_fraud', confirm: 1 })).status).toBe(
        303,
      );
    expect(await listed(wrong)).toEqual(['device', 'ip', 'email', 'shipping']);
    await t.runtime.breach!.recorder.flush();
    expect((await t.runtime.breach!.history.fraudsSince(0)).map((f) => f.card)).toContain(wrong.card.fingerprint);

    // The case page offers the reversal to a lead only.
    expect((await lead.get(`/console/cases/${wrong.id}`)).body).toContain(
      `href="/console/cases/${wrong.id}/reverse" id="reverse"`,
    );
    expect((await analyst.get(`/console/cases/${wrong.id}`)).body).not.toContain('id="reverse"');
    // An analyst may not reverse; a lead must give a reason; a case not decided has nothing to reverse.
    expect((await analyst.get(`/console/cases/${wrong.id}/reverse`)).status).toBe(403);
    expect((await analyst.post(`/console/cases/${wrong.id}/reverse`, { reason: 'mis-click' })).status).toBe(403);
    const form = await lead.get(`/console/cases/${wrong.id}/reverse`);
    expect(form.status).toBe(200);
    expect(form.body).toContain('id="reverse-reason"');
    expect(form.body).toContain('<select name="category" id="reverse-category" required>');
    expect(form.body).toContain('device, IP, email, shipping address');
    const noReason = await lead.post(`/console/cases/${wrong.id}/reverse`, { reason: '   ' });
    expect(noReason.status).toBe(400);
    expect(noReason.body).toContain('id="reverse-error"');
    expect((await cases().store.get(wrong.id))!.status).toBe('fraud');
    const open = await flag();
    // Refused on the case page (Post/Redirect/Get), the reason kept in its note box.
    expect(
      (await lead.submit(`/console/cases/${open.id}/reverse`, { category: 'other', reason: 'nothing to reverse' }))
        .status,
    ).toBe(409);

    const badCategory = await lead.post(`/console/cases/${wrong.id}/reverse`, {
      category: 'whim',
      reason: 'mis-click',
    });
    expect(badCategory.status).toBe(400);
    expect(badCategory.body).toContain(
      'category: must be one of decision_error, new_evidence, merchant_request, other',
    );
    const res = await lead.post(`/console/cases/${wrong.id}/reverse`, {
      category: 'decision_error',
      reason: 'mis-click: the customer is genuine',
    });
    expect(res.status).toBe(303);
    expect((await lead.get(res.location!)).body).toMatch(
      /Decision reversed: the case is open again\. Its fraud label is withdrawn\. The entries this decision made for its device, IP, email and shipping address are off the negative lists/,
    );
    // Its own entries went; the device stays listed: the other fraud decision listed it too.
    expect(await listed(wrong)).toEqual(['device']);
    expect(await listed(other)).toEqual(['device']);
    const reopened = (await cases().store.get(wrong.id))!;
    expect(reopened.status).toBe('in_review');
    expect(reopened.decidedAt).toBeNull();
    expect((await cases().store.labelledCases()).some((l) => l.caseId === wrong.id)).toBe(false);
    expect((await cases().store.labelledCases()).some((l) => l.caseId === other.id)).toBe(true);
    // The labels topic is told: the withdrawn label waits to be published again, as withdrawn.
    expect((await cases().store.unpublishedLabels(1000)).find((l) => l.caseId === wrong.id)).toMatchObject({
      label: 'fraud',
      withdrawnAt: expect.any(String),
    });
    await t.runtime.breach!.recorder.flush();
    const frauds = (await t.runtime.breach!.history.fraudsSince(0)).map((f) => f.card);
    expect(frauds).not.toContain(wrong.card.fingerprint);
    const [entry] = await auditOf(wrong.id, 'case_decision_reversed');
    expect(entry).toMatchObject({
      actor: leadUser.username,
      detail: {
        from: 'fraud',
        to: 'in_review',
        category: 'decision_error',
        reason: 'mis-click: the customer is genuine',
      },
    });
    expect((await auditOf(wrong.id, 'negative_list_remove'))[0]!.detail).toEqual({
      kinds: ['device', 'ip', 'email', 'shipping'],
    });
    // Decided anew: legitimate this time.
    const again = await lead.post(`/console/cases/${wrong.id}/decision`, { action: 'mark_legitimate' });
    expect(again.status).toBe(303);
    expect((await cases().store.labelledCases()).find((l) => l.caseId === wrong.id)).toMatchObject({
      label: 'legitimate',
    });
    // Reversing the other decision too takes the device off: no entry in force lists it any more.
    expect(
      (await lead.post(`/console/cases/${other.id}/reverse`, { category: 'decision_error', reason: 'also wrong' }))
        .status,
    ).toBe(303);
    expect(await listed(other)).toEqual([]);
  });

  it("reversing one of two analysts' fraud decisions on one card, merchant and day leaves the other's breach label", async () => {
    const { client: lead } = await loggedIn(t, 'lead', '10.0.8.4');
    // The card of the reversal above, whose own label went with it.
    const first = await flag({ card: VISA });
    const second = await flag({ card: VISA });
    expect(second.card.fingerprint).toBe(first.card.fingerprint);
    for (const c of [first, second])
      expect((await lead.post(`/console/cases/${c.id}/decision`, { action: 'mark_fraud', confirm: 1 })).status).toBe(
        303,
      );
    const breach = t.runtime.breach!;
    const labelled = async () => {
      await breach.recorder.flush();
      return (await breach.history.fraudsSince(0)).find((f) => f.card === first.card.fingerprint);
    };
    expect(await labelled()).toMatchObject({ weight: 0.9, fraudMerchants: ['m1'] });
    const res = await lead.post(`/console/cases/${second.id}/reverse`, { category: 'decision_error', reason: 'wrong' });
    expect(res.status).toBe(303);
    // The first analyst's fraud decision stands: so does its label.
    expect(await labelled()).toMatchObject({ weight: 0.9, fraudMerchants: ['m1'] });
    expect((await lead.post(`/console/cases/${first.id}/reverse`, { category: 'other', reason: 'also' })).status).toBe(
      303,
    );
    expect(await labelled()).toBeUndefined();
  });

  it('the page after a decision says a lead reversed it, never that its listing still holds', async () => {
    const { client: analyst } = await loggedIn(t, 'analyst', '10.0.8.5');
    const { client: lead } = await loggedIn(t, 'lead', '10.0.8.6');
    const legit = await flag({
      card: { number: '5200828282828210', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
    });
    const fraud = await flag({
      ...entities(21),
      card: { number: '4000056655665556', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
    });
    const decidedLegit = await analyst.post(`/console/cases/${legit.id}/decision`, {
      action: 'mark_legitimate',
      allowListDays: 30,
    });
    const decidedFraud = await analyst.post(`/console/cases/${fraud.id}/decision`, {
      action: 'mark_fraud',
      confirm: 1,
    });
    expect((await analyst.get(decidedLegit.location!)).body).toMatch(/The card is allow-listed for m1 until/);
    expect((await analyst.get(decidedFraud.location!)).body).toMatch(/are on the negative lists until/);
    for (const c of [legit, fraud])
      expect(
        (await lead.post(`/console/cases/${c.id}/reverse`, { category: 'decision_error', reason: 'wrong' })).status,
      ).toBe(303);
    // The analyst's tab reloads the page it was left on.
    const legitPage = (await analyst.get(decidedLegit.location!)).body;
    expect(legitPage).not.toContain('is allow-listed');
    expect(legitPage).toContain(
      `Case #${legit.id} was marked as legitimate, and a lead has since reversed that decision. Its allow-listing of the card for m1 is withdrawn. The case is in review now.`,
    );
    const fraudPage = (await analyst.get(decidedFraud.location!)).body;
    expect(fraudPage).not.toContain('on the negative lists until');
    expect(fraudPage).toContain(
      `Case #${fraud.id} was marked as fraud, and a lead has since reversed that decision. The entries it made on the negative lists are withdrawn`,
    );
    // Decided again otherwise: the old page does not claim the old decision either.
    expect((await lead.post(`/console/cases/${fraud.id}/decision`, { action: 'mark_legitimate' })).status).toBe(303);
    expect((await analyst.get(decidedFraud.location!)).body).toContain(
      `Case #${fraud.id} was marked as fraud, and a lead has since reversed that decision. The case is legitimate now.`,
    );
    expect((await lead.get(`/console/cases/${fraud.id}?done=reversed`)).body).toContain(
      `Case #${fraud.id}&#39;s decision was reversed, and it has since been decided again: legitimate.`,
    );
  });

  it('takes back an allow-listing, and retries a reversal the list store refused', async () => {
    const { client: lead } = await loggedIn(t, 'lead', '10.0.8.3');
    const c = await flag({
      card: { number: '6011111111111117', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
    });
    expect(
      (await lead.post(`/console/cases/${c.id}/decision`, { action: 'mark_legitimate', allowListDays: 30 })).status,
    ).toBe(303);
    expect(await t.runtime.negativeLists.isCardAllowed('m1', [c.card.fingerprint])).toBe(true);
    const down = vi
      .spyOn(t.runtime.negativeLists, 'disallowCard')
      .mockRejectedValue(new Error('Redis: connection refused'));
    let res;
    try {
      res = await lead.post(`/console/cases/${c.id}/reverse`, {
        category: 'new_evidence',
        reason: 'fraud ring, seen later',
      });
    } finally {
      down.mockRestore();
    }
    expect(res.status).toBe(303);
    expect((await lead.get(res.location!)).body).toContain('The allow-listing of the card for m1 is to go: retried');
    expect((await cases().store.get(c.id))!.status).toBe('in_review');
    expect(await t.runtime.negativeLists.isCardAllowed('m1', [c.card.fingerprint])).toBe(true);
    await vi.waitFor(
      async () => {
        await cases().feedback.applyDue();
        expect(await t.runtime.negativeLists.isCardAllowed('m1', [c.card.fingerprint])).toBe(false);
      },
      { timeout: 10_000, interval: 250 },
    );
    expect(await auditOf(c.id, 'allowlist_card_remove')).toHaveLength(1);
  });
});
