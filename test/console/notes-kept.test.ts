// An analyst's note is never lost: not by a refused decision, not by a session that expired before
// the note was sent, not by a second note box a decision button does not send, not by Cancel on
// the "Mark fraud?" page. Each answers the case page with the note back in its box.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OPEN_STATUSES } from '../../services/cases/model.ts';
import { totp } from '../../services/console/credentials.ts';
import { tokenHash } from '../../services/console/session.ts';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { type ConsoleClient, flagCase, freshTotpStep, loggedIn } from './client.ts';
import { box, notice, unescape } from './page-text.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' }, { cases: true });
});
afterAll(() => t?.close());
const cases = () => t.runtime.cases!;
const SESSION = '__Host-lg_console';

const NOTE = 'Holder called: "not me" <b>twice</b>\nSecond line.';

describe('a refused decision', () => {
  it('answers the case page saying why, with the note in the note box', async () => {
    const { client: first, user: firstUser } = await loggedIn(t, 'analyst', '10.0.41.1');
    const { client: second } = await loggedIn(t, 'analyst', '10.0.41.2');
    const c = await flagCase(t);
    // The second analyst opens the case; meanwhile the first takes it.
    await second.get(`/console/cases/${c.id}`);
    expect((await first.post(`/console/cases/${c.id}/assign`)).status).toBe(303);
    const refused = await second.submit(`/console/cases/${c.id}/decision`, { action: 'mark_legitimate', note: NOTE });
    expect(refused.status).toBe(403);
    expect(notice(refused.body)).toBe(
      `Case #${c.id} is assigned to ${firstUser.username}: only they or a lead decide it. Nothing was decided. Your note is kept in the note box: it was not recorded.`,
    );
    // The case cannot be decided here: the note waits in the History box, to be added as a note.
    expect(box(refused.body, 'note-text')).toBe(NOTE);
    expect(refused.body).toContain('id="resumed-note"');
    expect(OPEN_STATUSES).toContain((await cases().store.get(c.id))!.status);
    const added = await second.post(`/console/cases/${c.id}/notes`, { text: box(refused.body, 'note-text')! });
    expect(added.status).toBe(303);
    expect((await cases().store.history(c.id)).find((e) => e.kind === 'note')!.detail.text).toBe(NOTE);
  });

  it('keeps the note when the store refuses under its lock (the case taken between the read and the decision)', async () => {
    const { client: first, user: firstUser } = await loggedIn(t, 'analyst', '10.0.41.3');
    const { client: second } = await loggedIn(t, 'analyst', '10.0.41.4');
    const c = await flagCase(t);
    await second.get(`/console/cases/${c.id}`);
    const stale = (await cases().store.get(c.id))!;
    expect((await first.post(`/console/cases/${c.id}/assign`)).status).toBe(303);
    // The route reads the case as it was before the assignment; the store's row lock sees it taken.
    const get = vi.spyOn(cases().store, 'get').mockResolvedValueOnce(stale);
    let refused;
    try {
      refused = await second.submit(`/console/cases/${c.id}/decision`, { action: 'escalate', note: NOTE });
    } finally {
      get.mockRestore();
    }
    expect(refused.status).toBe(403);
    expect(notice(refused.body)).toContain(`Case #${c.id} is assigned to ${firstUser.username}`);
    expect(notice(refused.body)).toContain('Your note is kept in the note box');
    expect(box(refused.body, 'note-text')).toBe(NOTE);
  });
});

