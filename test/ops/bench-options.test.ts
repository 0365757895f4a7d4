// The benchmarks' command lines: `--help` prints their usage, an unknown option is one line naming it
// with the usage (exit 2), never a stack trace. Nothing is measured: both stop before any set-up.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const BENCHES = ['backtest', 'cpp', 'cost', 'api', 'watchlist'];
const run = (bench: string, arg: string) =>
  spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', `load-tests/bench-${bench}.ts`, arg], {
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('benchmark options', () => {
  it.each(BENCHES)('bench:%s --help prints its usage and exits 0', (bench) => {
    const r = run(bench, '--help');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^usage: npm run bench:${bench} -- `));
  });

  it.each(BENCHES)('bench:%s refuses an unknown option in one line with its usage, exit 2, no stack trace', (bench) => {
    const r = run(bench, '--no-such-option');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`bench:${bench}: Unknown option '--no-such-option'`);
    expect(r.stderr).toContain(`usage: npm run bench:${bench} -- `);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
