// Card histories for breach discovery: where each card was used, and which cards turned
// fraudulent. Kept apart from the velocity counters: written off the scoring path in batches
// (recorder.ts), read only by the scan (scanner.ts). Keyed by card fingerprint, never a PAN.
import { createHash } from 'node:crypto';
import type { CardVisit } from '../core/cpp.ts';

const DAY_MS = 86_400_000;

/** One scored transaction as the histories keep it. */
export interface VisitRecord {
  /** The card's fingerprint under the primary key. */
  card: string;
  /** Its BIN (6 or 8 digits): what tells an issuer that an exposed card is one of its own. */
  bin: string;
  merchantId: string;
  /** Epoch ms, the transaction's own time (occurredAt). */
  at: number;
}

/**
 * Where a fraud label comes from, and how far it can be trusted. A chargeback is the issuer's
 * word; an analyst's fraud decision nearly as good; two arrive within minutes of the first fraud,
 * but some are wrong: the engine's own strongest decisions (a card caught testing at many
 * merchants) and a failed 3-D Secure step-up (whoever holds stolen card data cannot answer the
 * cardholder's bank; a genuine customer who abandons the challenge is labelled too).
 */
export const FRAUD_SOURCES = {
  chargeback: 1,
  analyst: 0.9,
  engine: 0.5,
  challenge: 0.5,
} as const;
export type FraudSource = keyof typeof FRAUD_SOURCES;

export interface FraudLabel {
  card: string;
  /** Epoch ms of the fraudulent transaction (its own time, not the label's arrival). */
  at: number;
  source: FraudSource;
  /** Where the fraud happened: a merchant where a card was defrauded is not where it leaked. */
  merchantId?: string;
  /**
   * A failed step-up's: the merchants whose suspected breach listed the card when it failed (their
   * suspicion asked for the challenge). The label is no evidence against them (cpp.ts notEvidenceFor).
   */
  askedBy?: readonly string[];
  /**
   * A label that can be taken back (WITHDRAWABLE_SOURCES: a chargeback, an analyst's decision): its
   * transaction (transactionKey). Kept apart from the same card's other labels of that source,
   * merchant and day, so that a withdrawal takes back its own label only.
   */
  transaction?: string;
}

/**
 * The sources a label of which can be withdrawn: a chargeback (by `chargeback_reversed`) and an
 * analyst's fraud decision (by a lead's reversal). Their labels are kept per transaction; the
 * others, never withdrawn, once per day (a cash-out's many declines cost a few entries).
 */
export const WITHDRAWABLE_SOURCES: ReadonlySet<FraudSource> = new Set(['chargeback', 'analyst']);

/**
 * A transaction as a withdrawable label names it: 12 characters of base64url (72 bits of SHA-256
 * of the scoring merchant and the transaction id): short, no space, and no transaction id in Redis.
 */
export const transactionKey = (merchantId: string, transactionId: string) =>
  createHash('sha256').update(`${merchantId}\n${transactionId}`).digest('base64url').slice(0, 12);

/** A label as the stores give it back to fraudEpisode. */
export interface StoredLabel {
  at: number;
  weight: number;
  merchantId?: string | undefined;
  askedBy?: readonly string[] | undefined;
}

export interface FraudulentCardRecord {
  card: string;
  /** The first fraud of its latest episode (see fraudEpisode). */
  firstFraudAt: number;
  /** The most trusted source's weight in that episode. */
  weight: number;
  /** The merchants where that episode's frauds happened (absent when none was told). */
  fraudMerchants?: string[];
  /**
   * The merchants of its earlier episodes' frauds, each with the start of the first episode that
   * defrauded the card there (absent when none): a visit there from then on was a fraudster's, not
   * the holder's. A visit before it was the holder's own and counts.
   */
  earlierFrauds?: EarlierFraud[];
  /** The merchants whose own suspicion asked for every label of that episode (absent when none). */
  notEvidenceFor?: string[];
}

export interface EarlierFraud {
  merchantId: string;
  /** Epoch ms: the start of the earliest episode with a fraud at that merchant. */
  since: number;
}

/** A fraudulent card's latest episode and its visits. */
export interface FraudulentCardVisits {
  record: FraudulentCardRecord;
  visits: CardVisit[];
}

/** Cards whose labels and visits a store reads at once for fraudsWithVisitsSince. */
export const FRAUD_PAGE = 4096;

/** A suspected merchant's exposed cards handed over at once by merchantCards: a watchlist listing's batch. */
export const EXPOSED_PAGE = 10_000;

