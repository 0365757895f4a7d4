/// <reference lib="dom" />
// Swagger UI at /docs in a real headless Chromium under its Content-Security-Policy: it renders
// the API and its operations with no CSP violation (what a stricter policy would break shows here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { launchChromium } from '../support/browser.ts';

let t: TestApp;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let base: string;

beforeAll(async () => {
  t = await buildTestApp({ NODE_ENV: 'development' });
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
});
