// The scan tests recent fraud onsets over several windows: a breach's frauds start in a burst, which
// stands out against two days of background fraud and drowns in thirty. And a card stolen again
// weeks after its last fraud is asked where it was before the new fraud.
import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryCardHistoryStore } from '../../services/adapters/memory/card-history-store.ts';
import { MemoryWatchlistStore } from '../../services/adapters/memory/watchlist-store.ts';
import type { FraudLabel, VisitRecord } from '../../services/breach/history.ts';
import { BreachScanner } from '../../services/breach/scanner.ts';
import { DAY, mulberry32 } from '../support/cpp-world.ts';

const fp = (card: string) => createHash('sha256').update(card).digest('base64url');
const T0 = Date.parse('2026-01-01T00:00:00Z');
const SCAN_AT = T0 + 91 * DAY;

let history: MemoryCardHistoryStore;
let watchlist: MemoryWatchlistStore;

/**
 * 2,000 cards, each at 5 of 300 shops on days 1–60; the first 300 (15 %) also at 'chain' on day 30.
 * 300 draws of other cards turn fraudulent over days 61–91 (background, each once), `burst` chain cards in
 * the last day and a half; every fraud at a web shop none of them used before.
 */
async function load(burst: number, background = 300): Promise<void> {
  const rnd = mulberry32(9);
  const visits: VisitRecord[] = [];
  for (let c = 0; c < 2_000; c++) {
    for (let i = 0; i < 5; i++)
      visits.push({
        card: fp(`c${c}`),
        bin: '411111',
        merchantId: `m${Math.floor(rnd() * 300)}`,
        at: T0 + (1 + rnd() * 59) * DAY,
      });
    if (c < 300) visits.push({ card: fp(`c${c}`), bin: '411111', merchantId: 'chain', at: T0 + 30 * DAY });
  }
  await history.recordVisits(visits);
  const frauds: FraudLabel[] = [];
  const fraud = (c: number, at: number) =>
    frauds.push({ card: fp(`c${c}`), at, source: 'chargeback', merchantId: `web-${c % 7}` });
  // Each background card defrauded once, at its earliest draw (a card defrauded again weeks later
  // would be a new episode: not the background this world means).
  const firstDraw = new Map<number, number>();
  for (let i = 0; i < background; i++) {
    const c = 300 + Math.floor(rnd() * 1_700);
    const at = T0 + (61 + rnd() * 30) * DAY;
    firstDraw.set(c, Math.min(at, firstDraw.get(c) ?? Infinity));
  }
  for (const [c, at] of firstDraw) fraud(c, at);
  for (let i = 0; i < burst; i++) fraud(i, SCAN_AT - rnd() * 1.5 * DAY);
  await history.recordFrauds(frauds);
}

beforeEach(() => {
  history = new MemoryCardHistoryStore();
  watchlist = new MemoryWatchlistStore();
});

