// What feeds the card histories: each scoring a visit, the engine's strongest decisions, chargebacks
// and analysts' decisions fraud labels; written in batches off the scoring path, kept (bounded)
// while the store fails, and flushed on close.
import { describe, expect, it } from 'vitest';
import { MemoryCardHistoryStore } from '../../services/adapters/memory/card-history-store.ts';
import {
  labelMember,
  parseLabelMember,
  transactionKey,
  type CardHistoryStore,
  type FraudLabel,
  type VisitRecord,
} from '../../services/breach/history.ts';
import { HistoryRecorder } from '../../services/breach/recorder.ts';
import type { ScoreResult } from '../../services/core/engine.ts';

const T = Date.parse('2026-11-01T10:00:00Z');
function scored(card: string, at: number, decision = 'approve', codes: string[] = []): ScoreResult {
  return {
    kind: 'scored',
    replayed: false,
    response: {
      transactionId: `tx-${card}-${at}`,
      score: 0,
      decision: decision as 'approve',
      reasons: codes.map((code) => ({ code, message: code })),
      degraded: false,
      checks: { velocity: 'evaluated', rules: 'evaluated', watchlist: 'evaluated', model: 'not_configured' },
      versions: { engine: 't', ruleset: 't' },
    },
    evidence: {
      card: { bin: '411111', last4: '1111', keyId: 'k', fingerprint: card },
      at,
      features: {},
      entities: {},
      marked: {},
    },
  };
}

/** A store that fails while `down` is set. */
class FlakyStore extends MemoryCardHistoryStore {
  down = false;
  override async recordVisits(visits: readonly VisitRecord[]) {
    if (this.down) throw new Error('history store down');
    return super.recordVisits(visits);
  }
  override async recordFrauds(labels: readonly FraudLabel[]) {
    if (this.down) throw new Error('history store down');
    return super.recordFrauds(labels);
  }
}

const recorder = (store: CardHistoryStore, over: Partial<ConstructorParameters<typeof HistoryRecorder>[0]> = {}) =>
  new HistoryRecorder({
    store,
    transactionOf: async (merchantId, transactionId) =>
      transactionId === 'tx-known' || transactionId === 'tx-known-later'
        ? { card: 'card-cb', at: T - 86_400_000 + (transactionId === 'tx-known-later' ? 3_600_000 : 0) }
        : transactionId === 'tx-stepped-up'
          ? { card: 'card-3ds', at: T - 60_000 }
          : undefined,
    flushMs: 60_000,
    ...over,
  });

