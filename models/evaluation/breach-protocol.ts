// The breach protocol (spec §5): the engine on the breach scenario, with and without watchlists,
// with and without the behavioural model. Figures per configuration: the share of fraudulent spend
// stopped (challenged or declined), cash-out first; genuine orders challenged, reviewed and declined
// per 1,000, for cards on a leak list at that moment and for the others; the friction spent (shares
// of all orders challenged and reviewed) against the ruleset's budget; for each leaked card used
// fraudulently the time from its first fraudulent use to its first detection; and, for the full
// configuration, what moving one decision band would do.
//
// One replay through the engine with watchlists on gives every test row's feature map; the four
// configurations are then the engine's own features → model → rules → decision step (`judge`) on
// that map. "Without watchlists" replaces the watchlist features by those of an unlisted card
// (`watchlistFeatures(null, …)`): the counters the engine keeps (velocity, declines, chargebacks)
// do not depend on the watchlists nor on the model — declines come from the issuer's answers and
// chargebacks from the labels, never from the engine's decisions — so one replay serves all four.
import type { FeatureMap } from '../../services/core/features.ts';
import { ALL_FEATURES } from '../../services/core/features.ts';
import { judge } from '../../services/core/engine.ts';
import type { ScoringModel } from '../../services/core/model.ts';
import type { FrictionBudget, Ruleset } from '../../services/core/rules.ts';
import { DECISIONS, type Decision } from '../../services/core/schemas.ts';
import { watchlistFeatures } from '../../services/core/watchlist.ts';
import { DEFAULT_RULESET_PATH, readRulesetFile } from '../../services/adapters/files/ruleset-file.ts';
import { ENGINE_FEATURE_SET, featureNames, type FeatureSet } from '../../services/model/definitions.ts';
import { rowRange } from '../features/offline.ts';
import { servingVector } from '../../services/model/serving.ts';
import { replayThroughEngine, type ReplaySummary } from '../replay/engine-replay.ts';
import { PUBLISHED_LABELS, type LabelAssumption } from '../features/labels.ts';
import { trainingAmountReference } from '../replay/engine-features.ts';
import { buildArtifact, forestDigest } from '../../services/model/artifact.ts';
import { CompiledForest } from '../../services/model/forest.ts';
import { ForestScoringModel } from '../../services/adapters/files/model-file.ts';
import type { Dataset } from '../simulator/csv.ts';
import { trainForest, TRAINING_LIBRARY, type TrainParams } from '../training/train.ts';
import { addDays } from './protocol.ts';
import { LeakguardError } from '../../services/core/errors.ts';

// --- Metrics (pure) --------------------------------------------------------------------------------

/** Test rows in time order, columnar; `stopped` is per configuration and passed beside. */
export interface BreachRows {
  n: number;
  /** Amount in major units (EUR). */
  amount: ArrayLike<number>;
  fraud: ArrayLike<number>;
  /** 1–3 handbook frauds, 4 breach card testing, 5 breach cash-out. */
  scenario: ArrayLike<number>;
  card: ArrayLike<number>;
  /** Epoch seconds, non-decreasing. */
  at: ArrayLike<number>;
  /** 1 on a fraudulent use of a leaked card (the simulator sets BREACH_ID on those rows only). */
  breach: ArrayLike<number>;
  /**
   * 1 when the card was on a leak list at that moment (the watchlists-on feature map's
   * `card_listed`): the same split for every configuration, so they compare.
   */
  listed: ArrayLike<number>;
}

export interface SpendShare {
  transactions: number;
  spend: number;
  stoppedTransactions: number;
  stoppedSpend: number;
  /** stoppedSpend / spend; NaN without such fraud. */
  share: number;
}

export const FRAUD_KINDS = ['all', 'breachTesting', 'breachCashout', 'handbook'] as const;
export type FraudKind = (typeof FRAUD_KINDS)[number];
export const FRAUD_KIND_LABELS: Record<FraudKind, string> = {
  all: 'all fraud',
  breachTesting: 'breach card testing (4)',
  breachCashout: 'breach cash-out (5)',
  handbook: 'handbook frauds (1–3)',
};

