// Console users, roles and sessions: the ports the review console needs from a store.
import { z } from 'zod';
import { containsCardNumber } from '../core/scrub.ts';
import { LeakguardError, type LeakguardErrorOptions } from '../core/errors.ts';

export const CONSOLE_ROLES = ['analyst', 'lead', 'admin'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];
const RANK: Record<ConsoleRole, number> = { analyst: 1, lead: 2, admin: 3 };
export const atLeast = (role: ConsoleRole, needed: ConsoleRole) => RANK[role] >= RANK[needed];

export const usernameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9._-]{3,64}$/, 'must be 3-64 lowercase letters, digits, . _ or -')
  // Usernames are stored and shown everywhere: never a card number.
  .refine((v) => !containsCardNumber(v), 'must not contain a card number');

export interface ConsoleUser {
  username: string;
  role: ConsoleRole;
  disabled: boolean;
  /** Failed sign-ins not yet cleared, from every address. */
  failedAttempts: number;
  /** The latest lock in force for any client address (accounts are locked per address), or null. */
  lockedUntil: string | null;
  /**
   * Wrong TOTP codes after a right password, from every address, within the last
   * CODE_FAILURE_WINDOW_MS (a sign-in does not clear them; an admin's unlock does).
   */
  codeFailures: number;
  /** Until when the second factor is locked for every address (wrong codes), or null. */
  codeLockedUntil: string | null;
  /**
   * No password and no second factor yet: created or reset by an admin, waiting for its user to
   * enrol with the one-time code (until `enrolmentExpiresAt`; null when none is valid any more).
   */
  enrolmentPending: boolean;
  enrolmentExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface StoredUser extends ConsoleUser {
  passwordHash: string;
  totpSecret: string;
  lastTotpStep: number;
  /** SHA-256 of the pending enrolment code (session.ts tokenHash), or null. */
  enrolmentHash: string | null;
}

/** Why a session that exists was refused: idled out, or older than its absolute lifetime. */
export type SessionEnd = 'expired' | 'max_age';

export interface SessionView {
  username: string;
  role: ConsoleRole;
  csrfToken: string;
  /** Wrong authenticator codes given with the user's password between their previous sign-in and this session's; absent when none. */
  wrongCodesBefore?: number;
}

/**
 * The rolling window over which wrong codes given with the right password count towards the
 * second factor's lock (at least the lockout itself). A successful sign-in does not reset it: were
 * it reset, whoever holds a password could try `maxAttempts - 1` codes per genuine sign-in, for ever.
 */
export const CODE_FAILURE_WINDOW_MS = 24 * 60 * 60 * 1000;

export class UserExists extends LeakguardError {
  constructor(message: string, options?: LeakguardErrorOptions) {
    super('USER_EXISTS', message, options);
  }
}

export interface UserStore {
  create(user: { username: string; role: ConsoleRole; passwordHash: string; totpSecret: string }): Promise<ConsoleUser>;
  find(username: string): Promise<StoredUser | undefined>;
  list(): Promise<ConsoleUser[]>;
  /** Admins who can sign in: enabled and enrolled (one whose enrolment is pending administers nothing yet). */
  countAdmins(): Promise<number>;
  /**
   * Counts a failure from one client address; locks the account for that address for `lockMs` once
   * `maxAttempts` failures came from it. Other addresses are not locked out.
   */
  recordFailure(
    username: string,
    address: string,
    maxAttempts: number,
    lockMs: number,
  ): Promise<{ locked: boolean; attempts: number }>;
  /** Until when the account is locked for this client address (ISO), or null. */
  loginLock(username: string, address: string): Promise<string | null>;
  /**
   * Counts a wrong code given with the right password, for the account across every address, and
   * towards the owner's next sign-in notice; locks the second factor for every address for `lockMs`
   * when `maxAttempts` or more were counted within the rolling window (the longer of
   * CODE_FAILURE_WINDOW_MS and `lockMs`), whatever sign-ins came between. `attempts`: the count in
   * the window; `lockedNow`: this failure started a lock (after a lock runs out, the next wrong code
   * within the window locks again).
   */
  recordCodeFailure(
    username: string,
    maxAttempts: number,
    lockMs: number,
  ): Promise<{ attempts: number; lockedUntil: string | null; lockedNow: boolean }>;
  /**
   * A right code: clears the address's failures and records the TOTP step, under the user's row
   * lock. 'reused' when the step was already used (replay), 'locked' when the second factor is
   * locked now (a code checked while other attempts were locking it: nothing recorded). The wrong
   * codes stay counted.
   */
  recordSuccess(username: string, totpStep: number, address: string): Promise<'ok' | 'reused' | 'locked'>;
  /** The wrong codes counted since the last call (the owner's previous sign-in), and clears that number. */
  takeUnreportedCodeFailures(username: string): Promise<number>;
  /**
   * Replaces the account's password and second factor by a pending enrolment: no password or code
   * signs in until the enrolment is completed. Clears every lock. Undefined when no such user.
   */
  issueEnrolment(username: string, codeHash: string, ttlMs: number): Promise<ConsoleUser | undefined>;
  /**
   * Uses the enrolment code once: sets the user's own password and TOTP secret (`totpStep`: the
   * step that confirmed it, not accepted again at sign-in) if `codeHash` is the pending one, not
   * expired, and the account is enabled. False otherwise (used, expired, replaced, disabled).
   */
  completeEnrolment(
    username: string,
    codeHash: string,
    change: { passwordHash: string; totpSecret: string; totpStep: number },
  ): Promise<boolean>;
  /** `unlock` clears the failures and locks of every address, and the second factor's lock. A new password ends a pending enrolment. */
  update(
    username: string,
    change: { role?: ConsoleRole; disabled?: boolean; passwordHash?: string; totpSecret?: string; unlock?: boolean },
  ): Promise<ConsoleUser | undefined>;
  /**
   * update() of a role or `disabled`, refused ('last_admin': nothing changed) when it would leave no
   * admin who can sign in (countAdmins), decided in the update's own transaction under the admins'
   * row locks: two admins demoting or disabling each other at once cannot both succeed.
   */
  updateKeepingAnAdmin(
    username: string,
    change: { role?: ConsoleRole; disabled?: boolean },
  ): Promise<ConsoleUser | undefined | 'last_admin'>;
  /**
   * `wrongCodesBefore`: what takeUnreportedCodeFailures told at this sign-in, shown on the session's
   * pages. `draft`: what the user was sending when their previous session expired (JSON, no card
   * number), for takeSessionDraft. `passwordHash`: the hash the sign-in checked; no session is made
   * (false) when the account's is another by now (reset, or the password changed meanwhile) or the
   * account is disabled: a revocation under way must not miss a session made in its wake.
   */
  createSession(
    tokenHash: string,
    username: string,
    csrfToken: string,
    extra?: { wrongCodesBefore?: number; draft?: Record<string, unknown>; passwordHash?: string },
  ): Promise<boolean>;
  /** The session's draft, once: cleared as it is read. Undefined when there is none. */
  takeSessionDraft(tokenHash: string): Promise<unknown>;
  /** The session's draft, left in place (a page that may be reloaded shows it again). Undefined when there is none. */
  readSessionDraft(tokenHash: string): Promise<unknown>;
  /** Replaces the session's draft (JSON, no card number); null clears it. */
  keepSessionDraft(tokenHash: string, draft: Record<string, unknown> | null): Promise<void>;
  /**
   * Refreshes a session seen within `idleMs` and created within `maxAgeMs`; when it exists but is
   * past either it is removed and the answer says which: 'expired' (idled out) or 'max_age' (in use
   * but older than its absolute lifetime).
   */
  touchSession(tokenHash: string, idleMs: number, maxAgeMs: number): Promise<SessionView | SessionEnd | undefined>;
  deleteSession(tokenHash: string): Promise<void>;
  deleteSessionsOf(username: string): Promise<void>;
}
