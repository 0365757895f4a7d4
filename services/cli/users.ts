// `npm run users -- create-admin --username <name>`: console accounts from the command line.
// create-admin (the first admin, bootstrapping the console) prints the new password and TOTP
// secret once to whoever runs it; only their hash and the secret are stored. create prints a
// one-time enrolment code instead: its user sets their own password and authenticator at
// /console/enrol, so whoever ran the command never learns them.
// Works on DATABASE_URL, or on the embedded PGlite database while the engine is stopped.
import { parseArgs } from 'node:util';
import { cliActor, failWith, type Fail, parseCommand } from './command.ts';
import { PostgresAuditLog } from '../adapters/postgres/audit-log.ts';
import { PostgresUserStore } from '../adapters/postgres/user-store.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { createAccount, createEnrollingAccount } from '../console/accounts.ts';
import { otpauthUri } from '../console/credentials.ts';
import { CONSOLE_ROLES, usernameSchema, UserExists, type ConsoleRole, type ConsoleUser } from '../cases/users.ts';
import { checkpointAuditLog, migrateDatabase, openSqlClient } from '../runtime.ts';

const USAGE = `usage:
  npm run users -- create-admin --username <name> [--json]
  npm run users -- create --username <name> --role analyst|lead|admin [--json]
  npm run users -- list
  npm run users -- unlock --username <name>`;

const fail: Fail = failWith('users');

/** active, disabled, or its locks in force: for some addresses (wrong passwords), of the second factor for every address (wrong codes). */
function userState(u: ConsoleUser): string {
  if (u.disabled) return 'disabled';
  if (u.enrolmentPending)
    return u.enrolmentExpiresAt ? `enrolment pending until ${u.enrolmentExpiresAt}` : 'enrolment code expired';
  const now = Date.now();
  const locks = [
    ...(u.lockedUntil && Date.parse(u.lockedUntil) > now ? ['locked'] : []),
    ...(u.codeLockedUntil && Date.parse(u.codeLockedUntil) > now
      ? [`second-factor-locked until ${u.codeLockedUntil}`]
      : []),
  ];
  return locks.length ? locks.join(', ') : 'active';
}

async function main(): Promise<void> {
  const { values, command } = parseCommand(
    () =>
      parseArgs({
        allowPositionals: true,
        options: {
          username: { type: 'string' },
          role: { type: 'string' },
          json: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h' },
        },
      }),
    USAGE,
    fail,
  );
  if (!['create-admin', 'create', 'list', 'unlock'].includes(command)) fail(`unknown command ${command}\n${USAGE}`);
  const username = values.username === undefined ? undefined : usernameSchema.safeParse(values.username);
  if (command !== 'list' && !username?.success)
    fail(`--username ${username ? (username.error?.issues[0]?.message ?? 'is invalid') : 'is required'}\n${USAGE}`);
  const role = command === 'create-admin' ? 'admin' : values.role;
  if (command === 'create' && !CONSOLE_ROLES.includes(role as ConsoleRole))
    fail(`--role must be one of ${CONSOLE_ROLES.join(', ')}\n${USAGE}`);

  const config = loadConfig();
  const sql = await openSqlClient(config);
  try {
    await migrateDatabase(config, sql);
    const users = new PostgresUserStore(sql);
    const audit = new PostgresAuditLog(sql);
    // Before this command appends: its checkpoint warns only of entries no checkpoint covered before it.
    const headBefore = await audit.head();
    const name = username?.success ? username.data : '';
    switch (command) {
      case 'create': {
        const enrolment = await createEnrollingAccount(users, audit, name, role as ConsoleRole, cliActor());
        await checkpointAuditLog(config, audit, 'cli:users', headBefore);
        if (values.json)
          process.stdout.write(
            `${JSON.stringify({ username: name, role, enrolmentCode: enrolment.code, expiresAt: enrolment.expiresAt })}\n`,
          );
        else
          process.stdout.write(
            `Created ${role} ${name}. Nobody signs in as ${name} until they enrol. Give them, by another channel, once:\n` +
              `  enrolment code: ${enrolment.code}   (single use, until ${enrolment.expiresAt})\n` +
              `  they open /console/enrol?username=${name}, enter it, and set their own password and authenticator.\n`,
          );
        break;
      }
      case 'create-admin': {
        const account = await createAccount(users, audit, name, role as ConsoleRole, cliActor(), {
          logN: config.LEAKGUARD_PASSWORD_SCRYPT_LOG_N,
          r: 8,
          p: 1,
        });
        await checkpointAuditLog(config, audit, 'cli:users', headBefore);
        if (values.json)
          process.stdout.write(
            `${JSON.stringify({ username: account.username, role: account.role, password: account.password, totpSecret: account.totpSecret })}\n`,
          );
        else {
          process.stdout.write(
            `Created ${account.role} ${account.username}. Shown once, store them now:\n` +
              `  password:    ${account.password}\n` +
              `  TOTP secret: ${account.totpSecret}   (base32, SHA-1, 6 digits, 30 s)\n` +
              `  otpauth URI: ${otpauthUri(account.totpSecret, account.username)}\n`,
          );
        }
        break;
      }
      case 'list':
        for (const u of await users.list())
          process.stdout.write(`${u.username.padEnd(24)} ${u.role.padEnd(8)} ${userState(u)}\n`);
        break;
      case 'unlock': {
        const updated = await users.update(name, { unlock: true });
        if (!updated) fail(`no user ${name}`, 1);
        await audit.append({
          actor: cliActor(),
          action: 'user_unlock',
          target: `user:${name}`,
        });
        await checkpointAuditLog(config, audit, 'cli:users', headBefore);
        process.stdout.write(`Unlocked ${name}.\n`);
        break;
      }
    }
  } finally {
    await sql.close();
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) fail(error.message);
  if (error instanceof UserExists) fail(error.message, 1);
  fail((error as Error).message, 1);
});