function kindOf(scenario: number): FraudKind | undefined {
  if (scenario === 4) return 'breachTesting';
  if (scenario === 5) return 'breachCashout';
  if (scenario >= 1 && scenario <= 3) return 'handbook';
  return undefined;
}

/** Share of the fraudulent spend stopped (declined, challenged or held for review), overall and per kind of fraud. */
export function fraudSpendStopped(rows: BreachRows, stopped: ArrayLike<number>): Record<FraudKind, SpendShare> {
  const out = Object.fromEntries(
    FRAUD_KINDS.map((k) => [k, { transactions: 0, spend: 0, stoppedTransactions: 0, stoppedSpend: 0, share: NaN }]),
  ) as Record<FraudKind, SpendShare>;
  // Cents, summed as integers: shares do not depend on the summation order.
  const cents = Object.fromEntries(FRAUD_KINDS.map((k) => [k, [0, 0]])) as Record<FraudKind, [number, number]>;
  for (let i = 0; i < rows.n; i++) {
    if (!rows.fraud[i]) continue;
    const c = Math.round(rows.amount[i]! * 100);
    const kind = kindOf(rows.scenario[i]!);
    for (const k of kind ? (['all', kind] as const) : (['all'] as const)) {
      out[k].transactions++;
      cents[k][0] += c;
      if (stopped[i]) {
        out[k].stoppedTransactions++;
        cents[k][1] += c;
      }
    }
  }
  for (const k of FRAUD_KINDS) {
    out[k].spend = cents[k][0] / 100;
    out[k].stoppedSpend = cents[k][1] / 100;
    out[k].share = cents[k][0] > 0 ? cents[k][1] / cents[k][0] : NaN;
  }
  return out;
}

export interface GenuineStopped {
  genuine: number;
  stopped: number;
  /** Genuine transactions stopped per 1,000 genuine transactions; NaN without genuine rows. */
  per1000: number;
}

export function genuineStoppedPer1000(rows: BreachRows, stopped: ArrayLike<number>): GenuineStopped {
  let genuine = 0,
    s = 0;
  for (let i = 0; i < rows.n; i++) {
    if (rows.fraud[i]) continue;
    genuine++;
    if (stopped[i]) s++;
  }
  return { genuine, stopped: s, per1000: genuine ? (s / genuine) * 1000 : NaN };
}

/** Decision codes: indices into DECISIONS (0 is approve). */
const CHALLENGE = DECISIONS.indexOf('challenge'),
  REVIEW = DECISIONS.indexOf('review'),
  DECLINE = DECISIONS.indexOf('decline');

export const GENUINE_GROUPS = ['all', 'listed', 'unlisted'] as const;
export type GenuineGroup = (typeof GENUINE_GROUPS)[number];
export const GENUINE_GROUP_LABELS: Record<GenuineGroup, string> = {
  all: 'all genuine orders',
  listed: 'cards on a leak list',
  unlisted: 'other cards',
};

export interface GenuineDecisions {
  genuine: number;
  challenged: number;
  reviewed: number;
  declined: number;
  /** Per 1,000 genuine orders of the group; NaN without any. */
  challengedPer1000: number;
  reviewedPer1000: number;
  declinedPer1000: number;
}

/**
 * Genuine orders challenged, reviewed and declined per 1,000 genuine orders: all of them, those of
 * cards on a leak list at that moment (`rows.listed`) and the others.
 */
