// The audit log cannot be cut silently (#13). Whoever holds the database's owner credentials can
// disable the trigger and delete the last entries, or rewrite the log with every hash recomputed:
// the chain alone still verifies. Signed checkpoints of the head, written by the engine and the
// CLIs to a file outside the database, name the cut, the rewrite, and a checkpoint that is not
// genuine; on PGlite and on a real PostgreSQL, through the library and through `npm run audit`.
// And on a real PostgreSQL the application's own role may only read and append to the log.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresAuditLog } from '../../services/adapters/postgres/audit-log.ts';
import {
  DatabaseSetupError,
  grantApplicationRole,
  loadMigrations,
  migrate,
} from '../../services/adapters/postgres/migrate.ts';
import { freePort } from '../support/ports.ts';
import { PgSqlClient } from '../../services/adapters/postgres/pg-client.ts';
import { PgliteSqlClient } from '../../services/adapters/postgres/pglite-client.ts';
import type { SqlClient } from '../../services/adapters/postgres/sql-client.ts';
import { checkpointFileOf, loadAuditKey } from '../../services/audit-key.ts';
import { AuditCheckpointer, CheckpointFile, type AuditKey } from '../../services/cases/audit-checkpoints.ts';
import { chainHash } from '../../services/cases/audit.ts';
import { loadConfig } from '../../services/config.ts';
import { createAccount } from '../../services/console/accounts.ts';
import { bearer, buildTestApp, type TestApp } from '../support/app.ts';
import { PostgresServer } from '../support/postgres-server.ts';
import { ConsoleClient } from './client.ts';
import { pgliteDriver, postgresDriver, type Driver } from './fixtures.ts';

const root = new URL('../..', import.meta.url).pathname;
const KEY: AuditKey = { id: 'test-audit', secret: Buffer.alloc(32, 7) };
const AUDIT_KEY_HEX = 'c'.repeat(64);
const short = (hash: string) => `${hash.slice(0, 16)}…`;
const tempFile = (name: string) => join(mkdtempSync(join(tmpdir(), 'lg-checkpoints-')), name);
const cli = (script: string, env: NodeJS.ProcessEnv, ...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'services/cli', script), ...args], {
    cwd: root,
    env: { ...process.env, REDIS_URL: '', ...env },
    encoding: 'utf8',
  });

/** What an attacker with the owner's rights does: the append-only trigger off, the damage, the trigger back. */
async function asOwner(sql: SqlClient, damage: () => Promise<unknown>): Promise<void> {
  await sql.exec('ALTER TABLE audit_log DISABLE TRIGGER USER');
  await damage();
  await sql.exec('ALTER TABLE audit_log ENABLE TRIGGER USER');
}

/** A careful attacker: edits one entry and recomputes every hash after it, so that the chain holds. */
async function rewriteFrom(sql: SqlClient, seq: number): Promise<void> {
  const audit = new PostgresAuditLog(sql);
  await asOwner(sql, async () => {
    await sql.query(`UPDATE audit_log SET actor = 'mallory' WHERE seq = $1`, [seq]);
    const entries: Awaited<ReturnType<PostgresAuditLog['list']>> = [];
    await audit.scan((page) => void entries.push(...page));
    let prev = entries.find((e) => e.seq === seq - 1)?.hash ?? '0'.repeat(64);
    for (const e of entries.filter((x) => x.seq >= seq)) {
      const hash = chainHash(prev, e);
      await sql.query('UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3', [prev, hash, e.seq]);
      prev = hash;
    }
  });
}

async function appendSome(audit: PostgresAuditLog, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await audit.append({ actor: 'alice', action: 'case_view', target: `case:${i}` });
}

