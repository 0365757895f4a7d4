// The ruleset reloads without a restart; an invalid file is refused and the old one stays.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RULESET_PATH } from '../../services/adapters/files/ruleset-file.ts';
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
    expect((await score()).json()).toMatchObject({ decision: 'approve', versions: { ruleset: 'default-2026.12.7b' } });
    const edited = readFileSync(path, 'utf8')
      .replace('version: default-2026.12.7b', 'version: tightened-1')
      .replace(/(code: HIGH_AMOUNT[\s\S]*?score: )10/, '$130');
    writeFileSync(path, edited);
    const res = await reload();
    expect(res.json()).toMatchObject({ version: 'tightened-1' });
    expect((await score()).json()).toMatchObject({ decision: 'challenge', versions: { ruleset: 'tightened-1' } });
  });

  it('refuses an invalid file with the reason and keeps the ruleset in force', async () => {
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace('feature: amount_ref, gte: 1000', 'feature: amount_rf, gte: 1000'),
    );
    const res = await reload();
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toContain('unknown feature amount_rf');
    expect((await score()).json().versions.ruleset).toBe('tightened-1');
    expect((await t.app.inject('/metrics')).body).toMatch(/leakguard_ruleset_reloads_total\{result="refused"\} 1/);
  });

  it('notices a changed file by itself', async () => {
    writeFileSync(
      path,
      readFileSync(DEFAULT_RULESET_PATH, 'utf8').replace('version: default-2026.12.7b', 'version: watched-2'),
    );
    const end = Date.now() + 10_000;
    let version = '';
    while (Date.now() < end && version !== 'watched-2') {
      await new Promise((r) => setTimeout(r, 200));
      version = (await score()).json().versions.ruleset;
    }
    expect(version).toBe('watched-2');
  });
});