export function genuineDecisions(
  rows: BreachRows,
  decisions: ArrayLike<number>,
): Record<GenuineGroup, GenuineDecisions> {
  const n = Object.fromEntries(GENUINE_GROUPS.map((g) => [g, [0, 0, 0, 0]])) as Record<
    GenuineGroup,
    [number, number, number, number]
  >;
  for (let i = 0; i < rows.n; i++) {
    if (rows.fraud[i]) continue;
    const d = decisions[i]!;
    for (const g of ['all', rows.listed[i] ? 'listed' : 'unlisted'] as const) {
      const c = n[g];
      c[0]++;
      if (d === CHALLENGE) c[1]++;
      else if (d === REVIEW) c[2]++;
      else if (d === DECLINE) c[3]++;
    }
  }
  const per1000 = (k: number, g: number) => (g ? (k / g) * 1000 : NaN);
  return Object.fromEntries(
    GENUINE_GROUPS.map((g) => {
      const [genuine, challenged, reviewed, declined] = n[g];
      return [
        g,
        {
          genuine,
          challenged,
          reviewed,
          declined,
          challengedPer1000: per1000(challenged, genuine),
          reviewedPer1000: per1000(reviewed, genuine),
          declinedPer1000: per1000(declined, genuine),
        },
      ];
    }),
  ) as Record<GenuineGroup, GenuineDecisions>;
}

export interface FrictionSpent {
  /** All orders judged, genuine and fraudulent (a merchant does not know which). */
  orders: number;
  challenged: number;
  reviewed: number;
  declined: number;
  /** Shares of all orders, 0..1; NaN without orders. */
  challengeShare: number;
  reviewShare: number;
  declineShare: number;
  budget: FrictionBudget;
  /** The budget lines spent beyond their target (share > budget). */
  over: ('challenge' | 'review')[];
}

/** The friction spent: shares of all orders challenged and reviewed, against a friction budget. */
export function frictionSpent(decisions: ArrayLike<number>, budget: FrictionBudget): FrictionSpent {
  let challenged = 0,
    reviewed = 0,
    declined = 0;
  for (let i = 0; i < decisions.length; i++) {
    const d = decisions[i]!;
    if (d === CHALLENGE) challenged++;
    else if (d === REVIEW) reviewed++;
    else if (d === DECLINE) declined++;
  }
  const orders = decisions.length;
  const share = (k: number) => (orders ? k / orders : NaN);
  const challengeShare = share(challenged),
    reviewShare = share(reviewed);
  return {
    orders,
    challenged,
    reviewed,
    declined,
    challengeShare,
    reviewShare,
    declineShare: share(declined),
    budget: { ...budget },
    over: [
      ...(challengeShare > budget.challenge ? ['challenge' as const] : []),
      ...(reviewShare > budget.review ? ['review' as const] : []),
    ],
  };
}

/** Quantile with linear interpolation between order statistics (R's type 7); NaN for no values. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q,
    lo = Math.floor(pos),
    hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface DetectionDelays {
  /** Leaked cards whose first fraudulent use falls in the rows. */
  cards: number;
  detected: number;
  /** Share of those cards with no stopped transaction from their first fraudulent use to the end of the rows. */
  neverDetectedShare: number;
  /** Hours from first fraudulent use to first detection, detected cards only, ascending. */
  hours: number[];
  medianHours: number;
  p90Hours: number;
}

/**
 * Per leaked card used fraudulently: hours from its first fraudulent use (first `breach` row) to
 * its first detection (its first row, fraudulent or not, at or after that use, that was stopped).
 * Cards in `usedBefore` (first fraudulent use before these rows) are left out: their first use is
 * not in the period. Median and p90 are over the detected cards; the others count in neverDetectedShare.
 */
export function detectionDelays(
  rows: BreachRows,
  stopped: ArrayLike<number>,
  usedBefore: ReadonlySet<number> = new Set(),
): DetectionDelays {
  const firstUse = new Map<number, number>();
  const detectedAt = new Map<number, number>();
  for (let i = 0; i < rows.n; i++) {
    const card = rows.card[i]!;
    if (rows.breach[i] && !firstUse.has(card) && !usedBefore.has(card)) firstUse.set(card, rows.at[i]!);
    if (stopped[i] && firstUse.has(card) && !detectedAt.has(card)) detectedAt.set(card, rows.at[i]!);
  }
  const hours = [...detectedAt].map(([card, at]) => (at - firstUse.get(card)!) / 3600).sort((a, b) => a - b);
  return {
    cards: firstUse.size,
    detected: hours.length,
    neverDetectedShare: firstUse.size ? (firstUse.size - hours.length) / firstUse.size : NaN,
    hours,
    medianHours: quantile(hours, 0.5),
    p90Hours: quantile(hours, 0.9),
  };
}

