// Cases: what an analyst reviews. A flagged decision (anything but approve) becomes one case per
// (merchant, transaction). Pure domain: the model, its schemas and the CaseStore port.
import { z } from 'zod';
import type { FeatureValue } from '../core/features.ts';
import { DECISIONS, type Decision, type Reason, type ScoreRequest, type ScoreResponse } from '../core/schemas.ts';
import { mapStringsDeep, scrubAddress, scrubCardNumbers, scrubDeep } from '../core/scrub.ts';
import { LeakguardError, type LeakguardErrorOptions } from '../core/errors.ts';
import type { AuditInput } from './audit.ts';

export const CASE_STATUSES = ['open', 'in_review', 'fraud', 'legitimate', 'escalated'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];
/** Statuses still waiting for a decision. */
export const OPEN_STATUSES: readonly CaseStatus[] = ['open', 'in_review', 'escalated'];
export const CASE_ACTIONS = ['mark_fraud', 'mark_legitimate', 'escalate'] as const;
export type CaseAction = (typeof CASE_ACTIONS)[number];
export const LABELS = ['fraud', 'legitimate'] as const;
export type Label = (typeof LABELS)[number];
export const LINK_KINDS = ['card', 'device', 'ip', 'email', 'shipping'] as const;
export type LinkKind = (typeof LINK_KINDS)[number];
export const SORTS = ['risk', 'age', 'newest'] as const;
export type CaseSort = (typeof SORTS)[number];

type Address = NonNullable<ScoreRequest['shippingAddress']>;

/**
 * What an order says about its customer: kept for the analyst who must reach them, but only ever
 * stored encrypted (personal-data.ts), and erased once a closed case's retention is over.
 */
export interface PersonalData {
  customer?: { id?: string; email?: string; phone?: string };
  device?: { id?: string; ip?: string; userAgent?: string };
  billingAddress?: Address;
  shippingAddress?: Address;
}

/** The request fields that are personal data as a whole; of `customer`, all but `accountCreatedAt`. */
const PERSONAL_FIELDS = ['device', 'billingAddress', 'shippingAddress'] as const;
const CUSTOMER_KEPT = 'accountCreatedAt';

/**
 * The request as a case keeps it in clear: no PAN, no security code, no expiry; the card masked;
 * card numbers typed into free text masked; no personal data (they travel apart, encrypted).
 */
export type SanitisedRequest = Omit<ScoreRequest, 'card' | 'customer' | (typeof PERSONAL_FIELDS)[number]> & {
  card: { bin: string; last4: string; masked: string; cvvResult: string };
  customer?: { accountCreatedAt?: string };
};

/**
 * Takes the personal data out of a request, a fresh one or one an older version queued or stored
 * with them in clear. `personal` is null when there are none.
 */
export function splitPersonalData<T extends object>(request: T): { request: T; personal: PersonalData | null } {
  const rest = { ...request } as Record<string, unknown>;
  const personal: Record<string, unknown> = {};
  for (const field of PERSONAL_FIELDS) {
    if (rest[field] !== undefined && rest[field] !== null) personal[field] = rest[field];
    delete rest[field];
  }
  const customer = rest.customer;
  if (customer !== undefined) {
    const kept: Record<string, unknown> = {};
    const taken: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(customer ?? {})) (k === CUSTOMER_KEPT ? kept : taken)[k] = v;
    if (Object.keys(taken).length > 0) personal.customer = taken;
    if (Object.keys(kept).length > 0) rest.customer = kept;
    else delete rest.customer;
  }
  return { request: rest as T, personal: Object.keys(personal).length > 0 ? (personal as PersonalData) : null };
}

/** The request split in two: what a case keeps in clear, and the personal data it keeps encrypted. Both scrubbed of card numbers. */
export function sanitiseRequest(
  req: ScoreRequest,
  card: { bin: string; last4: string },
): { request: SanitisedRequest; personal: PersonalData | null } {
  const { card: raw, ...rest } = req;
  const scrubbed = scrubDeep(rest);
  // An address's lines are shown one under the other: scrubbed as that one text, a card split
  // across them ("4111 1111" / "1111 1111") is masked, and stored so.
  for (const k of ['billingAddress', 'shippingAddress'] as const) {
    const address = scrubbed[k];
    if (address) scrubbed[k] = scrubAddress(address);
  }
  const { request, personal } = splitPersonalData(scrubbed);
  return {
    request: {
      ...(request as Omit<SanitisedRequest, 'card'>),
      card: { bin: card.bin, last4: card.last4, masked: `${card.bin}******${card.last4}`, cvvResult: raw.cvvResult },
    },
    personal,
  };
}

