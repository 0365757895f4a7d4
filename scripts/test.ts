// `npm test`: provisions the real services on a fresh machine, then runs the whole suite.
// Exits non-zero on any failure. Each test file starts its own servers on free ports.
import { spawnSync } from 'node:child_process';
import {
  ensureChromium,
  ensureJava,
  ensureMaven,
  ensurePostgres,
  ensurePromtool,
  ensureK6,
  ensureRedis,
  ensureSchemathesis,
} from './provision.ts';

const started = Date.now();
ensureJava();
ensureMaven();
const env: NodeJS.ProcessEnv = {
  ...process.env,
  LEAKGUARD_TEST_REDIS_SERVER: ensureRedis(),
  // The case store's contract tests start a real PostgreSQL; the console's browser tests a real Chromium.
  LEAKGUARD_TEST_POSTGRES_BIN: ensurePostgres(),
  LEAKGUARD_TEST_CHROMIUM: ensureChromium(),
  // The OpenAPI-driven fuzzer (test/http/openapi-fuzz.test.ts): schemathesis's CLI in a venv under the cache.
  LEAKGUARD_TEST_SCHEMATHESIS: ensureSchemathesis(),
  // Checks and unit-tests the Prometheus alert rules (test/ops/monitoring.test.ts).
  LEAKGUARD_TEST_PROMTOOL: ensurePromtool(),
  // k6 checks the load-test scripts' thresholds (test/ops/monitoring.test.ts).
  LEAKGUARD_TEST_K6: ensureK6(),
};

// The whole suite also holds the code to the linter, the formatter and the import rules (npm run
// lint); a run of chosen test files (`npm test -- test/core`) skips them.
const files = process.argv.slice(2);
const lint =
  files.length === 0 ? spawnSync(process.execPath, ['scripts/lint.ts'], { stdio: 'inherit', env }) : undefined;
const vitest = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...files], {
  stdio: 'inherit',
  env,
});
if (lint && lint.status !== 0) process.stderr.write('npm test: lint FAILED (`npm run lint` names the findings)\n');
process.stderr.write(`npm test: finished in ${Math.round((Date.now() - started) / 1000)} s\n`);
process.exit(lint && lint.status !== 0 ? 1 : (vitest.status ?? 1));