// --- Configurations --------------------------------------------------------------------------------

export const CONFIGURATIONS = [
  { id: 'rules', label: 'rules', watchlists: false, model: false },
  { id: 'rules+watchlists', label: 'rules + watchlists', watchlists: true, model: false },
  { id: 'rules+model', label: 'rules + model', watchlists: false, model: true },
  { id: 'rules+watchlists+model', label: 'rules + watchlists + model', watchlists: true, model: true },
] as const;
export type ConfigurationId = (typeof CONFIGURATIONS)[number]['id'];

export interface ConfigurationResult {
  id: ConfigurationId;
  label: string;
  watchlists: boolean;
  model: boolean;
  fraudSpend: Record<FraudKind, SpendShare>;
  /** Genuine transactions challenged or declined. */
  genuine: GenuineStopped;
  /** Genuine transactions held for an analyst's review (not stopped at checkout, but work and delay). */
  genuineReviewed: GenuineStopped;
  /** Genuine orders challenged, reviewed and declined per 1,000: all, listed cards, other cards. */
  genuineDecisions: Record<GenuineGroup, GenuineDecisions>;
  /** Shares of all orders challenged and reviewed, against the ruleset's friction budget. */
  friction: FrictionSpent;
  delays: DetectionDelays;
  decisions: Record<Decision, number>;
  /** Why genuine orders met friction: per decision but approve, how many carried each reason code, most first. */
  genuineReasons?: Partial<Record<Decision, { code: string; orders: number }[]>>;
}

/** Counts the reason codes of genuine orders per decision (approve left out): what costs genuine customers friction. */
export class ReasonTally {
  private readonly counts = new Map<Decision, Map<string, number>>();

  add(decision: Decision, codes: readonly string[]): void {
    if (decision === 'approve') return;
    let m = this.counts.get(decision);
    if (!m) this.counts.set(decision, (m = new Map()));
    for (const code of codes) m.set(code, (m.get(code) ?? 0) + 1);
  }

  top(limit = 10): Partial<Record<Decision, { code: string; orders: number }[]>> {
    const out: Partial<Record<Decision, { code: string; orders: number }[]>> = {};
    for (const [decision, m] of this.counts) {
      out[decision] = [...m]
        .map(([code, orders]) => ({ code, orders }))
        .sort((a, b) => b.orders - a.orders || (a.code < b.code ? -1 : 1))
        .slice(0, limit);
    }
    return out;
  }
}

/** The definition: a transaction is stopped when it is declined or challenged (3-D Secure). */
const STOPPING: ReadonlySet<Decision> = new Set(['challenge', 'decline']);

export function configurationResult(
  c: (typeof CONFIGURATIONS)[number],
  rows: BreachRows,
  decisions: Uint8Array,
  usedBefore: ReadonlySet<number>,
  budget: FrictionBudget,
): ConfigurationResult {
  // Decision codes index DECISIONS; 0 is approve. Stopped: challenged or declined. Detected (for the
  // delay): any decision but approve, since a review also puts the card in front of an analyst.
  const stopped = decisions.map((d) => (STOPPING.has(DECISIONS[d]!) ? 1 : 0));
  const reviewed = decisions.map((d) => (DECISIONS[d] === 'review' ? 1 : 0));
  const detected = decisions.map((d) => (d === 0 ? 0 : 1));
  const counts = Object.fromEntries(DECISIONS.map((d) => [d, 0])) as Record<Decision, number>;
  for (const d of decisions) counts[DECISIONS[d]!]++;
  return {
    id: c.id,
    label: c.label,
    watchlists: c.watchlists,
    model: c.model,
    fraudSpend: fraudSpendStopped(rows, stopped),
    genuine: genuineStoppedPer1000(rows, stopped),
    genuineReviewed: genuineStoppedPer1000(rows, reviewed),
    genuineDecisions: genuineDecisions(rows, decisions),
    friction: frictionSpent(decisions, budget),
    delays: detectionDelays(rows, detected, usedBefore),
    decisions: counts,
  };
}

