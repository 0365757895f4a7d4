// The outcomes merchants report for a case's transaction, on the case page and in the queue (the
// audit: a challenge whose step-up failed and whose card was then charged back for fraud stayed an
// open case showing neither, and could be marked legitimate with its card allow-listed for 90
// days). Real app, real runtime, PGlite: outcomes reported through POST /v1/transactions/{id}/outcome,
// noted in the case database by the engine's observer, read by the console.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresCaseStore } from '../../services/adapters/postgres/case-store.ts';
import type { SqlClient } from '../../services/adapters/postgres/sql-client.ts';
import type { CaseStore } from '../../services/cases/model.ts';
import { CaseOutcomeNotes, type OutcomeNote } from '../../services/cases/outcomes.ts';
import { bearer, buildTestApp, scoreBody, type TestApp } from '../support/app.ts';
import { loggedIn } from './client.ts';
import { flagged, pgliteDriver, postgresDriver, TEST_DATA_CIPHER, type Driver } from './fixtures.ts';

/** A first order of a card, 1,500 EUR with the CVV not matching: a challenge (step-up evidence). */
const challenged = (transactionId: string, number: string) =>
  scoreBody({
    transactionId,
    amount: 150_000,
    card: { number, expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
  });

describe('outcomes on the case page and in the queue', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' }, { cases: true });
  }, 120_000);
  afterAll(() => t?.close());

  const flag = async (transactionId: string, number: string) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: { ...bearer(t.keys.merchant), 'content-type': 'application/json' },
      payload: JSON.stringify(challenged(transactionId, number)),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().decision).toBe('challenge');
    await t.runtime.flaggedSink.drain();
    await t.runtime.cases!.ingester.idle();
    return (await t.runtime.cases!.store.getByTransaction('m1', transactionId))!;
  };
  const report = async (transactionId: string, body: Record<string, string>) => {
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/transactions/${transactionId}/outcome`,
      headers: { ...bearer(t.keys.merchant), 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().status).toBe('recorded');
    await t.runtime.caseOutcomes.flush();
  };
  const allowList = async (client: Awaited<ReturnType<typeof loggedIn>>['client'], id: number) => {
    await client.get(`/console/cases/${id}`);
    return client.post(`/console/cases/${id}/decision`, { action: 'mark_legitimate', allowListDays: 90 });
  };
  const allowListed = (fingerprint: string) => t.runtime.negativeLists.isCardAllowed('m1', [fingerprint]);

  it('shows a failed challenge and a fraud chargeback prominently, and refuses to allow-list the card', async () => {
    const id = `co-fraud-${process.pid}`;
    const c = await flag(id, '4000000000000002');
    await report(id, { outcome: 'challenge_failed', occurredAt: new Date(Date.now() - 60_000).toISOString() });
    await report(id, { outcome: 'chargeback', reasonCode: '10.4' });
    const { client } = await loggedIn(t, 'analyst', '10.21.0.1');

    const page = await client.get(`/console/cases/${c.id}`);
    expect(page.status).toBe(200);
    const alert = /<div class="error" id="outcome-alert">([\s\S]*?)<\/div>/.exec(page.body)?.[1] ?? '';
    expect(alert).toContain('A fraud chargeback is recorded for this transaction');
    expect(alert).toContain('The 3-D Secure challenge failed');
    expect(page.body).toMatch(
      /<tr data-outcome="challenge_failed"><td>Challenge failed[^<]*<\/td><td>\d{4}-\d\d-\d\dT/,
    );
    expect(page.body).toMatch(/<tr data-outcome="chargeback"><td>Chargeback — fraud<\/td><td>\d{4}-\d\d-\d\dT/);
    expect(page.body).toContain('3-D Secure step-up: <strong>failed</strong>');
    // The form offers no allow-listing; a crafted post is refused, nothing decided, nothing allow-listed.
    expect(page.body).not.toContain('id="allow-list-days"');
    expect(page.body).toContain('id="allow-list-refused"');
    const refused = await client.get((await allowList(client, c.id)).location!);
    expect(refused.status).toBe(409);
    expect(refused.body).toContain(
      'a fraud chargeback is recorded for this transaction, so its card is not allow-listed',
    );
    expect((await t.runtime.cases!.store.get(c.id))!.status).toBe('open');
    expect(await allowListed(c.card.fingerprint)).toBe(false);

    // The queue marks it.
    const queue = await client.get('/console/queue?status=all&pageSize=200');
    const row = new RegExp(`<tr data-case="${c.id}">[\\s\\S]*?</tr>`).exec(queue.body)?.[0] ?? '';
    expect(row).toContain('<td class="outcome"><strong class="error">fraud chargeback</strong></td>');

    // Legitimate without the allow-list stays the analyst's call: the case is not decided for them.
    const decided = await client.post(`/console/cases/${c.id}/decision`, { action: 'mark_legitimate' });
    expect(decided.status).toBe(303);
    expect((await t.runtime.cases!.store.get(c.id))!.status).toBe('legitimate');
    expect(await allowListed(c.card.fingerprint)).toBe(false);
  });

  it('a reversed chargeback, a dispute and a passed step-up read as such, and the card may be allow-listed', async () => {
    const id = `co-reversed-${process.pid}`;
    const c = await flag(id, '4000000000000010');
    await report(id, { outcome: 'authorized', occurredAt: new Date(Date.now() - 120_000).toISOString() });
    await report(id, { outcome: 'chargeback', reasonCode: '4837' });
    await report(id, { outcome: 'chargeback_reversed' });
    const dispute = `co-dispute-${process.pid}`;
    const d = await flag(dispute, '4000000000000028');
    await report(dispute, { outcome: 'chargeback', reasonCode: '13.1' });
    const { client } = await loggedIn(t, 'analyst', '10.21.0.2');

    const page = await client.get(`/console/cases/${c.id}`);
    expect(page.body).not.toContain('id="outcome-alert"');
    expect(page.body).toContain('3-D Secure step-up: <strong>passed (authorized after the challenge)</strong>');
    expect(page.body).toContain('<tr data-outcome="chargeback_reversed"><td>Chargeback reversed</td>');
    expect(page.body).toContain('id="chargeback-reversed"');
    const disputed = await client.get(`/console/cases/${d.id}`);
    expect(disputed.body).toContain('<tr data-outcome="chargeback_dispute"><td>Chargeback — dispute (not fraud)</td>');
    expect(disputed.body).not.toContain('id="outcome-alert"');
    expect(disputed.body).toContain('3-D Secure step-up: <strong>not reported</strong>');

    const queue = await client.get('/console/queue?status=all&pageSize=200');
    const row = (n: number) => new RegExp(`<tr data-case="${n}">[\\s\\S]*?</tr>`).exec(queue.body)?.[0] ?? '';
    expect(row(c.id)).toContain('<td class="outcome">chargeback reversed</td>');
    expect(row(d.id)).toContain('<td class="outcome">dispute chargeback</td>');

    expect((await allowList(client, c.id)).status).toBe(303);
    expect(await allowListed(c.card.fingerprint)).toBe(true);
  });

  it('an outcome recorded by another engine, or only on the transaction archive, is shown all the same', async () => {
    const id = `co-other-${process.pid}`;
    const c = await flag(id, '4000000000000036');
    const cases = t.runtime.cases!;
    // Another engine's note: the case database is the one place every engine writes and reads.
    await cases.store.noteOutcomes([
      { merchantId: 'm1', transactionId: id, outcome: 'challenge_failed', at: Date.now() - 5_000 },
    ]);
    // A chargeback the archive noted while this engine's note was lost (it stopped before writing it).
    await cases.sql.query(
      `INSERT INTO transaction_archive (merchant_id, transaction_id, counted_at_ms, card, outcomes)
       VALUES ('m1', $1, $2, $3, jsonb_build_object('chargeback', $2::bigint))
       ON CONFLICT (merchant_id, transaction_id, archived_on) DO UPDATE SET outcomes = transaction_archive.outcomes || excluded.outcomes`,
      [id, Date.now(), c.card.fingerprint],
    );
    const outcomes = await cases.store.outcomesOf('m1', id);
    expect(outcomes.map((o) => o.outcome)).toEqual(['challenge_failed', 'chargeback']);
    const { client } = await loggedIn(t, 'analyst', '10.21.0.3');
    const page = await client.get(`/console/cases/${c.id}`);
    expect(page.body).toContain('A fraud chargeback is recorded for this transaction');
    expect((await client.get((await allowList(client, c.id)).location!)).status).toBe(409);
  });

  it('notes the common kinds only for transactions that have a case; the fraud-relevant ones always', async () => {
    const cases = t.runtime.cases!;
    const tx = `co-nocase-${process.pid}`;
    await cases.store.noteOutcomes([
      { merchantId: 'm1', transactionId: tx, outcome: 'authorized', at: Date.now() },
      { merchantId: 'm1', transactionId: tx, outcome: 'chargeback', at: Date.now() },
    ]);
    expect((await cases.store.outcomesOf('m1', tx)).map((o) => o.outcome)).toEqual(['chargeback']);
  });
});

for (const makeDriver of [pgliteDriver, postgresDriver]) {
  describe.sequential(
    `the case store's outcomes (${makeDriver === pgliteDriver ? 'PGlite' : 'PostgreSQL server'})`,
    () => {
      let driver: Driver;
      let sql: SqlClient;
      let store: PostgresCaseStore;
      beforeAll(async () => {
        driver = await makeDriver();
        sql = await driver.open();
        store = new PostgresCaseStore(sql, TEST_DATA_CIPHER);
      }, 120_000);
      afterAll(async () => {
        await sql?.close();
        await driver?.stop();
      });

      it('notes each kind once (the first time kept), merges the archive, and reads them per case for the queue', async () => {
        const { id } = await store.createFromFlagged(flagged({ merchantId: 'mo', transactionId: 'tx-o' }));
        const at = Date.UTC(2026, 10, 20, 9, 30);
        const note = (outcome: string, when: number): OutcomeNote => ({
          merchantId: 'mo',
          transactionId: 'tx-o',
          outcome,
          at: when,
        });
        // Two engines noting the same outcome, one of them twice in a batch: one row, the first time.
        await store.noteOutcomes([note('authorized', at), note('authorized', at + 1)]);
        await store.noteOutcomes([note('authorized', at + 2), note('challenge_failed', at - 60_000)]);
        await sql.query(
          `INSERT INTO transaction_archive (merchant_id, transaction_id, counted_at_ms, card, outcomes)
         VALUES ('mo', 'tx-o', $1, 'fp', jsonb_build_object('authorized', $2::bigint, 'chargeback', $3::bigint))`,
          [at - 120_000, at + 5, at + 86_400_000],
        );
        expect(await store.outcomesOf('mo', 'tx-o')).toEqual([
          { outcome: 'challenge_failed', at: '2026-11-20T09:29:00.000Z' },
          { outcome: 'authorized', at: '2026-11-20T09:30:00.000Z' },
          { outcome: 'chargeback', at: '2026-11-21T09:30:00.000Z' },
        ]);
        const byCase = await store.outcomesOfCases([id, 999_999]);
        expect([...byCase.keys()]).toEqual([id]);
        expect(byCase.get(id)!.map((o) => o.outcome)).toEqual(['challenge_failed', 'authorized']);
        expect(await store.outcomesOf('mo', 'none')).toEqual([]);

        // An outcome noted for a transaction that never became a case goes after the retention; a case's stay.
        await store.noteOutcomes([{ merchantId: 'mo', transactionId: 'orphan', outcome: 'chargeback', at }]);
        await sql.query(`UPDATE case_outcomes SET noted_at = now() - interval '200 days'`);
        expect(await store.pruneOutcomes(new Date(Date.now() - 180 * 86_400_000))).toBe(1);
        expect(await store.outcomesOf('mo', 'orphan')).toEqual([]);
        expect((await store.outcomesOf('mo', 'tx-o')).length).toBe(3);
      });

      /**
       * The case store on `sql` whose next transaction runs `around` instead: the seam that puts a
       * chargeback between a decision's check and its commit, deterministically (no timing).
       */
      const seamed = (around: (run: () => Promise<unknown>) => Promise<unknown>) => {
        let armed = true;
        const client: SqlClient = {
          driver: sql.driver,
          query: (text, params) => sql.query(text, params),
          exec: (script) => sql.exec(script),
          close: async () => {},
          transaction: <T>(fn: (tx: Parameters<Parameters<SqlClient['transaction']>[0]>[0]) => Promise<T>) => {
            if (!armed) return sql.transaction(fn);
            armed = false;
            return around(() => sql.transaction(fn)) as Promise<T>;
          },
        };
        return new PostgresCaseStore(client, TEST_DATA_CIPHER);
      };
      const chargeback = (transactionId: string): OutcomeNote => ({
        merchantId: 'mo',
        transactionId,
        outcome: 'chargeback',
        at: Date.now(),
      });
      const allowEntries = async (caseId: number) =>
        (await sql.query(`SELECT 1 FROM list_entries WHERE list = 'allow' AND case_id = $1`, [caseId])).rows.length;

      it('refuses the allow-listing when a fraud chargeback is noted after the console looked and before the decision commits', async () => {
        const { id } = await store.createFromFlagged(flagged({ merchantId: 'mo', transactionId: 'tx-race' }));
        // What the console checks first: no chargeback yet.
        expect(await store.outcomesOf('mo', 'tx-race')).toEqual([]);
        // The chargeback is noted (by another engine) after that, before the decision's transaction.
        const deciding = seamed(async (run) => {
          await store.noteOutcomes([chargeback('tx-race')]);
          return run();
        });
        const decided = deciding.decide(id, 'mark_legitimate', 'analyst-1', undefined, {
          allowListDays: 30,
          negativeListTtlMs: 86_400_000,
        });
        await expect(decided).rejects.toMatchObject({
          code: 'CASE_CONFLICT',
          message: expect.stringContaining(
            'a fraud chargeback is recorded for this transaction, so its card is not allow-listed',
          ),
        });
        // Nothing decided, nothing allow-listed, no effect to apply.
        expect((await store.get(id))!.status).toBe('open');
        expect(await allowEntries(id)).toBe(0);
        expect(await store.latestEffect(id)).toBeUndefined();
      });
    },
  );
}

