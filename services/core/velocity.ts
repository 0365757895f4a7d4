// The velocity contract: which counters exist, over which windows, and how one transaction
// turns into one atomic plan of counter operations. Both stores (Redis, memory) execute the
// same plan, so their answers are the same by construction and by contract test.
// docs/velocity-features.md explains every feature in words.
import type { EntityKind } from './entities.ts';
import type { ListLookup } from './lists.ts';

export const WINDOWS = {
  '10m': 10 * 60_000,
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
} as const;
export type Window = keyof typeof WINDOWS;

/** Every transaction seen for an entity: counts, amount sums, small-amount attempts. */
export interface LogCounter {
  entity: EntityKind;
  counts: Window[];
  amounts?: Window[];
  smallAmounts?: Window[];
  /** Hard bound on remembered events per entity (a NAT IP or a big merchant); counts saturate there. */
  cap: number;
}
/** Distinct other entities seen with an entity: a card at many merchants, a device with many cards. */
export interface DistinctCounter {
  entity: EntityKind;
  of: EntityKind;
  windows: Window[];
}
/** Declines, chargebacks and failed step-ups reported through outcomes. */
export interface OutcomeCounter {
  entity: EntityKind;
  windows: Window[];
  kinds: readonly CountedOutcome[];
}
/**
 * Transactions and fraud-labelled transactions of an entity in windows that end `delay` before the
 * transaction, (t − (delay + w), t − delay]: the handbook's terminal features. A label (an outcome in
 * FRAUD_LABEL_OUTCOMES) counts at the labelled transaction's own time, as soon as it is reported;
 * the delay stands for "labels of transactions at least this old are known".
 */
export interface DelayedCounter {
  entity: EntityKind;
  delay: Window;
  windows: Window[];
  /** Bound on remembered transactions (and labels) per entity; see docs/velocity-features.md for saturation. */
  cap: number;
}

export const LOG_COUNTERS: LogCounter[] = [
  { entity: 'card', counts: ['10m', '1h', '24h', '7d', '30d'], amounts: ['1h', '24h', '7d', '30d'], smallAmounts: ['1h', '24h'], cap: 2000 },
  { entity: 'device', counts: ['1h', '24h', '7d'], cap: 5000 },
  { entity: 'ip', counts: ['10m', '1h', '24h'], cap: 5000 },
  { entity: 'email', counts: ['24h', '7d', '30d'], cap: 5000 },
  { entity: 'shipping', counts: ['24h', '7d', '30d'], cap: 5000 },
  { entity: 'merchant', counts: ['10m', '1h'], cap: 100_000 },
  { entity: 'bin', counts: ['10m', '1h'], cap: 100_000 },
];

export const DISTINCT_COUNTERS: DistinctCounter[] = [
  { entity: 'card', of: 'merchant', windows: ['10m', '1h', '24h', '7d'] },
  { entity: 'card', of: 'shipping', windows: ['24h', '7d', '30d'] },
  { entity: 'card', of: 'device', windows: ['24h', '7d', '30d'] },
  { entity: 'card', of: 'ip', windows: ['1h', '24h'] },
  { entity: 'device', of: 'card', windows: ['1h', '24h', '7d'] },
  { entity: 'ip', of: 'card', windows: ['1h', '24h'] },
  { entity: 'email', of: 'card', windows: ['24h', '7d', '30d'] },
  { entity: 'shipping', of: 'card', windows: ['24h', '7d', '30d'] },
  { entity: 'merchant', of: 'card', windows: ['10m', '1h'] },
  { entity: 'bin', of: 'card', windows: ['10m', '1h'] },
];

export const OUTCOME_KINDS = ['declines', 'chargebacks', 'challenge_failures'] as const;
export type CountedOutcome = (typeof OUTCOME_KINDS)[number];
/** The reported outcome (outcome API) each counter kind counts. */
const COUNTED_OUTCOME: Record<string, CountedOutcome> = { declined: 'declines', chargeback: 'chargebacks', challenge_failed: 'challenge_failures' };
/** Key suffix letter of each kind (keys.outcomes). */
const OUTCOME_KEY: Record<CountedOutcome, string> = { declines: 'd', chargebacks: 'c', challenge_failures: 'x' };
const ENTITY_OUTCOMES: readonly CountedOutcome[] = ['declines', 'chargebacks'];
// A failed 3-D Secure challenge speaks about the card (its holder could not authenticate); rings
// show through declines and chargebacks already, so the other entities do not count it.
export const OUTCOME_COUNTERS: OutcomeCounter[] = [
  { entity: 'card', windows: ['24h', '7d', '30d'], kinds: OUTCOME_KINDS },
  { entity: 'device', windows: ['7d', '30d'], kinds: ENTITY_OUTCOMES },
  { entity: 'ip', windows: ['7d'], kinds: ENTITY_OUTCOMES },
  { entity: 'email', windows: ['30d'], kinds: ENTITY_OUTCOMES },
  { entity: 'shipping', windows: ['30d'], kinds: ENTITY_OUTCOMES },
];

