// Personal data at rest (issue #13): an order's customer id, email, phone, addresses, IP, device id
// and user agent are in no case row, no journal line and no Redis stream entry in clear; the case
// page shows them decrypted to an analyst; a ciphertext moved to another case does not open (the
// page says "unreadable", no 500); data sealed before a key rotation still open after it; every
// case's personal data (open ones too) and notes are erased after the retention period, recent
// ones are left; and production refuses to start without the key.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresAuditLog } from '../../services/adapters/postgres/audit-log.ts';
import { PostgresCaseStore } from '../../services/adapters/postgres/case-store.ts';
import type { SqlClient } from '../../services/adapters/postgres/sql-client.ts';
import { JournalFlaggedQueue } from '../../services/adapters/files/journal-flagged-queue.ts';
import { PersonalDataCipher, personalView, protectFlagged } from '../../services/cases/personal-data.ts';
import { erasePersonalData, PERSONAL_DATA_ERASE } from '../../services/cases/retention.ts';
import { FLAGGED_STREAM } from '../../services/adapters/redis/flagged-queue.ts';
import { connectRedis } from '../../services/adapters/redis/connection.ts';
import { loadConfig } from '../../services/config.ts';
import { scoreRequestSchema } from '../../services/core/schemas.ts';
import { loadDataKeyring } from '../../services/data-keys.ts';
import { createLogger } from '../../services/logger.ts';
import { createRuntime } from '../../services/runtime.ts';
import { bearer, buildTestApp, TEST_CARD_KEY, TEST_DATA_KEY, type TestApp } from '../support/app.ts';
import { freePort } from '../support/ports.ts';
import { RedisServer } from '../support/redis-server.ts';
import { loggedIn } from './client.ts';
import { flagged, pgliteDriver, postgresDriver, TEST_DATA_CIPHER, type Driver } from './fixtures.ts';

const root = new URL('../..', import.meta.url).pathname;

/** Every personal value of the order, each distinctive enough to be found anywhere it leaks. */
const P = {
  customerId: 'cust-8812-hy',
  email: 'hanako.yamada@example.jp',
  phone: '+81 90 1234 5678',
  deviceId: 'device-7f3a9c',
  ip: '198.51.100.23',
  userAgent: 'PersonalDataTestBrowser/1.0',
  billing: { name: 'Hanako Yamada', line1: 'Sakae 3-5-1', city: 'Nagoya', postalCode: '460-0008', country: 'JP' },
  shipping: {
    name: 'Taro Yamada',
    line1: 'Meieki 1-1-4',
    line2: 'Room 1203',
    city: 'Toyohashi',
    postalCode: '440-0888',
    country: 'JP',
  },
};
const CLEAR = [
  P.customerId,
  P.email,
  P.phone,
  P.deviceId,
  P.ip,
  P.userAgent,
  P.billing.name,
  P.billing.line1,
  P.billing.city,
  P.billing.postalCode,
  P.shipping.name,
  P.shipping.line1,
  P.shipping.line2,
  P.shipping.city,
  P.shipping.postalCode,
];
const noneIn = (what: string, text: string) => {
  for (const value of CLEAR) expect(text, `${what} holds ${value}`).not.toContain(value);
};

