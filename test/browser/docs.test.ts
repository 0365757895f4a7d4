/// <reference lib="dom" />
// Swagger UI at /docs in a real headless Chromium under its Content-Security-Policy: it renders
// the API and its operations with no CSP violation (what a stricter policy would break shows here);
// and its script, sandboxed in an origin of its own, cannot read the console with the analyst's cookie.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totp } from '../../services/console/credentials.ts';
import { newUser } from '../console/client.ts';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { launchChromium } from '../support/browser.ts';

let t: TestApp;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let base: string;

beforeAll(async () => {
  t = await buildTestApp({ NODE_ENV: 'development', LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' }, { cases: true });
  base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe('/docs (Swagger UI)', () => {
  it('works under its CSP: the API and its operations render, nothing is blocked, it may not be framed', async () => {
    const page = await browser.context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    const res = await page.goto(`${base}/docs/`);
    expect(res?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await page.waitForSelector('.swagger-ui .info .title', { timeout: 30_000 });
    expect(await page.textContent('.swagger-ui .info .title')).toContain('Leakguard API');
    await page.waitForSelector('.opblock-summary-path', { timeout: 30_000 });
    // Open one operation: its schema and example render too.
    await page.click('.opblock-summary-path[data-path="/v1/score"]');
    await page.waitForSelector('.opblock-body', { timeout: 30_000 });
    expect(violations).toEqual([]);
    await page.close();
  });

  it("runs its script in an opaque origin: it cannot read a console page with the analyst's cookie", async () => {
    const page = await browser.context.newPage();
    // An analyst signed in to the console in this browser.
    const user = await newUser(t, 'analyst');
    await page.goto(`${base}/console/login`);
    await page.fill('#username', user.username);
    await page.fill('#password', user.password);
    await page.fill('#code', totp(user.totpSecret));
    await Promise.all([page.waitForURL(`${base}/console/queue`), page.click('#sign-in')]);
    expect(await page.textContent('#current-user')).toBe(user.username);
    // A script on /docs (a bug in Swagger UI, a hostile spec string) tries to read the console.
    const res = await page.goto(`${base}/docs/`);
    await page.waitForSelector('.opblock-summary-path', { timeout: 30_000 });
    const seen = await page.evaluate(async () => {
      const read = async (url: string) => {
        try {
          const r = await fetch(url, { credentials: 'include' });
          return `read ${r.status}: ${(await r.text()).slice(0, 2000)}`;
        } catch (error) {
          return `refused: ${String(error)}`;
        }
      };
      return { origin: self.origin, queue: await read('/console/queue'), account: await read('/console/account') };
    });
    expect(seen.queue).toMatch(/^refused: TypeError/);
    expect(seen.account).toMatch(/^refused: TypeError/);
    expect(seen.origin).toBe('null');
    expect(res?.headers()['content-security-policy']).toMatch(/(^|;)\s*sandbox allow-scripts allow-popups\s*(;|$)/);
    // The console itself is untouched: the analyst is still signed in there.
    await page.goto(`${base}/console/queue`);
    expect(await page.textContent('#current-user')).toBe(user.username);
    await page.close();
  });
});
