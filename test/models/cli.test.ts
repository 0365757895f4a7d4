import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadArtifact } from '../../services/model/artifact.ts';
import { HANDBOOK_FEATURE_SET, featureNames } from '../../services/model/definitions.ts';
import { featureSetIdentity } from '../../services/model/fingerprint.ts';

const run = (script: string, args: string[]) =>
  execFileSync(process.execPath, ['--disable-warning=ExperimentalWarning', script, ...args], {
    cwd: join(import.meta.dirname, '../..'),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });

describe('command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lg-cli-'));
  const data = join(dir, 'data');
  // 136 days from 2018-04-01 reach the handbook test week (2018-08-08..14)
  const sim = run('models/cli/simulate.ts', [
    '--customers',
    '300',
    '--terminals',
    '600',
    '--days',
    '136',
    '--seed',
    '4',
    '--quiet',
    '--out',
    data,
  ]);

  it('simulate writes the daily files and prints a summary', () => {
    expect(readdirSync(data)).toHaveLength(136);
    expect(sim).toMatch(/transactions: \d+/);
    expect(sim).toMatch(/fraud rate \d+\.\d+ %/);
  });

  it('simulate refuses a folder that holds anything; --force removes the previous dataset first', () => {
    const cwd = join(import.meta.dirname, '../..');
    const out = join(dir, 'reused');
    const sim = (...args: string[]) =>
      spawnSync(
        process.execPath,
        [
          '--disable-warning=ExperimentalWarning',
          'models/cli/simulate.ts',
          '--customers',
          '20',
          '--terminals',
          '40',
          '--quiet',
          '--out',
          out,
          ...args,
        ],
        { cwd, encoding: 'utf8' },
      );
    expect(sim('--days', '4', '--breach').status).toBe(0);
    const first = readdirSync(out).sort();
    expect(first).toEqual(expect.arrayContaining(['breaches.csv', 'issuer-lists', '2018-04-04.csv']));
    writeFileSync(join(out, 'notes.txt'), 'mine');
    // Before: the second dataset's 2 days were written over the first's 4, which stayed beside them.
    const refused = sim('--days', '2', '--seed', '9');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/simulate: --out .*reused is not empty \(\d+ entries, .*add --force/);
    expect(readdirSync(out).sort()).toEqual([...first, 'notes.txt'].sort());
    expect(readFileSync(join(out, '2018-04-01.csv'), 'utf8')).toMatch(/BREACH_ID/);
    const forced = sim('--days', '2', '--seed', '9', '--force');
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/removed \d+ file\(s\) of the previous dataset .*kept 1 other/);
    expect(readdirSync(out).sort()).toEqual(['2018-04-01.csv', '2018-04-02.csv', 'notes.txt']);
    expect(readFileSync(join(out, '2018-04-01.csv'), 'utf8')).not.toMatch(/BREACH_ID/);
  });

  it('simulate --breach warns when the breach days fall past the dataset', () => {
    const cwd = join(import.meta.dirname, '../..');
    const sim = (out: string, ...args: string[]) =>
      spawnSync(
        process.execPath,
        [
          '--disable-warning=ExperimentalWarning',
          'models/cli/simulate.ts',
          ...['--customers', '20', '--terminals', '40', '--quiet', '--breach', '--out', join(dir, out), ...args],
        ],
        { cwd, encoding: 'utf8' },
      );
    // Before: exit 0, "breach: 0 breaches" and nothing else (the default breach day is 60).
    const none = sim('breach-none', '--days', '30');
    expect(none.status, none.stderr).toBe(0);
    expect(none.stdout).toMatch(/^breach: 0 breaches/m);
    expect(none.stderr).toContain(
      'simulate: warning: no breach happens: breaches fall on day 60 (--breach-day) and every 30 days after (--breach-interval), the dataset has days 0..29 (--days 30); a --breach-day below 30 or more --days',
    );
    const some = sim('breach-some', '--days', '12', '--breach-day', '5', '--breach-interval', '10');
    expect(some.status, some.stderr).toBe(0);
    expect(some.stdout).toMatch(/^breach: 1 breaches/m);
    expect(some.stderr).toContain('simulate: warning: only 1 of the 2 breaches happen: breaches fall on day 5');
    const all = sim('breach-all', '--days', '12', '--breach-day', '2', '--breach-interval', '5');
    expect(all.status, all.stderr).toBe(0);
    expect(all.stderr).not.toContain('warning');
  });

  it('evaluate prints the table beside the reference, writes --json (per seed) and an offline --report', () => {
    const json = join(dir, 'eval.json'),
      report = join(dir, 'eval.html');
    const out = run('models/cli/model.ts', [
      'evaluate',
      '--data',
      data,
      '--protocol',
      'handbook',
      '--seeds',
      '1,2',
      '--trees',
      '4',
      '--genuine-per-tree',
      '400',
      '--workers',
      '1',
      '--quiet',
      '--json',
      json,
      '--report',
      report,
    ]);
    expect(out).toMatch(/leakguard forest, 4 trees, 2 seeds/);
    expect(out).toMatch(/handbook: random forest, 100 trees\s+0\.867\s+0\.658\s+0\.287/);
    const r = JSON.parse(readFileSync(json, 'utf8'));
    for (const k of ['auc', 'ap', 'cp100']) expect(typeof r[k]).toBe('number');
    expect(r.seeds).toHaveLength(2);
    expect(r.auc).toBeGreaterThan(0.6);
    // every metric block says the labels it was measured under: here the published protocol's
    expect(out).toMatch(
      /^labels: every completed fraud charged back 7 days after the transaction.*published protocol/m,
    );
    expect(r.labels).toMatchObject({ delayMinDays: 7, delayMaxDays: 7, share: 1 });
    // and what the forests learnt: the ground truth by default
    expect(out).toMatch(/^target: the ground truth \(\d+ frauds in the training rows/m);
    expect(r.target).toMatchObject({ target: 'truth' });
    // calibration over both seeds' test rows, and the features by their share of split weight
    expect(out).toMatch(/^calibration \(test rows of all 2 runs by score decile/m);
    expect(r.calibration).toHaveLength(10);
    expect(r.calibration.reduce((s: number, b: { rows: number }) => s + b.rows, 0)).toBe(2 * r.test.transactions);
    expect(r.calibration.reduce((s: number, b: { frauds: number }) => s + b.frauds, 0)).toBe(2 * r.test.frauds);
    expect(out).toMatch(/^features by share of split weight \(.*8 trees of 2 forests\)/m);
    expect(r.featureWeights.map((w: { name: string }) => w.name).sort()).toEqual(
      [...featureNames(HANDBOOK_FEATURE_SET)].sort(),
    );
    expect(r.featureWeights.reduce((s: number, w: { share: number }) => s + w.share, 0)).toBeCloseTo(1, 9);
    const html = readFileSync(report, 'utf8');
    expect(html.match(/<svg/g)!.length).toBe(4);
    expect(html).not.toMatch(/<script|<link|src=|href=/);
    expect(html).toContain('fraud labels');
    expect(html).toContain('training target');
    expect(html).toContain('<h2 style="font-size:16px">Calibration</h2>');
    expect(html).toContain('Features by share of split weight');
  });

  it('evaluate over several datasets: a line per dataset, the mean over every run, and what the features can reach', () => {
    const second = join(dir, 'data-seed-5');
    run('models/cli/simulate.ts', [
      '--customers',
      '300',
      '--terminals',
      '600',
      '--days',
      '136',
      '--seed',
      '5',
      '--quiet',
      '--out',
      second,
    ]);
    const json = join(dir, 'eval2.json'),
      report = join(dir, 'eval2.html');
    const out = run('models/cli/model.ts', [
      'evaluate',
      '--data',
      `${data},${second}`,
      '--protocol',
      'handbook',
      '--trees',
      '4',
      '--genuine-per-tree',
      '400',
      '--workers',
      '1',
      '--quiet',
      '--json',
      json,
      '--report',
      report,
    ]);
    expect(out).toMatch(/leakguard forest, 4 trees, 2 datasets × 1 seed/);
    expect(out).toContain(`  ${second}`);
    const r = JSON.parse(readFileSync(json, 'utf8'));
    expect(r.seeds.map((s: { data: string }) => s.data)).toEqual([data, second]);
    expect(r.datasets).toHaveLength(2);
    for (const d of r.datasets) {
      expect(d.reachableCp100).toBeGreaterThan(0);
      expect(d.reachableCp100).toBeLessThanOrEqual(1);
      expect(d.test.frauds).toBeGreaterThan(0);
    }
    expect(r.reachableCp100).toBeCloseTo((r.datasets[0].reachableCp100 + r.datasets[1].reachableCp100) / 2, 12);
    expect(r.cp100).toBeCloseTo((r.seeds[0].cp100 + r.seeds[1].cp100) / 2, 12);
    const html = readFileSync(report, 'utf8');
    expect(html.match(/<svg/g)!.length).toBe(8);
    expect(html).toContain(`Dataset ${second}`);
    expect(html).toMatch(/reachable \(0\.\d{3}\)/);
  });

  it('train writes an artifact that loads for the handbook feature set', () => {
    const model = join(dir, 'model.json');
    const out = run('models/cli/model.ts', [
      'train',
      '--data',
      data,
      '--trees',
      '3',
      '--genuine-per-tree',
      '300',
      '--workers',
      '0',
      '--quiet',
      '--out',
      model,
    ]);
    expect(out).toMatch(/trained 3 trees/);
    // the default target: the ground truth, said beside the figures
    expect(out).toMatch(/^target: the ground truth \(\d+ frauds in the training rows; the published protocol's\)$/m);
    expect(out).toMatch(/^features constant in the \d+ training rows: none$/m);
    expect(out).toMatch(/^features that vary but no tree splits on(: none| \(\d+, over 3 trees\): \w)/m);
    const { artifact, forest } = loadArtifact(model, {
      name: 'handbook',
      features: featureNames(HANDBOOK_FEATURE_SET),
    });
    expect(artifact.training.data.from).toBe('2018-07-25');
    expect(artifact.training.data.to).toBe('2018-07-31');
    expect(artifact.training.data.fingerprint).toMatch(/^sha256:/);
    expect(artifact.amountReference).toBe('EUR');
    // the definitions it was trained on: serving refuses another fingerprint
    expect(artifact.featureSet.fingerprint).toBe(featureSetIdentity(HANDBOOK_FEATURE_SET).fingerprint);
    expect(forest.flat.nTrees).toBe(3);
    const use = artifact.training.featureUse!;
    expect(use.constant).toEqual([]);
    // exactly the features no node of the 3 trees splits on
    const split = new Set(Array.from(forest.flat.feature).filter((i) => i >= 0));
    expect(use.neverSplit).toEqual(featureNames(HANDBOOK_FEATURE_SET).filter((_, i) => !split.has(i)));
    expect(typeof (artifact.metrics as { auc: number }).auc).toBe('number');
  });

  it('train records the test dates the data covers and warns about a partial test week or missing feature history', () => {
    const cwd = join(import.meta.dirname, '../..');
    const train = (from: string, to: string, out: string) =>
      spawnSync(
        process.execPath,
        [
          '--disable-warning=ExperimentalWarning',
          'models/cli/model.ts',
          'train',
          '--data',
          data,
          '--from',
          from,
          '--to',
          to,
          '--trees',
          '1',
          '--genuine-per-tree',
          '100',
          '--workers',
          '0',
          '--quiet',
          '--out',
          join(dir, out),
        ],
        { cwd, encoding: 'utf8' },
      );
    // The data ends 2018-08-14: a train week of 07-31..08-06 has its test week 08-14..08-20.
    const late = train('2018-07-31', '2018-08-06', 'late.json');
    expect(late.status, late.stderr).toBe(0);
    expect(late.stderr).toContain(
      'model: warning: the test period 2018-08-14..2018-08-20 is not fully covered: the test rows cover 1 of its 7 days (2018-08-14..2018-08-14); no data on 2018-08-15..2018-08-20',
    );
    expect(late.stdout).toMatch(/test 2018-08-14\.\.2018-08-14 \(1 of the 7 test days\): AUC/);
    const lateMetrics = loadArtifact(join(dir, 'late.json')).artifact.metrics!;
    expect(lateMetrics).toMatchObject({
      testFrom: '2018-08-14',
      testTo: '2018-08-14',
      testDays: 1,
      testPeriod: { from: '2018-08-14', to: '2018-08-20', days: 7 },
      testPeriodCovered: false,
    });
    expect(lateMetrics.missingTestDates).toHaveLength(6);
    // The data starts 2018-04-01: a train period from then has none of the 37 days its windows read.
    const early = train('2018-04-01', '2018-04-03', 'early.json');
    expect(early.status, early.stderr).toBe(0);
    expect(early.stderr).toContain(
      'model: warning: the features need 37 days of history before the train period (from 2018-02-23); the data starts 2018-04-01: 37 days missing (2018-02-23..2018-03-31)',
    );
    expect(early.stderr).not.toMatch(/test period .* not fully covered/);
    const earlyArtifact = loadArtifact(join(dir, 'early.json')).artifact;
    expect(earlyArtifact.training.data.history).toEqual({
      days: 37,
      from: '2018-02-23',
      dataFrom: '2018-04-01',
      missingDays: 37,
    });
    expect(earlyArtifact.metrics).toMatchObject({
      testFrom: '2018-04-11',
      testTo: '2018-04-17',
      testPeriodCovered: true,
    });
    // 2018-05-08 has exactly 37 days before it in the data: no warning.
    const ok = train('2018-05-08', '2018-05-10', 'ok.json');
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stderr).not.toContain('warning');
    expect(loadArtifact(join(dir, 'ok.json')).artifact.training.data.history!.missingDays).toBe(0);
  });

  it('train computes the terminal risk from the labels it is told serving gets, and records them', () => {
    const model = join(dir, 'no-labels.json');
    const out = run('models/cli/model.ts', [
      'train',
      '--data',
      data,
      '--trees',
      '2',
      '--genuine-per-tree',
      '200',
      '--workers',
      '0',
      '--quiet',
      '--chargeback-delay-days',
      '10-40',
      '--chargeback-share',
      '0',
      '--out',
      model,
    ]);
    expect(out).toMatch(/^labels: 0 % of completed frauds charged back 10–40 days \(uniform\)/m);
    const { artifact } = loadArtifact(model);
    expect(artifact.training.labels).toMatchObject({ delayMinDays: 10, delayMaxDays: 40, share: 0, seed: 1 });
    expect((artifact.metrics as { labels: string }).labels).toMatch(/^labels: 0 % of completed frauds/);
    // no label ever arrives: the terminal risk windows are 0 in every training row
    for (const name of [
      'TERMINAL_ID_RISK_1DAY_WINDOW',
      'TERMINAL_ID_RISK_7DAY_WINDOW',
      'TERMINAL_ID_RISK_30DAY_WINDOW',
    ])
      expect(artifact.training.featureUse!.constant).toContainEqual({ name, value: 0 });
    // a wrong label flag is a usage error, before the data is read
    const cases: [string[], RegExp][] = [
      [
        ['train', '--data', data, '--chargeback-delay-days', '60-7', '--out', join(dir, 'x.json')],
        /model: --chargeback-delay-days: MIN \(60\) must not be more than MAX \(7\)/,
      ],
      [
        ['evaluate', '--data', data, '--chargeback-share', '2', '--quiet'],
        /model: --chargeback-share: a share from 0 to 1, not 2/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'models/cli/model.ts', ...args], {
        cwd: join(import.meta.dirname, '../..'),
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('train --target chargebacks learns the frauds charged back by the training cut-off, and says so', () => {
    const model = join(dir, 'chargeback-target.json');
    const out = run('models/cli/model.ts', [
      'train',
      '--data',
      data,
      '--trees',
      '2',
      '--genuine-per-tree',
      '200',
      '--workers',
      '0',
      '--quiet',
      '--chargeback-delay-days',
      '7-60',
      '--chargeback-share',
      '0.5',
      '--target',
      'chargebacks',
      '--out',
      model,
    ]);
    // train 2018-07-25..31, 7 delay days: the cut-off is the test week's first instant
    const m =
      /^target: the frauds charged back by 2018-08-08T00:00:00\.000Z, the training cut-off \((\d+) of the (\d+) frauds in the training rows; the rest learnt as genuine\)$/m.exec(
        out,
      );
    expect(m, out).not.toBeNull();
    const [known, truth] = [Number(m![1]), Number(m![2])];
    expect(known).toBeGreaterThan(0);
    expect(known).toBeLessThan(truth);
    const { artifact } = loadArtifact(model);
    expect(artifact.training.target).toMatchObject({
      target: 'chargebacks',
      cutoff: '2018-08-08T00:00:00.000Z',
      frauds: known,
      truthFrauds: truth,
    });
    expect(artifact.training.data.frauds).toBe(known);
    expect((artifact.metrics as { target: string }).target).toBe(artifact.training.target!.description);
    const cases: [string[], RegExp][] = [
      [
        ['train', '--data', data, '--target', 'labels', '--out', join(dir, 'x.json')],
        /model: --target: truth or chargebacks, not labels/,
      ],
      [
        ['evaluate', '--data', data, '--model', model, '--target', 'chargebacks', '--quiet'],
        /model: --target: not with --model/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'models/cli/model.ts', ...args], {
        cwd: join(import.meta.dirname, '../..'),
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('train, evaluate and record-simulated check every output path before any work', () => {
    const blocker = join(dir, 'in-the-way');
    writeFileSync(blocker, '');
    mkdirSync(join(dir, 'a-folder'), { recursive: true });
    const tiny = ['--trees', '1', '--genuine-per-tree', '50', '--quiet'];
    // Before: a file as the parent passed the check: the data was read, the forest trained, and the
    // write died with "ENOTDIR … open" and a stack trace; record-simulated ended in a bare ENOTDIR.
    const cases: [string[], RegExp][] = [
      [
        ['train', '--data', data, ...tiny, '--out', join(blocker, 'm.json')],
        /^model: --out .*in-the-way\/m\.json: .*in-the-way is not a folder$/m,
      ],
      [
        ['evaluate', '--data', data, ...tiny, '--seeds', '1', '--json', join(blocker, 'e.json')],
        /^model: --json .*in-the-way\/e\.json: .*in-the-way is not a folder$/m,
      ],
      [
        ['evaluate', '--data', data, ...tiny, '--seeds', '1', '--report', join(blocker, 'x', 'r.html')],
        /^model: --report .*in-the-way\/x\/r\.html: .*in-the-way is not a folder$/m,
      ],
      [
        ['train', '--data', data, ...tiny, '--out', join(dir, 'a-folder')],
        /^model: --out .*a-folder: .*a-folder is a folder$/m,
      ],
      [
        ['record-simulated', '--data', data, '--out', join(blocker, 'r.ndjson')],
        /^--out .*in-the-way\/r\.ndjson: .*in-the-way is not a folder$/m,
      ],
    ];
    for (const [args, message] of cases) {
      const r = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'models/cli/model.ts', ...args], {
        cwd: join(import.meta.dirname, '../..'),
        encoding: 'utf8',
      });
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/^read \d+ transactions|ENOTDIR|EISDIR|^\s+at /m);
    }
  }, 120_000);

  it('train and evaluate refuse a training target without fraud in one line, exit 2, before training', () => {
    // Charged back 30-60 days after, no fraud of 2018-07-25..31 is known by the cut-off 2018-08-08.
    // Before: "Error: no fraud in the training data" with a stack trace, from the training.
    const target = ['--chargeback-delay-days', '30-60', '--target', 'chargebacks', '--quiet'];
    for (const args of [
      ['train', '--data', data, ...target, '--out', join(dir, 'no-fraud.json')],
      ['evaluate', '--data', data, '--seeds', '1', '--trees', '2', ...target],
    ]) {
      const r = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'models/cli/model.ts', ...args], {
        cwd: join(import.meta.dirname, '../..'),
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(
        /^model: no fraud to learn: none of the \d+ frauds of the train period 2018-07-25\.\.2018-07-31 is charged back by 2018-08-08T00:00:00\.000Z, the training cut-off \(--target chargebacks\); a shorter --chargeback-delay-days, a longer train period \(--from, --to\) or --target truth$/m,
      );
      expect(r.stderr).not.toMatch(/^\s+at |Usage|Error:/m);
      expect(
        r.stderr
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('model: ')).length,
      ).toBe(1);
    }
    expect(readdirSync(dir)).not.toContain('no-fraud.json');
  });

  it('evaluate --model scores an existing artifact on the handbook protocol: the figures train measured', () => {
    const cwd = join(import.meta.dirname, '../..');
    const model = join(dir, 'given.json'),
      json = join(dir, 'given-eval.json'),
      report = join(dir, 'given-eval.html');
    run('models/cli/model.ts', [
      'train',
      '--data',
      data,
      '--trees',
      '3',
      '--genuine-per-tree',
      '300',
      '--workers',
      '0',
      '--quiet',
      '--out',
      model,
    ]);
    const { artifact } = loadArtifact(model);
    const out = run('models/cli/model.ts', [
      'evaluate',
      '--data',
      data,
      '--protocol',
      'handbook',
      '--model',
      model,
      '--quiet',
      '--json',
      json,
      '--report',
      report,
    ]);
    expect(out).toContain(`${artifact.modelVersion} (3 trees)`);
    const r = JSON.parse(readFileSync(json, 'utf8'));
    const m = artifact.metrics as { auc: number; ap: number; cp100: number };
    expect(r.auc).toBe(m.auc);
    expect(r.ap).toBe(m.ap);
    expect(r.cp100).toBe(m.cp100);
    expect(r.model).toEqual({ path: model, version: artifact.modelVersion, trees: 3 });
    expect(r.calibration.reduce((s: number, b: { rows: number }) => s + b.rows, 0)).toBe(r.test.transactions);
    expect(r.featureWeights.reduce((s: number, w: { share: number }) => s + w.share, 0)).toBeCloseTo(1, 9);
    const html = readFileSync(report, 'utf8');
    expect(html).toContain(`${artifact.modelVersion} (3 trees)`);
    expect(html).toContain('Features by share of split weight');
    // refused before any work: another feature set, seeds to train, a file that is no artifact
    for (const [args, message] of [
      [['--feature-set', 'engine'], /model: --model .*given\.json: .*feature set/],
      [['--seeds', '1,2'], /model: --seeds: not with --model/],
    ] as const) {
      const r2 = spawnSync(
        process.execPath,
        [
          '--disable-warning=ExperimentalWarning',
          'models/cli/model.ts',
          'evaluate',
          '--data',
          data,
          '--model',
          model,
          ...args,
        ],
        { cwd, encoding: 'utf8' },
      );
      expect(r2.status, r2.stderr).toBe(2);
      expect(r2.stderr).toMatch(message);
    }
    const notModel = spawnSync(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', 'models/cli/model.ts', 'evaluate', '--data', data, '--model', json],
      { cwd, encoding: 'utf8' },
    );
    expect(notModel.status).toBe(2);
    expect(notModel.stderr).toMatch(/^model: --model .*given-eval\.json: /);
  });

  it("train's default version names the forest: other parameters, another version; the same training, the same", () => {
    const version = (trees: string) => {
      const model = join(dir, `v${trees}.json`);
      run('models/cli/model.ts', [
        'train',
        '--data',
        data,
        '--trees',
        trees,
        '--genuine-per-tree',
        '200',
        '--workers',
        '0',
        '--quiet',
        '--out',
        model,
      ]);
      return loadArtifact(model).artifact.modelVersion;
    };
    const one = version('1'),
      two = version('2');
    expect(one).toMatch(/^rf-handbook-\d{4}-\d{2}-\d{2}-[0-9a-f]{8}-s\d+-[0-9a-f]{8}$/);
    expect(two).not.toBe(one);
    expect(version('1')).toBe(one);
  });

  it('export-labels has its help; a dataset row that does not parse is refused with its file and line', () => {
    const cwd = join(import.meta.dirname, '../..');
    const help = spawnSync(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', 'models/cli/model.ts', 'export-labels', '--help'],
      {
        cwd,
        encoding: 'utf8',
      },
    );
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('usage: npm run model -- export-labels');
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    const [first] = readdirSync(data).sort();
    writeFileSync(join(bad, first!), `${readFileSync(join(data, first!), 'utf8')}garbage,line\n`);
    const r = spawnSync(
      process.execPath,
      [
        '--disable-warning=ExperimentalWarning',
        'models/cli/model.ts',
        'train',
        '--data',
        bad,
        '--out',
        join(dir, 'bad.json'),
      ],
      { cwd, encoding: 'utf8' },
    );
    expect(r.status).toBe(2);
    const lines = readFileSync(join(data, first!), 'utf8').trimEnd().split('\n').length + 1;
    expect(r.stderr).toContain(`${join(bad, first!)}:${lines}:2 (TX_DATETIME): expected a time YYYY-MM-DD HH:MM:SS`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('answers bad flags, numbers and feature sets with a usage error, never a stack trace', () => {
    const cwd = join(import.meta.dirname, '../..');
    const cases: [string, string[], RegExp][] = [
      ['models/cli/simulate.ts', ['--bogus'], /simulate: Unknown option '--bogus'/],
      ['models/cli/simulate.ts', ['--out', join(dir, 'x'), '--days', 'many'], /simulate: --days: not a number: many/],
      ['models/cli/model.ts', ['train', '--bogus'], /model: Unknown option '--bogus'/],
      [
        'models/cli/model.ts',
        ['train', '--data', data, '--feature-set', 'nope', '--out', join(dir, 'x.json')],
        /model: --feature-set: unknown feature set "nope" \(known: handbook, engine\)/,
      ],
      [
        'models/cli/model.ts',
        ['evaluate', '--data', `${data},${join(dir, 'missing')}`, '--trees', '2', '--quiet'],
        /model: --data .*missing: ENOENT: no such file or directory/,
      ],
      [
        'models/cli/model.ts',
        ['train', '--data', `${data},${data}`, '--out', join(dir, 'x.json')],
        /model: --data: train reads one dataset/,
      ],
      ['models/bench/bench-model.ts', ['--rows', 'x'], /bench:model: --rows: a positive integer, not "x"/],
      [
        'models/cli/simulate.ts',
        ['--out', join(dir, 'x'), '--start', '2026-13-45'],
        /simulate: --start: expected a calendar date as YYYY-MM-DD, got 2026-13-45/,
      ],
      [
        'models/cli/simulate.ts',
        ['--out', join(dir, 'x'), '--days', '0'],
        /simulate: --days: must be at least 1 and at most 3650, not 0/,
      ],
      // Real calendar dates and ranges, said before anything runs (no empty dataset, no stack trace).
      [
        'models/cli/simulate.ts',
        ['--out', join(dir, 'x'), '--start', '2018-02-30'],
        /simulate: --start: expected a calendar date as YYYY-MM-DD, got 2018-02-30/,
      ],
      [
        'models/cli/simulate.ts',
        ['--out', join(dir, 'x'), '--customers', '1.5'],
        /simulate: --customers: must be a whole number, not 1\.5/,
      ],
      [
        'models/cli/simulate.ts',
        ['--out', join(dir, 'x'), '--radius=-1'],
        /simulate: --radius: must be more than 0 and at most 1000, not -1/,
      ],
      [
        'models/cli/simulate.ts',
        ['--out', join(dir, 'x'), '--customer-share', '2'],
        /simulate: --customer-share: must be at least 0 and at most 1, not 2/,
      ],
      [
        'models/cli/simulate.ts',
        ['--out', join(dir, 'x'), '--breach', '--breach-use-share', '7'],
        /simulate: --breach-use-share: must be at least 0 and at most 1, not 7/,
      ],
      [
        'models/cli/simulate.ts',
        ['--out', join(dir, 'x'), '--breach', '--breach-issuer-coverage', '3'],
        /simulate: --breach-issuer-coverage: must be at least 0 and at most 1, not 3/,
      ],
      [
        'models/cli/simulate.ts',
        ['--out', join(dir, 'x'), '--breach', '--breach-delay-min', '30', '--breach-delay-max', '3'],
        /simulate: --breach-delay-min \(30\) must not be more than --breach-delay-max \(3\)/,
      ],
      // (tiny training flags: before the checks, these cases trained or crashed after reading the data)
      [
        'models/cli/model.ts',
        ['train', '--data', data, '--to', '2018-04-99', '--trees', '1', '--out', join(dir, 'x.json')],
        /model: --to: expected a calendar date as YYYY-MM-DD, not 2018-04-99/,
      ],
      [
        'models/cli/model.ts',
        ['train', '--data', data, '--from', '2018-02-30', '--trees', '1', '--out', join(dir, 'x.json')],
        /model: --from: expected a calendar date as YYYY-MM-DD, not 2018-02-30/,
      ],
      [
        'models/cli/model.ts',
        ['evaluate', '--data', data, '--seeds', '1,,2', '--trees', '1', '--quiet'],
        /model: --seeds: whole numbers from 0 to 4294967295 separated by commas, not '' in 1,,2/,
      ],
      // A file where a folder would be (made below).
      ['models/cli/simulate.ts', ['--out', join(dir, 'a-file', 'x')], /simulate: --out .*a-file\/x: ENOTDIR/],
      ['models/cli/model.ts', ['frob', '--data', data], /model: unknown command frob/],
      // Said before the dataset is read and the forest trained, not after.
      [
        'models/cli/model.ts',
        ['train', '--data', data, '--out', join(dir, 'no-such-folder', 'm.json')],
        /model: --out .*no-such-folder\/m\.json: no folder .*no-such-folder/,
      ],
      ['models/cli/model.ts', ['evaluate-cpp', '--data', join(dir, 'nope')], /model evaluate-cpp: --data .*nope: /],
      ['models/cli/model.ts', ['evaluate-cpp', '--data', data], /the dataset has no BREACH_ID column/],
      // Once trained forever (no tree ever finished the forest).
      [
        'models/cli/model.ts',
        ['train', '--data', data, '--trees', '0', '--out', join(dir, 'x.json')],
        /model: --trees: must be at least 1 and at most 2000, not 0/,
      ],
      // A model version is echoed in every scoring: plain and short, checked before training.
      [
        'models/cli/model.ts',
        // (tiny training flags: before the check, this case trained a forest)
        [
          'train',
          '--data',
          data,
          '--trees',
          '1',
          '--genuine-per-tree',
          '50',
          '--name',
          'my model\u2028v2',
          '--out',
          join(dir, 'x.json'),
        ],
        /model: --name: must be 1 to 64 characters among A-Z a-z 0-9 \. _ : - \(this one has 11 characters, the first other one at position 3\)/,
      ],
      // An artifact the engine can load (64 MiB): refused before training, not after.
      [
        'models/cli/model.ts',
        ['train', '--data', data, '--trees', '30000', '--out', join(dir, 'x.json')],
        /model: --trees: must be at least 1 and at most 2000, not 30000/,
      ],
      [
        'models/cli/model.ts',
        ['train', '--data', data, '--trees', '2.5', '--out', join(dir, 'x.json')],
        /model: --trees: must be a whole number, not 2\.5/,
      ],
      [
        'models/cli/model.ts',
        ['train', '--data', data, '--fraud-share', '0', '--out', join(dir, 'x.json')],
        /model: --fraud-share: must be more than 0 and at most 100, not 0/,
      ],
    ];
    writeFileSync(join(dir, 'a-file'), '');
    for (const [script, args, message] of cases) {
      const r = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', script, ...args], {
        cwd,
        encoding: 'utf8',
      });
      expect(r.status, `${script} ${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
    // About twenty processes one after the other: 10 s on a quiet machine, over 30 s on a busy one.
  }, 120_000);
});