/**
 * A card defrauded again weeks after its last fraud was, as a rule, stolen again (a card leaked by
 * two breaches, or never reissued): its new fraud starts a new episode, and the scan asks where the
 * card was before *that*. Frauds closer together than this are one episode (a cash-out, the
 * chargebacks of its transactions).
 */
export const EPISODE_GAP_MS = 14 * DAY_MS;

/**
 * The stores keep a card's labels once per source, merchant and day (at the earliest time in that
 * day), and a withdrawable one once per transaction too: a cash-out's many transactions cost a few
 * entries, and a fraud at the same merchant weeks later is still seen as the new episode it is.
 */
export const labelDay = (at: number) => Math.floor(at / DAY_MS);

/**
 * A label as the stores keep it, one per card, source, day, merchant and asking suspicions, or
 * transaction for a withdrawable source: its fields joined by spaces (ids hold none), an empty
 * merchant field when none was told, then the merchants whose suspicion asked for a failed step-up,
 * or the withdrawable label's transaction key (a version that reads three fields ignores them; one
 * that reads asking merchants reads the key as a merchant no suspicion names: no effect).
 */
export const labelMember = (l: FraudLabel, day: number) =>
  [
    l.source,
    day,
    l.merchantId ?? '',
    ...(WITHDRAWABLE_SOURCES.has(l.source) ? (l.transaction ? [l.transaction] : []) : (l.askedBy ?? [])),
  ].join(' ');

/**
 * The member a version before transaction keys wrote for a withdrawable label: it stands for the
 * card's labels of that source, merchant and day, and goes whole when one of them is withdrawn.
 */
export const dayLabelMember = (l: FraudLabel, day: number) => labelMember({ ...l, transaction: undefined }, day);

/** A stored label's fields (labelMember), or undefined for a source this version does not know (written by a newer one). */
export function parseLabelMember(member: string, at: number): StoredLabel | undefined {
  const [source, , merchantId, ...rest] = member.split(' ');
  if (!Object.hasOwn(FRAUD_SOURCES, source!)) return undefined;
  // A withdrawable label's trailing field is its transaction: the scan has no use for it.
  const askedBy = WITHDRAWABLE_SOURCES.has(source as FraudSource) ? [] : rest;
  return {
    at,
    weight: FRAUD_SOURCES[source as FraudSource],
    ...(merchantId ? { merchantId } : {}),
    ...(askedBy.length ? { askedBy } : {}),
  };
}

/** The latest episode of a card's fraud labels (each: time, source weight, merchant). */
export function fraudEpisode(card: string, labels: readonly StoredLabel[]): FraudulentCardRecord {
  const sorted = [...labels].sort((a, b) => a.at - b.at);
  let start = 0;
  const earlier = new Map<string, number>();
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i]!.at - sorted[i - 1]!.at > EPISODE_GAP_MS) {
      for (const l of sorted.slice(start, i))
        if (l.merchantId && !earlier.has(l.merchantId)) earlier.set(l.merchantId, sorted[start]!.at);
      start = i;
    }
  const episode = sorted.slice(start);
  const merchants = [...new Set(episode.flatMap((l) => (l.merchantId ? [l.merchantId] : [])))].sort();
  // A merchant defrauded in this episode too is already left out whole (fraudMerchants).
  const earlierFrauds = [...earlier]
    .filter(([m]) => !merchants.includes(m))
    .map(([merchantId, since]) => ({ merchantId, since }))
    .sort((a, b) => (a.merchantId < b.merchantId ? -1 : a.merchantId > b.merchantId ? 1 : 0));
  // A merchant whose suspicion asked for every label of the episode: none of them is evidence against it.
  const notEvidenceFor = (episode[0]!.askedBy ?? []).filter((m) => episode.every((l) => l.askedBy?.includes(m)));
  return {
    card,
    firstFraudAt: episode[0]!.at,
    weight: Math.max(...episode.map((l) => l.weight)),
    ...(merchants.length ? { fraudMerchants: merchants } : {}),
    ...(earlierFrauds.length ? { earlierFrauds } : {}),
    ...(notEvidenceFor.length ? { notEvidenceFor: [...new Set(notEvidenceFor)].sort() } : {}),
  };
}

/**
 * What both stores answer `fraudsSince` with: each card's latest episode among its labels at or
 * after `floor` (the retention before the newest label), kept when it began at or after `since`.
 */
