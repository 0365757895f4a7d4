// The case store on PostgreSQL, one implementation for both drivers (pg, PGlite). Every value is
// a bound parameter; the only SQL assembled at run time is a choice among constant fragments
// (filters and sorts from whitelists). Personal data reach a row only sealed (personal-data.ts).
import {
  CaseConflict,
  CaseForbidden,
  CaseNotFound,
  LINKED_CASES_SHOWN,
  OPEN_STATUSES,
  allowListRefusal,
  type CaseAction,
  type CaseEvent,
  type CaseQuery,
  type CaseRecord,
  type CaseStatus,
  type CaseStore,
  type DashboardStats,
  type DecisionEffects,
  type DecisionOptions,
  type DecisionResult,
  type PendingEffect,
  type FlaggedDecision,
  type Label,
  type LabelledCase,
  type LinkedCases,
  type TakeNextFilters,
  type ListName,
  type ReversalCategory,
  type ReversalResult,
  type LinkKind,
  type CaseOutcome,
  type OutcomeNote,
} from '../../cases/model.ts';
import type { Decision } from '../../core/schemas.ts';
import { scrubCardNumbers } from '../../core/scrub.ts';
import { caseIdentity, scrubFlagged, servedPage, splitPersonalData } from '../../cases/model.ts';
import { personalDataBinding, protectFlagged, type PersonalDataCipher } from '../../cases/personal-data.ts';
import { NOTED_WITHOUT_CASE, summariseOutcomes } from '../../cases/outcomes.ts';
import type { Queryable, SqlClient } from './sql-client.ts';
import { appendAuditIn } from './audit-log.ts';
import type { AuditInput } from '../../cases/audit.ts';
import { NEGATIVE_KINDS } from '../../core/lists.ts';

type Row = Record<string, unknown>;
export const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());
const isoOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : iso(v));
export const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

/** Outcomes read from two places, oldest first: each kind once, at its first time. */
function firstOfEachKind(rows: readonly { outcome: string; at: unknown }[]): CaseOutcome[] {
  const seen = new Set<string>();
  const outcomes: CaseOutcome[] = [];
  for (const row of rows) {
    if (seen.has(row.outcome)) continue;
    seen.add(row.outcome);
    outcomes.push({ outcome: row.outcome, at: iso(row.at) });
  }
  return outcomes;
}

/** A transaction's outcomes: noted in the case database, or on its archive's entry. */
async function outcomesIn(q: Queryable, merchantId: string, transactionId: string): Promise<CaseOutcome[]> {
  const r = await q.query<{ outcome: string; at: unknown }>(
    `SELECT outcome, at FROM case_outcomes WHERE merchant_id = $1 AND transaction_id = $2
     UNION ALL
     SELECT o.key, to_timestamp((o.value #>> '{}')::bigint / 1000.0)
       FROM transaction_archive t, jsonb_each(t.outcomes) AS o
      WHERE t.merchant_id = $1 AND t.transaction_id = $2
     ORDER BY at`,
    [merchantId, transactionId],
  );
  return firstOfEachKind(r.rows);
}

/** A flagged decision's row values, in the order of the INSERT's columns. */
function caseRow(f: FlaggedDecision): unknown[] {
  return [
    f.merchantId,
    f.transactionId,
    f.response.decision,
    f.response.score,
    JSON.stringify(f.response.reasons),
    f.response.reasons.map((r) => r.code),
    f.watchlistEvents,
    f.request.amount,
    f.request.currency,
    f.request.channel,
    f.card.bin,
    f.card.last4,
    f.card.keyId,
    f.card.fingerprint,
    f.links.device ?? null,
    f.links.ip ?? null,
    f.links.email ?? null,
    f.links.shipping ?? null,
    JSON.stringify(f.request),
    JSON.stringify(f.features),
    f.response.degraded,
    f.occurredAt,
    f.flaggedAt,
    f.personal ?? null,
    f.linkAliases ?? [],
  ];
}

const CASE_COLUMNS = `id, merchant_id, transaction_id, status, decision, score, reasons, reason_codes, watchlist_events, amount, currency, channel,
  card_bin, card_last4, card_key_id, card_fingerprint, device_key, ip_key, email_key, shipping_key, transaction, features, degraded, assignee,
  occurred_at, flagged_at, created_at, updated_at, decided_at, decided_by, personal_data, personal_data_erased_at, personal_data_retention_days`;

function toCase(r: Row): CaseRecord {
  const links: CaseRecord['links'] = {};
  if (r.device_key) links.device = String(r.device_key);
  if (r.ip_key) links.ip = String(r.ip_key);
  if (r.email_key) links.email = String(r.email_key);
  if (r.shipping_key) links.shipping = String(r.shipping_key);
  return {
    id: Number(r.id),
    merchantId: String(r.merchant_id),
    transactionId: String(r.transaction_id),
    status: r.status as CaseStatus,
    decision: r.decision as Decision,
    score: Number(r.score),
    reasons: json(r.reasons),
    reasonCodes: r.reason_codes as string[],
    watchlistEvents: r.watchlist_events as string[],
    amount: Number(r.amount),
    currency: String(r.currency),
    channel: String(r.channel),
    card: {
      bin: String(r.card_bin),
      last4: String(r.card_last4),
      keyId: String(r.card_key_id),
      fingerprint: String(r.card_fingerprint),
    },
    links,
    transaction: json(r.transaction),
    personalData: {
      sealed: (r.personal_data as string | null) ?? null,
      erasedAt: isoOrNull(r.personal_data_erased_at),
      retentionDays:
        r.personal_data_retention_days === null || r.personal_data_retention_days === undefined
          ? null
          : Number(r.personal_data_retention_days),
    },
    features: json(r.features),
    degraded: Boolean(r.degraded),
    assignee: (r.assignee as string | null) ?? null,
    occurredAt: iso(r.occurred_at),
    flaggedAt: iso(r.flagged_at),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    decidedAt: isoOrNull(r.decided_at),
    decidedBy: (r.decided_by as string | null) ?? null,
  };
}

function toEvent(r: Row): CaseEvent {
  return {
    id: Number(r.id),
    caseId: Number(r.case_id),
    at: iso(r.at),
    actor: String(r.actor),
    kind: r.kind as CaseEvent['kind'],
    detail: json(r.detail),
  };
}

/** What the engine knew when it flagged a case's transaction (case_id and the cases columns): for labels. */
export function flaggedCaseOf(r: Row): Omit<LabelledCase, 'label' | 'decidedBy' | 'decidedAt'> {
  return {
    caseId: Number(r.case_id),
    merchantId: String(r.merchant_id),
    transactionId: String(r.transaction_id),
    occurredAt: iso(r.occurred_at),
    score: Number(r.score),
    decision: r.decision as Decision,
    reasonCodes: r.reason_codes as string[],
    amount: Number(r.amount),
    currency: String(r.currency),
    channel: String(r.channel),
    cardBin: String(r.card_bin),
    features: json(r.features),
  };
}

