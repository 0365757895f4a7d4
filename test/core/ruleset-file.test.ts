// The watched ruleset file: a save is read once it has settled, never mid-write.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_RULESET_PATH, readRulesetFile, RulesetFile } from '../../services/adapters/files/ruleset-file.ts';
import { decide, RulesetError, type Ruleset } from '../../services/core/rules.ts';
import type { ReloadResult } from '../../services/adapters/files/watched-file.ts';
import { ALL_FEATURES } from '../../services/core/features.ts';

const known = new Set(ALL_FEATURES);
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tempFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lg-ruleset-'));
  dirs.push(dir);
  const path = join(dir, 'rules.yaml');
  writeFileSync(path, text);
  return path;
}

const problemsIn = (path: string) => {
  try {
    readRulesetFile(path, known);
  } catch (error) {
    if (error instanceof RulesetError) return { message: error.message, details: error.details };
    throw error;
  }
  throw new Error('loaded');
};

describe('a refused ruleset file', () => {
  it('names the file, and each problem its rule by code and its line', () => {
    const path = tempFile(
      [
        'version: t-1',
        'bands: { challenge: 30, review: 55, decline: 80 }',
        'rules:',
        '  - code: HIGH_AMOUNT',
        '    message: "High amount ({amount_reff})"',
        '    when: { feature: amount_ref, gte: 1000 }',
        '    score: 10',
        '  - code: CVV_MISMATCH',
        '    message: "Security code did not match"',
        '    when:',
        '      any:',
        '        - { feature: cvv_result, eq: mismach }',
        '        - { feature: three_ds_status, in: [N, R, 1] }',
        '    score: 35',
        '  - code: WHEN_MISSING',
        '    message: m',
        '    score: 1',
      ].join('\n'),
    );
    const { message, details } = problemsIn(path);
    expect(details).toEqual([{ path: 'rules.2 (WHEN_MISSING).when', message: 'is required (line 15)' }]);
    expect(message).toBe(`invalid ruleset ${path}: rules.2 (WHEN_MISSING).when: is required (line 15)`);

    writeFileSync(path, readFileSync(path, 'utf8').replace(/ {2}- code: WHEN_MISSING[\s\S]*$/, ''));
    expect(problemsIn(path).details).toEqual([
      {
        path: 'rules.1 (CVV_MISMATCH).when.any.0.eq',
        message: 'cvv_result is one of match, mismatch, not_checked: never "mismach" (line 12)',
      },
    ]);
    // What leaves its rule firing as before loads, said with its line (a refusal would stop a start-up).
    writeFileSync(path, readFileSync(path, 'utf8').replace('eq: mismach', 'eq: mismatch'));
    expect(readRulesetFile(path, new Set(ALL_FEATURES)).warnings).toEqual([
      "rules.0 (HIGH_AMOUNT).message: {amount_reff} names no feature: a placeholder is a feature's name in braces (line 5)",
      'rules.1 (CVV_MISMATCH).when.any.1.in.2: three_ds_status is one of Y, N, U, A, C, D, R, I, none: never 1 (line 13)',
    ]);
  });

  it('refuses a version holding a card number without repeating it', () => {
    const path = tempFile(
      [
        'version: "4111111111111111"',
        'bands: { challenge: 30, review: 55, decline: 80 }',
        'rules:',
        '  - { code: SEEN_BEFORE, message: m, score: 5, when: { feature: card_count_1h, gte: 1 } }',
      ].join('\n'),
    );
    const { message, details } = problemsIn(path);
    expect(details).toEqual([
      { path: 'version', message: 'looks like it holds a card number: name the ruleset otherwise (line 1)' },
    ]);
    expect(message).not.toMatch(/4111111111111111|1111 ?1111/);
  });

  it('names the line of a YAML fault', () => {
    const path = tempFile('version: t-1\nbands: { challenge: 30\nrules: []\n');
    const { message, details } = problemsIn(path);
    expect(message).toMatch(new RegExp(`^invalid ruleset ${path}: \\(root\\): not YAML: `));
    expect(details).toEqual([{ path: '(root)', message: expect.stringMatching(/^not YAML: .* \(line [23]\)$/) }]);
  });
});

describe("a ruleset file's merchant ids", () => {
  const ruleset = (merchants: string[]) =>
    tempFile(
      [
        'version: t-1',
        'bands: { challenge: 30, review: 55, decline: 80 }',
        'rules:',
        '  - { code: SEEN_BEFORE, message: m, score: 5, when: { feature: card_count_1h, gte: 1 } }',
        'merchants:',
        ...merchants,
      ].join('\n'),
    );
  const degradedDecision = (r: Ruleset, merchantId: string) =>
    decide({ ruleset: r, merchantId, hits: [], degraded: true, cardNotPresent: true, threeDSAuthenticated: false })
      .decision;

  it('refuses a key YAML reads as other than a string (0042 would be 42), by the key as written and its line', () => {
    const path = ruleset([
      '  0042: { failMode: closed }',
      '  1e3: { failMode: closed }',
      '  9007199254740993:',
      '    failMode: closed',
      '  true: { failMode: closed }',
      '  ~: { failMode: closed }',
      '  shop-17: { failMode: closed }',
    ]);
    expect(problemsIn(path).details).toEqual([
      { path: 'merchants.0042', message: 'read as the number 42: quote it ("0042") (line 6)' },
      { path: 'merchants.1e3', message: 'read as the number 1000: quote it ("1e3") (line 7)' },
      {
        path: 'merchants.9007199254740993',
        message: 'read as the number 9007199254740992: quote it ("9007199254740993") (line 8)',
      },
      { path: 'merchants.true', message: 'read as true: quote it ("true") (line 10)' },
      { path: 'merchants.~', message: 'read as null: quote it ("~") (line 11)' },
    ]);
    // A key other than a scalar is no merchant id either, and another problem in the file is named with it.
    writeFileSync(
      path,
      readFileSync(path, 'utf8')
        .replace(/^ {2}(0042|1e3|true|~):.*\n/gm, '')
        .replace(/^ {2}9007199254740993:\n.*\n/m, '  ? [a, b]\n  : { failMode: closed }\n')
        .replace('score: 5,', 'score: 500,'),
    );
    expect(problemsIn(path).details).toEqual([
      { path: 'merchants.[a, b]', message: 'a merchant id is a string: write it as one (line 6)' },
      {
        path: 'rules.0 (SEEN_BEFORE).score',
        message: expect.stringMatching(/<=100 \(line 4\)$/),
      },
    ]);
  });

  it('applies an override whose id is quoted: "0042" is the merchant 0042, not 42', () => {
    const r = readRulesetFile(
      ruleset([
        '  "0042": { failMode: closed }',
        "  '9007199254740993': { failMode: closed }",
        '  !!str 1e3: { failMode: closed }',
      ]),
      known,
    );
    expect(Object.keys(r.merchants).sort()).toEqual(['0042', '1e3', '9007199254740993']);
    for (const id of ['0042', '1e3', '9007199254740993']) expect(degradedDecision(r, id)).toBe('challenge');
    for (const id of ['42', '1000', '9007199254740992']) expect(degradedDecision(r, id)).toBe('approve');
  });

  it('refuses an id no API key or stream message could carry, with its line', () => {
    const path = ruleset(['  shop-17: { failMode: closed }', '  "shop 17":', '    failMode: closed']);
    expect(problemsIn(path).details).toEqual([
      { path: 'merchants.shop 17', message: 'a merchant id must be 1-64 letters, digits, . _ - (line 7)' },
    ]);
  });
});

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
