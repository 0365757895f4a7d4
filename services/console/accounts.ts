// Creating console accounts: the first admin (CLI) and the demo analyst get generated credentials
// shown once to whoever creates them; an account an admin creates or resets in the console gets a
// one-time enrolment code instead, with which its user sets their own password and second factor.
import type { AuditLog } from '../cases/audit.ts';
import { generatePassword, generateTotpSecret, hashPassword, type ScryptParams } from './credentials.ts';
import { tokenHash } from './session.ts';
import type { ConsoleRole, UserStore } from '../cases/users.ts';

export interface NewAccount {
  username: string;
  role: ConsoleRole;
  password: string;
  totpSecret: string;
}

/** How long an enrolment code is valid: a working day's hand-over, then an admin issues a new one. */
export const ENROLMENT_TTL_MS = 24 * 60 * 60 * 1000;

export async function createAccount(
  users: UserStore,
  audit: AuditLog,
  username: string,
  role: ConsoleRole,
  actor: string,
  scrypt?: ScryptParams,
): Promise<NewAccount> {
  const password = generatePassword();
  const totpSecret = generateTotpSecret();
  await users.create({ username, role, passwordHash: await hashPassword(password, scrypt), totpSecret });
  await audit.append({ actor, action: 'user_create', target: `user:${username}`, detail: { role } });
  return { username, role, password, totpSecret };
}

export interface Enrolment {
  username: string;
  /** Shown once to whoever issued it, to hand to the user; only its SHA-256 is stored. */
  code: string;
  expiresAt: string;
}

/**
 * A one-time enrolment code for an existing account: its password and second factor are voided
 * (nobody signs in as it) until its user enrols with the code. Audited (`user_enrolment_issued`).
 */
export async function issueEnrolment(
  users: UserStore,
  audit: AuditLog,
  username: string,
  actor: string,
  via: 'create' | 'reset',
  ttlMs = ENROLMENT_TTL_MS,
): Promise<Enrolment | undefined> {
  const code = generatePassword();
  const user = await users.issueEnrolment(username, tokenHash(code), ttlMs);
  if (!user) return undefined;
  await users.deleteSessionsOf(username);
  const expiresAt = user.enrolmentExpiresAt!;
  await audit.append({
    actor,
    action: 'user_enrolment_issued',
    target: `user:${username}`,
    detail: { via, expiresAt },
  });
  return { username, code, expiresAt };
}

/** An account that nobody can sign in as until its user enrols with the code returned. */
export async function createEnrollingAccount(
  users: UserStore,
  audit: AuditLog,
  username: string,
  role: ConsoleRole,
  actor: string,
  ttlMs = ENROLMENT_TTL_MS,
): Promise<Enrolment> {
  // No password hash: no password verifies against '' (credentials.ts), and the login refuses a pending account first.
  await users.create({ username, role, passwordHash: '', totpSecret: '' });
  await audit.append({ actor, action: 'user_create', target: `user:${username}`, detail: { role, enrolment: true } });
  return (await issueEnrolment(users, audit, username, actor, 'create', ttlMs))!;
}
