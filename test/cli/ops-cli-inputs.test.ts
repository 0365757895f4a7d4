// What the operators' CLIs refuse before doing anything: `npm run audit -- export --out` where no
// file can be written (before the database is opened), and an API key label holding control
// characters (a newline in it forged a line of `npm run keys -- list`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');

function cliIn(stateDir: string) {
  const env = { ...process.env, REDIS_URL: '', DATABASE_URL: '', LEAKGUARD_STATE_DIR: stateDir };
  return (script: string, ...args: string[]) =>
    spawnSync(process.execPath, [join(root, 'services/cli', script), ...args], { cwd: root, env, encoding: 'utf8' });
}

describe('npm run audit -- export --out', () => {
  it('refuses a file it cannot write before opening the database: exit 2, naming why', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'lg-state-'));
    const cli = cliIn(stateDir);
    const out = join(stateDir, 'no-such-dir', 'audit.ndjson');
    const res = cli('audit.ts', 'export', '--out', out);
    expect({ status: res.status, stderr: res.stderr, stdout: res.stdout }).toEqual({
      status: 2,
      stderr: `audit: --out ${out}: no folder ${join(stateDir, 'no-such-dir')}\n`,
      stdout: '',
    });
    // Nothing was opened, so nothing was made: no embedded database in the state directory.
    expect(existsSync(join(stateDir, 'pglite'))).toBe(false);
    const folder = cli('audit.ts', 'export', '--out', stateDir);
    expect(folder.status).toBe(2);
    expect(folder.stderr).toBe(`audit: --out ${stateDir}: ${stateDir} is a folder\n`);
  });
});

describe('npm run keys -- create --label', () => {
  it('refuses control characters, naming the first and where it is; nothing is created', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'lg-state-'));
    const cli = cliIn(stateDir);
    const forged = 'ops\nkey_000000000000  admin     -                     created 2026-01-01T00:00:00.000Z  active';
    const cases: [string, string][] = [
      [forged, 'U+000A (line feed) at character 4'],
      ['ops\r', 'U+000D (carriage return) at character 4'],
      ['a\tb', 'U+0009 (tab) at character 2'],
      ['x\u001b[2Jy', 'U+001B (escape) at character 2'],
      ['ops\u2028team', 'U+2028 (line separator) at character 4'],
      ['del\u007f', 'U+007F at character 4'],
      ['\u{1F4B3}\n', 'U+000A (line feed) at character 2'],
    ];
    for (const [label, found] of cases) {
      const res = cli('keys.ts', 'create', '--role', 'admin', '--label', label);
      expect({ status: res.status, stderr: res.stderr }).toEqual({
        status: 2,
        stderr: `keys: --label must not contain control characters (${found}): a label is one line of text\n`,
      });
    }
    expect(cli('keys.ts', 'list').stdout).toBe('No API keys.\n');
    // Letters, spaces and punctuation of any script remain labels.
    const ok = cli('keys.ts', 'create', '--role', 'admin', '--label', 'Équipe ops — paiements (2026)');
    expect(ok.status, ok.stderr).toBe(0);
    const listed = cli('keys.ts', 'list').stdout.split('\n').filter(Boolean);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatch(/ {2}\(Équipe ops — paiements \(2026\)\)$/);
    // A label stored before they were refused is listed escaped, on its key's one line.
    const file = join(stateDir, 'api-keys.json');
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { keys: { label?: string }[] };
    stored.keys[0]!.label = forged;
    writeFileSync(file, JSON.stringify(stored));
    const old = cli('keys.ts', 'list').stdout.split('\n').filter(Boolean);
    expect(old).toHaveLength(1);
    expect(old[0]).toMatch(/ {2}active {2}\(ops\\u000akey_.* {2}active\)$/);
  }, 120_000);
});
