// The engine: one object behind both doors (HTTP and Kafka). Reads top to bottom:
// normalise → one store round trip → features → rules → decision. It knows no transport.
import { hash } from 'node:crypto';
import { identifyCard, type CardIdentity, type CardKeyring } from './card.ts';
import { EntityHasher, formerAddressIdentity, normaliseEmail, normaliseIp, type EntityKind } from './entities.ts';
import type { RateTable } from './currency.ts';
import { featureMap, isSmallAmount, referenceCents, transactionFeatures, type FeatureMap } from './features.ts';
import { decide, evaluateRules, rulesetVersion, threeDSState, type DecisionOutcome, type Ruleset } from './rules.ts';
import type { Checks, Decision, ScoreRequest, ScoreResponse } from './schemas.ts';
import {
  checkWithdrawalOrder,
  buildCounterPlan,
  type CounterPlan,
  type HitRecord,
  type StoreReading,
  type TransactionFacts,
  type VelocityStore,
} from './velocity.ts';
import { listFeatures, listLookup } from './lists.ts';
import { scrubCardNumbers } from './scrub.ts';
import { modelFeatures, modelReasons, type ModelVerdict, type ScoringModel } from './model.ts';
import {
  binInRanges,
  decodeEntry,
  entrySlot,
  eventIdOf,
  expiryTag,
  keysToTag,
  matchEntries,
  watchlistFeatures,
  type BinRange,
  type EventView,
  type WatchlistMatch,
} from './watchlist.ts';
import { recordedOutcome, REVERSED_CHARGEBACK } from './chargebacks.ts';
import { LeakguardError } from './errors.ts';
import { withDeadline } from './deadline.ts';
import type { ArchiveEntry, TransactionArchive } from './transaction-archive.ts';

export const ENGINE_VERSION = '0.1.0';
const MIN_STORE_BUDGET_MS = 5;
/**
 * How far a transaction's `occurredAt` may run ahead of the engine's clock (merchants' clocks
 * drift). Counters are kept relative to the newest time they hold: a time weeks ahead would age a
 * card's whole history out of every window, for every merchant.
 */
export const MAX_OCCURRED_AHEAD_MS = 5 * 60_000;

/** A transaction (or its customer's account) dated further ahead than MAX_OCCURRED_AHEAD_MS: refused before anything is counted. */
export class OccurredInFutureError extends LeakguardError {
  constructor(now: number, path = 'occurredAt') {
    super('VALIDATION_FAILED', 'invalid request', {
      details: [
        {
          path,
          message: `must not be more than ${MAX_OCCURRED_AHEAD_MS / 60_000} minutes ahead of the engine's clock (${new Date(now).toISOString()})`,
        },
      ],
    });
  }
}

/**
 * An outcome dated before its transaction was counted (beyond the clocks' drift): refused, where it
 * would have been acknowledged and then counted in no window (a chargeback dated years back).
 */
export class OccurredBeforeTransactionError extends LeakguardError {
  constructor(countedAt: number) {
    super('VALIDATION_FAILED', 'invalid request', {
      details: [
        {
          path: 'occurredAt',
          message: `must not be more than ${MAX_OCCURRED_AHEAD_MS / 60_000} minutes before the transaction it reports on (counted at ${new Date(countedAt).toISOString()})`,
        },
      ],
    });
  }
}

/** Where a velocity-store failure happened (leakguard_redis_errors_total's stage). */
export const STORE_ERROR_STAGES = ['deadline', 'recordAndRead', 'saveResponse', 'archive'] as const;
export type StoreErrorStage = (typeof STORE_ERROR_STAGES)[number];

export interface EngineObserver {
  decision?(response: ScoreResponse, merchantId: string): void;
  /** Every scoring's outcome, for what follows a decision (cases); called after the answer is ready. */
  scored?(merchantId: string, request: ScoreRequest, result: ScoreResult): void;
  watchlistHit?(eventIds: string[], merchantId: string): void;
  /**
   * A merchant's outcome was recorded for the first time (a repeat is not told): `at`, its own time
   * (occurredAt), where it counts; `reportedAt`, the engine's clock when it arrived.
   */
  outcomeRecorded?(merchantId: string, transactionId: string, outcome: string, at: number, reportedAt: number): void;
  storeError?(error: unknown, stage: StoreErrorStage): void;
}