function toLabelled(r: Row): LabelledCase {
  return {
    ...flaggedCaseOf(r),
    label: r.label as Label,
    decidedBy: String(r.decided_by),
    decidedAt: iso(r.decided_at),
  };
}

const EFFECT_COLUMNS = 'id, case_id, kind, effects, actor, status, attempts, last_error, created_at';

function toEffect(r: Row): PendingEffect {
  return {
    id: Number(r.id),
    caseId: Number(r.case_id),
    kind: r.kind as PendingEffect['kind'],
    actor: String(r.actor),
    effects: json(r.effects),
    status: r.status as PendingEffect['status'],
    attempts: Number(r.attempts),
    lastError: (r.last_error as string | null) ?? null,
    createdAt: iso(r.created_at),
  };
}

/** Sorts by name: the only way a client picks an ORDER BY. */
const ORDER_BY: Record<CaseQuery['sort'], string> = {
  risk: 'score DESC, created_at ASC, id ASC',
  age: 'created_at ASC, id ASC',
  newest: 'created_at DESC, id DESC',
};

const ACTION_STATUS: Record<CaseAction, CaseStatus> = {
  mark_fraud: 'fraud',
  mark_legitimate: 'legitimate',
  escalate: 'escalated',
};
const ACTION_FROM: Record<CaseAction, readonly CaseStatus[]> = {
  mark_fraud: OPEN_STATUSES,
  mark_legitimate: OPEN_STATUSES,
  escalate: ['open', 'in_review'],
};