/** Outcomes that label a transaction as fraud for the delayed counters. */
export const FRAUD_LABEL_OUTCOMES: readonly string[] = ['chargeback'];
// The engine's merchant is the API key's merchant id: these counters are per merchant. The
// handbook's terminal maps onto it; a merchant wanting per-terminal windows sends one merchant id
// (API key) per terminal. 500,000 events over 37 days ≈ 13,500 transactions a day sustained.
export const DELAYED_COUNTERS: DelayedCounter[] = [
  { entity: 'merchant', delay: '7d', windows: ['24h', '7d', '30d'], cap: 500_000 },
];

const PLURAL: Record<EntityKind, string> = {
  card: 'cards', device: 'devices', ip: 'ips', email: 'emails', shipping: 'shipping_addresses', merchant: 'merchants', bin: 'bins',
};

/** Names of every velocity feature, in a fixed order: the contract documented in docs/. */
export const VELOCITY_FEATURES: readonly string[] = [
  ...LOG_COUNTERS.flatMap((c) => [
    ...c.counts.map((w) => `${c.entity}_count_${w}`),
    ...(c.amounts ?? []).map((w) => `${c.entity}_amount_${w}`),
    ...(c.smallAmounts ?? []).map((w) => `${c.entity}_small_count_${w}`),
  ]),
  ...DISTINCT_COUNTERS.flatMap((c) => c.windows.map((w) => `${c.entity}_distinct_${PLURAL[c.of]}_${w}`)),
  ...OUTCOME_COUNTERS.flatMap((c) => c.kinds.flatMap((k) => c.windows.map((w) => `${c.entity}_${k}_${w}`))),
  ...DELAYED_COUNTERS.flatMap(delayedFeatures),
];
/** Changes whenever the counter definitions do (FNV-1a over the feature names): a reading kept across a deploy is not reused. */
const DEFINITIONS_TAG = (() => {
  let h = 0x811c9dc5;
  for (const ch of VELOCITY_FEATURES.join(',')) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return (h >>> 0).toString(36);
})();

function delayedFeatures(c: DelayedCounter): string[] {
  return [...c.windows.map((w) => `${c.entity}_delayed_count_${w}`), ...c.windows.map((w) => `${c.entity}_delayed_frauds_${w}`)];
}
export type VelocityReading = Record<string, number>;

/** Redis key names. Hash tags ({...}) keep each entity's keys in one Cluster slot. */
const SHORT: Record<EntityKind, string> = { card: 'c', device: 'd', ip: 'i', email: 'e', shipping: 's', merchant: 'm', bin: 'b' };
export const keys = {
  log: (kind: EntityKind, id: string) => `lg:{${SHORT[kind]}:${id}}:l`,
  distinct: (kind: EntityKind, id: string, of: EntityKind) => `lg:{${SHORT[kind]}:${id}}:d${SHORT[of]}`,
  outcomes: (kind: EntityKind, id: string, outcome: CountedOutcome) => `lg:{${SHORT[kind]}:${id}}:o${OUTCOME_KEY[outcome]}`,
  /** The delayed counters' transaction log and fraud-label log. */
  delayed: (kind: EntityKind, id: string) => `lg:{${SHORT[kind]}:${id}}:y`,
  frauds: (kind: EntityKind, id: string) => `lg:{${SHORT[kind]}:${id}}:f`,
  marker: (merchantId: string, transactionId: string) => `lg:{t:${merchantId}:${transactionId}}:m`,
  response: (merchantId: string, transactionId: string) => `lg:{t:${merchantId}:${transactionId}}:r`,
};

/** What the stores need to know of one transaction: pseudonymous identities only, never a PAN. */
export interface TransactionFacts {
  merchantId: string;
  transactionId: string;
  /** Hash of the normalised request; the same id with another payload is a conflict. */
  payloadHash: string;
  occurredAt: number;
  /** Amount in hundredths of the currency's major unit, whatever its exponent. */
  amountCents: number;
  small: boolean;
  /** Identities per entity, primary key first (a second one only during key rotation). */
  entities: Partial<Record<EntityKind, string[]>>;
  /** Watchlist entry slots of the card, one per fingerprint (primary first): read in the same round trip. */
  watchlist?: { bucket: string; field: Buffer }[];
  /** Negative-list and allow-list keys to check in the same round trip. */
  lists?: ListLookup;
}