export interface EngineOptions {
  store: VelocityStore;
  keyring: CardKeyring;
  ruleset: () => Ruleset;
  /**
   * The exchange-rate table in force, read once per scoring like the ruleset. A request in a
   * currency it has no rate for is refused: `score` throws UnknownRateError before anything is counted.
   */
  rates: () => RateTable;
  /** Server-side budget for the store round trip and everything after it. */
  deadlineMs: number;
  observer?: EngineObserver;
  now?: () => number;
  /** Whether scoring reads the analysts' negative lists and allow-lists (in the same round trip). */
  lists?: boolean;
  /** Compromise events by seq; when given, every scoring looks the card up in the watchlist. */
  watchlistEvents?: () => ReadonlyMap<number, EventView>;
  /**
   * Each issuer's BIN ranges (undefined while not known): a hit records which listing issuers'
   * ranges hold the card's full number (HitRecord.shownTo), which a hit's 6 digits cannot say
   * against an 8-digit range.
   */
  issuerBinRanges?: () => ReadonlyMap<string, readonly BinRange[]> | undefined;
  /** The model in force, read once per scoring: a switch never splits one scoring between two models. */
  model?: () => ScoringModel | undefined;
  /** Where an outcome finds its transaction once the marker has gone (undefined while it is not open). */
  archive?: () => TransactionArchive | undefined;
}

/** Rules whose code starts with this speak for the model: when one fires, the model's factors join the reasons. */
const MODEL_RULE_PREFIX = 'MODEL_';
const STEP_UP_UNANSWERED = 'STEP_UP_UNANSWERED';

export interface JudgeInput {
  ruleset: Ruleset;
  merchantId: string;
  /** Completed with the model's features when a model runs. */
  features: FeatureMap;
  occurredAt: number;
  degraded: boolean;
  cardNotPresent: boolean;
  threeDSAuthenticated: boolean;
  /** The step-up was tried and failed (3-D Secure N or R). */
  threeDSFailed?: boolean;
  /** The step-up was tried and left open (3-D Secure A or U), or cannot run (stepUpState: a moto order). */
  threeDSUnanswered?: boolean;
  /** A mail or telephone order without an authentication result: no 3-D Secure can run (stepUpState). */
  moto?: boolean;
  model?: ScoringModel | undefined;
}

/** STEP_UP_UNANSWERED's words for a mail or telephone order: nothing was tried, nothing can be. */
const MOTO_STEP_UP_MESSAGE =
  'Mail or telephone order: 3-D Secure cannot authenticate the holder, so no step-up can be asked';

/**
 * The step-up's state of a request. A mail or telephone order (`channel: moto`) cannot run 3-D
 * Secure: without a result it is read as unavailable (U), so that step-up evidence leads to the
 * merchant's `unansweredStepUp` (review by default), never to a challenge it could not act on.
 */
export function stepUpState(
  req: Pick<ScoreRequest, 'channel' | 'threeDS'>,
): Pick<JudgeInput, 'threeDSAuthenticated' | 'threeDSFailed' | 'threeDSUnanswered' | 'moto'> {
  const state = threeDSState(req.threeDS?.status);
  if (req.channel !== 'moto' || state.threeDSAuthenticated || state.threeDSFailed) return state;
  return { ...state, threeDSUnanswered: true, moto: true };
}

/** Features → model → rules → decision: the pure end of a scoring (also replayed by the breach protocol). */
export function judge(input: JudgeInput): { outcome: DecisionOutcome; verdict: ModelVerdict | undefined } {
  const { ruleset, merchantId, features, model, degraded } = input;
  // The model reads the velocity features: without them (degraded) it is skipped, not guessed.
  let verdict: ModelVerdict | undefined;
  if (model && !degraded) {
    verdict = model.evaluate(features, input.occurredAt);
    Object.assign(features, modelFeatures(verdict));
  }
  const hits = evaluateRules(ruleset, merchantId, features);
  const outcome = decide({
    ruleset,
    merchantId,
    hits,
    degraded,
    cardNotPresent: input.cardNotPresent,
    threeDSAuthenticated: input.threeDSAuthenticated,
    threeDSFailed: input.threeDSFailed === true,
    threeDSUnanswered: input.threeDSUnanswered === true,
  });
  // Replaced, not changed: the ladder's reason is one shared object.
  if (input.moto)
    outcome.reasons = outcome.reasons.map((r) =>
      r.code === STEP_UP_UNANSWERED ? { code: r.code, message: MOTO_STEP_UP_MESSAGE } : r,
    );
  if (verdict && hits.some((h) => h.code.startsWith(MODEL_RULE_PREFIX))) outcome.reasons.push(...modelReasons(verdict));
  return { outcome, verdict };
}

