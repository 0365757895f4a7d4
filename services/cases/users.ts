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
  /** Wrong TOTP codes after a right password, from every address, since the last sign-in or lock. */
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
}

export class UserExists extends LeakguardError {
  constructor(message: string, options?: LeakguardErrorOptions) {
    super('USER_EXISTS', message, options);
  }
}

export interface UserStore {
  create(user: { username: string; role: ConsoleRole; passwordHash: string; totpSecret: string }): Promise<ConsoleUser>;
  find(username: string): Promise<StoredUser | undefined>;
  list(): Promise<ConsoleUser[]>;
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
   * Counts a wrong code given with the right password, for the account across every address; locks
   * the second factor for every address for `lockMs` once `maxAttempts` were counted.
   * `lockedNow`: this failure is the one that locked.
   */
  recordCodeFailure(
    username: string,
    maxAttempts: number,
    lockMs: number,
  ): Promise<{ attempts: number; lockedUntil: string | null; lockedNow: boolean }>;
  /** Clears the address's failures and the account's wrong codes, and records the TOTP step; false when the step was already used (replay). */
  recordSuccess(username: string, totpStep: number, address: string): Promise<boolean>;
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
  createSession(tokenHash: string, username: string, csrfToken: string): Promise<void>;
  /**
   * Refreshes a session seen within `idleMs` and created within `maxAgeMs`; when it exists but is
   * past either it is removed and the answer says which: 'expired' (idled out) or 'max_age' (in use
   * but older than its absolute lifetime).
   */
  touchSession(tokenHash: string, idleMs: number, maxAgeMs: number): Promise<SessionView | SessionEnd | undefined>;
  deleteSession(tokenHash: string): Promise<void>;
  deleteSessionsOf(username: string): Promise<void>;
}