// --- What a threshold change would do ----------------------------------------------------------------

export type Bands = Ruleset['bands'];
export const BANDS = ['challenge', 'review', 'decline'] as const;
export type BandName = (typeof BANDS)[number];
/** Points each band is moved by, one band at a time. */
export const BAND_SHIFTS: readonly number[] = [-10, -5, 5, 10];

export interface BandVariant {
  /** The band moved; undefined for the ruleset's own bands. */
  band?: BandName | undefined;
  shift: number;
  bands: Bands;
}

/**
 * The ruleset's bands, then each band moved by each shift, one at a time. A move that would leave
 * 0..100 or break challenge ≤ review ≤ decline (the ruleset schema) is skipped, with the reason.
 */
export function bandVariants(
  bands: Bands,
  shifts: readonly number[] = BAND_SHIFTS,
): { variants: BandVariant[]; skipped: (BandVariant & { reason: string })[] } {
  const variants: BandVariant[] = [{ shift: 0, bands: { ...bands } }];
  const skipped: (BandVariant & { reason: string })[] = [];
  for (const band of BANDS) {
    for (const shift of shifts) {
      if (shift === 0) continue;
      const moved = { ...bands, [band]: bands[band] + shift };
      const v = { band, shift, bands: moved };
      if (moved[band] < 0 || moved[band] > 100)
        skipped.push({ ...v, reason: `${band} ${moved[band]} is outside 0..100` });
      else if (!(moved.challenge <= moved.review && moved.review <= moved.decline))
        skipped.push({ ...v, reason: 'breaks challenge ≤ review ≤ decline' });
      else variants.push(v);
    }
  }
  return { variants, skipped };
}

export interface SweepRow extends BandVariant {
  friction: FrictionSpent;
  fraudSpend: { all: SpendShare; breachCashout: SpendShare };
  genuineDecisions: Record<GenuineGroup, GenuineDecisions>;
}

/** One variant's figures from its decisions on the test rows. */
export function sweepRow(
  variant: BandVariant,
  rows: BreachRows,
  decisions: ArrayLike<number>,
  budget: FrictionBudget,
): SweepRow {
  const stopped = Array.from(decisions, (d) => (d === CHALLENGE || d === DECLINE ? 1 : 0));
  const spend = fraudSpendStopped(rows, stopped);
  return {
    ...variant,
    friction: frictionSpent(decisions, budget),
    fraudSpend: { all: spend.all, breachCashout: spend.breachCashout },
    genuineDecisions: genuineDecisions(rows, decisions),
  };
}

export interface BandSweep {
  /** The configuration whose bands are moved (rules + watchlists + model). */
  configuration: ConfigurationId;
  /** The ruleset's own bands first (shift 0), then one band moved at a time. */
  rows: SweepRow[];
  skipped: (BandVariant & { reason: string })[];
}

// --- The runner ------------------------------------------------------------------------------------

export class BreachProtocolError extends LeakguardError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

export interface BreachSplit {
  trainStart: string;
  trainDays: number;
  delayDays: number;
  /** Days of test after the delay; undefined: to the last day of the data. */
  testDays?: number | undefined;
}

/**
 * Default split for the default breach dataset (npm run simulate -- --breach: breaches on
 * 2018-05-31 and 2018-06-30, fraud from 3 to about 25 days after each). The handbook's train week
 * (2018-07-25..31) would leave no breach fraud after it, so the model trains on the three weeks of
 * the first breach's fraud and is tested, after the usual 7 days of label delay, on the second's
 * and on everything after it.
 */
