// `npm run users -- create-admin` and `npm run audit -- verify|export` as processes, on a real
// PostgreSQL shared with a running console: the first admin signs in with what the CLI printed,
// and editing a past audit entry makes verify fail naming that entry (exit 1); a log it could not
// check (schema behind, PostgreSQL not reachable, a database refused) exits 75 instead.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantApplicationRole, loadMigrations, migrate } from '../../services/adapters/postgres/migrate.ts';
import { PgSqlClient } from '../../services/adapters/postgres/pg-client.ts';
import { PostgresAuditLog } from '../../services/adapters/postgres/audit-log.ts';
import { buildTestApp, type TestApp } from '../support/app.ts';
import { freePort } from '../support/ports.ts';
import { PostgresServer } from '../support/postgres-server.ts';
import { ConsoleClient, enrol } from './client.ts';

const root = new URL('../..', import.meta.url).pathname;
let pg: PostgresServer;
let t: TestApp;
let env: NodeJS.ProcessEnv;
const cli = (script: string, ...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'services/cli', script), ...args], { cwd: root, env, encoding: 'utf8' });
/** `npm run audit -- verify` on another database than the console's. */
const verifyOn = (databaseUrl: string, ...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'services/cli/audit.ts'), 'verify', ...args], {
    cwd: root,
    env: { ...env, DATABASE_URL: databaseUrl },
    encoding: 'utf8',
  });

