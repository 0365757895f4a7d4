// The card histories in process (embedded mode): exact where Redis estimates (distinct cards per
// week are sets here, HyperLogLogs there). Lost at restart, like the embedded velocity counters.
import type { CardVisit } from '../../core/cpp.ts';
import {
  EXPOSED_PAGE,
  FRAUD_PAGE,
  dayLabelMember,
  labelMember,
  parseLabelMember,
  HISTORY_DEFAULTS,
  episodesSince,
  labelDay,
  labelDaysWithin,
  NO_SCAN_BUDGET,
  slotOf,
  WEEK_MS,
  weekOf,
  weeksBetween,
  type CardHistoryStore,
  type ExposedCard,
  type FraudLabel,
  type FraudulentCardRecord,
  type FraudulentCardVisits,
  type HistoryOptions,
  type ScanBudget,
  type ScanCoverage,
  type StoredLabel,
  type VisitRecord,
} from '../../breach/history.ts';

const DAY_MS = 86_400_000;

/** The UTC day of a card's first visit to a merchant, as Redis keeps it (history.lua SPAN: at most 254 days before its last). */
const firstDayOf = (c: { at: number; first: number }) =>
  Math.max(Math.floor(c.first / DAY_MS), Math.floor(c.at / DAY_MS) - 254);

/** Stale visits at a merchant are swept after this many writes to it. */
const SWEEP_EVERY = 4096;

export class MemoryCardHistoryStore implements CardHistoryStore {
  readonly options: HistoryOptions;
  /** card → merchant → its first and last visit there (dropped once the last is past the retention). */
  private readonly cards = new Map<string, Map<string, { first: number; last: number }>>();
  /** merchant → card slot → its BIN, last visit and first visit (since its visits there were within the retention of each other). */
  private readonly merchants = new Map<
    string,
    { writes: number; cards: Map<string, { bin: string; at: number; first: number }> }
  >();
  private readonly weeks = new Map<number, Set<string>>();
  /** card → its labels: once per source, day and merchant, at the earliest time (labelDay), as Redis keeps them. */
  private readonly frauds = new Map<string, Map<string, StoredLabel>>();
  /**
   * Each day's labelled cards, each at its earliest label that day, as Redis keeps them (its day
   * keys): whole days, dropped once older than the floor's day, never trimmed by the floor inside one.
   */
  private readonly labelDays = new Map<number, Map<string, number>>();
  /** Labels older than this are gone (the newest label written, less the retention), as Redis trims them. */
  private fraudFloor = -Infinity;
  private sweptFloor = -Infinity;
  private latest: number | undefined;
  /** Whose turn the periodic scan is, until when (epoch ms, the wall clock as Redis's expiry). */
  private scanTurn: { holder: string; until: number } | undefined;

  constructor(options: Partial<HistoryOptions> = {}) {
    this.options = { ...HISTORY_DEFAULTS, ...options };
  }

  async recordVisits(visits: readonly VisitRecord[]): Promise<void> {
    const { retentionMs, merchantsPerCard } = this.options;
    for (const v of visits) {
      this.latest = Math.max(this.latest ?? v.at, v.at);
      let merchants = this.cards.get(v.card);
      if (!merchants) this.cards.set(v.card, (merchants = new Map()));
      for (const [m, kept] of merchants) if (kept.last < v.at - retentionMs) merchants.delete(m);
      const kept = merchants.get(v.merchantId);
      if (!kept) merchants.set(v.merchantId, { first: v.at, last: v.at });
      else {
        kept.first = Math.min(kept.first, v.at);
        kept.last = Math.max(kept.last, v.at);
      }
      if (merchants.size > merchantsPerCard) {
        // The merchants used least recently go: the same choice as the Redis store's ZREMRANGEBYRANK.
        const byLast = [...merchants].sort((a, b) => a[1].last - b[1].last || (a[0] < b[0] ? -1 : 1));
        for (const [m] of byLast.slice(0, merchants.size - merchantsPerCard)) merchants.delete(m);
      }

      let merchant = this.merchants.get(v.merchantId);
      if (!merchant) this.merchants.set(v.merchantId, (merchant = { writes: 0, cards: new Map() }));
      const slot = slotOf(v.card);
      const seen = merchant.cards.get(slot);
      // Past the retention (not swept yet), as gone: its visits start afresh (Redis's PAIR).
      if (!seen || seen.at < v.at - retentionMs) merchant.cards.set(slot, { bin: v.bin, at: v.at, first: v.at });
      else if (seen.at < v.at) merchant.cards.set(slot, { bin: v.bin, at: v.at, first: seen.first });
      else if (v.at < seen.first) seen.first = v.at;
      if (++merchant.writes % SWEEP_EVERY === 0)
        for (const [s, c] of merchant.cards) if (c.at < v.at - retentionMs) merchant.cards.delete(s);

      const week = weekOf(v.at);
      let cards = this.weeks.get(week);
      if (!cards) this.weeks.set(week, (cards = new Set()));
      cards.add(v.card);
    }
    if (this.latest !== undefined)
      for (const w of this.weeks.keys()) if (w < weekOf(this.latest - retentionMs)) this.weeks.delete(w);
  }

  async withdrawFrauds(labels: readonly FraudLabel[]): Promise<void> {
    for (const l of labels) {
      const kept = this.frauds.get(l.card);
      // Its own label; else one written before transaction keys, for the day (as Redis).
      if (kept && !kept.delete(labelMember(l, labelDay(l.at)))) kept.delete(dayLabelMember(l, labelDay(l.at)));
    }
  }

