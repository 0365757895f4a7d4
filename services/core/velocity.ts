// The velocity contract: which counters exist, over which windows, and how one transaction
// turns into one atomic plan of counter operations. Both stores (Redis, memory) execute the
// same plan, so their answers are the same by construction and by contract test.
// docs/velocity-features.md explains every feature in words.
import { KIND_LETTER, type EntityKind } from './entities.ts';
import { OUTCOME_KINDS, type CountedOutcome, type StoreKeys } from './store-keys.ts';
import type { ListLookup } from './lists.ts';
import { LeakguardError } from './errors.ts';

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
  {
    entity: 'card',
    counts: ['10m', '1h', '24h', '7d', '30d'],
    amounts: ['1h', '24h', '7d', '30d'],
    smallAmounts: ['1h', '24h'],
    cap: 2000,
  },
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

export { OUTCOME_KINDS, type CountedOutcome };
/** The reported outcome (outcome API) each counter kind counts. */
const COUNTED_OUTCOME: Record<string, CountedOutcome> = {
  declined: 'declines',
  chargeback: 'chargebacks',
  challenge_failed: 'challenge_failures',
};
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
  card: 'cards',
  device: 'devices',
  ip: 'ips',
  email: 'emails',
  shipping: 'shipping_addresses',
  merchant: 'merchants',
  bin: 'bins',
};

/**
 * Each counter's feature names, made once: the contract's order below and every plan take them
 * from here (a plan used to build its ~80 names afresh: new strings to hash as property keys).
 */
const LOG_NAMES = new Map(
  LOG_COUNTERS.map((c) => [
    c,
    [
      ...c.counts.map((w) => `${c.entity}_count_${w}`),
      ...(c.amounts ?? []).map((w) => `${c.entity}_amount_${w}`),
      ...(c.smallAmounts ?? []).map((w) => `${c.entity}_small_count_${w}`),
    ],
  ]),
);
const DISTINCT_NAMES = new Map(
  DISTINCT_COUNTERS.map((c) => [c, c.windows.map((w) => `${c.entity}_distinct_${PLURAL[c.of]}_${w}`)]),
);
const OUTCOME_NAMES = new Map(
  OUTCOME_COUNTERS.map((c) => [c, new Map(c.kinds.map((k) => [k, c.windows.map((w) => `${c.entity}_${k}_${w}`)]))]),
);
const DELAYED_NAMES = new Map(DELAYED_COUNTERS.map((c) => [c, delayedFeatures(c)]));

/** Names of every velocity feature, in a fixed order: the contract documented in docs/. */
export const VELOCITY_FEATURES: readonly string[] = [
  ...LOG_COUNTERS.flatMap((c) => LOG_NAMES.get(c)!),
  ...DISTINCT_COUNTERS.flatMap((c) => DISTINCT_NAMES.get(c)!),
  ...OUTCOME_COUNTERS.flatMap((c) => c.kinds.flatMap((k) => OUTCOME_NAMES.get(c)!.get(k)!)),
  ...DELAYED_COUNTERS.flatMap((c) => DELAYED_NAMES.get(c)!),
];
/**
 * Changes whenever the counter definitions or the plan's arrangement do (FNV-1a over the feature
 * names and PLAN_FORMAT): a reading kept across a deploy is not reused.
 */
