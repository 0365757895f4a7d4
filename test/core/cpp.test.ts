// CPP detection on generated card histories with a known answer: cardholders shop near home (so a
// breached merchant's neighbours share its cards), a breach leaks the cards used at one merchant
// in a window, some of them turn fraudulent weeks later, amid background fraud everywhere.
import { describe, expect, it } from 'vitest';
import {
  detectCommonPoints,
  logFactorial,
  logPoissonUpperTail,
  type CardVisit,
  type CppInput,
  type FraudulentCard,
} from '../../services/core/cpp.ts';

const DAY = 86_400_000;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface World {
  input: CppInput;
  breached?: { merchantId: string; from: number; to: number; leaked: Set<string> };
}

/**
 * `cards` cardholders on a ring of `merchants` shops, each using 3–6 shops within ±8 of home on
 * random days of the first 120; background fraud on `backgroundShare` of the cards (first fraud on
 * days 100–130); a breach (optional) at one shop, which also sells to `breachCustomers` cardholders
 * from anywhere, leaks the cards used there on days 20–60, and `fraudShare` of those turn
 * fraudulent on days 80–110.
 */
function world(
  seed: number,
  o: {
    merchants?: number;
    cards?: number;
    backgroundShare?: number;
    breach?: boolean;
    /** Cardholders from anywhere who also buy at the breached shop (an online shop). */
    breachCustomers?: number;
    fraudShare?: number;
    weight?: () => number;
  } = {},
): World {
  const rnd = mulberry32(seed);
  const merchants = o.merchants ?? 2_000;
  const cards = o.cards ?? 20_000;
  const histories = new Map<string, CardVisit[]>();
  const seen = new Map<string, Set<string>>();
  for (let c = 0; c < cards; c++) {
    const card = `fp-${c}`;
    const home = Math.floor(rnd() * merchants);
    const visits: CardVisit[] = [];
    const n = 3 + Math.floor(rnd() * 4);
    for (let i = 0; i < n; i++) {
      const m = (home + Math.floor(rnd() * 17) - 8 + merchants) % merchants;
      for (let j = 0, times = 1 + Math.floor(rnd() * 3); j < times; j++)
        visits.push({ merchantId: `m${m}`, at: Math.floor(rnd() * 120) * DAY + Math.floor(rnd() * DAY) });
    }
    histories.set(card, visits);
    for (const v of visits) {
      const s = seen.get(v.merchantId) ?? new Set<string>();
      s.add(card);
      seen.set(v.merchantId, s);
    }
  }
  const frauds = new Map<string, FraudulentCard>();
  const fraud = (card: string, firstFraudAt: number) =>
    frauds.set(card, { card, firstFraudAt, weight: o.weight?.() ?? 1, visits: histories.get(card)! });
  for (const card of histories.keys()) if (rnd() < (o.backgroundShare ?? 0.004)) fraud(card, (100 + rnd() * 30) * DAY);
  let breached: World['breached'];
  if (o.breach) {
    const merchantId = `m${Math.floor(rnd() * merchants)}`;
    for (let i = 0; i < (o.breachCustomers ?? 600); i++) {
      const card = `fp-${Math.floor(rnd() * cards)}`;
      const visit = { merchantId, at: Math.floor(rnd() * 120) * DAY + Math.floor(rnd() * DAY) };
      histories.get(card)!.push(visit);
      const s = seen.get(merchantId) ?? new Set<string>();
      s.add(card);
      seen.set(merchantId, s);
    }
    const from = 20 * DAY,
      to = 60 * DAY;
    const leaked = new Set<string>();
    for (const [card, visits] of histories)
      if (visits.some((v) => v.merchantId === merchantId && v.at >= from && v.at < to)) leaked.add(card);
    for (const card of leaked) if (rnd() < (o.fraudShare ?? 0.3)) fraud(card, (80 + rnd() * 30) * DAY);
    breached = { merchantId, from, to, leaked };
  }
  const cardsPerMerchant = new Map([...seen].map(([m, s]) => [m, s.size]));
  return {
    input: { frauds: [...frauds.values()], cardsPerMerchant, totalCards: cards },
    ...(breached ? { breached } : {}),
  };
}

