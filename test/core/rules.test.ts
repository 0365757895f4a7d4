import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_RULESET_PATH } from '../../services/adapters/files/ruleset-file.ts';
import { decisionIfAuthenticated, judge } from '../../services/core/engine.ts';
import { ALL_FEATURES, FEATURE_KINDS, featureMap, transactionFeatures } from '../../services/core/features.ts';
import type { ScoreRequest } from '../../services/core/schemas.ts';
import {
  decide,
  evaluateRules,
  matches,
  parseRuleset,
  RulesetError,
  threeDSState,
  type Ruleset,
} from '../../services/core/rules.ts';

const known = new Set(ALL_FEATURES);
const base = {
  version: 't1',
  bands: { challenge: 30, review: 55, decline: 80 },
  rules: [
    {
      code: 'HIGH_AMOUNT',
      message: 'High amount ({amount_major})',
      when: { feature: 'amount_major', gte: 1000 },
      score: 40,
    },
  ],
};

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
    expect(problemsOf({ ...base, rules: [{ ...base.rules[0], when: { feature: 'amount_majr', gte: 1 } }] })).toEqual([
      'rules.0 (HIGH_AMOUNT).when.feature: unknown feature amount_majr',
    ]);
    expect(problemsOf({ ...base, rules: [base.rules[0], base.rules[0]] })).toEqual([
      'rules.1 (HIGH_AMOUNT).code: duplicate code HIGH_AMOUNT',
    ]);
    expect(problemsOf({ ...base, bands: { challenge: 60, review: 55, decline: 80 } })).toEqual([
      'bands: must satisfy challenge <= review <= decline',
    ]);
    expect(
      problemsOf({ ...base, rules: [{ ...base.rules[0], when: { feature: 'amount_major', expr: 'process.exit()' } }] })
        .length,
    ).toBeGreaterThan(0);
    expect(problemsOf({ ...base, merchants: { m1: { disabledRules: ['NOPE'] } } })).toEqual([
      'merchants.m1.disabledRules.0: unknown rule NOPE',
    ]);
  });

  it('refuses a merchant override under an id no merchant has (API keys and stream messages take the same ids)', () => {
    expect(
      problemsOf({
        ...base,
        merchants: { 'shop 17': {}, '': {}, ['x'.repeat(65)]: {}, '4111111111111111': {}, m1: {} },
      }),
    ).toEqual([
      'merchants.shop 17: a merchant id must be 1-64 letters, digits, . _ -',
      'merchants.: a merchant id must be 1-64 letters, digits, . _ -',
      `merchants.${'x'.repeat(65)}: a merchant id must be 1-64 letters, digits, . _ -`,
      'merchants.411111******1111: a merchant id must not contain a card number',
    ]);
    expect(
      Object.keys(parseRuleset({ ...base, merchants: { 'shop-17': {}, '0042': {}, 'a.b_c': {} } }, known).merchants),
    ).toHaveLength(3);
  });

  it('refuses a version that is no plain name, or that holds a card number (it is in every answer, log line and metric)', () => {
    expect(problemsOf({ ...base, version: '4111111111111111' })).toEqual([
      'version: looks like it holds a card number: name the ruleset otherwise',
    ]);
    expect(problemsOf({ ...base, version: 'rules 4111 1111 1111 1111' })).toEqual([
      'version: must be 1 to 64 characters among A-Z a-z 0-9 . _ : - (this one has 25 characters, the first other one at position 6)',
    ]);
    expect(problemsOf({ ...base, version: '' })).toEqual([
      'version: must be 1 to 64 characters among A-Z a-z 0-9 . _ : - (this one has 0 characters)',
    ]);
    expect(problemsOf({ ...base, version: 'v'.repeat(65) })).toEqual([
      'version: must be 1 to 64 characters among A-Z a-z 0-9 . _ : - (this one has 65 characters)',
    ]);
    expect(parseRuleset({ ...base, version: 'default-2026.12.7c:B_2' }, known).version).toBe('default-2026.12.7c:B_2');
  });

  it("digests the content, not the order of the merchants' entries (engines with the same rules agree)", () => {
    const overrides: Record<string, object> = {
      'shop-17': { failMode: 'closed' },
      '0042': { disabledRules: ['HIGH_AMOUNT'] },
      '17': { bands: { challenge: 10, review: 20, decline: 30 } },
      'a.b': { unansweredStepUp: 'approve' },
    };
    const inOrder = (ids: string[]) => Object.fromEntries(ids.map((id) => [id, overrides[id]]));
    const digests = [
      ['shop-17', '0042', '17', 'a.b'],
      ['a.b', '17', '0042', 'shop-17'],
      ['0042', 'a.b', 'shop-17', '17'],
    ].map((ids) => parseRuleset({ ...base, merchants: inOrder(ids) }, known).digest);
    expect(new Set(digests).size).toBe(1);
    // Content still counts: an override changed, or moved to another merchant.
    const changed = parseRuleset(
      { ...base, merchants: { ...inOrder(['shop-17', '0042', '17', 'a.b']), 'shop-17': { failMode: 'open' } } },
      known,
    ).digest;
    const moved = parseRuleset(
      { ...base, merchants: { ...inOrder(['shop-17', '0042', '17']), 'a.c': overrides['a.b'] } },
      known,
    ).digest;
    expect(new Set([digests[0], changed, moved]).size).toBe(3);
    // The shipped ruleset's digest, quoted in README.md and docs/, is the same as before.
    expect(parseRuleset(parse(readFileSync(DEFAULT_RULESET_PATH, 'utf8')), known).digest).toBe('c100c517');
  });

  it("names a schema problem by the rule's code, and a condition's by the form its keys name", () => {
    const rule = (when: unknown) => ({
      ...base,
      rules: [base.rules[0], { code: 'MY_RULE', message: 'm', when, score: 10 }],
    });
    expect(
      problemsOf({ ...base, rules: [base.rules[0], { ...base.rules[0], code: 'MY_RULE', score: 'high' }] }),
    ).toEqual(['rules.1 (MY_RULE).score: Invalid input: expected number, received string']);
    expect(problemsOf(rule({ all: [{ feature: 'amount_ref', gtee: 1 }] }))).toEqual([
      'rules.1 (MY_RULE).when.all.0: Unrecognized key: "gtee"',
      'rules.1 (MY_RULE).when.all.0: needs at least one of gte, gt, lte, lt, eq, neq, in',
    ]);
    expect(problemsOf(rule({ feature: 'amount_ref', eq: [1, 2] }))).toEqual([
      'rules.1 (MY_RULE).when.eq: expected number or string or boolean, got a list',
    ]);
    expect(problemsOf(rule({ any: { feature: 'amount_ref', gte: 1 } }))).toEqual([
      'rules.1 (MY_RULE).when.any: Invalid input: expected array, received object',
    ]);
    expect(problemsOf(rule({ not: { feature: 'amount_ref', gte: 1 }, feature: 'x' }))).toEqual([
      'rules.1 (MY_RULE).when: Unrecognized key: "feature"',
    ]);
  });
});

