// Progress of long CLI work when stderr is not a terminal: a plain line every ~10 s and one at the end.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { progress } from '../../models/cli/progress.ts';

describe('progress without a terminal', () => {
  it('writes a line every 10 s with the count, share, time and what is left, then one at the end', () => {
    const lines: string[] = [];
    let t = 0;
    const p = progress('train', 100, {
      unit: 'trees',
      stream: { isTTY: false, write: (s: string) => lines.push(s) },
      now: () => t,
    });
    for (let done = 1; done <= 100; done++) {
      t += 500; // a tree every 0.5 s: 50 s in all
      p.update(done);
    }
    p.stop();
    p.stop();
    expect(lines).toEqual([
      'train: 20/100 trees (20 %), 10s elapsed, about 40s left\n',
      'train: 40/100 trees (40 %), 20s elapsed, about 30s left\n',
      'train: 60/100 trees (60 %), 30s elapsed, about 20s left\n',
      'train: 80/100 trees (80 %), 40s elapsed, about 10s left\n',
      'train: 100/100 trees (100 %), 50s elapsed\n',
      'train: 100/100 trees (100 %), 50s in all\n',
    ]);
  });

  it('simulate says how far it got when its output is a file', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--disable-warning=ExperimentalWarning',
        'models/cli/simulate.ts',
        ...[
          '--customers',
          '10',
          '--terminals',
          '20',
          '--days',
          '2',
          '--out',
          mkdtempSync(join(tmpdir(), 'lg-progress-')),
        ],
      ],
      { cwd: join(import.meta.dirname, '../..'), encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^simulate: 2\/2 days \(100 %\), \d+s in all$/m);
  });
});