export type PlanOp =
  | { op: 'log'; write: string; read: string[]; member: string; retentionMs: number; cap: number; counts: number[]; amounts: number[]; smalls: number[] }
  | { op: 'distinct'; write: string; read: string[]; member: string; retentionMs: number; windows: number[] }
  | { op: 'count'; read: string[]; windows: number[] }
  /** Returns the count per window, then the fraud-label count per window, over (t − delay − w, t − delay]. */
  | { op: 'delayed'; write: string; read: string[]; frauds: string[]; member: string; retentionMs: number; cap: number; delayMs: number; windows: number[] };

export interface CounterPlan {
  marker: string;
  response: string;
  payloadHash: string;
  at: number;
  /** Kept on the transaction marker so that a later outcome can reach the same entities. */
  entitiesJson: string;
  /** How long the transaction marker lives: longer than the longest window, so replays never recount. */
  markerTtlMs: number;
  ops: PlanOp[];
  /** Feature name of each number the plan returns, in order. */
  features: string[];
  /**
   * The shape of what the plan returns (counter definitions, numbers, watchlist slots, list
   * groups): a reading kept for a retry is reused only by a plan of the same shape.
   */
  layout: string;
  /** Watchlist lookup: entry slots, and the card's event logs for "uses since listed". */
  watch?: { slots: { bucket: string; field: Buffer }[]; cardLogs: string[] };
  lists?: ListLookup;
}

export const MARKER_TTL_MS = WINDOWS['30d'] + 5 * 86_400_000;
export const RESPONSE_TTL_MS = 86_400_000;
const maxOf = (ws: number[]) => Math.max(0, ...ws);
const ms = (ws: readonly Window[] | undefined) => (ws ?? []).map((w) => WINDOWS[w]);

export function primaryIdentities(entities: TransactionFacts['entities']): Partial<Record<EntityKind, string>> {
  const out: Partial<Record<EntityKind, string>> = {};
  for (const [kind, ids] of Object.entries(entities) as [EntityKind, string[]][]) if (ids[0]) out[kind] = ids[0];
  return out;
}

export function buildCounterPlan(facts: TransactionFacts): CounterPlan {
  const ops: PlanOp[] = [];
  const features: string[] = [];
  const txRef = `${facts.merchantId}:${facts.transactionId}`;
  const primary = primaryIdentities(facts.entities);

  for (const c of LOG_COUNTERS) {
    const ids = facts.entities[c.entity];
    if (!ids?.length) continue;
    const counts = ms(c.counts), amounts = ms(c.amounts), smalls = ms(c.smallAmounts);
    ops.push({
      op: 'log', write: keys.log(c.entity, ids[0]!), read: ids.map((id) => keys.log(c.entity, id)),
      member: `${txRef}|${facts.amountCents}|${facts.small ? 1 : 0}`,
      retentionMs: maxOf([...counts, ...amounts, ...smalls]), cap: c.cap, counts, amounts, smalls,
    });
    features.push(
      ...c.counts.map((w) => `${c.entity}_count_${w}`),
      ...(c.amounts ?? []).map((w) => `${c.entity}_amount_${w}`),
      ...(c.smallAmounts ?? []).map((w) => `${c.entity}_small_count_${w}`),
    );
  }
  for (const c of DISTINCT_COUNTERS) {
    const ids = facts.entities[c.entity];
    const other = primary[c.of];
    if (!ids?.length || !other) continue;
    const windows = ms(c.windows);
    ops.push({
      op: 'distinct', write: keys.distinct(c.entity, ids[0]!, c.of), read: ids.map((id) => keys.distinct(c.entity, id, c.of)),
      member: other, retentionMs: maxOf(windows), windows,
    });
    features.push(...c.windows.map((w) => `${c.entity}_distinct_${PLURAL[c.of]}_${w}`));
  }
  for (const c of OUTCOME_COUNTERS) {
    const ids = facts.entities[c.entity];
    if (!ids?.length) continue;
    for (const k of c.kinds) {
      ops.push({ op: 'count', read: ids.map((id) => keys.outcomes(c.entity, id, k)), windows: ms(c.windows) });
      features.push(...c.windows.map((w) => `${c.entity}_${k}_${w}`));
    }
  }
  for (const c of DELAYED_COUNTERS) {
    const ids = facts.entities[c.entity];
    if (!ids?.length) continue;
    const windows = ms(c.windows), delayMs = WINDOWS[c.delay];
    ops.push({
      op: 'delayed', write: keys.delayed(c.entity, ids[0]!), read: ids.map((id) => keys.delayed(c.entity, id)),
      frauds: ids.map((id) => keys.frauds(c.entity, id)), member: txRef, retentionMs: delayMs + maxOf(windows), cap: c.cap, delayMs, windows,
    });
    features.push(...delayedFeatures(c));
  }
  const slots = facts.watchlist?.length ?? 0;
  const listGroups = facts.lists ? facts.lists.negative.length + 1 : 0;
  return {
    marker: keys.marker(facts.merchantId, facts.transactionId),
    response: keys.response(facts.merchantId, facts.transactionId),
    payloadHash: facts.payloadHash,
    at: facts.occurredAt,
    entitiesJson: JSON.stringify(primary),
    markerTtlMs: MARKER_TTL_MS,
    ops,
    features,
    layout: `${DEFINITIONS_TAG}.${features.length}.${slots}.${listGroups}`,
    ...(facts.watchlist?.length
      ? { watch: { slots: facts.watchlist, cardLogs: (facts.entities.card ?? []).map((id) => keys.log('card', id)) } }
      : {}),
    ...(facts.lists ? { lists: facts.lists } : {}),
  };
}

