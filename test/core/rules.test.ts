import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_RULESET_PATH } from '../../services/adapters/files/ruleset-file.ts';
import { ALL_FEATURES } from '../../services/core/features.ts';
import { decide, evaluateRules, matches, parseRuleset, RulesetError, type Ruleset } from '../../services/core/rules.ts';

const known = new Set(ALL_FEATURES);
const base = { version: 't1', bands: { challenge: 30, review: 55, decline: 80 }, rules: [{ code: 'HIGH_AMOUNT', message: 'High amount ({amount_major})', when: { feature: 'amount_major', gte: 1000 }, score: 40 }] };

function problemsOf(doc: unknown): string[] {
  try {
    parseRuleset(doc, known);
  } catch (error) {
    if (error instanceof RulesetError) return error.problems;
    throw error;
  }
  return [];
}

describe('ruleset validation', () => {
  it('accepts the shipped default ruleset', () => {
    const ruleset = parseRuleset(parse(readFileSync(DEFAULT_RULESET_PATH, 'utf8')), known);
    expect(ruleset.rules.length).toBeGreaterThan(15);
  });

  it('names each problem by path: unknown features, duplicate codes, bad bands, code in rule files', () => {
    expect(problemsOf({ ...base, rules: [{ ...base.rules[0], when: { feature: 'amount_majr', gte: 1 } }] })).toEqual(['rules.0.when: unknown feature amount_majr']);
    expect(problemsOf({ ...base, rules: [base.rules[0], base.rules[0]] })).toEqual(['rules.1.code: duplicate code HIGH_AMOUNT']);
    expect(problemsOf({ ...base, bands: { challenge: 60, review: 55, decline: 80 } })).toEqual(['bands: must satisfy challenge <= review <= decline']);
    expect(problemsOf({ ...base, rules: [{ ...base.rules[0], when: { feature: 'amount_major', expr: 'process.exit()' } }] }).length).toBeGreaterThan(0);
    expect(problemsOf({ ...base, merchants: { m1: { disabledRules: ['NOPE'] } } })).toEqual(['merchants.m1.disabledRules: unknown rule NOPE']);
  });
});

describe('conditions', () => {
  const f = { amount_major: 50, cvv_result: 'mismatch', card_expired: false };
  it('compares, combines and treats unevaluated features as not matching', () => {
    expect(matches({ feature: 'amount_major', gte: 50, lt: 51 }, f)).toBe(true);
    expect(matches({ feature: 'cvv_result', in: ['mismatch', 'not_checked'] }, f)).toBe(true);
    expect(matches({ all: [{ feature: 'amount_major', gt: 10 }, { not: { feature: 'card_expired', eq: true } }] }, f)).toBe(true);
    expect(matches({ any: [{ feature: 'amount_major', gt: 100 }, { feature: 'cvv_result', neq: 'mismatch' }] }, f)).toBe(false);
    expect(matches({ feature: 'card_count_1h', gte: 0 }, f)).toBe(false);
  });
});

describe('decisions', () => {
  const ruleset: Ruleset = parseRuleset({
    ...base,
    failMode: 'open',
    rules: [
      { code: 'A_BIG', message: 'a', when: { feature: 'amount_major', gte: 0 }, score: 50 },
      { code: 'B_SMALL', message: 'b', when: { feature: 'amount_major', gte: 0 }, score: 10 },
      { code: 'C_FLOOR', message: 'c', when: { feature: 'cvv_result', eq: 'mismatch' }, score: 0, atLeast: 'review' },
      { code: 'D_RELIEF', message: 'd', when: { feature: 'three_ds_status', eq: 'Y' }, score: -70 },
    ],
    merchants: { strict: { failMode: 'closed', bands: { challenge: 10, review: 20, decline: 30 } }, lenient: { disabledRules: ['A_BIG'] } },
  }, known);
  const run = (features: Record<string, string | number | boolean>, merchant = 'm', extra: Partial<Parameters<typeof decide>[0]> = {}) =>
    decide({ ruleset, merchantId: merchant, hits: evaluateRules(ruleset, merchant, features), degraded: false, cardNotPresent: true, threeDSAuthenticated: false, ...extra });

  it('adds contributions, orders reasons by weight and maps score bands to decisions', () => {
    const d = run({ amount_major: 1 });
    expect(d).toEqual({ score: 60, decision: 'review', reasons: [{ code: 'A_BIG', message: 'a' }, { code: 'B_SMALL', message: 'b' }] });
    expect(run({ amount_major: 1 }, 'strict').decision).toBe('decline');
    expect(run({ amount_major: 1 }, 'lenient')).toMatchObject({ score: 10, decision: 'approve' });
  });

  it('clamps the score to 0..100 and applies rule floors', () => {
    expect(run({ amount_major: 1, three_ds_status: 'Y' }, 'lenient', { threeDSAuthenticated: true }).score).toBe(0);
    expect(run({ amount_major: 1, cvv_result: 'mismatch' }, 'lenient').decision).toBe('review');
  });

  it('counts a successful 3-D Secure authentication as the step-up a challenge floor asks for', () => {
    const s = parseRuleset({ ...base, rules: [{ code: 'STEP_UP', message: 's', when: { feature: 'amount_major', gte: 0 }, score: 0, atLeast: 'challenge' }] }, known);
    const hits = evaluateRules(s, 'm', { amount_major: 1 });
    expect(decide({ ruleset: s, merchantId: 'm', hits, degraded: false, cardNotPresent: true, threeDSAuthenticated: false }).decision).toBe('challenge');
    expect(decide({ ruleset: s, merchantId: 'm', hits, degraded: false, cardNotPresent: true, threeDSAuthenticated: true }).decision).toBe('approve');
  });

  it('fail-closed merchants never approve on a degraded answer; fail-open ones may', () => {
    expect(run({ amount_major: 1 }, 'lenient', { degraded: true }).decision).toBe('approve');
    expect(run({}, 'strict', { degraded: true }).decision).toBe('challenge');
  });

  it('turns a step-up into a review where 3-D Secure cannot help', () => {
    const s = parseRuleset({ ...base, bands: { challenge: 30, review: 55, decline: 80 } }, known);
    const hits = evaluateRules(s, 'm', { amount_major: 2000 });
    expect(decide({ ruleset: s, merchantId: 'm', hits, degraded: false, cardNotPresent: true, threeDSAuthenticated: false }).decision).toBe('challenge');
    expect(decide({ ruleset: s, merchantId: 'm', hits, degraded: false, cardNotPresent: false, threeDSAuthenticated: false }).decision).toBe('review');
    expect(decide({ ruleset: s, merchantId: 'm', hits, degraded: false, cardNotPresent: true, threeDSAuthenticated: true }).decision).toBe('review');
  });

  it('renders messages from feature values', () => {
    const s = parseRuleset(base, known);
    expect(evaluateRules(s, 'm', { amount_major: 1234.567 })[0]!.message).toBe('High amount (1234.57)');
  });
});
