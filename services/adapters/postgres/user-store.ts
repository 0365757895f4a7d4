// Console users and sessions on PostgreSQL.
import {
  CODE_FAILURE_WINDOW_MS,
  UserExists,
  type ConsoleRole,
  type ConsoleUser,
  type SessionEnd,
  type SessionView,
  type StoredUser,
  type UserStore,
} from '../../cases/users.ts';
import type { Queryable, SqlClient } from './sql-client.ts';

type Row = Record<string, unknown>;
/** An admin who can sign in: enabled and enrolled (an enrolment pending, its code perhaps lost, administers nothing). */
const ACTIVE_ADMIN = `role = 'admin' AND NOT disabled AND password_hash <> ''`;
const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());
// Failures and locks are kept per client address (console_login_failures); a user shows their sum and latest lock.
const USER_COLUMNS = `username, role, disabled, created_at, updated_at,
  (SELECT COALESCE(sum(f.failed_attempts), 0)::int FROM console_login_failures f WHERE f.username = console_users.username) AS failed_attempts,
  (SELECT max(f.locked_until) FROM console_login_failures f WHERE f.username = console_users.username AND f.locked_until > now()) AS locked_until,
  (SELECT count(*)::int FROM console_code_failures c WHERE c.username = console_users.username AND c.at > now() - interval '${CODE_FAILURE_WINDOW_MS} milliseconds') AS code_failed_attempts,
  CASE WHEN code_locked_until > now() THEN code_locked_until END AS code_locked_until,
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
    const r = await this.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM console_users WHERE ${ACTIVE_ADMIN}`);
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
    const windowMs = Math.max(CODE_FAILURE_WINDOW_MS, lockMs);
    // Under the user's row lock, so that concurrent guesses from many addresses are all counted and
    // only one of them starts the lock.
    return this.sql.transaction(async (tx) => {
      const u = await tx.query<{ held: boolean }>(
        'SELECT COALESCE(code_locked_until > now(), false) AS held FROM console_users WHERE username = $1 FOR UPDATE',
        [username],
      );
      if (!u.rows[0]) return { attempts: 0, lockedUntil: null, lockedNow: false };
      await tx.query(
        `DELETE FROM console_code_failures WHERE username = $1 AND at <= now() - ($2::bigint * interval '1 millisecond')`,
        [username, windowMs],
      );
      await tx.query('INSERT INTO console_code_failures (username) VALUES ($1)', [username]);
      const c = await tx.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM console_code_failures WHERE username = $1',
        [username],
      );
      const attempts = Number(c.rows[0]?.n ?? 0);
      const lockedNow = attempts >= maxAttempts && !u.rows[0].held;
      const r = await tx.query<{ locked_until: unknown }>(
        `UPDATE console_users SET code_failures_unreported = code_failures_unreported + 1,
           code_locked_until = CASE WHEN $2 THEN now() + ($3::bigint * interval '1 millisecond') ELSE code_locked_until END
         WHERE username = $1
         RETURNING CASE WHEN code_locked_until > now() THEN code_locked_until END AS locked_until`,
        [username, lockedNow, lockMs],
      );
      const until = r.rows[0]?.locked_until;
      return { attempts, lockedUntil: until ? iso(until) : null, lockedNow };
    });
  }

  async recordSuccess(username: string, totpStep: number, address: string): Promise<'ok' | 'reused' | 'locked'> {
    return this.sql.transaction(async (tx) => {
      // Under the row lock recordCodeFailure takes: a burst of guesses read the account unlocked
      // before the tenth wrong code locked it, and a right code among them must not get through.
      const u = await tx.query<{ locked: boolean; step: number }>(
        'SELECT COALESCE(code_locked_until > now(), false) AS locked, last_totp_step AS step FROM console_users WHERE username = $1 FOR UPDATE',
        [username],
      );
      const row = u.rows[0];
      if (!row) return 'reused';
      if (row.locked) return 'locked';
      if (Number(row.step) >= totpStep) return 'reused';
      await tx.query('UPDATE console_users SET last_totp_step = $2, updated_at = now() WHERE username = $1', [
        username,
        totpStep,
      ]);
      // The wrong codes stay: they are counted over their window, across sign-ins (CODE_FAILURE_WINDOW_MS).
      await tx.query('DELETE FROM console_login_failures WHERE username = $1 AND address = $2', [username, address]);
      return 'ok';
    });
  }

  async takeUnreportedCodeFailures(username: string): Promise<number> {
    const r = await this.sql.query<{ n: number }>(
      `UPDATE console_users u SET code_failures_unreported = 0
       FROM (SELECT username, code_failures_unreported AS n FROM console_users WHERE username = $1 FOR UPDATE) old
       WHERE u.username = old.username
       RETURNING old.n`,
      [username],
    );
    return Number(r.rows[0]?.n ?? 0);
  }

  async issueEnrolment(username: string, codeHash: string, ttlMs: number): Promise<ConsoleUser | undefined> {
    return this.sql.transaction(async (tx) => {
      await tx.query('DELETE FROM console_login_failures WHERE username = $1', [username]);
      await tx.query('DELETE FROM console_code_failures WHERE username = $1', [username]);
      const r = await tx.query(
        `UPDATE console_users SET password_hash = '', totp_secret = '', last_totp_step = 0,
           code_locked_until = NULL,
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
    return this.sql.transaction((tx) => this.updateIn(tx, username, c));
  }

  async updateKeepingAnAdmin(
    username: string,
    c: { role?: ConsoleRole; disabled?: boolean },
  ): Promise<ConsoleUser | undefined | 'last_admin'> {
    return this.sql.transaction(async (tx) => {
      // Every admin who can sign in, their rows locked in one order: a concurrent demotion or
      // disable waits here, then reads the admins as that one left them (two admins demoting each
      // other at once: the second finds itself the last, and is refused).
      const r = await tx.query<{ username: string }>(
        `SELECT username FROM console_users WHERE ${ACTIVE_ADMIN} ORDER BY username FOR UPDATE`,
      );
      const admins = r.rows.map((row) => row.username);
      const removes =
        admins.includes(username) && (c.disabled === true || (c.role !== undefined && c.role !== 'admin'));
      if (removes && admins.length <= 1) return 'last_admin';
      return this.updateIn(tx, username, c);
    });
  }

  private async updateIn(
    tx: Queryable,
    username: string,
    c: { role?: ConsoleRole; disabled?: boolean; passwordHash?: string; totpSecret?: string; unlock?: boolean },
  ): Promise<ConsoleUser | undefined> {
    if (c.unlock) {
      await tx.query('DELETE FROM console_login_failures WHERE username = $1', [username]);
      await tx.query('DELETE FROM console_code_failures WHERE username = $1', [username]);
      await tx.query('UPDATE console_users SET code_locked_until = NULL WHERE username = $1', [username]);
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
  }

  async createSession(
    tokenHash: string,
    username: string,
    csrfToken: string,
    extra: { wrongCodesBefore?: number; draft?: Record<string, unknown>; passwordHash?: string } = {},
  ): Promise<boolean> {
    // FOR SHARE: a reset or password change committing meanwhile is waited for and its row read, so
    // a session is either refused here or made before it and deleted by its revocation.
    const r = await this.sql.query(
      `INSERT INTO console_sessions (token_hash, username, csrf_token, wrong_codes_before, resume_draft)
       SELECT $1, username, $3, $4, $5::jsonb FROM console_users
       WHERE username = $2 AND NOT disabled AND ($6::text IS NULL OR password_hash = $6)
       FOR SHARE`,
      [
        tokenHash,
        username,
        csrfToken,
        extra.wrongCodesBefore ?? 0,
        extra.draft ? JSON.stringify(extra.draft) : null,
        extra.passwordHash ?? null,
      ],
    );
    return r.rowCount === 1;
  }

  async takeSessionDraft(tokenHash: string): Promise<unknown> {
    const r = await this.sql.query<{ draft: unknown }>(
      `UPDATE console_sessions s SET resume_draft = NULL
       FROM (SELECT token_hash, resume_draft AS draft FROM console_sessions WHERE token_hash = $1 FOR UPDATE) old
       WHERE s.token_hash = old.token_hash AND old.draft IS NOT NULL
       RETURNING old.draft`,
      [tokenHash],
    );
    const draft = r.rows[0]?.draft;
    return typeof draft === 'string' ? (JSON.parse(draft) as unknown) : (draft ?? undefined);
  }

  async readSessionDraft(tokenHash: string): Promise<unknown> {
    const r = await this.sql.query<{ draft: unknown }>(
      'SELECT resume_draft AS draft FROM console_sessions WHERE token_hash = $1',
      [tokenHash],
    );
    const draft = r.rows[0]?.draft;
    return typeof draft === 'string' ? (JSON.parse(draft) as unknown) : (draft ?? undefined);
  }

  async keepSessionDraft(tokenHash: string, draft: Record<string, unknown> | null): Promise<void> {
    // Clearing a session that has no draft writes nothing: every recorded decision clears.
    await this.sql.query(
      'UPDATE console_sessions SET resume_draft = $2::jsonb WHERE token_hash = $1 AND (resume_draft IS NOT NULL OR $2::jsonb IS NOT NULL)',
      [tokenHash, draft ? JSON.stringify(draft) : null],
    );
  }

  async touchSession(
    tokenHash: string,
    idleMs: number,
    maxAgeMs: number,
  ): Promise<SessionView | SessionEnd | undefined> {
    const r = await this.sql.query<{
      username: string;
      role: ConsoleRole;
      csrf_token: string;
      wrong_codes_before: number;
    }>(
      `UPDATE console_sessions s SET last_seen_at = clock_timestamp()
       FROM console_users u
       WHERE s.token_hash = $1 AND u.username = s.username AND NOT u.disabled
         AND s.last_seen_at > clock_timestamp() - ($2::bigint * interval '1 millisecond')
         AND s.created_at > clock_timestamp() - ($3::bigint * interval '1 millisecond')
       RETURNING s.username, u.role, s.csrf_token, s.wrong_codes_before`,
      [tokenHash, idleMs, maxAgeMs],
    );
    const row = r.rows[0];
    if (row) {
      const wrongCodesBefore = Number(row.wrong_codes_before);
      return {
        username: row.username,
        role: row.role,
        csrfToken: row.csrf_token,
        ...(wrongCodesBefore > 0 ? { wrongCodesBefore } : {}),
      };
    }
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