beforeAll(async () => {
  pg = await PostgresServer.start();
  t = await buildTestApp({ DATABASE_URL: pg.url, LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' }, { cases: true });
  // The engine's state directory: the CLIs sign audit checkpoints with its development audit key.
  env = {
    ...process.env,
    DATABASE_URL: pg.url,
    LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14',
    REDIS_URL: '',
    LEAKGUARD_STATE_DIR: t.stateDir,
  };
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
    // The reason a username is refused, not only its alphabet (a card number satisfies that).
    expect(cli('users.ts', 'create-admin', '--username', '4111111111111111').stderr).toContain(
      '--username must not contain a card number',
    );
    expect(cli('users.ts', 'create-admin', '--username', 'a').stderr).toContain('--username must be 3-64 lowercase');
    expect(cli('users.ts', 'list').stdout).toMatch(/root-admin\s+admin\s+active/);
    // A second factor locked by wrong codes (someone has the password) shows, and unlock clears it.
    await t.runtime.cases!.sql.query(
      `UPDATE console_users SET code_failed_attempts = 10, code_locked_until = now() + interval '30 minutes' WHERE username = 'root-admin'`,
    );
    expect(cli('users.ts', 'list').stdout).toMatch(/root-admin\s+admin\s+second-factor-locked until 20\d\d-/);
    expect(cli('users.ts', 'unlock', '--username', 'root-admin').status).toBe(0);
    expect(cli('users.ts', 'list').stdout).toMatch(/root-admin\s+admin\s+active/);
    // Any other account gets a one-time enrolment code: whoever runs the CLI never learns its password.
    const analyst = cli('users.ts', 'create', '--username', 'cli-analyst', '--role', 'analyst', '--json');
    expect(analyst.status, analyst.stderr).toBe(0);
    const issued = JSON.parse(analyst.stdout) as Record<string, string>;
    expect(Object.keys(issued).sort()).toEqual(['enrolmentCode', 'expiresAt', 'role', 'username']);
    expect(cli('users.ts', 'list').stdout).toMatch(/cli-analyst\s+analyst\s+enrolment pending until 20\d\d-/);
    const enrolled = await enrol(
      new ConsoleClient(t.app, '10.9.0.2'),
      'cli-analyst',
      issued.enrolmentCode!,
      'the analyst chose this',
    );
    expect(enrolled.finish!.status).toBe(303);
    const text = cli('users.ts', 'create', '--username', 'cli-lead', '--role', 'lead');
    expect(text.stdout).toMatch(/enrolment code: [A-Za-z0-9]{24} /);
    expect(text.stdout).not.toMatch(/password:|TOTP secret:/);
    const stored = await t.runtime.cases!.sql.query<{ password_hash: string }>(
      `SELECT password_hash FROM console_users WHERE username = 'root-admin'`,
    );
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
    const brokenJson = cli('audit.ts', 'verify', '--json');
    expect(brokenJson.status).toBe(1);
    expect(JSON.parse(brokenJson.stdout)).toMatchObject({ ok: false, brokenAt: target });
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

describe('audit verify that cannot check the log (exit 75, not 1: nothing was found tampered)', () => {
  const last = loadMigrations().at(-1)!;
  const lastName = `${String(last.version).padStart(3, '0')}_${last.name}`;
  const NOT_CHECKED = 'audit: could not verify the audit log (nothing was checked, no finding either way): ';

  it("on a schema behind this version that the CLI's role may not migrate: names the migration and what to run", async () => {
    const db = `lg_cli_behind_${process.pid}`;
    const su = new PgSqlClient({ connectionString: pg.url, max: 1 });
    try {
      await su.exec('CREATE ROLE lg_cli_owner LOGIN; CREATE ROLE lg_cli_app LOGIN');
      await su.exec(`CREATE DATABASE ${db} OWNER lg_cli_owner`); // alone: not in a transaction block
    } finally {
      await su.close();
    }
    const url = (role: string) => `postgres://${role}@127.0.0.1:${pg.port}/${db}`;
    const owner = new PgSqlClient({ connectionString: url('lg_cli_owner'), max: 1 });
    try {
      // A rolling deploy whose migrate step was forgotten: all but the last migration.
      const migrations = loadMigrations();
      await migrate(owner, migrations.slice(0, -1));
      await grantApplicationRole(owner, 'lg_cli_app');
    } finally {
      await owner.close();
    }
    const res = verifyOn(url('lg_cli_app'));
    expect(res.status, res.stderr).toBe(75);
    expect(res.stderr).toContain(`${NOT_CHECKED}migration ${lastName} is not applied and this role may not apply it`);
    expect(res.stderr).toContain(
      "run the migrations as the tables' owner (DATABASE_MIGRATION_URL, npm run db -- migrate)",
    );
    expect(res.stdout).toBe('');
    const json = verifyOn(url('lg_cli_app'), '--json');
    expect(json.status).toBe(75);
    const answer = JSON.parse(json.stdout) as { ok: unknown; problem: string; reason: string };
    expect(answer).toMatchObject({ ok: null, problem: 'unverified' });
    expect(answer.reason).toContain(`migration ${lastName} is not applied`);
  });

  it('with PostgreSQL not reachable', async () => {
    const port = await freePort();
    const res = verifyOn(`postgres://postgres@127.0.0.1:${port}/postgres`);
    expect(res.status, res.stderr).toBe(75);
    expect(res.stderr).toContain(
      `${NOT_CHECKED}PostgreSQL not reachable (ECONNREFUSED 127.0.0.1:${port}): check DATABASE_URL and that PostgreSQL is up, then run it again`,
    );
    const json = verifyOn(`postgres://postgres@127.0.0.1:${port}/postgres`, '--json');
    expect(json.status).toBe(75);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: null, problem: 'unverified' });
  });

  it('with the embedded database in use by a running engine (PGlite admits one process)', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'lg-state-'));
    // The engine's lock beside the data directory, naming a process that lives.
    const engine = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      writeFileSync(join(stateDir, 'pglite.lock'), `${engine.pid}\n`);
      const busyEnv = { ...env, DATABASE_URL: '', LEAKGUARD_STATE_DIR: stateDir };
      const run = (...args: string[]) =>
        spawnSync(process.execPath, [join(root, 'services/cli/audit.ts'), 'verify', ...args], {
          cwd: root,
          env: busyEnv,
          encoding: 'utf8',
        });
      const res = run();
      expect(res.status, res.stderr).toBe(75);
      expect(res.stderr).toBe(
        `${NOT_CHECKED}the embedded database ${join(stateDir, 'pglite')} is in use by process ${engine.pid}: stop it first, or use DATABASE_URL\n`,
      );
      expect(res.stdout).toBe('');
      const json = run('--json');
      expect(json.status).toBe(75);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: null, problem: 'unverified' });
    } finally {
      engine.kill();
    }
  });

  it('with a database PostgreSQL refuses', () => {
    const res = verifyOn(`postgres://postgres@127.0.0.1:${pg.port}/lg_no_such_database`);
    expect(res.status, res.stderr).toBe(75);
    expect(res.stderr).toContain(
      `${NOT_CHECKED}PostgreSQL refused the connection (database "lg_no_such_database" does not exist)`,
    );
    expect(res.stderr).toContain("check DATABASE_URL's user, password and database");
  });
});

