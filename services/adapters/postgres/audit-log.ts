// The audit log on PostgreSQL: appends serialised by an advisory lock so that seq and the chain
// have no gaps or forks; UPDATE, DELETE and TRUNCATE are refused by triggers (and, with
// DATABASE_MIGRATION_URL, not granted to the application's role at all); a cut tail or a rewrite
// is found against the signed checkpoints (cases/audit-checkpoints.ts).
import {
  ChainVerifier,
  chainHash,
  GENESIS_HASH,
  type AuditEntry,
  type AuditInput,
  type AuditLog,
  type ChainCheck,
  type CheckpointSource,
} from '../../cases/audit.ts';
import { furthest } from '../../cases/audit-checkpoints.ts';
import { scrubCardNumbers, scrubDeep } from '../../core/scrub.ts';
import type { Queryable, SqlClient } from './sql-client.ts';

const LOCK_ID = 7_166_232_002;
type Row = Record<string, unknown>;

function rawEntry(r: Row): AuditEntry {
  return {
    seq: Number(r.seq),
    at: r.at instanceof Date ? r.at.toISOString() : new Date(String(r.at)).toISOString(),
    actor: String(r.actor),
    action: String(r.action),
    target: String(r.target),
    detail: (typeof r.detail === 'string' ? JSON.parse(r.detail) : r.detail) as Record<string, unknown>,
    prevHash: String(r.prev_hash),
    hash: String(r.hash),
  };
}

/**
 * An entry as it is read or exported: scrubbed of card numbers. Entries are scrubbed when they are
 * appended, so this changes nothing (and the hash still matches) except in an entry an older
 * version wrote with a card number in it; verify() reads the raw rows.
 */
function toEntry(r: Row): AuditEntry {
  const e = rawEntry(r);
  return { ...e, actor: scrubCardNumbers(e.actor), target: scrubCardNumbers(e.target), detail: scrubDeep(e.detail) };
}

/**
 * Appends an entry inside the caller's transaction: committed with what it records (a decision and
 * its audit entry commit together, or neither does). Serialised by the append lock, held until
 * that transaction ends. `once`: unless an entry with the same action and target exists.
 */
export async function appendAuditIn(
  tx: Queryable,
  input: AuditInput,
  options: { once?: boolean; now?: () => Date } = {},
): Promise<AuditEntry | null> {
  const target = scrubCardNumbers(input.target ?? '');
  const now = options.now ?? (() => new Date());
  await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_ID]);
  // Checked under the append lock: two engines catching up on the same change append it once.
  if (
    options.once &&
    (await tx.query('SELECT 1 FROM audit_log WHERE action = $1 AND target = $2 LIMIT 1', [input.action, target])).rows
      .length > 0
  ) {
    return null;
  }
  const last = await tx.query<{ seq: number; hash: string }>(
    'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
  );
  const prev = last.rows[0];
  // JSON round trip: what is hashed is exactly what JSONB gives back (no undefined, no Dates).
  // Scrubbed before hashing: an entry holds no card number (a username field can hold anything).
  const detail = scrubDeep(JSON.parse(JSON.stringify(input.detail ?? {})) as Record<string, unknown>);
  const body = {
    seq: prev ? Number(prev.seq) + 1 : 1,
    at: now().toISOString(),
    actor: scrubCardNumbers(input.actor),
    action: input.action,
    target,
    detail,
  };
  const prevHash = prev ? String(prev.hash) : GENESIS_HASH;
  const hash = chainHash(prevHash, body);
  await tx.query(
    'INSERT INTO audit_log (seq, at, actor, action, target, detail, prev_hash, hash) VALUES ($1, $2::timestamptz, $3, $4, $5, $6::jsonb, $7, $8)',
    [body.seq, body.at, body.actor, body.action, body.target, JSON.stringify(detail), prevHash, hash],
  );
  return { ...body, prevHash, hash };
}

export class PostgresAuditLog implements AuditLog {
  private readonly sql: SqlClient;
  private readonly now: () => Date;
  private readonly checkpoints: CheckpointSource | undefined;
  /** `checkpoints`: what verify() checks the log against, besides its own chain. */
  constructor(sql: SqlClient, now: () => Date = () => new Date(), checkpoints?: CheckpointSource) {
    this.sql = sql;
    this.now = now;
    this.checkpoints = checkpoints;
  }

