/// <reference lib="dom" />
// The console in a real headless Chromium: login with TOTP, queue and filters, a case decision,
// logout, idle timeout; and hostile orders flagged through /v1/score and opened in the console,
// failing if any payload executes (a dialog, window.__pwned, a CSP violation) or changes the
// page's structure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { totp } from '../../services/console/credentials.ts';
import { bearer, buildTestApp, type TestApp } from '../support/app.ts';
import { launchChromium } from '../support/browser.ts';
import { freshTotpStep, newUser } from '../console/client.ts';
import { hostileOrder, HOSTILE_EMAIL } from '../console/hostile.ts';
import { CPP_ISSUER, CPP_SOURCE } from '../../services/core/watchlist.ts';

let t: TestApp;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let base: string;
const dialogs: string[] = [];

beforeAll(async () => {
  t = await buildTestApp({ NODE_ENV: 'development', LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' }, { cases: true });
  base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  browser = await launchChromium();
  await browser.context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __violations: string[] }).__violations ??= [];
      (window as unknown as { __violations: string[] }).__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  browser.context.on('page', (p) =>
    p.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    }),
  );
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

async function score(body: unknown) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/score',
    headers: { ...bearer(t.keys.merchant), 'content-type': 'application/json' },
    payload: body as object,
  });
  expect(res.statusCode).toBe(200);
  await t.runtime.flaggedSink.drain();
  await t.runtime.cases!.ingester.idle();
  return (await t.runtime.cases!.store.getByTransaction('m1', (body as { transactionId: string }).transactionId))!;
}

async function signIn(page: Page, role: 'analyst' | 'lead' | 'admin' = 'analyst') {
  const user = await newUser(t, role);
  await page.goto(`${base}/console/queue`);
  expect(page.url()).toBe(`${base}/console/login`);
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  await page.fill('#code', totp(user.totpSecret));
  await Promise.all([page.waitForURL(`${base}/console/queue`), page.click('#sign-in')]);
  return user;
}

async function checkPage(page: Page) {
  const state = await page.evaluate(() => ({
    pwned: (window as unknown as { __pwned?: unknown }).__pwned ?? null,
    violations: (window as unknown as { __violations?: string[] }).__violations ?? [],
    dangerous: Array.from(
      document.querySelectorAll(
        'script, iframe, object, embed, img, style, math, form[action^="http"], a[href^="javascript:"], #injected, #injected-h1, svg:not(.chart):not(.chart *)',
      ),
    ).map((e) => e.outerHTML.slice(0, 80)),
    handlers: Array.from(document.querySelectorAll('*')).flatMap((e) =>
      Array.from(e.attributes)
        .filter((a) => /^on/i.test(a.name))
        .map((a) => `${e.tagName}.${a.name}`),
    ),
  }));
  expect(state.pwned).toBeNull();
  expect(state.violations).toEqual([]);
  expect(state.dangerous).toEqual([]);
  expect(state.handlers).toEqual([]);
  expect(dialogs).toEqual([]);
}

/** The element tree where the merchant's strings are shown, plus the page's sections and forms. */
const skeleton = (page: Page) =>
  page.evaluate(() => [
    Array.from(document.querySelectorAll('#transaction *'))
      .map((e) => e.tagName)
      .join(','),
    Array.from(document.querySelectorAll('main > *, main section, main form, main h1, main h2, a'))
      .map((e) => `${e.tagName}#${e.id}`)
      .filter((s) => !s.startsWith('A#'))
      .join(','),
    document.querySelectorAll('a').length - document.querySelectorAll('#linked a').length,
  ]);

