// Who a CLI's audit entries name: `cli:<user>@<host>`. docker exec, cron and systemd run commands
// without USER or LOGNAME: the account is then the process's own (os.userInfo), never "unknown".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PostgresAuditLog } from '../../services/adapters/postgres/audit-log.ts';
import { PgliteSqlClient } from '../../services/adapters/postgres/pglite-client.ts';
import { cliActor } from '../../services/cli/command.ts';

const root = join(import.meta.dirname, '../..');

describe('cliActor', () => {
  it('names USER, else LOGNAME, else the account the process runs as, with the host', () => {
    expect(cliActor({ USER: 'alice', LOGNAME: 'bob' }, () => 'carol', 'h1')).toBe('cli:alice@h1');
    expect(cliActor({ LOGNAME: 'bob' }, () => 'carol', 'h1')).toBe('cli:bob@h1');
    expect(cliActor({ USER: '', LOGNAME: '' }, () => 'carol', 'h1')).toBe('cli:carol@h1');
    expect(cliActor({}, () => 'carol', 'h1')).toBe('cli:carol@h1');
    // A uid without a passwd entry (docker run --user 12345): os.userInfo() throws.
    const noEntry = () => {
      throw Object.assign(new Error('uv_os_get_passwd returned ENOENT'), { code: 'ENOENT' });
    };
    expect(cliActor({}, noEntry, 'h1')).toBe(`cli:uid-${process.getuid!()}@h1`);
    expect(cliActor({ USER: 'alice' })).toBe(`cli:alice@${hostname()}`);
  });
});

describe('the CLIs run without USER and LOGNAME (docker exec, cron, systemd)', () => {
  it('attribute their audit entries and key records to the account they run as', { timeout: 120_000 }, async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'lg-state-'));
    const { USER: _u, LOGNAME: _l, ...rest } = process.env;
    const env = {
      ...rest,
      REDIS_URL: '',
      DATABASE_URL: '',
      LEAKGUARD_STATE_DIR: stateDir,
      LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14',
      LEAKGUARD_AUDIT_CHECKPOINT_FILE: join(stateDir, '..', 'checkpoints.ndjson'),
    };
    const cli = (script: string, ...args: string[]) =>
      spawnSync(process.execPath, [join(root, 'services/cli', script), ...args], { cwd: root, env, encoding: 'utf8' });
    const expected = `cli:${userInfo().username}@${hostname()}`;
    const key = cli('keys.ts', 'create', '--role', 'admin', '--label', 'ops');
    expect(key.status, key.stderr).toBe(0);
    const admin = cli('users.ts', 'create-admin', '--username', 'first-admin');
    expect(admin.status, admin.stderr).toBe(0);
    const unlock = cli('users.ts', 'unlock', '--username', 'first-admin');
    expect(unlock.status, unlock.stderr).toBe(0);
    const keys = JSON.parse(readFileSync(join(stateDir, 'api-keys.json'), 'utf8')) as unknown;
    expect(JSON.stringify(keys)).toContain(`"createdBy":${JSON.stringify(expected)}`);
    const sql = await PgliteSqlClient.open(join(stateDir, 'pglite'));
    try {
      const entries = await new PostgresAuditLog(sql).list({ limit: 10 });
      expect(entries.map((e) => [e.action, e.actor]).reverse()).toEqual([
        ['key_create', expected],
        ['user_create', expected],
        ['user_unlock', expected],
      ]);
    } finally {
      await sql.close();
    }
  });
});
