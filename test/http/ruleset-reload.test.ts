// The ruleset reloads without a restart; an invalid file is refused and the old one stays.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RULESET_PATH, readRulesetFile } from '../../services/adapters/files/ruleset-file.ts';
import { ALL_FEATURES } from '../../services/core/features.ts';
import { rulesetVersion } from '../../services/core/rules.ts';
import { bearer, buildTestApp, scoreBody, type TestApp } from '../support/app.ts';

let t: TestApp;
let path: string;
beforeAll(async () => {
  const setup = await buildTestApp();
  path = join(setup.stateDir, 'rules.yaml');
  await setup.close();
  writeFileSync(path, readFileSync(DEFAULT_RULESET_PATH, 'utf8'));
  t = await buildTestApp({ LEAKGUARD_RULESET: path });
});
afterAll(() => t.close());

/** The leakguard_ruleset_info series, labels and value. */
const rulesetInfo = async (app: TestApp = t) =>
  [...(await app.app.inject('/metrics')).body.matchAll(/^leakguard_ruleset_info(\{.*\} \d+)$/gm)].map((m) => m[1]);
const reload = () => t.app.inject({ method: 'POST', url: '/v1/admin/ruleset/reload', headers: bearer(t.keys.admin) });
const score = () =>
  t.app.inject({
    method: 'POST',
    url: '/v1/score',
    headers: bearer(t.keys.merchant),
    payload: scoreBody({ amount: 150_000 }),
  });

describe('ruleset reload', () => {
  it('applies an edited ruleset on reload, and the response names its version', async () => {
    const shipped = rulesetVersion(readRulesetFile(DEFAULT_RULESET_PATH, new Set(ALL_FEATURES)));
    expect(shipped).toMatch(/^default-2026\.12\.8a\+[0-9a-f]{8}$/);
    expect((await score()).json()).toMatchObject({ decision: 'approve', versions: { ruleset: shipped } });
    const edited = readFileSync(path, 'utf8')
      .replace('version: default-2026.12.8a', 'version: tightened-1')
      .replace(/(code: HIGH_AMOUNT[\s\S]*?score: )10/, '$130');
    writeFileSync(path, edited);
    const res = await reload();
    const tightened = res.json().version;
    expect(tightened).toMatch(/^tightened-1\+[0-9a-f]{8}$/);
    expect((await score()).json()).toMatchObject({ decision: 'challenge', versions: { ruleset: tightened } });
    expect(await rulesetInfo()).toEqual([`{version="tightened-1",digest="${tightened.split('+')[1]}"} 1`]);
  });

  it('says at start-up which ruleset is in force: in the log and as a metric', async () => {
    const started = await buildTestApp({ LEAKGUARD_RULESET: DEFAULT_RULESET_PATH });
    try {
      const shipped = rulesetVersion(readRulesetFile(DEFAULT_RULESET_PATH, new Set(ALL_FEATURES)));
      const logged = started.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logged).toContainEqual(
        expect.objectContaining({ msg: 'ruleset loaded', version: shipped, path: DEFAULT_RULESET_PATH }),
      );
      expect(await rulesetInfo(started)).toEqual([
        `{version="default-2026.12.8a",digest="${shipped.split('+')[1]}"} 1`,
      ]);
    } finally {
      await started.close();
    }
  });

  it('names the content by its digest: rules changed under the same version are told apart, and warned of', async () => {
    const before = (await score()).json().versions.ruleset;
    const logsBefore = t.logs.length;
    writeFileSync(path, readFileSync(path, 'utf8').replace(/(code: HIGH_AMOUNT[\s\S]*?score: )30/, '$140'));
    const res = await reload();
    expect(res.statusCode).toBe(200);
    const after = res.json().version;
    expect(after).toMatch(/^tightened-1\+[0-9a-f]{8}$/);
    expect(after).not.toBe(before);
    expect((await score()).json().versions.ruleset).toBe(after);
    const warning = `ruleset content changed under the same version tightened-1 (digest ${before.split('+')[1]} -> ${after.split('+')[1]}): change version: with every edit`;
    expect(res.json().lastReload).toMatchObject({ ok: true, version: after, warning });
    const warned = t.logs.slice(logsBefore).map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(warned).toContainEqual(expect.objectContaining({ level: 40, msg: warning }));

    // A comment or a layout change is not a change of content.
    writeFileSync(path, `# edited by hand\n${readFileSync(path, 'utf8')}`);
    expect((await reload()).json()).toMatchObject({ version: after, lastReload: { ok: true, version: after } });
    expect((await reload()).json().lastReload.warning).toBeUndefined();
  });

  it('refuses an invalid file with the reason and keeps the ruleset in force', async () => {
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace('feature: amount_ref, gte: 1000', 'feature: amount_rf, gte: 1000'),
    );
    const res = await reload();
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toContain('unknown feature amount_rf');
    const line =
      readFileSync(path, 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('feature: amount_rf')) + 1;
    expect(res.json()).toMatchObject({
      code: 'RULESET_INVALID',
      details: [{ path: 'rules.19 (HIGH_AMOUNT).when.feature', message: `unknown feature amount_rf (line ${line})` }],
    });
    expect(res.json().error).toContain(`invalid ruleset ${path}: rules.19 (HIGH_AMOUNT).when.feature`);
    expect((await score()).json().versions.ruleset).toMatch(/^tightened-1\+/);
    expect((await t.app.inject('/metrics')).body).toMatch(/leakguard_ruleset_reloads_total\{result="refused"\} 1/);
  });

  it('notices a changed file by itself', async () => {
    writeFileSync(
      path,
      readFileSync(DEFAULT_RULESET_PATH, 'utf8').replace('version: default-2026.12.8a', 'version: watched-2'),
    );
    const end = Date.now() + 10_000;
    let version = '';
    while (Date.now() < end && !version.startsWith('watched-2+')) {
      await new Promise((r) => setTimeout(r, 200));
      version = (await score()).json().versions.ruleset;
    }
    expect(version).toMatch(/^watched-2\+[0-9a-f]{8}$/);
  });
});