/** A flagged order (CVV mismatch, failed 3-D Secure) carrying every kind of personal data. */
function order(transactionId: string, email = P.email) {
  return {
    transactionId,
    amount: 54_900,
    currency: 'EUR',
    channel: 'ecommerce',
    card: { number: '4000056655665556', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
    threeDS: { status: 'N' },
    customer: { id: P.customerId, email, phone: P.phone, accountCreatedAt: '2024-04-01T00:00:00Z' },
    device: { id: P.deviceId, ip: P.ip, userAgent: P.userAgent },
    billingAddress: P.billing,
    shippingAddress: P.shipping,
  };
}

/** The fixture, shaped as an older version queued it, with every kind of personal data in clear. */
function clearFlagged(merchantId: string, transactionId = `pd-${process.pid}-${Math.random().toString(36).slice(2)}`) {
  const f = flagged({ merchantId, transactionId });
  Object.assign(f.request, {
    customer: { id: P.customerId, email: P.email, phone: P.phone },
    device: { id: P.deviceId, ip: P.ip, userAgent: P.userAgent },
    billingAddress: P.billing,
    shippingAddress: P.shipping,
  });
  return f;
}

describe('personal-data keys', () => {
  const message = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return (error as Error).message;
    }
    return 'no error';
  };

  it('refuses to start in production without one, and refuses weak, shared or ambiguous keys', () => {
    expect(
      message(() => loadDataKeyring(loadConfig({ NODE_ENV: 'production', LEAKGUARD_CARD_KEY: TEST_CARD_KEY }))),
    ).toBe(
      'invalid configuration:\n  LEAKGUARD_DATA_KEY: required in production (or LEAKGUARD_DATA_KEY_FILE); refusing to start without a personal-data encryption key',
    );
    expect(message(() => loadDataKeyring(loadConfig({ LEAKGUARD_DATA_KEY: 'abcd' })))).toContain(
      'LEAKGUARD_DATA_KEY: must hold at least 32 random bytes',
    );
    expect(
      message(() => loadDataKeyring(loadConfig({ LEAKGUARD_DATA_KEY: 'a correct horse battery staple, forty-four!' }))),
    ).toContain('LEAKGUARD_DATA_KEY: must be 64 hex characters or base64');
    const cards = { primary: { id: 'c1', secret: Buffer.from(TEST_CARD_KEY, 'hex') } };
    expect(message(() => loadDataKeyring(loadConfig({ LEAKGUARD_DATA_KEY: TEST_CARD_KEY }), cards))).toContain(
      'LEAKGUARD_DATA_KEY: must differ from the card key',
    );
    expect(
      message(() => loadConfig({ LEAKGUARD_DATA_KEY: TEST_DATA_KEY, LEAKGUARD_DATA_KEY_FILE: '/nonexistent' })),
    ).toContain('set either LEAKGUARD_DATA_KEY or LEAKGUARD_DATA_KEY_FILE');
    expect(
      message(() =>
        loadDataKeyring(
          loadConfig({
            LEAKGUARD_DATA_KEY: TEST_DATA_KEY,
            LEAKGUARD_DATA_KEY_ID: 'k1',
            LEAKGUARD_PREVIOUS_DATA_KEY: 'e'.repeat(64),
            LEAKGUARD_PREVIOUS_DATA_KEY_ID: 'k1',
          }),
        ),
      ),
    ).toContain(
      'LEAKGUARD_DATA_KEY_ID: the new data key has the id of the previous one (k1), which what the previous key sealed names: give the new key a new id (LEAKGUARD_DATA_KEY_ID), and the previous key the id it had (LEAKGUARD_PREVIOUS_DATA_KEY_ID=k1)',
    );
    // Base64 keys, key files and ids as for the card key.
    const dir = mkdtempSync(join(tmpdir(), 'lg-data-key-'));
    writeFileSync(join(dir, 'k'), `${Buffer.alloc(32, 9).toString('base64')}\n`);
    const { keyring } = loadDataKeyring(
      loadConfig({
        LEAKGUARD_DATA_KEY_FILE: join(dir, 'k'),
        LEAKGUARD_DATA_KEY_ID: 'pd2026',
        LEAKGUARD_PREVIOUS_DATA_KEY: TEST_DATA_KEY,
      }),
    );
    expect(keyring.primary).toEqual({ id: 'pd2026', secret: Buffer.alloc(32, 9) });
    expect(keyring.previous!.secret).toEqual(Buffer.from(TEST_DATA_KEY, 'hex'));
    // Development: a key file is generated once under the state directory, and reused.
    const first = loadDataKeyring(loadConfig({ LEAKGUARD_STATE_DIR: dir }));
    expect(first.createdDevelopmentKey).toBe(true);
    expect(first.developmentKeyFile).toBe(join(dir, 'development-data-key'));
    expect(loadDataKeyring(loadConfig({ LEAKGUARD_STATE_DIR: dir })).keyring.primary).toEqual(first.keyring.primary);
  });

  it('npm start in production without LEAKGUARD_DATA_KEY exits 2 with the precise message, creating no key', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'lg-prod-nokey-'));
    const child = spawn(process.execPath, [join(root, 'services/main.ts')], {
      cwd: root,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        LEAKGUARD_STATE_DIR: stateDir,
        PORT: String(await freePort()),
        REDIS_URL: '',
        DATABASE_URL: '',
        LEAKGUARD_MODEL: 'off',
        // Every other key production asks for is given: only the personal-data key is missing.
        LEAKGUARD_CARD_KEY: 'b'.repeat(64),
        LEAKGUARD_AUDIT_KEY: 'e'.repeat(64),
        LEAKGUARD_DATA_KEY: '',
        LEAKGUARD_DATA_KEY_FILE: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d.toString()));
    child.stderr!.on('data', (d) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(out).toContain(
      'leakguard: invalid configuration:\n  LEAKGUARD_DATA_KEY: required in production (or LEAKGUARD_DATA_KEY_FILE); refusing to start without a personal-data encryption key\n',
    );
    expect(out).not.toContain('Listening on');
    expect(readdirSync(stateDir)).not.toContain('development-data-key');
  }, 60_000);
});

