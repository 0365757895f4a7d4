// An engine runtime (no HTTP) on the stores a test names, with the lines it logs at warn and above
// kept for the test to read: for what the engine does beside answering (watching its Redis,
// writing with the retentions it is configured with).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { loadConfig } from '../../services/config.ts';
import { createLogger } from '../../services/logger.ts';
import { createRuntime, type Runtime } from '../../services/runtime.ts';
import { TEST_CARD_KEY, TEST_DATA_KEY } from './app.ts';

/**
 * Runs `run` with a runtime on `settings` (REDIS_URL or REDIS_CLUSTER_NODES among them), its stores
 * ready; closes it and removes its state directory after.
 */
export async function withRuntime(
  settings: Record<string, string>,
  run: (runtime: Runtime, lines: string[]) => Promise<void>,
): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), 'lg-runtime-'));
  const lines: string[] = [];
  const runtime = createRuntime(
    loadConfig({
      NODE_ENV: 'test',
      LEAKGUARD_STATE_DIR: stateDir,
      LEAKGUARD_CARD_KEY: TEST_CARD_KEY,
      LEAKGUARD_DATA_KEY: TEST_DATA_KEY,
      LOG_LEVEL: 'warn',
      LEAKGUARD_DEADLINE_MS: '5000',
      ...settings,
    }),
    createLogger('warn', { write: (line: string) => lines.push(line) }),
  );
  try {
    expect(await runtime.waitForStores()).toBe(true);
    await run(runtime, lines);
  } finally {
    await runtime.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
