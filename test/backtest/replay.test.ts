// `npm run replay -- FILE.ndjson`: a merchant's export of plain /v1/score requests (with occurredAt,
// a label, an outcome) replayed through the engine. The known answer: the decisions the HTTP API of
// a fresh engine gives for the same requests sent in the same order, with the same outcome between.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, type TestApp } from '../support/app.ts';
import { luhnComplete } from '../support/card-arbitraries.ts';
import type { BacktestReport } from '../../models/backtest/backtest.ts';
import { DECISIONS } from '../../services/core/schemas.ts';
import type { FeatureMap } from '../../services/core/feature-map.ts';
import { NOTHING_FOUND } from '../../services/recording/record.ts';
import { DEFAULT_RULESET_PATH } from '../../services/adapters/files/ruleset-file.ts';
import { DEFAULT_RATES_PATH } from '../../services/adapters/files/rates-file.ts';
import { TrafficBuilder } from '../../models/backtest/traffic.ts';
import { replayConfiguration } from '../../models/backtest/replay.ts';

const run = promisify(execFile);
const REPO = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'lg-replay-'));
let t: TestApp;
const cards = Array.from({ length: 8 }, (_, i) => luhnComplete(`5${String(4e13 + i * 104729).slice(0, 14)}`));
const base = Math.floor(Date.now() / 60_000) * 60_000 - 2 * 3_600_000;
const lines: Record<string, unknown>[] = [];
const answers: string[] = [];

beforeAll(async () => {
  t = await buildTestApp();
  for (let i = 0; i < 48; i++) {
    const merchantId = i % 3 ? 'm1' : 'm2';
    const request = {
      transactionId: `exp-${i}`,
      amount: i % 6 === 0 ? 150 : 2500 + 311 * i,
      currency: i % 4 === 0 ? 'JPY' : 'EUR',
      channel: 'ecommerce',
      occurredAt: new Date(base + i * 45_000).toISOString(),
      card: {
        number: cards[i % cards.length]!,
        expiryMonth: 3,
        expiryYear: 2031,
        cvvResult: i % 9 ? 'match' : 'mismatch',
      },
      device: { id: `d-${i % 5}` },
      customer: { email: `c${i % 7}@example.com` },
    };
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/score',
      headers: bearer(merchantId === 'm1' ? t.keys.merchant : t.keys.otherMerchant),
      payload: request,
    });
    expect(res.statusCode, res.body).toBe(200);
    answers.push(res.json<{ decision: string }>().decision);
    const line: Record<string, unknown> = { merchantId, ...request };
    if (i % 10 === 3) {
      // A decline reported a second later: it counts in the card's later scorings.
      const outcomeAt = new Date(base + i * 45_000 + 1000).toISOString();
      const o = await t.app.inject({
        method: 'POST',
        url: `/v1/transactions/exp-${i}/outcome`,
        headers: bearer(merchantId === 'm1' ? t.keys.merchant : t.keys.otherMerchant),
        payload: { outcome: 'declined', occurredAt: outcomeAt },
      });
      expect(o.statusCode, o.body).toBeLessThan(300);
      Object.assign(line, { outcome: 'declined', outcomeAt });
    }
    if (i === 7) line.label = 'fraud';
    lines.push(line);
  }
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe('npm run replay', () => {
  it('decides a merchant export as the API did, reports refused lines by number without the card number', async () => {
    const file = join(dir, 'export.ndjson');
    const bad = { ...lines[0], transactionId: 'bad-1', amount: -3 };
    const undated = { ...lines[1], transactionId: 'bad-2', occurredAt: undefined };
    // Shuffled: the replay orders by occurredAt.
    const shuffled = [...lines].reverse();
    writeFileSync(
      file,
      [...shuffled.slice(0, 10), bad, ...shuffled.slice(10), undated].map((l) => JSON.stringify(l)).join('\n') + '\n',
    );
    const out = join(dir, 'out');
    const { stdout, stderr } = await run(process.execPath, ['models/cli/replay.ts', file, '--out', out, '--quiet'], {
      cwd: REPO,
      env: { ...process.env, LEAKGUARD_MODEL: 'off', LEAKGUARD_STATE_DIR: dir },
    });
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as BacktestReport;
    expect(report.transactions).toMatchObject({ reported: 48, fraud: 1 });
    for (const d of DECISIONS) {
      const n = answers.filter((a) => a === d).length;
      expect(report.results[0].decisions[d].count, d).toBe(n);
      expect(report.transitions[d][d].count, d).toBe(n);
    }
    expect(answers.some((a) => a !== 'approve')).toBe(true);
    expect(report.source).toMatchObject({ refused: 2 });
    expect(report.source.problems).toEqual([
      `${file}:11: amount: Too small: expected number to be >0`,
      `${file}:50: occurredAt: is required to replay a request in time`,
    ]);
    for (const pan of cards) {
      expect(stdout + stderr).not.toContain(pan);
      expect(readFileSync(join(out, 'report.html'), 'utf8')).not.toContain(pan);
      expect(readFileSync(join(out, 'report.json'), 'utf8')).not.toContain(pan);
    }
  }, 60_000);

  it('looks each request up as a deployed engine does, on a watchlist and lists that start empty', async () => {
    const builder = new TrafficBuilder('requests');
    lines.forEach((l, i) => builder.add(JSON.stringify(l), `export:${i + 1}`));
    const traffic = builder.finish();
    const features: FeatureMap[] = [];
    await replayConfiguration(
      traffic,
      { label: 'in force', ruleset: DEFAULT_RULESET_PATH, model: null, rates: DEFAULT_RATES_PATH },
      { first: 0, reportFrom: 0, end: traffic.count },
      undefined,
      (_i, _input, result) => features.push(result.evidence!.features),
    );
    expect(features).toHaveLength(48);
    // "Nothing found" (days_since_listed -1 and the rest), as the engine answers a card on no list,
    // and as a model learnt it: not absent (read 0 by a model).
    for (const f of features) expect(f).toMatchObject(NOTHING_FOUND);
  });

  it('needs a file, and says so', async () => {
    const e = await run(process.execPath, ['models/cli/replay.ts'], { cwd: REPO }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(e).toMatchObject({ code: 2 });
    expect((e as { stderr: string }).stderr).toContain('one file of requests is required');
  });
});
