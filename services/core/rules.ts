// The declarative ruleset: conditions over named features give reason codes and score
// contributions; score bands give decisions. Data only: no expression language, no eval.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { LeakguardError, type IssueDetail } from './errors.ts';
import { tenantIdSchema, versionNameProblem } from './identifiers.ts';
import { scrubCardNumbers } from './scrub.ts';
import type { Decision, Reason } from './schemas.ts';
import { DECISIONS } from './schemas.ts';
import { FEATURE_KINDS, type FeatureKind, type FeatureMap, type FeatureValue } from './features.ts';

const scalar = z.union([z.number(), z.string(), z.boolean()]);
export type Condition =
  | {
      feature: string;
      gte?: number;
      gt?: number;
      lte?: number;
      lt?: number;
      eq?: FeatureValue;
      neq?: FeatureValue;
      in?: FeatureValue[];
    }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition };

export const comparisonSchema = z
  .object({
    feature: z.string().min(1),
    gte: z.number().optional(),
    gt: z.number().optional(),
    lte: z.number().optional(),
    lt: z.number().optional(),
    eq: scalar.optional(),
    neq: scalar.optional(),
    in: z.array(scalar).min(1).optional(),
  })
  .strict()
  .refine(
    (c) => ['gte', 'gt', 'lte', 'lt', 'eq', 'neq', 'in'].some((k) => k in c),
    'needs at least one of gte, gt, lte, lt, eq, neq, in',
  );

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    comparisonSchema,
    z.object({ all: z.array(conditionSchema).min(1) }).strict(),
    z.object({ any: z.array(conditionSchema).min(1) }).strict(),
    z.object({ not: conditionSchema }).strict(),
  ]),
);

const decisionEnum = z.enum(DECISIONS);
const bandsSchema = z
  .object({
    challenge: z.number().min(0).max(100),
    review: z.number().min(0).max(100),
    decline: z.number().min(0).max(100),
  })
  .strict()
  .refine((b) => b.challenge <= b.review && b.review <= b.decline, 'must satisfy challenge <= review <= decline');

export const ruleSchema = z
  .object({
    code: z.string().regex(/^[A-Z][A-Z0-9_]{2,63}$/, 'must be UPPER_SNAKE_CASE'),
    message: z.string().min(1).max(300),
    when: conditionSchema,
    score: z.number().min(-100).max(100),
    /** A floor on the decision when the rule fires, whatever the score (e.g. always step up). */
    atLeast: decisionEnum.optional(),
    /**
     * Step-up evidence: a question 3-D Secure answers (is this the cardholder?). Alone it leads at most
     * to a challenge; it drops out after a successful authentication and at a card-present terminal.
     */
    stepUp: z.boolean().default(false),
  })
  .strict();
export type Rule = z.infer<typeof ruleSchema>;

/**
 * The friction a merchant accepts: the largest share of its orders that may be challenged (3-D Secure
 * step-up) and held for manual review. A target the engine reports against, not a cap it enforces.
 */
export const frictionBudgetSchema = z
  .object({ challenge: z.number().min(0).max(1), review: z.number().min(0).max(1) })
  .strict();
export type FrictionBudget = z.infer<typeof frictionBudgetSchema>;
export const DEFAULT_FRICTION_BUDGET: FrictionBudget = { challenge: 0.05, review: 0.005 };

const FAIL_MODES = ['open', 'closed'] as const;
/**
 * What step-up evidence alone leads to once 3-D Secure was tried and left the question open (A:
 * attempted, the issuer does not authenticate; U: unavailable): a challenge can no longer be asked.
 * `approve` relies on the liability shift an attempt gives; `review` (the default) lets an analyst
 * judge; `decline` refuses.
 */
const UNANSWERED_STEP_UP = ['approve', 'review', 'decline'] as const;
export const merchantOverrideSchema = z
  .object({
    bands: bandsSchema.optional(),
    friction: frictionBudgetSchema.optional(),
    /** open: a degraded answer may approve; closed: it is at least a challenge. */
    failMode: z.enum(FAIL_MODES).optional(),
    unansweredStepUp: z.enum(UNANSWERED_STEP_UP).optional(),
    disabledRules: z.array(z.string()).default([]),
  })
  .strict();

