// Creating console accounts outside the console: the first admin (CLI) and the demo analyst.
import type { AuditLog } from '../cases/audit.ts';
import { generatePassword, generateTotpSecret, hashPassword, type ScryptParams } from './credentials.ts';
import type { ConsoleRole, UserStore } from '../cases/users.ts';

export interface NewAccount {
  username: string;
  role: ConsoleRole;
  password: string;
  totpSecret: string;
}

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