/**
 * What a challenged order's decision becomes once 3-D Secure authenticates the holder (status Y):
 * the same features, the model and rules run again with the authentication. The merchant acts on it
 * after the challenge without scoring the order again, which would count it twice in every velocity
 * window (docs/decision-policy.md). Never a challenge: after an authentication none can be asked.
 */
export function decisionIfAuthenticated(input: JudgeInput): Exclude<Decision, 'challenge'> {
  // A copy (judge completes the map it is given with the model's features, which the model's second
  // run replaces): made for challenges only, a few in a hundred scorings.
  const features = { ...input.features, three_ds_status: 'Y' };
  const { decision } = judge({
    ...input,
    features,
    threeDSAuthenticated: true,
    threeDSFailed: false,
    threeDSUnanswered: false,
    moto: false,
  }).outcome;
  if (decision === 'challenge') throw new Error('the decision ladder asked for a step-up after an authentication');
  return decision;
}

/** What the engine knew when it decided: kept for cases and audits. Never a PAN. */
export interface Evidence {
  card: Pick<CardIdentity, 'bin' | 'last4' | 'keyId'> & { fingerprint: string };
  /** The transaction's time as counted (occurredAt, else its arrival; a retry's of a transaction counted but not answered: the first try's), epoch ms. */
  at: number;
  features: FeatureMap;
  /** The keyed identities its counters were kept under (primary key first), for a replay. */
  entities: Partial<Record<EntityKind, string[]>>;
  /** The primary identities its marker keeps (the plan's: those an outcome reaches, and the card), for the archive. */
  marked: Partial<Record<EntityKind, string>>;
}

/**
 * A transaction as a recording kept it (services/recording/): the card and the personal fields
 * already reduced to their keyed identities, and what the watchlist and the lists answered then,
 * which a replay on fresh stores cannot ask again. `request.card.number` is not read.
 */
export interface ReducedScoring {
  card: CardIdentity;
  entities: Partial<Record<Exclude<EntityKind, 'card' | 'merchant' | 'bin'>, string[]>>;
  lookups: FeatureMap;
}

export type ScoreResult =
  { kind: 'scored'; response: ScoreResponse; replayed: boolean; evidence?: Evidence } | { kind: 'conflict' };

class DeadlineExceeded extends LeakguardError {
  constructor() {
    super('DEADLINE_EXCEEDED', 'the velocity store did not answer within the scoring budget');
  }
}
const lateStore = () => new DeadlineExceeded();

/** A transaction normalised and planned, waiting for its store reading. */
interface Prepared {
  merchantId: string;
  req: ScoreRequest;
  ruleset: Ruleset;
  rates: RateTable;
  card: CardIdentity;
  occurredAt: number;
  amountRefCents: number;
  facts: TransactionFacts;
  watching: boolean;
  plan: CounterPlan;
  lookups?: FeatureMap;
}

export class Engine {
  private readonly hasher: EntityHasher;
  private readonly now: () => number;

  private readonly options: EngineOptions;

  constructor(options: EngineOptions) {
    this.options = options;
    this.hasher = new EntityHasher(options.keyring);
    this.now = options.now ?? Date.now;
  }

  /** The budget of one scoring, from its request's arrival (LEAKGUARD_DEADLINE_MS). */
  get deadlineMs(): number {
    return this.options.deadlineMs;
  }

