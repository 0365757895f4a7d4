// The breach scan: from the card histories to suspected points of compromise, and from each one
// to a compromise event of Leakguard's own whose exposed cards scoring then weighs like listed
// cards whose leaked elements are unknown (the step-up ladder: a challenge, not a decline).
// Works in the transactions' own time: a replay of past traffic finds what live traffic would have.
import pMap from 'p-map';
import { CPP_DEFAULTS, detectPackedYielding, PackedFrauds, type CppOptions, type SuspectedPoint } from '../core/cpp.ts';
import {
  CPP_ISSUER,
  CPP_SOURCE,
  elementMask,
  entrySlot,
  type CompromiseEvent,
  type CppEvidence,
  type WatchlistStore,
} from '../core/watchlist.ts';
import type { CardHistoryStore, ExposedCard, FraudulentCardRecord } from './history.ts';

export { CPP_ISSUER, CPP_SOURCE };

export interface ScanOptions extends CppOptions {
  /**
   * The windows of recent fraud onsets tested, each on its own (default 2, 7 and 30 days before the
   * scan; `alpha` is shared among them). A breach's frauds start in a burst: in the last two days
   * its first cards stand out against two days of background fraud, where against thirty they would
   * drown; the longest window gathers a slow one.
   */
  windowsMs?: readonly number[];
  /**
   * The most fraudulent cards a scan holds (its budget; default: no limit). A scan holds every card
   * labelled in its longest window, ~1 KB each (SCAN_BYTES_PER_CARD): past the budget it tests the
   * most recent cards that fit instead (CardHistoryStore.fraudsWithVisitsSince), its longer windows
   * shortened to them, and says so (ScanReport.truncated), rather than exhaust the engine's heap.
   */
  maxCards?: number;
}

const DAY_MS = 86_400_000;
const DEFAULT_WINDOWS_MS: readonly number[] = [2 * DAY_MS, 7 * DAY_MS, 30 * DAY_MS];

/**
 * What a scan holds per fraudulent card, for its budget: ~0.57 KB measured for a card of ten
 * merchants on Redis (its record, labels read and merchants packed; docs/capacity.md), ~24 bytes
 * more per merchant, and the day's card lists it reads them from.
 */
export const SCAN_BYTES_PER_CARD = 1024;

/** The default budget: the cards that fill half of `heapLimitBytes` (the engine's V8 heap limit). */
export const scanBudgetFor = (heapLimitBytes: number) => Math.floor(heapLimitBytes / 2 / SCAN_BYTES_PER_CARD);

export interface ScanFinding {
  point: SuspectedPoint;
  event: CompromiseEvent;
  /** False when the event existed (a later scan of the same breach): newly exposed cards are added to it. */
  created: boolean;
  /** Cards newly listed on the event by this scan. */
  newlyExposed: number;
}

export interface ScanReport {
  /** The scan's time (epoch ms): the latest visit recorded, unless asked for another. */
  at: number;
  /** The earliest first fraud it tested (epoch ms): its longest window's start, or later when truncated. */
  scannedFrom: number;
  /** The cards labelled in its longest window exceeded its budget (maxCards): it tested the most recent cards that fit. */
  truncated: boolean;
  /** The labelled cards it held against its budget (at most maxCards; more than fraudulentCards: those whose episode began earlier count too). */
  labelledCards: number;
  fraudulentCards: number;
  merchantsTested: number;
  distinctCards: number;
  /** How many merchants the average card used in the period (the control for card activity; 0: none recorded). */
  merchantsPerCard: number;
  findings: ScanFinding[];
}

/** Candidate merchants counted at once (merchantCardCount). */
const COUNTS_IN_FLIGHT = 32;

export class BreachScanner {
  private readonly history: CardHistoryStore;
  private readonly watchlist: WatchlistStore;
  readonly options: Required<ScanOptions>;
  private running: Promise<ScanReport> | undefined;