/** A case's identity, (merchant, transaction), as one string: the case store's batches and the journal's lines key by it. */
export const caseIdentity = (merchantId: string, transactionId: string) => `${merchantId}\u0000${transactionId}`;

/**
 * Every string a flagged decision carries, scrubbed of card numbers (scrub.ts): applied where one
 * is built, where one is read back from a queue or journal (written by an older version), and
 * where a case is stored. The keyed card, pseudonyms and sealed personal data are ours and left
 * as they are.
 */
export function scrubFlagged(f: FlaggedDecision): FlaggedDecision {
  const { card, links, linkAliases, personal, ...rest } = f;
  return {
    ...mapStringsDeep(rest, storableScrubbed),
    card,
    links,
    ...(linkAliases !== undefined ? { linkAliases } : {}),
    ...(personal !== undefined ? { personal } : {}),
  };
}

/**
 * A string scrubbed of card numbers and made one PostgreSQL can store: a NUL (which its text and
 * jsonb refuse) and an unpaired surrogate become U+FFFD. The API makes free text plain on arrival;
 * a decision queued by an older version, or a string that is not free text, must not hold every
 * case behind it out of the store.
 */
const storableScrubbed = (s: string) => scrubCardNumbers(s).replaceAll('\u0000', '\ufffd').toWellFormed();

/** What the scoring path hands over: everything a case needs, already free of card data. */
export interface FlaggedDecision {
  merchantId: string;
  transactionId: string;
  flaggedAt: string;
  occurredAt: string;
  request: SanitisedRequest;
  response: ScoreResponse;
  card: { bin: string; last4: string; keyId: string; fingerprint: string };
  features: Record<string, FeatureValue>;
  /** Keyed pseudonyms (the engine's primary identities) for linking cases and negative lists. */
  links: Partial<Record<Exclude<LinkKind, 'card'>, string>>;
  /**
   * The card's and entities' other identities, `kind:identity` (the previous key's during a key
   * rotation, an address's pseudonym under its previous normalisation): cases link through them
   * too. Absent from decisions queued by versions before 2026-12-07.
   */
  linkAliases?: string[];
  /** Compromise events the card was listed in when it was scored (ce_N). */
  watchlistEvents: string[];
  /** The order's personal data, sealed (personal-data.ts: AES-256-GCM, bound to merchant and transaction); absent when it has none. */
  personal?: string;
}

export const flaggedDecisionSchema = z.object({
  merchantId: z.string().min(1).max(128),
  transactionId: z.string().min(1).max(64),
  flaggedAt: z.string(),
  occurredAt: z.string(),
  request: z.record(z.string(), z.unknown()),
  response: z
    .object({
      transactionId: z.string(),
      score: z.number().int().min(0).max(100),
      decision: z.enum(DECISIONS),
      reasons: z.array(z.object({ code: z.string(), message: z.string() })),
      degraded: z.boolean(),
    })
    .passthrough(),
  card: z.object({
    bin: z.string().regex(/^\d{6,8}$/),
    last4: z.string().regex(/^\d{4}$/),
    keyId: z.string(),
    fingerprint: z.string(),
  }),
  features: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])),
  links: z.object({
    device: z.string().optional(),
    ip: z.string().optional(),
    email: z.string().optional(),
    shipping: z.string().optional(),
  }),
  linkAliases: z
    .array(z.string().regex(/^(card|device|ip|email|shipping):[A-Za-z0-9_-]{1,128}$/))
    .max(16)
    .optional(),
  watchlistEvents: z.array(z.string()),
  personal: z.string().max(65_536).optional(),
});

export interface CaseRecord {
  id: number;
  merchantId: string;
  transactionId: string;
  status: CaseStatus;
  decision: Decision;
  score: number;
  reasons: Reason[];
  reasonCodes: string[];
  watchlistEvents: string[];
  amount: number;
  currency: string;
  channel: string;
  card: { bin: string; last4: string; keyId: string; fingerprint: string };
  links: Partial<Record<Exclude<LinkKind, 'card'>, string>>;
  transaction: SanitisedRequest;
  /** Sealed personal data (null when the order had none, or once erased) and the erasure, if any. */
  personalData: { sealed: string | null; erasedAt: string | null; retentionDays: number | null };
  features: Record<string, FeatureValue>;
  degraded: boolean;
  assignee: string | null;
  occurredAt: string;
  flaggedAt: string;
  createdAt: string;
  updatedAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
}