  /**
   * `spentMs`: how long the request had already taken when it came here (authentication, the rate
   * limit): the deadline runs from its arrival, not from this call.
   */
  async score(merchantId: string, req: ScoreRequest, reduced?: ReducedScoring, spentMs = 0): Promise<ScoreResult> {
    const started = this.now();
    const prepared = this.prepare(merchantId, req, started, reduced);
    // 2. One round trip to the store, bounded by what the deadline has left.
    let reading: StoreReading | undefined;
    try {
      reading = await withDeadline(this.recorded(prepared), this.storeBudget(started - spentMs), lateStore);
    } catch (error) {
      this.options.observer?.storeError?.(error, error instanceof DeadlineExceeded ? 'deadline' : 'recordAndRead');
    }
    return this.conclude(prepared, reading);
  }

  /**
   * A batch, as the stream scores it: every transaction's counters in one round trip per store
   * node, recorded and read in the batch's order, so that each reading is the one scoring them
   * one after the other would give. A transaction the rate table cannot price comes back as its
   * error (nothing of it counted); so does one whose decision failed unexpectedly (counted); the
   * others are scored.
   */
  async scoreBatch(
    items: readonly { merchantId: string; request: ScoreRequest }[],
  ): Promise<(ScoreResult | { kind: 'error'; error: unknown })[]> {
    const started = this.now();
    const results: (ScoreResult | { kind: 'error'; error: unknown })[] = new Array(items.length);
    const prepared: { index: number; p: Prepared }[] = [];
    items.forEach(({ merchantId, request }, index) => {
      try {
        prepared.push({ index, p: this.prepare(merchantId, request, started) });
      } catch (error) {
        results[index] = { kind: 'error', error };
      }
    });
    let readings: (StoreReading | undefined)[] = [];
    try {
      readings = await withDeadline(
        this.recordedMany(prepared.map(({ p }) => p)),
        this.storeBudget(started),
        lateStore,
      );
    } catch (error) {
      this.options.observer?.storeError?.(error, error instanceof DeadlineExceeded ? 'deadline' : 'recordAndRead');
    }
    // A transaction repeated within the batch answers as a retry after the first would: a replay
    // of the first's stored response (the store read it again, in a later round, to no effect).
    const first = new Map<string, { hash: string; result: ScoreResult }>();
    // A transaction whose decision fails (a fault of ours) comes back as its error, the others
    // decided all the same: counted by now, it is decided, not counted again, when sent again.
    const concludeAll = () =>
      prepared.forEach(({ index, p }, i) => {
        try {
          const earlier = first.get(p.plan.marker);
          if (
            earlier?.hash === p.plan.payloadHash &&
            earlier.result.kind === 'scored' &&
            !earlier.result.response.degraded
          ) {
            const replay: ScoreResult = { kind: 'scored', response: earlier.result.response, replayed: true };
            this.options.observer?.scored?.(p.merchantId, p.req, replay);
            results[index] = replay;
            return;
          }
          const result = this.conclude(p, readings[i]);
          if (!earlier) first.set(p.plan.marker, { hash: p.plan.payloadHash, result });
          results[index] = result;
        } catch (error) {
          results[index] = { kind: 'error', error };
        }
      });
    // The batch's responses are stored at once: they may leave together.
    const store = this.options.store;
    if (store.together) store.together(concludeAll);
    else concludeAll();
    return results;
  }

  /** The store's reading of one transaction; a conflict is asked again under the previous card key (underPreviousKey). */
  private async recorded(p: Prepared): Promise<StoreReading> {
    const reading = await this.options.store.recordAndRead(p.plan);
    const again = reading.status === 'conflict' ? this.underPreviousKey(p) : undefined;
    return again ? this.options.store.recordAndRead(again) : reading;
  }

  /** A batch's readings, its conflicts asked again under the previous card key in one more round trip. */
  private async recordedMany(prepared: readonly Prepared[]): Promise<StoreReading[]> {
    const store = this.options.store;
    const readings = await store.recordAndReadMany(prepared.map((p) => p.plan));
    const again = readings.flatMap((r, i) => {
      const plan = r.status === 'conflict' ? this.underPreviousKey(prepared[i]!) : undefined;
      return plan ? [{ i, plan }] : [];
    });
    if (again.length === 0) return readings;
    const second = await store.recordAndReadMany(again.map(({ plan }) => plan));
    again.forEach(({ i }, j) => (readings[i] = second[j]!));
    return readings;
  }