export function episodesSince(
  labelsByCard: Iterable<[string, Iterable<StoredLabel>]>,
  floor: number,
  since: number,
): FraudulentCardRecord[] {
  const episodes: FraudulentCardRecord[] = [];
  for (const [card, all] of labelsByCard) {
    const labels = [...all].filter((l) => l.at >= floor);
    if (labels.length === 0) continue;
    const episode = fraudEpisode(card, labels);
    if (episode.firstFraudAt >= since) episodes.push(episode);
  }
  return episodes;
}

/** A scan's budget: at most `maxCards` labelled cards held, of the label days up to `until` (epoch ms). */
export interface ScanBudget {
  maxCards: number;
  until: number;
}
/** No budget: every labelled card of the window, whatever its time. */
export const NO_SCAN_BUDGET: ScanBudget = { maxCards: Infinity, until: Infinity };

/** What a scan's read covered: from when (epoch ms), and the labelled cards it counted against its budget. */
export interface ScanCoverage {
  coveredSince: number;
  labelledCards: number;
}

/**
 * A scan holds every labelled card it reads (~1 KB each, BreachScanner), so within its budget it
 * reads the label days from the newest back for as long as their distinct cards fit in
 * `maxCards`, and of the day that does not fit, its newest cards that do. `days`: the label days
 * from `since`'s to `until`'s (the scan's time), oldest first; `cardsOn`: a day's labelled cards,
 * each at its earliest label that day, which is when its episode began at the latest (unless the
 * labels' `floor` falls on that day: episodes ignore the labels before it). Returns the cards read,
 * oldest day first and each day's in its order (a scan's candidates are numbered in the order met:
 * an unbounded scan's cards and order are those of reading every day in turn), the time they
 * cover from (`since` when every card fit, else the time of the oldest card read of the day that
 * did not: the end of that day where the floor falls on it, or where no card of it fit), and the
 * cards counted against the budget.
 * A card first labelled before `since` on its day, or after `until` on its day, takes no room: its
 * episode began before the window or after the scan (read on a later day too, it keeps its place
 * in the order).
 */
export async function labelDaysWithin(
  window: { since: number; until: number; floor: number },
  days: readonly number[],
  cardsOn: (day: number) => Promise<Iterable<[card: string, at: number]>>,
  maxCards: number,
): Promise<{ cards: string[] } & ScanCoverage> {
  const { since, until, floor } = window;
  const held = new Set<string>();
  const read: string[][] = [];
  let coveredSince = since;
  for (let i = days.length - 1; i >= 0; i--) {
    const day = days[i]!;
    const exact = labelDay(floor) < day;
    const from = exact && day === labelDay(since) ? since : -Infinity;
    const to = day === labelDay(until) ? until : Infinity;
    const entries = [...(await cardsOn(day))];
    const times: number[] = [];
    for (const [card, at] of entries) if (at >= from && at <= to && !held.has(card)) times.push(at);
    let startsAt = from;
    const room = maxCards - held.size;
    if (times.length > room) {
      if (!exact || room === 0) {
        coveredSince = (day + 1) * DAY_MS;
        break;
      }
      // The newest that fit; a time more cards share than fit is left out whole.
      times.sort((a, b) => b - a);
      startsAt = times[room] === times[room - 1] ? times[room - 1]! + 1 : times[room - 1]!;
      coveredSince = startsAt;
    }
    const cards: string[] = [];
    for (const [card, at] of entries) {
      // A card comes once a day: held before means from a later day.
      const inside = at >= startsAt && at <= to;
      if (inside || held.has(card)) cards.push(card);
      if (inside) held.add(card);
    }
    read.push(cards);
    if (startsAt !== from) break;
  }
  const labelledCards = held.size;
  held.clear();
  const cards = new Set<string>();
  for (let i = read.length - 1; i >= 0; i--) for (const c of read[i]!) cards.add(c);
  return { cards: [...cards], coveredSince, labelledCards };
}

/** An exposed card: what listing it on a suspected event needs (its fingerprint's first 10 bytes locate its watchlist entry). */
export interface ExposedCard {
  /** base64url of the fingerprint's first 10 bytes. */
  slot: string;
  bin: string;
  /** Epoch ms of its last visit inside the asked period. */
  lastVisitAt: number;
}

export interface HistoryOptions {
  /** How long a visit is kept (default 120 days: a breach's cards are used for months). */
  retentionMs: number;
  /** At most this many merchants per card (those it used least recently go first). */
  merchantsPerCard: number;
}

export const HISTORY_DEFAULTS: HistoryOptions = { retentionMs: 120 * DAY_MS, merchantsPerCard: 200 };