describe('the cipher', () => {
  it('seals with a fresh nonce and the key id, binds to the case, and opens after a rotation', () => {
    const data = { customer: { email: P.email }, shippingAddress: P.shipping };
    const binding = JSON.stringify(['leakguard-case', 'm1', 't1']);
    const a = TEST_DATA_CIPHER.seal(data, binding);
    const b = TEST_DATA_CIPHER.seal(data, binding);
    expect(a).toMatch(/^pd1\.test-data\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    noneIn('a sealed value', a);
    expect(TEST_DATA_CIPHER.open(a, binding)).toEqual(data);
    expect(() => TEST_DATA_CIPHER.open(a, JSON.stringify(['leakguard-case', 'm1', 't2']))).toThrow(
      /for another case, or altered/,
    );
    const flipped = `${a.slice(0, -2)}${a.at(-2) === 'A' ? 'B' : 'A'}${a.at(-1)}`;
    expect(() => TEST_DATA_CIPHER.open(flipped, binding)).toThrow(/for another case, or altered/);
    const next = { id: 'next', secret: Buffer.alloc(32, 8) };
    const rotated = new PersonalDataCipher({
      primary: next,
      previous: { id: 'test-data', secret: Buffer.alloc(32, 7) },
    });
    expect(rotated.open(a, binding)).toEqual(data);
    expect(rotated.seal(data, binding)).toMatch(/^pd1\.next\./);
    expect(() => new PersonalDataCipher({ primary: next }).open(a, binding)).toThrow(
      /sealed under key test-data, which this engine does not hold/,
    );
  });

  it('rewrites an older journal sealed at start: its bytes hold no personal data in clear', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lg-journal-pd-')), 'flagged.journal');
    const old = clearFlagged('m1');
    writeFileSync(path, `${JSON.stringify({ add: old })}\n`);
    expect(readFileSync(path, 'utf8')).toContain(P.email);
    const queue = new JournalFlaggedQueue(path, { protect: (f) => protectFlagged(f, TEST_DATA_CIPHER) });
    try {
      noneIn('the rewritten journal', readFileSync(path, 'utf8'));
      expect(await queue.pending()).toBe(1);
      const [entry] = readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).add);
      expect(
        TEST_DATA_CIPHER.open(entry.personal, JSON.stringify(['leakguard-case', 'm1', old.transactionId])),
      ).toMatchObject({ customer: { email: P.email }, billingAddress: P.billing });
    } finally {
      await queue.stop();
    }
  });
});