export interface CaseEvent {
  id: number;
  caseId: number;
  at: string;
  actor: string;
  kind: 'created' | 'assigned' | 'status' | 'note';
  detail: Record<string, unknown>;
}

/** How many linked cases a case page shows: the strongest links first (LinkedCases.total says how many there are). */
export const LINKED_CASES_SHOWN = 50;

/** Cases linked to one, strongest link first (card, device, email, IP, shipping), and how many there are in all. */
export interface LinkedCases {
  cases: LinkedCase[];
  total: number;
}

export interface LinkedCase {
  id: number;
  merchantId: string;
  transactionId: string;
  status: CaseStatus;
  decision: Decision;
  score: number;
  createdAt: string;
  via: LinkKind[];
}

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    // eslint-disable-next-line no-control-regex -- refusing control characters is the point
    .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters')
    .optional()
    .transform((v) => (v ? v : undefined));
/**
 * A date PostgreSQL takes: as its calendar has it (Date.parse rolls 2026-02-31 over to March 3,
 * which PostgreSQL refuses: the query failed with a 500), from the year 1.
 */
function isCalendarDate(v: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.exec(v);
  if (!m || Number.isNaN(Date.parse(v))) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  return year >= 1 && calendar.getUTCMonth() === month - 1 && calendar.getUTCDate() === day;
}
const dateInput = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v ? v : undefined))
  .refine((v) => v === undefined || isCalendarDate(v), 'must be a date (YYYY-MM-DD)');
const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);

/**
 * The deepest row a queue page may start at: OFFSET reads and drops every row before it, and on the
 * embedded PGlite that runs on the engine's thread (a page at OFFSET 20M froze scoring for seconds).
 */
export const MAX_QUEUE_ROWS = 10_000;

/** The deepest page of `pageSize` the queue pages to: its first row is within MAX_QUEUE_ROWS. */
export const deepestPage = (pageSize: number) => Math.max(1, Math.ceil(MAX_QUEUE_ROWS / pageSize));

/**
 * The page a list answers: the one asked for, or the last one when it asked past the end (a page
 * number kept after the last cases were decided), or the deepest one when it asked past MAX_QUEUE_ROWS.
 */
export function servedPage(page: number, pageSize: number, total: number): number {
  return Math.min(page, Math.max(1, Math.ceil(total / pageSize)), deepestPage(pageSize));
}

/** Queue filters as they arrive from a query string: every value is validated, none reaches SQL text. */
export const caseQuerySchema = z.object({
  merchant: optionalText(128),
  /** The merchant's transaction id, exactly (a case found by the id a merchant quotes). */
  transactionId: optionalText(128),
  decision: z.preprocess(emptyToUndefined, z.enum(DECISIONS).optional()),
  reasonCode: optionalText(128),
  watchlistEvent: optionalText(128),
  from: dateInput,
  to: dateInput,
  status: z.preprocess(emptyToUndefined, z.enum([...CASE_STATUSES, 'pending', 'all']).default('pending')),
  assignee: optionalText(128),
  sort: z.preprocess(emptyToUndefined, z.enum(SORTS).default('risk')),
  page: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(100_000).default(1)),
  pageSize: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(200).default(25)),
});
export type CaseQuery = z.infer<typeof caseQuerySchema>;

/** The queue filters "Take next case" keeps (the queue page sends those on screen with it). */
export const TAKE_NEXT_FILTERS = ['merchant', 'decision', 'reasonCode', 'watchlistEvent', 'from', 'to'] as const;
export const takeNextFiltersSchema = caseQuerySchema.pick({
  merchant: true,
  decision: true,
  reasonCode: true,
  watchlistEvent: true,
  from: true,
  to: true,
});
export type TakeNextFilters = Partial<z.infer<typeof takeNextFiltersSchema>>;

export interface DashboardStats {
  flaggedByDay: { day: string; decision: Decision; count: number }[];
  /** Decisions in force (a decision a lead reversed is not counted), and the reversals on their own. */
  decisionsByDay: { day: string; label: Label | 'escalated' | 'reversed'; count: number }[];
  scoreBuckets: { bucket: number; count: number }[];
  eventHits: { eventId: string; count: number }[];
  topReasons: { code: string; count: number }[];
  statusCounts: { status: CaseStatus; count: number }[];
}