  async recordFrauds(labels: readonly FraudLabel[]): Promise<void> {
    for (const l of labels) {
      this.fraudFloor = Math.max(this.fraudFloor, l.at - this.options.retentionMs);
      let card = this.frauds.get(l.card);
      if (!card) this.frauds.set(l.card, (card = new Map()));
      const day = labelDay(l.at);
      let cards = this.labelDays.get(day);
      if (!cards) this.labelDays.set(day, (cards = new Map()));
      cards.set(l.card, Math.min(l.at, cards.get(l.card) ?? Infinity));
      const member = labelMember(l, day);
      const known = card.get(member);
      if (!known || l.at < known.at) card.set(member, parseLabelMember(member, l.at)!);
    }
    // Swept once the floor moved a day: a sweep walks every label.
    if (this.fraudFloor - this.sweptFloor < 86_400_000) return;
    this.sweptFloor = this.fraudFloor;
    for (const [card, kept] of this.frauds) {
      for (const [member, l] of kept) if (l.at < this.fraudFloor) kept.delete(member);
      if (kept.size === 0) this.frauds.delete(card);
    }
    for (const day of this.labelDays.keys()) if (day < labelDay(this.fraudFloor)) this.labelDays.delete(day);
  }

  async fraudsSince(since: number): Promise<FraudulentCardRecord[]> {
    return episodesSince(
      [...this.frauds].map(([card, kept]) => [card, kept.values()] as const),
      this.fraudFloor,
      since,
    );
  }

  async visitsOf(cards: readonly string[]): Promise<Map<string, CardVisit[]>> {
    const out = new Map<string, CardVisit[]>();
    for (const card of cards) {
      // As Redis reads its two keys: first visits in their order, then the later last visits in theirs.
      const kept = [...(this.cards.get(card) ?? [])];
      const byTime =
        (at: (k: { first: number; last: number }) => number) => (x: (typeof kept)[0], y: (typeof kept)[0]) =>
          at(x[1]) - at(y[1]) || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0);
      out.set(card, [
        ...[...kept].sort(byTime((k) => k.first)).map(([merchantId, k]) => ({ merchantId, at: k.first })),
        ...kept
          .filter(([, k]) => k.last > k.first)
          .sort(byTime((k) => k.last))
          .map(([merchantId, k]) => ({ merchantId, at: k.last })),
      ]);
    }
    return out;
  }

  async fraudsWithVisitsSince(
    since: number,
    page: (cards: FraudulentCardVisits[]) => void,
    budget: ScanBudget = NO_SCAN_BUDGET,
  ): Promise<ScanCoverage> {
    // The days from since's to the budget's until's (labelDaysWithin), as Redis reads its day keys.
    const first = labelDay(Math.max(since, this.fraudFloor));
    const last = labelDay(budget.until);
    const days = [...this.labelDays.keys()].filter((d) => d >= first && d <= last).sort((x, y) => x - y);
    const { cards, coveredSince, labelledCards } = await labelDaysWithin(
      { since, until: budget.until, floor: this.fraudFloor },
      days,
      async (day) => this.labelDays.get(day)!,
      budget.maxCards,
    );
    const read = new Set(cards);
    // In fraudsSince's order (the labels' map), as Redis keeps its own.
    const records = episodesSince(
      [...this.frauds].filter(([card]) => read.has(card)).map(([card, kept]) => [card, kept.values()] as const),
      this.fraudFloor,
      coveredSince,
    );
    for (let i = 0; i < records.length; i += FRAUD_PAGE) {
      const slice = records.slice(i, i + FRAUD_PAGE);
      const visits = await this.visitsOf(slice.map((r) => r.card));
      page(slice.map((record) => ({ record, visits: visits.get(record.card) ?? [] })));
    }
    return { coveredSince, labelledCards };
  }

  async merchantCardCount(merchantId: string, from: number, to: number): Promise<number> {
    let n = 0;
    for (const c of this.merchants.get(merchantId)?.cards.values() ?? []) if (c.at >= from && c.at <= to) n++;
    return n;
  }

  async merchantCards(
    merchantId: string,
    from: number,
    to: number,
    page: (cards: ExposedCard[]) => Promise<void>,
    firstVisitBy = Infinity,
  ): Promise<void> {
    const out: ExposedCard[] = [];
    for (const [slot, c] of this.merchants.get(merchantId)?.cards ?? [])
      if (c.at >= from && c.at <= to && firstDayOf(c) <= Math.floor(firstVisitBy / DAY_MS))
        out.push({ slot, bin: c.bin, lastVisitAt: c.at });
    // In the order of their last visit, as Redis keeps them.
    out.sort((a, b) => a.lastVisitAt - b.lastVisitAt || (a.slot < b.slot ? -1 : a.slot > b.slot ? 1 : 0));
    for (let i = 0; i < out.length; i += EXPOSED_PAGE) await page(out.slice(i, i + EXPOSED_PAGE));
  }

  async cardMerchantPairs(from: number, to: number): Promise<number | undefined> {
    // Each merchant's cards at their last visit, over the weeks overlapping [from, to] (as Redis's weeks).
    const start = weekOf(from) * WEEK_MS;
    const end = (weekOf(to) + 1) * WEEK_MS;
    let pairs = 0;
    for (const { cards } of this.merchants.values())
      for (const c of cards.values()) if (c.at >= start && c.at < end) pairs++;
    return pairs;
  }

  async distinctCards(from: number, to: number): Promise<number> {
    const union = new Set<string>();
    for (const w of weeksBetween(from, to)) for (const card of this.weeks.get(w) ?? []) union.add(card);
    return union.size;
  }

  async latestVisitAt(): Promise<number | undefined> {
    return this.latest;
  }

  async takeScanTurn(holder: string, forMs: number): Promise<boolean> {
    const now = Date.now();
    if (this.scanTurn && this.scanTurn.until > now) return false;
    this.scanTurn = { holder, until: now + forMs };
    return true;
  }
}
