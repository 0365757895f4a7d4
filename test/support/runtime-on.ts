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
 * A runtime on `settings` (REDIS_URL or REDIS_CLUSTER_NODES among them), its stores ready, with the
 * lines it logs at warn and above; `close()` (once, however often called) closes it, `dispose()`
 * closes it and removes its state directory.
 */
export async function openRuntime(
  settings: Record<string, string>,
  role: 'engine' | 'processor' = 'engine',
): Promise<{ runtime: Runtime; lines: string[]; close(): Promise<void>; dispose(): Promise<void> }> {
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
    { role },
  );
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= runtime.close());
  const dispose = async () => {
    await close();
    rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    expect(await runtime.waitForStores()).toBe(true);
  } catch (error) {
    await dispose();
    throw error;
  }
  return { runtime, lines, close, dispose };
}

/** Runs `run` with a runtime on `settings` (openRuntime); closes it and removes its state directory after. */
export async function withRuntime(
  settings: Record<string, string>,
  run: (runtime: Runtime, lines: string[]) => Promise<void>,
): Promise<void> {
  const { runtime, lines, dispose } = await openRuntime(settings);
  try {
    await run(runtime, lines);
  } finally {
    await dispose();
  }
}
