// A suspicion ends. Once no compromising visit has been seen at a suspected merchant for twice the
// time its cards took to show fraud, the breach is presumed over and later customers are not
// listed; a compromising visit seen later reopens the listing. And a failed step-up that a
// suspicion asked for is no evidence against its merchant: the suspicion cannot feed on its own
// challenges.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryCardHistoryStore } from '../../services/adapters/memory/card-history-store.ts';
import { MemoryWatchlistStore } from '../../services/adapters/memory/watchlist-store.ts';
import type { FraudLabel, VisitRecord } from '../../services/breach/history.ts';
import { BreachScanner } from '../../services/breach/scanner.ts';
import { decodeEntry, entrySlot } from '../../services/core/watchlist.ts';
import { bearer, buildTestApp, MASTERCARD, scoreBody, type TestApp } from '../support/app.ts';
import { DAY, mulberry32 } from '../support/cpp-world.ts';

const fp = (card: string) => createHash('sha256').update(card).digest('base64url');
const T0 = Date.parse('2026-01-01T00:00:00Z');

let history: MemoryCardHistoryStore;
let watchlist: MemoryWatchlistStore;
beforeEach(() => {
  history = new MemoryCardHistoryStore();
  watchlist = new MemoryWatchlistStore();
});

/**
 * 2,000 cards at 3 of 200 shops over days 0–60; 40 customers of 'chain' on days 10–19.75, every third
 * one defrauded 15 days after its visit at a web shop it never used (14 cards, first frauds days
 * 25–34.75); 5 customers on day 28.
 */
async function load(): Promise<void> {
  const rnd = mulberry32(5);
  const visits: VisitRecord[] = [];
  const visit = (card: string, merchantId: string, at: number) =>
    visits.push({ card: fp(card), bin: '411111', merchantId, at });
  for (let c = 0; c < 2_000; c++)
    for (let i = 0; i < 3; i++) visit(`c${c}`, `m${Math.floor(rnd() * 200)}`, T0 + rnd() * 60 * DAY);
  const frauds: FraudLabel[] = [];
  for (let i = 0; i < 40; i++) {
    const at = T0 + (10 + i / 4) * DAY;
    visit(`b${i}`, 'chain', at);
    if (i % 3 === 0)
      frauds.push({ card: fp(`b${i}`), at: at + 15 * DAY, source: 'chargeback', merchantId: `web-${i % 5}` });
  }
  for (let i = 0; i < 5; i++) visit(`early${i}`, 'chain', T0 + 28 * DAY);
  await history.recordVisits(visits);
  await history.recordFrauds(frauds);
}
const listed = async (card: string) => (await watchlist.getEntries([entrySlot(fp(card))]))[0] !== null;

describe('the end of a suspicion', () => {
  it('lists every customer while the breach may run, none after it is presumed over, until a compromising visit is seen later', async () => {
    await load();
    const scanner = new BreachScanner(history, watchlist);
    // Day 35: the latest compromising visit (19.75) is 15.25 days old, delays are 15 days: it may run.
    const first = (await scanner.scan(T0 + 35 * DAY)).findings;
    expect(first.map((f) => f.point.merchantId)).toEqual(['chain']);
    expect(first[0]!.point).toMatchObject({ fraudCards: 14, windowEnd: T0 + 19.75 * DAY, fraudDelayMs: 15 * DAY });
    expect(first[0]!.newlyExposed).toBe(45);
    expect(first[0]!.event.evidence).toMatchObject({
      presumedOver: false,
      listedUntil: new Date(T0 + 35 * DAY).toISOString(),
    });

    // Ten customers on day 40; day 50: none of the visits of days 19.75–34.75 showed fraud within
    // 15 days: presumed over, the newcomers are not listed.
    const late: VisitRecord[] = Array.from({ length: 10 }, (_, i) => ({
      card: fp(`late${i}`),
      bin: '411111',
      merchantId: 'chain',
      at: T0 + 40 * DAY,
    }));
    await history.recordVisits(late);
    const over = (await scanner.scan(T0 + 50 * DAY)).findings;
    expect(over.map((f) => [f.point.merchantId, f.created, f.newlyExposed])).toEqual([['chain', false, 0]]);
    expect(over[0]!.event.evidence).toMatchObject({
      presumedOver: true,
      listedUntil: new Date(T0 + 19.75 * DAY).toISOString(),
      exposedCards: 40,
    });
    expect(await listed('late0')).toBe(false);
    // Those listed stay listed.
    expect(await listed('early0')).toBe(true);

    // One of them defrauded on day 49, 9 days after its visit: the breach runs on, the newcomers are listed.
    await history.recordFrauds([{ card: fp('late0'), at: T0 + 49 * DAY, source: 'chargeback', merchantId: 'web-1' }]);
    const again = (await scanner.scan(T0 + 50 * DAY)).findings;
    expect(again.map((f) => [f.point.merchantId, f.newlyExposed])).toEqual([['chain', 10]]);
    expect(again[0]!.event.evidence).toMatchObject({
      presumedOver: false,
      listedUntil: new Date(T0 + 50 * DAY).toISOString(),
    });
    expect(decodeEntry((await watchlist.getEntries([entrySlot(fp('late9'))]))[0]!)!.eventSeqs).toEqual([
      again[0]!.event.seq,
    ]);
  });
});

