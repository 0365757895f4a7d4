// `model export-labels` exports what a deployment knows: the analysts' decisions joined with the
// outcomes merchants reported (case_outcomes and the transaction archive), each row saying where its
// label comes from. A fraud chargeback is a fraud label (over an analyst's "legitimate"), a reversed
// one is none, a failed challenge is the weakest fraud label, a refund no label. On PGlite.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresCaseStore } from '../../services/adapters/postgres/case-store.ts';
import { PostgresLabelOutcomes } from '../../services/adapters/postgres/label-outcomes.ts';
import { PgTransactionArchive } from '../../services/adapters/postgres/transaction-archive.ts';
import type { SqlClient } from '../../services/adapters/postgres/sql-client.ts';
import { exportLabelCounts, exportLabels } from '../../services/cases/labels-export.ts';
import { flagged, pgliteDriver, TEST_DATA_CIPHER } from '../console/fixtures.ts';

const DAY = 86_400_000;
// Outcomes from 10 days ahead: after every analyst's decision (made now), so that --since can part them.
const T0 = Math.floor(Date.now() / 1000) * 1000 + 10 * DAY;

describe('export-labels joins the outcomes merchants reported', () => {
  let sql: SqlClient;
  let store: PostgresCaseStore;
  const dir = mkdtempSync(join(tmpdir(), 'lg-export-labels-'));

  beforeAll(async () => {
    sql = await (await pgliteDriver()).open();
    store = new PostgresCaseStore(sql, TEST_DATA_CIPHER);
    const archive = new PgTransactionArchive(sql);
    const caseOf = async (transactionId: string) =>
      (await store.createFromFlagged(flagged({ transactionId, flaggedAt: new Date(T0).toISOString() }))).id;
    // Decided by analysts.
    await store.decide(await caseOf('analyst-fraud'), 'mark_fraud', 'alice');
    await store.decide(await caseOf('cleared-then-charged-back'), 'mark_legitimate', 'alice');
    await store.decide(await caseOf('fraud-reversed'), 'mark_fraud', 'bob');
    await store.decide(await caseOf('legit-refunded'), 'mark_legitimate', 'bob');
    // A case nobody decided, whose step-up failed.
    await caseOf('open-challenge-failed');
    // Approved transactions: no case, only the archive's entry.
    await archive.append(
      ['approved-charged-back', 'approved-reversed', 'approved-archive-only'].map((transactionId, i) => ({
        merchantId: 'm1',
        transactionId,
        countedAt: T0 + i * 1000,
        entities: { card: `card-${i}` },
      })),
    );
    const note = (transactionId: string, outcome: string, days: number) => ({
      merchantId: 'm1',
      transactionId,
      outcome,
      at: T0 + days * DAY,
    });
    await store.noteOutcomes([
      note('cleared-then-charged-back', 'chargeback', 30),
      note('fraud-reversed', 'chargeback', 20),
      note('fraud-reversed', 'chargeback_reversed', 40),
      note('legit-refunded', 'refund', 3),
      note('open-challenge-failed', 'challenge_failed', 0),
      note('approved-charged-back', 'chargeback', 45),
      note('approved-reversed', 'chargeback', 25),
      note('approved-reversed', 'chargeback_reversed', 50),
    ]);
    // Noted on the archive's entry only (a note the case database never got): not read, since
    // reading the archive's notes means every archived transaction (label-outcomes.ts).
    await archive.markOutcome('m1', 'approved-archive-only', 'chargeback', T0 + 35 * DAY);
  }, 60_000);

  afterAll(async () => {
    await sql?.close();
  });

  type Row = Record<string, string | number | null>;
  const exported = async (since?: string): Promise<Map<string, Row>> => {
    const path = join(dir, `labels-${since ?? 'all'}.ndjson`);
    await exportLabels(store, path, 'ndjson', since, new PostgresLabelOutcomes(sql));
    const rows = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .filter((l) => l)
      .map((l) => JSON.parse(l) as Row);
    return new Map(rows.map((r) => [String(r.transaction_id), r]));
  };

  it('labels each transaction from its strongest source and says which', async () => {
    const rows = await exported();
    const pick = (id: string) => {
      const r = rows.get(id);
      return r && { label: r.label, is_fraud: r.is_fraud, source: r.label_source, analyst: r.analyst_label };
    };
    expect(pick('analyst-fraud')).toEqual({ label: 'fraud', is_fraud: 1, source: 'analyst', analyst: 'fraud' });
    // The issuer's fraud chargeback outweighs the analyst's "legitimate"; both are in the row.
    expect(pick('cleared-then-charged-back')).toEqual({
      label: 'fraud',
      is_fraud: 1,
      source: 'chargeback',
      analyst: 'legitimate',
    });
    // Labelled when the chargeback came; decided_at and decided_by stay the analyst's decision.
    expect(rows.get('cleared-then-charged-back')).toMatchObject({
      labelled_at: new Date(T0 + 30 * DAY).toISOString(),
      decided_by: 'alice',
    });
    expect(Date.parse(String(rows.get('cleared-then-charged-back')!.decided_at))).toBeLessThan(T0);
    // A reversed chargeback is no fraud label: the analyst's label stands, the reversal is in the row.
    expect(pick('fraud-reversed')).toEqual({ label: 'fraud', is_fraud: 1, source: 'analyst', analyst: 'fraud' });
    expect(rows.get('fraud-reversed')!.chargeback_reversed_at).toBe(new Date(T0 + 40 * DAY).toISOString());
    // A refund is no label: the analyst's stands, with the refund beside it.
    expect(pick('legit-refunded')).toEqual({
      label: 'legitimate',
      is_fraud: 0,
      source: 'analyst',
      analyst: 'legitimate',
    });
    expect(rows.get('legit-refunded')!.refund_at).toBe(new Date(T0 + 3 * DAY).toISOString());
    // An undecided case whose challenge failed: the weakest fraud label, with the case's features.
    expect(pick('open-challenge-failed')).toEqual({
      label: 'fraud',
      is_fraud: 1,
      source: 'challenge_failed',
      analyst: null,
    });
    expect(rows.get('open-challenge-failed')!.card_count_1h).toBe(5);
    // An approved transaction (no case) charged back: no analyst, so no decision in the row.
    expect(pick('approved-charged-back')).toEqual({ label: 'fraud', is_fraud: 1, source: 'chargeback', analyst: null });
    expect(rows.get('approved-charged-back')).toMatchObject({ case_id: null, decided_at: null, decided_by: null });
    expect(rows.get('approved-charged-back')!.occurred_at).toBe(new Date(T0).toISOString());
    // Charged back, then reversed, and nothing else: no label.
    expect(rows.has('approved-reversed')).toBe(false);
    expect(rows.has('approved-archive-only')).toBe(false);
    expect(rows.size).toBe(6);
  });

  it('--since keeps the labels known since then (a chargeback after an old decision counts then)', async () => {
    const rows = await exported(new Date(T0 + 29 * DAY).toISOString());
    expect([...rows.keys()].sort()).toEqual(['approved-charged-back', 'cleared-then-charged-back']);
  });

  it('counts the labels by source, and writes the sources in the CSV header', async () => {
    const path = join(dir, 'labels.csv');
    const counts = await exportLabelCounts(store, path, 'csv', undefined, new PostgresLabelOutcomes(sql));
    expect(counts).toEqual({ total: 6, analyst: 3, chargeback: 2, challenge_failed: 1 });
    const header = readFileSync(path, 'utf8').split('\n')[0]!.split(',');
    expect(header).toEqual(
      expect.arrayContaining([
        'label_source',
        'analyst_label',
        'chargeback_at',
        'chargeback_reversed_at',
        'challenge_failed_at',
        'refund_at',
      ]),
    );
  });
});
