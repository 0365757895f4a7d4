// `npm run lint`: the type-aware linter, the formatter's check and the import rules, in turn.
// `npm run lint -- --fix` lets ESLint and Prettier rewrite what they can.
import { spawnSync } from 'node:child_process';

const fix = process.argv.includes('--fix');
const steps: Array<[string, string[]]> = [
  ['eslint', ['node_modules/eslint/bin/eslint.js', '.', ...(fix ? ['--fix'] : [])]],
  ['prettier', ['node_modules/prettier/bin/prettier.cjs', fix ? '--write' : '--check', '--log-level', 'warn', '.']],
  [
    'dependency-cruiser',
    [
      'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs',
      '--output-type',
      'err',
      'services',
      'models',
      'streams',
      'load-tests',
      'scripts',
      'test',
    ],
  ],
];
let failed = 0;
for (const [name, args] of steps) {
  const started = Date.now();
  const run = spawnSync(process.execPath, args, { stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (run.status === 0) process.stderr.write(`lint: ${name} clean (${seconds} s)\n`);
  else {
    failed++;
    process.stderr.write(
      `lint: ${name} FAILED (${seconds} s)${fix ? '' : ' — `npm run lint -- --fix` repairs formatting'}\n`,
    );
  }
}
process.exit(failed ? 1 : 0);