export interface DecisionResult {
  case: CaseRecord;
  label: Label | null;
  previousStatus: CaseStatus;
  /** The effects written with the decision (its outbox row), to apply now; null when it has none (an escalation). */
  effect: PendingEffect | null;
}

/**
 * What a final decision does to stores outside its transaction, written in the same transaction
 * (the outbox, decision_effects): the entities it lists and until when, the card it allow-lists,
 * the label the learners get (breach discovery, backtests).
 */
export interface DecisionEffects {
  caseId: number;
  merchantId: string;
  transactionId: string;
  label: Label;
  /** The card's fingerprint and the transaction's time (breach discovery's fraud label). */
  card: string;
  occurredAt: string;
  /** The case's entities put on the negative lists (a fraud decision), keyed by their pseudonyms. */
  negative: { kind: Exclude<LinkKind, 'card'>; identity: string }[];
  /** When those entries expire (ISO); null when there are none. */
  negativeUntil: string | null;
  /** The card allow-listed for its merchant (a legitimate decision that asked for it). */
  allow: { days: number; until: string } | null;
}

/**
 * One outbox row: its effects, applied at least once; applying them twice changes nothing twice.
 * `decided`: what a decision adds; `reversed`: what a reversal takes back (the same shape: the
 * entries it withdrew, the label it withdrew).
 */
export interface PendingEffect {
  id: number;
  caseId: number;
  kind: 'decided' | 'reversed';
  actor: string;
  effects: DecisionEffects;
  status: 'pending' | 'applied';
  attempts: number;
  lastError: string | null;
  createdAt: string;
}

/** A negative list (by entity kind) or the allow-list. */
export type ListName = Exclude<LinkKind, 'card'> | 'allow';

/**
 * Why a legitimate decision that asks for an allow-listing is refused while a fraud chargeback
 * stands on its transaction (docs/console.md, "Outcomes on a case"): nothing is decided.
 */
export const allowListRefusal = (id: number) =>
  `Case #${id}: a fraud chargeback is recorded for this transaction, so its card is not allow-listed. Nothing was decided. Mark it legitimate without allow-listing, or wait for the chargeback to be reversed.`;

/**
 * Why a lead reversed a decision, as a category: what the merchant's webhook is told
 * (case.decision_reversed). The lead's own words stay in the case and the audit log: free text may
 * hold anything, a card number typed in included, and is never sent out.
 */
export const REVERSAL_CATEGORIES = ['decision_error', 'new_evidence', 'merchant_request', 'other'] as const;
export type ReversalCategory = (typeof REVERSAL_CATEGORIES)[number];

export interface ReversalResult {
  case: CaseRecord;
  /** The decision reversed: the status it had, and its label. */
  previousStatus: 'fraud' | 'legitimate';
  /**
   * The assignee the case was taken from: disabled or not enrolled, they cannot work it, so it is
   * reopened unassigned (`open`), back in the queue, instead of `in_review` with them.
   */
  returnedFrom?: string;
}

/** What a decision writes besides the case, in its transaction. */
export interface DecisionOptions {
  /** An escalated case is decided by a lead only. */
  mayDecideEscalated?: boolean;
  /** A case assigned to someone else is decided by its assignee, or by a lead (this). */
  mayDecideOthers?: boolean;
  /** The audit entries the decision makes (case_decision, case_note): committed with it, or the decision is not. */
  audit?: (result: Omit<DecisionResult, 'effect'>) => AuditInput[];
  /** How long a fraud's entities stay listed (the outbox row is written only when this is given). */
  negativeListTtlMs?: number;
  /** A legitimate decision allow-lists the card for its merchant this many days (0: not). */
  allowListDays?: number;
  /** How long the engine applying the effects right after the commit holds them before the worker may. */
  leaseMs?: number;
}

export interface LabelledCase {
  caseId: number;
  merchantId: string;
  transactionId: string;
  label: Label;
  decidedBy: string;
  decidedAt: string;
  occurredAt: string;
  score: number;
  decision: Decision;
  reasonCodes: string[];
  amount: number;
  currency: string;
  channel: string;
  cardBin: string;
  features: Record<string, FeatureValue>;
}

/** One outcome recorded for a case's transaction: its kind as recorded (core/chargebacks.ts) and when it happened. */
export interface CaseOutcome {
  outcome: string;
  at: string;
}