export const BREACH_SPLIT: BreachSplit = { trainStart: '2018-06-04', trainDays: 21, delayDays: 7 };

export interface BreachRunOptions {
  dataDir: string;
  split: BreachSplit;
  params: TrainParams;
  /** A model to evaluate instead of training one (it must be servable: see loadScoringModel). */
  model?: ScoringModel | undefined;
  ruleset?: Ruleset;
  onReplay?: (done: number, total: number) => void;
  /** Which frauds the replay charges back and when (features/labels.ts; default the published protocol's). */
  labels?: LabelAssumption;
  /** Training starts (mid-replay, once the train rows are in): rows, frauds, trees. */
  onTrainStart?: (rows: number, frauds: number, trees: number) => void;
  onTree?: (done: number) => void;
  onTrainEnd?: () => void;
}

export interface BreachRunResult {
  period: { trainFrom: string; trainTo: string; testFrom: string; testTo: string };
  /** The fraud labels (chargebacks) the replay fed the engine: every figure was measured under them. */
  labels: LabelAssumption;
  train?: { rows: number; frauds: number; seconds: number; cpuSeconds: number; nodes: number };
  model: { version: string; featureSet: string; trained: boolean };
  test: {
    transactions: number;
    frauds: number;
    fraudSpend: number;
    breachFrauds: number;
    leakedCardsFirstUsed: number;
    leakedCardsUsedBefore: number;
    /** Genuine test orders of cards on a leak list at that moment (the split of genuineDecisions). */
    genuineListed: number;
    /** Test rows per currency (CURRENCY column; absent from datasets without it). */
    currencies?: Record<string, number>;
  };
  configurations: ConfigurationResult[];
  /** The full configuration with each decision band moved, judged on the same feature maps. */
  sweep: BandSweep;
  replay: ReplaySummary;
  /** Rows where rules + watchlists through `judge` disagreed with the engine's answer in the replay (must be 0). */
  engineMismatches: number;
}

const dateOf = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().slice(0, 10);

/** The periods a split gives on a dataset, and their row ranges; throws BreachProtocolError when a period is empty. */
export function breachPeriods(ds: Dataset, split: BreachSplit) {
  if (ds.n === 0) throw new BreachProtocolError('the dataset is empty');
  const lastDate = dateOf(ds.epochSeconds[ds.n - 1]!);
  const trainTo = addDays(split.trainStart, split.trainDays - 1);
  const testFrom = addDays(split.trainStart, split.trainDays + split.delayDays);
  const testTo = split.testDays === undefined ? lastDate : addDays(testFrom, split.testDays - 1);
  const train = rowRange(ds, split.trainStart, trainTo);
  const test = rowRange(ds, testFrom, testTo);
  if (train[1] <= train[0])
    throw new BreachProtocolError(
      `no transactions in the train period ${split.trainStart}..${trainTo} (the data runs ${dateOf(ds.epochSeconds[0]!)}..${lastDate})`,
    );
  if (test[1] <= test[0])
    throw new BreachProtocolError(
      `no transactions in the test period ${testFrom}..${testTo} (the data runs ${dateOf(ds.epochSeconds[0]!)}..${lastDate})`,
    );
  return {
    period: { trainFrom: split.trainStart, trainTo, testFrom, testTo: testTo < lastDate ? testTo : lastDate },
    train,
    test,
  };
}

/** 1 on fraudulent rows with a BREACH_ID (the simulator's uses of leaked cards). */
export function breachFraudRows(ds: Dataset): Uint8Array {
  const id = ds.extra.get('BREACH_ID');
  if (!id)
    throw new BreachProtocolError('the dataset has no BREACH_ID column: generate it with npm run simulate -- --breach');
  const out = new Uint8Array(ds.n);
  for (let i = 0; i < ds.n; i++) out[i] = ds.fraud[i] && id[i] !== '' ? 1 : 0;
  return out;
}