/** The store behind the histories: memory (embedded) and Redis / Redis Cluster pass one contract. */
export interface CardHistoryStore {
  readonly options: HistoryOptions;
  recordVisits(visits: readonly VisitRecord[]): Promise<void>;
  recordFrauds(labels: readonly FraudLabel[]): Promise<void>;
  /**
   * Takes labels back (a chargeback reversed, an analyst's fraud decision reversed): each label's
   * own member (labelMember, its transaction's) goes, and its card's other labels stay. A label
   * written before labels had transaction keys (dayLabelMember) stood for the day's labels of its
   * source and merchant: when the label's own member is not there, that one goes, whole.
   */
  withdrawFrauds(labels: readonly FraudLabel[]): Promise<void>;
  /** Cards whose latest fraud episode began at or after `since` (fraudEpisode). */
  fraudsSince(since: number): Promise<FraudulentCardRecord[]>;
  /**
   * Each card's merchants: its first visit to each (since its visits there were within the
   * retention of each other), in the order of those, then its last visit to each where later, in
   * the order of those.
   */
  visitsOf(cards: readonly string[]): Promise<Map<string, CardVisit[]>>;
  /**
   * fraudsSince's cards, each with its visits (visitsOf), handed to `page` a page at a time
   * (FRAUD_PAGE cards read, in fraudsSince's order): each card's labels and merchants read together,
   * so that a scan packs a page as it comes and holds no more than a page of labels and visits.
   * `budget`: a scan's (labelDaysWithin): only the most recent labelled cards up to `until` (the
   * scan's time) that fit in `maxCards` are read. Returns the time the cards cover from: `since`,
   * or later when older ones did not fit (then the cards are fraudsSince(that time)'s, less those
   * whose episode began after `until`), and the labelled cards counted against the budget.
   */
  fraudsWithVisitsSince(
    since: number,
    page: (cards: FraudulentCardVisits[]) => void,
    budget?: ScanBudget,
  ): Promise<ScanCoverage>;
  /** Distinct cards whose last visit at the merchant falls in [from, to]. */
  merchantCardCount(merchantId: string, from: number, to: number): Promise<number>;
  /**
   * Those cards, handed to `page` at most EXPOSED_PAGE at a time (awaited before the next is read),
   * in the order of their last visit (a merchant spread over sub-identities: each one's in turn): a
   * suspected merchant may have millions, which one reply would hold Redis (and every scoring
   * behind it) and the engine's heap for. A card that visits again meanwhile may come twice.
   * `firstVisitBy`: only those whose first visit there (its UTC day, kept with the last visit, for
   * the retention) was on or before its day: with `from` a window's start, the cards whose visits
   * there span some of the window (every card used inside it, whatever its visits since); a card
   * recorded before first visits were kept counts as having come by then (until its next visit
   * there, whose first is then its last visit before, the earliest known).
   */
  merchantCards(
    merchantId: string,
    from: number,
    to: number,
    page: (cards: ExposedCard[]) => Promise<void>,
    firstVisitBy?: number,
  ): Promise<void>;
  /** Distinct cards seen anywhere in [from, to] (weeks overlapping it; an estimate in Redis: HyperLogLog, 0.81 % standard error). */
  distinctCards(from: number, to: number): Promise<number>;
  /**
   * Distinct card–merchant pairs seen in [from, to] (as distinctCards: weeks overlapping it, an
   * estimate in Redis): over distinctCards, how many merchants the average card used, the scan's
   * control for card activity. Undefined when a week of the period saw cards but kept no pairs (an
   * upgrade from before they were kept): the average would read low, and every busy card as busier.
   */
  cardMerchantPairs(from: number, to: number): Promise<number | undefined>;
  /** The latest visit recorded: the scan's clock, in the transactions' own time. */
  latestVisitAt(): Promise<number | undefined>;
  /**
   * Takes the periodic scan's turn for `forMs`, unless another holder has it (true: `holder` scans
   * now). Engines sharing a store scan in turn, one of them per interval, not each of them.
   */
  takeScanTurn(holder: string, forMs: number): Promise<boolean>;
}

export const WEEK_MS = 7 * DAY_MS;
/** Weeks since the epoch: the buckets of the distinct-card estimate. */
export const weekOf = (at: number) => Math.floor(at / WEEK_MS);
export function weeksBetween(from: number, to: number): number[] {
  const weeks: number[] = [];
  for (let w = weekOf(from); w <= weekOf(to); w++) weeks.push(w);
  return weeks;
}

/** The watchlist slot of a fingerprint, as the histories store it (core/watchlist.ts entrySlot reads the same 10 bytes). */
export const slotOf = (fingerprint: string) =>
  Buffer.from(fingerprint, 'base64url').subarray(0, 10).toString('base64url');