for (const makeDriver of [pgliteDriver, postgresDriver]) {
  describe.sequential(`the case store (${makeDriver === pgliteDriver ? 'PGlite' : 'PostgreSQL server'})`, () => {
    let driver: Driver;
    let sql: SqlClient;
    let store: PostgresCaseStore;
    let audit: PostgresAuditLog;
    beforeAll(async () => {
      driver = await makeDriver();
      sql = await driver.open();
      store = new PostgresCaseStore(sql, TEST_DATA_CIPHER);
      audit = new PostgresAuditLog(sql);
    });
    afterAll(async () => {
      await sql?.close();
      await driver?.stop();
    });
    const row = async (id: number) => (await sql.query('SELECT * FROM cases WHERE id = $1', [id])).rows[0]!;

    it('seals personal data on write, whatever the queue held: the row holds none in clear', async () => {
      const { id } = await store.createFromFlagged(clearFlagged('seal'));
      const r = await row(id);
      noneIn('the cases row', JSON.stringify(r));
      expect(r.personal_data).toMatch(/^pd1\.test-data\./);
      expect(r.transaction).not.toHaveProperty('device');
      const c = (await store.get(id))!;
      const view = personalView(c, TEST_DATA_CIPHER);
      expect(view).toEqual({
        state: 'readable',
        data: {
          customer: { id: P.customerId, email: P.email, phone: P.phone },
          device: { id: P.deviceId, ip: P.ip, userAgent: P.userAgent },
          billingAddress: P.billing,
          shippingAddress: P.shipping,
        },
      });
    });

    it('does not open a ciphertext moved to another case', async () => {
      const a = await store.createFromFlagged(clearFlagged('move'));
      const b = await store.createFromFlagged(flagged({ merchantId: 'move' }));
      await sql.query(
        'UPDATE cases SET personal_data = (SELECT personal_data FROM cases WHERE id = $1) WHERE id = $2',
        [a.id, b.id],
      );
      expect(personalView((await store.get(a.id))!, TEST_DATA_CIPHER).state).toBe('readable');
      expect(personalView((await store.get(b.id))!, TEST_DATA_CIPHER)).toMatchObject({
        state: 'unreadable',
        reason: expect.stringContaining('for another case'),
      });
    });

    it('seals at start the personal data an older version stored in clear', async () => {
      const { id } = await store.createFromFlagged(flagged({ merchantId: 'legacy' }));
      // As the rows were before this change: personal data inside the transaction JSON.
      await sql.query(`UPDATE cases SET personal_data = NULL, transaction = transaction || $2::jsonb WHERE id = $1`, [
        id,
        JSON.stringify({
          customer: { id: P.customerId, email: P.email, accountCreatedAt: '2024-04-01T00:00:00.000Z' },
          device: { ip: P.ip },
          billingAddress: P.billing,
        }),
      ]);
      expect(JSON.stringify(await row(id))).toContain(P.email);
      expect(await store.sealPersonalDataInClear()).toBe(1);
      expect(await store.sealPersonalDataInClear()).toBe(0);
      const r = await row(id);
      noneIn('the sealed legacy row', JSON.stringify(r));
      expect((r.transaction as { customer?: unknown }).customer).toEqual({
        accountCreatedAt: '2024-04-01T00:00:00.000Z',
      });
      expect(personalView((await store.get(id))!, TEST_DATA_CIPHER)).toEqual({
        state: 'readable',
        data: { customer: { id: P.customerId, email: P.email }, device: { ip: P.ip }, billingAddress: P.billing },
      });
    });

    it("erases every case's personal data after the retention period, whatever its status, and the notes as old; recent ones keep theirs; one audit entry per pass", async () => {
      const make = async (name: string) =>
        (await store.createFromFlagged(clearFlagged('retention', `ret-${name}-${process.pid}`))).id;
      const [fraudOld, legitOld, fraudRecent, openOld, escalatedOld, openRecent] = await Promise.all(
        ['fraud-old', 'legit-old', 'fraud-recent', 'open-old', 'escalated-old', 'open-recent'].map(make),
      );
      // A case without any personal data: its notes go all the same.
      const bare = (await store.createFromFlagged(flagged({ merchantId: 'retention' }))).id;
      await store.decide(fraudOld!, 'mark_fraud', 'alice', `Called ${P.billing.name} on ${P.phone}`);
      await store.decide(legitOld!, 'mark_legitimate', 'alice');
      await store.decide(fraudRecent!, 'mark_fraud', 'alice');
      await store.decide(escalatedOld!, 'escalate', 'alice');
      const oldNote = await store.addNote(openOld!, 'alice', `Customer ${P.email} ships to ${P.shipping.line1}`);
      const bareNote = await store.addNote(bare, 'alice', `Spoke to ${P.shipping.name}`);
      // Card numbers typed into a note never reach the row, erased or not.
      const panNote = await store.addNote(openRecent!, 'alice', 'card 4111 1111 1111 1111 per the customer');
      expect(JSON.stringify(panNote.detail)).not.toContain('4111 1111 1111 1111');
      expect(String(panNote.detail.text)).toContain('411111');
      // Decided (or, for the others, created) 200 days ago; the recent ones 10 days ago.
      await sql.query(
        `UPDATE cases SET decided_at = now() - interval '200 days', created_at = now() - interval '200 days' WHERE id = ANY($1::bigint[])`,
        [[fraudOld, legitOld]],
      );
      await sql.query(
        `UPDATE cases SET created_at = now() - interval '400 days', occurred_at = now() - interval '400 days', updated_at = now() - interval '200 days' WHERE id = ANY($1::bigint[])`,
        [[openOld, escalatedOld, bare]],
      );
      await sql.query(`UPDATE cases SET decided_at = now() - interval '10 days' WHERE id = $1`, [fraudRecent]);
      await sql.query(`UPDATE cases SET created_at = now() - interval '10 days' WHERE id = $1`, [openRecent]);
      await sql.query(
        `UPDATE case_events SET at = now() - interval '200 days' WHERE kind = 'note' AND case_id = ANY($1::bigint[])`,
        [[fraudOld, openOld, bare, openRecent]],
      );
      // A note written on the open case since: kept until it is as old.
      const freshNote = await store.addNote(openOld!, 'bob', `Left a message for ${P.customerId}`);
      const before = (await audit.list({ limit: 100, action: PERSONAL_DATA_ERASE })).length;

      expect(await erasePersonalData(store, audit, 180)).toBe(5);
      for (const id of [fraudOld!, legitOld!, openOld!, escalatedOld!]) {
        const r = await row(id);
        expect(r.personal_data).toBeNull();
        expect(r.personal_data_erased_at).not.toBeNull();
        expect(Number(r.personal_data_retention_days)).toBe(180);
        noneIn('an erased row', JSON.stringify(r));
        expect(personalView((await store.get(id))!, TEST_DATA_CIPHER)).toMatchObject({
          state: 'erased',
          retentionDays: 180,
        });
      }
      // Open and escalated cases stay so: nothing decides them.
      expect((await store.get(openOld!))!.status).toBe('open');
      expect((await store.get(escalatedOld!))!.status).toBe('escalated');
      for (const id of [fraudRecent!, openRecent!])
        expect(personalView((await store.get(id))!, TEST_DATA_CIPHER).state).toBe('readable');
      // The old notes' text is gone; the history keeps that they were written, and by whom.
      for (const id of [fraudOld!, openOld!, bare]) {
        const notes = (await store.history(id)).filter((e) => e.kind === 'note' && e.id !== freshNote.id);
        expect(notes.length).toBe(1);
        expect(notes[0]!.detail).toMatchObject({ erasedAt: expect.any(String), retentionDays: 180 });
        expect(notes[0]!.detail).not.toHaveProperty('text');
        expect(notes[0]!.actor).toBe('alice');
        noneIn('an erased note', JSON.stringify(notes[0]));
      }
      expect([oldNote.id, bareNote.id]).not.toContain(freshNote.id);
      const fresh = (await store.history(openOld!)).find((e) => e.id === freshNote.id)!;
      expect(fresh.detail.text).toBe(`Left a message for ${P.customerId}`);
      // A note older than the retention on a case still within it is kept with the case.
      expect((await store.history(openRecent!)).find((e) => e.id === panNote.id)!.detail).toHaveProperty('text');
      const entries = await audit.list({ limit: 100, action: PERSONAL_DATA_ERASE });
      expect(entries.length).toBe(before + 1);
      expect(entries[0]).toMatchObject({
        actor: 'system:retention',
        target: 'cases',
        detail: { erased: 5, notes: 3, retentionDays: 180 },
      });
      // Nothing left to erase: no entry.
      expect(await erasePersonalData(store, audit, 180)).toBe(0);
      expect((await audit.list({ limit: 100, action: PERSONAL_DATA_ERASE })).length).toBe(before + 1);
      expect((await audit.verify()).ok).toBe(true);
    });

    it("erases an open case 10 years on: the audit's reproduction", async () => {
      const { id } = await store.createFromFlagged(clearFlagged('retention-10y', `ret-10y-${process.pid}`));
      const tenYears = new Date(Date.now() + 3650 * 86_400_000);
      expect(
        await store.erasePersonalData(new Date(tenYears.getTime() - 180 * 86_400_000), 180),
      ).toBeGreaterThanOrEqual(1);
      expect(personalView((await store.get(id))!, TEST_DATA_CIPHER).state).toBe('erased');
    });
  });
}

