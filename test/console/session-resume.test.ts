// A case worked for longer than the idle timeout: the decision and note sent after the session
// expired are not lost. The POST answers the sign-in form carrying them (card numbers masked); a
// sign-in (after a mistyped code too) lands on the case with them filled in, decided by nobody until
// the analyst presses the button again. Only from the console's own page: not from another site.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPEN_STATUSES } from '../../services/cases/model.ts';
import { totp } from '../../services/console/credentials.ts';
import { tokenHash } from '../../services/console/session.ts';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { ConsoleClient, flagCase, freshTotpStep, loggedIn } from './client.ts';
import { unescape } from './page-text.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' }, { cases: true });
});
afterAll(() => t?.close());
const cases = () => t.runtime.cases!;
const SESSION = '__Host-lg_console';

/** The hidden fields a sign-in form carries besides its token. */
const carried = (body: string) =>
  Object.fromEntries(
    [...body.matchAll(/<input type="hidden" name="(resume[A-Za-z]+)" value="([^"]*)" \/>/g)].map((m) => [
      m[1]!,
      unescape(m[2]!),
    ]),
  );

async function idledOut(client: ConsoleClient) {
  await cases().sql.query(
    `UPDATE console_sessions SET last_seen_at = now() - interval '16 minutes' WHERE token_hash = $1`,
    [tokenHash(client.jar.get(SESSION)!)],
  );
}

const NOTE = 'Holder called back & confirmed: "it was me". Card 4111 1111 1111 1111 <b>read out</b>\nSecond line.';

describe('a decision sent after the session expired', () => {
  it('is carried through the sign-in and filled in on the case, masked, not applied', async () => {
    await freshTotpStep();
    const { client, user } = await loggedIn(t, 'analyst', '10.7.12.1');
    const c = await flagCase(t);
    await client.get(`/console/cases/${c.id}`);
    await idledOut(client);
    // What a browser sends from the console's own page (its no-referrer policy makes Origin "null").
    const lost = await client.post(
      `/console/cases/${c.id}/decision`,
      { action: 'mark_legitimate', note: NOTE, allowListDays: 30 },
      { headers: { origin: 'null', 'sec-fetch-site': 'same-origin' } },
    );
    expect(lost.status).toBe(401);
    expect(lost.body).toContain(
      `Your session expired before your decision on case #${c.id} (Mark legitimate, with your note)`,
    );
    expect(lost.body).not.toMatch(/4111 1111 1111 1111|4111111111111111/);
    const fields = carried(lost.body);
    expect(fields).toEqual({
      resumeCase: String(c.id),
      resumeAction: 'mark_legitimate',
      resumeNote: NOTE.replace('4111 1111 1111 1111', '411111******1111'),
      resumeAllowListDays: '30',
    });
    // A mistyped code: the form comes back still carrying the decision.
    const typo = await client.post('/console/login', {
      username: user.username,
      password: user.password,
      code: '000000',
      ...fields,
    });
    expect(typo.status).toBe(401);
    expect(carried(typo.body)).toEqual(fields);
    const signedIn = await client.post('/console/login', {
      username: user.username,
      password: user.password,
      code: totp(user.totpSecret, Date.now() + 30_000),
      ...carried(typo.body),
    });
    expect([signedIn.status, signedIn.location]).toEqual([303, `/console/cases/${c.id}?resumed=1`]);
    // Kept server-side on the new session, masked.
    const rows = await cases().sql.query<{ draft: string }>(
      'SELECT resume_draft::text AS draft FROM console_sessions WHERE username = $1',
      [user.username],
    );
    expect(rows.rows.map((r) => r.draft).join('')).toContain('411111******1111');
    expect(rows.rows.map((r) => r.draft).join('')).not.toContain('4111 1111 1111 1111');
    const page = await client.get(signedIn.location!);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Your decision (Mark legitimate) and note were kept when your session expired');
    const textarea = /<textarea name="note" id="decision-note"[^>]*>([^<]*)<\/textarea>/.exec(page.body)?.[1];
    expect(unescape(textarea ?? '')).toBe(NOTE.replace('4111 1111 1111 1111', '411111******1111'));
    expect(page.body).toMatch(/<option value="30" selected>/);
    expect(page.body).toMatch(/id="mark-legitimate"\s+autofocus data-resumed="1"/);
    // Nothing was decided: the analyst confirms.
    expect(OPEN_STATUSES).toContain((await cases().store.get(c.id))!.status);
    // Filled in once: the next view is the plain form.
    const again = await client.get(`/console/cases/${c.id}?resumed=1`);
    expect(/<textarea name="note" id="decision-note"[^>]*><\/textarea>/.test(again.body)).toBe(true);
    // Sent again, it decides with the kept note.
    const decided = await client.post(`/console/cases/${c.id}/decision`, {
      action: 'mark_legitimate',
      note: unescape(textarea!),
      allowListDays: 30,
    });
    expect(decided.status).toBe(303);
    expect((await cases().store.get(c.id))!.status).toBe('legitimate');
  });

  it('is not carried from another site, nor from a browser that does not say it is the same origin', async () => {
    const { client } = await loggedIn(t, 'analyst', '10.7.12.2');
    // Another card: the first test allow-listed its own.
    const c = await flagCase(t, {
      card: { number: '4000056655665556', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
    });
    await client.get(`/console/cases/${c.id}`);
    await idledOut(client);
    const body = { action: 'mark_legitimate', note: 'planted', allowListDays: 90 };
    // The browser still sends SameSite=Strict cookies on a same-site form; a foreign Origin is not the console's page.
    const foreign = await client.post(`/console/cases/${c.id}/decision`, body, {
      headers: { origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(401);
    expect(carried(foreign.body)).toEqual({});
    expect(foreign.body).toContain('Your session expired. Sign in again.');
    // Nor from a sibling subdomain's page, which gets SameSite cookies sent and may send Origin: null.
    const { client: other } = await loggedIn(t, 'analyst', '10.7.12.4');
    await idledOut(other);
    const sibling = await other.post(`/console/cases/${c.id}/decision`, body, {
      headers: { origin: 'null', 'sec-fetch-site': 'same-site' },
    });
    expect(sibling.status).toBe(401);
    expect(carried(sibling.body)).toEqual({});
    // A browser that sends no Sec-Fetch-Site (older Safari), the cookie and Origin: null: a sibling
    // subdomain's page with a no-referrer policy looks the same, so nothing is carried.
    const { client: older } = await loggedIn(t, 'analyst', '10.7.12.5');
    await idledOut(older);
    const noFetchSite = await older.post(`/console/cases/${c.id}/decision`, body, { headers: { origin: 'null' } });
    expect(noFetchSite.status).toBe(401);
    expect(carried(noFetchSite.body)).toEqual({});
    // No cookie and no Origin: nothing says the post came from the console.
    const bare = await new ConsoleClient(t.app, '10.7.12.3').post(`/console/cases/${c.id}/decision`, body);
    expect(bare.status).toBe(401);
    expect(carried(bare.body)).toEqual({});
    // Without the cookie (another tab's expiry cleared it), a browser's own word that the post is
    // same-origin is enough; the console's no-referrer policy makes its Origin "null".
    const otherTab = await new ConsoleClient(t.app, '10.7.12.3').post(`/console/cases/${c.id}/decision`, body, {
      headers: { origin: 'null', 'sec-fetch-site': 'same-origin' },
    });
    expect(carried(otherTab.body)).toMatchObject({ resumeCase: String(c.id), resumeNote: 'planted' });
  });
});