  /**
   * While the card key rotates, a transaction first scored under the previous key alone carries that
   * key's fingerprint in its payload hash: its retry (a redelivery, a client's retry) is the same
   * payload, not a conflict. The first try's plan, every identity under the previous key (so that a
   * transaction counted but not answered is decided from the reading kept for it and recorded again
   * where it was counted, not a second time under the new key); undefined when no key rotates.
   */
  private underPreviousKey(p: Prepared): CounterPlan | undefined {
    const previous = p.card.fingerprints[1];
    if (previous === undefined) return undefined;
    const keys = this.options.store.keys;
    const entities = Object.fromEntries(
      Object.entries(p.facts.entities).map(([kind, ids]) => [kind, ids.length > 1 ? ids.slice(1) : ids]),
    ) as TransactionFacts['entities'];
    const facts: TransactionFacts = {
      ...p.facts,
      entities,
      payloadHash: payloadHash(p.req, { ...p.card, fingerprints: [previous] }),
      ...(p.facts.watchlist ? { watchlist: [entrySlot(previous)] } : {}),
      ...(p.facts.lists ? { lists: listLookup(p.merchantId, entities, keys) } : {}),
    };
    return buildCounterPlan(facts, keys);
  }

  /**
   * What is left of the budget counted from `started` (the request's arrival), but never less than
   * a few milliseconds: a CPU stall before the store should not by itself turn every answer degraded.
   */
  private storeBudget(started: number): number {
    return Math.max(this.options.deadlineMs - (this.now() - started) - 2, MIN_STORE_BUDGET_MS);
  }

  /**
   * 1. Normalise: the PAN stops here. Throws UnknownRateError or OccurredInFutureError before
   * anything is counted.
   */
  private prepare(merchantId: string, req: ScoreRequest, started: number, reduced?: ReducedScoring): Prepared {
    const ruleset = this.options.ruleset();
    const rates = this.options.rates();
    const card = reduced?.card ?? identifyCard(this.options.keyring, req.card.number);
    const occurredAt = req.occurredAt ? Date.parse(req.occurredAt) : started;
    if (occurredAt > started + MAX_OCCURRED_AHEAD_MS) throw new OccurredInFutureError(started);
    // An account "created" in 2099 is as old as can be: NEW_ACCOUNT_HIGH_AMOUNT would fire on a typo.
    const createdAt = req.customer?.accountCreatedAt;
    if (createdAt && Date.parse(createdAt) > started + MAX_OCCURRED_AHEAD_MS)
      throw new OccurredInFutureError(started, 'customer.accountCreatedAt');
    // In the reference currency at the transaction's time.
    const amountRefCents = referenceCents(rates, req.amount, req.currency, occurredAt);
    const facts = this.facts(merchantId, req, card, occurredAt, amountRefCents, rates, reduced);
    const watching = this.options.watchlistEvents !== undefined && !reduced;
    if (watching) facts.watchlist = card.fingerprints.map(entrySlot);
    const keys = this.options.store.keys;
    if (this.options.lists) facts.lists = listLookup(merchantId, facts.entities, keys);
    return {
      merchantId,
      req,
      ruleset,
      rates,
      card,
      occurredAt,
      amountRefCents,
      facts,
      watching,
      plan: buildCounterPlan(facts, keys),
      ...(reduced ? { lookups: reduced.lookups } : {}),
    };
  }

  /** 3. Features → rules → decision, from the store's reading (none: degraded); then the response is stored and observed. */
  private conclude(prepared: Prepared, reading: StoreReading | undefined): ScoreResult {
    const result = this.decideFrom(prepared, reading);
    this.options.observer?.scored?.(prepared.merchantId, prepared.req, result);
    return result;
  }