// Two connections at once: a PostgreSQL server (PGlite serves one connection).
describe.sequential(
  "the case store on a PostgreSQL server: a chargeback and a decision's allow-listing never interleave",
  () => {
    let driver: Driver;
    let sql: SqlClient;
    let store: PostgresCaseStore;
    beforeAll(async () => {
      driver = await postgresDriver();
      sql = await driver.open();
      store = new PostgresCaseStore(sql, TEST_DATA_CIPHER);
    }, 120_000);
    afterAll(async () => {
      await sql?.close();
      await driver?.stop();
    });
    const chargeback = (transactionId: string): OutcomeNote => ({
      merchantId: 'mo',
      transactionId,
      outcome: 'chargeback',
      at: Date.now(),
    });
    /** Whether a statement of another connection waits on a lock, its text holding `fragment`. */
    const waitingOn = async (fragment: string) =>
      (
        await sql.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`, [
          `%${fragment}%`,
        ])
      ).rows.length > 0;

    it("a chargeback noted while the decision's transaction is open waits for its commit: never between its check and its commit", async () => {
      const { id } = await store.createFromFlagged(flagged({ merchantId: 'mo', transactionId: 'tx-race-2' }));
      let noting: Promise<void> | undefined;
      let waitedForTheDecision = false;
      // After the decision's statements (its check included), before its commit: another
      // connection notes the chargeback.
      const decidingStore = new PostgresCaseStore(
        {
          driver: sql.driver,
          query: (text, params) => sql.query(text, params),
          exec: (script) => sql.exec(script),
          close: async () => {},
          transaction: (fn) =>
            sql.transaction(async (tx) => {
              const result = await fn(tx);
              noting = store.noteOutcomes([chargeback('tx-race-2')]);
              // Until the note is seen waiting on a lock, or has finished (it must not).
              for (let i = 0; i < 200; i++) {
                if (await waitingOn('FOR KEY SHARE')) {
                  waitedForTheDecision = true;
                  break;
                }
                const settled = await Promise.race([
                  noting.then(() => true),
                  new Promise((r) => setTimeout(() => r(false), 10)),
                ]);
                if (settled) break;
              }
              return result;
            }),
        },
        TEST_DATA_CIPHER,
      );
      await decidingStore.decide(id, 'mark_legitimate', 'analyst-1', undefined, {
        allowListDays: 30,
        negativeListTtlMs: 86_400_000,
      });
      await noting;
      expect(waitedForTheDecision).toBe(true);
      expect((await store.get(id))!.status).toBe('legitimate');
      // The decision came first, then the chargeback: the next allow-listing is refused.
      expect((await store.outcomesOf('mo', 'tx-race-2')).map((o) => o.outcome)).toEqual(['chargeback']);
    });

    it("a chargeback being written to the transaction's archive entry is waited for: the decision then sees it", async () => {
      const { id } = await store.createFromFlagged(flagged({ merchantId: 'mo', transactionId: 'tx-race-3' }));
      await sql.query(
        `INSERT INTO transaction_archive (merchant_id, transaction_id, counted_at_ms, card, outcomes)
       VALUES ('mo', 'tx-race-3', $1, 'fp', '{}'::jsonb)`,
        [Date.now() - 60_000],
      );
      // Another engine records the chargeback on the archive's entry (transaction-archive.ts
      // markOutcome) and has not committed yet when the analyst's decision runs.
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let updated!: () => void;
      const written = new Promise<void>((r) => (updated = r));
      const recording = sql.transaction(async (tx) => {
        await tx.query(
          `UPDATE transaction_archive SET outcomes = outcomes || jsonb_build_object('chargeback', $1::bigint)
          WHERE merchant_id = 'mo' AND transaction_id = 'tx-race-3'`,
          [Date.now()],
        );
        updated();
        await released;
      });
      await written;
      const decided = store
        .decide(id, 'mark_legitimate', 'analyst-1', undefined, { allowListDays: 30, negativeListTtlMs: 86_400_000 })
        .then(
          () => 'allow-listed',
          (e: { code?: string }) => e.code ?? 'failed',
        );
      // Until the decision waits for the archive's row, or has finished (it must not, before the
      // chargeback commits).
      let waited = false;
      for (let i = 0; i < 300 && !waited; i++) {
        waited = await waitingOn('FOR SHARE');
        const settled = await Promise.race([
          decided.then(() => true),
          new Promise((r) => setTimeout(() => r(false), 10)),
        ]);
        if (settled) break;
      }
      release();
      await recording;
      expect(await decided).toBe('CASE_CONFLICT');
      expect(waited).toBe(true);
      expect((await store.get(id))!.status).toBe('open');
      expect(
        (await sql.query(`SELECT 1 FROM list_entries WHERE list = 'allow' AND case_id = $1`, [id])).rows.length,
      ).toBe(0);
    });
  },
);

describe('the writer of outcome notes', () => {
  const note = (transactionId: string): OutcomeNote => ({
    merchantId: 'm',
    transactionId,
    outcome: 'chargeback',
    at: 1,
  });

  it('holds notes until the case database is open, retries a refusal, and counts what it loses at close', async () => {
    const written: OutcomeNote[] = [];
    let refuse = 1;
    let open = false;
    const errors: unknown[] = [];
    let lost = 0;
    const store = {
      noteOutcomes: async (notes: readonly OutcomeNote[]) => {
        if (refuse-- > 0) throw new Error('refused');
        written.push(...notes);
      },
    } as unknown as CaseStore;
    const writer = new CaseOutcomeNotes(
      () => (open ? store : undefined),
      (e) => errors.push(e),
      (n) => (lost += n),
      5,
    );
    writer.note('m', 'a', 'chargeback', 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(writer.waiting).toBe(1);
    open = true;
    await writer.flush();
    expect(errors).toHaveLength(1);
    expect(written).toEqual([note('a')]);
    expect(writer.waiting).toBe(0);

    refuse = 100;
    writer.note('m', 'b', 'chargeback', 1);
    await writer.close();
    expect(lost).toBe(1);
    expect(writer.waiting).toBe(0);
  });
});
