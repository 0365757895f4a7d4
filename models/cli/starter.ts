// npm run model:starter [-- --seed S --trees N --out FILE --data DIR --keep-data]
// Rebuilds the starter model that `npm start` serves (services/model/starter-model.json): the
// breach scenario simulated with its own seed (not the evaluation datasets' seed 0), replayed
// through the engine, and a forest trained on the engine feature set over the weeks of the first
// breach's fraud. Same seed and trees, same forest (the shipped one's replay also charged back
// declined frauds, today's does not: models/README.md "Labels"). It is a starting point trained on simulated
// traffic; a deployment trains its own on what it recorded (`model train-recorded`, models/README.md).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ENGINE_FEATURE_SET } from '../../services/model/definitions.ts';
import { STARTER_MODEL_PATH, STARTER_TRAINING } from '../../services/model/starter.ts';
import { callerPath } from '../../services/cli/command.ts';

const USAGE = `usage: npm run model:starter [-- --seed S (${STARTER_TRAINING.dataSeed}) --trees N (${STARTER_TRAINING.trees}) --out FILE (${STARTER_MODEL_PATH}) --data DIR --keep-data]
  Simulates the breach scenario (seed S, ${STARTER_TRAINING.days} days, default currencies) into DIR (a temporary folder unless --data, which must be empty or new),
  trains the engine feature set over ${STARTER_TRAINING.from}..${STARTER_TRAINING.to} and writes the starter artifact.`;

function fail(message: string): never {
  console.error(`model:starter: ${message}\n\n${USAGE}`);
  process.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        seed: { type: 'string' },
        trees: { type: 'string' },
        out: { type: 'string' },
        data: { type: 'string' },
        'keep-data': { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    return fail((error as Error).message);
  }
})();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const int = (flag: string, v: string | undefined, fallback: number) => {
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1) fail(`--${flag}: a positive integer, not ${v}`);
  return Number(v);
};
const seed = int('seed', values.seed, STARTER_TRAINING.dataSeed);
const trees = int('trees', values.trees, STARTER_TRAINING.trees);
const out = values.out === undefined ? STARTER_MODEL_PATH : callerPath(values.out);
const data = values.data === undefined ? mkdtempSync(join(tmpdir(), 'lg-starter-')) : callerPath(values.data);
const here = new URL('.', import.meta.url).pathname;

const run = (script: string, args: string[]) => {
  const r = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', join(here, script), ...args], {
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error(`model:starter: ${script} failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
};

try {
  run('simulate.ts', ['--breach', '--seed', String(seed), '--days', String(STARTER_TRAINING.days), '--out', data]);
  run('model.ts', [
    'train',
    '--data',
    data,
    '--feature-set',
    'engine',
    '--from',
    STARTER_TRAINING.from,
    '--to',
    STARTER_TRAINING.to,
    '--trees',
    String(trees),
    '--seed',
    String(STARTER_TRAINING.forestSeed),
    '--name',
    `starter-engine-v${ENGINE_FEATURE_SET.version}-sim${seed}-${trees}t`,
    '--out',
    out,
  ]);
} finally {
  if (!values.data && !values['keep-data']) rmSync(data, { recursive: true, force: true });
}