describe('CPP detection', () => {
  it('finds the breached merchant among 2,000, and no neighbour sharing its cardholders', () => {
    for (const seed of [1, 2, 3]) {
      const w = world(seed, { breach: true });
      const suspects = detectCommonPoints(w.input);
      expect(suspects.map((s) => s.merchantId)).toEqual([w.breached!.merchantId]);
      const s = suspects[0]!;
      // The estimated window lies around the true one: the fraudulent cards' visits there.
      expect(s.windowStart).toBeLessThan(w.breached!.from + 15 * DAY);
      expect(s.windowEnd).toBeGreaterThanOrEqual(w.breached!.from);
      expect(s.fraudCards).toBeGreaterThan(s.expected * 5);
      expect(s.log10PValue).toBeLessThan(-3);
      // Every card it names passed through the breached merchant; most of them leaked there.
      const leakedShare = s.cards.filter((c) => w.breached!.leaked.has(c)).length / s.cards.length;
      expect(leakedShare).toBeGreaterThan(0.8);
    }
  });

  it('suspects nobody on five clean datasets (background fraud only)', () => {
    for (const seed of [11, 12, 13, 14, 15]) expect(detectCommonPoints(world(seed).input)).toEqual([]);
  });

  it('holds for a small merchant: 6 of its 8 cards fraudulent is a suspect, 3 of 3 is not (too few)', () => {
    const w = world(21, { merchants: 500, cards: 5_000 });
    const small = (id: string, n: number, frauds: number): FraudulentCard[] =>
      Array.from({ length: n }, (_, i) => ({
        card: `${id}-card-${i}`,
        firstFraudAt: 100 * DAY,
        weight: 1,
        visits: [
          { merchantId: id, at: 30 * DAY + i * DAY },
          { merchantId: `m${i}`, at: 40 * DAY },
        ],
      })).slice(0, frauds);
    const input: CppInput = {
      frauds: [...w.input.frauds, ...small('tiny-shop', 8, 6), ...small('tinier-shop', 3, 3)],
      cardsPerMerchant: new Map([...w.input.cardsPerMerchant, ['tiny-shop', 8], ['tinier-shop', 3]]),
      totalCards: w.input.totalCards + 11,
    };
    const suspects = detectCommonPoints(input);
    expect(suspects.map((s) => s.merchantId)).toEqual(['tiny-shop']);
    expect(suspects[0]).toMatchObject({ fraudCards: 6, windowStart: 30 * DAY, windowEnd: 35 * DAY });
  });

  it('weighs labels by trust: the same breach seen only through weak labels needs more cards', () => {
    const strong = world(4, { breach: true, fraudShare: 0.15 });
    expect(detectCommonPoints(strong.input).map((s) => s.merchantId)).toEqual([strong.breached!.merchantId]);
    const weak = world(4, { breach: true, fraudShare: 0.15, weight: () => 0.1 });
    expect(detectCommonPoints(weak.input)).toEqual([]);
  });

  it('ignores visits outside the lookback and at or after the first fraud', () => {
    const card = (i: number, at: number): FraudulentCard => ({
      card: `c${i}`,
      firstFraudAt: 200 * DAY,
      weight: 1,
      visits: [{ merchantId: 'shop', at }],
    });
    const input = (at: number): CppInput => ({
      frauds: Array.from({ length: 10 }, (_, i) => card(i, at)),
      cardsPerMerchant: new Map([
        ['shop', 10],
        ['elsewhere', 10_000],
      ]),
      totalCards: 100_000,
    });
    expect(detectCommonPoints(input(150 * DAY)).map((s) => s.merchantId)).toEqual(['shop']);
    expect(detectCommonPoints(input(50 * DAY))).toEqual([]); // 150 days before: outside 120
    expect(detectCommonPoints(input(200 * DAY))).toEqual([]); // the fraud itself
    expect(detectCommonPoints(input(50 * DAY), { lookbackMs: 160 * DAY })).toHaveLength(1);
  });
});

describe('the Poisson tail', () => {
  const naive = (k: number, lambda: number) => {
    let below = 0;
    for (let i = 0; i < k; i++) below += (Math.exp(-lambda) * lambda ** i) / Math.exp(logFactorial(i));
    return 1 - below;
  };

  it('matches the direct sum where that is accurate', () => {
    for (const [k, lambda] of [
      [1, 1],
      [3, 2.5],
      [5, 0.5],
      [10, 4],
      [2, 7],
      [20, 18],
    ] as const)
      expect(Math.exp(logPoissonUpperTail(k, lambda))).toBeCloseTo(naive(k, lambda), 10);
  });

  it('stays finite and monotone far in the tail, where the direct sum underflows to 0', () => {
    const a = logPoissonUpperTail(60, 0.2),
      b = logPoissonUpperTail(80, 0.2);
    expect(Number.isFinite(a) && Number.isFinite(b)).toBe(true);
    expect(b).toBeLessThan(a);
    expect(a / Math.LN10).toBeLessThan(-100);
    expect(logPoissonUpperTail(0, 3)).toBe(0);
    expect(logPoissonUpperTail(2.4, 0.01)).toBeCloseTo(logPoissonUpperTail(3, 0.01), 12); // weighted: from ⌈k⌉
  });

  it('log n! agrees with Stirling above the table', () => {
    let exact = 0;
    for (let i = 2; i <= 1500; i++) exact += Math.log(i);
    expect(logFactorial(1500)).toBeCloseTo(exact, 6);
  });
});
