// Card numbers customers and analysts type into free text, in forms a review found shown or kept
// in clear, on a real PostgreSQL: the case page, the case's rows and its history never hold one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flatDigits } from '../support/digit-forms.ts';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { PostgresServer } from '../support/postgres-server.ts';
import { personalView } from '../../services/cases/personal-data.ts';
import { scrubAddress } from '../../services/core/scrub.ts';
import { flagCase, loggedIn } from './client.ts';

const PANS = ['4111111111111111', '5555555555554444', '378282246310005', '4012888888881881'];
/** No card of PANS in the text, its digits read across any character but a letter or digit. */
const noCardIn = (what: string, text: string) => {
  // HTML character references (&amp; &#39; ...) read as the separators they stand for.
  const flat = flatDigits(text.replace(/&(?:[a-z]+|#[0-9]+);/gi, ' '));
  for (const pan of PANS) expect(flat, `${what} holds ${pan.slice(0, 6)}…`).not.toContain(pan);
};

let pg: PostgresServer;
let t: TestApp;
beforeAll(async () => {
  pg = await PostgresServer.start();
  t = await buildTestApp({ LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14', DATABASE_URL: pg.url }, { cases: true });
});
afterAll(async () => {
  await t?.close();
  await pg?.stop();
});

describe('a card typed in a note', () => {
  it('with a list separator between single digits, pairs or triples is masked in the history, the page and the rows (found by a review)', async () => {
    const c = await flagCase(t);
    const { client } = await loggedIn(t, 'admin', '10.9.1.1');
    const digitByDigit = (pan: string, sep: string) => pan.split('').join(sep);
    const typed = [
      ...[',', ';', ':', '|', '+', '*', '#', '~', '=', '&', '\uff0c', '\u3001'].map((sep) =>
        digitByDigit('4111111111111111', sep),
      ),
      '41,11,11,11,11,11,11,11',
      '401,288,888,888,188,1',
      `Amex ${digitByDigit('378282246310005', ', ')} per phone`,
    ];
    for (const text of typed)
      expect((await client.post(`/console/cases/${c.id}/notes`, { text })).status, text).toBe(303);
    const decided = await client.post(`/console/cases/${c.id}/decision`, {
      action: 'mark_fraud',
      note: digitByDigit('4111111111111111', ','),
      confirm: 1,
    });
    expect(decided.status).toBe(303);

    const history = await t.runtime.cases!.store.history(c.id);
    const notes = history.map((e) => e.detail.text).filter((v): v is string => typeof v === 'string');
    expect(notes).toEqual(
      expect.arrayContaining([
        '411111******1111',
        '401288******1881',
        'Amex 378282******005 per phone',
        // The decision's note.
        expect.stringMatching(/^411111\*{6}1111$/),
      ]),
    );
    noCardIn('the history', JSON.stringify(history));
    const page = await client.get(`/console/cases/${c.id}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('411111******1111');
    noCardIn('the case page', page.body);
    for (const table of ['case_events', 'audit_log']) {
      const rows = await t.runtime.cases!.sql.query(`SELECT * FROM ${table}`);
      expect(rows.rows.length, table).toBeGreaterThan(0);
      noCardIn(`table ${table}`, JSON.stringify(rows.rows));
    }
  });
});

describe('a card split across the lines of an address', () => {
  it('is masked on the case page and in the personal data stored, billing and shipping (found by a review)', async () => {
    const c = await flagCase(t, {
      billingAddress: { name: 'Jane 3782 822463', line1: '10005 rue de la Paix', city: 'Paris', country: 'FR' },
      shippingAddress: { line1: '4111 1111', line2: '1111 1111', postalCode: '75002', city: 'Paris', country: 'FR' },
    });
    const view = personalView((await t.runtime.cases!.store.get(c.id))!, t.runtime.cases!.personalData);
    expect(view.state).toBe('readable');
    const data = view.state === 'readable' ? view.data : undefined;
    expect(data).toEqual({
      billingAddress: { name: 'Jane 378282******005', line1: 'rue de la Paix', city: 'Paris', country: 'FR' },
      shippingAddress: { line1: '411111******1111', postalCode: '75002', city: 'Paris', country: 'FR' },
    });
    noCardIn('the personal data', JSON.stringify(data));

    const { client } = await loggedIn(t, 'analyst', '10.9.1.2');
    const page = await client.get(`/console/cases/${c.id}`);
    expect(page.status).toBe(200);
    const cell = (id: string) => new RegExp(`<td id="${id}">([\\s\\S]*?)</td>`).exec(page.body)?.[1]?.trim();
    expect(cell('shipping-address')).toBe('411111******1111<br />75002<br />Paris<br />FR');
    expect(cell('billing-address')).toBe('Jane 378282******005<br />rue de la Paix<br />Paris<br />FR');
    noCardIn('the case page', page.body);
    noCardIn('the logs', t.logs.join(''));
  });

  it('a case stored before is shown masked all the same: the page scrubs the lines as it shows them', () => {
    // What the store held of such an address before: each line scrubbed alone.
    const stored = { line1: '4111 1111', line2: '1111 1111', city: 'Paris' };
    expect(scrubAddress(stored)).toEqual({ line1: '411111******1111', city: 'Paris' });
  });
});
