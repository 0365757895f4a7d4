// No card number at rest, anywhere: an order carrying card numbers in every free-text field, in
// several forms (separated, full-width, other scripts, invisible separators, split across lines), is flagged and
// becomes a case; none of them appears in the flagged journal's bytes, the database's rows, the
// console's pages, the logs or the exports. Identifiers holding one are refused without echoing it.
import { flatDigits } from '../support/digit-forms.ts';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportLabels } from '../../services/cases/labels-export.ts';
import { JournalFlaggedQueue } from '../../services/adapters/files/journal-flagged-queue.ts';
import { bearer, buildTestApp, type TestApp } from '../support/app.ts';
import { ConsoleClient, loggedIn } from './client.ts';
import { flagged } from './fixtures.ts';

const CARD = '4000056655665556';
/** Test cards, each written in another form. */
const PANS = [
  '4111111111111111',
  '5555555555554444',
  '378282246310005',
  '6011111111111117',
  '4012888888881881',
  '4242424242424242',
  '5105105105105100',
  '3530111333300000',
  '5425233430109903',
  '2223003122003222',
  CARD,
];
const fullWidth = (s: string) => s.replace(/[0-9]/g, (d) => String.fromCodePoint(0xff10 + Number(d)));
const arabicIndic = (s: string) => s.replace(/[0-9]/g, (d) => String.fromCodePoint(0x660 + Number(d)));
const FORMS = [
  '4111 1111 1111 1111',
  fullWidth('5555555555554444'),
  '3782/822463/10005',
  arabicIndic('6011-1111-1111-1117'),
  '4012-8888 8888.1881',
  '4242\u200b4242\u200b4242\u200b4242',
  '5105\u20131051\u20130510\u20135100',
  fullWidth('3530 1113 3330 0000'),
  // Split across lines, as a delivery note wraps it: a dash and indentation, an email's quote.
  '5425 2334 -\r\n      3010 9903',
  '2223 0031\r\n> 2200 3222',
  '4000.0566.5566.5556',
  // Encoded as a form or a page forwards it (found by a review: each was stored and shown in clear).
  encodeURIComponent('4111,1111,1111,1111'),
  encodeURIComponent(`${fullWidth('5555')} 5555 5555 4444`),
  '6011&nbsp;1111&nbsp;1111&nbsp;1117',
  '4242%25204242%25204242%25204242',
  '4012\u200b\u200b\u200b\u200b8888\u200b\u200b\u200b\u200b8888\u200b\u200b\u200b\u200b1881',
];

/** Percent escapes (twice encoded too) and HTML character references read as what they stand for. */
function decoded(text: string): string {
  let t = text;
  for (let i = 0; i < 3; i++)
    t = t.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  return t
    .replace(/&#([0-9]+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&[a-z]+;/gi, ' ');
}
const flat = (text: string) => flatDigits(decoded(text));
const noCardIn = (what: string, text: string) => {
  for (const f of [flatDigits(text), flat(text)])
    for (const pan of PANS) expect(f, `${what} holds ${pan.slice(0, 6)}…`).not.toContain(pan);
};

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' }, { cases: true });
});
afterAll(() => t?.close());

const form = (i: number) => FORMS[i % FORMS.length]!;
function order(transactionId: string) {
  return {
    transactionId,
    amount: 129_900,
    currency: 'EUR',
    channel: 'ecommerce',
    card: { number: CARD, expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
    threeDS: { status: 'N' },
    customer: { id: 'cust-1', email: 'jane@example.com', phone: '4111 1111 1111 1111' },
    device: { id: 'dev-1', ip: '203.0.113.9', userAgent: `Mozilla/5.0 card ${form(1)}` },
    billingAddress: {
      name: `Jane ${form(2)}`,
      line1: form(3),
      line2: `apt ${form(4)}`,
      city: form(5),
      region: form(6),
      postalCode: '150-0002',
      country: 'JP',
    },
    shippingAddress: { name: form(7), line1: `渋谷区 ${form(8)}`, city: 'Tokyo', country: 'JP' },
    items: FORMS.map((f, k) => ({
      name: `gift card ${f}`,
      sku: `sku-${k}`,
      category: form(k + 1),
      quantity: 1,
      unitPrice: 100,
    })),
  };
}

const score = (payload: unknown) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/score',
    headers: { ...bearer(t.keys.merchant), 'content-type': 'application/json' },
    payload: JSON.stringify(payload),
  });

