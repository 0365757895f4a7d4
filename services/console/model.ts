// Console users, roles and sessions: the ports the console needs from a store.
import { z } from 'zod';

export const CONSOLE_ROLES = ['analyst', 'lead', 'admin'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];
const RANK: Record<ConsoleRole, number> = { analyst: 1, lead: 2, admin: 3 };
export const atLeast = (role: ConsoleRole, needed: ConsoleRole) => RANK[role] >= RANK[needed];

export const usernameSchema = z.string().trim().toLowerCase().regex(/^[a-z0-9._-]{3,64}$/, 'must be 3-64 lowercase letters, digits, . _ or -');

export interface ConsoleUser {
  username: string;
  role: ConsoleRole;
  disabled: boolean;
  failedAttempts: number;
  lockedUntil: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface StoredUser extends ConsoleUser {
  passwordHash: string;
  totpSecret: string;
  lastTotpStep: number;
}

export interface SessionView {
  username: string;
  role: ConsoleRole;
  csrfToken: string;
}

export class UserExists extends Error {}

export interface UserStore {
  create(user: { username: string; role: ConsoleRole; passwordHash: string; totpSecret: string }): Promise<ConsoleUser>;
  find(username: string): Promise<StoredUser | undefined>;
  list(): Promise<ConsoleUser[]>;
  countAdmins(): Promise<number>;
  /** Counts a failure; locks the account for `lockMs` once `maxAttempts` is reached. */
  recordFailure(username: string, maxAttempts: number, lockMs: number): Promise<{ locked: boolean; attempts: number }>;
  /** Resets the failure count and records the TOTP step; false when the step was already used (replay). */
  recordSuccess(username: string, totpStep: number): Promise<boolean>;
  update(username: string, change: { role?: ConsoleRole; disabled?: boolean; passwordHash?: string; totpSecret?: string; unlock?: boolean }): Promise<ConsoleUser | undefined>;
  createSession(tokenHash: string, username: string, csrfToken: string): Promise<void>;
  /** Refreshes a session seen within `idleMs`; 'expired' when it exists but idled out (it is then removed). */
  touchSession(tokenHash: string, idleMs: number): Promise<SessionView | 'expired' | undefined>;
  deleteSession(tokenHash: string): Promise<void>;
  deleteSessionsOf(username: string): Promise<void>;
}