  append(input: AuditInput): Promise<AuditEntry> {
    return this.appendUnlessPresent(input, false) as Promise<AuditEntry>;
  }

  appendOnce(input: AuditInput): Promise<AuditEntry | null> {
    return this.appendUnlessPresent(input, true);
  }

  async targets(action: string): Promise<Set<string>> {
    const r = await this.sql.query<{ target: string }>('SELECT DISTINCT target FROM audit_log WHERE action = $1', [
      action,
    ]);
    return new Set(r.rows.map((row) => String(row.target)));
  }

  private appendUnlessPresent(input: AuditInput, once: boolean): Promise<AuditEntry | null> {
    return this.sql.transaction((tx) => appendAuditIn(tx, input, { once, now: this.now }));
  }

  async list(options: { beforeSeq?: number; limit: number; action?: string; actor?: string }): Promise<AuditEntry[]> {
    const r = await this.sql.query(
      `SELECT seq, at, actor, action, target, detail, prev_hash, hash FROM audit_log
       WHERE seq < COALESCE($1::bigint, 9223372036854775807) AND ($2::text IS NULL OR action = $2) AND ($3::text IS NULL OR actor = $3)
       ORDER BY seq DESC LIMIT $4`,
      [options.beforeSeq ?? null, options.action ?? null, options.actor ?? null, options.limit],
    );
    return r.rows.map(toEntry);
  }

  async scan(fn: (page: AuditEntry[]) => Promise<void> | void, pageSize = 1000): Promise<void> {
    for await (const page of this.pages(pageSize)) await fn(page);
  }

  async *pages(pageSize = 1000): AsyncGenerator<AuditEntry[], void, undefined> {
    let after = 0;
    for (;;) {
      // Keyset paging (seq > last seen): each page is one indexed range read, however deep.
      const r = await this.sql.query(
        'SELECT seq, at, actor, action, target, detail, prev_hash, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2',
        [after, pageSize],
      );
      if (r.rows.length === 0) return;
      const page = r.rows.map(toEntry);
      yield page;
      after = page[page.length - 1]!.seq;
    }
  }

  async head(): Promise<{ seq: number; hash: string } | null> {
    const r = await this.sql.query<{ seq: number; hash: string }>(
      'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
    );
    return r.rows[0] ? { seq: Number(r.rows[0].seq), hash: String(r.rows[0].hash) } : null;
  }

  async hashAt(seq: number): Promise<string | null> {
    const r = await this.sql.query<{ hash: string }>('SELECT hash FROM audit_log WHERE seq = $1', [seq]);
    return r.rows[0] ? String(r.rows[0].hash) : null;
  }

  async verify(): Promise<ChainCheck> {
    // The checkpoints first: one written after the scan would name an entry the scan never saw.
    const reading = await this.checkpoints?.read();
    const verifier = new ChainVerifier(reading?.valid);
    let broken: ReturnType<ChainVerifier['check']> = null;
    let after = 0;
    while (!broken) {
      const r = await this.sql.query(
        'SELECT seq, at, actor, action, target, detail, prev_hash, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000',
        [after],
      );
      if (r.rows.length === 0) break;
      const page = r.rows.map(rawEntry);
      broken = verifier.check(page);
      after = page[page.length - 1]!.seq;
    }
    broken ??= verifier.finish();
    if (!reading)
      return broken ? { ok: false, checked: verifier.checked, ...broken } : { ok: true, checked: verifier.checked };
    const latest = furthest(reading.valid);
    const checkpoints = {
      file: reading.file,
      valid: reading.valid.length,
      ...(latest ? { latest: { seq: latest.seq, hash: latest.hash, at: latest.at } } : {}),
      ...(reading.missing ? { missing: true as const } : {}),
    };
    const also = reading.problems.map((p) => p.reason);
    if (broken)
      return { ok: false, checked: verifier.checked, ...broken, ...(also.length > 0 ? { also } : {}), checkpoints };
    // A checkpoint that is not genuine fails the check even when the log is whole: someone wrote to the file.
    const [first, ...rest] = reading.problems;
    if (first)
      return {
        ok: false,
        checked: verifier.checked,
        brokenAt: first.seq ?? 0,
        reason: first.reason,
        problem: 'checkpoint',
        ...(rest.length > 0 ? { also: rest.map((p) => p.reason) } : {}),
        checkpoints,
      };
    return { ok: true, checked: verifier.checked, checkpoints };
  }
}
