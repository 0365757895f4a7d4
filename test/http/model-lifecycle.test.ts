// The model file's lifecycle beside the rate table: a model reads amounts in the currency it was
// trained on, so it is refused under a rate table with another reference (at start-up and at
// reload), and a rate table that would change the reference is refused at reload, model or not.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_RATES_PATH } from '../../services/adapters/files/rates-file.ts';
import { DEFAULT_RULESET_PATH } from '../../services/adapters/files/ruleset-file.ts';
import { STARTER_MODEL_PATH } from '../../services/model/starter.ts';
import { bearer, buildTestApp, type TestApp } from '../support/app.ts';
import { installJson, stumpModel } from '../support/stump-model.ts';

const dir = mkdtempSync(join(tmpdir(), 'lg-model-lifecycle-'));
const EUR_TABLE = readFileSync(DEFAULT_RATES_PATH, 'utf8');
/** An operator's own table in yen: 1 JPY = 1/130 EUR. */
const JPY_TABLE = `version: yen-1\nreference: JPY\nsmallAmount: 260\nrates:\n  EUR: [{ from: 2018-01-01, rate: 0.0077 }]\n`;

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});
const admin = (method: 'GET' | 'POST', url: string) => t!.app.inject({ method, url, headers: bearer(t!.keys.admin) });

describe("a model and the rate table's reference currency", () => {
  it('the starter model (trained on euros) does not start under a yen rate table, and says why', async () => {
    const rates = join(dir, 'jpy.yaml');
    installJson(rates, JPY_TABLE);
    await expect(buildTestApp({ LEAKGUARD_RATES: rates, LEAKGUARD_MODEL: STARTER_MODEL_PATH })).rejects.toThrow(
      'amount currency mismatch: the model starter-engine-v2-sim1-50t was trained on amounts in EUR, the rate table in force converts amounts into JPY',
    );
  });

  it('an artifact without amountReference (written before it) is taken as EUR', async () => {
    const { amountReference: _, ...legacy } = stumpModel('legacy-1');
    const model = join(dir, 'legacy.json');
    installJson(model, legacy);
    const rates = join(dir, 'jpy-legacy.yaml');
    installJson(rates, JPY_TABLE);
    await expect(buildTestApp({ LEAKGUARD_RATES: rates, LEAKGUARD_MODEL: model })).rejects.toThrow(
      /the model legacy-1 was trained on amounts in EUR, the rate table in force converts amounts into JPY/,
    );
    t = await buildTestApp({ LEAKGUARD_MODEL: model });
    expect((await admin('GET', '/v1/admin/model')).json()).toMatchObject({
      version: 'legacy-1',
      amountReference: 'EUR',
    });
  });

  it("shows what the model learnt as fraud, from its artifact's training target", async () => {
    const base = stumpModel('labelled-1');
    const description =
      "target: the deployment's recorded labels known by 2026-11-30T00:00:00.000Z: fraud chargebacks not reversed and analysts' fraud labels";
    const model = join(dir, 'labelled.json');
    installJson(model, {
      ...base,
      training: {
        ...base.training,
        target: { target: 'chargebacks', cutoff: '2026-11-30T00:00:00.000Z', frauds: 10, truthFrauds: 10, description },
      },
    });
    t = await buildTestApp({ LEAKGUARD_MODEL: model });
    const info = (await admin('GET', '/v1/admin/model')).json();
    expect(info.training).toEqual({
      from: '2018-07-25',
      to: '2018-07-31',
      rows: 100,
      frauds: 10,
      fingerprint: `sha256:${'0'.repeat(64)}`,
      labels: description,
    });
    // An artifact without a target (written before it was kept) shows none.
    installJson(model, stumpModel('unlabelled-1'));
    expect((await admin('POST', '/v1/admin/model/reload')).json().training).not.toHaveProperty('labels');
  });

  it('refuses at reload a model trained on another currency; the model in force stays', async () => {
    const model = join(dir, 'reload.json');
    installJson(model, stumpModel('eur-1'));
    t = await buildTestApp({ LEAKGUARD_MODEL: model });
    installJson(model, stumpModel('yen-1', { amountReference: 'JPY' }));
    const res = await admin('POST', '/v1/admin/model/reload');
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toBe(
      'model refused, the previous one stays in force: amount currency mismatch: the model yen-1 was trained on amounts in JPY, ' +
        'the rate table in force converts amounts into EUR: serve a model trained on EUR amounts, or a rate table (LEAKGUARD_RATES) whose reference is JPY',
    );
    expect((await admin('GET', '/v1/admin/model')).json()).toMatchObject({ version: 'eur-1', amountReference: 'EUR' });
  });

  it('refuses a rate table that changes the reference under a served model; one that keeps it loads', async () => {
    const model = join(dir, 'served.json');
    installJson(model, stumpModel('eur-2'));
    const rates = join(dir, 'rates.yaml');
    installJson(rates, EUR_TABLE);
    t = await buildTestApp({ LEAKGUARD_MODEL: model, LEAKGUARD_RATES: rates });
    installJson(rates, JPY_TABLE);
    const res = await admin('POST', '/v1/admin/rates/reload');
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toContain(
      "reference currency change refused: the model in force (eur-2) reads amounts in EUR, this table's reference is JPY: keep the reference EUR, or restart the engine with this table and a model trained on JPY amounts (or LEAKGUARD_MODEL=off)",
    );
    expect((await admin('GET', '/v1/admin/rates')).json()).toMatchObject({ reference: 'EUR' });
    installJson(rates, EUR_TABLE.replace(/^version: .*$/m, 'version: eur-next'));
    expect((await admin('POST', '/v1/admin/rates/reload')).json()).toMatchObject({ version: 'eur-next' });
  });

  it('without a model, a change of reference is refused too: the counters hold amounts in the one in force', async () => {
    const rates = join(dir, 'free.yaml');
    installJson(rates, EUR_TABLE);
    t = await buildTestApp({ LEAKGUARD_RATES: rates });
    const before = (await admin('GET', '/v1/admin/rates')).json().version;
    installJson(rates, JPY_TABLE);
    const res = await admin('POST', '/v1/admin/rates/reload');
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toBe(
      'rate table refused, the previous one stays in force: reference currency change refused: the rate table in force ' +
        `(${before}) converts amounts into EUR, this table's reference is JPY: the velocity counters hold amounts in EUR ` +
        "and the rules' thresholds are EUR amounts. Keep the reference EUR, or change it at a restart, " +
        'with the rules rewritten in JPY (docs/currencies.md, "Changing the reference currency")',
    );
    expect((await admin('GET', '/v1/admin/rates')).json()).toMatchObject({
      version: before,
      reference: 'EUR',
      lastReload: { ok: false },
    });
    const body = (await t.app.inject('/metrics')).body;
    expect(body).toContain('leakguard_file_refused{file="rate table"} 1');
    expect(body).toMatch(/leakguard_rate_table_reloads_total\{result="refused"\} 1/);
    expect(t.logs.join('\n')).toContain('rate table refused; the previous rate table stays in force');
    // A table in the same reference still loads.
    installJson(rates, EUR_TABLE.replace(/^version: .*$/m, 'version: eur-after'));
    expect((await admin('POST', '/v1/admin/rates/reload')).json()).toMatchObject({
      version: 'eur-after',
      reference: 'EUR',
    });
  });
});

