// The engine is not ready while its case database opens for the first time (PGlite's start holds
// the event loop for a moment: a load balancer should not route scorings there yet), and is ready
// as soon as it is open; an engine that never opens one (the stream processor) is never held.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadConfig } from '../../services/config.ts';
import { createLogger } from '../../services/logger.ts';
import { createRuntime } from '../../services/runtime.ts';
import { TEST_CARD_KEY, TEST_DATA_KEY } from '../support/app.ts';

const runtimeOf = () =>
  createRuntime(
    loadConfig({
      NODE_ENV: 'test',
      LEAKGUARD_STATE_DIR: mkdtempSync(join(tmpdir(), 'lg-ready-')),
      LEAKGUARD_CARD_KEY: TEST_CARD_KEY,
      LEAKGUARD_DATA_KEY: TEST_DATA_KEY,
      LOG_LEVEL: 'silent',
      LEAKGUARD_MODEL: 'off',
    }),
    createLogger('silent'),
  );

it('reports the case database not ready while it opens, then ready', async () => {
  const runtime = runtimeOf();
  try {
    expect(await runtime.readiness()).toEqual({ velocityStore: true });
    const opening = runtime.openCases();
    expect(await runtime.readiness()).toEqual({ velocityStore: true, caseDatabase: false });
    await opening;
    expect(await runtime.readiness()).toEqual({ velocityStore: true });
  } finally {
    await runtime.close();
  }
}, 60_000);