describe('comparisons that could never fire are refused, by rule code and field path (a rules audit)', () => {
  const rule = (when: unknown, message = 'm') => ({ ...base, rules: [{ code: 'MY_RULE', message, when, score: 10 }] });
  it.each([
    [
      { feature: 'cvv_result', eq: 'mismach' },
      '.when.eq',
      'cvv_result is one of match, mismatch, not_checked: never "mismach"',
    ],
    [
      { feature: 'three_ds_status', eq: 'y' },
      '.when.eq',
      'three_ds_status is one of Y, N, U, A, C, D, R, I, none: never "y"',
    ],
    [
      { feature: 'card_not_present', gte: 1 },
      '.when.gte',
      'card_not_present is a flag (true or false): gte compares numbers (use eq: true or eq: false)',
    ],
    [{ feature: 'amount_ref', eq: 'high' }, '.when.eq', 'amount_ref is a number: never "high"'],
    [
      { feature: 'amount_ref', gte: 1000, lt: 500 },
      '.when',
      'no value of amount_ref meets every comparison here: never true',
    ],
    [
      { feature: 'three_ds_status', in: ['y', 1] },
      '.when.in.0',
      'three_ds_status is one of Y, N, U, A, C, D, R, I, none: never "y"',
      '.when.in.1',
      'three_ds_status is one of Y, N, U, A, C, D, R, I, none: never 1',
    ],
    [{ feature: 'channel', gt: 2 }, '.when.gt', 'channel is one of ecommerce, moto, pos, in_app: gt compares numbers'],
    [{ feature: 'card_listed', eq: 'true' }, '.when.eq', 'card_listed is a flag (true or false): never "true"'],
    [{ feature: 'listed_events', eq: true }, '.when.eq', 'listed_events is a number: never true'],
    [
      { feature: 'amount_ref', eq: 5, gte: 10 },
      '.when',
      'no value of amount_ref meets every comparison here: never true',
    ],
    [
      { feature: 'cvv_result', in: ['match'], neq: 'match' },
      '.when',
      'no value of cvv_result meets every comparison here: never true',
    ],
    [
      { all: [{ feature: 'has_ip', eq: true }, { any: [{ feature: 'cvv_result', eq: 'mismach' }] }] },
      '.when.all.1.any.0.eq',
      'cvv_result is one of match, mismatch, not_checked: never "mismach"',
    ],
    [
      {
        all: [
          { feature: 'amount_ref', gte: 1000 },
          { feature: 'amount_ref', lt: 500 },
        ],
      },
      '.when.all',
      'no value of amount_ref meets all of its comparisons: never true',
    ],
  ])('%j', (when, ...pathsAndMessages: string[]) => {
    const expected: string[] = [];
    for (let i = 0; i < pathsAndMessages.length; i += 2)
      expected.push(`rules.0 (MY_RULE)${pathsAndMessages[i]}: ${pathsAndMessages[i + 1]}`);
    expect(problemsOf(rule(when))).toEqual(expected);
  });

  // A refused ruleset at start-up stops the engine: a mistake that leaves a rule firing as it did
  // before these checks (found by a review) loads, and is said at each load.
  const warningsOf = (doc: unknown) => parseRuleset(doc, known).warnings ?? [];
  it.each([
    [
      {
        all: [
          { feature: 'cvv_result', in: ['mismatch', 'unavailable'] },
          { feature: 'amount_ref', gte: 200 },
        ],
      },
      '.when.all.0.in.1',
      'cvv_result is one of match, mismatch, not_checked: never "unavailable"',
    ],
    [
      { feature: 'three_ds_status', in: ['N', 'R', 1] },
      '.when.in.2',
      'three_ds_status is one of Y, N, U, A, C, D, R, I, none: never 1',
    ],
    [
      { feature: 'channel', neq: 'mail_order' },
      '.when.neq',
      'channel is one of ecommerce, moto, pos, in_app: never "mail_order" (so always true)',
    ],
    [
      { not: { feature: 'three_ds_status', eq: 'y' } },
      '.when.not.eq',
      'three_ds_status is one of Y, N, U, A, C, D, R, I, none: never "y"',
    ],
    [
      { not: { feature: 'amount_ref', gte: 1000, lt: 500 } },
      '.when.not',
      'no value of amount_ref meets every comparison here: never true',
    ],
  ])('loads %j, which fires as it did, and says what is wrong', (when, path, message) => {
    expect(problemsOf(rule(when))).toEqual([]);
    expect(warningsOf(rule(when))).toEqual([`rules.0 (MY_RULE)${path}: ${message}`]);
  });

  it('says a message placeholder that names no feature, which reaches merchants as written', () => {
    const doc = rule({ feature: 'amount_ref', gte: 1 }, 'High amount ({amount_reff}) {Amount_ref}');
    expect(problemsOf(doc)).toEqual([]);
    expect(warningsOf(doc)).toEqual([
      "rules.0 (MY_RULE).message: {amount_reff} names no feature: a placeholder is a feature's name in braces",
      "rules.0 (MY_RULE).message: {Amount_ref} names no feature: a placeholder is a feature's name in braces",
    ]);
  });

  it('keeps what can fire: ranges that meet, values of the kind, a number in a number feature', () => {
    for (const when of [
      { feature: 'account_age_days', gte: 0, lt: 1 },
      { feature: 'amount_ref', gte: 5, lte: 5 },
      { feature: 'three_ds_status', in: ['N', 'R', 'none'] },
      { feature: 'card_not_present', neq: false },
      { feature: 'channel', eq: 'in_app' },
      { feature: 'model_score', in: [10, 20], gt: 15 },
      {
        all: [
          { feature: 'amount_ref', gte: 300 },
          { feature: 'amount_ref', lt: 1000 },
        ],
      },
    ])
      expect(problemsOf(rule(when, 'amount {amount_ref}')), JSON.stringify(when)).toEqual([]);
  });

  it('gives every feature of the catalogue a kind that its computed value has', () => {
    expect(ALL_FEATURES.filter((f) => !FEATURE_KINDS.has(f))).toEqual([]);
    const tx = transactionFeatures(
      {
        transactionId: 't',
        merchantId: 'm',
        amount: 100,
        currency: 'EUR',
        occurredAt: '2026-12-07T10:00:00Z',
        channel: 'ecommerce',
        card: { number: '4111111111111111', expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
      } as ScoreRequest,
      Date.parse('2026-12-07T10:00:00Z'),
      100,
      false,
    );
    for (const [name, v] of Object.entries(tx)) {
      const kind = FEATURE_KINDS.get(name)!;
      const type = kind.type === 'category' ? 'string' : kind.type === 'flag' ? 'boolean' : 'number';
      expect(typeof v, name).toBe(type);
      if (kind.type === 'category') expect(kind.values, name).toContain(v);
    }
  });
});

describe('conditions', () => {
  const f = { amount_major: 50, cvv_result: 'mismatch', card_expired: false };
  it('compares, combines and treats unevaluated features as not matching', () => {
    expect(matches({ feature: 'amount_major', gte: 50, lt: 51 }, f)).toBe(true);
    expect(matches({ feature: 'cvv_result', in: ['mismatch', 'not_checked'] }, f)).toBe(true);
    expect(
      matches({ all: [{ feature: 'amount_major', gt: 10 }, { not: { feature: 'card_expired', eq: true } }] }, f),
    ).toBe(true);
    expect(
      matches(
        {
          any: [
            { feature: 'amount_major', gt: 100 },
            { feature: 'cvv_result', neq: 'mismatch' },
          ],
        },
        f,
      ),
    ).toBe(false);
    expect(matches({ feature: 'card_count_1h', gte: 0 }, f)).toBe(false);
  });

  it('fires nothing over a feature that was not computed, not even through not (a degraded answer)', () => {
    const degraded = featureMap({ amount_ref: 50, cvv_result: 'match', card_not_present: true }, undefined, 5000);
    expect(matches({ not: { feature: 'card_count_24h', gte: 1 } }, {})).toBe(false);
    expect(matches({ not: { feature: 'card_count_24h', gte: 1 } }, degraded)).toBe(false);
    expect(matches({ not: { not: { feature: 'card_count_24h', gte: 1 } } }, degraded)).toBe(false);
    expect(
      matches(
        {
          not: {
            any: [
              { feature: 'card_count_24h', gte: 1 },
              { feature: 'amount_ref', gt: 100 },
            ],
          },
        },
        degraded,
      ),
    ).toBe(false);
    // Whatever the missing feature's value, the answer is known: it decides.
    expect(
      matches(
        {
          not: {
            all: [
              { feature: 'card_count_24h', gte: 1 },
              { feature: 'amount_ref', gt: 100 },
            ],
          },
        },
        degraded,
      ),
    ).toBe(true);
    expect(
      matches(
        {
          any: [
            { feature: 'card_count_24h', gte: 1 },
            { feature: 'card_not_present', eq: true },
          ],
        },
        degraded,
      ),
    ).toBe(true);
    expect(matches({ not: { feature: 'card_count_24h', gte: 1 } }, { ...degraded, card_count_24h: 0 })).toBe(true);

    const firstUse = parseRuleset(
      {
        ...base,
        rules: [
          { code: 'FIRST_USE', message: 'first use', when: { not: { feature: 'card_count_24h', gte: 2 } }, score: 30 },
        ],
      },
      known,
    );
    expect(evaluateRules(firstUse, 'm', degraded)).toEqual([]);
    expect(evaluateRules(firstUse, 'm', featureMap({ ...degraded }, { card_count_24h: 1 }, 5000))).toHaveLength(1);
  });
});

describe('decisions', () => {
  const ruleset: Ruleset = parseRuleset(
    {
      ...base,
      failMode: 'open',
      rules: [
        { code: 'A_BIG', message: 'a', when: { feature: 'amount_major', gte: 0 }, score: 50 },
        { code: 'B_SMALL', message: 'b', when: { feature: 'amount_major', gte: 0 }, score: 10 },
        { code: 'C_FLOOR', message: 'c', when: { feature: 'cvv_result', eq: 'mismatch' }, score: 0, atLeast: 'review' },
        { code: 'D_RELIEF', message: 'd', when: { feature: 'three_ds_status', eq: 'Y' }, score: -70 },
      ],
      merchants: {
        strict: { failMode: 'closed', bands: { challenge: 10, review: 20, decline: 30 } },
        lenient: { disabledRules: ['A_BIG'] },
      },
    },
    known,
  );
  const run = (
    features: Record<string, string | number | boolean>,
    merchant = 'm',
    extra: Partial<Parameters<typeof decide>[0]> = {},
  ) =>
    decide({
      ruleset,
      merchantId: merchant,
      hits: evaluateRules(ruleset, merchant, features),
      degraded: false,
      cardNotPresent: true,
      threeDSAuthenticated: false,
      ...extra,
    });

  it('adds contributions, orders reasons by weight and maps score bands to decisions', () => {
    const d = run({ amount_major: 1 });
    expect(d).toEqual({
      score: 60,
      decision: 'review',
      reasons: [
        { code: 'A_BIG', message: 'a' },
        { code: 'B_SMALL', message: 'b' },
      ],
    });
    expect(run({ amount_major: 1 }, 'strict').decision).toBe('decline');
    expect(run({ amount_major: 1 }, 'lenient')).toMatchObject({ score: 10, decision: 'approve' });
  });

  it('clamps the score to 0..100 and applies rule floors', () => {
    expect(run({ amount_major: 1, three_ds_status: 'Y' }, 'lenient', { threeDSAuthenticated: true }).score).toBe(0);
    expect(run({ amount_major: 1, cvv_result: 'mismatch' }, 'lenient').decision).toBe('review');
  });

  it('counts a successful 3-D Secure authentication as the step-up a challenge floor asks for', () => {
    const s = parseRuleset(
      {
        ...base,
        rules: [
          { code: 'STEP_UP', message: 's', when: { feature: 'amount_major', gte: 0 }, score: 0, atLeast: 'challenge' },
        ],
      },
      known,
    );
    const hits = evaluateRules(s, 'm', { amount_major: 1 });
    expect(
      decide({ ruleset: s, merchantId: 'm', hits, degraded: false, cardNotPresent: true, threeDSAuthenticated: false })
        .decision,
    ).toBe('challenge');
    expect(
      decide({ ruleset: s, merchantId: 'm', hits, degraded: false, cardNotPresent: true, threeDSAuthenticated: true })
        .decision,
    ).toBe('approve');
  });

  it('fail-closed merchants never approve on a degraded answer, and say why; fail-open ones may', () => {
    expect(run({ amount_major: 1 }, 'lenient', { degraded: true }).decision).toBe('approve');
    expect(run({}, 'strict', { degraded: true })).toMatchObject({
      decision: 'challenge',
      reasons: [{ code: 'DEGRADED_FAIL_CLOSED' }],
    });
    // At a terminal no step-up can be asked: held for review, with the same reason.
    expect(run({}, 'strict', { degraded: true, cardNotPresent: false })).toMatchObject({
      decision: 'review',
      reasons: [{ code: 'DEGRADED_FAIL_CLOSED' }],
    });
    // An order already authenticated with 3-D Secure has answered the step-up the fail mode asks for.
    expect(run({}, 'strict', { degraded: true, threeDSAuthenticated: true })).toEqual({
      score: 0,
      decision: 'approve',
      reasons: [],
    });
    // A decision the score already raised past approve needs no reason of the fail mode.
    expect(run({ amount_major: 1 }, 'strict', { degraded: true }).reasons.map((r) => r.code)).toEqual([
      'A_BIG',
      'B_SMALL',
    ]);
  });

  it('turns a step-up into a review where 3-D Secure cannot help', () => {
    const s = parseRuleset({ ...base, bands: { challenge: 30, review: 55, decline: 80 } }, known);
    const hits = evaluateRules(s, 'm', { amount_major: 2000 });
    expect(
      decide({ ruleset: s, merchantId: 'm', hits, degraded: false, cardNotPresent: true, threeDSAuthenticated: false })
        .decision,
    ).toBe('challenge');
    expect(
      decide({ ruleset: s, merchantId: 'm', hits, degraded: false, cardNotPresent: false, threeDSAuthenticated: false })
        .decision,
    ).toBe('review');
    expect(
      decide({ ruleset: s, merchantId: 'm', hits, degraded: false, cardNotPresent: true, threeDSAuthenticated: true })
        .decision,
    ).toBe('review');
  });

  describe('the step-up ladder', () => {
    // Bands 30 / 55 / 80. LEAKED and AMOUNT are step-up evidence, RING and TESTING strong.
    const ladder = parseRuleset(
      {
        ...base,
        rules: [
          {
            code: 'LEAKED',
            message: 'l',
            when: { feature: 'card_listed', eq: true },
            score: 40,
            stepUp: true,
            atLeast: 'challenge',
          },
          { code: 'AMOUNT', message: 'a', when: { feature: 'amount_major', gte: 1000 }, score: 50, stepUp: true },
          { code: 'RING', message: 'r', when: { feature: 'device_distinct_cards_24h', gte: 3 }, score: 35 },
          { code: 'TESTING', message: 't', when: { feature: 'card_small_count_1h', gte: 3 }, score: 50 },
          { code: 'AUTHENTICATED', message: 'y', when: { feature: 'three_ds_status', eq: 'Y' }, score: -25 },
          { code: 'AUTH_FAILED', message: 'n', when: { feature: 'three_ds_status', in: ['N', 'R'] }, score: 35 },
        ],
        merchants: {
          tight: { bands: { challenge: 20, review: 30, decline: 40 } },
          liability: { unansweredStepUp: 'approve' },
          refuses: { unansweredStepUp: 'decline' },
        },
      },
      known,
    );
    const leaked = {
      card_listed: true,
      amount_major: 1,
      device_distinct_cards_24h: 1,
      card_small_count_1h: 0,
      three_ds_status: 'none',
    };
    const at = (
      f: Record<string, string | number | boolean>,
      o: { cnp?: boolean; threeDS?: string; merchant?: string } = {},
    ) => {
      const features = { ...f, three_ds_status: o.threeDS ?? 'none' };
      return decide({
        ruleset: ladder,
        merchantId: o.merchant ?? 'm',
        hits: evaluateRules(ladder, o.merchant ?? 'm', features),
        degraded: false,
        cardNotPresent: o.cnp ?? true,
        ...threeDSState(o.threeDS),
      });
    };

    it('challenges a leaked card online, however much step-up evidence adds up, before any authentication', () => {
      expect(at(leaked)).toMatchObject({ score: 40, decision: 'challenge' });
      // 90 points of step-up evidence: the decline band by score, still a challenge by kind.
      expect(at({ ...leaked, amount_major: 5000 })).toMatchObject({ score: 90, decision: 'challenge' });
    });

    it('lets the whole score decide once strong evidence reaches the challenge band by itself', () => {
      // strong 35 (a ring) + step-up 40: corroborated, the whole 75 decides.
      expect(at({ ...leaked, device_distinct_cards_24h: 4 })).toMatchObject({ score: 75, decision: 'review' });
      expect(at({ ...leaked, card_small_count_1h: 5 })).toMatchObject({ score: 90, decision: 'decline' });
      expect(at({ ...leaked, card_listed: false, device_distinct_cards_24h: 4, card_small_count_1h: 5 })).toMatchObject(
        { score: 85, decision: 'decline' },
      );
      // strong evidence below the challenge band does not unlock the step-up evidence.
      const weak = parseRuleset(
        {
          ...base,
          rules: [
            { code: 'LEAKED', message: 'l', when: { feature: 'card_listed', eq: true }, score: 70, stepUp: true },
            { code: 'FAINT', message: 'f', when: { feature: 'card_small_count_1h', gte: 1 }, score: 20 },
          ],
        },
        known,
      );
      const hits = evaluateRules(weak, 'm', { card_listed: true, card_small_count_1h: 1 });
      expect(
        decide({
          ruleset: weak,
          merchantId: 'm',
          hits,
          degraded: false,
          cardNotPresent: true,
          threeDSAuthenticated: false,
        }),
      ).toMatchObject({ score: 90, decision: 'challenge' });
    });

    it('after a successful authentication, step-up evidence is answered; strong evidence still counts', () => {
      expect(at({ ...leaked, amount_major: 5000 }, { threeDS: 'Y' }).decision).toBe('approve');
      // strong 35 − 25 = 10 even with tight bands.
      expect(at({ ...leaked, device_distinct_cards_24h: 4 }, { threeDS: 'Y', merchant: 'tight' }).decision).toBe(
        'approve',
      );
      // strong 35 + 50 − 25 = 60: held for review.
      expect(at({ ...leaked, device_distinct_cards_24h: 4, card_small_count_1h: 5 }, { threeDS: 'Y' })).toMatchObject({
        decision: 'review',
      });
      // strong 35 + 50 − 25 = 60 with tight bands (challenge 20): a second challenge is pointless, so review... or decline at 40.
      expect(
        at({ ...leaked, device_distinct_cards_24h: 4, card_small_count_1h: 5 }, { threeDS: 'Y', merchant: 'tight' })
          .decision,
      ).toBe('decline');
    });

    it("an offset of step-up evidence leaves the strong score with it: a listed card's authentication is not credited twice", () => {
      const offsets = parseRuleset(
        {
          ...base,
          rules: [
            ...ladder.rules.map(({ code, message, when, score, stepUp, atLeast }) => ({
              code,
              message,
              when,
              score,
              stepUp,
              ...(atLeast ? { atLeast } : {}),
            })),
            {
              code: 'LEAKED_AUTHENTICATED',
              message: 'la',
              when: {
                all: [
                  { feature: 'card_listed', eq: true },
                  { feature: 'three_ds_status', eq: 'Y' },
                ],
              },
              score: -40,
              stepUp: true,
            },
          ],
        },
        known,
      );
      const judge = (f: Record<string, string | number | boolean>) =>
        decide({
          ruleset: offsets,
          merchantId: 'm',
          hits: evaluateRules(offsets, 'm', { ...f, three_ds_status: 'Y' }),
          degraded: false,
          cardNotPresent: true,
          threeDSAuthenticated: true,
        });
      // A ring with card testing after authentication: strong 35 + 50 − 25 = 60, reviewed, listed or not.
      // Counted in the strong score as well, the listed card's offset made it 20: approved.
      const ringAndTesting = { ...leaked, device_distinct_cards_24h: 4, card_small_count_1h: 5 };
      expect(judge({ ...ringAndTesting, card_listed: false }).decision).toBe('review');
      expect(judge(ringAndTesting)).toMatchObject({ decision: 'review' });
      // Before authentication the offset still counts in the score the step-up evidence is weighed with.
      expect(at(leaked).score).toBe(40);
    });

    it('after a failed authentication, every contribution counts and there is no second challenge', () => {
      expect(at(leaked, { threeDS: 'N' })).toMatchObject({ score: 75, decision: 'review' });
      expect(at({ ...leaked, amount_major: 5000 }, { threeDS: 'R' })).toMatchObject({
        score: 100,
        decision: 'decline',
      });
    });

    it("after an attempted or unavailable authentication (A, U), step-up evidence leads to the merchant's policy, never a second challenge", () => {
      const unanswered = {
        code: 'STEP_UP_UNANSWERED',
        message: expect.stringContaining('attempted or unavailable'),
      };
      for (const status of ['A', 'U']) {
        // Review by default: the leak's floor and its 40 points would have asked for a challenge.
        expect(at(leaked, { threeDS: status })).toMatchObject({
          score: 40,
          decision: 'review',
          reasons: [{ code: 'LEAKED', message: 'l' }, unanswered],
        });
        expect(at({ ...leaked, amount_major: 5000 }, { threeDS: status })).toMatchObject({
          score: 90,
          decision: 'review',
        });
        // A merchant relying on the attempt's liability shift approves; one that refuses declines.
        expect(at(leaked, { threeDS: status, merchant: 'liability' })).toMatchObject({
          decision: 'approve',
          reasons: [{ code: 'LEAKED', message: 'l' }, unanswered],
        });
        expect(at(leaked, { threeDS: status, merchant: 'refuses' }).decision).toBe('decline');
        // Strong evidence decides as before an authentication, a challenge becoming a review.
        expect(
          at({ ...leaked, device_distinct_cards_24h: 4, card_small_count_1h: 5 }, { threeDS: status }),
        ).toMatchObject({ score: 100, decision: 'decline' });
        const ring = at({ ...leaked, card_listed: false, device_distinct_cards_24h: 4 }, { threeDS: status });
        expect(ring).toMatchObject({ score: 35, decision: 'review' });
        expect(ring.reasons.map((r) => r.code)).toEqual(['RING']);
        // Nothing asked for a step-up: approved, nothing told.
        expect(at({ ...leaked, card_listed: false }, { threeDS: status })).toEqual({
          score: 0,
          decision: 'approve',
          reasons: [],
        });
        // At a terminal the status changes nothing.
        expect(at(leaked, { threeDS: status, cnp: false })).toMatchObject({
          decision: 'approve',
          reasons: [{ code: 'LEAKED', message: 'l' }],
        });
      }
      // C, D and I are no result yet: the challenge still stands.
      for (const status of ['C', 'D', 'I']) expect(at(leaked, { threeDS: status }).decision).toBe('challenge');
    });

    it('at a card-present terminal, step-up evidence is only told; strong evidence decides', () => {
      expect(at({ ...leaked, amount_major: 5000 }, { cnp: false })).toMatchObject({
        score: 90,
        decision: 'approve',
        reasons: [
          { code: 'AMOUNT', message: 'a' },
          { code: 'LEAKED', message: 'l' },
        ],
      });
      expect(at({ ...leaked, card_listed: false, device_distinct_cards_24h: 4 }, { cnp: false }).decision).toBe(
        'review',
      ); // strong 35: no step-up possible
      expect(at({ ...leaked, device_distinct_cards_24h: 4 }, { cnp: false }).decision).toBe('review'); // 75, corroborated
      expect(at({ ...leaked, device_distinct_cards_24h: 4, amount_major: 5000 }, { cnp: false }).decision).toBe(
        'decline',
      );
    });

    it('keeps per-merchant bands', () => {
      expect(at({ ...leaked, card_listed: false, device_distinct_cards_24h: 4 }, { merchant: 'tight' }).decision).toBe(
        'review',
      ); // strong 35 ≥ 30
      expect(at({ ...leaked, amount_major: 5000 }, { merchant: 'tight' }).decision).toBe('challenge');
    });

    it('a ruleset without step-up marks decides as before: every rule is strong evidence', () => {
      const plain = parseRuleset(
        { ...base, rules: [{ code: 'PLAIN', message: 'x', when: { feature: 'amount_major', gte: 0 }, score: 60 }] },
        known,
      );
      expect(plain.rules[0]!.stepUp).toBe(false);
      const hits = evaluateRules(plain, 'm', { amount_major: 1 });
      expect(
        decide({
          ruleset: plain,
          merchantId: 'm',
          hits,
          degraded: false,
          cardNotPresent: true,
          threeDSAuthenticated: false,
        }).decision,
      ).toBe('review');
    });
  });

  it('renders messages from feature values', () => {
    const s = parseRuleset(base, known);
    expect(evaluateRules(s, 'm', { amount_major: 1234.567 })[0]!.message).toBe('High amount (1234.57)');
  });

  it('renders a feature that was not computed as "unknown", and a placeholder naming no feature as written', () => {
    const s = parseRuleset(
      {
        ...base,
        rules: [
          { ...base.rules[0]!, message: '{amount_major}: {card_count_1h} in 1 h, {model_score}%, {amount_reff}' },
        ],
      },
      known,
    );
    // A degraded answer: the request's features only.
    expect(evaluateRules(s, 'm', { amount_major: 1500 })[0]!.message).toBe(
      '1500: unknown in 1 h, unknown%, {amount_reff}',
    );
  });
});

describe("a challenged order's decision once 3-D Secure authenticates the holder (decisionIfAuthenticated)", () => {
  const ladder = parseRuleset(
    {
      ...base,
      rules: [
        { code: 'LEAKED', message: 'l', when: { feature: 'card_listed', eq: true }, score: 35, stepUp: true },
        { code: 'CVV', message: 'c', when: { feature: 'cvv_result', eq: 'mismatch' }, score: 35 },
        { code: 'AUTHENTICATED', message: 'y', when: { feature: 'three_ds_status', eq: 'Y' }, score: -25 },
      ],
      merchants: { strict: { disabledRules: ['AUTHENTICATED'] } },
    },
    known,
  );
  const judging = (features: Record<string, string | number | boolean>, merchantId = 'm') => ({
    ruleset: ladder,
    merchantId,
    features: { three_ds_status: 'none', ...features },
    occurredAt: 0,
    degraded: false,
    cardNotPresent: true,
    threeDSAuthenticated: false,
  });

  it('is what scoring the order again with status Y decides, without counting it again', () => {
    for (const [features, merchant, after] of [
      [{ card_listed: true }, 'm', 'approve'],
      [{ cvv_result: 'mismatch' }, 'm', 'approve'],
      // Strong evidence the authentication does not offset: held for review after it.
      [{ cvv_result: 'mismatch' }, 'strict', 'review'],
    ] as const) {
      const input = judging(features, merchant);
      expect(judge(input).outcome.decision).toBe('challenge');
      const rescored = judge({
        ...judging({ ...features, three_ds_status: 'Y' }, merchant),
        threeDSAuthenticated: true,
      });
      expect(decisionIfAuthenticated(input), JSON.stringify(features)).toBe(after);
      expect(rescored.outcome.decision).toBe(after);
    }
  });

  it("leaves the challenge's own features as they were", () => {
    const input = judging({ card_listed: true });
    decisionIfAuthenticated(input);
    expect(input.features.three_ds_status).toBe('none');
  });
});