export async function runBreachProtocol(ds: Dataset, o: BreachRunOptions): Promise<BreachRunResult> {
  const { period, train, test } = breachPeriods(ds, o.split);
  const breach = breachFraudRows(ds);
  const usedBefore = new Set<number>();
  let breachFrauds = 0;
  for (let i = 0; i < test[1]; i++) {
    if (!breach[i]) continue;
    if (i < test[0]) usedBefore.add(ds.customer[i]!);
    else breachFrauds++;
  }
  if (breachFrauds === 0) {
    throw new BreachProtocolError(
      `the test period ${period.testFrom}..${period.testTo} holds no fraudulent use of a leaked card: choose a train period (--from/--to) before the last breach's fraud`,
    );
  }
  const ruleset = o.ruleset ?? readRulesetFile(DEFAULT_RULESET_PATH, new Set(ALL_FEATURES));

  // Train rows' engine-set vectors, kept until the replay reaches the end of the train period.
  const fs: FeatureSet = ENGINE_FEATURE_SET;
  const cols = fs.features.length;
  const nTrain = train[1] - train[0];
  let trainX: Float64Array<ArrayBuffer> | undefined = o.model ? undefined : new Float64Array(nTrain * cols);
  let model = o.model;
  let trainInfo: BreachRunResult['train'];

  const trainModel = async () => {
    const labels = ds.fraud.slice(train[0], train[1]);
    const frauds = labels.reduce((s, v) => s + v, 0);
    if (frauds === 0)
      throw new BreachProtocolError(
        `no fraud in the train period ${period.trainFrom}..${period.trainTo}: nothing to learn`,
      );
    o.onTrainStart?.(nTrain, frauds, o.params.trees);
    const r = await trainForest({ values: trainX!, labels, rows: nTrain, cols }, o.params, o.onTree);
    o.onTrainEnd?.();
    trainX = undefined;
    const artifact = buildArtifact({
      modelVersion: `rf-engine-breach-${period.trainFrom}-${period.trainTo}-s${o.params.seed}-${forestDigest({ ...o.params }, r.flat)}`,
      amountReference: trainingAmountReference(fs),
      featureSet: { name: fs.name, version: fs.version, features: featureNames(fs) },
      training: {
        data: {
          source: o.dataDir,
          from: period.trainFrom,
          to: period.trainTo,
          rows: nTrain,
          frauds,
          fingerprint: 'not computed (breach protocol)',
        },
        params: { ...o.params },
        seconds: r.seconds,
        cpuSeconds: r.cpuSeconds,
        library: TRAINING_LIBRARY,
      },
      metrics: { protocol: 'breach', trainFrom: period.trainFrom, trainTo: period.trainTo },
      prior: r.prior,
      flat: r.flat,
    });
    model = new ForestScoringModel(artifact, new CompiledForest(r.flat, r.prior), fs);
    trainInfo = { rows: nTrain, frauds, seconds: r.seconds, cpuSeconds: r.cpuSeconds, nodes: r.flat.feature.length };
  };

  const nTest = test[1] - test[0];
  const decisions = CONFIGURATIONS.map(() => new Uint8Array(nTest));
  const tallies = CONFIGURATIONS.map(() => new ReasonTally());
  const listedRows = new Uint8Array(nTest);
  const code = new Map<string, number>(DECISIONS.map((d, i) => [d, i]));
  const channel = ds.extra.get('CHANNEL')!;
  let mismatches = 0;
  // The sweep: the full configuration with copies of the ruleset whose bands are moved.
  const full = CONFIGURATIONS.findIndex((c) => c.watchlists && c.model);
  const { variants, skipped } = bandVariants(ruleset.bands);
  const moved = variants
    .slice(1)
    .map((v) => ({ ruleset: { ...ruleset, bands: v.bands }, decisions: new Uint8Array(nTest) }));

  const replay = await replayThroughEngine(ds, {
    dataDir: o.dataDir,
    watchlists: true,
    labels: o.labels ?? PUBLISHED_LABELS,
    ruleset,
    from: train[0],
    to: test[1],
    ...(o.onReplay ? { onProgress: o.onReplay } : {}),
    onRow: async (row, response, evidence) => {
      const occurredAt = ds.epochSeconds[row]! * 1000;
      if (row < train[1]) {
        if (trainX)
          servingVector(
            fs,
            evidence.features,
            occurredAt,
            trainX.subarray((row - train[0]) * cols, (row - train[0] + 1) * cols),
          );
        return;
      }
      if (row < test[0]) return;
      if (!model) await trainModel();
      const listed = evidence.features;
      // What the engine would have seen without watchlists: the same counters, an unlisted card.
      const unlisted: FeatureMap = { ...listed, ...watchlistFeatures(null, [], occurredAt) };
      const base = {
        ruleset,
        merchantId: `t${ds.terminal[row]}`,
        occurredAt,
        degraded: false as const,
        cardNotPresent: channel[row] !== 'pos',
        threeDSAuthenticated: false,
      };
      const k = row - test[0];
      listedRows[k] = listed.card_listed === true ? 1 : 0;
      CONFIGURATIONS.forEach((c, j) => {
        const features = c.watchlists ? listed : unlisted;
        // judge adds model_score to the map it is given: a copy when a model runs.
        const { outcome } = judge({
          ...base,
          features: c.model ? { ...features } : features,
          model: c.model ? model : undefined,
        });
        decisions[j]![k] = code.get(outcome.decision)!;
        if (!ds.fraud[row])
          tallies[j]!.add(
            outcome.decision,
            outcome.reasons.map((r) => r.code),
          );
      });
      for (const m of moved) {
        const { outcome } = judge({ ...base, ruleset: m.ruleset, features: { ...listed }, model });
        m.decisions[k] = code.get(outcome.decision)!;
      }
      if (DECISIONS[decisions[1]![k]!] !== response.decision) mismatches++;
    },
  });
  if (!model) throw new BreachProtocolError('the replay ended before the test period');

  const rows: BreachRows = {
    n: nTest,
    amount: ds.amount.subarray(test[0], test[1]),
    fraud: ds.fraud.subarray(test[0], test[1]),
    scenario: ds.scenario.subarray(test[0], test[1]),
    card: ds.customer.subarray(test[0], test[1]),
    at: ds.epochSeconds.subarray(test[0], test[1]),
    breach: breach.subarray(test[0], test[1]),
    listed: listedRows,
  };
  const budget = ruleset.friction;
  const configurations = CONFIGURATIONS.map((c, j) => ({
    ...configurationResult(c, rows, decisions[j]!, usedBefore, budget),
    genuineReasons: tallies[j]!.top(),
  }));
  const sweep: BandSweep = {
    configuration: CONFIGURATIONS[full]!.id,
    rows: variants.map((v, i) => sweepRow(v, rows, i === 0 ? decisions[full]! : moved[i - 1]!.decisions, budget)),
    skipped,
  };
  const fraudSpend = configurations[0]!.fraudSpend.all;
  const currencyColumn = ds.extra.get('CURRENCY');
  let currencies: Record<string, number> | undefined;
  if (currencyColumn) {
    currencies = {};
    for (let i = test[0]; i < test[1]; i++) currencies[currencyColumn[i]!] = (currencies[currencyColumn[i]!] ?? 0) + 1;
  }
  return {
    period,
    labels: o.labels ?? PUBLISHED_LABELS,
    ...(trainInfo ? { train: trainInfo } : {}),
    model: { version: model.version, featureSet: model.featureSet, trained: !o.model },
    test: {
      transactions: nTest,
      frauds: fraudSpend.transactions,
      fraudSpend: fraudSpend.spend,
      breachFrauds,
      leakedCardsFirstUsed: configurations[0]!.delays.cards,
      leakedCardsUsedBefore: usedBefore.size,
      genuineListed: configurations[0]!.genuineDecisions.listed.genuine,
      ...(currencies ? { currencies } : {}),
    },
    configurations,
    sweep,
    replay,
    engineMismatches: mismatches,
  };
}