  constructor(history: CardHistoryStore, watchlist: WatchlistStore, options: ScanOptions = {}) {
    this.history = history;
    this.watchlist = watchlist;
    this.options = {
      ...CPP_DEFAULTS,
      windowsMs: DEFAULT_WINDOWS_MS,
      ...options,
      maxCards: options.maxCards ?? Infinity,
    };
    const w = this.options.windowsMs;
    if (!Array.isArray(w) || w.length === 0 || !w.every((ms) => Number.isFinite(ms) && ms > 0))
      throw new RangeError('windowsMs: one or more positive durations in milliseconds');
    const max = this.options.maxCards;
    if (!(max === Infinity || (Number.isInteger(max) && max >= 1)))
      throw new RangeError('maxCards: a whole number of cards, at least 1');
  }

  /**
   * One scan at a time: a second request for the same time (or none) while one runs gets the
   * running one's report; one for another time waits for it, then scans at its own.
   */
  scan(at?: number): Promise<ScanReport> {
    if (this.running && this.runningAt !== at)
      return this.running.then(
        () => this.scan(at),
        () => this.scan(at),
      );
    if (!this.running) {
      this.runningAt = at;
      this.running = this.run(at).finally(() => (this.running = undefined));
    }
    return this.running;
  }
  private runningAt: number | undefined;

  private async run(asked: number | undefined): Promise<ScanReport> {
    const o = this.options;
    const at = asked ?? (await this.history.latestVisitAt()) ?? Date.now();
    // Each card is packed as its labels and visits come, a page at a time (FRAUD_PAGE): a scan
    // holds every fraudulent card of its windows, and their visits as objects would take twice
    // its heap.
    const frauds: FraudulentCardRecord[] = [];
    const packed = new PackedFrauds(o.lookbackMs);
    const longest = Math.max(...o.windowsMs);
    const { coveredSince, labelledCards } = await this.history.fraudsWithVisitsSince(
      at - longest,
      (page) => {
        for (const { record, visits } of page)
          if (record.firstFraudAt <= at) {
            frauds.push(record);
            packed.add(record, visits);
          }
      },
      // Days after the scan's time hold no card it tests: they take no room in its budget.
      { maxCards: o.maxCards, until: at },
    );
    // Nothing fit (the newest day's cards at one time, more of them than fit): from just after that
    // time, clamped to the scan's.
    const scannedFrom = Math.min(coveredSince, at);
    const truncated = scannedFrom > at - longest;
    // Truncated, a window reaches back no further than the cards read (windows made equal are one).
    const windowsMs = [...new Set(o.windowsMs.map((w) => Math.min(w, at - scannedFrom)))];
    const empty: ScanReport = {
      at,
      scannedFrom,
      truncated,
      labelledCards,
      fraudulentCards: frauds.length,
      merchantsTested: 0,
      distinctCards: 0,
      merchantsPerCard: 0,
      findings: [],
    };
    if (frauds.length === 0) return empty;

    // Only merchants some fraudulent card passed through before its first fraud can be suspected.
    const from = frauds.reduce((min, f) => Math.min(min, f.firstFraudAt), Infinity) - o.lookbackMs;
    const merchants = [...packed.names];
    const [counts, distinctCards, pairs] = await Promise.all([
      // Thousands of candidates at scale: a bounded number of counts at a time, so that a store
      // shared with the scorings (Redis) answers them between its counts, not after all of them.
      pMap(merchants, (m) => this.history.merchantCardCount(m, from, at), { concurrency: COUNTS_IN_FLIGHT }),
      this.history.distinctCards(from, at),
      this.history.cardMerchantPairs(from, at),
    ]);
    // How many merchants the average card used: a fraudulent card that used more counts as more
    // than one average card (core/cpp.ts activityOf). 0 while the period's pairs are not all
    // recorded (an upgrade, until its weeks have passed): every card average, as before.
    const merchantsPerCard = pairs !== undefined && distinctCards > 0 ? pairs / distinctCards : 0;
    const population = {
      cardsPerMerchant: new Map(merchants.map((m, i) => [m, counts[i]!])),
      totalCards: distinctCards,
      merchantsPerCard,
    };
    const packedCards = packed.all();
    /**
     * Each window tested on its own at its share of alpha, on the cards whose first fraud falls in
     * it (and after `since`); a merchant named in several keeps the finding with the most cards (the
     * widest view of its exposure window), its p-value reported against the whole alpha.
     */
    const detectAfter = async (since: number): Promise<Map<string, SuspectedPoint>> => {
      const byMerchant = new Map<string, SuspectedPoint>();
      const split = Math.log10(o.windowsMs.length);
      for (const windowMs of windowsMs) {
        // Handing the event loop a turn every few thousand cards: the scorings on this engine go
        // between them (a scan of 500,000 fraudulent cards held the thread 449 ms in one stretch).
        const found = await detectPackedYielding(
          packed,
          packedCards.filter((c) => packed.cards[c]!.firstFraudAt >= Math.max(at - windowMs, since + 1)),
          population,
          { ...o, alpha: o.alpha / o.windowsMs.length },
        );
        for (const atShare of found) {
          const p = { ...atShare, log10PValue: Math.min(0, atShare.log10PValue + split) };
          const known = byMerchant.get(p.merchantId);
          if (!known || p.fraudCards > known.fraudCards) byMerchant.set(p.merchantId, p);
        }
      }
      return byMerchant;
    };
    const points = [...(await detectAfter(-Infinity)).values()]
      .sort((a, b) => a.log10PValue - b.log10PValue)
      .slice(0, o.maxSuspects);
    const findings: ScanFinding[] = [];
    /** The first frauds of a point's cards, oldest first. */
    const firstFraudsOf = (point: SuspectedPoint) => {
      const named = new Set(point.cards);
      return frauds
        .filter((f) => named.has(f.card))
        .map((f) => f.firstFraudAt)
        .sort((a, b) => a - b);
    };
    /** The merchant as a suspect on the cards whose first fraud came after `since` alone, if it still is one. */
    const suspectOnCardsAfter = async (merchantId: string, since: number) => (await detectAfter(since)).get(merchantId);
    for (const point of points) findings.push(await this.suspect(point, firstFraudsOf, at, suspectOnCardsAfter));
    return {
      at,
      scannedFrom,
      truncated,
      labelledCards,
      fraudulentCards: frauds.length,
      merchantsTested: merchants.length,
      distinctCards,
      merchantsPerCard,
      findings,
    };
  }