describe('console in Chromium', () => {
  it('signs in with TOTP, filters the queue, decides a case and logs out', async () => {
    const low = await score({
      transactionId: 'b-low',
      amount: 2500,
      currency: 'EUR',
      channel: 'ecommerce',
      card: { number: '5555555555554444', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
    });
    const high = await score({
      transactionId: 'b-high',
      amount: 2500,
      currency: 'EUR',
      channel: 'ecommerce',
      threeDS: { status: 'N' },
      card: { number: '4012888888881881', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
    });
    const page = await browser.context.newPage();
    const user = await signIn(page);
    await expect(page.textContent('#current-user')).resolves.toBe(user.username);
    const rows = await page.$$eval('#queue tbody tr', (trs) => trs.map((tr) => Number(tr.getAttribute('data-case'))));
    expect(rows.indexOf(high.id)).toBeLessThan(rows.indexOf(low.id));
    await page.fill('#f-reasonCode', 'THREE_DS_FAILED');
    await page.selectOption('#f-decision', 'review');
    await Promise.all([page.waitForURL(/reasonCode=THREE_DS_FAILED/), page.click('#apply-filters')]);
    const filtered = await page.$$eval('#queue tbody tr', (trs) =>
      trs.map((tr) => Number(tr.getAttribute('data-case'))),
    );
    expect(filtered).toEqual([high.id]);
    await Promise.all([
      page.waitForURL(`${base}/console/cases/${high.id}`),
      page.click(`a[href="/console/cases/${high.id}"]`),
    ]);
    await page.fill('#decision-note', 'issuer confirmed the card was stolen');
    // Mark fraud asks once more, on a page of its own (no script), keeping the note.
    await Promise.all([page.waitForSelector('#confirm-fraud'), page.click('#mark-fraud')]);
    await expect(page.textContent('#confirm-effects')).resolves.toContain('negative lists');
    await Promise.all([page.waitForURL(/done=mark_fraud/), page.click('#confirm-fraud')]);
    await expect(page.textContent('h1')).resolves.toContain('fraud');
    await expect(page.textContent('#history')).resolves.toContain('issuer confirmed the card was stolen');
    expect((await t.runtime.cases!.store.get(high.id))!.status).toBe('fraud');
    await Promise.all([page.waitForURL(`${base}/console/queue`), page.goto(`${base}/console/queue`)]);
    await Promise.all([page.waitForURL(/\/console\/cases\/\d+/), page.click('#take-next')]);
    await checkPage(page);
    await Promise.all([page.waitForURL(`${base}/console/logout`), page.click('#logout')]);
    await expect(page.textContent('#notice')).resolves.toContain('signed out');
    await page.goto(`${base}/console/queue`);
    expect(page.url()).toBe(`${base}/console/login`);
    const cookies = await browser.context.cookies(base);
    const session = cookies.find((c) => c.name === 'lg_console');
    expect(session).toBeUndefined();
    await page.close();
  });

  it('ends an idle session: the next click lands on the login page', async () => {
    const page = await browser.context.newPage();
    await signIn(page);
    const cookie = (await browser.context.cookies(base)).find((c) => c.name === 'lg_console')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    // 15 minutes pass without a request.
    await t.runtime.cases!.sql.query(`UPDATE console_sessions SET last_seen_at = now() - interval '16 minutes'`);
    await Promise.all([page.waitForURL(/\/console\/login\?expired=1/), page.click('a[href="/console/dashboard"]')]);
    await expect(page.textContent('#notice')).resolves.toContain('session expired');
    await page.close();
  });

  it('keeps a decision sent after the session idled out: signed in again, it is filled in on the case; then take next', async () => {
    const c = await score({
      transactionId: 'b-idle-decision',
      amount: 2500,
      currency: 'EUR',
      channel: 'ecommerce',
      card: { number: '4000056655665556', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
    });
    await freshTotpStep();
    const page = await browser.context.newPage();
    const user = await signIn(page);
    await page.goto(`${base}/console/cases/${c.id}`);
    await page.fill('#decision-note', 'Holder confirmed by phone, card 4111 1111 1111 1111.\nSecond line.');
    // The analyst worked the case for more than 15 minutes.
    await t.runtime.cases!.sql.query(
      `UPDATE console_sessions SET last_seen_at = now() - interval '16 minutes' WHERE username = $1`,
      [user.username],
    );
    await Promise.all([page.waitForSelector('#sign-in'), page.click('#mark-legitimate')]);
    await expect(page.textContent('#notice')).resolves.toContain(
      `decision on case #${c.id} (Mark legitimate, with your note)`,
    );
    expect(await page.content()).not.toContain('4111 1111 1111 1111');
    await page.fill('#username', user.username);
    await page.fill('#password', user.password);
    await page.fill('#code', totp(user.totpSecret, Date.now() + 30_000));
    await Promise.all([page.waitForURL(`${base}/console/cases/${c.id}?resumed=1`), page.click('#sign-in')]);
    await expect(page.inputValue('#decision-note')).resolves.toBe(
      'Holder confirmed by phone, card 411111******1111.\nSecond line.',
    );
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('mark-legitimate');
    expect((await t.runtime.cases!.store.get(c.id))!.status).not.toBe('legitimate');
    await checkPage(page);
    // The analyst confirms; the result page offers the next case straight away.
    await Promise.all([page.waitForURL(/done=mark_legitimate/), page.click('#mark-legitimate')]);
    expect((await t.runtime.cases!.store.get(c.id))!.status).toBe('legitimate');
    await Promise.all([
      page.waitForURL(/\/console\/(cases\/\d+$|queue\?empty=1$)/),
      page.click('#take-next-form #take-next'),
    ]);
    await checkPage(page);
    // Signed out: the browser context is shared with the next test, which signs in afresh.
    await Promise.all([page.waitForURL(`${base}/console/logout`), page.click('#logout')]);
    await page.close();
  });

  it('renders hostile orders as text: nothing executes, the page structure is unchanged', async () => {
    const hostile = [];
    for (let i = 0; i < 4; i++) {
      const order = hostileOrder(`hostile-b-${i}`, i);
      hostile.push(await score(i === 0 ? { ...order, customer: { ...order.customer, email: HOSTILE_EMAIL } } : order));
    }
    // The same order shape with harmless text: the hostile page must have the same element tree.
    const plain = hostileOrder('plain-b', 0, () => 'plain text');
    const benign = await score({ ...plain, customer: { ...plain.customer, email: HOSTILE_EMAIL } });
    const page = await browser.context.newPage();
    await signIn(page, 'lead');
    await page.goto(`${base}/console/cases/${benign.id}`);
    const expected = await skeleton(page);
    for (const c of hostile) {
      await page.goto(`${base}/console/cases/${c.id}`);
      await checkPage(page);
      expect(await skeleton(page)).toEqual(expected);
      // The payloads are on the page, as text.
      await expect(page.textContent('#shipping-address')).resolves.toMatch(/<|javascript:|\{\{/);
    }
    for (const url of [
      '/console/queue?merchant=m1&pageSize=200',
      '/console/dashboard',
      '/console/queue?merchant=%3Cscript%3Ewindow.__pwned%3D1%3C%2Fscript%3E',
    ]) {
      await page.goto(`${base}${url}`);
      await checkPage(page);
    }
    await expect(page.inputValue('#f-merchant')).resolves.toBe('<script>window.__pwned=1</script>');
    // Decide a hostile case and read it back in its history.
    await page.goto(`${base}/console/cases/${hostile[1]!.id}`);
    await page.fill('#decision-note', '<img src=x onerror=alert(1)> noted');
    await Promise.all([page.waitForURL(/done=escalate/), page.click('#escalate')]);
    await checkPage(page);
    await expect(page.textContent('#history')).resolves.toContain('<img src=x onerror=alert(1)> noted');
    await page.close();
  });

  it('shows a suspected breach with its charts under the CSP, and a lead confirms it', async () => {
    // A suspected event of Leakguard's own, as a scan opens it (services/breach/scanner.ts).
    const { event } = await t.runtime.watchlist.createEvent(
      {
        externalId: 'cpp:browser-shop',
        source: CPP_SOURCE,
        description: '',
        exposureStart: '2026-10-01T00:00:00.000Z',
        exposureEnd: '2026-10-20T00:00:00.000Z',
        discoveredAt: '2026-11-02T00:00:00.000Z',
        dataElements: ['pan'],
        confidence: 'suspected',
      },
      CPP_ISSUER,
      new Date(),
    );
    const day = Date.parse('2026-10-25T00:00:00Z');
    await t.runtime.watchlist.updateEvent(
      event.seq,
      {
        evidence: {
          merchantId: 'browser-shop',
          fraudCards: 7,
          weightedFraudCards: 6.5,
          expected: 0.3,
          log10PValue: -9.2,
          exposedCards: 120,
          exposedByBin: { '411111': 80, '555555': 40 },
          firstFrauds: [
            day,
            day,
            day + 86_400_000,
            day + 3 * 86_400_000,
            day + 3 * 86_400_000,
            day + 5 * 86_400_000,
            day + 6 * 86_400_000,
          ],
          scannedAt: '2026-11-02T00:00:00.000Z',
        },
      },
      new Date(),
    );
    await browser.context.clearCookies(); // signed out of the previous test's session
    const page = await browser.context.newPage();
    await signIn(page, 'lead');
    await Promise.all([page.waitForURL(`${base}/console/breaches`), page.click('a[href="/console/breaches"]')]);
    await Promise.all([
      page.waitForURL(`${base}/console/breaches/${event.id}`),
      page.click(`a[href="/console/breaches/${event.id}"]`),
    ]);
    await expect(page.textContent('#breach-merchant')).resolves.toBe('browser-shop');
    expect(await page.locator('svg.chart').count()).toBe(2);
    await checkPage(page);
    await Promise.all([page.waitForURL(/done=confirmed/), page.click('#confirm-breach')]);
    await expect(page.textContent('#breach-review')).resolves.toContain('confirmed by');
    await expect(page.textContent('#breach-confidence')).resolves.toBe('confirmed');
    await checkPage(page);
    await page.close();
  });

  it('pages the suspected breaches: Next and Previous links a browser follows', async () => {
    for (let i = 0; i < 26; i++) {
      const { event } = await t.runtime.watchlist.createEvent(
        {
          externalId: `cpp:browser-paged-${i}`,
          source: CPP_SOURCE,
          description: '',
          exposureStart: '2026-10-01T00:00:00.000Z',
          exposureEnd: '2026-10-20T00:00:00.000Z',
          discoveredAt: '2026-11-02T00:00:00.000Z',
          dataElements: ['pan'],
          confidence: 'suspected',
        },
        CPP_ISSUER,
        new Date(Date.now() + (i + 1) * 1000),
      );
      await t.runtime.watchlist.updateEvent(
        event.seq,
        {
          evidence: {
            merchantId: `browser-paged-${i}`,
            fraudCards: 7,
            weightedFraudCards: 6.5,
            expected: 0.3,
            log10PValue: -9.2,
            exposedCards: 1,
            exposedByBin: { '411111': 1 },
            firstFrauds: [Date.parse('2026-10-25T00:00:00Z')],
            scannedAt: '2026-11-02T00:00:00.000Z',
          },
        },
        new Date(),
      );
    }
    const total = (await t.runtime.watchlist.listEvents(CPP_ISSUER)).filter((e) => e.evidence).length;
    expect(total).toBeGreaterThan(25);
    await browser.context.clearCookies();
    const page = await browser.context.newPage();
    await signIn(page);
    await Promise.all([page.waitForURL(`${base}/console/breaches`), page.click('a[href="/console/breaches"]')]);
    const shown = () => page.$$eval('#breaches tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-event')));
    const first = await shown();
    expect(first).toHaveLength(25);
    // The newest first: the last event created heads the list.
    expect(first[0]).toBe((await t.runtime.watchlist.listEvents(CPP_ISSUER)).at(-1)!.id);
    expect(await page.locator('#prev-page').count()).toBe(0);
    await Promise.all([page.waitForURL(`${base}/console/breaches?page=2`), page.click('#next-page')]);
    const second = await shown();
    expect(second).toHaveLength(total - 25);
    expect(second.filter((id) => first.includes(id))).toEqual([]);
    expect(await page.locator('#next-page').count()).toBe(0);
    await checkPage(page);
    await Promise.all([page.waitForURL(`${base}/console/breaches?page=1`), page.click('#prev-page')]);
    expect(await shown()).toEqual(first);
    await page.close();
  });

  it('enrols a user an admin created with a one-time code, and changes a password, without a script', async () => {
    await freshTotpStep();
    await browser.context.clearCookies();
    const page = await browser.context.newPage();
    // Nothing on these pages may run or be blocked: no script, no CSP violation, no handler.
    const quiet = async () => {
      const state = await page.evaluate(() => ({
        violations: (window as unknown as { __violations?: string[] }).__violations ?? [],
        scripts: document.querySelectorAll('script, iframe, object, embed').length,
        handlers: Array.from(document.querySelectorAll('*')).flatMap((e) =>
          Array.from(e.attributes).filter((a) => /^on/i.test(a.name)),
        ).length,
      }));
      expect(state).toEqual({ violations: [], scripts: 0, handlers: 0 });
      expect(dialogs).toEqual([]);
    };
    await signIn(page, 'admin');
    await Promise.all([page.waitForURL(`${base}/console/admin/users`), page.click('a[href="/console/admin/users"]')]);
    await page.fill('#new-username', 'browser-enrolee');
    await page.selectOption('#create-user select[name="role"]', 'analyst');
    await Promise.all([page.waitForURL(`${base}/console/admin/users`), page.click('#create-user-button')]);
    const code = (await page.textContent('#enrolment-code'))!;
    expect(await page.locator('#new-password, #new-totp-secret, #new-enrolment svg').count()).toBe(0);
    await quiet();
    await Promise.all([page.waitForURL(`${base}/console/logout`), page.click('#logout')]);
    // The user follows the link the admin handed over.
    await page.goto(`${base}/console/enrol?username=browser-enrolee`);
    await expect(page.inputValue('#username')).resolves.toBe('browser-enrolee');
    await page.fill('#enrolment-code', code);
    await Promise.all([page.waitForURL(`${base}/console/enrol`), page.click('#enrol-start')]);
    await quiet();
    expect(await page.locator('.qr svg path').count()).toBeGreaterThan(0);
    const secret = (await page.textContent('#totp-secret'))!;
    await page.fill('#code', totp(secret));
    await page.fill('#new-password', 'a browser passphrase');
    await page.fill('#new-password2', 'a browser passphrase');
    await Promise.all([page.waitForURL(`${base}/console/login?enrolled=1`), page.click('#enrol-finish')]);
    await expect(page.textContent('#notice')).resolves.toContain('Your password and authenticator are set');
    await page.fill('#username', 'browser-enrolee');
    await page.fill('#password', 'a browser passphrase');
    await page.fill('#code', totp(secret, Date.now() + 30_000));
    await Promise.all([page.waitForURL(`${base}/console/queue`), page.click('#sign-in')]);
    await expect(page.textContent('#current-user')).resolves.toBe('browser-enrolee');
    await Promise.all([page.waitForURL(`${base}/console/logout`), page.click('#logout')]);
    // Another user changes their password from their account page.
    const user = await signIn(page);
    await Promise.all([page.waitForURL(`${base}/console/account`), page.click('#current-user')]);
    await page.fill('#current-password', user.password);
    await page.fill('#code', totp(user.totpSecret, Date.now() + 30_000));
    await page.fill('#new-password', 'my changed passphrase');
    await page.fill('#new-password2', 'my changed passphrase');
    await Promise.all([page.waitForURL(`${base}/console/login?changed=1`), page.click('#change-password')]);
    await expect(page.textContent('#notice')).resolves.toContain('Your password is changed');
    await quiet();
    await page.goto(`${base}/console/queue`);
    expect(page.url()).toBe(`${base}/console/login`);
    await page.close();
  });
});

describe('notes and links in Chromium', () => {
  it('returns to a linked case after sign-in; Cancel on "Mark fraud?" and "Add note only" keep the note', async () => {
    const c = await score({
      transactionId: 'b-note-kept',
      amount: 2500,
      currency: 'EUR',
      channel: 'ecommerce',
      card: { number: '4000056655665556', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
    });
    await freshTotpStep();
    const user = await newUser(t, 'analyst');
    const page = await browser.context.newPage();
    // A link to the case, followed without a session: the sign-in comes back to it.
    await page.goto(`${base}/console/cases/${c.id}`);
    expect(page.url()).toBe(`${base}/console/login?next=${encodeURIComponent(`/console/cases/${c.id}`)}`);
    await page.fill('#username', user.username);
    await page.fill('#password', user.password);
    await page.fill('#code', totp(user.totpSecret));
    await Promise.all([page.waitForURL(`${base}/console/cases/${c.id}`), page.click('#sign-in')]);
    // One note box on the page.
    expect(await page.$$eval('textarea', (boxes) => boxes.map((b) => b.id))).toEqual(['decision-note']);
    await page.fill('#decision-note', 'customer called, unsure');
    await Promise.all([page.waitForSelector('#confirm-fraud'), page.click('#mark-fraud')]);
    await Promise.all([page.waitForSelector('#decision-note'), page.click('#cancel-fraud')]);
    await expect(page.inputValue('#decision-note')).resolves.toBe('customer called, unsure');
    await expect(page.textContent('#notice')).resolves.toContain('Not marked as fraud.');
    await Promise.all([page.waitForURL(/done=note/), page.click('#add-note')]);
    await expect(page.textContent('#history')).resolves.toContain('customer called, unsure');
    await expect(page.textContent('h1')).resolves.not.toContain('fraud');
    await checkPage(page);
    await page.close();
  });

  it('a refused decision lands on a page whose reload sends nothing again, the note still in its box', async () => {
    const c = await score({
      transactionId: 'b-refused-reload',
      amount: 2500,
      currency: 'EUR',
      channel: 'ecommerce',
      card: { number: '4000056655665556', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
    });
    await freshTotpStep();
    await browser.context.clearCookies(); // signed out of the previous test's session
    const page = await browser.context.newPage();
    await signIn(page);
    const posts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') posts.push(r.url());
    });
    await page.goto(`${base}/console/cases/${c.id}`);
    // Taken by a colleague while the page was open.
    await t.runtime.cases!.store.assign(c.id, 'colleague', 'colleague');
    await page.fill('#decision-note', 'spoke to the holder');
    await Promise.all([page.waitForURL(`${base}/console/cases/${c.id}?kept=1`), page.click('#mark-legitimate')]);
    for (let i = 0; i < 2; i++) {
      await expect(page.textContent('#notice')).resolves.toContain('Nothing was decided.');
      await expect(page.inputValue('#note-text')).resolves.toBe('spoke to the holder');
      if (i === 0) await page.reload();
    }
    expect(posts).toEqual([`${base}/console/cases/${c.id}/decision`]);
    expect((await t.runtime.cases!.store.get(c.id))!.status).toBe('in_review');
    await checkPage(page);
    await page.close();
  });
});