/** An outcome the engine recorded, on its way to the case database (outcomes.ts). */
export interface OutcomeNote {
  merchantId: string;
  transactionId: string;
  outcome: string;
  /** When it happened, epoch ms. */
  at: number;
}

export class CaseConflict extends LeakguardError {
  constructor(message: string, options?: LeakguardErrorOptions) {
    super('CASE_CONFLICT', message, options);
  }
}
export class CaseNotFound extends LeakguardError {
  constructor(message: string, options?: LeakguardErrorOptions) {
    super('CASE_NOT_FOUND', message, options);
  }
}
/** The case is escalated and the one deciding is not a lead: checked inside the decision's transaction. */
export class CaseForbidden extends LeakguardError {
  constructor(message: string, options?: LeakguardErrorOptions) {
    super('CASE_FORBIDDEN', message, options);
  }
}

/** The case store port. One implementation (PostgreSQL) behind two drivers. */
export interface CaseStore {
  /** Idempotent per (merchant, transaction): a second call returns the first case. */
  createFromFlagged(flagged: FlaggedDecision): Promise<{ id: number; created: boolean }>;
  /** The same for a batch, in one transaction; answers in the batch's order (a transaction twice: created once). */
  createManyFromFlagged(batch: readonly FlaggedDecision[]): Promise<{ id: number; created: boolean }[]>;
  get(id: number): Promise<CaseRecord | undefined>;
  getByTransaction(merchantId: string, transactionId: string): Promise<CaseRecord | undefined>;
  /**
   * One page of cases and how many match. `page` is the page answered (servedPage): past the end the
   * last one, past MAX_QUEUE_ROWS the deepest one; never an OFFSET beyond MAX_QUEUE_ROWS.
   */
  list(query: CaseQuery): Promise<{ items: CaseRecord[]; total: number; page: number }>;
  /**
   * Assigns the highest-risk, oldest unassigned open case to `username` (skipping locked rows). For
   * a `lead`, an escalated case not held by an active lead comes first.
   */
  /** The next case to work: `filters`, the queue's filters on screen, narrow it (status and assignee are take-next's own). */
  takeNext(username: string, options?: { lead?: boolean; filters?: TakeNextFilters }): Promise<CaseRecord | undefined>;
  /**
   * Assigns an open case to `username`. Without `lead`, an escalated case or one assigned to someone
   * else is refused (CaseForbidden): a lead decides escalated cases and hands out others' work. Only
   * a lead assigns to someone other than `actor`, and only to an active (enabled, enrolled) console
   * user (else CaseConflict), checked under a lock a disable waits for.
   */
  assign(id: number, username: string, actor: string, options?: { lead?: boolean }): Promise<CaseRecord>;
  /** Returns an assigned open case to the queue (in review: open again; escalated stays escalated). */
  unassign(id: number, actor: string): Promise<CaseRecord>;
  /** Returns every open case assigned to `username` to the queue (a disabled user's); answers them. */
  releaseAssigned(username: string, actor: string): Promise<CaseRecord[]>;
  /**
   * Applies an action; a final decision stores a label in the same transaction. An escalated case
   * is decided only with `mayDecideEscalated` (a lead): the status is read under the row lock, so an
   * escalation that lands between a page view and the decision is not overridden. A case assigned
   * to someone other than `actor` is decided only with `mayDecideOthers` (a lead), read under the
   * same lock.
   */
  decide(
    id: number,
    action: CaseAction,
    actor: string,
    note?: string,
    options?: DecisionOptions,
  ): Promise<DecisionResult>;
  /**
   * Claims effects due (pending, their next attempt passed), holding each for `leaseMs` so that no
   * other engine applies it meanwhile (rows others hold are skipped).
   */
  claimEffects(limit: number, leaseMs: number): Promise<PendingEffect[]>;
  /** Marks an effect applied and appends its audit entries, in one transaction; false when it was applied already. */
  effectApplied(id: number, audit: AuditInput[]): Promise<boolean>;
  /** Records a failed attempt; the next one is due in `retryInMs`. */
  effectFailed(id: number, error: string, retryInMs: number): Promise<void>;
  /**
   * Reverses a fraud or legitimate decision (a lead's correction, with its reason): the case is
   * reopened (in_review when it has an active assignee; else open, unassigned: an assignee disabled
   * or not enrolled since is taken off it, `returnedFrom`), its label withdrawn, the list entries
   * the decision added withdrawn (not another decision's entries for the same entity), the audit
   * entries (`audit`) appended, and the outbox row that takes them out of Redis and the learners
   * written, all in one transaction. Refused (CaseConflict) for a case that is not decided.
   */
  reverse(
    id: number,
    actor: string,
    reason: string,
    options?: { audit?: (result: ReversalResult) => AuditInput[]; leaseMs?: number; category?: ReversalCategory },
  ): Promise<ReversalResult & { effect: PendingEffect }>;
  /** The entries of a list for one entity still in force (not withdrawn, not expired), furthest expiry first. */
  liveListEntries(
    list: ListName,
    merchantId: string,
    identity: string,
  ): Promise<{ caseId: number; expiresAt: string }[]>;
  /** A case's latest effect, or undefined. */
  latestEffect(caseId: number): Promise<PendingEffect | undefined>;
  /** How many effects wait, and the age of the oldest (seconds; 0 when none). */
  pendingEffects(): Promise<{ count: number; oldestAgeSeconds: number }>;
  addNote(id: number, actor: string, text: string): Promise<CaseEvent>;
  history(id: number): Promise<CaseEvent[]>;
  linked(id: number, limit?: number): Promise<LinkedCases>;
  stats(sinceDays: number, now?: Date): Promise<DashboardStats>;
  /** Labelled cases, their labels in force (a reversed decision's withdrawn label is left out). */
  labelledCases(since?: string): Promise<LabelledCase[]>;
  /** Labels not published yet, and labels withdrawn since they were (`withdrawnAt`: publish the withdrawal). */
  unpublishedLabels(limit: number): Promise<(LabelledCase & { labelId: number; withdrawnAt: string | null })[]>;
  /** How many labels wait to be published, and how long the oldest has (0 when none). */
  unpublishedLabelStats(): Promise<{ count: number; oldestAgeSeconds: number }>;
  /** Marks labels published as they were read (unpublishedLabels): one withdrawn since stays to publish. */
  markLabelsPublished(labels: { labelId: number; withdrawnAt: string | null }[]): Promise<void>;
  /**
   * Takes the label outbox for `owner`, or renews it, for `leaseMs`: whether it holds it now. One
   * engine publishes at a time (each label once, a withdrawal after its label); one that stops
   * holding it loses it when the lease runs out.
   */
  holdLabelOutbox(owner: string, leaseMs: number): Promise<boolean>;
  /** Gives the label outbox up, if `owner` holds it. */
  releaseLabelOutbox(owner: string): Promise<void>;
  /**
   * Erases the personal data of every case past its retention, whatever its status: a closed one
   * (fraud, legitimate) decided before `before`, any other created before it. The sealed value is
   * nulled and the erasure recorded with `retentionDays` (on a case without personal data too: its
   * notes go next). Cases stay as they are otherwise (an open one stays open). Returns how many.
   */
  erasePersonalData(before: Date, retentionDays: number): Promise<number>;
  /**
   * Erases the text of notes written before `writtenBefore` on cases whose personal data are erased
   * (free text: a name, an address, a phone number typed by an analyst); the note stays in the
   * history as erased. Returns how many.
   */
  eraseNotes(writtenBefore: Date, retentionDays: number): Promise<number>;
  /**
   * Notes outcomes the engine recorded (outcomes.ts): once per (merchant, transaction, kind), the
   * first time kept. Kinds outside NOTED_WITHOUT_CASE only for a transaction that has a case.
   */
  noteOutcomes(notes: readonly OutcomeNote[]): Promise<void>;
  /**
   * The outcomes recorded for a transaction, oldest first: those noted in the case database, and
   * those the transaction archive noted on its entry (one a lost note would otherwise hide).
   */
  outcomesOf(merchantId: string, transactionId: string): Promise<CaseOutcome[]>;
  /** The same for a page of cases, by case id (cases without any are absent). */
  outcomesOfCases(ids: readonly number[]): Promise<Map<number, CaseOutcome[]>>;
  /** Deletes outcomes noted before `notedBefore` for transactions that never got a case; returns how many. */
  pruneOutcomes(notedBefore: Date): Promise<number>;
  /** Seals personal data an older version stored in clear in `transaction`; returns how many cases it sealed. */
  sealPersonalDataInClear(): Promise<number>;
  count(): Promise<number>;
}