describe('the engine, embedded (PGlite): from checkout to the case page', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' }, { cases: true });
  }, 120_000);
  afterAll(() => t?.close());

  const flag = async (transactionId: string, email?: string) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: { ...bearer(t.keys.merchant), 'content-type': 'application/json' },
      payload: JSON.stringify(order(transactionId, email)),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().decision).not.toBe('approve');
    await t.runtime.flaggedSink.drain();
    await t.runtime.cases!.ingester.idle();
    return (await t.runtime.cases!.store.getByTransaction('m1', transactionId))!;
  };

  it('keeps them out of the journal and the database, and shows them decrypted on the case page', async () => {
    const c = await flag(`pd-order-${process.pid}`);
    const cases = t.runtime.cases!;
    const journal = readFileSync(join(t.config.LEAKGUARD_STATE_DIR, 'flagged.journal'), 'utf8');
    expect(journal).toContain(c.transactionId);
    expect(journal).toMatch(/"personal":"pd1\./);
    noneIn('the flagged journal', journal);
    for (const table of ['cases', 'case_events', 'labels', 'audit_log'])
      noneIn(`table ${table}`, JSON.stringify((await cases.sql.query(`SELECT * FROM ${table}`)).rows));
    // Linking still works: through the keyed pseudonyms.
    expect(c.links).toMatchObject({
      device: expect.any(String),
      ip: expect.any(String),
      email: expect.any(String),
      shipping: expect.any(String),
    });

    const { client, user } = await loggedIn(t, 'analyst', '10.13.0.1');
    const page = await client.get(`/console/cases/${c.id}`);
    expect(page.status).toBe(200);
    for (const value of CLEAR) expect(page.body).toContain(value);
    expect(page.body).toContain('2024-04-01');
    const view = (await cases.audit.list({ limit: 10, action: 'case_view', actor: user.username }))[0]!;
    expect(view).toMatchObject({ target: `case:${c.id}`, detail: { personalData: 'readable' } });
    // The queue shows none of them, and nothing was logged.
    noneIn('the queue', (await client.get('/console/queue?status=all&pageSize=200')).body);
    noneIn('the logs', t.logs.join(''));
  });

  it('shows "unreadable" for a ciphertext moved from another case, without a 500 and without the other case\'s data', async () => {
    const a = await flag(`pd-a-${process.pid}`, 'first.owner@example.jp');
    const b = await flag(`pd-b-${process.pid}`, 'second.owner@example.jp');
    await t.runtime.cases!.sql.query(
      'UPDATE cases SET personal_data = (SELECT personal_data FROM cases WHERE id = $1) WHERE id = $2',
      [a.id, b.id],
    );
    const { client } = await loggedIn(t, 'analyst', '10.13.0.2');
    const page = await client.get(`/console/cases/${b.id}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Personal data unreadable');
    expect(page.body).not.toContain('first.owner@example.jp');
    expect(page.body).not.toContain(P.userAgent);
    expect(page.body).toContain('Evidence at decision time');
    expect((await client.get(`/console/cases/${a.id}`)).body).toContain('first.owner@example.jp');
    expect(t.logs.join('')).toContain('personal data of a case could not be decrypted');
    expect(t.logs.join('')).not.toContain('first.owner@example.jp');
  });

  it("erases a closed case's personal data after the retention period and says so on the case page", async () => {
    const c = await flag(`pd-closed-${process.pid}`);
    const cases = t.runtime.cases!;
    const { client } = await loggedIn(t, 'analyst', '10.13.0.3');
    const note = `Called ${P.billing.name} at ${P.phone}, confirmed`;
    expect((await client.post(`/console/cases/${c.id}/decision`, { action: 'mark_legitimate', note })).status).toBe(
      303,
    );
    expect((await client.get(`/console/cases/${c.id}`)).body).toContain(note);
    await cases.sql.query(`UPDATE cases SET decided_at = now() - interval '181 days' WHERE id = $1`, [c.id]);
    await cases.sql.query(`UPDATE case_events SET at = now() - interval '181 days' WHERE case_id = $1`, [c.id]);
    expect(cases.retentionDays).toBe(180);
    expect(await erasePersonalData(cases.store, cases.audit, cases.retentionDays)).toBe(1);
    const page = await client.get(`/console/cases/${c.id}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Personal data erased after 180 days');
    expect(page.body).toContain("(note erased after 180 days, with the case's personal data)");
    noneIn('the erased case page', page.body);
    expect((await cases.audit.list({ limit: 1, action: PERSONAL_DATA_ERASE }))[0]!.detail).toMatchObject({
      erased: 1,
      retentionDays: 180,
    });
  });

  it('after a key rotation, reads what the previous key sealed and seals new data under the new key; the start-up pass erases what is due', async () => {
    const old = await flag(`pd-rotate-${process.pid}`);
    const due = await flag(`pd-due-${process.pid}`);
    const { client } = await loggedIn(t, 'analyst', '10.13.0.4');
    expect((await client.post(`/console/cases/${due.id}/decision`, { action: 'mark_fraud', confirm: 1 })).status).toBe(
      303,
    );
    await t.runtime.cases!.sql.query(`UPDATE cases SET decided_at = now() - interval '200 days' WHERE id = $1`, [
      due.id,
    ]);
    const oldKeyId = t.runtime.cases!.personalData.keyId;
    const stateDir = t.config.LEAKGUARD_STATE_DIR;
    await t.close();

    const NEW_KEY = Buffer.alloc(32, 0x5a).toString('base64');
    t = await buildTestApp(
      {
        LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14',
        LEAKGUARD_STATE_DIR: stateDir,
        LEAKGUARD_DATA_KEY: NEW_KEY,
        LEAKGUARD_DATA_KEY_ID: 'pd-next',
        LEAKGUARD_PREVIOUS_DATA_KEY: TEST_DATA_KEY,
      },
      { cases: true },
    );
    const cases = t.runtime.cases!;
    expect(cases.personalData.keyId).toBe('pd-next');
    const { client: after } = await loggedIn(t, 'analyst', '10.13.0.5');
    const page = await after.get(`/console/cases/${old.id}`);
    expect(page.status).toBe(200);
    for (const value of CLEAR) expect(page.body).toContain(value);
    expect((await cases.store.get(old.id))!.personalData.sealed).toMatch(new RegExp(`^pd1\\.${oldKeyId}\\.`));
    const fresh = await flag(`pd-after-${process.pid}`);
    expect(fresh.personalData.sealed).toMatch(/^pd1\.pd-next\./);
    // The pass that runs when the case database opens erased the case closed 200 days ago.
    expect((await cases.store.get(due.id))!.personalData).toMatchObject({ sealed: null, retentionDays: 180 });
    // Without the previous key, what it sealed is unreadable, not an error.
    const { keyring } = loadDataKeyring(loadConfig({ LEAKGUARD_DATA_KEY: NEW_KEY, LEAKGUARD_DATA_KEY_ID: 'pd-next' }));
    expect(personalView((await cases.store.get(old.id))!, new PersonalDataCipher(keyring))).toMatchObject({
      state: 'unreadable',
      reason: expect.stringContaining(`key ${oldKeyId}, which this engine does not hold`),
    });
  }, 120_000);
});

