// Console users and sessions on PostgreSQL.
import {
  UserExists,
  type ConsoleRole,
  type ConsoleUser,
  type SessionEnd,
  type SessionView,
  type StoredUser,
  type UserStore,
} from '../../cases/users.ts';
import type { SqlClient } from './sql-client.ts';

type Row = Record<string, unknown>;
const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());
// Failures and locks are kept per client address (console_login_failures); a user shows their sum and latest lock.
const USER_COLUMNS = `username, role, disabled, created_at, updated_at,
  (SELECT COALESCE(sum(f.failed_attempts), 0)::int FROM console_login_failures f WHERE f.username = console_users.username) AS failed_attempts,
  (SELECT max(f.locked_until) FROM console_login_failures f WHERE f.username = console_users.username AND f.locked_until > now()) AS locked_until,
  code_failed_attempts, CASE WHEN code_locked_until > now() THEN code_locked_until END AS code_locked_until,
  password_hash = '' AS enrolment_pending, CASE WHEN enrolment_expires_at > now() THEN enrolment_expires_at END AS enrolment_expires_at`;

function toUser(r: Row): ConsoleUser {
  return {
    username: String(r.username),
    role: r.role as ConsoleRole,
    disabled: Boolean(r.disabled),
    failedAttempts: Number(r.failed_attempts),
    lockedUntil: r.locked_until ? iso(r.locked_until) : null,
    codeFailures: Number(r.code_failed_attempts ?? 0),
    codeLockedUntil: r.code_locked_until ? iso(r.code_locked_until) : null,
    enrolmentPending: Boolean(r.enrolment_pending),
    enrolmentExpiresAt: r.enrolment_expires_at ? iso(r.enrolment_expires_at) : null,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

export class PostgresUserStore implements UserStore {
  private readonly sql: SqlClient;
  constructor(sql: SqlClient) {
    this.sql = sql;
  }

  async create(u: {
    username: string;
    role: ConsoleRole;
    passwordHash: string;
    totpSecret: string;
  }): Promise<ConsoleUser> {
    const r = await this.sql.query(
      `INSERT INTO console_users (username, role, password_hash, totp_secret) VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING RETURNING ${USER_COLUMNS}`,
      [u.username, u.role, u.passwordHash, u.totpSecret],
    );
    if (!r.rows[0]) throw new UserExists(`user ${u.username} already exists`);
    return toUser(r.rows[0]);
  }

  async find(username: string): Promise<StoredUser | undefined> {
    const r = await this.sql.query(
      `SELECT ${USER_COLUMNS}, password_hash, totp_secret, last_totp_step, enrolment_hash FROM console_users WHERE username = $1`,
      [username],
    );
    const row = r.rows[0];
    return row
      ? {
          ...toUser(row),
          passwordHash: String(row.password_hash),
          totpSecret: String(row.totp_secret),
          lastTotpStep: Number(row.last_totp_step),
          enrolmentHash: (row.enrolment_hash as string | null) ?? null,
        }
      : undefined;
  }

  async list(): Promise<ConsoleUser[]> {
    const r = await this.sql.query(`SELECT ${USER_COLUMNS} FROM console_users ORDER BY username`);
    return r.rows.map(toUser);
  }

  async countAdmins(): Promise<number> {
    const r = await this.sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM console_users WHERE role = 'admin' AND NOT disabled`,
    );
    return Number(r.rows[0]?.n ?? 0);
  }

  async recordFailure(
    username: string,
    address: string,
    maxAttempts: number,
    lockMs: number,
  ): Promise<{ locked: boolean; attempts: number }> {
    const r = await this.sql.query<{ failed_attempts: number; locked: boolean }>(
      `INSERT INTO console_login_failures AS f (username, address, failed_attempts, locked_until)
         SELECT username, $2, 1, CASE WHEN 1 >= $3 THEN now() + ($4::bigint * interval '1 millisecond') END FROM console_users WHERE username = $1
       ON CONFLICT (username, address) DO UPDATE SET
         failed_attempts = f.failed_attempts + 1,
         locked_until = CASE WHEN f.failed_attempts + 1 >= $3 THEN now() + ($4::bigint * interval '1 millisecond') ELSE f.locked_until END,
         updated_at = now()
       RETURNING failed_attempts, (locked_until IS NOT NULL AND locked_until > now()) AS locked`,
      [username, address, maxAttempts, lockMs],
    );
    // Addresses whose failures are older than a lockout and hold no lock are forgotten.
    await this.sql.query(
      `DELETE FROM console_login_failures WHERE username = $1 AND address <> $2 AND updated_at < now() - ($3::bigint * interval '1 millisecond') AND (locked_until IS NULL OR locked_until < now())`,
      [username, address, lockMs],
    );
    const row = r.rows[0];
    return { locked: Boolean(row?.locked), attempts: Number(row?.failed_attempts ?? 0) };
  }

  async loginLock(username: string, address: string): Promise<string | null> {
    const r = await this.sql.query<{ locked_until: unknown }>(
      'SELECT locked_until FROM console_login_failures WHERE username = $1 AND address = $2 AND locked_until > now()',
      [username, address],
    );
    const until = r.rows[0]?.locked_until;
    return until ? iso(until) : null;
  }

  async recordCodeFailure(
    username: string,
    maxAttempts: number,
    lockMs: number,
  ): Promise<{ attempts: number; lockedUntil: string | null; lockedNow: boolean }> {
    // One statement, so that concurrent guesses from many addresses are all counted. A lock that
    // has run out starts the count again.
    const r = await this.sql.query<{ attempts: number; locked_until: unknown }>(
      `WITH c AS (
         SELECT username, CASE WHEN code_locked_until <= now() THEN 1 ELSE code_failed_attempts + 1 END AS n,
                CASE WHEN code_locked_until > now() THEN code_locked_until END AS held
         FROM console_users WHERE username = $1 FOR UPDATE)
       UPDATE console_users u SET
         code_failed_attempts = c.n,
         code_locked_until = CASE WHEN c.n >= $2 THEN COALESCE(c.held, now() + ($3::bigint * interval '1 millisecond')) ELSE c.held END
       FROM c WHERE u.username = c.username
       RETURNING c.n AS attempts, u.code_locked_until AS locked_until`,
      [username, maxAttempts, lockMs],
    );
    const row = r.rows[0];
    const attempts = Number(row?.attempts ?? 0);
    return {
      attempts,
      lockedUntil: row?.locked_until ? iso(row.locked_until) : null,
      // Only the failure that reached the limit locks: the lock is reported (audited, counted) once.
      lockedNow: attempts === maxAttempts,
    };
  }

  async recordSuccess(username: string, totpStep: number, address: string): Promise<boolean> {
    return this.sql.transaction(async (tx) => {
      const r = await tx.query(
        'UPDATE console_users SET last_totp_step = $2, updated_at = now() WHERE username = $1 AND last_totp_step < $2',
        [username, totpStep],
      );
      if (r.rowCount !== 1) return false;
      await tx.query('DELETE FROM console_login_failures WHERE username = $1 AND address = $2', [username, address]);
      await tx.query(
        'UPDATE console_users SET code_failed_attempts = 0, code_locked_until = NULL WHERE username = $1',
        [username],
      );
      return true;
    });
  }

  async issueEnrolment(username: string, codeHash: string, ttlMs: number): Promise<ConsoleUser | undefined> {
    return this.sql.transaction(async (tx) => {
      await tx.query('DELETE FROM console_login_failures WHERE username = $1', [username]);
      const r = await tx.query(
        `UPDATE console_users SET password_hash = '', totp_secret = '', last_totp_step = 0,
           code_failed_attempts = 0, code_locked_until = NULL,
           enrolment_hash = $2, enrolment_expires_at = now() + ($3::bigint * interval '1 millisecond'), updated_at = now()
         WHERE username = $1 RETURNING ${USER_COLUMNS}`,
        [username, codeHash, ttlMs],
      );
      return r.rows[0] ? toUser(r.rows[0]) : undefined;
    });
  }

  async completeEnrolment(
    username: string,
    codeHash: string,
    c: { passwordHash: string; totpSecret: string; totpStep: number },
  ): Promise<boolean> {
    // One statement: two tabs posting the same code cannot both use it.
    const r = await this.sql.query(
      `UPDATE console_users SET password_hash = $3, totp_secret = $4, last_totp_step = $5,
         enrolment_hash = NULL, enrolment_expires_at = NULL, updated_at = now()
       WHERE username = $1 AND enrolment_hash = $2 AND enrolment_expires_at > now() AND NOT disabled`,
      [username, codeHash, c.passwordHash, c.totpSecret, c.totpStep],
    );
    return r.rowCount === 1;
  }

  async update(
    username: string,
    c: { role?: ConsoleRole; disabled?: boolean; passwordHash?: string; totpSecret?: string; unlock?: boolean },
  ): Promise<ConsoleUser | undefined> {
    return this.sql.transaction(async (tx) => {
      if (c.unlock) {
        await tx.query('DELETE FROM console_login_failures WHERE username = $1', [username]);
        await tx.query(
          'UPDATE console_users SET code_failed_attempts = 0, code_locked_until = NULL WHERE username = $1',
          [username],
        );
      }
      const r = await tx.query(
        `UPDATE console_users SET
           role = COALESCE($2, role),
           disabled = COALESCE($3, disabled),
           password_hash = COALESCE($4, password_hash),
           totp_secret = COALESCE($5, totp_secret),
           last_totp_step = CASE WHEN $5::text IS NULL THEN last_totp_step ELSE 0 END,
           enrolment_hash = CASE WHEN $4::text IS NULL THEN enrolment_hash END,
           enrolment_expires_at = CASE WHEN $4::text IS NULL THEN enrolment_expires_at END,
           updated_at = now()
         WHERE username = $1 RETURNING ${USER_COLUMNS}`,
        [username, c.role ?? null, c.disabled ?? null, c.passwordHash ?? null, c.totpSecret ?? null],
      );
      return r.rows[0] ? toUser(r.rows[0]) : undefined;
    });
  }

  async createSession(tokenHash: string, username: string, csrfToken: string): Promise<void> {
    await this.sql.query('INSERT INTO console_sessions (token_hash, username, csrf_token) VALUES ($1, $2, $3)', [
      tokenHash,
      username,
      csrfToken,
    ]);
  }

  async touchSession(
    tokenHash: string,
    idleMs: number,
    maxAgeMs: number,
  ): Promise<SessionView | SessionEnd | undefined> {
    const r = await this.sql.query<{ username: string; role: ConsoleRole; csrf_token: string }>(
      `UPDATE console_sessions s SET last_seen_at = clock_timestamp()
       FROM console_users u
       WHERE s.token_hash = $1 AND u.username = s.username AND NOT u.disabled
         AND s.last_seen_at > clock_timestamp() - ($2::bigint * interval '1 millisecond')
         AND s.created_at > clock_timestamp() - ($3::bigint * interval '1 millisecond')
       RETURNING s.username, u.role, s.csrf_token`,
      [tokenHash, idleMs, maxAgeMs],
    );
    const row = r.rows[0];
    if (row) return { username: row.username, role: row.role, csrfToken: row.csrf_token };
    // Idle wins when both passed: a session left overnight idled out first.
    const gone = await this.sql.query<{ idle: boolean; old: boolean }>(
      `DELETE FROM console_sessions WHERE token_hash = $1
       RETURNING last_seen_at <= clock_timestamp() - ($2::bigint * interval '1 millisecond') AS idle,
                 created_at <= clock_timestamp() - ($3::bigint * interval '1 millisecond') AS old`,
      [tokenHash, idleMs, maxAgeMs],
    );
    const ended = gone.rows[0];
    if (!ended) return undefined;
    // A disabled user's session (normally deleted with it) still ends as 'expired', as before.
    return ended.old && !ended.idle ? 'max_age' : 'expired';
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.sql.query('DELETE FROM console_sessions WHERE token_hash = $1', [tokenHash]);
  }

  async deleteSessionsOf(username: string): Promise<void> {
    await this.sql.query('DELETE FROM console_sessions WHERE username = $1', [username]);
  }
}
