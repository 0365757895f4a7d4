// The embedded engine started again after a crash (kill -9, power loss) part-way through appending
// to its journals: it starts on a torn last line, saying which file and where, with everything
// before it; it refuses to start, naming the file, the line and the reason, on a line in the
// middle it cannot read, rather than starting on part of its state.
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bearer, buildTestApp, scoreBody, type TestApp } from '../support/app.ts';
import { luhnComplete } from '../support/card-arbitraries.ts';
import { freePort } from '../support/ports.ts';

const root = new URL('../..', import.meta.url).pathname;
const PAN = luhnComplete('411111000000042');

const event = (externalId: string) => ({
  externalId,
  issuerId: 'i1',
  source: 'card network alert',
  description: 'test breach',
  exposureStart: '2026-05-01T00:00:00Z',
  exposureEnd: '2026-10-31T00:00:00Z',
  discoveredAt: '2026-11-10T00:00:00Z',
  dataElements: ['pan', 'expiry', 'cvv'],
  confidence: 'confirmed',
});

const send = (t: TestApp, method: string, url: string, key: string, payload?: unknown, headers = {}) =>
  t.app.inject({ method: method as 'GET', url, headers: { ...bearer(key), ...headers }, payload: payload as string });

/** An embedded engine's state: an event with a card listed, and a flagged decision of that card waiting for its case. */
async function engineWithState(): Promise<string> {
  const t = await buildTestApp();
  try {
    expect(
      (await send(t, 'PUT', '/v1/issuers/i1/bin-ranges', t.keys.admin, [{ from: '411111', to: '411111' }])).statusCode,
    ).toBe(200);
    const created = await send(t, 'POST', '/v1/compromise-events', t.keys.admin, event('ev-before'));
    expect(created.statusCode).toBe(201);
    const upload = await send(
      t,
      'POST',
      `/v1/compromise-events/${created.json().id}/cards`,
      t.keys.issuer,
      `${PAN},12,2030`,
      {
        'content-type': 'text/csv',
      },
    );
    expect(upload.json()).toMatchObject({ accepted: 1 });
    const scored = await send(
      t,
      'POST',
      '/v1/score',
      t.keys.merchant,
      scoreBody({
        transactionId: 'tx-flagged',
        card: { number: PAN, expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
      }),
    );
    expect(scored.json().decision).not.toBe('approve');
    await t.runtime.flaggedSink.drain();
    expect(await t.runtime.flaggedQueue.pending()).toBe(1);
    return t.stateDir;
  } finally {
    await t.close();
  }
}

async function listed(t: TestApp): Promise<boolean[]> {
  const lookup = await send(t, 'POST', '/v1/cards/lookup', t.keys.admin, { cards: [{ pan: PAN }] });
  return lookup.json().cards.map((c: { listed: boolean }) => c.listed);
}

const externalIds = async (t: TestApp) =>
  (await send(t, 'GET', '/v1/compromise-events', t.keys.admin))
    .json()
    .events.map((e: { externalId: string }) => e.externalId);

describe('an embedded engine started again after a crash mid-append', () => {
  it(
    'starts on torn last lines in its journals: says which files and where, keeps what was before, appends after',
    { timeout: 60_000 },
    async () => {
      const stateDir = await engineWithState();
      const journals = ['watchlist.journal', 'flagged.journal'].map((f) => join(stateDir, f));
      const sizes = journals.map((j) => statSync(j).size);
      // The crash: half a record each.
      appendFileSync(journals[0]!, '{"t":"event","event":{"externalId":"ev-lo');
      appendFileSync(journals[1]!, '{"add":{"merchantId":"m1","transa');
      let t = await buildTestApp({ LEAKGUARD_STATE_DIR: stateDir });
      try {
        const warnings = t.logs
          .map((l) => JSON.parse(l))
          .filter((l) => l.level === 40 && typeof l.journal === 'string');
        expect(warnings.map((w) => [w.journal, w.offset])).toEqual(journals.map((j, i) => [j, sizes[i]]));
        for (const w of warnings) expect(w.msg).toContain(`${w.journal}: dropped its incomplete last line`);
        expect(journals.map((j) => readFileSync(j).at(-1))).toEqual([10, 10]);
        expect(await externalIds(t)).toEqual(['ev-before']);
        expect(await listed(t)).toEqual([true]);
        expect(await t.runtime.flaggedQueue.pending()).toBe(1);
        // Changed after the start: its line is one of its own, read back at the next.
        expect((await send(t, 'POST', '/v1/compromise-events', t.keys.admin, event('ev-after'))).statusCode).toBe(201);
        await t.close();
        t = await buildTestApp({ LEAKGUARD_STATE_DIR: stateDir });
        expect(t.logs.filter((l) => l.includes('dropped its incomplete last line'))).toEqual([]);
        expect(await externalIds(t)).toEqual(['ev-before', 'ev-after']);
        expect(await listed(t)).toEqual([true]);
        expect(await t.runtime.flaggedQueue.pending()).toBe(1);
      } finally {
        await t.close();
      }
    },
  );

  it(
    'npm start refuses to start on a line in the middle of a journal it cannot read: the file, the line, why (exit 1)',
    { timeout: 60_000 },
    async () => {
      const stateDir = await engineWithState();
      const journal = join(stateDir, 'watchlist.journal');
      const lines = readFileSync(journal, 'utf8').split('\n');
      expect(lines.length).toBeGreaterThan(3);
      // The second line cut short and the third appended to it.
      const damaged = [lines[0], lines[1]!.slice(0, 20) + lines[2], ...lines.slice(3)].join('\n');
      writeFileSync(journal, damaged);
      const started = spawnSync(process.execPath, [join(root, 'services/main.ts')], {
        cwd: root,
        env: {
          ...process.env,
          LEAKGUARD_STATE_DIR: stateDir,
          PORT: String(await freePort()),
          REDIS_URL: '',
          DATABASE_URL: '',
        },
        encoding: 'utf8',
        timeout: 50_000,
      });
      expect(started.status, started.stderr).toBe(1);
      expect(started.stderr).toContain(
        `leakguard: failed to start: journal ${journal}: line 2 (byte offset ${Buffer.byteLength(lines[0]!) + 1}) cannot be read: not a complete JSON record`,
      );
      expect(started.stdout).not.toContain('Listening on');
      // Nothing of it dropped or cut.
      expect(readFileSync(journal, 'utf8')).toBe(damaged);
    },
  );
});
