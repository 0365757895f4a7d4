// The watched ruleset file: a save is read once it has settled, never mid-write.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_RULESET_PATH, readRulesetFile, RulesetFile } from '../../services/adapters/files/ruleset-file.ts';
import type { ReloadResult } from '../../services/adapters/files/watched-file.ts';
import { ALL_FEATURES } from '../../services/core/features.ts';

const known = new Set(ALL_FEATURES);
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the watched ruleset file', () => {
  it('reloads a save once the file has settled, not the half of it a poll landed on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-ruleset-'));
    dirs.push(dir);
    const path = join(dir, 'rules.yaml');
    const full = readFileSync(DEFAULT_RULESET_PATH, 'utf8').replace(/^version: .*$/m, 'version: saved-2');
    writeFileSync(path, readFileSync(DEFAULT_RULESET_PATH, 'utf8'));
    const results: ReloadResult[] = [];
    const file = new RulesetFile(path, known, (r) => results.push(r));
    const stop = file.watch(20, 400);
    try {
      // A save seen mid-write: cut after the sixth rule, it is a whole document that validates.
      const cut = full.slice(0, full.split('  - code:', 7).join('  - code:').length);
      writeFileSync(path, cut);
      expect(readRulesetFile(path, known).rules).toHaveLength(6);
      await sleep(150);
      expect(results).toEqual([]);

      writeFileSync(path, full);
      const end = Date.now() + 5_000;
      while (results.length === 0 && Date.now() < end) await sleep(20);
      expect(results).toEqual([{ ok: true, version: expect.stringMatching(/^saved-2\+[0-9a-f]{8}$/) }]);
      expect(file.ruleset.rules.length).toBe(readRulesetFile(DEFAULT_RULESET_PATH, known).rules.length);
    } finally {
      stop();
    }
  });
});