const PLAN_FORMAT = 'distinct members in the card log';
const DEFINITIONS_TAG = (() => {
  let h = 0x811c9dc5;
  for (const ch of `${VELOCITY_FEATURES.join(',')}|${PLAN_FORMAT}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return (h >>> 0).toString(36);
})();

function delayedFeatures(c: DelayedCounter): string[] {
  return [
    ...c.windows.map((w) => `${c.entity}_delayed_count_${w}`),
    ...c.windows.map((w) => `${c.entity}_delayed_frauds_${w}`),
  ];
}
export type VelocityReading = Record<string, number>;

/**
 * Hot entities can be spread: an entity kind listed here keeps its counters in SPREAD[kind]
 * sub-identities (`id/0` … `id/n-1`), each its own Redis Cluster slot. A transaction is written to
 * one of them (chosen by its reference; a distinct member by its own id, so that each member lives
 * in one sub-identity) and read from all, summed: the counts are exact. Caps apply per sub-identity.
 * Off by default: every reading touches every sub-identity, so spreading moves a hot merchant's
 * writes but not its reads, and measured it cost more than it balanced (docs/redis-cluster.md).
 */
export const SPREAD: Partial<Record<EntityKind, number>> = {};
const spreadOf = (kind: EntityKind) => SPREAD[kind] ?? 1;

/** FNV-1a: a stable, cheap choice of sub-identity (or of any one of n keys for a value). */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
/** The sub-identity `value` (a transaction reference or a distinct member) is written to. */
export function subIdentity(kind: EntityKind, id: string, value: string): string {
  const n = spreadOf(kind);
  return n === 1 ? id : `${id}/${fnv1a(value) % n}`;
}
/** Every sub-identity of an identity: what a reading sums. */
export function subIdentities(kind: EntityKind, id: string): string[] {
  const n = spreadOf(kind);
  return n === 1 ? [id] : Array.from({ length: n }, (_, k) => `${id}/${k}`);
}

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
  /**
   * Per entity, identities earlier versions wrote where its primary identity is written now (same
   * key, an earlier normalisation: a shipping address's pseudonym before 2026-12-07,
   * entities.ts formerAddressIdentity). A log keeping the entity as a distinct member replaces them
   * with the primary identity when it writes it, so that the entity counts once.
   */
  formerIdentities?: Partial<Record<EntityKind, string[]>>;
  /** Watchlist entry slots of the card, one per fingerprint (primary first): read in the same round trip. */
  watchlist?: { bucket: string; field: Buffer }[];
  /** Negative-list and allow-list keys to check in the same round trip. */
  lists?: ListLookup;
}

/**
 * One operation on one key of a slot group. `out` is where its numbers go in the reading (they
 * are summed there: identities of a rotating key and sub-identities of a spread entity add up).
 * `write`: this key records the transaction (log: member `ref|cents|small`; delayed: `ref`;
 * distinct: `member`), at the counting time.
 * A distinct counter kept in its entity's log (`inLog`, see sharesLog) is written by the log's
 * operation (`distinctMembers`, in the same ZADD, latest time kept) and counted from the log's read.
 */
export type SlotOp = SlotDefinition & { def: string; key: string; out: number } & (
    | {
        op: 'log';
        write: boolean;
        distinctMembers: string[];
        /**
         * Earlier forms of distinctMembers[of] (TransactionFacts.formerIdentities) this log may
         * hold: the write removes them, first, and writes the member at the latest of its counting
         * time and theirs, so that the entity is one member, seen when either form last was.
         */
        formerMembers: { of: number; member: string }[];
      }
    | {
        op: 'distinct';
        write: boolean;
        member: string;
        union: boolean;
        inLog: boolean;
        /**
         * With `union`: the member's other forms (its entity's identities after the first, as the
         * member is kept), read as the member itself. A card used on both sides of a key rotation is
         * in a device's set under both fingerprints: one card, not two.
         */
        aliases: string[] | undefined;
        /**
         * The member's other forms (the same card or device under the previous card key) this key
         * may hold from before the rotation: they leave it, so that the entity is one member in the
         * readings after this one too. Where the key keeps the member (it is written here, or its
         * rows are unioned with the other identity's) the member takes the latest of their times;
         * elsewhere (another sub-identity of a spread entity) a form leaves only when the member's
         * write here covers it (seen no later than the counting time).
         */
        retire: string[] | undefined;
      }
    | { op: 'count' }
    | { op: 'delayed'; frauds: string; write: boolean }
    | { op: 'since' }
    | { op: 'exists' }
  );

/**
 * The static part of a slot operation, the same for every transaction: windows, retention, cap.
 * Named (SLOT_DEFINITIONS) so that a store can hold them once instead of receiving them each time.
 */
export type SlotDefinition =
  /** Counts per window, then amount sums, then small-amount counts. */
  | { op: 'log'; retentionMs: number; cap: number; counts: number[]; amounts: number[]; smalls: number[] }
  /** Distinct members per window; with `union`, the rows (member, last seen) instead: several identities of one entity are unioned by the reader. */
  | { op: 'distinct'; retentionMs: number; windows: number[] }
  /** Outcomes per window. */
  | { op: 'count'; windows: number[] }
  /** Transactions per window over (t − delay − w, t − delay], then fraud labels per window. */
  | { op: 'delayed'; retentionMs: number; cap: number; delayMs: number; windows: number[] }
  /** The card's transactions since it was listed (the time comes from the watchlist entry), counted in its log's read over `horizonMs`. */
  | { op: 'since'; horizonMs: number }
  /** 1 when the key exists (negative and allow lists). */
  | { op: 'exists' };

const maxOfWindows = (ws: number[]) => Math.max(0, ...ws);
const msOf = (ws: readonly Window[] | undefined) => (ws ?? []).map((w) => WINDOWS[w]);
/** How far back each entity's log reaches: its longest window. */
const LOG_RETENTION_MS: Partial<Record<EntityKind, number>> = Object.fromEntries(
  LOG_COUNTERS.map((c) => [
    c.entity,
    maxOfWindows(msOf([...c.counts, ...(c.amounts ?? []), ...(c.smallAmounts ?? [])])),
  ]),
);
/** The distinct counters whose entity's log is read whole (it has sums) over at least their windows. */
const IN_READ_LOG: ReadonlySet<DistinctCounter> = new Set(
  DISTINCT_COUNTERS.filter((c) => {
    const log = LOG_COUNTERS.find((l) => l.entity === c.entity);
    return (
      !!(log?.amounts?.length || log?.smallAmounts?.length) &&
      maxOfWindows(msOf(c.windows)) <= LOG_RETENTION_MS[c.entity]!
    );
  }),
);
/**
 * A distinct counter whose entity's log is read whole at every scoring anyway (the card's, for its
 * sums) keeps its members in that log, tagged `#<letter of their kind>` (a transaction's member
 * starts with a merchant id: letters, digits, `._-`): written in the log's ZADD, counted from the
 * log's read, with no key, write, expiry or count per window of its own. Not when the entity is
 * spread: a member and a transaction land in different sub-identities.
 */
export function sharesLog(c: DistinctCounter): boolean {
  return IN_READ_LOG.has(c) && spreadOf(c.entity) === 1;
}
/** The tag of the distinct members of kind `of` a log keeps (sharesLog): `#` and the kind's letter. */
export const inLogTag = (of: EntityKind) => `#${KIND_LETTER[of]}`;
/** A distinct member as a log keeps it (sharesLog). */
export const inLogMember = (of: EntityKind, member: string) => `${inLogTag(of)}${member}`;
/** The tag of a member a log keeps (inLogMember). */
export const tagOfInLogMember = (member: string) => member.slice(0, 2);
/** Whether a log's member is a transaction (`ref|cents|small`), not a distinct member it keeps: refs start with a merchant id, never `#`. */
export const isTransactionMember = (member: string) => !member.startsWith('#');
/** Every slot operation's static part, by name. */
export const SLOT_DEFINITIONS: Readonly<Record<string, SlotDefinition>> = Object.freeze(
  Object.fromEntries([
    ...LOG_COUNTERS.map((c) => {
      const counts = msOf(c.counts),
        amounts = msOf(c.amounts),
        smalls = msOf(c.smallAmounts);
      return [
        `log:${c.entity}`,
        {
          op: 'log',
          retentionMs: LOG_RETENTION_MS[c.entity],
          cap: Math.ceil(c.cap / (SPREAD[c.entity] ?? 1)),
          counts,
          amounts,
          smalls,
        },
      ];
    }),
    ...DISTINCT_COUNTERS.map((c) => [
      `distinct:${c.entity}:${c.of}`,
      { op: 'distinct', retentionMs: maxOfWindows(msOf(c.windows)), windows: msOf(c.windows) },
    ]),
    ...OUTCOME_COUNTERS.flatMap((c) =>
      c.kinds.map((k) => [`count:${c.entity}:${k}`, { op: 'count', windows: msOf(c.windows) }]),
    ),
    ...DELAYED_COUNTERS.map((c) => [
      `delayed:${c.entity}`,
      {
        op: 'delayed',
        retentionMs: WINDOWS[c.delay] + maxOfWindows(msOf(c.windows)),
        cap: Math.ceil(c.cap / (SPREAD[c.entity] ?? 1)),
        delayMs: WINDOWS[c.delay],
        windows: msOf(c.windows),
      },
    ]),
    ['since', { op: 'since', horizonMs: LOG_RETENTION_MS.card }],
    ['exists', { op: 'exists' }],
  ]) as Record<string, SlotDefinition>,
);

/** The operations on one identity's keys: one atomic script per group (one slot of a cluster). */
export interface SlotGroup {
  ops: SlotOp[];
}

export interface CounterPlan {
  marker: string;
  response: string;
  payloadHash: string;
  at: number;
  /** The transaction's reference (merchant:transaction): the member it leaves in logs. */
  ref: string;
  /** `cents|small`: the rest of its log member (kept on the marker: a retry re-records the same member). */
  tail: string;
  /** The reading kept for a retry until the response is stored (StoreKeys.kept). */
  kept: string;
  /** The primary identities a later outcome reaches (and the card), kept on the transaction marker. */
  entities: Partial<Record<EntityKind, string>>;
  groups: SlotGroup[];
  /** The features of the reading's numbers, in order: each counter's block (its names, in order). */
  features: FeatureBlock[];
  /**
   * The shape of what the plan returns (counter definitions, groups, watchlist slots, list
   * groups): a reading kept for a retry is reused only by a plan of the same shape.
   */
  layout: string;
  /** Watchlist lookup: entry slots; `out` of the "uses since listed" sum. */
  watch?: { slots: { bucket: string; field: Buffer }[]; out: number };
  /** List lookup; `out` of its first flag (one per negative kind, then the allow flag). */
  lists?: ListLookup & { out: number };
  /** Length of the reading: features, then uses since listed, then list flags. */
  size: number;
}

/**
 * A transaction's member in an identity's log: `ref|cents|small` (reference, amount in reference
 * cents, 1 when a small amount). Unique per transaction, so recording it twice changes nothing;
 * the sums read it back. The one encoder and parser; counters.lua mirrors them (the contract
 * tests hold the two stores to the same readings).
 */
export const logTail = (cents: number, small: boolean) => `${cents}|${small ? 1 : 0}`;
export const logMember = (ref: string, tail: string) => `${ref}|${tail}`;
export function parseLogMember(member: string): { cents: number; small: boolean } {
  const bar = member.lastIndexOf('|', member.length - 3);
  return { cents: Number(member.slice(bar + 1, member.length - 2)), small: member.endsWith('|1') };
}

/**
 * How long a transaction's marker lives by default (LEAKGUARD_MARKER_RETENTION_DAYS): 35 days, longer
 * than the longest window, so that replays never recount and outcomes reach its entities that long.
 */
export const MARKER_TTL_MS = WINDOWS['30d'] + 5 * 86_400_000;
/**
 * How long a stored response lives by default (LEAKGUARD_RESPONSE_RETENTION_HOURS): a day. Within
 * it an identical retry gets the same answer; after it, an answer read again from the counters,
 * which still count the transaction once (its marker lives on).
 */
export const RESPONSE_TTL_MS = 86_400_000;

/** How long the stores keep a scored transaction's marker and its stored response (and the reading kept until then). */
export interface Retention {
  markerTtlMs: number;
  responseTtlMs: number;
}
export const retentionOf = (options: Partial<Retention>): Retention => ({
  markerTtlMs: options.markerTtlMs ?? MARKER_TTL_MS,
  responseTtlMs: options.responseTtlMs ?? RESPONSE_TTL_MS,
});
const maxOf = (ws: number[]) => Math.max(0, ...ws);
const ms = (ws: readonly Window[] | undefined) => (ws ?? []).map((w) => WINDOWS[w]);

export function primaryIdentities(entities: TransactionFacts['entities']): Partial<Record<EntityKind, string>> {
  const out: Partial<Record<EntityKind, string>> = {};
  for (const kind in entities) {
    const first = entities[kind as EntityKind]?.[0];
    if (first) out[kind as EntityKind] = first;
  }
  return out;
}

/**
 * The entity kinds a transaction's marker keeps: those a later outcome reaches, and the card (its
 * history). Not the merchant: its id is the marker's key's, and every reader of a marker is given
 * it (outcomePlan). Kept, it was the one marker value of unbounded length: a merchant id of 15
 * characters or more moved a marker to the next allocation size, 344 → 408 bytes (MEMORY USAGE).
 */
export const MARKED_KINDS: ReadonlySet<EntityKind> = new Set<EntityKind>(
  (['card', ...OUTCOME_COUNTERS.map((c) => c.entity), ...DELAYED_COUNTERS.map((c) => c.entity)] as EntityKind[]).filter(
    (kind) => kind !== 'merchant',
  ),
);
function markedIdentities(primary: Partial<Record<EntityKind, string>>): Partial<Record<EntityKind, string>> {
  const out: Partial<Record<EntityKind, string>> = {};
  for (const kind of MARKED_KINDS) if (primary[kind] !== undefined) out[kind] = primary[kind];
  return out;
}

/**
 * One counter's features, in the order of its numbers in a reading, each with what its number is
 * divided by: amounts travel in hundredths so that stores only add integers, features are in major
 * units. Made once per counter: a plan lists its counters' blocks, not their names one by one.
 */
export interface FeatureBlock {
  names: readonly string[];
  divisors: readonly number[];
}
const featureBlock = (names: readonly string[]): FeatureBlock => ({
  names,
  divisors: names.map((n) => (/_amount_/.test(n) ? 100 : 1)),
});

/** What a plan takes of each counter, made once: its definition (name and value) and its features. */
const slotOf = <K extends SlotDefinition['op'], C>(c: C, def: string, names: string[]) => ({
  c,
  def,
  d: SLOT_DEFINITIONS[def] as Extract<SlotDefinition, { op: K }>,
  features: featureBlock(names),
});
const LOG_SLOTS = LOG_COUNTERS.map((c) => slotOf<'log', LogCounter>(c, `log:${c.entity}`, LOG_NAMES.get(c)!));
const DISTINCT_SLOTS = DISTINCT_COUNTERS.map((c) =>
  slotOf<'distinct', DistinctCounter>(c, `distinct:${c.entity}:${c.of}`, DISTINCT_NAMES.get(c)!),
);
const OUTCOME_SLOTS = OUTCOME_COUNTERS.flatMap((c) =>
  c.kinds.map((k) => ({
    ...slotOf<'count', OutcomeCounter>(c, `count:${c.entity}:${k}`, OUTCOME_NAMES.get(c)!.get(k)!),
    kind: k,
  })),
);
const SINCE = SLOT_DEFINITIONS.since as Extract<SlotDefinition, { op: 'since' }>;
const DELAYED_SLOTS = DELAYED_COUNTERS.map((c) =>
  slotOf<'delayed', DelayedCounter>(c, `delayed:${c.entity}`, DELAYED_NAMES.get(c)!),
);

// A plan's operations, one object literal each: the definition's fields copied one by one, not
// spread (a spread object keeps the copied fields out of line, one allocation more, and took 2-3x
// the time of these, measured; ~35 operations a scoring).
type Def<K extends SlotDefinition['op']> = Extract<SlotDefinition, { op: K }>;
type Op<K extends SlotOp['op']> = Extract<SlotOp, { op: K }>;
const logOp = (d: Def<'log'>, def: string, key: string, write: boolean, out: number): Op<'log'> => ({
  op: 'log',
  retentionMs: d.retentionMs,
  cap: d.cap,
  counts: d.counts,
  amounts: d.amounts,
  smalls: d.smalls,
  def,
  key,
  out,
  write,
  distinctMembers: [],
  formerMembers: [],
});
const distinctOp = (
  d: Def<'distinct'>,
  def: string,
  key: string,
  out: number,
  o: {
    write: boolean;
    member: string;
    union: boolean;
    inLog: boolean;
    aliases?: string[] | undefined;
    retire?: string[] | undefined;
  },
): Op<'distinct'> => ({
  op: 'distinct',
  retentionMs: d.retentionMs,
  windows: d.windows,
  def,
  key,
  out,
  write: o.write,
  member: o.member,
  union: o.union,
  inLog: o.inLog,
  aliases: o.aliases,
  retire: o.retire,
});

export function buildCounterPlan(facts: TransactionFacts, keys: StoreKeys): CounterPlan {
  const groups = new Map<string, SlotGroup>();
  const groupOfKey = (key: string) => {
    const g = keys.groupOf(key);
    let group = groups.get(g);
    if (!group) groups.set(g, (group = { ops: [] }));
    return group;
  };
  // Every key of one identity is in that identity's group (StoreKeys): looked up once per identity.
  const byIdentity = new Map<EntityKind, Map<string, SlotGroup>>();
  const groupOf = (kind: EntityKind, id: string) => {
    let ofKind = byIdentity.get(kind);
    if (!ofKind) byIdentity.set(kind, (ofKind = new Map()));
    let group = ofKind.get(id);
    if (!group) ofKind.set(id, (group = groupOfKey(keys.log(kind, id))));
    return group;
  };
  const features: FeatureBlock[] = [];
  /** How many numbers the features so far take: where the next counter's go. */
  let size = 0;
  const ref = `${facts.merchantId}:${facts.transactionId}`;
  const primary = primaryIdentities(facts.entities);
  /** Every (sub-)identity of an entity, with whether `value` is written there. */
  const each = (kind: EntityKind, ids: string[], value: string, fn: (id: string, write: boolean) => void) => {
    ids.forEach((id, i) => {
      const target = subIdentity(kind, id, value);
      for (const sub of subIdentities(kind, id)) fn(sub, i === 0 && sub === target);
    });
  };

  // Each entity's log operations, one per (sub-)identity in order: the distinct counters kept in
  // a log (never a spread one's: one per identity) add their members to it.
  const logOps: Partial<Record<EntityKind, Extract<SlotOp, { op: 'log' }>[]>> = {};
  for (const { c, def, d, features: block } of LOG_SLOTS) {
    const ids = facts.entities[c.entity];
    if (!ids?.length) continue;
    const out = size;
    const ops: Extract<SlotOp, { op: 'log' }>[] = (logOps[c.entity] = []);
    each(c.entity, ids, ref, (id, write) => {
      const op = logOp(d, def, keys.log(c.entity, id), write, out);
      ops.push(op);
      groupOf(c.entity, id).ops.push(op);
    });
    features.push(block);
    size += block.names.length;
  }
  for (const { c, def, d, features: block } of DISTINCT_SLOTS) {
    const ids = facts.entities[c.entity];
    const other = primary[c.of];
    if (!ids?.length || !other) continue;
    const out = size;
    // During key rotation the same entity has two identities: their members are unioned, and the
    // member's own other identities (the same card under the previous key) count as the member.
    // Those other forms are retired where the previous key wrote them (the counting entity's
    // identity under that key, or, for a merchant or BIN, the one sub-identity a form was written
    // to), so that a card seen again since counts once when another card is scored: a household's
    // two cards on one device read 2, not 3.
    const union = ids.length > 1;
    const others = facts.entities[c.of]!.length > 1 ? facts.entities[c.of]!.slice(1) : undefined;
    if (sharesLog(c)) {
      const member = inLogMember(c.of, other);
      const aliases = union ? others?.map((o) => inLogMember(c.of, o)) : undefined;
      logOps[c.entity]!.forEach((log, i) => {
        if (i === 0) {
          log.distinctMembers.push(member);
          for (const former of facts.formerIdentities?.[c.of] ?? [])
            if (former !== other)
              log.formerMembers.push({ of: log.distinctMembers.length - 1, member: inLogMember(c.of, former) });
        }
        const retire = i > 0 ? aliases : undefined;
        groupOf(c.entity, ids[i]!).ops.push(
          distinctOp(d, def, log.key, out, { write: false, member, union, inLog: true, aliases, retire }),
        );
      });
    } else {
      const aliases = union ? others : undefined;
      const formerSub = !union && others ? others.map((o) => subIdentity(c.entity, ids[0]!, o)) : undefined;
      each(c.entity, ids, other, (id, write) => {
        const retire = union ? (write ? undefined : others) : others?.filter((_, j) => formerSub![j] === id);
        groupOf(c.entity, id).ops.push(
          distinctOp(d, def, keys.distinct(c.entity, id, c.of), out, {
            write,
            member: other,
            union,
            inLog: false,
            aliases,
            retire: retire?.length ? retire : undefined,
          }),
        );
      });
    }
    features.push(block);
    size += block.names.length;
  }
  // "Uses since listed" reads the card's log: next to the log's other operations (a group's
  // operations on one key stay together, so that a store may run them key by key); its number
  // comes after the features (`out` set below).
  const sinceOps = facts.watchlist?.length
    ? (facts.entities.card ?? []).map((id) => {
        const op: Op<'since'> = {
          op: 'since',
          horizonMs: SINCE.horizonMs,
          def: 'since',
          key: keys.log('card', id),
          out: 0,
        };
        groupOf('card', id).ops.push(op);
        return op;
      })
    : [];
  for (const { c, kind, def, d, features: block } of OUTCOME_SLOTS) {
    const ids = facts.entities[c.entity];
    if (!ids?.length) continue;
    const out = size;
    for (const id of ids)
      for (const sub of subIdentities(c.entity, id))
        groupOf(c.entity, sub).ops.push({
          op: 'count',
          windows: d.windows,
          def,
          key: keys.outcomes(c.entity, sub, kind),
          out,
        });
    features.push(block);
    size += block.names.length;
  }
  for (const { c, def, d, features: block } of DELAYED_SLOTS) {
    const ids = facts.entities[c.entity];
    if (!ids?.length) continue;
    const out = size;
    each(c.entity, ids, ref, (id, write) =>
      groupOf(c.entity, id).ops.push({
        op: 'delayed',
        retentionMs: d.retentionMs,
        cap: d.cap,
        delayMs: d.delayMs,
        windows: d.windows,
        def,
        key: keys.delayed(c.entity, id),
        out,
        frauds: keys.frauds(c.entity, id),
        write,
      }),
    );
    features.push(block);
    size += block.names.length;
  }
  const counted = size;
  let watch: CounterPlan['watch'];
  if (facts.watchlist?.length) {
    watch = { slots: facts.watchlist, out: size++ };
    for (const op of sinceOps) op.out = watch.out;
  }
  let lists: CounterPlan['lists'];
  if (facts.lists) {
    lists = { ...facts.lists, out: size };
    for (const n of facts.lists.negative) {
      for (const key of n.keys) groupOfKey(key).ops.push({ op: 'exists', def: 'exists', key, out: size });
      size++;
    }
    for (const key of facts.lists.allow) groupOfKey(key).ops.push({ op: 'exists', def: 'exists', key, out: size });
    size++;
  }
  const grouped = [...groups.values()];
  return {
    marker: keys.marker(facts.merchantId, facts.transactionId),
    response: keys.response(facts.merchantId, facts.transactionId),
    kept: keys.kept(facts.merchantId, facts.transactionId),
    payloadHash: facts.payloadHash,
    at: facts.occurredAt,
    ref,
    tail: logTail(facts.amountCents, facts.small),
    entities: markedIdentities(primary),
    groups: grouped,
    features,
    layout: `${DEFINITIONS_TAG}.${counted}.${grouped.map((g) => g.ops.length).join('-')}.${facts.watchlist?.length ?? 0}.${facts.lists ? facts.lists.negative.length + 1 : 0}`,
    ...(watch ? { watch } : {}),
    ...(lists ? { lists } : {}),
    size,
  };
}

/** What a store's slot groups returned, as they return it (numbers as strings): kept on the marker for a retry. */
export interface RawReading {
  /** The watchlist entry found under each of the plan's slots, hex ('' when none). */
  entries: string[];
  /** Per slot group, the numbers of its operations in order, as text or numbers (a distinct union: row count, then member and last seen per row). */
  groups: (string | number)[][];
}

/**
 * The reading kept on a transaction's marker for a retry: entries joined by ',', then '|', then
 * each group's numbers joined by ',' and the groups by ';' (ids and hex hold none of these).
 * counters.lua encodeReading writes the same format inside Redis.
 */
export function encodeRawReading(raw: RawReading): string {
  return `${raw.entries.join(',')}|${raw.groups.map((g) => g.join(',')).join(';')}`;
}
export function parseRawReading(kept: string): RawReading {
  const bar = kept.indexOf('|');
  const entries = kept.slice(0, bar),
    groups = kept.slice(bar + 1);
  return {
    entries: entries === '' ? [] : entries.split(','),
    groups: groups.split(';').map((g) => (g === '' ? [] : g.split(','))),
  };
}

/** Adds a group's next n numbers (from got[i]) to values[out…]; returns where the group's numbers go on. */
function addNumbers(values: number[], out: number, n: number, got: readonly (string | number)[], i: number): number {
  for (let j = 0; j < n; j++) values[out + j]! += Number(got[i++] ?? 0);
  return i;
}

/** Combines what the slot groups returned into a reading, at counting time `t`. */
export function combineReading(plan: CounterPlan, raw: RawReading, t: number): Omit<StoreReading, 'status'> {
  const values = new Array<number>(plan.size).fill(0);
  // Distinct unions (key rotation): rare, so made only when one comes.
  let unions: Map<number, { windows: number[]; lastSeen: Map<string, number> }> | undefined;
  for (let g = 0; g < plan.groups.length; g++) {
    const got = raw.groups[g] ?? [];
    let i = 0;
    for (const op of plan.groups[g]!.ops) {
      switch (op.op) {
        case 'log':
          i = addNumbers(values, op.out, op.counts.length + op.amounts.length + op.smalls.length, got, i);
          break;
        case 'count':
          i = addNumbers(values, op.out, op.windows.length, got, i);
          break;
        case 'delayed':
          i = addNumbers(values, op.out, 2 * op.windows.length, got, i);
          break;
        case 'since':
        case 'exists':
          i = addNumbers(values, op.out, 1, got, i);
          break;
        case 'distinct':
          if (!op.union) i = addNumbers(values, op.out, op.windows.length, got, i);
          else {
            unions ??= new Map();
            let u = unions.get(op.out);
            if (!u) unions.set(op.out, (u = { windows: op.windows, lastSeen: new Map() }));
            const rows = Number(got[i++] ?? 0);
            for (let r = 0; r < rows; r++) {
              const kept = String(got[i++]),
                seen = Number(got[i++]);
              const member = op.aliases?.includes(kept) ? op.member : kept;
              if (!(u.lastSeen.get(member)! >= seen)) u.lastSeen.set(member, seen);
            }
          }
      }
    }
  }
  for (const [out, u] of unions ?? [])
    u.windows.forEach((w, j) => (values[out + j] = [...u.lastSeen.values()].filter((s) => t - s < w).length));
  const reading: Omit<StoreReading, 'status'> = { velocity: readingFrom(plan, values) };
  if (plan.watch)
    reading.watchlist = {
      entries: plan.watch.slots.map((_, j) => (raw.entries[j] ? Buffer.from(raw.entries[j], 'hex') : null)),
      usesSinceListed: values[plan.watch.out]!,
    };
  if (plan.lists) reading.lists = values.slice(plan.lists.out, plan.size).map((v) => v > 0);
  return reading;
}

/** Epoch seconds the first entry found was listed at (bytes 2–5 of the packed entry): "uses since listed" counts from there. */
export function firstListedSeconds(entries: (Buffer | null)[]): number | undefined {
  const first = entries.find((e) => e !== null);
  return first ? first.readUInt32BE(2) : undefined;
}

/** Every velocity feature at 0: a reading starts as a copy (one object copied, not ~80 properties added). */
const ZERO_READING: Readonly<VelocityReading> = Object.freeze(
  Object.fromEntries(VELOCITY_FEATURES.map((name) => [name, 0])),
);

/** Turns a plan's returned numbers into a full reading: absent entities read as zero. */
export function readingFrom(plan: CounterPlan, values: number[]): VelocityReading {
  const reading: VelocityReading = { ...ZERO_READING };
  let i = 0;
  for (const { names, divisors } of plan.features)
    for (let j = 0; j < names.length; j++, i++) reading[names[j]!] = (values[i] ?? 0) / divisors[j]!;
  return reading;
}

export interface OutcomePlan {
  /** The transaction's reference: the member every set gets. */
  ref: string;
  /** Outcome sets joined at the outcome's time (declines, chargebacks), and how long they keep members. */
  counted: string[];
  retentionMs: number;
  /** Fraud-label logs joined at the transaction's own time (the marker's `t`), their retention and cap. */
  labels: string[];
  labelRetentionMs: number;
  labelCap: number;
}

/** What a transaction's marker keeps for its outcomes (and the transaction archive after it). */
export interface MarkedTransaction {
  merchantId: string;
  transactionId: string;
  /** When it was counted, epoch ms: its fraud label joins the merchant's delayed windows there. */
  countedAt: number;
  /** The primary identities an outcome reaches, and the card (markedIdentities). */
  entities: Partial<Record<EntityKind, string>>;
  /**
   * Scored degraded (the velocity store unreachable) and counted nowhere: known from the archive
   * only. Its outcomes count against its entities, but it labels no fraud in the merchant's delayed
   * windows, whose transactions it is not among.
   */
  uncounted?: true;
}

/** The card and time a transaction's marker keeps (its entities, its counting time). */
export function markedTransaction(
  entities: Partial<Record<EntityKind, string>> | undefined,
  countedAt: string | null | undefined,
): { card: string; at: number } | undefined {
  if (!entities || !countedAt) return undefined;
  const card = entities.card;
  const at = Number(countedAt);
  return card && Number.isFinite(at) ? { card, at } : undefined;
}

/** The outcome plan: which outcome sets a reported outcome joins, and which fraud-label logs. */
export function outcomePlan(
  merchantId: string,
  transactionId: string,
  entities: Partial<Record<EntityKind, string>>,
  outcome: string,
  keys: StoreKeys,
  /** False for a transaction counted nowhere (MarkedTransaction.uncounted): no fraud label. */
  labelled = true,
): OutcomePlan {
  const ref = `${merchantId}:${transactionId}`;
  // The merchant's identity is its id (the marker does not keep it; an earlier version's did, the same).
  const identities: Partial<Record<EntityKind, string>> = { ...entities, merchant: merchantId };
  const plan: OutcomePlan = { ref, counted: [], retentionMs: 0, labels: [], labelRetentionMs: 0, labelCap: 0 };
  const counted: CountedOutcome | undefined = COUNTED_OUTCOME[outcome];
  if (counted) {
    for (const c of OUTCOME_COUNTERS) {
      const id = identities[c.entity];
      if (!id || !c.kinds.includes(counted)) continue;
      plan.counted.push(keys.outcomes(c.entity, subIdentity(c.entity, id, ref), counted));
      plan.retentionMs = Math.max(plan.retentionMs, ...ms(c.windows));
    }
  }
  if (labelled && FRAUD_LABEL_OUTCOMES.includes(outcome)) {
    for (const c of DELAYED_COUNTERS) {
      const id = identities[c.entity];
      if (!id) continue;
      // The sub-identity that logged the transaction (the same choice as buildCounterPlan's).
      plan.labels.push(keys.frauds(c.entity, subIdentity(c.entity, id, ref)));
      plan.labelRetentionMs = Math.max(plan.labelRetentionMs, WINDOWS[c.delay] + maxOf(ms(c.windows)));
      plan.labelCap = Math.max(plan.labelCap, Math.ceil(c.cap / spreadOf(c.entity)));
    }
  }
  return plan;
}

/**
 * Store port. recordAndRead claims the transaction's marker first, then records and reads every
 * slot group (docs/redis-cluster.md: the exactly-once protocol).
 */
export type ReadStatus = 'new' | 'replay' | 'pending' | 'conflict';
export interface StoreReading {
  /** new: counted now; replay: seen before with its response; pending: seen before, response not stored; conflict: same id, other payload. */
  status: ReadStatus;
  storedResponse?: string;
  /** pending: the time the transaction was counted at, whose reading this is (a retry may carry a new "now"). */
  countedAt?: number;
  /** Made afresh for each reading: the engine takes it over as the scoring's feature map (featureMap). */
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
  /**
   * The listing issuers whose BIN ranges hold the card, decided by the engine with the full number
   * (8-digit ranges need more digits than the hit keeps): who reads the hit and whose events count
   * it. Absent on hits recorded before it was (and from an engine given no ranges): those are
   * shown by their 6-digit BIN (hitMatches).
   */
  shownTo?: string[];
}
export interface VelocityStore {
  /** How this store names what it keeps: the plans built for it use these names. */
  readonly keys: StoreKeys;
  recordAndRead(plan: CounterPlan): Promise<StoreReading>;
  /**
   * A batch in one round trip per store node: every reading is the one recordAndRead would give
   * called for each plan in turn (a plan repeating an earlier one's transaction reads after it).
   */
  recordAndReadMany(plans: readonly CounterPlan[]): Promise<StoreReading[]>;
  /** Stores the response for retries and, once per transaction, the watchlist hit. */
  saveResponse(plan: CounterPlan, response: string, hit?: HitRecord): Promise<void>;
  /** Runs `issue`, whose store calls are all made at once (a batch's responses): they may leave together. */
  together?<T>(issue: () => T): T;
  /** Records a merchant's outcome once per kind; 'unknown' when the transaction was never scored here. */
  recordOutcome(
    merchantId: string,
    transactionId: string,
    outcome: string,
    at: number,
  ): Promise<'recorded' | 'duplicate' | 'unknown'>;
  /**
   * Joins an outcome's sets and fraud-label logs for a transaction known from elsewhere than its
   * marker (the archive, once the marker has gone): what recordOutcome does after finding the marker.
   * Safe to repeat: each set's member is the transaction.
   */
  joinOutcome(transaction: MarkedTransaction, outcome: string, at: number): Promise<void>;
  /**
   * Withdraws a recorded outcome (a reversed chargeback): the transaction leaves the outcome sets
   * and fraud-label logs `outcome` joined (leaveOutcome), then the marker notes `reversal` (its
   * `o:<reversal>` field; `o:<outcome>` stays: the history keeps that it happened, and the outcome
   * reported again is a duplicate). 'duplicate': withdrawn already; 'absent': `outcome` was never
   * recorded on the marker (nothing changed); 'unknown': no marker. Throws
   * WithdrawalBeforeOutcomeError, nothing changed, for a withdrawal dated before the outcome.
   */
  withdrawOutcome(
    merchantId: string,
    transactionId: string,
    outcome: string,
    reversal: string,
    at: number,
  ): Promise<'recorded' | 'duplicate' | 'absent' | 'unknown'>;
  /**
   * Takes the transaction out of the outcome sets and fraud-label logs joinOutcome put it in, for a
   * transaction known from its marker or the archive. Safe to repeat: removing a member that is not
   * there changes nothing.
   */
  leaveOutcome(transaction: MarkedTransaction, outcome: string): Promise<void>;
  /** A scored transaction's card (fingerprint) and counting time, from its marker; undefined when never scored here. */
  transactionOf(merchantId: string, transactionId: string): Promise<{ card: string; at: number } | undefined>;
  /**
   * The reference currency the counted amounts are in (a restart with another rate table must not
   * add amounts in two currencies together): records `currency` when none is recorded; 'same' when
   * it is the one recorded; 'replaced' (recorded now) when `replacing` names the one recorded (the
   * operator's LEAKGUARD_REFERENCE_CHANGE_FROM); else 'mismatch', nothing changed. `recorded`: the
   * one recorded before the call.
   */
  countingReference(currency: string, replacing?: string): Promise<CountingReference>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface CountingReference {
  result: 'recorded' | 'same' | 'replaced' | 'mismatch';
  recorded: string | undefined;
}

/**
 * The velocity store counts amounts in another reference currency than the rate table's: starting
 * would add amounts in two currencies in the same windows.
 */
export class CountingReferenceMismatch extends Error {
  constructor(recorded: string, reference: string, replacing: string | undefined) {
    super(
      `reference currency mismatch: the velocity counters hold amounts in ${recorded}, the rate table's reference is ${reference}` +
        (replacing ? ` (LEAKGUARD_REFERENCE_CHANGE_FROM names ${replacing}, not ${recorded})` : '') +
        `: counting on would add ${recorded} and ${reference} amounts together in the same windows (up to 30 days). ` +
        `Start with a rate table whose reference is ${recorded}; or, to change the reference (docs/currencies.md, ` +
        `"Changing the reference currency"), start on a velocity store without counters (an empty Redis), or set ` +
        `LEAKGUARD_REFERENCE_CHANGE_FROM=${recorded} to accept amount sums that mix both until the ${recorded} entries age out`,
    );
  }
}

/**
 * A withdrawal dated before the outcome it withdraws (a chargeback_reversed before its chargeback):
 * no such order of events happens, so the report is wrong (a date typed wrong, the wrong
 * transaction); refused (409, the field named), nothing changed.
 */
export class WithdrawalBeforeOutcomeError extends LeakguardError {
  constructor(reversal: string, outcome: string, outcomeAt: number) {
    super('OUTCOME_CONFLICT', `this ${reversal} is dated before the ${outcome} it reverses: nothing recorded`, {
      details: [
        {
          path: 'occurredAt',
          message: `must not be before the ${outcome} it reverses (which occurred at ${new Date(outcomeAt).toISOString()})`,
        },
      ],
    });
  }
}

/** Throws WithdrawalBeforeOutcomeError when `at` precedes the outcome's recorded time (a marker's field, an archive's note). */
export function checkWithdrawalOrder(reversal: string, outcome: string, at: number, outcomeAt: unknown): void {
  const recorded = Number(outcomeAt);
  if (Number.isFinite(recorded) && at < recorded) throw new WithdrawalBeforeOutcomeError(reversal, outcome, recorded);
}