export const rulesetSchema = z
  .object({
    /** Echoed in every answer, log line and leakguard_ruleset_info: plain, and never a card number. */
    version: z.string().superRefine((v, ctx) => {
      const problem = versionNameProblem(v, 'ruleset');
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    bands: bandsSchema,
    failMode: z.enum(FAIL_MODES).default('open'),
    unansweredStepUp: z.enum(UNANSWERED_STEP_UP).default('review'),
    friction: frictionBudgetSchema.default(DEFAULT_FRICTION_BUDGET),
    rules: z.array(ruleSchema).min(1),
    /** Keyed by merchant id, as API keys and stream messages name merchants: another id would never apply. */
    merchants: z.record(tenantIdSchema, merchantOverrideSchema).default({}),
  })
  .strict();
export type Ruleset = z.infer<typeof rulesetSchema> & {
  /**
   * What decides, whatever `version` says: the first 8 hex digits of the SHA-256 of the validated
   * ruleset (defaults included) as JSON. Comments, layout and the order of keys and of the
   * merchants' entries do not change it; any rule does.
   */
  digest: string;
  /**
   * Mistakes that leave a rule firing as it would without them (a value a feature never has
   * beside valid ones, an always-true `neq`, a placeholder naming no feature): logged at each load.
   */
  warnings?: string[];
};

/** The ruleset's name in answers, records and logs: its declared version and its digest (`default-2026.12.8a+3f9a1c2e`). */
export const rulesetVersion = (r: Pick<Ruleset, 'version' | 'digest'>): string => `${r.version}+${r.digest}`;

/**
 * The digest of a validated ruleset (Ruleset.digest). The schema gives every object its keys in
 * its own order; the merchants' ids are the file's, in the file's order: sorted, so that moving a
 * merchant's block is no change (engines with the same content name it alike).
 */
export function rulesetDigest(data: z.infer<typeof rulesetSchema>): string {
  const merchants = Object.fromEntries(Object.entries(data.merchants).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return createHash('sha256')
    .update(JSON.stringify({ ...data, merchants }))
    .digest('hex')
    .slice(0, 8);
}

/** A problem of a ruleset: where (the path in the document), what, and the file's line when known. */
export interface RulesetProblem {
  at: readonly PropertyKey[];
  message: string;
  line?: number | undefined;
}

/**
 * A path as problems name it: a rule by its index and code, so that it can be found in the file
 * (`rules.19 (CVV_MISMATCH).when.all.1.eq`); `doc` is the document the codes are read from.
 */
export function problemPath(at: readonly PropertyKey[], doc: unknown): string {
  if (at.length === 0) return '(root)';
  const segments = at.map(String);
  if (at[0] === 'rules' && typeof at[1] === 'number') {
    const code = valueAt(doc, at.slice(0, 2).concat('code'));
    if (typeof code === 'string' && code.length > 0 && code.length <= 64) segments[1] = `${at[1]} (${code})`;
  }
  return segments.join('.');
}

/** A problem as refusals and warnings name it: its path, its message with its line, no card number. */
function problemDetail(p: RulesetProblem, doc: unknown): IssueDetail {
  return {
    path: scrubCardNumbers(problemPath(p.at, doc)),
    message: scrubCardNumbers(p.line === undefined ? p.message : `${p.message} (line ${p.line})`),
  };
}
const problemLine = (d: IssueDetail) => `${d.path}: ${d.message}`;

function valueAt(doc: unknown, at: readonly PropertyKey[]): unknown {
  let v = doc;
  for (const key of at) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

export class RulesetError extends LeakguardError {
  /** Each problem as `path: message`. */
  readonly problems: string[];
  readonly located: readonly RulesetProblem[];

  /** `doc`: the document, to name rules by code; `file`: the file it was read from. */
  constructor(located: readonly RulesetProblem[], { doc, file }: { doc?: unknown; file?: string } = {}) {
    const details = located.map((p) => problemDetail(p, doc));
    const problems = details.map(problemLine);
    super('RULESET_INVALID', `invalid ruleset${file ? ` ${file}` : ''}: ${problems.join('; ')}`, { details });
    this.problems = problems;
    this.located = located;
  }
}

type ZodIssueLike = {
  path: PropertyKey[];
  message: string;
  code?: string;
  expected?: string;
  errors?: ZodIssueLike[][];
  /** A record key's (invalid_key): what is wrong with it. */
  issues?: ZodIssueLike[];
};

/**
 * Schema issues as problems. A condition that fits none of its forms is, to zod, "Invalid input"
 * about the union of four: the form its keys name (all, any, not, else a comparison) says what is wrong.
 */
function schemaProblems(issues: readonly ZodIssueLike[], doc: unknown, base: PropertyKey[] = []): RulesetProblem[] {
  return issues.flatMap((issue) => {
    const at = [...base, ...issue.path];
    // The one record is `merchants`: its keys are merchant ids.
    if (issue.code === 'invalid_key' && issue.issues?.length)
      return issue.issues.map((i) => ({ at, message: `a merchant id ${i.message}` }));
    if (issue.code !== 'invalid_union' || !issue.errors?.length) return [{ at, message: issue.message }];
    const value = valueAt(doc, at);
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && issue.errors.length === 4) {
      const form = 'all' in value ? 1 : 'any' in value ? 2 : 'not' in value ? 3 : 0;
      if (issue.errors[form]!.length) return schemaProblems(issue.errors[form]!, doc, at);
    }
    if (value === undefined) return [{ at, message: 'is required' }];
    const expected = [...new Set(issue.errors.flat().flatMap((i) => (i.expected ? [i.expected] : [])))];
    const got = Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value;
    return [{ at, message: expected.length ? `expected ${expected.join(' or ')}, got ${got}` : issue.message }];
  });
}

type Comparison = Extract<Condition, { feature: string }>;
const NUMERIC_OPERATORS = ['gte', 'gt', 'lte', 'lt'] as const;
const show = (v: FeatureValue) => (typeof v === 'string' ? JSON.stringify(v) : String(v));

function kindText(kind: FeatureKind): string {
  if (kind.type === 'number') return 'a number';
  if (kind.type === 'flag') return 'a flag (true or false)';
  return `one of ${kind.values.join(', ')}`;
}

/** Why a value is never the feature's (undefined: it can be). */
function valueProblem(feature: string, kind: FeatureKind, v: FeatureValue): string | undefined {
  const fits =
    kind.type === 'number'
      ? typeof v === 'number'
      : kind.type === 'flag'
        ? typeof v === 'boolean'
        : typeof v === 'string' && kind.values.includes(v);
  return fits ? undefined : `${feature} is ${kindText(kind)}: never ${show(v)}`;
}

/**
 * Whether some value satisfies every comparison (all over one feature): bounds that cross
 * (`gte: 1000, lt: 500`), an `eq` outside them or outside an `in`, two different `eq`s.
 */
function satisfiable(cs: readonly Comparison[]): boolean {
  let lo = -Infinity,
    loStrict = false,
    hi = Infinity,
    hiStrict = false;
  for (const c of cs) {
    for (const [bound, strict] of [
      [c.gte, false],
      [c.gt, true],
    ] as const)
      if (bound !== undefined && (bound > lo || (bound === lo && strict))) [lo, loStrict] = [bound, strict];
    for (const [bound, strict] of [
      [c.lte, false],
      [c.lt, true],
    ] as const)
      if (bound !== undefined && (bound < hi || (bound === hi && strict))) [hi, hiStrict] = [bound, strict];
  }
  if (lo > hi || (lo === hi && (loStrict || hiStrict))) return false;
  const inRange = (v: FeatureValue) =>
    typeof v !== 'number' || ((loStrict ? v > lo : v >= lo) && (hiStrict ? v < hi : v <= hi));
  const eq = cs.find((c) => c.eq !== undefined)?.eq;
  const first = cs.find((c) => c.in !== undefined)?.in;
  const candidates = eq !== undefined ? [eq] : first;
  if (candidates === undefined) return true;
  return candidates.some(
    (v) =>
      inRange(v) &&
      cs.every((c) => (c.eq === undefined || c.eq === v) && c.neq !== v && (c.in === undefined || c.in.includes(v))),
  );
}

/**
 * What makes a condition never fire, though it parses: an unknown feature, an operator or a value
 * the feature's kind never meets (`cvv_result eq: mismach`, `card_not_present gte: 1`), a range
 * that no value is in. `path`: where the condition is in the document (`['rules', 3, 'when', 'all', 1]`).
 */
/**
 * What a ruleset's conditions get wrong: `refused`, a comparison that can never be true where that
 * makes its part of the rule dead (`eq: mismach`, `gte: 1000, lt: 500`, a number compared with a
 * flag); `warned`, a mistake that leaves the rule firing as it did before these checks (a value a
 * feature never has among valid ones in an `in`, a `neq` that is always true, anything under a
 * `not` but an unknown feature, which then always holds; an unknown feature's `not` is unknown). A refused file at start-up stops the engine: what fired before
 * must still load, said in the log, so that an upgrade never stops a deployment for a rule that works.
 */
interface ConditionCheck {
  known: ReadonlySet<string>;
  kinds: ReadonlyMap<string, FeatureKind>;
  refused: RulesetProblem[];
  warned: RulesetProblem[];
}

function conditionProblems(c: Condition, path: readonly PropertyKey[], check: ConditionCheck, negated = false): void {
  // Under a `not`, a comparison that is never true makes the rule always fire: said, not refused.
  const deadPart = negated ? check.warned : check.refused;
  if ('all' in c) {
    c.all.forEach((x, i) => conditionProblems(x, [...path, 'all', i], check, negated));
    // Comparisons of one feature that all must hold, e.g. `{feature: amount_ref, gte: 1000}` and `{..., lt: 500}`.
    const byFeature = new Map<string, Comparison[]>();
    for (const x of c.all) if ('feature' in x) byFeature.set(x.feature, [...(byFeature.get(x.feature) ?? []), x]);
    for (const [feature, cs] of byFeature)
      if (cs.length > 1 && cs.every((x) => satisfiable([x])) && !satisfiable(cs))
        deadPart.push({
          at: [...path, 'all'],
          message: `no value of ${feature} meets all of its comparisons: never true`,
        });
    return;
  }
  if ('any' in c) return c.any.forEach((x, i) => conditionProblems(x, [...path, 'any', i], check, negated));
  if ('not' in c) return conditionProblems(c.not, [...path, 'not'], check, !negated);
  if (!check.known.has(c.feature)) {
    check.refused.push({ at: [...path, 'feature'], message: `unknown feature ${c.feature}` });
    return;
  }
  const kind = check.kinds.get(c.feature);
  if (!kind) return;
  const before = deadPart.length;
  if (kind.type !== 'number')
    for (const op of NUMERIC_OPERATORS)
      if (c[op] !== undefined)
        deadPart.push({
          at: [...path, op],
          message: `${c.feature} is ${kindText(kind)}: ${op} compares numbers${kind.type === 'flag' ? ' (use eq: true or eq: false)' : ''}`,
        });
  if (c.eq !== undefined) {
    const problem = valueProblem(c.feature, kind, c.eq);
    if (problem) deadPart.push({ at: [...path, 'eq'], message: problem });
  }
  // A neq of a value the feature never has is always true: the rule fires as it did; said.
  const neqProblem = c.neq === undefined ? undefined : valueProblem(c.feature, kind, c.neq);
  if (neqProblem) check.warned.push({ at: [...path, 'neq'], message: `${neqProblem} (so always true)` });
  // An `in` is dead only when none of its values can be; its other impossible values are said.
  const inProblems = (c.in ?? []).flatMap((v, i) => {
    const problem = valueProblem(c.feature, kind, v);
    return problem ? [{ at: [...path, 'in', i], message: problem }] : [];
  });
  if (c.in !== undefined && inProblems.length === c.in.length) deadPart.push(...inProblems);
  else check.warned.push(...inProblems);
  if (deadPart.length === before && inProblems.length === 0 && !satisfiable([c]))
    deadPart.push({ at: path, message: `no value of ${c.feature} meets every comparison here: never true` });
}

/** A placeholder that names no feature reaches the merchant as written (`{amount_reff}`): said at load. */
function messageProblems(
  message: string,
  path: readonly PropertyKey[],
  known: ReadonlySet<string>,
  out: RulesetProblem[],
): void {
  for (const [, name] of message.matchAll(/\{([^{}]*)\}/g))
    if (!/^[a-z0-9_]+$/.test(name!) || !known.has(name!))
      out.push({ at: path, message: `{${name}} names no feature: a placeholder is a feature's name in braces` });
}

/**
 * Validates a parsed document; `knownFeatures` catches typos that would silently never fire, and
 * the feature catalogue (`kinds`) comparisons that never can.
 */
export function parseRuleset(
  doc: unknown,
  knownFeatures: ReadonlySet<string>,
  kinds: ReadonlyMap<string, FeatureKind> = FEATURE_KINDS,
  /** Where a path is in the file, for the warnings (a refusal's lines are added by its reader). */
  lineOf: (at: readonly PropertyKey[]) => number | undefined = () => undefined,
): Ruleset {
  const parsed = rulesetSchema.safeParse(doc);
  if (!parsed.success) {
    throw new RulesetError(schemaProblems(parsed.error.issues as unknown as ZodIssueLike[], doc), { doc });
  }
  const problems: RulesetProblem[] = [];
  const warned: RulesetProblem[] = [];
  const codes = new Set<string>();
  parsed.data.rules.forEach((rule, i) => {
    if (codes.has(rule.code)) problems.push({ at: ['rules', i, 'code'], message: `duplicate code ${rule.code}` });
    codes.add(rule.code);
    conditionProblems(rule.when, ['rules', i, 'when'], { known: knownFeatures, kinds, refused: problems, warned });
    messageProblems(rule.message, ['rules', i, 'message'], knownFeatures, warned);
  });
  for (const [merchant, o] of Object.entries(parsed.data.merchants)) {
    o.disabledRules.forEach((code, i) => {
      if (!codes.has(code))
        problems.push({ at: ['merchants', merchant, 'disabledRules', i], message: `unknown rule ${code}` });
    });
  }
  if (problems.length) throw new RulesetError(problems, { doc });
  const warnings = warned.map((p) => problemLine(problemDetail({ ...p, line: lineOf(p.at) }, doc)));
  return { ...parsed.data, digest: rulesetDigest(parsed.data), ...(warnings.length ? { warnings } : {}) };
}

/** The friction budget in force for a merchant: its own, else the ruleset's. */
export function frictionBudget(ruleset: Ruleset, merchantId: string): FrictionBudget {
  return ruleset.merchants[merchantId]?.friction ?? ruleset.friction;
}

/**
 * A condition's truth over the features, or undefined (unknown) when the answer depends on a
 * feature that was not computed (a skipped store: a degraded answer). Unknown is neither true nor
 * false, `not` included: `not: {feature: card_count_24h, gte: 1}` is unknown without the velocity
 * reading, not true. `all` is false as soon as one part is, `any` true as soon as one part is.
 */
function truth(c: Condition, f: FeatureMap): boolean | undefined {
  // Loops, not every/some: no closure made per condition and scoring (the rules run at every one).
  if ('all' in c) {
    let unknown = false;
    for (const x of c.all) {
      const t = truth(x, f);
      if (t === false) return false;
      if (t === undefined) unknown = true;
    }
    return unknown ? undefined : true;
  }
  if ('any' in c) {
    let unknown = false;
    for (const x of c.any) {
      const t = truth(x, f);
      if (t === true) return true;
      if (t === undefined) unknown = true;
    }
    return unknown ? undefined : false;
  }
  if ('not' in c) {
    const t = truth(c.not, f);
    return t === undefined ? undefined : !t;
  }
  const v = f[c.feature];
  if (v === undefined) return undefined;
  if (c.gte !== undefined && !(typeof v === 'number' && v >= c.gte)) return false;
  if (c.gt !== undefined && !(typeof v === 'number' && v > c.gt)) return false;
  if (c.lte !== undefined && !(typeof v === 'number' && v <= c.lte)) return false;
  if (c.lt !== undefined && !(typeof v === 'number' && v < c.lt)) return false;
  if (c.eq !== undefined && v !== c.eq) return false;
  if (c.neq !== undefined && v === c.neq) return false;
  if (c.in !== undefined && !c.in.includes(v)) return false;
  return true;
}

/** Whether a rule fires: its condition is true. A condition over a feature not computed fires nothing. */
export function matches(c: Condition, f: FeatureMap): boolean {
  return truth(c, f) === true;
}

export interface RuleHit {
  code: string;
  message: string;
  score: number;
  atLeast?: Decision | undefined;
  stepUp?: boolean | undefined;
}

/**
 * A message with its placeholders replaced by the features' values. A feature of the catalogue that
 * was not computed (a degraded answer's velocity features, a skipped model) reads "unknown", never
 * its placeholder; a placeholder naming no feature (warned at load) stays as written.
 */
function render(template: string, f: FeatureMap): string {
  return template.replace(/\{([a-z0-9_]+)\}/g, (whole, name: string) => {
    const v = f[name];
    return typeof v === 'number'
      ? String(Math.round(v * 100) / 100)
      : typeof v === 'string' || typeof v === 'boolean'
        ? String(v)
        : FEATURE_KINDS.has(name)
          ? 'unknown'
          : whole;
  });
}

export function evaluateRules(ruleset: Ruleset, merchantId: string, f: FeatureMap): RuleHit[] {
  // Searched only for the rules that fire (a few a scoring): no set made per scoring.
  const disabled = ruleset.merchants[merchantId]?.disabledRules;
  const hits: RuleHit[] = [];
  for (const rule of ruleset.rules) {
    if (!matches(rule.when, f) || disabled?.includes(rule.code)) continue;
    hits.push({
      code: rule.code,
      message: render(rule.message, f),
      score: rule.score,
      atLeast: rule.atLeast,
      stepUp: rule.stepUp,
    });
  }
  return hits;
}

const RANK: Record<Decision, number> = { approve: 0, challenge: 1, review: 2, decline: 3 };
export const stricter = (a: Decision, b: Decision): Decision => (RANK[a] >= RANK[b] ? a : b);

export interface DecisionInput {
  ruleset: Ruleset;
  merchantId: string;
  hits: RuleHit[];
  degraded: boolean;
  cardNotPresent: boolean;
  threeDSAuthenticated: boolean;
  /** 3-D Secure answered "not authenticated" or "rejected" (N, R): the step-up was tried and failed. */
  threeDSFailed?: boolean;
  /** 3-D Secure answered "attempted" or "unavailable" (A, U): tried, the question left open. */
  threeDSUnanswered?: boolean;
}

/** The step-up's state from a 3-D Secure status (`threeDS.status`; undefined: not tried yet). */
export function threeDSState(
  status: string | undefined,
): Pick<DecisionInput, 'threeDSAuthenticated' | 'threeDSFailed' | 'threeDSUnanswered'> {
  return {
    threeDSAuthenticated: status === 'Y',
    threeDSFailed: status === 'N' || status === 'R',
    threeDSUnanswered: status === 'A' || status === 'U',
  };
}

export interface DecisionOutcome {
  score: number;
  decision: Decision;
  reasons: Reason[];
}

/** A score's band: the decision the score alone would give. */
function band(score: number, bands: Ruleset['bands']): Decision {
  return score >= bands.decline
    ? 'decline'
    : score >= bands.review
      ? 'review'
      : score >= bands.challenge
        ? 'challenge'
        : 'approve';
}

/** Why a fail-closed merchant's degraded answer is not an approval (docs/reason-codes.md). */
const FAILED_CLOSED_REASON = {
  code: 'DEGRADED_FAIL_CLOSED',
  message: "Scored without all of its evidence (degraded): this merchant's fail mode does not approve then",
};

/** Why step-up evidence was not answered by a challenge after 3-D Secure A or U (docs/reason-codes.md). */
const UNANSWERED_STEP_UP_REASON = {
  code: 'STEP_UP_UNANSWERED',
  message:
    '3-D Secure was tried and did not authenticate the holder (attempted or unavailable): no step-up is left to ask',
};

const clampScore = (raw: number) => Math.max(0, Math.min(100, Math.round(raw)));

/**
 * The decision ladder (docs/decision-policy.md). The score is the clamped sum of every contribution.
 * Evidence comes in two kinds: step-up evidence (`stepUp: true`: a leaked card, an unusual amount,
 * the model's suspicion: "is this the cardholder?", which 3-D Secure answers) and strong evidence
 * (everything else: rings of devices and addresses, card testing, confirmed fraud, failed
 * authentication). Exculpatory (negative) contributions count for both, except those marked step-up:
 * they offset step-up evidence and leave the strong score with it.
 *
 * - without strong evidence that reaches the challenge band by itself, step-up evidence leads at
 *   most to a challenge (card not present, before an authentication result), and to nothing where
 *   a step-up cannot be asked (card present) or was passed (3-D Secure Y);
 * - with such strong evidence, the whole score decides: step-up evidence corroborates it — except
 *   after a successful authentication, which answers the step-up evidence: the strong score decides;
 * - after a failed or rejected authentication, the whole score decides;
 * - after an attempted or unavailable one (A, U), step-up evidence leads to the merchant's
 *   `unansweredStepUp` (review by default) where it would have led to a challenge;
 * - no challenge where a step-up cannot be asked: card present, or after an authentication result.
 * Rule floors (`atLeast`) apply with the same kinds; the fail mode last.
 */
export function decide(input: DecisionInput): DecisionOutcome {
  const { ruleset, merchantId, hits } = input;
  const override = ruleset.merchants[merchantId];
  const bands = override?.bands ?? ruleset.bands;
  const score = clampScore(hits.reduce((s, h) => s + h.score, 0));
  // A negative step-up rule offsets step-up evidence (a listed card's matching code, its holder's
  // authentication): it drops out with that evidence, or it would be credited twice.
  const strongScore = clampScore(hits.reduce((s, h) => s + (h.stepUp ? 0 : h.score), 0));
  const failed = input.threeDSFailed === true && !input.threeDSAuthenticated;
  // Attempted or unavailable: the merchant tried; asking again would meet the same answer.
  const unanswered = input.cardNotPresent && input.threeDSUnanswered === true && !input.threeDSAuthenticated && !failed;
  const canStepUp = input.cardNotPresent && !input.threeDSAuthenticated && !failed && !unanswered;
  const stepUpAnswered = input.threeDSAuthenticated || !input.cardNotPresent;
  const unansweredStepUp = override?.unansweredStepUp ?? ruleset.unansweredStepUp;

  let decision: Decision;
  let stepUpLeftOpen = false;
  const strongBand = band(strongScore, bands);
  if (failed) decision = band(score, bands);
  else if (strongBand === 'approve') {
    const wouldStepUp = input.cardNotPresent && !input.threeDSAuthenticated && band(score, bands) !== 'approve';
    stepUpLeftOpen = wouldStepUp && unanswered;
    decision = !wouldStepUp ? 'approve' : unanswered ? unansweredStepUp : 'challenge';
  } else if (input.threeDSAuthenticated) decision = strongBand;
  else decision = band(score, bands);
  for (const h of hits) {
    if (!h.atLeast) continue;
    // A step-up kind of floor is met by an authentication, and has nothing to ask at a card-present terminal.
    if (h.stepUp && stepUpAnswered) continue;
    // A "step up" floor is met once the cardholder has authenticated with 3-D Secure.
    if (h.atLeast === 'challenge' && input.threeDSAuthenticated) continue;
    if (h.stepUp && unanswered) {
      stepUpLeftOpen = true;
      decision = stricter(decision, unansweredStepUp);
      continue;
    }
    decision = stricter(decision, h.stepUp && canStepUp ? 'challenge' : h.atLeast);
  }
  // Fail closed: a degraded answer is at least a step-up, which an authentication has already answered.
  let failedClosed = false;
  if (input.degraded && (override?.failMode ?? ruleset.failMode) === 'closed' && !input.threeDSAuthenticated) {
    failedClosed = decision === 'approve';
    decision = stricter(decision, 'challenge');
  }
  // A step-up is only possible card-not-present, before an authentication result.
  if (decision === 'challenge' && !canStepUp) decision = 'review';
  const reasons = [...hits]
    .sort((a, b) => b.score - a.score || (a.code < b.code ? -1 : 1))
    .map(({ code, message }) => ({ code, message }));
  if (failedClosed) reasons.push(FAILED_CLOSED_REASON);
  if (stepUpLeftOpen) reasons.push(UNANSWERED_STEP_UP_REASON);
  return { score, decision, reasons };
}