/** Breach discovery's suspected event for `merchantId`, as a scan makes it, listing every card used there. */
async function suspect(t: TestApp, merchantId: string): Promise<void> {
  const breach = t.runtime.breach!;
  await breach.recorder.flush();
  const now = new Date();
  const { event } = await t.runtime.watchlist.createEvent(
    {
      externalId: `cpp:${merchantId}`,
      source: 'leakguard-cpp',
      description: 'suspected',
      exposureStart: new Date(now.getTime() - 30 * DAY).toISOString(),
      exposureEnd: now.toISOString(),
      discoveredAt: now.toISOString(),
      dataElements: ['pan'],
      confidence: 'suspected',
    },
    'leakguard',
    now,
  );
  let listed = 0;
  await breach.history.merchantCards(merchantId, 0, Infinity, async (cards) => {
    listed += cards.length;
    await t.runtime.watchlist.addCards(
      event.seq,
      1,
      cards.map((c) => ({ slot: entrySlot(c.slot), expiryTag: 0 })),
      Math.floor(now.getTime() / 1000),
    );
  });
  await t.runtime.watchlist.updateEvent(
    event.seq,
    {
      evidence: {
        merchantId,
        fraudCards: 12,
        weightedFraudCards: 12,
        expected: 0.5,
        log10PValue: -12,
        exposedCards: listed,
        exposedByBin: { '411111': listed },
        firstFrauds: [],
        scannedAt: now.toISOString(),
      },
    },
    now,
  );
  await t.runtime.watchlistRegistry.refresh();
}

describe('a suspicion does not feed on its own challenges', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ LEAKGUARD_CPP_SCAN_MINUTES: '0' });
  });
  afterAll(() => t?.close());

  it("labels a failed step-up of a card a suspected breach lists as asked by that breach's merchant", async () => {
    const breach = t.runtime.breach!;
    const score = async (key: string) => {
      const res = await t.app.inject({ method: 'POST', url: '/v1/score', headers: bearer(key), payload: scoreBody() });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ transactionId: string; decision: string; reasons: { code: string }[] }>();
    };
    // The card used merchant m2, which Leakguard suspects: its suspected event lists the card.
    await score(t.keys.otherMerchant);
    await suspect(t, 'm2');

    // At m1 the card is stepped up for the suspicion, and its holder abandons the challenge.
    const challenged = await score(t.keys.merchant);
    expect(challenged.decision).toBe('challenge');
    expect(challenged.reasons.map((r) => r.code)).toContain('LEAKED_CARD_SUSPECTED_BREACH');
    const outcome = await t.app.inject({
      method: 'POST',
      url: `/v1/transactions/${challenged.transactionId}/outcome`,
      headers: bearer(t.keys.merchant),
      payload: { outcome: 'challenge_failed' },
    });
    expect(outcome.statusCode, outcome.body).toBe(200);
    await breach.recorder.flush();
    // A fraud label for breach discovery against the card's other merchants, none against m2.
    expect(await breach.history.fraudsSince(0)).toEqual([
      expect.objectContaining({ weight: 0.5, fraudMerchants: ['m1'], notEvidenceFor: ['m2'] }),
    ]);
  });
});

describe('the suspected merchant itself', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ LEAKGUARD_CPP_SCAN_MINUTES: '0' });
  });
  afterAll(() => t?.close());

  it('scores its own orders as if it were not suspected: its customers are not stepped up, and no reason tells it', async () => {
    const order = () =>
      scoreBody({ card: { number: MASTERCARD, expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' } });
    const score = async (key: string) => {
      const res = await t.app.inject({ method: 'POST', url: '/v1/score', headers: bearer(key), payload: order() });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ decision: string; reasons: { code: string }[] }>();
    };
    // A customer of m2, which Leakguard then suspects: the event lists every card used at m2.
    expect((await score(t.keys.otherMerchant)).decision).toBe('approve');
    await suspect(t, 'm2');
    // Back at m2: every customer of m2 is listed, so the listing tells nothing of this order, and
    // its reasons would tell m2 it is suspected before an analyst reviewed it (before: challenge,
    // LEAKED_CARD_SUSPECTED_BREACH and LEAKED_CARD).
    const atSuspect = await score(t.keys.otherMerchant);
    expect(atSuspect.decision).toBe('approve');
    expect(atSuspect.reasons.map((r) => r.code).filter((c) => c.startsWith('LEAKED_CARD'))).toEqual([]);
    // Elsewhere the card is stepped up for the suspicion as before.
    const elsewhere = await score(t.keys.merchant);
    expect(elsewhere.decision).toBe('challenge');
    expect(elsewhere.reasons.map((r) => r.code)).toContain('LEAKED_CARD_SUSPECTED_BREACH');
  });
});