for (const makeDriver of [pgliteDriver, postgresDriver]) {
  describe.sequential(
    `signed audit checkpoints (${makeDriver === pgliteDriver ? 'PGlite' : 'PostgreSQL server'})`,
    () => {
      let driver: Driver;
      const open: SqlClient[] = [];
      const fresh = async () => {
        const sql = await driver.open();
        open.push(sql);
        const file = new CheckpointFile(tempFile('checkpoints.ndjson'), KEY);
        const alarms: string[] = [];
        const audit = new PostgresAuditLog(sql, undefined, file);
        return {
          sql,
          file,
          audit,
          alarms,
          checkpointer: new AuditCheckpointer({ audit, file, by: 'test', onAlarm: (m) => alarms.push(m) }),
        };
      };
      beforeAll(async () => {
        driver = await makeDriver();
      });
      afterAll(async () => {
        for (const sql of open) await sql.close();
        await driver?.stop();
      });

      it('names the entries cut from the end of the log, where the chain alone says "intact"', async () => {
        const { sql, file, audit, alarms, checkpointer } = await fresh();
        await appendSome(audit, 8);
        const signed = (await checkpointer.pass())!;
        expect(signed).toMatchObject({ seq: 8, hash: (await audit.head())!.hash });
        expect(await checkpointer.pass()).toBeNull(); // the head did not move: nothing written
        expect(await audit.verify()).toEqual({
          ok: true,
          checked: 8,
          checkpoints: { file: file.path, valid: 1, latest: { seq: 8, hash: signed.hash, at: signed.at } },
        });

        await asOwner(sql, () => sql.query('DELETE FROM audit_log WHERE seq > 5'));
        // Today's check: the shorter chain is a valid chain.
        expect(await new PostgresAuditLog(sql).verify()).toEqual({ ok: true, checked: 5 });
        expect(await audit.verify()).toMatchObject({
          ok: false,
          checked: 5,
          brokenAt: 6,
          problem: 'removed',
          reason: `the log ends at #5 but the checkpoint of ${signed.at} signed #8 with hash ${short(signed.hash)}: entries #6..#8 were removed`,
        });
        // The writer notices at its next pass.
        await checkpointer.pass();
        expect(alarms).toEqual([
          `the log ends at #5 but the checkpoint of ${signed.at} signed #8: entries #6..#8 were removed`,
        ]);

        // The application appends on, past the old head: the checkpoint of #8 still shows the hole.
        await appendSome(audit, 4);
        await checkpointer.pass();
        expect(await audit.verify()).toMatchObject({
          ok: false,
          brokenAt: 8,
          problem: 'rewritten',
          reason: expect.stringContaining(
            `but the checkpoint of ${signed.at} signed #8 with hash ${short(signed.hash)}: entries #6..#8 were rewritten (or removed and written again)`,
          ),
        });
      });

      it('names a rewrite whose hashes were all recomputed', async () => {
        const { sql, audit, checkpointer } = await fresh();
        await appendSome(audit, 3);
        await checkpointer.pass();
        await appendSome(audit, 3);
        const signed = (await checkpointer.pass())!;
        await rewriteFrom(sql, 4);
        expect(await new PostgresAuditLog(sql).verify()).toEqual({ ok: true, checked: 6 });
        expect(await audit.verify()).toMatchObject({
          ok: false,
          checked: 6,
          brokenAt: 6,
          problem: 'rewritten',
          reason: `entry #6 has hash ${short((await audit.head())!.hash)} but the checkpoint of ${signed.at} signed #6 with hash ${short(signed.hash)}: entries #4..#6 were rewritten (or removed and written again)`,
        });
        // The checkpoint before the rewrite still matches: the range starts after it.
        expect(((await audit.verify()) as { reason: string }).reason).toContain('#4..#6');
      });

      it('names a checkpoint whose signature does not hold, and still judges by the genuine ones', async () => {
        const { sql, file, audit, checkpointer } = await fresh();
        await appendSome(audit, 3);
        await checkpointer.pass();
        const [line] = readFileSync(file.path, 'utf8').trim().split('\n');
        const genuine = JSON.parse(line!) as { seq: number; hash: string; sig: string };
        // Cut #3, and add a checkpoint that claims the log ends at #2, with the old signature.
        await asOwner(sql, () => sql.query('DELETE FROM audit_log WHERE seq = 3'));
        const forged = { ...genuine, seq: 2, hash: (await audit.head())!.hash };
        writeFileSync(file.path, `${JSON.stringify(forged)}\n`, { flag: 'a' });
        const cut = await audit.verify();
        expect(cut).toMatchObject({
          ok: false,
          brokenAt: 3,
          problem: 'removed',
          reason: expect.stringContaining('entries #3..#3 were removed'),
        });
        expect((cut as { also: string[] }).also).toEqual([
          expect.stringMatching(
            new RegExp(
              `^line 2 of ${file.path} \\(checkpoint of .*, #2\\) has a bad signature: it was not signed with the audit key, so the file was edited$`,
            ),
          ),
        ]);

        // On a whole log, a forged line alone fails the check too, and is named.
        const other = await fresh();
        await appendSome(other.audit, 2);
        await other.checkpointer.pass();
        const good = JSON.parse(readFileSync(other.file.path, 'utf8').trim()) as { sig: string };
        const flipped = { ...good, sig: `${good.sig[0] === '0' ? '1' : '0'}${good.sig.slice(1)}` };
        writeFileSync(
          other.file.path,
          `${JSON.stringify(flipped)}\n${JSON.stringify({ ...good, key: 'another' })}\nnot json\n`,
          { flag: 'a' },
        );
        const result = await other.audit.verify();
        expect(result).toMatchObject({
          ok: false,
          checked: 2,
          brokenAt: 2,
          problem: 'checkpoint',
          reason: expect.stringMatching(/^line 2 of .* \(checkpoint of .*, #2\) has a bad signature/),
        });
        expect((result as { also: string[] }).also).toEqual([
          expect.stringMatching(/^line 3 of .* is signed with key "another", not with this audit key \(test-audit\)/),
          expect.stringMatching(/^line 4 of .* is not a checkpoint \(not JSON\)/),
        ]);
        // A writer starting on that file raises the alarm at once.
        const alarms: string[] = [];
        await new AuditCheckpointer({
          audit: other.audit,
          file: other.file,
          by: 'test',
          onAlarm: (m) => alarms.push(m),
        }).resume();
        expect(alarms).toHaveLength(3);
        // Another key reads none of it as genuine.
        const stranger = await new CheckpointFile(other.file.path, { id: KEY.id, secret: Buffer.alloc(32, 8) }).read();
        expect(stranger.valid).toEqual([]);
      });
    },
  );
}

describe('the audit key and the checkpoint file', () => {
  it('is required in production, generated (0600) in development only by a writer, and kept outside the state directory', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'lg-audit-key-'));
    const config = (env: Record<string, string>) => loadConfig({ LEAKGUARD_STATE_DIR: stateDir, ...env });
    expect(() => loadAuditKey(config({ NODE_ENV: 'production' }), { create: true })).toThrow(
      /LEAKGUARD_AUDIT_KEY: required in production \(or LEAKGUARD_AUDIT_KEY_FILE\)/,
    );
    expect(() => config({ LEAKGUARD_AUDIT_KEY: AUDIT_KEY_HEX, LEAKGUARD_AUDIT_KEY_FILE: '/x' })).toThrow(
      /set either LEAKGUARD_AUDIT_KEY or LEAKGUARD_AUDIT_KEY_FILE/,
    );
    expect(() => loadAuditKey(config({ LEAKGUARD_AUDIT_KEY: 'a passphrase is not a key' }), { create: true })).toThrow(
      /LEAKGUARD_AUDIT_KEY: must be 64 hex characters/,
    );
    // Not the card key nor the data key (current or previous, as a value or a file): stream processors hold those.
    const keyFile = tempFile('card.key');
    writeFileSync(keyFile, `${AUDIT_KEY_HEX}\n`);
    for (const [variable, env] of [
      ['LEAKGUARD_CARD_KEY', { LEAKGUARD_CARD_KEY: AUDIT_KEY_HEX }],
      ['LEAKGUARD_CARD_KEY', { LEAKGUARD_CARD_KEY_FILE: keyFile }],
      [
        'LEAKGUARD_PREVIOUS_CARD_KEY',
        { LEAKGUARD_CARD_KEY: 'b'.repeat(64), LEAKGUARD_PREVIOUS_CARD_KEY: AUDIT_KEY_HEX },
      ],
      ['LEAKGUARD_DATA_KEY', { LEAKGUARD_DATA_KEY: AUDIT_KEY_HEX.toUpperCase() }],
      ['LEAKGUARD_PREVIOUS_DATA_KEY', { LEAKGUARD_PREVIOUS_DATA_KEY_FILE: keyFile }],
    ] as const)
      expect(() => loadAuditKey(config({ ...env, LEAKGUARD_AUDIT_KEY: AUDIT_KEY_HEX }), { create: true })).toThrow(
        `invalid configuration:\n  LEAKGUARD_AUDIT_KEY: must differ from ${variable}: stream processors hold the card and data keys, and must not be able to sign a checkpoint of a cut audit log; give the audit key one of its own (openssl rand -hex 32)`,
      );
    expect(() =>
      loadAuditKey(config({ LEAKGUARD_AUDIT_KEY_FILE: keyFile, LEAKGUARD_CARD_KEY: AUDIT_KEY_HEX }), { create: true }),
    ).toThrow(/LEAKGUARD_AUDIT_KEY_FILE: must differ from LEAKGUARD_CARD_KEY/);
    expect(
      loadAuditKey(config({ LEAKGUARD_AUDIT_KEY: AUDIT_KEY_HEX, LEAKGUARD_CARD_KEY: 'b'.repeat(64) }), {
        create: true,
      })!.key.id,
    ).toMatch(/^[0-9a-f]{8}$/);
    expect(() => config({ DATABASE_MIGRATION_URL: 'postgres://owner@db/x' })).toThrow(
      /DATABASE_MIGRATION_URL: needs DATABASE_URL/,
    );
    expect(loadAuditKey(config({}), { create: false })).toBeUndefined();
    const made = loadAuditKey(config({}), { create: true })!;
    expect(made).toMatchObject({
      createdDevelopmentKey: true,
      developmentKeyFile: join(stateDir, 'development-audit-key'),
      key: { id: expect.stringMatching(/^dev-[0-9a-f]{8}$/) },
    });
    expect(statSync(made.developmentKeyFile!).mode & 0o777).toBe(0o600);
    expect(loadAuditKey(config({}), { create: false })!.key).toEqual(made.key);
    const given = loadAuditKey(config({ LEAKGUARD_AUDIT_KEY: AUDIT_KEY_HEX, NODE_ENV: 'production' }), {
      create: true,
    })!;
    expect(given.developmentKeyFile).toBeUndefined();
    const path = checkpointFileOf(config({}), made.key.id);
    expect(path.startsWith(join(process.env.XDG_STATE_HOME!, 'leakguard', 'audit-checkpoints'))).toBe(true);
    expect(relative(stateDir, path).startsWith('..')).toBe(true);
    // One file per key and database: another database, another file.
    expect(checkpointFileOf(config({ DATABASE_URL: 'postgres://app@db:5432/one' }), made.key.id)).not.toBe(
      checkpointFileOf(config({ DATABASE_URL: 'postgres://app@db:5432/two' }), made.key.id),
    );
    expect(checkpointFileOf(config({ DATABASE_URL: 'postgres://app:pw@db:5432/one' }), made.key.id)).toBe(
      checkpointFileOf(config({ DATABASE_URL: 'postgres://owner@db/one' }), made.key.id),
    );
    expect(checkpointFileOf(config({ LEAKGUARD_AUDIT_CHECKPOINT_FILE: '/var/lib/x.ndjson' }), made.key.id)).toBe(
      '/var/lib/x.ndjson',
    );
  });
});