describe('history recorder', () => {
  it('records a visit per scoring at the transaction time; nothing for a stored answer sent again or a conflict', async () => {
    const store = new MemoryCardHistoryStore();
    const r = recorder(store);
    r.scored('shop-1', scored('card-a', T));
    r.scored('shop-2', scored('card-a', T + 1000));
    // A stored answer sent again carries no evidence.
    const { response } = scored('card-b', T) as Extract<ScoreResult, { kind: 'scored' }>;
    r.scored('shop-1', { kind: 'scored', replayed: true, response });
    r.scored('shop-1', { kind: 'conflict' });
    expect(await store.latestVisitAt()).toBeUndefined(); // nothing written before the flush
    await r.flush();
    expect((await store.visitsOf(['card-a', 'card-b'])).get('card-a')).toEqual([
      { merchantId: 'shop-1', at: T },
      { merchantId: 'shop-2', at: T + 1000 },
    ]);
    expect((await store.visitsOf(['card-b'])).get('card-b')).toEqual([]);
    await r.close();
  });

  it('labels a card at once when the engine reviews or declines it for card testing; not for other reasons', async () => {
    const store = new MemoryCardHistoryStore();
    const r = recorder(store);
    r.scored('shop-1', scored('tester', T, 'decline', ['CARD_MANY_MERCHANTS_10M', 'HIGH_AMOUNT']));
    r.scored('shop-1', scored('prober', T + 5, 'review', ['CARD_TESTING_SMALL_AMOUNTS_1H']));
    r.scored('shop-1', scored('big-spender', T, 'review', ['HIGH_AMOUNT']));
    r.scored('shop-1', scored('challenged', T, 'challenge', ['CARD_MANY_MERCHANTS_1H']));
    await r.flush();
    expect((await store.fraudsSince(0)).sort((a, b) => a.card.localeCompare(b.card))).toEqual([
      { card: 'prober', firstFraudAt: T + 5, weight: 0.5, fraudMerchants: ['shop-1'] },
      { card: 'tester', firstFraudAt: T, weight: 0.5, fraudMerchants: ['shop-1'] },
    ]);
    await r.close();
  });

  it("labels a chargeback's card at its transaction's time (looked up before the flush), an analyst's with its weight", async () => {
    const store = new MemoryCardHistoryStore();
    const r = recorder(store);
    r.outcome('shop-1', 'tx-known', 'chargeback');
    r.outcome('shop-1', 'tx-known', 'refund');
    r.outcome('shop-1', 'tx-unknown', 'chargeback');
    r.fraud({ card: 'card-an', at: T, source: 'analyst' });
    await r.flush();
    expect((await store.fraudsSince(0)).sort((a, b) => a.card.localeCompare(b.card))).toEqual([
      { card: 'card-an', firstFraudAt: T, weight: 0.9 },
      { card: 'card-cb', firstFraudAt: T - 86_400_000, weight: 1, fraudMerchants: ['shop-1'] },
    ]);
    await r.close();
  });

  it('labels the card of a failed 3-D Secure step-up at once, with the weight of a label that can be wrong', async () => {
    const store = new MemoryCardHistoryStore();
    const r = recorder(store);
    r.outcome('shop-2', 'tx-stepped-up', 'challenge_failed');
    r.outcome('shop-2', 'tx-known', 'authorized');
    r.outcome('shop-2', 'tx-known', 'declined');
    await r.flush();
    expect(await store.fraudsSince(0)).toEqual([
      { card: 'card-3ds', firstFraudAt: T - 60_000, weight: 0.5, fraudMerchants: ['shop-2'] },
    ]);
    await r.close();
  });

  it('labels a failed step-up of a card that suspected breaches list as asked by their merchants, no evidence against them', async () => {
    const store = new MemoryCardHistoryStore();
    const asked: string[] = [];
    const r = recorder(store, {
      suspicionsListing: async (card) => (asked.push(card), card === 'card-3ds' ? ['chain-b', 'chain-c'] : []),
    });
    r.outcome('shop-2', 'tx-stepped-up', 'challenge_failed');
    // A chargeback is the issuer's word, whoever asked for a challenge: not looked up.
    r.outcome('shop-1', 'tx-known', 'chargeback');
    await r.flush();
    expect(asked).toEqual(['card-3ds']);
    expect((await store.fraudsSince(0)).sort((a, b) => a.card.localeCompare(b.card))).toEqual([
      {
        card: 'card-3ds',
        firstFraudAt: T - 60_000,
        weight: 0.5,
        fraudMerchants: ['shop-2'],
        notEvidenceFor: ['chain-b', 'chain-c'],
      },
      { card: 'card-cb', firstFraudAt: T - 86_400_000, weight: 1, fraudMerchants: ['shop-1'] },
    ]);
    await r.close();
  });

  it('labels a failed step-up as before when the watchlist does not answer which suspicions list its card, and says so', async () => {
    const store = new MemoryCardHistoryStore();
    const errors: unknown[] = [];
    const r = recorder(store, {
      suspicionsListing: () => Promise.reject(new Error('watchlist down')),
      onError: (e) => errors.push(e),
    });
    r.outcome('shop-2', 'tx-stepped-up', 'challenge_failed');
    await r.flush();
    expect(errors).toEqual([new Error('watchlist down')]);
    expect(await store.fraudsSince(0)).toEqual([
      { card: 'card-3ds', firstFraudAt: T - 60_000, weight: 0.5, fraudMerchants: ['shop-2'] },
    ]);
    await r.close();
  });

  it("takes a reversed chargeback's label back, written or waiting with it; nothing for an unknown transaction", async () => {
    const store = new MemoryCardHistoryStore();
    const r = recorder(store);
    r.outcome('shop-1', 'tx-known', 'chargeback');
    r.outcome('shop-2', 'tx-stepped-up', 'challenge_failed');
    await r.flush();
    expect((await store.fraudsSince(0)).map((f) => f.card).sort()).toEqual(['card-3ds', 'card-cb']);
    r.outcome('shop-1', 'tx-known', 'chargeback_reversed');
    r.outcome('shop-1', 'tx-unknown', 'chargeback_reversed');
    await r.flush();
    expect((await store.fraudsSince(0)).map((f) => f.card)).toEqual(['card-3ds']);
    // A chargeback and its reversal waiting for the same flush leave no label.
    r.outcome('shop-1', 'tx-known', 'chargeback');
    r.outcome('shop-1', 'tx-known', 'chargeback_reversed');
    await r.flush();
    expect((await store.fraudsSince(0)).map((f) => f.card)).toEqual(['card-3ds']);
    await r.close();
  });

  it("takes back one reversed chargeback's label, and one reversed analyst decision's: the card's others that day stay", async () => {
    const store = new MemoryCardHistoryStore();
    const r = recorder(store);
    // Two fraud chargebacks of one card at one merchant on one day; one is reversed.
    r.outcome('shop-1', 'tx-known', 'chargeback');
    r.outcome('shop-1', 'tx-known-later', 'chargeback');
    await r.flush();
    r.outcome('shop-1', 'tx-known', 'chargeback_reversed');
    await r.flush();
    expect(await store.fraudsSince(0)).toEqual([
      { card: 'card-cb', firstFraudAt: T - 86_400_000 + 3_600_000, weight: 1, fraudMerchants: ['shop-1'] },
    ]);
    // Two analysts' fraud decisions on one card at one merchant on one day; one is reversed.
    r.fraud({ card: 'card-an', at: T, source: 'analyst', merchantId: 'shop-1', transactionId: 'order-1' });
    r.fraud({ card: 'card-an', at: T + 60_000, source: 'analyst', merchantId: 'shop-1', transactionId: 'order-2' });
    await r.flush();
    r.withdrawFraud({
      card: 'card-an',
      at: T + 60_000,
      source: 'analyst',
      merchantId: 'shop-1',
      transactionId: 'order-2',
    });
    await r.flush();
    expect((await store.fraudsSince(0)).find((f) => f.card === 'card-an')).toEqual({
      card: 'card-an',
      firstFraudAt: T,
      weight: 0.9,
      fraudMerchants: ['shop-1'],
    });
    r.withdrawFraud({ card: 'card-an', at: T, source: 'analyst', merchantId: 'shop-1', transactionId: 'order-1' });
    await r.flush();
    expect((await store.fraudsSince(0)).map((f) => f.card)).toEqual(['card-cb']);
    await r.close();
  });

  it('reads the label members of every version: before days, before transaction keys, and now', () => {
    const at = T;
    expect(parseLabelMember('chargeback 20393 shop-1', at)).toEqual({ at, weight: 1, merchantId: 'shop-1' });
    expect(parseLabelMember('challenge 20393 shop-1 shop-9', at)).toEqual({
      at,
      weight: 0.5,
      merchantId: 'shop-1',
      askedBy: ['shop-9'],
    });
    const key = transactionKey('shop-1', 'order-1');
    expect(key).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(key).not.toBe(transactionKey('shop-1', 'order-2'));
    const member = labelMember({ card: 'c', at, source: 'analyst', merchantId: 'shop-1', transaction: key }, 20393);
    expect(member).toBe(`analyst 20393 shop-1 ${key}`);
    // The transaction key is no asking merchant.
    expect(parseLabelMember(member, at)).toEqual({ at, weight: 0.9, merchantId: 'shop-1' });
    expect(parseLabelMember('analyst 20393 ', at)).toEqual({ at, weight: 0.9 });
    expect(parseLabelMember('newsource 20393 shop-1', at)).toBeUndefined();
  });

  it("knows a chain's terminals as its one merchant: visits, the engine's, outcomes' and analysts' labels alike", async () => {
    const store = new MemoryCardHistoryStore();
    const chainOf = (m: string) => (m.startsWith('till-') ? 'chain' : m);
    const r = recorder(store, { merchantOf: chainOf });
    r.scored('till-1', scored('card-v', T));
    r.scored('till-2', scored('tester', T, 'decline', ['CARD_MANY_MERCHANTS_10M']));
    r.outcome('till-3', 'tx-known', 'chargeback');
    r.fraud({ card: 'card-an', at: T, source: 'analyst', merchantId: 'till-4' });
    await r.flush();
    expect((await store.visitsOf(['card-v'])).get('card-v')).toEqual([{ merchantId: 'chain', at: T }]);
    const labelled = await store.fraudsSince(0);
    expect(labelled).toHaveLength(3);
    for (const f of labelled) expect(f.fraudMerchants).toEqual(['chain']);
    await r.close();
  });

  it('keeps what the store refused for the next flush, within its bound, and counts what it drops', async () => {
    const store = new FlakyStore();
    const errors: unknown[] = [];
    let dropped = 0;
    const r = recorder(store, {
      maxBuffered: 3,
      onError: (e) => errors.push(e),
      onDropped: (n) => (dropped += n),
    });
    store.down = true;
    for (let i = 0; i < 3; i++) r.scored('shop-1', scored(`card-${i}`, T + i));
    await r.flush();
    expect(errors).toHaveLength(1);
    r.scored('shop-1', scored('card-3', T + 3)); // the buffer is full: dropped and counted
    expect(dropped).toBe(1);
    store.down = false;
    await r.close(); // flushes what was kept
    const kept = await store.visitsOf(['card-0', 'card-1', 'card-2', 'card-3']);
    expect([...kept].map(([card, v]) => [card, v.length])).toEqual([
      ['card-0', 1],
      ['card-1', 1],
      ['card-2', 1],
      ['card-3', 0],
    ]);
  });
});
