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
import { freePort } from '../support/ports.ts';

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

it('stops waiting for a PostgreSQL that does not answer once closed: the opening gives up, nothing holds on (found by a review)', async () => {
  const port = await freePort();
  const lines: string[] = [];
  const runtime = createRuntime(
    loadConfig({
      NODE_ENV: 'test',
      LEAKGUARD_STATE_DIR: mkdtempSync(join(tmpdir(), 'lg-ready-')),
      LEAKGUARD_CARD_KEY: TEST_CARD_KEY,
      LEAKGUARD_DATA_KEY: TEST_DATA_KEY,
      LOG_LEVEL: 'warn',
      LEAKGUARD_MODEL: 'off',
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres`,
    }),
    createLogger('warn', { write: (line: string) => lines.push(line) }),
  );
  const opening = runtime.openCases().then(
    () => 'opened',
    () => 'given up',
  );
  const deadline = Date.now() + 20_000;
  while (!lines.some((l) => l.includes('PostgreSQL not reachable yet')) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  expect(lines.join('')).toContain('PostgreSQL not reachable yet');
  await runtime.close();
  // It retried every few seconds for good after close, keeping its pool (and the process) alive.
  const settled = await Promise.race([opening, new Promise((r) => setTimeout(() => r('still waiting'), 12_000))]);
  expect(settled).toBe('given up');
}, 60_000);