const AMOUNT_FEATURE = /_amount_/;

/** Turns a plan's returned numbers into a full reading: absent entities read as zero. */
export function readingFrom(plan: CounterPlan, values: number[]): VelocityReading {
  const reading: VelocityReading = {};
  for (const name of VELOCITY_FEATURES) reading[name] = 0;
  // Amounts travel in hundredths so that stores only add integers; features are in major units.
  plan.features.forEach((name, i) => (reading[name] = AMOUNT_FEATURE.test(name) ? (values[i] ?? 0) / 100 : (values[i] ?? 0)));
  return reading;
}

export interface OutcomePlan {
  /** Outcome sets joined at the outcome's time (declines, chargebacks), and how long they keep members. */
  counted: string[];
  retentionMs: number;
  /** Fraud-label logs joined at the transaction's own time (the marker's `t`), their retention and cap. */
  labels: string[];
  labelRetentionMs: number;
  labelCap: number;
}

/** The outcome plan: which outcome sets a reported outcome joins, and which fraud-label logs. */
export function outcomePlan(entitiesJson: string, outcome: string): OutcomePlan {
  const entities = JSON.parse(entitiesJson) as Partial<Record<EntityKind, string>>;
  const plan: OutcomePlan = { counted: [], retentionMs: 0, labels: [], labelRetentionMs: 0, labelCap: 0 };
  const counted: CountedOutcome | undefined = COUNTED_OUTCOME[outcome];
  if (counted) {
    for (const c of OUTCOME_COUNTERS) {
      const id = entities[c.entity];
      if (!id || !c.kinds.includes(counted)) continue;
      plan.counted.push(keys.outcomes(c.entity, id, counted));
      plan.retentionMs = Math.max(plan.retentionMs, ...ms(c.windows));
    }
  }
  if (FRAUD_LABEL_OUTCOMES.includes(outcome)) {
    for (const c of DELAYED_COUNTERS) {
      const id = entities[c.entity];
      if (!id) continue;
      plan.labels.push(keys.frauds(c.entity, id));
      plan.labelRetentionMs = Math.max(plan.labelRetentionMs, WINDOWS[c.delay] + maxOf(ms(c.windows)));
      plan.labelCap = Math.max(plan.labelCap, c.cap);
    }
  }
  return plan;
}

/** Store port: one atomic round trip per scored transaction. */
export type ReadStatus = 'new' | 'replay' | 'pending' | 'conflict';
export interface StoreReading {
  /** new: counted now; replay: seen before with its response; pending: seen before, response not stored; conflict: same id, other payload. */
  status: ReadStatus;
  storedResponse?: string;
  /** pending: the time the transaction was counted at, whose reading this is (a retry may carry a new "now"). */
  countedAt?: number;
  velocity?: VelocityReading;
  /** Present when the plan asked: the packed entry found under each fingerprint, or null. */
  watchlist?: WatchlistReading;
  /** Present when the plan asked: per negative kind whether any identity is listed, then whether the card is allow-listed. */
  lists?: boolean[];
}
export interface WatchlistReading {
  entries: (Buffer | null)[];
  /** Earlier transactions of the card since the first entry found was listed. */
  usesSinceListed: number;
}

/** A watchlist hit, recorded once per transaction for the issuers whose events list the card. */
export interface HitRecord {
  at: string;
  merchantId: string;
  transactionId: string;
  amount: number;
  currency: string;
  decision: string;
  score: number;
  card: string;
  bin: string;
  eventIds: string[];
  eventSeqs: number[];
  issuerIds: string[];
}
export interface StoredTransaction {
  entitiesJson: string;
  occurredAt: number;
  outcomes: Record<string, number>;
}

export interface VelocityStore {
  recordAndRead(plan: CounterPlan): Promise<StoreReading>;
  /** Stores the response for retries and, once per transaction, the watchlist hit. */
  saveResponse(plan: CounterPlan, response: string, hit?: HitRecord): Promise<void>;
  /** Records a merchant's outcome once per kind; 'unknown' when the transaction was never scored here. */
  recordOutcome(merchantId: string, transactionId: string, outcome: string, at: number): Promise<'recorded' | 'duplicate' | 'unknown'>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