describe('reloading the page of what was not recorded', () => {
  it('never posts the decision again: the refusal redirects to the case page, which shows it at every reload', async () => {
    const { client: first, user: firstUser } = await loggedIn(t, 'analyst', '10.0.41.8');
    const { client: second } = await loggedIn(t, 'analyst', '10.0.41.9');
    const c = await flagCase(t);
    await second.get(`/console/cases/${c.id}`);
    expect((await first.post(`/console/cases/${c.id}/assign`)).status).toBe(303);
    const note = `${NOTE} Card 4111 1111 1111 1111.`;
    const posted = await second.post(`/console/cases/${c.id}/decision`, { action: 'escalate', note });
    // Post/Redirect/Get: the browser lands on a GET, whose URL holds no note.
    expect([posted.status, posted.location]).toEqual([303, `/console/cases/${c.id}?kept=1`]);
    const masked = `${NOTE} Card 411111******1111.`;
    for (const reload of [false, true]) {
      const page = await second.get(posted.location!);
      expect(page.status, `reload: ${reload}`).toBe(403);
      expect(notice(page.body)).toBe(
        `Case #${c.id} is assigned to ${firstUser.username}: only they or a lead decide it. Nothing was decided. Your note is kept in the note box: it was not recorded.`,
      );
      expect(box(page.body, 'note-text')).toBe(masked);
    }
    // Kept on the session's row, masked like any stored note.
    const row = await cases().sql.query<{ draft: unknown }>(
      'SELECT resume_draft::text AS draft FROM console_sessions WHERE token_hash = $1',
      [tokenHash(second.jar.get(SESSION)!)],
    );
    expect(String(row.rows[0]!.draft)).not.toContain('4111 1111 1111 1111');
    expect(String(row.rows[0]!.draft)).toContain('411111******1111');
    // Another analyst's session does not see it.
    expect(notice((await first.get(posted.location!)).body)).toBe('');
    // Once the note is added, the page no longer says it was not recorded.
    expect((await second.post(`/console/cases/${c.id}/notes`, { text: masked })).status).toBe(303);
    const after = await second.get(posted.location!);
    expect([after.status, notice(after.body), box(after.body, 'note-text')]).toEqual([200, '', '']);
    expect((await cases().store.history(c.id)).filter((e) => e.kind === 'note')).toHaveLength(1);
  });

  it('redirects an empty note and Cancel on "Mark fraud?" too, the note kept at every reload', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.41.10');
    const c = await flagCase(t);
    await client.get(`/console/cases/${c.id}`);
    const empty = await client.post(`/console/cases/${c.id}/notes`, { text: '' });
    expect([empty.status, empty.location]).toEqual([303, `/console/cases/${c.id}?kept=1`]);
    const emptyPage = await client.get(empty.location!);
    expect([emptyPage.status, notice(emptyPage.body)]).toEqual([400, 'The note is empty: nothing was added.']);
    const cancelled = await client.post(`/console/cases/${c.id}/decision`, {
      action: 'mark_fraud',
      confirm: 1,
      note: NOTE,
      cancel: 1,
    });
    expect([cancelled.status, cancelled.location]).toEqual([303, `/console/cases/${c.id}?kept=1`]);
    for (let i = 0; i < 2; i++) {
      const page = await client.get(cancelled.location!);
      expect([page.status, notice(page.body), box(page.body, 'decision-note')]).toEqual([
        200,
        'Not marked as fraud. Your note is kept in the note box.',
        NOTE,
      ]);
    }
    expect(OPEN_STATUSES).toContain((await cases().store.get(c.id))!.status);
  });
});