  private decideFrom(prepared: Prepared, reading: StoreReading | undefined): ScoreResult {
    const { merchantId, req, ruleset, rates, card, occurredAt, amountRefCents, facts, watching, plan } = prepared;
    const { store, observer } = this.options;
    if (reading?.status === 'conflict') return { kind: 'conflict' };
    if (reading?.status === 'replay' && reading.storedResponse) {
      return { kind: 'scored', response: JSON.parse(reading.storedResponse) as ScoreResponse, replayed: true };
    }

    // At the time the counters were read: a retry of a transaction counted earlier (response not
    // stored) decides as the first try would have.
    const at = reading?.countedAt !== undefined && Number.isFinite(reading.countedAt) ? reading.countedAt : occurredAt;
    const degraded = reading?.velocity === undefined;
    const match = this.watchlistMatch(reading, merchantId);
    // The rate at that time too (the same as counted unless the table changed in between).
    const amountRefCentsAt = at === occurredAt ? amountRefCents : referenceCents(rates, req.amount, req.currency, at);
    const features = featureMap(
      transactionFeatures(req, at, amountRefCentsAt, isSmallAmount(amountRefCentsAt, rates)),
      reading?.velocity,
      amountRefCentsAt,
    );
    if (watching && !degraded) {
      // The presented expiry's tag under each key whose entry gives a leaked one (a tag is keyed):
      // the PAN is still in scope here, and only here.
      const keys = [this.options.keyring.primary, this.options.keyring.previous];
      const presented: (number | null)[] = [];
      for (const keyIndex of keysToTag(match)) {
        const key = keys[keyIndex];
        presented[keyIndex] = key ? expiryTag(key, req.card.number, req.card.expiryMonth, req.card.expiryYear) : null;
      }
      Object.assign(features, watchlistFeatures(match, presented, at));
    }
    if (facts.lists && reading?.lists) Object.assign(features, listFeatures(facts.lists, reading.lists));
    if (prepared.lookups && !degraded) Object.assign(features, prepared.lookups);
    const model = this.options.model?.();
    const judging: JudgeInput = {
      ruleset,
      merchantId,
      features,
      occurredAt: at,
      degraded,
      model,
      cardNotPresent: req.channel !== 'pos',
      ...stepUpState(req),
    };
    const { outcome, verdict } = judge(judging);
    const checks: Checks = {
      velocity: degraded ? 'skipped' : 'evaluated',
      rules: 'evaluated',
      watchlist: !watching ? 'not_configured' : degraded ? 'skipped' : 'evaluated',
      model: !model ? 'not_configured' : verdict ? 'evaluated' : 'skipped',
    };
    const response: ScoreResponse = {
      transactionId: req.transactionId,
      ...outcome,
      ...(outcome.decision === 'challenge' ? { ifAuthenticated: decisionIfAuthenticated(judging) } : {}),
      checks,
      degraded,
      versions: {
        engine: ENGINE_VERSION,
        ruleset: rulesetVersion(ruleset),
        ...(model ? { model: model.version } : {}),
      },
    };

    // Stored for idempotent retries; off the critical path (a lost write only means a recomputation).
    const hit =
      match && match.events.length > 0 ? this.hitRecord(merchantId, req, card, at, response, match) : undefined;
    if (!degraded)
      store
        .saveResponse(plan, JSON.stringify(response), hit)
        .catch((e: unknown) => observer?.storeError?.(e, 'saveResponse'));
    observer?.decision?.(response, merchantId);
    if (hit && reading?.status === 'new') observer?.watchlistHit?.(hit.eventIds, merchantId);
    const evidence: Evidence = {
      card: { bin: card.bin, last4: card.last4, keyId: card.keyId, fingerprint: card.fingerprints[0]! },
      // When it was counted: a retry of a transaction counted but not answered is the first try's time.
      at,
      features,
      entities: facts.entities,
      marked: plan.entities,
    };
    return { kind: 'scored', response, replayed: reading?.status === 'pending', evidence };
  }

  private watchlistMatch(reading: StoreReading | undefined, merchantId: string): WatchlistMatch | null {
    const events = this.options.watchlistEvents?.();
    if (!events || !reading?.watchlist) return null;
    const { entries, usesSinceListed } = reading.watchlist;
    // During a key rotation the card may be listed under both keys: one card, its entries merged.
    return matchEntries(
      entries.map((raw) => (raw ? decodeEntry(raw) : null)),
      events,
      usesSinceListed,
      merchantId,
    );
  }