describe('audit verify that fails partway (found by a review)', () => {
  it('exits 1, not 75, on an entry it cannot read: a rewritten log is no "could not verify"', async () => {
    const db = `lg_cli_unreadable_${process.pid}`;
    const su = new PgSqlClient({ connectionString: pg.url, max: 1 });
    try {
      await su.exec(`CREATE DATABASE ${db}`);
    } finally {
      await su.close();
    }
    const url = `postgres://postgres@127.0.0.1:${pg.port}/${db}`;
    const sql = new PgSqlClient({ connectionString: url, max: 1 });
    try {
      await migrate(sql);
      const audit = new PostgresAuditLog(sql);
      for (let i = 0; i < 3; i++) await audit.append({ actor: 'alice', action: 'case_view', target: `case:${i}` });
      // Someone with the owner's rights writes a time no entry can have.
      await sql.exec(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`);
      await sql.query(`UPDATE audit_log SET at = 'infinity' WHERE seq = 2`);
      await sql.exec(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update`);
    } finally {
      await sql.close();
    }
    const res = verifyOn(url);
    expect(res.status, res.stderr).toBe(1);
    expect(res.stderr).toContain('audit: the check failed partway: ');
    expect(res.stderr).toContain('treat the log as not genuine');
    const json = verifyOn(url, '--json');
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, problem: 'failed' });
  });
});

describe('labels export CLI (npm run model -- export-labels)', () => {
  it('writes the decided cases with their features, in CSV and NDJSON, and nothing undecided', async () => {
    const { bearer, scoreBody } = await import('../support/app.ts');
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const body = scoreBody({
        transactionId: `label-${n}`,
        card: { number: '5555555555554444', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
        threeDS: { status: 'N' },
      });
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/score',
        headers: bearer(t.keys.merchant),
        payload: body,
      });
      expect(res.json().decision).not.toBe('approve');
      ids.push(body.transactionId);
    }
    await t.runtime.flaggedSink.drain();
    await t.runtime.cases!.ingester.idle();
    const store = t.runtime.cases!.store;
    const [fraud, legit] = await Promise.all(ids.slice(0, 2).map((id) => store.getByTransaction('m1', id)));
    await store.decide(fraud!.id, 'mark_fraud', 'alice');
    await store.decide(legit!.id, 'mark_legitimate', 'alice');
    const dir = mkdtempSync(join(tmpdir(), 'lg-labels-'));
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [join(root, 'models/cli/model.ts'), 'export-labels', ...args], {
        cwd: root,
        env,
        encoding: 'utf8',
      });
    const csv = run('--out', join(dir, 'labels.csv'));
    expect(csv.status, csv.stderr).toBe(0);
    expect(csv.stdout).toMatch(
      /exported \d+ labels to .*: \d+ from analysts, \d+ from fraud chargebacks, \d+ from failed challenges/,
    );
    const [header, ...rows] = readFileSync(join(dir, 'labels.csv'), 'utf8').trim().split('\n');
    expect(header).toContain('is_fraud');
    expect(header).toContain('card_count_24h');
    const mine = rows.filter((r) => r.includes('label-1') || r.includes('label-2') || r.includes('label-3'));
    expect(mine).toHaveLength(2);
    expect(readFileSync(join(dir, 'labels.csv'), 'utf8')).not.toContain('5555555555554444');
    const nd = run('--out', join(dir, 'labels.ndjson'));
    expect(nd.status, nd.stderr).toBe(0);
    const parsed = readFileSync(join(dir, 'labels.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { transaction_id: string; is_fraud: number });
    expect(parsed.find((r) => r.transaction_id === 'label-1')?.is_fraud).toBe(1);
    expect(parsed.find((r) => r.transaction_id === 'label-2')?.is_fraud).toBe(0);
    expect(run('--format', 'xml', '--out', join(dir, 'x')).status).toBe(2);
  });
});