describe('npm start in production', () => {
  it('refuses to start without an audit key, as without a card key', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'lg-prod-audit-'));
    const res = spawnSync(process.execPath, [join(root, 'services/main.ts')], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        LEAKGUARD_CARD_KEY: 'b'.repeat(64),
        LEAKGUARD_DATA_KEY: 'e'.repeat(64),
        LEAKGUARD_AUDIT_KEY: '',
        LEAKGUARD_STATE_DIR: stateDir,
        PORT: '0',
        REDIS_URL: '',
        DATABASE_URL: '',
        LEAKGUARD_MODEL: 'off',
      },
    });
    expect(res.status, res.stdout + res.stderr).toBe(2);
    expect(res.stderr).toContain(
      'LEAKGUARD_AUDIT_KEY: required in production (or LEAKGUARD_AUDIT_KEY_FILE); refusing to start without a key to sign audit checkpoints',
    );
    expect(res.stdout).not.toContain('Listening on');
  });

  it('refuses to start with the card key as the audit key', () => {
    const res = spawnSync(process.execPath, [join(root, 'services/main.ts')], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        LEAKGUARD_CARD_KEY: 'b'.repeat(64),
        LEAKGUARD_DATA_KEY: 'e'.repeat(64),
        LEAKGUARD_AUDIT_KEY: 'b'.repeat(64),
        LEAKGUARD_STATE_DIR: mkdtempSync(join(tmpdir(), 'lg-prod-audit-')),
        PORT: '0',
        REDIS_URL: '',
        DATABASE_URL: '',
        LEAKGUARD_MODEL: 'off',
      },
    });
    expect(res.status, res.stdout + res.stderr).toBe(2);
    expect(res.stderr).toContain('LEAKGUARD_AUDIT_KEY: must differ from LEAKGUARD_CARD_KEY');
    expect(res.stdout).not.toContain('Listening on');
  });
});