describe('a note sent after the session expired', () => {
  it('is carried through the sign-in and filled in on the case, not added until pressed again', async () => {
    await freshTotpStep();
    const { client, user } = await loggedIn(t, 'analyst', '10.0.41.5');
    const c = await flagCase(t);
    await client.get(`/console/cases/${c.id}`);
    await idledOut(client);
    const lost = await client.post(
      `/console/cases/${c.id}/notes`,
      { text: NOTE },
      { headers: { origin: 'null', 'sec-fetch-site': 'same-origin' } },
    );
    expect(lost.status).toBe(401);
    expect(lost.body).toContain(`Your session expired before your note on case #${c.id} was sent: it was not added.`);
    expect(lost.body).toContain('name="password"');
    const fields = Object.fromEntries(
      [...lost.body.matchAll(/<input type="hidden" name="(resume[A-Za-z]+)" value="([^"]*)" \/>/g)].map((m) => [
        m[1]!,
        unescape(m[2]!),
      ]),
    );
    expect(fields).toMatchObject({ resumeCase: String(c.id), resumeAction: 'note', resumeNote: NOTE });
    const signedIn = await client.post('/console/login', {
      username: user.username,
      password: user.password,
      code: totp(user.totpSecret, Date.now() + 30_000),
      ...fields,
    });
    expect([signedIn.status, signedIn.location]).toEqual([303, `/console/cases/${c.id}?resumed=1`]);
    const page = await client.get(signedIn.location!);
    expect(notice(page.body)).toContain('Your note was kept when your session expired: it was not added.');
    // The analyst may decide the case: the one note box is beside the decision buttons.
    expect(box(page.body, 'decision-note')).toBe(NOTE);
    expect(page.body).toMatch(/id="add-note"\s+autofocus data-resumed="1"/);
    expect((await cases().store.history(c.id)).some((e) => e.kind === 'note')).toBe(false);
  });
});

describe('one note box', () => {
  it('offers a single labelled note box on a case the user may decide, which both the decisions and "Add note only" send', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.41.6');
    const c = await flagCase(t);
    const page = await client.get(`/console/cases/${c.id}`);
    expect(page.body.match(/<textarea/g)).toHaveLength(1);
    expect(page.body).toContain('<label for="decision-note">Note</label>');
    expect(page.body).toMatch(
      new RegExp(`<button\\s+type="submit"\\s+formaction="/console/cases/${c.id}/notes"\\s+id="add-note"`),
    );
    // "Add note only" posts the decision form, its box named note, to the notes route.
    const added = await client.post(`/console/cases/${c.id}/notes`, {
      note: 'from the one box',
      allowListDays: 0,
    });
    expect(added.status).toBe(303);
    expect((await cases().store.history(c.id)).find((e) => e.kind === 'note')!.detail.text).toBe('from the one box');
    const empty = await client.submit(`/console/cases/${c.id}/notes`, { note: '' });
    expect(empty.status).toBe(400);
    expect(notice(empty.body)).toBe('The note is empty: nothing was added.');
    // A decided case has no decision form: the History box, labelled, is the one box.
    expect((await client.post(`/console/cases/${c.id}/decision`, { action: 'mark_legitimate' })).status).toBe(303);
    const decided = await client.get(`/console/cases/${c.id}`);
    expect(decided.body.match(/<textarea/g)).toHaveLength(1);
    expect(decided.body).toContain('<label for="note-text">Note</label>');
  });
});

describe('Cancel on the "Mark fraud?" page', () => {
  it('goes back to the case with the note in its box, nothing decided', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.0.41.7');
    const c = await flagCase(t);
    await client.get(`/console/cases/${c.id}`);
    const ask = await client.post(`/console/cases/${c.id}/decision`, { action: 'mark_fraud', note: NOTE });
    expect(ask.status).toBe(200);
    expect(ask.body).toContain('<button type="submit" name="cancel" value="1" id="cancel-fraud">Cancel</button>');
    // The confirmation form as the browser sends it when Cancel is pressed.
    const cancelled = await client.submit(`/console/cases/${c.id}/decision`, {
      action: 'mark_fraud',
      confirm: 1,
      note: NOTE,
      cancel: 1,
    });
    expect(cancelled.status).toBe(200);
    expect(notice(cancelled.body)).toBe('Not marked as fraud. Your note is kept in the note box.');
    expect(box(cancelled.body, 'decision-note')).toBe(NOTE);
    expect(OPEN_STATUSES).toContain((await cases().store.get(c.id))!.status);
    expect((await cases().store.history(c.id)).some((e) => e.kind === 'note')).toBe(false);
  });
});

async function idledOut(client: ConsoleClient) {
  await cases().sql.query(
    `UPDATE console_sessions SET last_seen_at = now() - interval '16 minutes' WHERE token_hash = $1`,
    [tokenHash(client.jar.get(SESSION)!)],
  );
}
