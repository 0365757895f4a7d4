// The outcomes merchants reported, for the label export (services/cases/labels-export.ts): from
// the case database (case_outcomes, noted by every engine), each kind once at its first time, with
// the transaction's case when it has one (the features the engine saw when it flagged it) and
// otherwise the time the archive counted it. Not the archive's own outcome notes: reading them
// means every archived transaction (180 days of all traffic), and every engine notes the same
// outcomes in case_outcomes (a note lost while the database was down too long is missing here, as
// on the console). case_outcomes is small: the rare kinds (chargebacks, failed challenges) of any
// transaction, and the others of cases only (services/cases/outcomes.ts, NOTED_WITHOUT_CASE).
import { JOINED_OUTCOMES, type OutcomeReader, type RecordedOutcomes } from '../../cases/labels-export.ts';
import { flaggedCaseOf, iso, json } from './case-store.ts';
import type { Queryable } from './sql-client.ts';

type Row = Record<string, unknown>;

export class PostgresLabelOutcomes implements OutcomeReader {
  private readonly sql: Queryable;

  constructor(sql: Queryable) {
    this.sql = sql;
  }

  async recordedOutcomes(): Promise<RecordedOutcomes[]> {
    const r = await this.sql.query<Row>(
      `WITH reported AS (
         SELECT merchant_id, transaction_id, outcome, at FROM case_outcomes WHERE outcome = ANY($1::text[])
       ), firsts AS (
         SELECT merchant_id, transaction_id, outcome, min(at) AS at FROM reported GROUP BY 1, 2, 3
       ), per_transaction AS (
         SELECT merchant_id, transaction_id, jsonb_agg(jsonb_build_array(outcome, at) ORDER BY at) AS outcomes
           FROM firsts GROUP BY 1, 2
       )
       SELECT p.merchant_id, p.transaction_id, p.outcomes,
              (SELECT min(a.counted_at_ms) FROM transaction_archive a
                WHERE a.merchant_id = p.merchant_id AND a.transaction_id = p.transaction_id) AS counted_at_ms,
              c.id AS case_id, c.occurred_at, c.score, c.decision, c.reason_codes, c.amount, c.currency, c.channel,
              c.card_bin, c.features
         FROM per_transaction p
         LEFT JOIN cases c ON c.merchant_id = p.merchant_id AND c.transaction_id = p.transaction_id`,
      [JOINED_OUTCOMES],
    );
    return r.rows.map((row) => {
      const recorded: RecordedOutcomes = {
        merchantId: String(row.merchant_id),
        transactionId: String(row.transaction_id),
        outcomes: json<[string, string][]>(row.outcomes).map(([outcome, at]) => ({ outcome, at: iso(at) })),
      };
      if (row.counted_at_ms !== null && row.counted_at_ms !== undefined)
        recorded.occurredAt = new Date(Number(row.counted_at_ms)).toISOString();
      if (row.case_id !== null && row.case_id !== undefined) recorded.case = flaggedCaseOf(row);
      return recorded;
    });
  }
}