  /** Opens (or extends) the merchant's suspected event and lists the cards that used it since the window opened. */
  private async suspect(
    found: SuspectedPoint,
    firstFraudsOf: (point: SuspectedPoint) => number[],
    at: number,
    suspectOnCardsAfter: (merchantId: string, since: number) => Promise<SuspectedPoint | undefined>,
  ): Promise<ScanFinding> {
    const now = new Date(at);
    const iso = (ms: number) => new Date(ms).toISOString();
    const inputFor = (point: SuspectedPoint) => ({
      source: CPP_SOURCE,
      description:
        `${point.fraudCards} cards that later turned fraudulent were used at merchant ${point.merchantId} ` +
        `before their first fraud; chance would give ${point.expected.toFixed(2)} (p ≤ 1e${Math.ceil(point.log10PValue)}).`,
      exposureStart: iso(point.windowStart),
      exposureEnd: iso(point.windowEnd),
      discoveredAt: iso(at),
      dataElements: ['pan' as const],
      confidence: 'suspected' as const,
    });
    // One event per merchant (`cpp:<merchant>`); once an analyst dismissed it (retracted), its cards
    // are not listed again, unless enough frauds came after the dismissal: a new breach there, a
    // new event (`cpp:<merchant>:2`, ...), told by those frauds alone. The cards the analyst judged
    // keep the merchant significant for weeks, and chance-level fraud beside them would reopen it;
    // and the new event's window, first frauds and evidence are the new breach's, not theirs.
    let point = found;
    let existing: CompromiseEvent, created: boolean;
    for (let n = 1; ; n++) {
      const externalId = n === 1 ? `cpp:${point.merchantId}` : `cpp:${point.merchantId}:${n}`;
      ({ event: existing, created } = await this.watchlist.createEvent(
        { ...inputFor(point), externalId },
        CPP_ISSUER,
        now,
      ));
      // Closed (an admin's close: the breach is over): its cards stay listed, nothing more is added
      // to it, its evidence stays as it was closed.
      if (existing.status === 'closed') return { point: found, event: existing, created, newlyExposed: 0 };
      if (existing.status !== 'retracted') break;
      const dismissedAt = Date.parse(existing.evidence?.review?.at ?? existing.updatedAt);
      const after = await suspectOnCardsAfter(point.merchantId, dismissedAt);
      if (!after || after.fraudCards < this.options.minCards)
        return { point: found, event: existing, created, newlyExposed: 0 };
      point = after;
    }
    const firstFrauds = firstFraudsOf(point);
    const input = inputFor(point);

    // While the breach may still run, every card used there since the window opened is exposed:
    // listed a page at a time (a big merchant's are millions), counted by BIN. It is presumed over
    // once no compromising visit was seen for a whole delay (the time its cards took to show fraud
    // after their visit there, 90th percentile) after the latest one (the window's end), and a
    // delay more has passed for such a visit to show: a card first used there after the window's
    // end is no longer listed (those listed stay listed); a card used inside the window is, whatever
    // its visits since (selected by its first visit there by the window's end and its last since
    // the window opened: the stores keep each card's first and last visit at a merchant). A
    // compromising visit seen later moves the window's end, and the scan after it lists what was
    // left out.
    const presumedOver = at - point.windowEnd > 2 * point.fraudDelayMs;
    const listedUntil = presumedOver ? point.windowEnd : at;
    let exposed = 0;
    let newlyExposed = 0;
    const byBin: Record<string, number> = {};
    const mask = elementMask(['pan']);
    const listPage = async (cards: ExposedCard[]) => {
      const statuses = await this.watchlist.addCards(
        existing.seq,
        mask,
        cards.map((c) => ({ slot: entrySlot(c.slot), expiryTag: 0 })),
        Math.floor(at / 1000),
      );
      newlyExposed += statuses.filter((s) => s !== 'duplicate').length;
      exposed += cards.length;
      for (const c of cards) byBin[c.bin] = (byBin[c.bin] ?? 0) + 1;
    };
    await this.history.merchantCards(
      point.merchantId,
      point.windowStart,
      at,
      listPage,
      presumedOver ? listedUntil : undefined,
    );
    const evidence: Omit<CppEvidence, 'review'> = {
      merchantId: point.merchantId,
      fraudCards: point.fraudCards,
      weightedFraudCards: point.weightedFraudCards,
      expected: point.expected,
      log10PValue: point.log10PValue,
      exposedCards: exposed,
      exposedByBin: byBin,
      firstFrauds,
      scannedAt: iso(at),
      listedUntil: iso(listedUntil),
      presumedOver,
    };
    // An analyst's review stays, even one written while this scan ran.
    const event =
      (await this.watchlist.updateEvent(
        existing.seq,
        // Dismissed (retracted) or closed meanwhile: left as the analyst or admin left it.
        (current) =>
          current.status !== 'open'
            ? {}
            : {
                evidence: { ...evidence, ...(current.evidence?.review ? { review: current.evidence.review } : {}) },
                // An ongoing breach: its window runs to the latest use of a card named now (the
                // exposure's recency is a step-up signal, LEAKED_CARD_RECENT_EXPOSURE).
                ...(input.exposureEnd > current.exposureEnd ? { exposureEnd: input.exposureEnd } : {}),
              },
        now,
      )) ?? existing;
    return { point, event, created, newlyExposed };
  }
}
