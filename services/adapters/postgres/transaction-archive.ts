// The transaction archive on PostgreSQL (or PGlite): one row per scored transaction, written in
// batches of up to a few hundred by one statement (arrays unnested), idempotent on its key, in a
// partition per day of archiving (migration 007: transaction_archive_maintain makes and drops them).
import type { EntityKind } from '../../core/entities.ts';
import type { ArchivedTransaction, ArchiveEntry, TransactionArchive } from '../../core/transaction-archive.ts';
import { MARKED_KINDS } from '../../core/velocity.ts';
import type { Queryable } from './sql-client.ts';

/**
 * A column per entity kind the marker keeps besides the card (velocity.ts MARKED_KINDS: the kinds an
 * outcome reaches), in the order of the statements' arrays. Derived, not listed: a kind added there
 * without its column in a migration fails every archive write and test, never silently unarchived.
 */
const ENTITY_COLUMNS: readonly EntityKind[] = [...MARKED_KINDS].filter((kind) => kind !== 'card');
/** unnest's arrays after merchant, transaction, time and card: one per entity column, then `counted`. */
const ENTITY_ARRAYS = ENTITY_COLUMNS.map((_, i) => `$${i + 5}::text[]`).join(', ');
const COUNTED_ARRAY = `$${ENTITY_COLUMNS.length + 5}::boolean[]`;

type Row = {
  merchant_id: string;
  transaction_id: string;
  counted_at_ms: string;
  card: string;
  outcomes: Record<string, number>;
  counted: boolean;
} & Partial<Record<EntityKind, string | null>>;

export class PgTransactionArchive implements TransactionArchive {
  private readonly sql: Queryable;

  constructor(sql: Queryable) {
    this.sql = sql;
  }

  async append(transactions: readonly ArchivedTransaction[]): Promise<void> {
    // A transaction without a card identity is not one a scoring archives; skipped rather than refused with its batch.
    // Once per transaction in a batch (ON CONFLICT DO UPDATE cannot touch a row twice): the first, or the first counted one.
    const once = new Map<string, ArchivedTransaction>();
    for (const t of transactions) {
      if (t.entities.card === undefined) continue;
      const key = `${t.merchantId}\u0000${t.transactionId}`;
      const kept = once.get(key);
      if (!kept || (kept.uncounted && !t.uncounted)) once.set(key, t);
    }
    const rows = [...once.values()];
    if (rows.length === 0) return;
    // The first entry stays, except that a counted one replaces one of a degraded scoring (uncounted, migration 016).
    await this.sql.query(
      `INSERT INTO transaction_archive (merchant_id, transaction_id, counted_at_ms, card, ${ENTITY_COLUMNS.join(', ')}, counted)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], ${ENTITY_ARRAYS}, ${COUNTED_ARRAY})
       ON CONFLICT (merchant_id, transaction_id, archived_on) DO UPDATE
          SET counted = true, counted_at_ms = EXCLUDED.counted_at_ms, card = EXCLUDED.card,
              ${ENTITY_COLUMNS.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}
        WHERE NOT transaction_archive.counted AND EXCLUDED.counted`,
      [
        rows.map((t) => t.merchantId),
        rows.map((t) => t.transactionId),
        rows.map((t) => String(t.countedAt)),
        rows.map((t) => t.entities.card!),
        ...ENTITY_COLUMNS.map((kind) => rows.map((t) => t.entities[kind] ?? null)),
        rows.map((t) => t.uncounted !== true),
      ],
    );
  }

  async find(merchantId: string, transactionId: string): Promise<ArchiveEntry | undefined> {
    const { rows } = await this.sql.query<Row>(
      `SELECT merchant_id, transaction_id, counted_at_ms, card, ${ENTITY_COLUMNS.join(', ')}, outcomes, counted
         FROM transaction_archive WHERE merchant_id = $1 AND transaction_id = $2
        ORDER BY counted DESC, archived_on LIMIT 1`,
      [merchantId, transactionId],
    );
    const row = rows[0];
    if (!row) return undefined;
    const entities: Partial<Record<EntityKind, string>> = { card: row.card };
    for (const kind of ENTITY_COLUMNS) {
      const identity = row[kind];
      if (identity != null) entities[kind] = identity;
    }
    return {
      merchantId,
      transactionId,
      countedAt: Number(row.counted_at_ms),
      entities,
      outcomes: row.outcomes,
      ...(row.counted ? {} : { uncounted: true as const }),
    };
  }

  async markOutcome(merchantId: string, transactionId: string, outcome: string, at: number): Promise<boolean> {
    const { rowCount } = await this.sql.query(
      `UPDATE transaction_archive SET outcomes = outcomes || jsonb_build_object($3::text, $4::bigint)
        WHERE merchant_id = $1 AND transaction_id = $2 AND NOT outcomes ? $3`,
      [merchantId, transactionId, outcome, String(at)],
    );
    return rowCount > 0;
  }

  async maintain(keepDays: number): Promise<number> {
    const { rows } = await this.sql.query<{ dropped: number }>(
      'SELECT transaction_archive_maintain($1::integer) AS dropped',
      [keepDays],
    );
    return rows[0]!.dropped;
  }
}