  private hitRecord(
    merchantId: string,
    req: ScoreRequest,
    card: CardIdentity,
    occurredAt: number,
    response: ScoreResponse,
    match: WatchlistMatch,
  ): HitRecord {
    const issuerIds = [...new Set(match.events.map((e) => e.issuerId))];
    const ranges = this.options.issuerBinRanges?.();
    return {
      at: new Date(occurredAt).toISOString(),
      // Shown to issuers: identifiers are validated card-free, and scrubbed all the same.
      merchantId: scrubCardNumbers(merchantId),
      transactionId: scrubCardNumbers(req.transactionId),
      amount: req.amount,
      currency: req.currency,
      decision: response.decision,
      score: response.score,
      card: `${card.bin}******${card.last4}`,
      bin: card.bin,
      eventIds: match.events.map((e) => eventIdOf(e.seq)),
      eventSeqs: match.events.map((e) => e.seq),
      issuerIds,
      // Decided here, where the full number is: the hit keeps 6 digits, and an 8-digit range needs 8.
      ...(ranges ? { shownTo: issuerIds.filter((id) => binInRanges(req.card.number, ranges.get(id) ?? [])) } : {}),
    };
  }

  /**
   * A merchant's outcome, a chargeback as its reason code counts (recordedOutcome: a holder's dispute
   * is kept apart, counted nowhere). A reversal (REVERSED_CHARGEBACK) withdraws a recorded fraud
   * chargeback; 'absent' when there is none (nothing recorded). Throws OccurredInFutureError for an
   * outcome dated too far ahead, OccurredBeforeTransactionError for one dated before its transaction,
   * WithdrawalBeforeOutcomeError for a reversal dated before its chargeback (nothing recorded).
   */
  async recordOutcome(
    merchantId: string,
    transactionId: string,
    reported: string,
    at: number,
    reasonCode?: string,
  ): Promise<'recorded' | 'duplicate' | 'unknown' | 'absent'> {
    const outcome = recordedOutcome(reported, reasonCode);
    const now = this.now();
    if (at > now + MAX_OCCURRED_AHEAD_MS) throw new OccurredInFutureError(now);
    const { store, observer } = this.options;
    const archive = this.options.archive?.();
    // Only a back-dated outcome can precede its transaction (counted at most MAX_OCCURRED_AHEAD_MS
    // ahead of the clock): one more lookup for those alone. The archive's entry, when the marker has
    // gone, is read once for the check and the outcome both.
    let archived: Promise<ArchiveEntry | undefined> | undefined;
    if (at < now - MAX_OCCURRED_AHEAD_MS) {
      const marked = await store.transactionOf(merchantId, transactionId);
      if (!marked && archive) archived = archive.find(merchantId, transactionId);
      const countedAt = marked?.at ?? (await archived)?.countedAt;
      if (countedAt !== undefined && at < countedAt - MAX_OCCURRED_AHEAD_MS)
        throw new OccurredBeforeTransactionError(countedAt);
    }
    const reversal = outcome === REVERSED_CHARGEBACK;
    let status = reversal
      ? await store.withdrawOutcome(merchantId, transactionId, 'chargeback', outcome, at)
      : await store.recordOutcome(merchantId, transactionId, outcome, at);
    if (status === 'unknown' && archive)
      status = reversal
        ? await this.archivedReversal(archive, merchantId, transactionId, outcome, at, archived)
        : await this.archivedOutcome(archive, merchantId, transactionId, outcome, at, archived);
    else if (status === 'recorded' && archive)
      // Noted on the archive's entry too, so that a repeat after the marker has gone is still a repeat.
      await archive
        .markOutcome(merchantId, transactionId, outcome, at)
        .catch((e: unknown) => observer?.storeError?.(e, 'archive'));
    if (status === 'recorded') observer?.outcomeRecorded?.(merchantId, transactionId, outcome, at, now);
    return status;
  }

  /**
   * An outcome whose marker has gone: its transaction from the archive (`archived`: its entry, when
   * already asked for), its counters joined as the marker's would be.
   */
  private async archivedOutcome(
    archive: TransactionArchive,
    merchantId: string,
    transactionId: string,
    outcome: string,
    at: number,
    archived?: Promise<ArchiveEntry | undefined>,
  ): Promise<'recorded' | 'duplicate' | 'unknown'> {
    const entry = await (archived ?? archive.find(merchantId, transactionId));
    if (!entry) return 'unknown';
    if (entry.outcomes[outcome] !== undefined) return 'duplicate';
    // Joined first, noted after: a crash in between leaves it to be reported again, and joining twice changes nothing.
    await this.options.store.joinOutcome(entry, outcome, at);
    return (await archive.markOutcome(merchantId, transactionId, outcome, at)) ? 'recorded' : 'duplicate';
  }