describe('with Redis: the flagged stream', () => {
  it('holds the personal data sealed, never in clear', async () => {
    const redis = await RedisServer.start();
    const config = loadConfig({
      LEAKGUARD_STATE_DIR: mkdtempSync(join(tmpdir(), 'lg-pd-redis-')),
      LEAKGUARD_CARD_KEY: TEST_CARD_KEY,
      LEAKGUARD_DATA_KEY: TEST_DATA_KEY,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      REDIS_URL: redis.url,
    });
    const runtime = createRuntime(config, createLogger('warn', { write: () => {} }));
    const conn = connectRedis(redis.url);
    conn.on('error', () => {});
    try {
      expect(await runtime.waitForStores()).toBe(true);
      const result = await runtime.engine.score('shop-pd', scoreRequestSchema.parse(order(`pd-redis-${process.pid}`)));
      expect(result.kind === 'scored' && result.response.decision).not.toBe('approve');
      await runtime.flaggedSink.drain();
      // No case system is open: the entry waits in the stream as it was queued.
      const entries = (await conn.xrange(FLAGGED_STREAM, '-', '+')) as [string, string[]][];
      expect(entries).toHaveLength(1);
      const raw = entries[0]![1].join('\n');
      noneIn('the Redis stream entry', raw);
      expect(JSON.parse(entries[0]![1][1]!).personal).toMatch(/^pd1\./);
    } finally {
      conn.disconnect();
      await runtime.close();
      await redis.stop();
    }
  }, 60_000);
});