describe('the scan over several onset windows', () => {
  it('finds a burst of 20 in the last two days that thirty days of background fraud would drown', async () => {
    await load(20);
    const thirtyDays = await new BreachScanner(history, watchlist, { windowsMs: [30 * DAY] }).scan(SCAN_AT);
    expect(thirtyDays.findings).toEqual([]);
    const report = await new BreachScanner(history, watchlist).scan(SCAN_AT);
    expect(report.findings.map((f) => f.point.merchantId)).toEqual(['chain']);
    expect(report.findings[0]!.point.fraudCards).toBeGreaterThanOrEqual(20);
    // The control for card activity: about 5 shops a card, the chain's customers one more.
    expect(report.merchantsPerCard).toBeGreaterThan(4.5);
    expect(report.merchantsPerCard).toBeLessThan(5.5);
  });

  it('a dismissed merchant is opened again for a new burst of its cards, not for chance-level fraud beside the old one', async () => {
    await load(40);
    const scanner = new BreachScanner(history, watchlist, { minCards: 5 });
    const first = await scanner.scan(SCAN_AT);
    expect(first.findings.map((f) => [f.point.merchantId, f.created])).toEqual([['chain', true]]);
    // An analyst dismisses it.
    await watchlist.updateEvent(first.findings[0]!.event.seq, { status: 'retracted' }, new Date(SCAN_AT));
    const after = async (cards: number[], from: number) => {
      await history.recordFrauds(
        cards.map((c, k) => ({
          card: fp(`c${c}`),
          at: from + ((k + 1) / (cards.length + 1)) * 0.4 * DAY,
          source: 'chargeback' as const,
          merchantId: 'web-after',
        })),
      );
      return (await scanner.scan(from + 0.5 * DAY)).findings.filter((f) => f.point.merchantId === 'chain');
    };
    // 40 cards across all, chain cards among them at their share (6 of 40, against 15 %): the old
    // burst keeps the chain significant in the two-day window, but nothing new happened there.
    const chance = await after(
      Array.from({ length: 40 }, (_, k) => 40 + 50 * k),
      SCAN_AT,
    );
    expect(chance.map((f) => [f.event.id, f.event.status])).toEqual([[first.findings[0]!.event.id, 'retracted']]);
    // 30 more chain cards at once: a new breach there, a new event.
    const burst = await after(
      Array.from({ length: 30 }, (_, k) => 41 + k * 8),
      SCAN_AT + 0.5 * DAY,
    );
    expect(burst.map((f) => [f.event.externalId, f.created, f.event.status])).toEqual([['cpp:chain:2', true, 'open']]);
  });

  /** 30 new cards that used the chain five days before SCAN_AT, defrauded from a few hours after it. */
  async function laterBreach() {
    const later = Array.from({ length: 30 }, (_, k) => `new-${k}`);
    await history.recordVisits(
      later.map((c) => ({ card: fp(c), bin: '411111', merchantId: 'chain', at: SCAN_AT - 5 * DAY })),
    );
    await history.recordFrauds(
      later.map((c, k) => ({
        card: fp(c),
        at: SCAN_AT + (0.1 + k / 100) * DAY,
        source: 'chargeback' as const,
        merchantId: 'web-x',
      })),
    );
  }

  it("a new event after a dismissal takes its window, first frauds, cards and evidence from the frauds after the dismissal, not the judged cards'", async () => {
    await load(40);
    const scanner = new BreachScanner(history, watchlist, { minCards: 5 });
    const [first] = (await scanner.scan(SCAN_AT)).findings;
    expect(first!.newlyExposed).toBe(300);
    await watchlist.updateEvent(first!.event.seq, { status: 'retracted' }, new Date(SCAN_AT));
    // 30 new cards used it five days ago, and are defrauded after the dismissal: a new breach.
    await laterBreach();
    const [again] = (await scanner.scan(SCAN_AT + 0.5 * DAY)).findings.filter((f) => f.point.merchantId === 'chain');
    expect([again!.event.externalId, again!.created]).toEqual(['cpp:chain:2', true]);
    expect(again!.point.fraudCards).toBe(30);
    expect(again!.event.exposureStart).toBe(new Date(SCAN_AT - 5 * DAY).toISOString());
    // Listed: the cards that used it since the new window opened, not the 300 judged in the dismissal.
    expect(again!.newlyExposed).toBe(30);
    const evidence = (await watchlist.getEvent(again!.event.seq))!.evidence!;
    expect(evidence.fraudCards).toBe(30);
    expect(evidence.exposedCards).toBe(30);
    expect(evidence.firstFrauds).toHaveLength(30);
    expect(Math.min(...evidence.firstFrauds)).toBeGreaterThan(SCAN_AT);
    // A later scan keeps to the frauds after the dismissal too.
    const [third] = (await scanner.scan(SCAN_AT + 0.6 * DAY)).findings.filter((f) => f.point.merchantId === 'chain');
    expect([third!.event.externalId, third!.created, third!.point.fraudCards]).toEqual(['cpp:chain:2', false, 30]);
    expect((await watchlist.getEvent(again!.event.seq))!.exposureStart).toBe(new Date(SCAN_AT - 5 * DAY).toISOString());
  });

  it('lists nothing more into a closed event, nor rewrites its evidence', async () => {
    await load(40);
    const scanner = new BreachScanner(history, watchlist, { minCards: 5 });
    const [first] = (await scanner.scan(SCAN_AT)).findings;
    const closedAt = new Date(SCAN_AT + 0.05 * DAY);
    const closed = (await watchlist.updateEvent(first!.event.seq, { status: 'closed' }, closedAt))!;
    // 30 new cards used it five days ago, and are defrauded now.
    await laterBreach();
    const again = (await scanner.scan(SCAN_AT + 0.5 * DAY)).findings.filter((f) => f.point.merchantId === 'chain');
    expect(again.map((f) => [f.event.id, f.event.status, f.created, f.newlyExposed])).toEqual([
      [first!.event.id, 'closed', false, 0],
    ]);
    expect(await watchlist.getEvent(first!.event.seq)).toEqual(closed);
    expect(closed.evidence!.exposedCards).toBe(300);
  });

  it("moves an open suspected event's exposure end to the latest use of the cards a later scan names", async () => {
    await load(40);
    const scanner = new BreachScanner(history, watchlist);
    const [first] = (await scanner.scan(SCAN_AT)).findings;
    expect(first!.event.exposureEnd).toBe(new Date(T0 + 30 * DAY).toISOString());
    // 30 other cards used it five days ago, and are defrauded now: the breach goes on.
    const later = Array.from({ length: 30 }, (_, k) => 1_000 + k);
    await history.recordVisits(
      later.map((c) => ({ card: fp(`c${c}`), bin: '411111', merchantId: 'chain', at: SCAN_AT - 5 * DAY })),
    );
    await history.recordFrauds(
      later.map((c) => ({
        card: fp(`c${c}`),
        at: SCAN_AT + 0.3 * DAY,
        source: 'chargeback' as const,
        merchantId: 'web-x',
      })),
    );
    const [again] = (await scanner.scan(SCAN_AT + 0.5 * DAY)).findings;
    expect([again!.event.id, again!.created]).toEqual([first!.event.id, false]);
    expect(again!.event.exposureEnd).toBe(new Date(SCAN_AT - 5 * DAY).toISOString());
    expect((await watchlist.getEvent(first!.event.seq))!.exposureEnd).toBe(new Date(SCAN_AT - 5 * DAY).toISOString());
  });

  it('scans once for requests at once for the same time, and at its own time for a request for another', async () => {
    await load(20);
    const scanner = new BreachScanner(history, watchlist);
    const [a, b, c] = await Promise.all([
      scanner.scan(SCAN_AT),
      scanner.scan(SCAN_AT),
      scanner.scan(SCAN_AT - 10 * DAY),
    ]);
    expect(b).toBe(a);
    expect([a.at, c.at]).toEqual([SCAN_AT, SCAN_AT - 10 * DAY]);
  });

  it('past its budget, tests the most recent cards that fit, says so, and still names the burst in them', async () => {
    await load(20);
    const whole = await new BreachScanner(history, watchlist).scan(SCAN_AT);
    expect(whole).toMatchObject({ truncated: false, scannedFrom: SCAN_AT - 30 * DAY });
    expect(whole.fraudulentCards).toBeGreaterThan(150);

    const report = await new BreachScanner(history, watchlist, { maxCards: 60 }).scan(SCAN_AT);
    expect(report.truncated).toBe(true);
    expect(report.scannedFrom).toBeGreaterThan(SCAN_AT - 30 * DAY);
    expect(report.scannedFrom).toBeLessThanOrEqual(SCAN_AT - 2 * DAY);
    // Every labelled card it held was tested here (each labelled once): the budget, full.
    expect(report).toMatchObject({ labelledCards: 60, fraudulentCards: 60 });
    expect(report.findings.map((f) => f.point.merchantId)).toEqual(['chain']);
    // What a scan whose longest window is the time read finds; its p-value still carries the
    // three windows' share of alpha (two tested here, the third shortened onto the second).
    const fitted = await new BreachScanner(history, watchlist, {
      windowsMs: [2 * DAY, SCAN_AT - report.scannedFrom],
    }).scan(SCAN_AT);
    expect(report.fraudulentCards).toBe(fitted.fraudulentCards);
    const [found] = report.findings.map((f) => f.point);
    const [alone] = fitted.findings.map((f) => f.point);
    expect({ ...found, log10PValue: 0 }).toEqual({ ...alone, log10PValue: 0 });
    expect(found!.log10PValue).toBeCloseTo(alone!.log10PValue + Math.log10(3 / 2), 9);

    // Room for one card: the newest, from its time.
    const one = await new BreachScanner(history, watchlist, { maxCards: 1 }).scan(SCAN_AT);
    expect(one).toMatchObject({ truncated: true, fraudulentCards: 1, findings: [] });
    const newest = Math.max(...(await history.fraudsSince(SCAN_AT - 30 * DAY)).map((f) => f.firstFraudAt));
    expect(one.scannedFrom).toBe(newest);
    for (const maxCards of [0, -1, Number.NaN, 2.5])
      expect(() => new BreachScanner(history, watchlist, { maxCards })).toThrow(/maxCards/);
  });

  it('suspects nobody from background fraud alone, in any window', async () => {
    await load(0, 400);
    expect((await new BreachScanner(history, watchlist).scan(SCAN_AT)).findings).toEqual([]);
  });

  it('asks a card defrauded again weeks later where it was before its new fraud', async () => {
    await load(20);
    // The burst's cards were defrauded once before, 40 days earlier, at one web shop: their fraud
    // transactions there are visits too, the fraudster's. A new episode now; that shop is no common
    // point of the cards' holders.
    await history.recordVisits(
      Array.from({ length: 20 }, (_, c) => ({
        card: fp(`c${c}`),
        bin: '411111',
        merchantId: 'web-old',
        at: SCAN_AT - 40 * DAY,
      })),
    );
    await history.recordFrauds(
      Array.from({ length: 20 }, (_, c) => ({
        card: fp(`c${c}`),
        at: SCAN_AT - 40 * DAY,
        source: 'chargeback' as const,
        merchantId: 'web-old',
      })),
    );
    const report = await new BreachScanner(history, watchlist).scan(SCAN_AT);
    expect(report.findings.map((f) => f.point.merchantId)).toEqual(['chain']);
  });

  it("counts a holder's own visits before an earlier fraud at the same merchant, not the fraudster's from then on", async () => {
    // 20 cards first seen at 'shop' on `firstSeenDay`, defrauded there on day 40 (an episode of its
    // own), then elsewhere in the last day.
    const cards = Array.from({ length: 20 }, (_, c) => fp(`c${300 + c}`));
    const scanAfterFirstSeenAt = async (firstSeenDay: number) => {
      history = new MemoryCardHistoryStore();
      await load(0, 0);
      await history.recordVisits(
        cards.map((card) => ({ card, bin: '411111', merchantId: 'shop', at: T0 + firstSeenDay * DAY })),
      );
      await history.recordFrauds(
        cards.flatMap((card, c) => [
          { card, at: T0 + 40 * DAY, source: 'chargeback' as const, merchantId: 'shop' },
          { card, at: SCAN_AT - c * 3_600_000, source: 'chargeback' as const, merchantId: 'web-9' },
        ]),
      );
      const report = await new BreachScanner(history, new MemoryWatchlistStore()).scan(SCAN_AT);
      return report.findings.map((f) => f.point.merchantId);
    };
    // Their holders were there on day 5, before both frauds: a common point.
    expect(await scanAfterFirstSeenAt(5)).toEqual(['shop']);
    // First seen there by the fraudster (day 40, the earlier fraud itself): nothing.
    expect(await scanAfterFirstSeenAt(40)).toEqual([]);
  });

  it('reports the p-value against the whole alpha, and refuses no windows', async () => {
    await load(20);
    const [one] = (await new BreachScanner(history, watchlist, { windowsMs: [2 * DAY] }).scan(SCAN_AT)).findings;
    // The same window twice: each tested at half the alpha, the same finding twice as likely by chance.
    const [twice] = (
      await new BreachScanner(history, new MemoryWatchlistStore(), { windowsMs: [2 * DAY, 2 * DAY] }).scan(SCAN_AT)
    ).findings;
    expect(twice!.point.log10PValue).toBeCloseTo(one!.point.log10PValue + Math.log10(2), 6);
    for (const windowsMs of [[], [Number.NaN], [0], [Infinity]])
      expect(() => new BreachScanner(history, watchlist, { windowsMs })).toThrow(/windowsMs/);
  });

  it('reads many fraudulent cards with their visits a page at a time, and names the breach as it would at once', async () => {
    // 30,000 cards; 10,000 turn fraudulent over the last 30 days, 625 of them used at 'breached' before.
    const rnd = mulberry32(17);
    const visits: VisitRecord[] = [];
    const frauds: FraudLabel[] = [];
    for (let c = 10_000; c < 30_000; c++)
      for (let i = 0; i < 3; i++)
        visits.push({
          card: fp(`p${c}`),
          bin: '411111',
          merchantId: `m${Math.floor(rnd() * 500)}`,
          at: T0 + rnd() * 55 * DAY,
        });
    for (let c = 0; c < 10_000; c++) {
      const card = fp(`p${c}`);
      for (let i = 0; i < 3; i++)
        visits.push({ card, bin: '411111', merchantId: `m${Math.floor(rnd() * 500)}`, at: T0 + rnd() * 55 * DAY });
      if (c % 16 === 0) visits.push({ card, bin: '411111', merchantId: 'breached', at: T0 + 20 * DAY });
      frauds.push({ card, at: SCAN_AT - rnd() * 29 * DAY, source: 'chargeback', merchantId: `web-${c % 5}` });
    }
    await history.recordVisits(visits);
    await history.recordFrauds(frauds);
    const pages: number[] = [];
    const fraudsWithVisitsSince = history.fraudsWithVisitsSince.bind(history);
    history.fraudsWithVisitsSince = (since, page, budget) =>
      fraudsWithVisitsSince(
        since,
        (cards) => {
          pages.push(cards.length);
          page(cards);
        },
        budget,
      );
    const report = await new BreachScanner(history, watchlist).scan(SCAN_AT);
    expect(pages).toEqual([4096, 4096, 1808]);
    expect(report.fraudulentCards).toBe(10_000);
    const [finding, ...others] = report.findings;
    expect(others).toEqual([]);
    expect(finding!.point.merchantId).toBe('breached');
    expect(finding!.point.fraudCards).toBe(625);
  });
});
