// `npm run users -- create-admin` and `npm run audit -- verify|export` as processes, on a real
// PostgreSQL shared with a running console: the first admin signs in with what the CLI printed,
// and editing a past audit entry makes verify fail naming that entry.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { PostgresServer } from '../support/postgres-server.ts';
import { ConsoleClient } from './client.ts';

const root = new URL('../..', import.meta.url).pathname;
let pg: PostgresServer;
let t: TestApp;
let env: NodeJS.ProcessEnv;
const cli = (script: string, ...args: string[]) => spawnSync(process.execPath, [join(root, 'services/cli', script), ...args], { cwd: root, env, encoding: 'utf8' });

beforeAll(async () => {
  pg = await PostgresServer.start();
  env = { ...process.env, DATABASE_URL: pg.url, LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14', REDIS_URL: '' };
  t = await buildTestApp({ DATABASE_URL: pg.url, LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' }, { cases: true });
});
afterAll(async () => {
  await t?.close();
  await pg?.stop();
});

describe('users CLI', () => {
  it('creates the first admin, prints password and TOTP secret once, and that admin can sign in', async () => {
    const res = cli('users.ts', 'create-admin', '--username', 'root-admin');
    expect(res.status, res.stderr).toBe(0);
    const password = /password:\s+(\S+)/.exec(res.stdout)![1]!;
    const secret = /TOTP secret:\s+([A-Z2-7]+)/.exec(res.stdout)![1]!;
    expect(res.stdout).toContain('otpauth://totp/Leakguard%3Aroot-admin?secret=');
    const c = new ConsoleClient(t.app, '10.9.0.1');
    expect((await c.login('root-admin', password, secret)).status).toBe(303);
    expect((await c.get('/console/admin/users')).status).toBe(200);
    const again = cli('users.ts', 'create-admin', '--username', 'root-admin');
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('already exists');
    expect(cli('users.ts', 'create-admin').status).toBe(2);
    expect(cli('users.ts', 'create', '--username', 'x-y', '--role', 'boss').stderr).toContain('--role must be one of');
    expect(cli('users.ts', 'list').stdout).toMatch(/root-admin\s+admin\s+active/);
    const stored = await t.runtime.cases!.sql.query<{ password_hash: string }>(`SELECT password_hash FROM console_users WHERE username = 'root-admin'`);
    expect(stored.rows[0]!.password_hash).toMatch(/^scrypt\$14\$8\$1\$/);
    expect(stored.rows[0]!.password_hash).not.toContain(password);
  });
});

describe('audit CLI', () => {
  it('verifies the chain, exports it, and names the first edited entry', async () => {
    const audit = t.runtime.cases!.audit;
    for (let i = 0; i < 5; i++) await audit.append({ actor: 'alice', action: 'case_view', target: `case:${i}` });
    const ok = cli('audit.ts', 'verify');
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/audit log intact: \d+ entries/);
    const exported = cli('audit.ts', 'export');
    expect(exported.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(5);
    const target = (await audit.list({ limit: 1, action: 'case_view' }))[0]!.seq - 2;
    // Someone with database owner rights edits an entry and recomputes nothing.
    await t.runtime.cases!.sql.exec(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`);
    await t.runtime.cases!.sql.query(`UPDATE audit_log SET actor = 'mallory' WHERE seq = $1`, [target]);
    await t.runtime.cases!.sql.exec(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update`);
    const broken = cli('audit.ts', 'verify');
    expect(broken.status).toBe(1);
    expect(broken.stdout).toContain(`BROKEN at entry ${target}`);
    const json = JSON.parse(cli('audit.ts', 'verify', '--json').stdout);
    expect(json).toMatchObject({ ok: false, brokenAt: target });
  });

  it('detects a deleted entry', async () => {
    const sql = t.runtime.cases!.sql;
    const last = (await t.runtime.cases!.audit.list({ limit: 1 }))[0]!;
    await sql.exec(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`);
    // Repair nothing: remove the first entry instead.
    await sql.query('DELETE FROM audit_log WHERE seq = 1');
    await sql.exec(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update`);
    const res = cli('audit.ts', 'verify', '--json');
    expect(JSON.parse(res.stdout)).toMatchObject({ ok: false, brokenAt: 2 });
    expect(last.seq).toBeGreaterThan(2);
  });
});
