// `npm run backtest` and `npm run replay` as commands: dates that are real calendar days, and
// progress that shows when stderr is not a terminal (the helpers of `model` and `simulate`).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'lg-backtest-cli-'));
const node = (script: string, args: string[]) =>
  spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', script, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, LEAKGUARD_MODEL: 'off', LEAKGUARD_STATE_DIR: dir },
  });

describe('backtest and replay flags', () => {
  it('refuse a date that is not a calendar day, with the usage and exit code 2', () => {
    for (const [flag, value] of [
      ['--from', '2018-02-30'],
      ['--to', '2018-04-31'],
      ['--from', '2018-02-30T10:00:00Z'],
      ['--to', 'yesterday'],
    ] as const) {
      const r = node('models/cli/backtest.ts', [flag, value]);
      expect(r.status, `${flag} ${value}`).toBe(2);
      expect(r.stderr).toContain(`${flag}: expected a calendar date as YYYY-MM-DD or an ISO 8601 time, not ${value}\n`);
      expect(r.stderr).toContain('usage: npm run backtest');
    }
    const replay = node('models/cli/replay.ts', ['x.ndjson', '--to', '2019-02-29']);
    expect(replay.status).toBe(2);
    expect(replay.stderr).toContain('--to: expected a calendar date as YYYY-MM-DD or an ISO 8601 time, not 2019-02-29');
  });

  it('refuse a --merchant holding a card number, without echoing it (it is printed in the report)', () => {
    for (const [script, args] of [
      ['models/cli/replay.ts', ['x.ndjson']],
      ['models/cli/model.ts', ['train-recorded', '--out', join(dir, 'm.json'), '--requests', 'x.ndjson']],
    ] as const) {
      const r = node(script, [...args, '--merchant', 'shop-4111 1111 1111 1111']);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toContain('--merchant: 1 to 128 characters that must not contain a card number');
      expect(`${r.stdout}${r.stderr}`).not.toMatch(/4111.?1111/);
    }
    const colon = node('models/cli/replay.ts', ['x.ndjson', '--merchant', 'shop:eu']);
    expect(colon.status, colon.stderr).toBe(2);
    expect(colon.stderr).toContain("--merchant: must not contain ':' (no merchant id the engine serves does)");
  });

  it('check --out before reading and replaying: a file in the way is said first, exit 2', () => {
    const file = join(dir, 'out-check.ndjson');
    const request = {
      merchantId: 'm1',
      transactionId: 'o-1',
      amount: 1000,
      currency: 'EUR',
      channel: 'ecommerce',
      occurredAt: '2026-01-05T10:00:00Z',
      card: { number: '4111111111111111', expiryMonth: 3, expiryYear: 2031, cvvResult: 'match' },
    };
    writeFileSync(file, `${JSON.stringify(request)}\n`);
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, '');
    // Before: the whole replay ran, then "ENOTDIR: not a directory, mkdir …" (exit 1), the report lost.
    for (const [script, args] of [
      ['models/cli/replay.ts', [file]],
      ['models/cli/backtest.ts', ['--source', file]],
    ] as const)
      for (const out of [join(blocker, 'report'), join(blocker, 'deeper', 'report')]) {
        const r = node(script, [...args, '--out', out]);
        expect(r.status, r.stderr).toBe(2);
        expect(r.stderr).toContain(`--out ${out}: ${blocker} is not a folder\n`);
        expect(r.stderr).not.toMatch(/^(read|replay): /m);
        expect(r.stderr).not.toMatch(/ENOTDIR|^\s+at /m);
      }
    // a folder that does not exist yet is created with its parents
    const fresh = join(dir, 'new', 'deeper', 'report');
    const ok = node('models/cli/replay.ts', [file, '--quiet', '--out', fresh]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(readdirSync(fresh).sort()).toEqual(['report.html', 'report.json']);
  }, 60_000);

  it("take --model off as none, the engine's word (LEAKGUARD_MODEL=off), not as a file named off", () => {
    const at = '2026-01-05T10:00:00Z';
    const requests = join(dir, 'model-off.ndjson');
    writeFileSync(
      requests,
      `${JSON.stringify({
        merchantId: 'm1',
        transactionId: 'off-1',
        amount: 1000,
        currency: 'EUR',
        channel: 'ecommerce',
        occurredAt: at,
        card: { number: '4111111111111111', expiryMonth: 3, expiryYear: 2031, cvvResult: 'match' },
      })}\n`,
    );
    // One scoring as an engine records it (a card's fingerprint, never its number).
    const recording = join(dir, 'model-off-recording.ndjson');
    writeFileSync(
      recording,
      `${JSON.stringify({
        kind: 'scored',
        v: 2,
        merchantId: 'm1',
        transactionId: 'off-2',
        at,
        request: {
          transactionId: 'off-2',
          amount: 1000,
          currency: 'EUR',
          channel: 'ecommerce',
          occurredAt: at,
          card: {
            fingerprint: 'fp-off',
            keyId: 'k1',
            bin: '411111',
            last4: '1111',
            expiryMonth: 12,
            expiryYear: 2030,
            cvvResult: 'match',
          },
        },
        entities: {},
        lookups: {},
        decision: 'approve',
        score: 0,
        reasons: [],
        degraded: false,
        versions: { engine: '0.1.0', ruleset: 'old' },
      })}\n`,
    );
    // Before: "cannot read model artifact <cwd>/off: ENOENT" (exit 1).
    for (const [script, args] of [
      ['models/cli/replay.ts', [requests]],
      ['models/cli/backtest.ts', ['--source', recording]],
    ] as const)
      for (const word of ['off', 'OFF', 'none']) {
        const out = join(dir, `model-${word}-${script.includes('replay') ? 'replay' : 'backtest'}`);
        const r = node(script, [...args, '--model', word, '--quiet', '--out', out]);
        expect(r.status, `${script} --model ${word}: ${r.stderr}`).toBe(0);
        expect(r.stdout).toContain('candidate: ruleset');
        expect(r.stdout).toMatch(/candidate: ruleset \S+, model none\n/);
        const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
          results: { label: string; versions: { model: string | null } }[];
        };
        expect(report.results.map((x) => [x.label, x.versions.model])).toEqual([
          ['in force', null],
          ['candidate', null],
        ]);
      }
  }, 120_000);

  it('say which files a folder is read for when it holds none of them', () => {
    const folder = join(dir, 'jsonl-only');
    mkdirSync(folder);
    writeFileSync(join(folder, 'orders.jsonl'), '{}\n');
    // Before: "nothing to replay in …" (exit 1), not saying only *.ndjson[.gz] are read.
    const r = node('models/cli/replay.ts', [folder, '--quiet', '--out', join(dir, 'jsonl-report')]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toBe(
      `${folder}: no *.ndjson or *.ndjson.gz file (only those are read from a folder; it holds 1 other entry, e.g. orders.jsonl): name the file itself, or rename it to .ndjson\n`,
    );
    // an empty folder is still nothing to replay
    const empty = join(dir, 'empty-folder');
    mkdirSync(empty);
    const none = node('models/cli/replay.ts', [empty, '--quiet', '--out', join(dir, 'empty-report')]);
    expect(none.status).toBe(1);
    expect(none.stderr).toBe(`nothing to replay in ${empty}\n`);
  });

  it('say how far they got when stderr is not a terminal', () => {
    const file = join(dir, 'requests.ndjson');
    const at = Date.parse('2026-01-05T10:00:00Z');
    const requests = [0, 1, 2].map((i) => ({
      merchantId: 'm1',
      transactionId: `p-${i}`,
      amount: 1000 + i,
      currency: 'EUR',
      channel: 'ecommerce',
      occurredAt: new Date(at + i * 60_000).toISOString(),
      card: { number: '4111111111111111', expiryMonth: 3, expiryYear: 2031, cvvResult: 'match' },
    }));
    writeFileSync(file, requests.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const r = node('models/cli/replay.ts', [file, '--from', '2026-01-05', '--out', join(dir, 'out')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^read: \d+\/\d+ bytes \(100 %\), \d+s in all$/m);
    expect(r.stderr).toMatch(/^replay: 3\/3 transactions \(100 %\), \d+s in all$/m);
    expect(node('models/cli/replay.ts', [file, '--quiet', '--out', join(dir, 'quiet')]).stderr).toBe('');
  }, 60_000);
});