describe('no card number at rest', () => {
  it('refuses identifiers holding a card number, with a precise error that does not repeat it', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ transactionId: '4000-0566-5566-5556' }, 'transactionId'],
      [{ transactionId: 'order_4000056655665556' }, 'transactionId'],
      [{ customer: { id: '4111 1111 1111 1111' } }, 'customer.id'],
      [{ customer: { id: fullWidth('4111-1111-1111-1111') } }, 'customer.id'],
      [{ device: { id: `device ${arabicIndic('5555555555554444')}` } }, 'device.id'],
    ];
    for (const [over, path] of cases) {
      const res = await score({ ...order('refused-1'), ...over });
      expect(res.statusCode, path).toBe(400);
      expect(res.json().details).toContainEqual({
        path,
        message: expect.stringContaining('must not contain a card number'),
      });
      noCardIn(`the refusal of ${path}`, res.body);
    }
  });

  it('keeps them out of the journal, the database, the console pages, the logs and the exports', async () => {
    const transactionId = `at-rest-${process.pid}`;
    const res = await score(order(transactionId));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().decision).not.toBe('approve');
    await t.runtime.flaggedSink.drain();
    await t.runtime.cases!.ingester.idle();
    const cases = t.runtime.cases!;
    const c = (await cases.store.getByTransaction('m1', transactionId))!;
    expect(c).toBeDefined();
    // What the analyst still sees: the masked forms.
    expect(JSON.stringify(c.transaction)).toContain('411111******1111');

    // Analysts type card numbers too: in notes, and in the login form's username.
    const stranger = new ConsoleClient(t.app, '10.9.0.1');
    await stranger.get('/console/login');
    expect(
      (await stranger.post('/console/login', { username: '4111 1111 1111 1111', password: 'x', code: '000000' }))
        .status,
    ).toBe(401);
    expect(
      (
        await stranger.post('/console/login', {
          username: fullWidth('5555-5555-5555-4444'),
          password: 'x',
          code: '000000',
        })
      ).status,
    ).toBe(401);
    const { client } = await loggedIn(t, 'admin', '10.9.0.2');
    expect(
      (await client.post(`/console/cases/${c.id}/notes`, { text: `customer read ${FORMS[0]} on the phone` })).status,
    ).toBe(303);
    expect(
      (
        await client.post(`/console/cases/${c.id}/decision`, {
          action: 'mark_fraud',
          note: `confirmed: ${FORMS[1]}`,
          confirm: 1,
        })
      ).status,
    ).toBe(303);

    const journal = readFileSync(join(t.stateDir, 'flagged.journal'), 'utf8');
    expect(journal).toContain(transactionId);
    noCardIn('the flagged journal', journal);

    for (const table of ['cases', 'case_events', 'labels', 'audit_log', 'console_users']) {
      const rows = await cases.sql.query(`SELECT * FROM ${table}`);
      expect(rows.rows.length, table).toBeGreaterThan(0);
      noCardIn(`table ${table}`, JSON.stringify(rows.rows));
    }

    const casePage = await client.get(`/console/cases/${c.id}`);
    expect(casePage.status).toBe(200);
    expect(casePage.body).toContain('411111******1111');
    noCardIn('the case page', casePage.body);
    noCardIn('the queue', (await client.get('/console/queue?status=all&pageSize=200')).body);
    noCardIn('the audit page', (await client.get('/console/admin/audit')).body);

    const auditExport = await client.get('/console/admin/audit/export');
    expect(auditExport.status).toBe(200);
    noCardIn('the audit export', auditExport.body);
    const labels = join(mkdtempSync(join(tmpdir(), 'lg-labels-')), 'labels.csv');
    expect(await exportLabels(cases.store, labels, 'csv')).toBeGreaterThan(0);
    noCardIn('the label export', readFileSync(labels, 'utf8'));

    noCardIn('the logs', t.logs.join(''));
  });

  it('never echoes a card number typed into a console address or filter into a redirect (found by a review)', async () => {
    const anonymous = new ConsoleClient(t.app, '10.9.0.7');
    const { client } = await loggedIn(t, 'admin', '10.9.0.3');
    for (const typed of [
      '4111111111111111',
      '4111-1111-1111-1111',
      '4111,1111,1111,1111',
      fullWidth('4111 1111 1111 1111'),
    ]) {
      const e = encodeURIComponent(typed);
      // Without a session, the sign-in's redirect carried the page asked for, card and all.
      for (const url of [
        `/console/queue?transactionId=${e}`,
        `/console/cases/${e}`,
        `/console/admin/audit?actor=${e}`,
      ]) {
        const r = await anonymous.get(url);
        expect(r.status, url).toBe(303);
        expect(r.location, url).toBe('/console/login');
        const signIn = await anonymous.get(`/console/login?next=${encodeURIComponent(url)}`);
        noCardIn(`the sign-in page for ${url}`, signIn.body);
      }
      // Signed in: the queue's "take next" returned its filters in the Location as typed.
      for (const field of ['merchant', 'reasonCode', 'watchlistEvent']) {
        const r = await client.post('/console/queue/take-next', { [field]: typed });
        noCardIn(`take-next's redirect with ${field}`, `${r.location ?? ''} ${r.body}`);
      }
    }
  });

  it('scrubs a journal written before: the pending decisions are rewritten masked at start', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lg-journal-')), 'flagged.journal');
    const old = flagged({ name: `Jane ${FORMS[0]}` });
    old.request.items = [{ name: `gift ${FORMS[1]}`, quantity: 1 }];
    writeFileSync(path, `${JSON.stringify({ add: old })}\n`);
    const queue = new JournalFlaggedQueue(path);
    try {
      noCardIn('the rewritten journal', readFileSync(path, 'utf8'));
      expect(await queue.pending()).toBe(1);
    } finally {
      await queue.stop();
    }
  });
});
