// The declarative ruleset: conditions over named features give reason codes and score
// contributions; score bands give decisions. Data only: no expression language, no eval.
import { z } from 'zod';
import { issueLines, LeakguardError } from './errors.ts';
import type { Decision, Reason } from './schemas.ts';
import { DECISIONS } from './schemas.ts';
import type { FeatureMap, FeatureValue } from './features.ts';

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

const comparison = z
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
    comparison,
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
    version: z.string().min(1).max(64),
    bands: bandsSchema,
    failMode: z.enum(FAIL_MODES).default('open'),
    unansweredStepUp: z.enum(UNANSWERED_STEP_UP).default('review'),
    friction: frictionBudgetSchema.default(DEFAULT_FRICTION_BUDGET),
    rules: z.array(ruleSchema).min(1),
    merchants: z.record(z.string(), merchantOverrideSchema).default({}),
  })
  .strict();
export type Ruleset = z.infer<typeof rulesetSchema>;

export class RulesetError extends LeakguardError {
  readonly problems: string[];

  constructor(problems: string[]) {
    super('RULESET_INVALID', `invalid ruleset: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

function featuresOf(c: Condition): string[] {
  if ('all' in c) return c.all.flatMap(featuresOf);
  if ('any' in c) return c.any.flatMap(featuresOf);
  if ('not' in c) return featuresOf(c.not);
  return [c.feature];
}

/** Validates a parsed document; `knownFeatures` catches typos that would silently never fire. */
export function parseRuleset(doc: unknown, knownFeatures: ReadonlySet<string>): Ruleset {
  const parsed = rulesetSchema.safeParse(doc);
  if (!parsed.success) {
    throw new RulesetError(issueLines(parsed.error));
  }
  const problems: string[] = [];
  const codes = new Set<string>();
  parsed.data.rules.forEach((rule, i) => {
    if (codes.has(rule.code)) problems.push(`rules.${i}.code: duplicate code ${rule.code}`);
    codes.add(rule.code);
    for (const f of featuresOf(rule.when))
      if (!knownFeatures.has(f)) problems.push(`rules.${i}.when: unknown feature ${f}`);
  });
  for (const [merchant, o] of Object.entries(parsed.data.merchants)) {
    for (const code of o.disabledRules)
      if (!codes.has(code)) problems.push(`merchants.${merchant}.disabledRules: unknown rule ${code}`);
  }
  if (problems.length) throw new RulesetError(problems);
  return parsed.data;
}

/** The friction budget in force for a merchant: its own, else the ruleset's. */
export function frictionBudget(ruleset: Ruleset, merchantId: string): FrictionBudget {
  return ruleset.merchants[merchantId]?.friction ?? ruleset.friction;
}

export function matches(c: Condition, f: FeatureMap): boolean {
  // Loops, not every/some: no closure made per condition and scoring (the rules run at every one).
  if ('all' in c) {
    for (const x of c.all) if (!matches(x, f)) return false;
    return true;
  }
  if ('any' in c) {
    for (const x of c.any) if (matches(x, f)) return true;
    return false;
  }
  if ('not' in c) return !matches(c.not, f);
  const v = f[c.feature];
  // A feature that was not evaluated (a skipped store) fires nothing, not even through `not`'s inverse.
  if (v === undefined) return false;
  if (c.gte !== undefined && !(typeof v === 'number' && v >= c.gte)) return false;
  if (c.gt !== undefined && !(typeof v === 'number' && v > c.gt)) return false;
  if (c.lte !== undefined && !(typeof v === 'number' && v <= c.lte)) return false;
  if (c.lt !== undefined && !(typeof v === 'number' && v < c.lt)) return false;
  if (c.eq !== undefined && v !== c.eq) return false;
  if (c.neq !== undefined && v === c.neq) return false;
  if (c.in !== undefined && !c.in.includes(v)) return false;
  return true;
}

export interface RuleHit {
  code: string;
  message: string;
  score: number;
  atLeast?: Decision | undefined;
  stepUp?: boolean | undefined;
}

function render(template: string, f: FeatureMap): string {
  return template.replace(/\{([a-z0-9_]+)\}/g, (whole, name: string) => {
    const v = f[name];
    return typeof v === 'number'
      ? String(Math.round(v * 100) / 100)
      : typeof v === 'string' || typeof v === 'boolean'
        ? String(v)
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