/** Builds WHERE from validated filters: constant fragments, values as $n parameters. */
export function whereClause(q: Omit<CaseQuery, 'sort' | 'page' | 'pageSize'>): { where: string; params: unknown[] } {
  const params: unknown[] = [];
  const clauses: string[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (q.status === 'pending') clauses.push(`status = ANY(${p([...OPEN_STATUSES])}::text[])`);
  else if (q.status !== 'all') clauses.push(`status = ${p(q.status)}`);
  if (q.merchant) clauses.push(`merchant_id = ${p(q.merchant)}`);
  if (q.transactionId) clauses.push(`transaction_id = ${p(q.transactionId)}`);
  if (q.decision) clauses.push(`decision = ${p(q.decision)}`);
  if (q.reasonCode) clauses.push(`${p(q.reasonCode)} = ANY(reason_codes)`);
  if (q.watchlistEvent) clauses.push(`${p(q.watchlistEvent)} = ANY(watchlist_events)`);
  if (q.from) clauses.push(`created_at >= ${p(q.from)}::timestamptz`);
  // A bare date as "to" includes that whole day.
  if (q.to)
    clauses.push(
      /^\d{4}-\d{2}-\d{2}$/.test(q.to)
        ? `created_at < (${p(q.to)}::date + 1)`
        : `created_at <= ${p(q.to)}::timestamptz`,
    );
  if (q.assignee === '-') clauses.push('assignee IS NULL');
  else if (q.assignee) clauses.push(`assignee = ${p(q.assignee)}`);
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/** Closed cases erased per statement by the retention pass: short transactions, however many are due. */
const ERASE_BATCH = 1000;
/** Rows an older version wrote with personal data in clear (the same predicate as the partial index cases_personal_data_in_clear). */
const IN_CLEAR = `(transaction ?| ARRAY['device', 'billingAddress', 'shippingAddress'] OR transaction -> 'customer' ?| ARRAY['id', 'email', 'phone'])`;

export class PostgresCaseStore implements CaseStore {
  private readonly sql: SqlClient;
  private readonly cipher: PersonalDataCipher | undefined;
  /** `cipher`: seals personal data on write; a store opened without one (labels export) reads, and writes no personal data. */
  constructor(sql: SqlClient, cipher?: PersonalDataCipher) {
    this.sql = sql;
    this.cipher = cipher;
  }

  /** No personal data in clear, whatever the queue held (an older version's entry). */
  private sealed(f: FlaggedDecision): FlaggedDecision {
    if (this.cipher) return protectFlagged(f, this.cipher);
    if (splitPersonalData(f.request).personal)
      throw new Error(
        'the case store was opened without a personal-data key (LEAKGUARD_DATA_KEY): it cannot store personal data',
      );
    return f;
  }

  async createFromFlagged(flagged: FlaggedDecision): Promise<{ id: number; created: boolean }> {
    return (await this.createManyFromFlagged([flagged]))[0]!;
  }

  async createManyFromFlagged(batch: readonly FlaggedDecision[]): Promise<{ id: number; created: boolean }[]> {
    if (batch.length === 0) return [];
    // Scrubbed again here: whatever the queue held, no card number reaches a row; sealed again too.
    // A transaction twice in one batch (a redelivery) is inserted once: the first holds its row.
    const unique = new Map<string, FlaggedDecision>();
    for (const f of batch) {
      const key = caseIdentity(f.merchantId, f.transactionId);
      if (!unique.has(key)) unique.set(key, this.sealed(scrubFlagged(f)));
    }
    const rows = [...unique.values()];
    // One transaction and three statements for the whole batch, not four round trips per case: a
    // case cost PGlite ~5 ms of the engine's CPU one at a time (docs/capacity.md, the flagged path).
    const ids = await this.sql.transaction(async (tx) => {
      const params: unknown[] = [];
      const values = rows.map((f) => {
        const first = params.length;
        params.push(...caseRow(f));
        const p = (i: number) => `$${first + i}`;
        return `(${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}::jsonb, ${p(6)}::text[], ${p(7)}::text[], ${p(8)}, ${p(9)}, ${p(10)},
          ${p(11)}, ${p(12)}, ${p(13)}, ${p(14)}, ${p(15)}, ${p(16)}, ${p(17)}, ${p(18)}, ${p(19)}::jsonb, ${p(20)}::jsonb, ${p(21)},
          ${p(22)}::timestamptz, ${p(23)}::timestamptz, ${p(24)}, ${p(25)}::text[])`;
      });
      const inserted = await tx.query<{ id: number; merchant_id: string; transaction_id: string }>(
        `INSERT INTO cases (merchant_id, transaction_id, decision, score, reasons, reason_codes, watchlist_events, amount, currency, channel,
           card_bin, card_last4, card_key_id, card_fingerprint, device_key, ip_key, email_key, shipping_key, transaction, features, degraded,
           occurred_at, flagged_at, personal_data, link_aliases)
         VALUES ${values.join(', ')}
         ON CONFLICT ON CONSTRAINT cases_transaction_unique DO NOTHING
         RETURNING id, merchant_id, transaction_id`,
        params,
      );
      const created = new Map(inserted.rows.map((r) => [caseIdentity(r.merchant_id, r.transaction_id), Number(r.id)]));
      if (created.size > 0) {
        const events = rows.filter((f) => created.has(caseIdentity(f.merchantId, f.transactionId)));
        await tx.query(
          `INSERT INTO case_events (case_id, actor, kind, detail)
           SELECT id, 'leakguard', 'created', detail FROM unnest($1::bigint[], $2::jsonb[]) AS e(id, detail)`,
          [
            events.map((f) => created.get(caseIdentity(f.merchantId, f.transactionId))),
            events.map((f) => JSON.stringify({ decision: f.response.decision, score: f.response.score })),
          ],
        );
      }
      const existing = new Map<string, number>();
      const known = rows.filter((f) => !created.has(caseIdentity(f.merchantId, f.transactionId)));
      if (known.length > 0) {
        const found = await tx.query<{ id: number; merchant_id: string; transaction_id: string }>(
          `SELECT c.id, c.merchant_id, c.transaction_id FROM cases c
           JOIN unnest($1::text[], $2::text[]) AS k(merchant_id, transaction_id)
             ON c.merchant_id = k.merchant_id AND c.transaction_id = k.transaction_id`,
          [known.map((f) => f.merchantId), known.map((f) => f.transactionId)],
        );
        for (const r of found.rows) existing.set(caseIdentity(r.merchant_id, r.transaction_id), Number(r.id));
      }
      return { created, existing };
    });
    const claimed = new Set<string>();
    return batch.map((f) => {
      const key = caseIdentity(f.merchantId, f.transactionId);
      const id = ids.created.get(key);
      if (id !== undefined && !claimed.has(key)) {
        claimed.add(key);
        return { id, created: true };
      }
      return { id: id ?? ids.existing.get(key)!, created: false };
    });
  }

  async get(id: number): Promise<CaseRecord | undefined> {
    const r = await this.sql.query(`SELECT ${CASE_COLUMNS} FROM cases WHERE id = $1`, [id]);
    return r.rows[0] ? toCase(r.rows[0]) : undefined;
  }

  async getByTransaction(merchantId: string, transactionId: string): Promise<CaseRecord | undefined> {
    const r = await this.sql.query(`SELECT ${CASE_COLUMNS} FROM cases WHERE merchant_id = $1 AND transaction_id = $2`, [
      merchantId,
      transactionId,
    ]);
    return r.rows[0] ? toCase(r.rows[0]) : undefined;
  }

  async list(q: CaseQuery): Promise<{ items: CaseRecord[]; total: number; page: number }> {
    const { where, params } = whereClause(q);
    const counted = await this.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM cases ${where}`, params);
    const total = Number(counted.rows[0]?.n ?? 0);
    // The page is chosen from the count before the rows are read: one query for them, at an OFFSET
    // within MAX_QUEUE_ROWS (a deep OFFSET reads and drops every row before it).
    const page = servedPage(q.page, q.pageSize, total);
    const n = params.length;
    const rows = await this.sql.query(
      `SELECT ${CASE_COLUMNS} FROM cases ${where} ORDER BY ${ORDER_BY[q.sort]} LIMIT $${n + 1} OFFSET $${n + 2}`,
      [...params, q.pageSize, (page - 1) * q.pageSize],
    );
    return { items: rows.rows.map(toCase), total, page };
  }

  async takeNext(
    username: string,
    options: { lead?: boolean; filters?: TakeNextFilters } = {},
  ): Promise<CaseRecord | undefined> {
    return this.sql.transaction(async (tx) => {
      // The queue's filters on screen narrow it ($1..$n); status and assignee are take-next's own.
      const { where, params } = whereClause({
        merchant: undefined,
        transactionId: undefined,
        reasonCode: undefined,
        watchlistEvent: undefined,
        from: undefined,
        to: undefined,
        ...options.filters,
        status: 'all',
        assignee: undefined,
      });
      const filtered = where ? `AND ${where.slice('WHERE '.length)}` : '';
      const me = `$${params.length + 1}`;
      // A lead's next case: an escalated one first (only leads decide them) unless a lead already
      // holds it (an escalated case usually keeps the analyst who escalated it), then the open ones.
      const next = await tx.query<{ id: number }>(
        options.lead
          ? `SELECT id FROM cases
             WHERE ((status = 'open' AND assignee IS NULL)
                OR (status = 'escalated' AND (assignee IS NULL OR (assignee <> ${me} AND NOT EXISTS (
                      SELECT 1 FROM console_users u WHERE u.username = cases.assignee AND u.role IN ('lead', 'admin') AND NOT u.disabled)))))
               ${filtered}
             ORDER BY (status = 'escalated') DESC, ${ORDER_BY.risk} LIMIT 1 FOR UPDATE SKIP LOCKED`
          : `SELECT id FROM cases WHERE status = 'open' AND assignee IS NULL ${filtered} ORDER BY ${ORDER_BY.risk} LIMIT 1 FOR UPDATE SKIP LOCKED`,
        options.lead ? [...params, username] : params,
      );
      const id = next.rows[0]?.id;
      if (id === undefined) return undefined;
      return this.assignIn(tx, Number(id), username, username);
    });
  }

  assign(id: number, username: string, actor: string, options: { lead?: boolean } = {}): Promise<CaseRecord> {
    return this.sql.transaction(async (tx) => {
      const row = await this.lockOpen(tx, id);
      // Under the row lock: the console checked too, but the case may have changed since it read it.
      if (!options.lead && row.status === 'escalated')
        throw new CaseForbidden(`Case #${id} is escalated: a lead assigns it.`);
      if (!options.lead && row.assignee !== null && row.assignee !== username)
        throw new CaseForbidden(`Case #${id} is assigned to ${row.assignee}: a lead reassigns it.`);
      if (username !== actor) {
        if (!options.lead) throw new CaseForbidden(`Only a lead assigns case #${id} to someone else.`);
        // Shared with a disable (which returns the user's cases to the queue once it committed): a
        // case is never handed to someone being disabled and left with them.
        const active = await tx.query<{ role: string }>(
          `SELECT role FROM console_users WHERE username = $1 AND NOT disabled AND password_hash <> '' FOR SHARE`,
          [username],
        );
        if (!active.rows[0]) throw new CaseConflict(`${username} is not an active console user`);
        // An escalated case waits for a lead: handed to an analyst, it would sit with someone who cannot decide it.
        if (row.status === 'escalated' && active.rows[0].role === 'analyst')
          throw new CaseForbidden(
            `Case #${id} is escalated: only a lead or an admin decides it, so it is not assigned to ${username}, an analyst.`,
          );
      }
      return this.assignIn(tx, id, username, actor);
    });
  }

  unassign(id: number, actor: string): Promise<CaseRecord> {
    return this.sql.transaction(async (tx) => {
      const row = await this.lockOpen(tx, id);
      if (row.assignee === null) throw new CaseConflict(`Case #${id} is not assigned.`);
      return (await this.releaseIn(tx, 'id = $1', [id], actor))[0]!;
    });
  }

  releaseAssigned(username: string, actor: string): Promise<CaseRecord[]> {
    return this.sql.transaction((tx) =>
      this.releaseIn(tx, `assignee = $1 AND status IN ('open', 'in_review', 'escalated')`, [username], actor),
    );
  }

  /** Back to the queue: unassigned, in review again open (an escalated case stays escalated, for the leads). */
  /** The case's status and assignee, its row locked until the transaction ends; CaseNotFound when there is none. */
  private async lock(tx: Queryable, id: number): Promise<{ status: CaseStatus; assignee: string | null }> {
    const current = await tx.query<{ status: CaseStatus; assignee: string | null }>(
      'SELECT status, assignee FROM cases WHERE id = $1 FOR UPDATE',
      [id],
    );
    const row = current.rows[0];
    if (!row) throw new CaseNotFound(`case ${id} not found`);
    return row;
  }

  /** lock(), for a change an open case only takes (CaseConflict once decided). */
  private async lockOpen(tx: Queryable, id: number): Promise<{ status: CaseStatus; assignee: string | null }> {
    const row = await this.lock(tx, id);
    if (!OPEN_STATUSES.includes(row.status)) throw new CaseConflict(`case ${id} is already decided`);
    return row;
  }

  private async releaseIn(tx: Queryable, where: string, params: unknown[], actor: string): Promise<CaseRecord[]> {
    const held = await tx.query<{ id: number; assignee: string }>(
      `SELECT id, assignee FROM cases WHERE ${where} ORDER BY id FOR UPDATE`,
      params,
    );
    const records: CaseRecord[] = [];
    for (const { id, assignee } of held.rows) {
      const r = await tx.query(
        `UPDATE cases SET assignee = NULL, status = CASE WHEN status = 'in_review' THEN 'open' ELSE status END, updated_at = now()
         WHERE id = $1 RETURNING ${CASE_COLUMNS}`,
        [id],
      );
      await tx.query(`INSERT INTO case_events (case_id, actor, kind, detail) VALUES ($1, $2, 'assigned', $3::jsonb)`, [
        id,
        actor,
        JSON.stringify({ assignee: null, from: assignee }),
      ]);
      records.push(toCase(r.rows[0]!));
    }
    return records;
  }

  private async assignIn(tx: Queryable, id: number, username: string, actor: string): Promise<CaseRecord> {
    const r = await tx.query(
      `UPDATE cases SET assignee = $2, status = CASE WHEN status = 'open' THEN 'in_review' ELSE status END, updated_at = now()
       WHERE id = $1 RETURNING ${CASE_COLUMNS}`,
      [id, username],
    );
    await tx.query(`INSERT INTO case_events (case_id, actor, kind, detail) VALUES ($1, $2, 'assigned', $3::jsonb)`, [
      id,
      actor,
      JSON.stringify({ assignee: username }),
    ]);
    return toCase(r.rows[0]!);
  }

  decide(
    id: number,
    action: CaseAction,
    actor: string,
    note?: string,
    options: DecisionOptions = {},
  ): Promise<DecisionResult> {
    return this.sql.transaction(async (tx) => {
      const current = await this.lock(tx, id);
      const previous = current.status;
      if (!ACTION_FROM[action].includes(previous))
        throw new CaseConflict(`case ${id} is ${previous}: cannot ${action.replace('_', ' ')}`);
      if (previous === 'escalated' && options.mayDecideEscalated !== true)
        throw new CaseForbidden(`Case #${id} is escalated: a lead decides it.`);
      // Under the row lock too: the case may have been assigned since the page was read.
      const assignee = current.assignee;
      if (assignee !== null && assignee !== actor && options.mayDecideOthers !== true)
        throw new CaseForbidden(`Case #${id} is assigned to ${assignee}: only they or a lead decide it.`);
      // Under the row lock: a chargeback noted meanwhile waits for this decision (noteOutcomes), so
      // none lands between this check and the commit (docs/console.md, "Outcomes on a case"). The
      // engine writes a chargeback on the transaction's archive entry first (markOutcome): that row
      // is share-locked before it is read, so a write under way is waited for and then seen, and one
      // that comes after waits for this commit.
      if (action === 'mark_legitimate' && (options.allowListDays ?? 0) > 0) {
        const { merchant_id, transaction_id } = (
          await tx.query<{ merchant_id: string; transaction_id: string }>(
            'SELECT merchant_id, transaction_id FROM cases WHERE id = $1',
            [id],
          )
        ).rows[0]!;
        await tx.query('SELECT 1 FROM transaction_archive WHERE merchant_id = $1 AND transaction_id = $2 FOR SHARE', [
          merchant_id,
          transaction_id,
        ]);
        if (summariseOutcomes(await outcomesIn(tx, merchant_id, transaction_id), '').fraudChargeback)
          throw new CaseConflict(allowListRefusal(id));
      }
      const status = ACTION_STATUS[action];
      const final = status === 'fraud' || status === 'legitimate';
      const r = await tx.query(
        `UPDATE cases SET status = $2, updated_at = now(),
           decided_at = CASE WHEN $3::boolean THEN now() ELSE decided_at END,
           decided_by = CASE WHEN $3::boolean THEN $4 ELSE decided_by END,
           assignee = COALESCE(assignee, $4)
         WHERE id = $1 RETURNING ${CASE_COLUMNS}`,
        [id, status, final, actor],
      );
      const record = toCase(r.rows[0]!);
      await tx.query(`INSERT INTO case_events (case_id, actor, kind, detail) VALUES ($1, $2, 'status', $3::jsonb)`, [
        id,
        actor,
        JSON.stringify({ from: previous, to: status }),
      ]);
      if (note)
        await tx.query(`INSERT INTO case_events (case_id, actor, kind, detail) VALUES ($1, $2, 'note', $3::jsonb)`, [
          id,
          actor,
          JSON.stringify({ text: scrubCardNumbers(note) }),
        ]);
      let label: Label | null = null;
      if (final) {
        label = status as Label;
        await tx.query(
          `INSERT INTO labels (case_id, merchant_id, transaction_id, label, decided_by, decided_at) VALUES ($1, $2, $3, $4, $5, $6::timestamptz)`,
          [id, record.merchantId, record.transactionId, label, actor, record.decidedAt],
        );
      }
      const decided = { case: record, label, previousStatus: previous };
      // The audit entries and the outbox row commit with the decision, or none of them does.
      for (const entry of options.audit?.(decided) ?? []) await appendAuditIn(tx, entry);
      let effect: PendingEffect | null = null;
      if (label && options.negativeListTtlMs !== undefined) {
        const now = Date.now();
        const negative =
          label === 'fraud'
            ? NEGATIVE_KINDS.filter((k) => record.links[k]).map((kind) => ({ kind, identity: record.links[kind]! }))
            : [];
        const days = label === 'legitimate' ? (options.allowListDays ?? 0) : 0;
        const effects = effectsOf(
          record,
          label,
          negative,
          negative.length ? new Date(now + options.negativeListTtlMs).toISOString() : null,
          days > 0 ? { days, until: new Date(now + days * 86_400_000).toISOString() } : null,
        );
        const inserted = await tx.query(
          `INSERT INTO decision_effects (case_id, kind, effects, actor, next_attempt_at)
           VALUES ($1, 'decided', $2::jsonb, $3, now() + make_interval(secs => $4::double precision / 1000))
           RETURNING ${EFFECT_COLUMNS}`,
          [id, JSON.stringify(effects), actor, options.leaseMs ?? 30_000],
        );
        effect = toEffect(inserted.rows[0]!);
        // Who listed what, until when: a reversal withdraws these rows, and only these (migration 010).
        const entries = [
          ...negative.map((n) => [n.kind, '', n.identity, effects.negativeUntil]),
          ...(effects.allow ? [['allow', record.merchantId, record.card.fingerprint, effects.allow.until]] : []),
        ];
        for (const [list, merchant, identity, until] of entries)
          await tx.query(
            `INSERT INTO list_entries (list, merchant_id, identity, case_id, expires_at) VALUES ($1, $2, $3, $4, $5::timestamptz)
             ON CONFLICT (list, merchant_id, identity, case_id) DO UPDATE SET expires_at = EXCLUDED.expires_at, withdrawn_at = NULL`,
            [list, merchant, identity, id, until],
          );
      }
      return { ...decided, effect };
    });
  }

  reverse(
    id: number,
    actor: string,
    reason: string,
    options: { audit?: (result: ReversalResult) => AuditInput[]; leaseMs?: number; category?: ReversalCategory } = {},
  ): Promise<ReversalResult & { effect: PendingEffect }> {
    return this.sql.transaction(async (tx) => {
      const { status: previous, assignee } = await this.lock(tx, id);
      if (previous !== 'fraud' && previous !== 'legitimate')
        throw new CaseConflict(`case ${id} is ${previous}: only a fraud or legitimate decision can be reversed`);
      // A decided case keeps its assignee when the user is disabled (only open cases are returned
      // then): reopened in review for someone who can no longer sign in, it would sit with them,
      // out of take-next and refused to everyone but a lead. Read under the lock assign() shares
      // with a disable: one committed before is seen here, one after returns the case itself.
      const keeps =
        assignee !== null &&
        (
          await tx.query(
            `SELECT 1 FROM console_users WHERE username = $1 AND NOT disabled AND password_hash <> '' FOR SHARE`,
            [assignee],
          )
        ).rows.length > 0;
      const r = await tx.query(
        `UPDATE cases SET assignee = CASE WHEN $2::boolean THEN assignee END,
           status = CASE WHEN $2::boolean THEN 'in_review' ELSE 'open' END, updated_at = now(),
           decided_at = NULL, decided_by = NULL
         WHERE id = $1 RETURNING ${CASE_COLUMNS}`,
        [id, keeps],
      );
      const record = toCase(r.rows[0]!);
      await tx.query(`INSERT INTO case_events (case_id, actor, kind, detail) VALUES ($1, $2, 'status', $3::jsonb)`, [
        id,
        actor,
        JSON.stringify({ from: previous, to: record.status, reversed: true }),
      ]);
      if (assignee !== null && !keeps)
        await tx.query(
          `INSERT INTO case_events (case_id, actor, kind, detail) VALUES ($1, $2, 'assigned', $3::jsonb)`,
          [id, actor, JSON.stringify({ assignee: null, from: assignee })],
        );
      await tx.query(`INSERT INTO case_events (case_id, actor, kind, detail) VALUES ($1, $2, 'note', $3::jsonb)`, [
        id,
        actor,
        JSON.stringify({ text: scrubCardNumbers(`Decision reversed: ${reason}`) }),
      ]);
      // The label goes out of the export and the learners; the topic is told (published again,
      // withdrawn), and the merchant's webhooks that were told the decision (its category only).
      await tx.query(
        `UPDATE labels SET withdrawn_at = now(), withdrawn_by = $2, published_at = NULL, withdrawn_category = $3
         WHERE case_id = $1 AND withdrawn_at IS NULL`,
        [id, actor, options.category ?? 'other'],
      );
      // The entries this decision added, and no other decision's.
      const withdrawn = await tx.query<{ list: string; merchant_id: string; identity: string }>(
        `UPDATE list_entries SET withdrawn_at = now() WHERE case_id = $1 AND withdrawn_at IS NULL RETURNING list, merchant_id, identity`,
        [id],
      );
      // Its effects not applied yet will not be: the reversal's effect settles the lists from list_entries.
      await tx.query(
        `UPDATE decision_effects SET status = 'applied', applied_at = now(), last_error = 'superseded: the decision was reversed'
         WHERE case_id = $1 AND kind = 'decided' AND status = 'pending'`,
        [id],
      );
      const label = previous as Label;
      const negative = withdrawn.rows
        .filter((e) => e.list !== 'allow')
        .map((e) => ({ kind: e.list as Exclude<LinkKind, 'card'>, identity: e.identity }));
      const allowed = withdrawn.rows.find((e) => e.list === 'allow');
      const now = new Date().toISOString();
      const effects = effectsOf(
        record,
        label,
        negative,
        negative.length ? now : null,
        allowed ? { days: 0, until: now } : null,
      );
      const result: ReversalResult = {
        case: record,
        previousStatus: label,
        ...(assignee !== null && !keeps ? { returnedFrom: assignee } : {}),
      };
      for (const entry of options.audit?.(result) ?? []) await appendAuditIn(tx, entry);
      const inserted = await tx.query(
        `INSERT INTO decision_effects (case_id, kind, effects, actor, next_attempt_at)
         VALUES ($1, 'reversed', $2::jsonb, $3, now() + make_interval(secs => $4::double precision / 1000))
         RETURNING ${EFFECT_COLUMNS}`,
        [id, JSON.stringify(effects), actor, options.leaseMs ?? 30_000],
      );
      return { ...result, effect: toEffect(inserted.rows[0]!) };
    });
  }

  async liveListEntries(
    list: ListName,
    merchantId: string,
    identity: string,
  ): Promise<{ caseId: number; expiresAt: string }[]> {
    const r = await this.sql.query(
      `SELECT case_id, expires_at FROM list_entries
       WHERE list = $1 AND merchant_id = $2 AND identity = $3 AND withdrawn_at IS NULL AND expires_at > now()
       ORDER BY expires_at DESC, case_id DESC`,
      [list, merchantId, identity],
    );
    return r.rows.map((row) => ({ caseId: Number(row.case_id), expiresAt: iso(row.expires_at) }));
  }

  async claimEffects(limit: number, leaseMs: number): Promise<PendingEffect[]> {
    const r = await this.sql.query(
      `UPDATE decision_effects SET next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
       WHERE id IN (SELECT id FROM decision_effects WHERE status = 'pending' AND next_attempt_at <= now()
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING ${EFFECT_COLUMNS}`,
      [limit, leaseMs],
    );
    return r.rows.map(toEffect).sort((a, b) => a.id - b.id);
  }

  effectApplied(id: number, audit: AuditInput[]): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const r = await tx.query(
        `UPDATE decision_effects SET status = 'applied', applied_at = now(), last_error = NULL
         WHERE id = $1 AND status = 'pending' RETURNING id`,
        [id],
      );
      if (r.rows.length === 0) return false;
      for (const entry of audit) await appendAuditIn(tx, entry);
      return true;
    });
  }

  async effectFailed(id: number, error: string, retryInMs: number): Promise<void> {
    await this.sql.query(
      `UPDATE decision_effects SET attempts = attempts + 1, last_error = $2,
         next_attempt_at = now() + make_interval(secs => $3::double precision / 1000)
       WHERE id = $1 AND status = 'pending'`,
      [id, scrubCardNumbers(error).slice(0, 500), retryInMs],
    );
  }

  async latestEffect(caseId: number): Promise<PendingEffect | undefined> {
    const r = await this.sql.query(
      `SELECT ${EFFECT_COLUMNS} FROM decision_effects WHERE case_id = $1 ORDER BY id DESC LIMIT 1`,
      [caseId],
    );
    return r.rows[0] ? toEffect(r.rows[0]) : undefined;
  }

  async unpublishedLabelStats(): Promise<{ count: number; oldestAgeSeconds: number }> {
    // Waiting since decided, or since withdrawn (a withdrawal is published anew).
    const r = await this.sql.query<{ n: number; age: number | null }>(
      `SELECT count(*)::int AS n, EXTRACT(EPOCH FROM now() - min(coalesce(withdrawn_at, decided_at)))::float8 AS age
       FROM labels WHERE published_at IS NULL`,
    );
    return { count: Number(r.rows[0]?.n ?? 0), oldestAgeSeconds: Math.max(0, Number(r.rows[0]?.age ?? 0)) };
  }

  async pendingEffects(): Promise<{ count: number; oldestAgeSeconds: number }> {
    const r = await this.sql.query<{ n: number; age: number | null }>(
      `SELECT count(*)::int AS n, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS age
       FROM decision_effects WHERE status = 'pending'`,
    );
    return { count: Number(r.rows[0]?.n ?? 0), oldestAgeSeconds: Math.max(0, Number(r.rows[0]?.age ?? 0)) };
  }

  async addNote(id: number, actor: string, text: string): Promise<CaseEvent> {
    const r = await this.sql.query(
      `INSERT INTO case_events (case_id, actor, kind, detail) SELECT id, $2, 'note', $3::jsonb FROM cases WHERE id = $1 RETURNING id, case_id, at, actor, kind, detail`,
      [id, actor, JSON.stringify({ text: scrubCardNumbers(text) })],
    );
    if (!r.rows[0]) throw new CaseNotFound(`case ${id} not found`);
    return toEvent(r.rows[0]);
  }

  async history(id: number): Promise<CaseEvent[]> {
    const r = await this.sql.query(
      'SELECT id, case_id, at, actor, kind, detail FROM case_events WHERE case_id = $1 ORDER BY id',
      [id],
    );
    return r.rows.map(toEvent);
  }

  async linked(id: number, limit = LINKED_CASES_SHOWN): Promise<LinkedCases> {
    // Strongest link first (the same card, then device, email, IP, shipping address), newest first
    // within it: a reshipper's address shared by hundreds of cases cannot push the card's own off.
    // An identity is shared when one case's (its own or an alias: another key's during a rotation,
    // an address's previous normalisation's) is the other's; each kind's identities of this case
    // are gathered once, and the candidates found by index (each key's, link_aliases' GIN).
    const r = await this.sql.query(
      `WITH own AS (
         SELECT array_remove(ARRAY['card:' || card_fingerprint, 'device:' || device_key, 'ip:' || ip_key,
             'email:' || email_key, 'shipping:' || shipping_key], NULL) || link_aliases AS ids
         FROM cases WHERE id = $1
       ), tagged AS (
         SELECT ids,
           ARRAY(SELECT a FROM unnest(ids) a WHERE starts_with(a, 'card:')) AS card,
           ARRAY(SELECT a FROM unnest(ids) a WHERE starts_with(a, 'device:')) AS device,
           ARRAY(SELECT a FROM unnest(ids) a WHERE starts_with(a, 'ip:')) AS ip,
           ARRAY(SELECT a FROM unnest(ids) a WHERE starts_with(a, 'email:')) AS email,
           ARRAY(SELECT a FROM unnest(ids) a WHERE starts_with(a, 'shipping:')) AS shipping
         FROM own
       ), me AS (
         -- Per kind: its identities as link_aliases holds them (tags), and bare, as its column does.
         SELECT ids, card AS card_tags, device AS device_tags, ip AS ip_tags, email AS email_tags, shipping AS shipping_tags,
           ARRAY(SELECT substr(a, 6) FROM unnest(card) a) AS card_ids,
           ARRAY(SELECT substr(a, 8) FROM unnest(device) a) AS device_ids,
           ARRAY(SELECT substr(a, 4) FROM unnest(ip) a) AS ip_ids,
           ARRAY(SELECT substr(a, 7) FROM unnest(email) a) AS email_ids,
           ARRAY(SELECT substr(a, 10) FROM unnest(shipping) a) AS shipping_ids
         FROM tagged
       ), found AS (
         SELECT c.id, c.merchant_id, c.transaction_id, c.status, c.decision, c.score, c.created_at,
           array_remove(ARRAY[
             CASE WHEN c.card_fingerprint = ANY(me.card_ids) OR c.link_aliases && me.card_tags THEN 'card' END,
             CASE WHEN c.device_key = ANY(me.device_ids) OR c.link_aliases && me.device_tags THEN 'device' END,
             CASE WHEN c.ip_key = ANY(me.ip_ids) OR c.link_aliases && me.ip_tags THEN 'ip' END,
             CASE WHEN c.email_key = ANY(me.email_ids) OR c.link_aliases && me.email_tags THEN 'email' END,
             CASE WHEN c.shipping_key = ANY(me.shipping_ids) OR c.link_aliases && me.shipping_tags THEN 'shipping' END
           ], NULL) AS via
         FROM cases c, me
         -- Identities are tagged by kind: a candidate shares one of some kind, so via is never empty.
         WHERE c.id <> $1 AND (c.card_fingerprint = ANY(me.card_ids) OR c.device_key = ANY(me.device_ids)
           OR c.ip_key = ANY(me.ip_ids) OR c.email_key = ANY(me.email_ids) OR c.shipping_key = ANY(me.shipping_ids)
           OR c.link_aliases && me.ids)
       )
       SELECT *, count(*) OVER () AS total FROM found
       ORDER BY CASE
           WHEN 'card' = ANY(via) THEN 0
           WHEN 'device' = ANY(via) THEN 1
           WHEN 'email' = ANY(via) THEN 2
           WHEN 'ip' = ANY(via) THEN 3
           ELSE 4
         END, created_at DESC, id DESC
       LIMIT $2`,
      [id, limit],
    );
    return {
      total: Number(r.rows[0]?.total ?? 0),
      cases: r.rows.map((row) => ({
        id: Number(row.id),
        merchantId: String(row.merchant_id),
        transactionId: String(row.transaction_id),
        status: row.status as CaseStatus,
        decision: row.decision as Decision,
        score: Number(row.score),
        createdAt: iso(row.created_at),
        via: row.via as LinkKind[],
      })),
    };
  }

  async stats(sinceDays: number, now = new Date()): Promise<DashboardStats> {
    const since = new Date(now.getTime() - sinceDays * 86_400_000).toISOString();
    const day = (v: unknown) => iso(v).slice(0, 10);
    const [flagged, decided, buckets, events, reasons, statuses] = await Promise.all([
      this.sql.query(
        `SELECT date_trunc('day', created_at AT TIME ZONE 'UTC') AS d, decision, count(*)::int AS n FROM cases WHERE created_at >= $1::timestamptz GROUP BY 1, 2 ORDER BY 1`,
        [since],
      ),
      this.sql.query(
        // A decision a lead reversed does not count (the status counts no longer hold it): the first
        // reversal after it, with no decision in between, is its own. Reversals are a series of their own.
        `SELECT date_trunc('day', e.at AT TIME ZONE 'UTC') AS d,
           CASE WHEN e.detail->>'reversed' = 'true' THEN 'reversed' ELSE e.detail->>'to' END AS label, count(*)::int AS n
         FROM case_events e
         WHERE e.kind = 'status' AND e.at >= $1::timestamptz
           AND (e.detail->>'reversed' = 'true' OR e.detail->>'to' IN ('fraud', 'legitimate', 'escalated'))
           AND NOT (e.detail->>'to' IN ('fraud', 'legitimate') AND EXISTS (
             SELECT 1 FROM case_events r WHERE r.case_id = e.case_id AND r.kind = 'status' AND r.id > e.id
               AND r.detail->>'reversed' = 'true'
               AND NOT EXISTS (
                 SELECT 1 FROM case_events d WHERE d.case_id = e.case_id AND d.kind = 'status'
                   AND d.id > e.id AND d.id < r.id AND d.detail->>'to' IN ('fraud', 'legitimate'))))
         GROUP BY 1, 2 ORDER BY 1`,
        [since],
      ),
      this.sql.query(
        `SELECT LEAST(score / 10, 9) AS b, count(*)::int AS n FROM cases WHERE created_at >= $1::timestamptz GROUP BY 1 ORDER BY 1`,
        [since],
      ),
      this.sql.query(
        `SELECT e AS event_id, count(*)::int AS n FROM cases, unnest(watchlist_events) AS e WHERE created_at >= $1::timestamptz GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10`,
        [since],
      ),
      this.sql.query(
        `SELECT r AS code, count(*)::int AS n FROM cases, unnest(reason_codes) AS r WHERE created_at >= $1::timestamptz GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10`,
        [since],
      ),
      this.sql.query(`SELECT status, count(*)::int AS n FROM cases GROUP BY 1 ORDER BY 1`),
    ]);
    return {
      flaggedByDay: flagged.rows.map((r) => ({ day: day(r.d), decision: r.decision as Decision, count: Number(r.n) })),
      decisionsByDay: decided.rows.map((r) => ({
        day: day(r.d),
        label: r.label as Label | 'escalated' | 'reversed',
        count: Number(r.n),
      })),
      scoreBuckets: buckets.rows.map((r) => ({ bucket: Number(r.b), count: Number(r.n) })),
      eventHits: events.rows.map((r) => ({ eventId: String(r.event_id), count: Number(r.n) })),
      topReasons: reasons.rows.map((r) => ({ code: String(r.code), count: Number(r.n) })),
      statusCounts: statuses.rows.map((r) => ({ status: r.status as CaseStatus, count: Number(r.n) })),
    };
  }

  async labelledCases(since?: string): Promise<LabelledCase[]> {
    const r = await this.sql.query(
      `SELECT l.case_id, l.merchant_id, l.transaction_id, l.label, l.decided_by, l.decided_at, c.occurred_at, c.score, c.decision, c.reason_codes,
         c.amount, c.currency, c.channel, c.card_bin, c.features
       FROM labels l JOIN cases c ON c.id = l.case_id WHERE l.withdrawn_at IS NULL AND l.decided_at >= COALESCE($1::timestamptz, '-infinity') ORDER BY l.id`,
      [since ?? null],
    );
    return r.rows.map(toLabelled);
  }

  async unpublishedLabels(limit: number): Promise<(LabelledCase & { labelId: number; withdrawnAt: string | null })[]> {
    const r = await this.sql.query(
      `SELECT l.id AS label_id, l.withdrawn_at, l.case_id, l.merchant_id, l.transaction_id, l.label, l.decided_by, l.decided_at, c.occurred_at, c.score, c.decision,
         c.reason_codes, c.amount, c.currency, c.channel, c.card_bin, c.features
       FROM labels l JOIN cases c ON c.id = l.case_id WHERE l.published_at IS NULL ORDER BY l.id LIMIT $1`,
      [limit],
    );
    return r.rows.map((row) => ({
      ...toLabelled(row),
      labelId: Number(row.label_id),
      withdrawnAt: isoOrNull(row.withdrawn_at),
    }));
  }

  async markLabelsPublished(labels: { labelId: number; withdrawnAt: string | null }[]): Promise<void> {
    // Only as they were read: a label withdrawn meanwhile (withdrawn_at is set once, and clears
    // published_at) stays to publish, lest its withdrawal be marked sent with the label it withdraws.
    const sent = labels.filter((l) => l.withdrawnAt === null).map((l) => l.labelId);
    const withdrawals = labels.filter((l) => l.withdrawnAt !== null).map((l) => l.labelId);
    if (labels.length)
      await this.sql.query(
        `UPDATE labels SET published_at = now()
         WHERE (id = ANY($1::bigint[]) AND withdrawn_at IS NULL) OR id = ANY($2::bigint[])`,
        [sent, withdrawals],
      );
  }

  async holdLabelOutbox(owner: string, leaseMs: number): Promise<boolean> {
    const r = await this.sql.query(
      `UPDATE label_outbox_lease SET owner = $1, until = now() + make_interval(secs => $2::double precision / 1000)
       WHERE owner = $1 OR until < now() RETURNING owner`,
      [owner, leaseMs],
    );
    return r.rows.length === 1;
  }

  async releaseLabelOutbox(owner: string): Promise<void> {
    await this.sql.query(`UPDATE label_outbox_lease SET until = '-infinity' WHERE owner = $1`, [owner]);
  }

  async erasePersonalData(before: Date, retentionDays: number): Promise<number> {
    // A closed case from its decision, any other (open, in review, escalated) from its creation: a
    // case nobody closes does not keep its personal data for ever. Personal data nulled (none to
    // null is fine: the case is marked done all the same, for its notes).
    let erased = 0;
    for (const [statuses, since] of [
      [`status IN ('fraud', 'legitimate')`, 'decided_at'],
      [`status NOT IN ('fraud', 'legitimate')`, 'created_at'],
    ] as const) {
      for (;;) {
        // Rows another engine is erasing right now are skipped (SKIP LOCKED): each is counted once.
        const r = await this.sql.query(
          `UPDATE cases SET personal_data = NULL, personal_data_erased_at = now(), personal_data_retention_days = $2
           WHERE id IN (SELECT id FROM cases WHERE personal_data_erased_at IS NULL AND ${statuses} AND ${since} < $1::timestamptz
             ORDER BY ${since} LIMIT $3 FOR UPDATE SKIP LOCKED)
           RETURNING id`,
          [before.toISOString(), retentionDays, ERASE_BATCH],
        );
        erased += r.rows.length;
        if (r.rows.length < ERASE_BATCH) break;
      }
    }
    return erased;
  }

  async eraseNotes(writtenBefore: Date, retentionDays: number): Promise<number> {
    let erased = 0;
    for (;;) {
      const r = await this.sql.query(
        `UPDATE case_events SET detail = jsonb_build_object('erasedAt', now(), 'retentionDays', $2::integer)
         WHERE id IN (SELECT e.id FROM case_events e JOIN cases c ON c.id = e.case_id
           WHERE e.kind = 'note' AND NOT (e.detail ? 'erasedAt') AND e.at < $1::timestamptz AND c.personal_data_erased_at IS NOT NULL
           ORDER BY e.at LIMIT $3 FOR UPDATE OF e SKIP LOCKED)
         RETURNING id`,
        [writtenBefore.toISOString(), retentionDays, ERASE_BATCH],
      );
      erased += r.rows.length;
      if (r.rows.length < ERASE_BATCH) return erased;
    }
  }

  async noteOutcomes(notes: readonly OutcomeNote[]): Promise<void> {
    if (notes.length === 0) return;
    const columns = [
      notes.map((n) => n.merchantId),
      notes.map((n) => n.transactionId),
      notes.map((n) => n.outcome),
      notes.map((n) => String(n.at)),
    ];
    await this.sql.transaction(async (tx) => {
      // A fraud chargeback waits for a decision being made on its case (which holds the row FOR
      // UPDATE and refuses an allow-listing under a chargeback): noted before the decision's check,
      // or after its commit, never in between.
      await tx.query(
        `SELECT c.id FROM cases c JOIN unnest($1::text[], $2::text[], $3::text[]) AS n(m, t, o)
           ON c.merchant_id = n.m AND c.transaction_id = n.t
         WHERE n.o = 'chargeback' ORDER BY c.id FOR KEY SHARE OF c`,
        columns.slice(0, 3),
      );
      await tx.query(
        `INSERT INTO case_outcomes (merchant_id, transaction_id, outcome, at)
         SELECT n.m, n.t, n.o, to_timestamp(n.a / 1000.0)
           FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS n(m, t, o, a)
          WHERE n.o = ANY($5::text[]) OR EXISTS (SELECT 1 FROM cases c WHERE c.merchant_id = n.m AND c.transaction_id = n.t)
         ON CONFLICT DO NOTHING`,
        [...columns, NOTED_WITHOUT_CASE],
      );
    });
  }

  outcomesOf(merchantId: string, transactionId: string): Promise<CaseOutcome[]> {
    return outcomesIn(this.sql, merchantId, transactionId);
  }

  async outcomesOfCases(ids: readonly number[]): Promise<Map<number, CaseOutcome[]>> {
    const found = new Map<number, CaseOutcome[]>();
    if (ids.length === 0) return found;
    const r = await this.sql.query<{ id: unknown; outcome: string; at: unknown }>(
      `SELECT c.id, o.outcome, o.at FROM cases c JOIN case_outcomes o USING (merchant_id, transaction_id)
        WHERE c.id = ANY($1::bigint[]) ORDER BY o.at`,
      [ids],
    );
    for (const row of r.rows) {
      const id = Number(row.id);
      found.set(id, [...(found.get(id) ?? []), { outcome: row.outcome, at: iso(row.at) }]);
    }
    return found;
  }

  async pruneOutcomes(notedBefore: Date): Promise<number> {
    const r = await this.sql.query(
      `DELETE FROM case_outcomes o WHERE o.noted_at < $1::timestamptz
          AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.merchant_id = o.merchant_id AND c.transaction_id = o.transaction_id)`,
      [notedBefore.toISOString()],
    );
    return r.rowCount;
  }

  async sealPersonalDataInClear(): Promise<number> {
    const cipher = this.cipher;
    if (!cipher)
      throw new Error(
        'the case store was opened without a personal-data key (LEAKGUARD_DATA_KEY): it cannot seal personal data',
      );
    let sealed = 0;
    for (;;) {
      const n = await this.sql.transaction(async (tx) => {
        const rows = await tx.query(
          `SELECT id, merchant_id, transaction_id, transaction FROM cases WHERE ${IN_CLEAR} ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED`,
        );
        for (const row of rows.rows) {
          const { request, personal } = splitPersonalData(json<Record<string, unknown>>(row.transaction));
          // A case erased already keeps nothing; otherwise the clear data become its sealed data.
          await tx.query(
            `UPDATE cases SET transaction = $2::jsonb, personal_data = CASE WHEN personal_data_erased_at IS NULL THEN COALESCE(personal_data, $3) END WHERE id = $1`,
            [
              Number(row.id),
              JSON.stringify(request),
              personal
                ? cipher.seal(personal, personalDataBinding(String(row.merchant_id), String(row.transaction_id)))
                : null,
            ],
          );
        }
        return rows.rows.length;
      });
      sealed += n;
      if (n < 500) return sealed;
    }
  }

  async count(): Promise<number> {
    const r = await this.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM cases');
    return Number(r.rows[0]?.n ?? 0);
  }
}

/** A decision's or a reversal's effects on the case's transaction: what goes on (or comes off) the lists, and its label. */
function effectsOf(
  record: CaseRecord,
  label: Label,
  negative: DecisionEffects['negative'],
  negativeUntil: string | null,
  allow: DecisionEffects['allow'],
): DecisionEffects {
  return {
    caseId: record.id,
    merchantId: record.merchantId,
    transactionId: record.transactionId,
    label,
    card: record.card.fingerprint,
    occurredAt: record.occurredAt,
    negative,
    negativeUntil,
    allow,
  };
}