  /**
   * A reversal whose marker has gone: the archive's entry says whether the fraud chargeback was
   * recorded (noted there whether it was reported before or after the marker went) and reversed.
   */
  private async archivedReversal(
    archive: TransactionArchive,
    merchantId: string,
    transactionId: string,
    reversal: string,
    at: number,
    archived?: Promise<ArchiveEntry | undefined>,
  ): Promise<'recorded' | 'duplicate' | 'unknown' | 'absent'> {
    const entry = await (archived ?? archive.find(merchantId, transactionId));
    if (!entry) return 'unknown';
    if (entry.outcomes[reversal] !== undefined) return 'duplicate';
    if (entry.outcomes.chargeback === undefined) return 'absent';
    checkWithdrawalOrder(reversal, 'chargeback', at, entry.outcomes.chargeback);
    // Left first, noted after: a crash in between leaves it to be reported again, and leaving twice changes nothing.
    await this.options.store.leaveOutcome(entry, 'chargeback');
    return (await archive.markOutcome(merchantId, transactionId, reversal, at)) ? 'recorded' : 'duplicate';
  }

  /** A scored transaction's card and counting time: from its marker, else from the archive. */
  async transactionOf(merchantId: string, transactionId: string): Promise<{ card: string; at: number } | undefined> {
    const marked = await this.options.store.transactionOf(merchantId, transactionId);
    if (marked) return marked;
    const entry = await this.options.archive?.()?.find(merchantId, transactionId);
    return entry?.entities.card ? { card: entry.entities.card, at: entry.countedAt } : undefined;
  }

  private facts(
    merchantId: string,
    req: ScoreRequest,
    card: CardIdentity,
    occurredAt: number,
    amountRefCents: number,
    rates: RateTable,
    reduced?: ReducedScoring,
  ): TransactionFacts {
    const entities: Partial<Record<EntityKind, string[]>> = {
      card: card.fingerprints,
      merchant: [merchantId],
      bin: [card.bin],
    };
    if (reduced) Object.assign(entities, reduced.entities);
    else {
      const add = (kind: EntityKind, value: string | null | undefined) => {
        if (value) entities[kind] = this.hasher.identities(kind, value);
      };
      add('device', req.device?.id);
      add('ip', req.device?.ip ? normaliseIp(req.device.ip) : null);
      add('email', req.customer?.email ? normaliseEmail(req.customer.email) : null);
      // Also read under the previous normalisation's pseudonym (written under today's only).
      const shipping = req.shippingAddress ? this.hasher.addressIdentities(req.shippingAddress) : null;
      if (shipping) entities.shipping = shipping;
    }
    // The address's pseudonym before the upgrade leaves the card's log as today's is written (one address, one member).
    const former = entities.shipping && formerAddressIdentity(entities.shipping, card.fingerprints.length);
    return {
      merchantId,
      transactionId: req.transactionId,
      payloadHash: payloadHash(req, card),
      occurredAt,
      amountCents: amountRefCents,
      small: isSmallAmount(amountRefCents, rates),
      entities,
      ...(former ? { formerIdentities: { shipping: [former] } } : {}),
    };
  }
}

/**
 * Identifies a request's content for idempotency. The PAN is replaced by its keyed fingerprint
 * first: a plain hash of a payload holding a PAN could be brute-forced back to the number.
 * The validated request is canonical already: the schema fixes the key order and strips the rest.
 */
export function payloadHash(req: ScoreRequest, card: CardIdentity): string {
  const canonical = JSON.stringify({ ...req, card: { ...req.card, number: card.fingerprints[0] } });
  // One-shot: no Hash object per scoring (same digest as createHash's, ~40 % less CPU for a request's size).
  return hash('sha256', canonical, 'base64url').slice(0, 22);
}