describe('a refused reload stays visible', () => {
  it('GET /v1/admin/model and the leakguard_file_refused gauge show it until a reload succeeds', async () => {
    const model = join(dir, 'visible.json');
    installJson(model, stumpModel('good-1'));
    t = await buildTestApp({ LEAKGUARD_MODEL: model });
    expect((await admin('GET', '/v1/admin/model')).json().lastReload).toBeNull();
    expect((await t.app.inject('/metrics')).body).toContain('leakguard_file_refused{file="model"} 0');

    installJson(model, '{"formatVersion": 1}');
    expect((await admin('POST', '/v1/admin/model/reload')).statusCode).toBe(422);
    const info = (await admin('GET', '/v1/admin/model')).json();
    expect(info.version).toBe('good-1');
    expect(info.lastReload).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid model artifact: /) });
    expect(Date.parse(info.lastReload.at)).toBeGreaterThan(Date.now() - 60_000);
    expect((await t.app.inject('/metrics')).body).toContain('leakguard_file_refused{file="model"} 1');

    installJson(model, stumpModel('good-2'));
    expect((await admin('POST', '/v1/admin/model/reload')).statusCode).toBe(200);
    expect((await admin('GET', '/v1/admin/model')).json().lastReload).toMatchObject({ ok: true, version: 'good-2' });
    expect((await t.app.inject('/metrics')).body).toContain('leakguard_file_refused{file="model"} 0');
  });

  it('the same for the rate table and the ruleset', async () => {
    const rates = join(dir, 'visible-rates.yaml');
    const ruleset = join(dir, 'visible-ruleset.yaml');
    installJson(rates, EUR_TABLE);
    installJson(ruleset, readFileSync(DEFAULT_RULESET_PATH, 'utf8'));
    t = await buildTestApp({ LEAKGUARD_RATES: rates, LEAKGUARD_RULESET: ruleset });
    installJson(rates, 'version: broken\n');
    installJson(ruleset, 'version: broken\n');
    expect((await admin('POST', '/v1/admin/rates/reload')).statusCode).toBe(422);
    expect((await admin('POST', '/v1/admin/ruleset/reload')).statusCode).toBe(422);
    expect((await admin('GET', '/v1/admin/rates')).json().lastReload).toMatchObject({ ok: false });
    expect((await admin('GET', '/v1/admin/ruleset')).json().lastReload).toMatchObject({ ok: false });
    const body = (await t.app.inject('/metrics')).body;
    expect(body).toContain('leakguard_file_refused{file="rate table"} 1');
    expect(body).toContain('leakguard_file_refused{file="ruleset"} 1');
  });
});
