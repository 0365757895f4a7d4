// Docs that match the code: every feature and every default reason code is documented.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../services/config.ts';
import { DEFAULT_RULESET_PATH } from '../../services/adapters/files/ruleset-file.ts';
import { ALL_FEATURES, RELATIVE_AMOUNT_FEATURES, TRANSACTION_FEATURES } from '../../services/core/features.ts';
import { VELOCITY_FEATURES } from '../../services/core/velocity.ts';
import { WATCHLIST_FEATURES } from '../../services/core/watchlist.ts';
import { LIST_FEATURES } from '../../services/core/lists.ts';
import { MODEL_FEATURES } from '../../services/core/model.ts';
import {
  comparisonSchema,
  merchantOverrideSchema,
  parseRuleset,
  ruleSchema,
  rulesetSchema,
} from '../../services/core/rules.ts';

const doc = (name: string) => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

describe('documentation', () => {
  it('lists every velocity and transaction feature in the feature contract', () => {
    const contract = doc('velocity-features.md');
    const listed = [
      ...VELOCITY_FEATURES,
      ...TRANSACTION_FEATURES,
      ...RELATIVE_AMOUNT_FEATURES,
      ...WATCHLIST_FEATURES,
      ...LIST_FEATURES,
      ...MODEL_FEATURES,
    ];
    // Every feature a rule may name (the known feature list) is among them.
    expect(ALL_FEATURES.filter((f) => !listed.includes(f))).toEqual([]);
    const missing = listed.filter((f) => !contract.includes(`\`${f}\``));
    expect(missing).toEqual([]);
  });

  it('lists every reason code of the default ruleset in the catalogue, with its default score', () => {
    const catalogue = doc('reason-codes.md');
    const { rules } = parse(readFileSync(DEFAULT_RULESET_PATH, 'utf8')) as { rules: { code: string; score: number }[] };
    for (const rule of rules) {
      const row = catalogue.split('\n').find((line) => line.startsWith(`| \`${rule.code}\``));
      expect(row, rule.code).toBeDefined();
      const shown = rule.score > 0 ? `+${rule.score}` : rule.score < 0 ? `−${-rule.score}` : '0';
      expect(row, rule.code).toContain(`| ${shown} |`);
    }
  });

  it('documents every operator and field of the rule language, and its worked example loads', () => {
    const policy = doc('decision-policy.md');
    const writing = policy.slice(policy.indexOf('## Writing rules'));
    const operators = [...Object.keys(comparisonSchema.shape), 'all', 'any', 'not'];
    expect(operators).toEqual(['feature', 'gte', 'gt', 'lte', 'lt', 'eq', 'neq', 'in', 'all', 'any', 'not']);
    const fields = [
      ...Object.keys(rulesetSchema.shape),
      ...Object.keys(ruleSchema.shape),
      ...Object.keys(merchantOverrideSchema.shape),
    ];
    expect([...operators, ...fields].filter((name) => !writing.includes(`\`${name}\``))).toEqual([]);
    const example = writing.slice(writing.indexOf('### A worked example'));
    const yaml = example.slice(example.indexOf('```yaml') + 7, example.indexOf('```', example.indexOf('```yaml') + 7));
    const ruleset = parseRuleset(parse(yaml), new Set(ALL_FEATURES));
    expect(ruleset.rules.map((r) => r.code)).toEqual(['UNUSUAL_AMOUNT_FOR_CARD', 'UNUSUAL_AMOUNT_CVV_MISMATCH']);
  });

  it('says what the rules audit refuses and what it only warns of as the code does: an unknown feature, even under a not', () => {
    const policy = doc('decision-policy.md').replace(/\s+/g, ' ');
    const refused = policy.slice(policy.indexOf('### What is refused'), policy.indexOf('is **loaded and said**'));
    const warned = policy.slice(policy.indexOf('is **loaded and said**'), policy.indexOf('they are still mistakes'));
    const known = new Set(ALL_FEATURES);
    const rule = (when: unknown) => ({
      version: 't1',
      bands: { challenge: 30, review: 55, decline: 80 },
      rules: [{ code: 'MY_RULE', message: 'm', when, score: 10 }],
    });
    // An unknown feature is never computed: its comparison is unknown, and so is its `not`: the rule is dead.
    expect(() => parseRuleset(rule({ not: { feature: 'amount_rf', gte: 1 } }), known)).toThrow(
      'rules.0 (MY_RULE).when.not.feature: unknown feature amount_rf',
    );
    expect(refused).toContain('an unknown feature, under a `not` too');
    // Another dead comparison under a `not` makes the rule always fire: loaded, and said.
    expect(parseRuleset(rule({ not: { feature: 'three_ds_status', eq: 'y' } }), known).warnings).toHaveLength(1);
    expect(warned).toContain('any of the mistakes above but an unknown feature under a `not`');
  });

  it("models/README.md's layout table names paths that exist, and README.md points at where features are defined", () => {
    const models = new URL('../../models/', import.meta.url).pathname;
    const readme = readFileSync(join(models, 'README.md'), 'utf8');
    const layout = readme.slice(readme.indexOf('## Layout'), readme.indexOf('## Semantics'));
    const paths = [...layout.matchAll(/^\| ([^|]+) \|/gm)]
      .flatMap((m) => [...m[1]!.matchAll(/`([^`]+)`/g)].map((p) => p[1]!))
      .map((p, i, all) => (p.includes('/') ? p : join(all[i - 1]!.replace(/[^/]*$/, ''), p)));
    expect(paths.length).toBeGreaterThan(20);
    expect(paths.filter((p) => !existsSync(join(models, p)))).toEqual([]);
    const top = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const where = [...top.matchAll(/Model features are defined once \(([^)]+)\)/g)];
    expect(where).toHaveLength(1);
    for (const [, p] of where)
      for (const [, file] of p!.matchAll(/`([^`]+)`/g))
        expect(existsSync(new URL(`../../${file}`, import.meta.url))).toBe(true);
  });

  it("README's card-key rotation keeps the previous key as long as what is keyed by it lasts, and says to upload watchlists again", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    const advice = /Keep the previous key configured for at least (\d+) days[^]*?\(docs\/watchlists\.md[^)]*\)/.exec(
      readme,
    );
    expect(advice, 'the rotation advice in README.md').not.toBeNull();
    const defaults = loadConfig({});
    // Negative lists and allow-listings hold pseudonyms under the card key, as the 30-day velocity windows do.
    expect(Number(advice![1])).toBeGreaterThanOrEqual(
      Math.max(30, defaults.LEAKGUARD_NEGATIVE_LIST_DAYS, defaults.LEAKGUARD_ALLOWLIST_MAX_DAYS),
    );
    for (const named of ['LEAKGUARD_NEGATIVE_LIST_DAYS', 'LEAKGUARD_ALLOWLIST_MAX_DAYS', 'upload'])
      expect(advice![0]).toContain(named);
    expect(doc('watchlists.md')).toContain(
      'the cards listed under the previous key stop matching when the previous key is',
    );
  });
});