describe.sequential('the engine writes checkpoints; npm run audit -- verify reads them (PGlite)', () => {
  it(
    'checkpoints the head every few seconds and at shutdown; verify then names a cut made while it was stopped',
    { timeout: 120_000 },
    async () => {
      const t = await buildTestApp({}, { cases: true });
      const env = { LEAKGUARD_STATE_DIR: t.stateDir, DATABASE_URL: '' };
      let closed = false;
      try {
        const audit = t.runtime.cases!.audit;
        await appendSome(audit as PostgresAuditLog, 3);
        const head = (await audit.head())!;
        // Default place: outside the state directory, one file per key and database.
        const config = loadConfig({ LEAKGUARD_STATE_DIR: t.stateDir });
        const path = checkpointFileOf(config, loadAuditKey(config, { create: false })!.key.id);
        expect(relative(t.stateDir, path).startsWith('..')).toBe(true);
        const lines = () =>
          existsSync(path)
            ? readFileSync(path, 'utf8')
                .trim()
                .split('\n')
                // Created (empty) by the engine's open a moment before its first line is written.
                .filter((l) => l !== '')
                .map((l) => JSON.parse(l) as { seq: number; by: string })
            : [];
        // The periodic pass (the key audit's entries for the test's API keys may land first).
        const end = Date.now() + 15_000;
        while (!lines().some((c) => c.seq >= head.seq) && Date.now() < end)
          await new Promise((r) => setTimeout(r, 200));
        expect(Math.max(...lines().map((c) => c.seq))).toBeGreaterThanOrEqual(head.seq);
        expect(lines()[0]!.by).toMatch(/^engine@/);
        expect(statSync(path).mode & 0o777).toBe(0o600);
        // Appended after the last periodic pass: the shutdown's checkpoint covers it.
        const final = await audit.append({ actor: 'alice', action: 'logout', target: 'user:alice' });
        await t.close();
        closed = true;
        const last = (await new CheckpointFile(path, loadAuditKey(config, { create: false })!.key).read()).valid.at(
          -1,
        )!;
        expect(last).toMatchObject({ seq: final.seq, hash: final.hash });

        expect(cli('audit.ts', env, 'verify').stdout).toMatch(
          new RegExp(
            `^audit log intact: ${last.seq} entries, chain verified; \\d+ signed checkpoints in ${path} hold, the furthest #${last.seq} of `,
          ),
        );
        // While nothing runs, the owner of the files cuts the last two entries.
        const sql = await PgliteSqlClient.open(join(t.stateDir, 'pglite'));
        await asOwner(sql, () => sql.query('DELETE FROM audit_log WHERE seq > $1', [last.seq - 2]));
        await sql.close();
        const cut = cli('audit.ts', env, 'verify');
        expect(cut.status, cut.stderr).toBe(1);
        expect(cut.stdout).toBe(
          `audit log CUT: the log ends at #${last.seq - 2} but the checkpoint of ${last.at} signed #${last.seq} with hash ${short(last.hash)}: entries #${last.seq - 1}..#${last.seq} were removed (${last.seq - 2} entries verified)\n`,
        );
        expect(JSON.parse(cli('audit.ts', env, 'verify', '--json').stdout)).toMatchObject({
          ok: false,
          problem: 'removed',
          brokenAt: last.seq - 1,
        });
        // A CLI that appends (one entry, short of the old head still) notices it too, and says so.
        const late = cli(
          'users.ts',
          { ...env, LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14' },
          'create-admin',
          '--username',
          'late-admin',
        );
        expect(late.status, late.stderr).toBe(0);
        expect(late.stderr).toContain(
          `AUDIT LOG TAMPERING: the log ends at #${last.seq - 1} but the checkpoint of ${last.at} signed #${last.seq}: entries #${last.seq}..#${last.seq} were removed. Run npm run audit -- verify`,
        );
        expect(cli('audit.ts', env, 'verify').status).toBe(1);
      } finally {
        if (!closed) await t.close();
      }
    },
  );
});

/** The engine started on `databaseUrl` (embedded Redis) until it exits, within two minutes. */
describe.sequential('the engine raises a metric with its tampering alarm (PGlite)', () => {
  it(
    'sets leakguard_audit_tampering_detected to 1 at the pass that finds the log cut',
    { timeout: 60_000 },
    async () => {
      const t = await buildTestApp({}, { cases: true });
      try {
        const tampering = async () =>
          (await t.runtime.metrics.registry.getSingleMetric('leakguard_audit_tampering_detected')!.get()).values[0]
            ?.value;
        const audit = t.runtime.cases!.audit as PostgresAuditLog;
        await appendSome(audit, 3);
        const head = (await audit.head())!;
        const config = loadConfig({ LEAKGUARD_STATE_DIR: t.stateDir });
        const file = new CheckpointFile(
          checkpointFileOf(config, loadAuditKey(config, { create: false })!.key.id),
          loadAuditKey(config, { create: false })!.key,
        );
        const signed = async () => (await file.read()).valid.some((c) => c.seq >= head.seq);
        for (let end = Date.now() + 15_000; !(await signed()) && Date.now() < end;)
          await new Promise((r) => setTimeout(r, 200));
        expect(await signed()).toBe(true);
        expect(await tampering()).toBe(0);
        const sql = t.runtime.cases!.sql;
        await asOwner(sql, () => sql.query('DELETE FROM audit_log WHERE seq > $1', [head.seq - 2]));
        for (let end = Date.now() + 15_000; (await tampering()) !== 1 && Date.now() < end;)
          await new Promise((r) => setTimeout(r, 200));
        expect(await tampering()).toBe(1);
      } finally {
        await t.close();
      }
    },
  );
});

async function engineUntilExit(databaseUrl: string): Promise<{ status: number | null; output: string }> {
  const engine = spawnSync(process.execPath, [join(root, 'services/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PORT: String(await freePort()),
      REDIS_URL: '',
      DATABASE_URL: databaseUrl,
      DATABASE_MIGRATION_URL: '',
      LEAKGUARD_MODEL: 'off',
      LEAKGUARD_STATE_DIR: mkdtempSync(join(tmpdir(), 'lg-engine-exit-')),
    },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: engine.status, output: `${engine.stdout}${engine.stderr}` };
}

describe.sequential('on a real PostgreSQL', () => {
  let server: PostgresServer;
  const urls = (db: string) => ({
    owner: `postgres://lg_owner@127.0.0.1:${server.port}/${db}`,
    app: `postgres://lg_app@127.0.0.1:${server.port}/${db}`,
  });
  beforeAll(async () => {
    server = await PostgresServer.start();
    const su = new pg.Client({ connectionString: server.url });
    await su.connect();
    // The owner is no superuser (as in production): it owns the database and, through migrations, the tables.
    await su.query('CREATE ROLE lg_owner LOGIN; CREATE ROLE lg_app LOGIN');
    for (const db of [
      'lp_cli',
      'lp_unverified',
      'lp_engine',
      'lp_split',
      'lp_refuse',
      'lp_behind',
      'lp_empty',
      'lp_fresh_cli',
      'lp_fresh_engine',
    ])
      await su.query(`CREATE DATABASE ${db} OWNER lg_owner`);
    await su.end();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('npm run audit -- verify names a cut tail and a forged checkpoint; npm run users checkpoints what it appends', async () => {
    const { owner } = urls('lp_cli');
    const file = tempFile('checkpoints.ndjson');
    const env = {
      DATABASE_URL: owner,
      LEAKGUARD_AUDIT_KEY: AUDIT_KEY_HEX,
      LEAKGUARD_AUDIT_CHECKPOINT_FILE: file,
      LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14',
      LEAKGUARD_STATE_DIR: mkdtempSync(join(tmpdir(), 'lg-state-')),
    };
    for (const name of ['first-admin', 'second-admin'])
      expect(cli('users.ts', env, 'create-admin', '--username', name).status).toBe(0);
    const written = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; by: string; at: string; hash: string });
    expect(written.map((c) => c.seq)).toEqual([1, 2]);
    expect(written[1]!.by).toMatch(/^cli:users@/);
    expect(cli('audit.ts', env, 'verify').stdout).toContain(
      'audit log intact: 2 entries, chain verified; 2 signed checkpoints',
    );

    const sql = new PgSqlClient({ connectionString: owner });
    await asOwner(sql, () => sql.query('DELETE FROM audit_log WHERE seq = 2'));
    await sql.close();
    const cut = cli('audit.ts', env, 'verify');
    expect(cut.status).toBe(1);
    expect(cut.stdout).toContain(
      `audit log CUT: the log ends at #1 but the checkpoint of ${written[1]!.at} signed #2 with hash ${short(written[1]!.hash)}: entries #2..#2 were removed`,
    );

    // The checkpoint rewritten to agree with the cut log: its signature no longer holds.
    writeFileSync(
      file,
      `${readFileSync(file, 'utf8').trim().split('\n')[0]}\n${JSON.stringify({ ...written[1], seq: 1, hash: written[0]!.hash })}\n`,
    );
    const forged = cli('audit.ts', env, 'verify');
    expect(forged.status).toBe(1);
    expect(forged.stdout).toMatch(
      new RegExp(
        `^audit checkpoint NOT GENUINE: line 2 of ${file} \\(checkpoint of ${written[1]!.at}, #1\\) has a bad signature`,
      ),
    );

    // A rewrite with recomputed hashes, as a process sees it.
    const other = tempFile('rewrite.ndjson');
    const env2 = { ...env, LEAKGUARD_AUDIT_CHECKPOINT_FILE: other };
    expect(cli('users.ts', env2, 'create-admin', '--username', 'third-admin').status).toBe(0);
    const sql2 = new PgSqlClient({ connectionString: owner });
    await rewriteFrom(sql2, 1);
    await sql2.close();
    const rewritten = cli('audit.ts', env2, 'verify');
    expect(rewritten.status).toBe(1);
    expect(rewritten.stdout).toMatch(
      /^audit log REWRITTEN: entry #2 has hash .* but the checkpoint of .* signed #2 with hash .*: entries #1..#2 were rewritten/,
    );
  });

  it('npm run audit -- verify finds no checkpoint where it looks: UNVERIFIED (exit 3) naming the file, never "intact"', async () => {
    const { owner } = urls('lp_unverified');
    const file = tempFile('checkpoints.ndjson');
    const env = {
      DATABASE_URL: owner,
      NODE_ENV: 'production',
      LEAKGUARD_AUDIT_KEY: AUDIT_KEY_HEX,
      LEAKGUARD_AUDIT_CHECKPOINT_FILE: file,
      LEAKGUARD_CARD_KEY: 'd'.repeat(64),
      LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14',
      LEAKGUARD_STATE_DIR: mkdtempSync(join(tmpdir(), 'lg-state-')),
    };
    expect(cli('users.ts', env, 'create-admin', '--username', 'first-admin').status).toBe(0);
    expect(cli('users.ts', env, 'create', '--username', 'an-analyst', '--role', 'analyst').status).toBe(0);
    expect(cli('users.ts', env, 'unlock', '--username', 'first-admin').status).toBe(0);
    const sql = new PgSqlClient({ connectionString: owner });
    const entries = Number((await sql.query<{ n: string }>('SELECT count(*) AS n FROM audit_log')).rows[0]!.n);
    expect(entries).toBeGreaterThanOrEqual(3);
    await asOwner(sql, () => sql.query('DELETE FROM audit_log WHERE seq >= 2'));
    await sql.close();
    // With the engine's settings: the cut.
    const cut = cli('audit.ts', env, 'verify');
    expect(cut.status).toBe(1);
    expect(cut.stdout).toContain('audit log CUT: the log ends at #1');

    // A typo in the file's name (or another user's home, another spelling of the host): no "intact".
    const typo = `${file}.typo`;
    const missing = cli('audit.ts', { ...env, LEAKGUARD_AUDIT_CHECKPOINT_FILE: typo }, 'verify');
    expect(missing.status).toBe(3);
    expect(missing.stdout).toBe(
      `audit log UNVERIFIED: 1 entries, chain verified, but no checkpoint file ${typo} (not found): a cut tail cannot be ruled out. Run this with the engine's LEAKGUARD_AUDIT_KEY and LEAKGUARD_AUDIT_CHECKPOINT_FILE (the default file depends on the home directory, the audit key and how DATABASE_URL spells its host)\n`,
    );
    expect(existsSync(typo)).toBe(false); // verify writes nothing
    const json = cli('audit.ts', { ...env, LEAKGUARD_AUDIT_CHECKPOINT_FILE: typo }, 'verify', '--json');
    expect(json.status).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: null,
      checked: 1,
      problem: 'no-checkpoint',
      checkpoints: { file: typo, valid: 0, missing: true },
    });
    // A file there but without a checkpoint: the same.
    const empty = tempFile('empty.ndjson');
    writeFileSync(empty, '');
    const none = cli('audit.ts', { ...env, LEAKGUARD_AUDIT_CHECKPOINT_FILE: empty }, 'verify');
    expect(none.status).toBe(3);
    expect(none.stdout).toContain(`but no signed checkpoint in ${empty}: a cut tail cannot be ruled out`);
    // No audit key at all (development, another state directory): the same.
    const { LEAKGUARD_AUDIT_KEY: _, NODE_ENV: __, ...withoutKey } = env;
    const keyless = cli('audit.ts', { ...withoutKey, LEAKGUARD_AUDIT_KEY: '' }, 'verify');
    expect(keyless.status).toBe(3);
    expect(keyless.stdout).toContain('but no audit key (LEAKGUARD_AUDIT_KEY) to check it against');

    // A writer starting on a log with entries but no checkpoint file says so: nothing before it can be judged.
    const fresh = tempFile('fresh.ndjson');
    const writer = cli(
      'users.ts',
      { ...env, LEAKGUARD_AUDIT_CHECKPOINT_FILE: fresh },
      'create',
      '--username',
      'a-lead',
      '--role',
      'lead',
    );
    expect(writer.status).toBe(0);
    expect(writer.stderr).toMatch(
      new RegExp(
        `AUDIT LOG UNCHECKPOINTED: no checkpoint file ${fresh}, but the audit log already holds entries up to #\\d+: a cut before now cannot be seen`,
      ),
    );
    // From then on that file covers the log.
    expect(cli('audit.ts', { ...env, LEAKGUARD_AUDIT_CHECKPOINT_FILE: fresh }, 'verify').status).toBe(0);
  });

  it('a fresh deployment is not warned of the entries its first writer appends: only of entries before it', async () => {
    const { owner } = urls('lp_fresh_cli');
    const file = tempFile('checkpoints.ndjson');
    const env = {
      DATABASE_URL: owner,
      NODE_ENV: 'production',
      LEAKGUARD_AUDIT_KEY: AUDIT_KEY_HEX,
      LEAKGUARD_AUDIT_CHECKPOINT_FILE: file,
      LEAKGUARD_CARD_KEY: 'd'.repeat(64),
      LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14',
      LEAKGUARD_STATE_DIR: mkdtempSync(join(tmpdir(), 'lg-state-')),
    };
    // The first API key of a new deployment: its key_create is entry #1, written by this very command.
    const key = cli('keys.ts', env, 'create', '--role', 'admin', '--label', 'ops');
    expect(key.status, key.stderr).toBe(0);
    expect(key.stderr).not.toContain('UNCHECKPOINTED');
    expect(key.stdout).toContain('written to the audit log');
    const signed = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; by: string });
    expect(signed.map((c) => [c.seq, c.by.split('@')[0]])).toEqual([[1, 'cli:keys']]);
    const admin = cli('users.ts', env, 'create-admin', '--username', 'first-admin');
    expect(admin.status, admin.stderr).toBe(0);
    expect(admin.stderr).not.toContain('UNCHECKPOINTED');
    expect(cli('audit.ts', env, 'verify').stdout).toContain(
      'audit log intact: 2 entries, chain verified; 2 signed checkpoints',
    );
    // Another file while the log already held entries #1..#2: warned of those, not of its own #3.
    const other = tempFile('other.ndjson');
    const late = cli(
      'users.ts',
      { ...env, LEAKGUARD_AUDIT_CHECKPOINT_FILE: other },
      'unlock',
      '--username',
      'first-admin',
    );
    expect(late.status, late.stderr).toBe(0);
    expect(late.stderr).toContain(
      `AUDIT LOG UNCHECKPOINTED: no checkpoint file ${other}, but the audit log already holds entries up to #2: a cut before now cannot be seen`,
    );
  });

  it('an engine started on a fresh database is not warned of the key audit it writes at its start', async () => {
    const { owner } = urls('lp_fresh_engine');
    const file = tempFile('engine.ndjson');
    // API keys made before the engine first reached its database (npm run keys without one).
    const t = await buildTestApp({ DATABASE_URL: owner, LEAKGUARD_AUDIT_CHECKPOINT_FILE: file });
    try {
      await t.runtime.openCases();
      const head = (await t.runtime.cases!.audit.head())!;
      // The test's four API keys, audited by this engine at its start, before its first checkpoint.
      expect(head.seq).toBe(4);
      const actions = (await t.runtime.cases!.audit.list({ limit: 50 })).map((e) => e.action);
      expect(new Set(actions)).toEqual(new Set(['key_create']));
      const seqs = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { seq: number }).seq);
      expect(seqs).toContain(head.seq);
      expect(t.logs.filter((l) => l.includes('UNCHECKPOINTED'))).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('npm run db -- migrate runs the migrations as the owner; the application role may only read and append to the audit log', async () => {
    const { owner, app } = urls('lp_split');
    const migrated = cli('db.ts', { DATABASE_URL: app, DATABASE_MIGRATION_URL: owner }, 'migrate');
    expect(migrated.status, migrated.stderr).toBe(0);
    expect(migrated.stdout).toContain('lg_app may read and write the cases and only read and append to the audit log');
    const sql = new PgSqlClient({ connectionString: app });
    try {
      const audit = new PostgresAuditLog(sql);
      await appendSome(audit, 3);
      expect((await audit.list({ limit: 10 })).map((e) => e.seq)).toEqual([3, 2, 1]);
      expect(await audit.verify()).toEqual({ ok: true, checked: 3 });
      for (const statement of [
        'DELETE FROM audit_log WHERE seq = 3',
        `UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`,
        'TRUNCATE audit_log',
      ]) {
        await expect(sql.query(statement), statement).rejects.toMatchObject({
          code: '42501',
          message: 'permission denied for table audit_log',
        });
      }
      for (const statement of [
        'ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update',
        'ALTER TABLE audit_log DISABLE TRIGGER ALL',
        'DROP TABLE audit_log',
        'DROP TRIGGER audit_log_no_update ON audit_log',
      ]) {
        await expect(sql.query(statement), statement).rejects.toMatchObject({
          code: '42501',
          message: expect.stringMatching(/^must be owner of (table|relation) audit_log$/),
        });
      }
      await expect(
        sql.query(`INSERT INTO schema_migrations (version, name, checksum) VALUES (999, 'x', 'x')`),
      ).rejects.toMatchObject({ code: '42501' });
      await expect(sql.query('CREATE TABLE audit_copy (x int)')).rejects.toMatchObject({ code: '42501' });
      // Its own appends stay possible, and the owner's rights stay the owner's.
      await audit.append({ actor: 'alice', action: 'logout', target: 'user:alice' });
      expect(await audit.verify()).toEqual({ ok: true, checked: 4 });
    } finally {
      await sql.close();
    }
  });

  it('the engine works as the application role: console login, a case decided, everything audited', async () => {
    const { app } = urls('lp_split');
    const t: TestApp = await buildTestApp(
      {
        DATABASE_URL: app,
        LEAKGUARD_PASSWORD_SCRYPT_LOG_N: '14',
        LEAKGUARD_AUDIT_CHECKPOINT_FILE: tempFile('engine.ndjson'),
      },
      { cases: true },
    );
    try {
      const cases = t.runtime.cases!;
      const who = (await cases.sql.query<{ user: string }>('SELECT current_user AS user')).rows[0]!.user;
      expect(who).toBe('lg_app');
      const analyst = await createAccount(cases.users, cases.audit, 'lp-analyst', 'analyst', 'test', {
        logN: 14,
        r: 8,
        p: 1,
      });
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/score',
        headers: { ...bearer(t.keys.merchant), 'content-type': 'application/json' },
        payload: {
          transactionId: 'lp-1',
          amount: 2500,
          currency: 'EUR',
          channel: 'ecommerce',
          card: { number: '5555555555554444', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' },
        },
      });
      expect(res.json().decision).not.toBe('approve');
      await t.runtime.flaggedSink.drain();
      await cases.ingester.idle();
      const c = (await cases.store.getByTransaction('m1', 'lp-1'))!;
      const client = new ConsoleClient(t.app, '10.7.0.1');
      expect((await client.login(analyst.username, analyst.password, analyst.totpSecret)).status).toBe(303);
      expect((await client.get(`/console/cases/${c.id}`)).status).toBe(200);
      expect(
        (await client.post(`/console/cases/${c.id}/decision`, { action: 'mark_fraud', note: 'confirmed', confirm: 1 }))
          .status,
      ).toBe(303);
      expect((await client.post('/console/logout')).status).toBe(200);
      expect((await cases.store.labelledCases()).find((l) => l.caseId === c.id)).toMatchObject({ label: 'fraud' });
      const actions = (await cases.audit.list({ limit: 50 })).map((e) => e.action);
      expect(actions).toEqual(
        expect.arrayContaining(['user_create', 'login', 'case_view', 'case_decision', 'case_note', 'logout']),
      );
      expect(await cases.audit.verify()).toMatchObject({ ok: true });
    } finally {
      await t.close();
    }
  });

  it('the engine given DATABASE_MIGRATION_URL too migrates as the owner and connects as the application role', async () => {
    const { owner, app } = urls('lp_engine');
    const t = await buildTestApp(
      { DATABASE_URL: app, DATABASE_MIGRATION_URL: owner, LEAKGUARD_AUDIT_CHECKPOINT_FILE: tempFile('engine.ndjson') },
      { cases: true },
    );
    try {
      const sql = t.runtime.cases!.sql;
      const rights = await sql.query<{ owner: string; del: boolean; ins: boolean }>(
        `SELECT pg_get_userbyid(relowner) AS owner, has_table_privilege('audit_log', 'DELETE') AS del, has_table_privilege('audit_log', 'INSERT') AS ins FROM pg_class WHERE oid = 'audit_log'::regclass`,
      );
      expect(rights.rows[0]).toEqual({ owner: 'lg_owner', del: false, ins: true });
      await expect(sql.exec('ALTER TABLE audit_log DISABLE TRIGGER USER')).rejects.toThrow(
        'must be owner of table audit_log',
      );
    } finally {
      await t.close();
    }
  });

  it('an engine of the application role on a database behind its migrations stops, naming the one to apply', async () => {
    // A rolling deploy whose `npm run db -- migrate` step was forgotten: the owner's database is one
    // migration behind this version. The engine served on, /readyz ready, the console 503 and the
    // archive silently unwritten; it must stop so that the previous version keeps serving.
    const { owner, app } = urls('lp_behind');
    const asOwner = new PgSqlClient({ connectionString: owner });
    const all = loadMigrations();
    try {
      await migrate(asOwner, all.slice(0, -1));
      await grantApplicationRole(asOwner, 'lg_app');
    } finally {
      await asOwner.close();
    }
    const last = all.at(-1)!;
    const stem = `${String(last.version).padStart(3, '0')}_${last.name}`;
    const { status, output } = await engineUntilExit(app);
    expect(status, output).toBe(1);
    expect(output).toContain(
      `case database could not be opened, stopping: migration ${stem} is not applied and this role may not apply it`,
    );
    expect(output).toContain("run the migrations as the tables' owner (DATABASE_MIGRATION_URL, npm run db -- migrate)");
    expect(output).not.toContain('"stack"');
  });

  it('an engine of the application role on an empty database stops too, saying what to run', async () => {
    // The set-up's first migrate step forgotten: the role may not create tables (PostgreSQL 15 and
    // later give PUBLIC no CREATE on the public schema). It served on with the console down.
    const { status, output } = await engineUntilExit(urls('lp_empty').app);
    expect(status, output).toBe(1);
    expect(output).toContain(
      'case database could not be opened, stopping: the database holds no migrations yet and this role may not apply them',
    );
    expect(output).toContain('npm run db -- migrate');
    expect(output).not.toContain('"stack"');
  });

  it('an engine whose DATABASE_URL names a database that does not exist stops too', async () => {
    const { status, output } = await engineUntilExit(urls('lp_nowhere').app);
    expect(status, output).toBe(1);
    // (the log line's JSON escapes the quotes)
    expect(output).toContain('case database could not be opened, stopping: database \\"lp_nowhere\\" does not exist');
    expect(output).not.toContain('"stack"');
  });

  it('refuses to grant to a role that could cut the log, and the application role cannot apply a migration', async () => {
    const { owner, app } = urls('lp_refuse');
    const asApp = new PgSqlClient({ connectionString: app });
    const asOwnerClient = new PgSqlClient({ connectionString: owner });
    try {
      await expect(migrate(asApp)).rejects.toThrow(
        /^the database holds no migrations yet and this role may not apply them \(permission denied for schema public\): run the migrations as the tables' owner/,
      );
      await expect(migrate(asApp)).rejects.toBeInstanceOf(DatabaseSetupError);
      await migrate(asOwnerClient);
      await expect(grantApplicationRole(asOwnerClient, 'lg_owner')).rejects.toThrow(
        'DATABASE_URL connects as lg_owner, which owns the audit log (or is a member of its owner): it could cut the audit log',
      );
      await expect(grantApplicationRole(asOwnerClient, 'postgres')).rejects.toThrow(
        /which is a superuser: it could cut the audit log/,
      );
      await expect(grantApplicationRole(asOwnerClient, 'nobody_here')).rejects.toThrow(/a role that does not exist/);
      await expect(grantApplicationRole(asOwnerClient, 'x"; DROP TABLE audit_log; --')).rejects.toThrow(
        /not a plain role name/,
      );
      await grantApplicationRole(asOwnerClient, 'lg_app');
      // A migration the owner has not applied yet: the application's role is told who must.
      const next = [{ version: 999, name: 'later', sql: 'CREATE TABLE later (x int)', checksum: 'c' }];
      await expect(migrate(asApp, next)).rejects.toThrow(
        /^migration 999_later is not applied and this role may not apply it \(permission denied for schema public\): run the migrations as the tables' owner/,
      );
    } finally {
      await asApp.close();
      await asOwnerClient.close();
    }
  });
});
