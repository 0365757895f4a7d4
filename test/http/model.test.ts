// The model in the engine, on a real Redis: /v1/score reports the model's version and check, the
// model's score feeds the rules, its factors become reasons; the artifact is switched while
// requests run without dropping one; an artifact built for another feature set is refused, at
// reload (the model in force stays) and at start-up (the engine does not start).
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { featureNames, HANDBOOK_FEATURE_SET } from '../../services/model/definitions.ts';
import type { Artifact } from '../../services/model/artifact.ts';
import { bearer, buildTestApp, scoreBody, TEST_CARD_KEY, type TestApp } from '../support/app.ts';
import { RedisServer } from '../support/redis-server.ts';
import { installJson, stumpModel } from '../support/stump-model.ts';

const names = featureNames(HANDBOOK_FEATURE_SET);

/** Two stumps: the card's 24-hour count (≥ 3 → 0.95) and the amount (≥ 500 → 0.6). Hand-made, so every score is known. */
const stumpArtifact = (version: string, featureSet: Partial<Artifact['featureSet']> = {}): Artifact =>
  stumpModel(
    version,
    {},
    [
      ['CUSTOMER_ID_NB_TX_1DAY_WINDOW', 2.5, 0.02, 0.95],
      ['TX_AMOUNT', 500, 0.01, 0.6],
    ],
    featureSet,
  );

const dir = mkdtempSync(join(tmpdir(), 'lg-model-'));
const modelPath = join(dir, 'active.json');
/** Written aside and renamed: a watcher never sees half a file. */
const install = (artifact: Artifact, path = modelPath) => installJson(path, artifact);

let redis: RedisServer;
let t: TestApp;
beforeAll(async () => {
  install(stumpArtifact('stumps-v1'));
  redis = await RedisServer.start();
  t = await buildTestApp({ REDIS_URL: redis.url, LEAKGUARD_MODEL: modelPath });
});
afterAll(async () => {
  await t?.close();
  await redis?.stop();
});

const score = async (body: ReturnType<typeof scoreBody>) => {
  const res = await t.app.inject({ method: 'POST', url: '/v1/score', headers: bearer(t.keys.merchant), payload: body });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as {
    score: number;
    decision: string;
    reasons: { code: string; message: string }[];
    checks: Record<string, string>;
    versions: Record<string, string>;
  };
};

describe('the model in /v1/score', () => {
  it('reports its version and check, and stays silent while its score is low', async () => {
    const r = await score(
      scoreBody({
        amount: 2000,
        card: { number: '4111111111111111', expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
      }),
    );
    expect(r.versions.model).toBe('stumps-v1');
    expect(r.checks.model).toBe('evaluated');
    expect(r.reasons.filter((x) => x.code.startsWith('MODEL_'))).toEqual([]);
  });

  it('feeds its probability to the rules and names the features that pushed it up', async () => {
    const card = { number: '5555555555554444', expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' as const };
    await score(scoreBody({ amount: 1000, card }));
    await score(scoreBody({ amount: 1000, card }));
    // Third use in 24 h, 900.00 EUR: (0.95 + 0.6) / 2 = 77.5 %.
    const r = await score(scoreBody({ amount: 90_000, card }));
    const codes = r.reasons.map((x) => x.code);
    expect(codes).toContain('MODEL_VERY_HIGH_RISK');
    expect(r.reasons.find((x) => x.code === 'MODEL_VERY_HIGH_RISK')!.message).toContain('77.5 %');
    // Factors follow the rule reasons, largest push first.
    expect(codes.slice(-2)).toEqual(['MODEL_FACTOR_CUSTOMER_ID_NB_TX_1DAY_WINDOW', 'MODEL_FACTOR_TX_AMOUNT']);
    expect(r.reasons.at(-2)!.message).toBe(
      'Model: CUSTOMER_ID_NB_TX_1DAY_WINDOW = 3 raised the fraud probability by 23.25 points',
    );
    expect(r.score).toBeGreaterThanOrEqual(55);
  });

  it('switches to a new artifact while requests run, dropping none', async () => {
    let running = true;
    const seen: string[] = [];
    const traffic = (async () => {
      while (running) {
        const batch = await Promise.all(
          Array.from({ length: 8 }, () =>
            t.app.inject({ method: 'POST', url: '/v1/score', headers: bearer(t.keys.merchant), payload: scoreBody() }),
          ),
        );
        for (const res of batch) {
          expect(res.statusCode).toBe(200);
          seen.push(res.json().versions.model);
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    install(stumpArtifact('stumps-v2'));
    const reload = await t.app.inject({ method: 'POST', url: '/v1/admin/model/reload', headers: bearer(t.keys.admin) });
    expect(reload.statusCode, reload.body).toBe(200);
    expect(reload.json()).toMatchObject({ version: 'stumps-v2', featureSet: { name: 'handbook' }, trees: 2 });
    await new Promise((r) => setTimeout(r, 100));
    running = false;
    await traffic;
    expect(seen.length).toBeGreaterThan(8);
    expect(new Set(seen)).toEqual(new Set(['stumps-v1', 'stumps-v2']));
    // Once switched, never back.
    expect(seen.slice(seen.indexOf('stumps-v2')).every((v) => v === 'stumps-v2')).toBe(true);
  });

  it('refuses, at reload, an artifact built for another feature set; the model in force stays', async () => {
    install(stumpArtifact('reordered', { features: [...names].reverse() }));
    const reload = await t.app.inject({ method: 'POST', url: '/v1/admin/model/reload', headers: bearer(t.keys.admin) });
    expect(reload.statusCode).toBe(422);
    expect(reload.json().error).toMatch(
      /model refused, the previous one stays in force: feature set mismatch: .*first difference at position 0 \(model: TERMINAL_ID_RISK_30DAY_WINDOW, service: TX_AMOUNT\)/,
    );
    install(stumpArtifact('other-set', { name: 'engine-v0' }));
    const other = await t.app.inject({ method: 'POST', url: '/v1/admin/model/reload', headers: bearer(t.keys.admin) });
    expect(other.json().error).toMatch(
      /feature set mismatch: the model other-set uses feature set "engine-v0", this engine computes "handbook"/,
    );
    expect((await score(scoreBody())).versions.model).toBe('stumps-v2');
    const info = await t.app.inject({ method: 'GET', url: '/v1/admin/model', headers: bearer(t.keys.admin) });
    expect(info.json()).toMatchObject({ version: 'stumps-v2', training: { rows: 100, frauds: 10 } });
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/admin/model', headers: bearer(t.keys.merchant) })).statusCode,
    ).toBe(403);
  });
});

describe('the engine and a model it cannot serve', () => {
  const root = new URL('../..', import.meta.url).pathname;
  const start = (model: string) =>
    spawnSync(process.execPath, [join(root, 'services/main.ts')], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        LEAKGUARD_STATE_DIR: mkdtempSync(join(tmpdir(), 'lg-model-start-')),
        LEAKGUARD_CARD_KEY: TEST_CARD_KEY,
        LEAKGUARD_MODEL: model,
        PORT: '0',
        REDIS_URL: '',
        DATABASE_URL: '',
      },
    });

  it('does not start, and says why', () => {
    const path = join(dir, 'mismatch.json');
    install(stumpArtifact('mismatch', { version: 99 }), path);
    const res = start(path);
    expect(res.status).toBe(1);
    expect(res.stderr).toContain(
      'feature set mismatch: the model mismatch uses "handbook" version 99, this engine computes version 1: retrain the model',
    );
    const missing = start(join(dir, 'nope.json'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/cannot read model artifact .*nope\.json/);
  });
});
