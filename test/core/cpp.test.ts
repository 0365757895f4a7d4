// CPP detection on generated card histories with a known answer: cardholders shop near home (so a
// breached merchant's neighbours share its cards), a breach leaks the cards used at one merchant
// in a window, some of them turn fraudulent weeks later, amid background fraud everywhere.
import { describe, expect, it } from 'vitest';
import {
  activityOf,
  detectCommonPoints,
  expectedWeight,
  detectPacked,
  logFactorial,
  logChernoffUpperTail,
  logPoissonUpperTail,
  logUpperTail,
  type CppInput,
  type FraudulentCard,
  PackedFrauds,
  CARDS_BETWEEN_TURNS,
  detectPackedYielding,
  requiredFraudShare,
} from '../../services/core/cpp.ts';
import { DAY, world } from '../support/cpp-world.ts';

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

  it('does not take a merchant where the cards were defrauded (a terminal compromised on the spot) for where they leaked', () => {
    const w = world(31, { merchants: 500, cards: 5_000 });
    // 12 regulars of shop-z, defrauded at shop-z itself on day 100 (skimmed there).
    const onTheSpot: FraudulentCard[] = Array.from({ length: 12 }, (_, i) => ({
      card: `z-${i}`,
      firstFraudAt: 100 * DAY,
      weight: 1,
      visits: [
        { merchantId: 'shop-z', at: 40 * DAY + i * DAY },
        { merchantId: 'shop-z', at: 100 * DAY },
      ],
    }));
    const input: CppInput = {
      frauds: [...w.input.frauds, ...onTheSpot],
      cardsPerMerchant: new Map([...w.input.cardsPerMerchant, ['shop-z', 40]]),
      totalCards: w.input.totalCards + 40,
    };
    // Without knowing where the frauds happened, shop-z looks like a common point...
    expect(detectCommonPoints(input).map((s) => s.merchantId)).toEqual(['shop-z']);
    // ...told, it is not.
    const told = {
      ...input,
      frauds: input.frauds.map((f) => (f.card.startsWith('z-') ? { ...f, fraudMerchants: ['shop-z'] } : f)),
    };
    expect(detectCommonPoints(told)).toEqual([]);
  });

  it('does not take the merchant where stolen cards were tested, minutes before their fraud, for where they leaked', () => {
    const w = world(41, { merchants: 500, cards: 5_000 });
    // 40 cards, each tried at the same weak merchant 10 minutes before its fraud elsewhere.
    const tested: FraudulentCard[] = Array.from({ length: 40 }, (_, i) => ({
      card: `t-${i}`,
      firstFraudAt: 100 * DAY + i * 3_600_000,
      weight: 1,
      fraudMerchants: ['web-shop'],
      visits: [{ merchantId: 'tester', at: 100 * DAY + i * 3_600_000 - 600_000 }],
    }));
    const input: CppInput = {
      frauds: [...w.input.frauds, ...tested],
      cardsPerMerchant: new Map([...w.input.cardsPerMerchant, ['tester', 60]]),
      totalCards: w.input.totalCards + 60,
    };
    expect(detectCommonPoints(input)).toEqual([]);
    // The same cards having used it two days before their fraud: a common point.
    const earlier = tested.map((f) => ({ ...f, visits: [{ merchantId: 'tester', at: f.firstFraudAt - 2 * DAY }] }));
    expect(detectCommonPoints({ ...input, frauds: [...w.input.frauds, ...earlier] }).map((s) => s.merchantId)).toEqual([
      'tester',
    ]);
  });

  it('does not name a merchant that the defrauded kind of card favours (busy cards shop there more), without a breach', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    // 20,000 cards: the first 4,000 busy ones use the market one time in five, the rest one in twenty.
    const cardsPerMerchant = new Map<string, number>();
    const visitsOf: { merchantId: string; at: number }[][] = [];
    for (let c = 0; c < 20_000; c++) {
      const visits = Array.from({ length: 3 }, () => ({
        merchantId: `shop-${Math.floor(rnd() * 1_000)}`,
        at: (20 + rnd() * 60) * DAY,
      }));
      if (rnd() < (c < 4_000 ? 0.2 : 0.05)) visits.push({ merchantId: 'market', at: (20 + rnd() * 60) * DAY });
      for (const m of new Set(visits.map((v) => v.merchantId)))
        cardsPerMerchant.set(m, (cardsPerMerchant.get(m) ?? 0) + 1);
      visitsOf.push(visits);
    }
    // 2,000 of the busy cards defrauded online (no breach): about 2.5 times the market's share.
    const frauds: FraudulentCard[] = Array.from({ length: 2_000 }, (_, c) => ({
      card: `busy-${c}`,
      firstFraudAt: (100 + rnd() * 2) * DAY,
      weight: 1,
      fraudMerchants: ['web'],
      visits: visitsOf[c]!,
    }));
    const input: CppInput = { frauds, cardsPerMerchant, totalCards: 20_000 };
    const market = frauds.filter((f) => f.visits.some((v) => v.merchantId === 'market')).length;
    const expected = (2_000 * cardsPerMerchant.get('market')!) / 20_000;
    expect(market / expected).toBeGreaterThan(2);
    expect(market / expected).toBeLessThan(3);
    expect(detectCommonPoints(input)).toEqual([]);
    // Without the lift it needs, the chance model alone names it.
    expect(detectCommonPoints(input, { minLift: 0 }).map((p) => p.merchantId)).toEqual(['market']);
  });

  it("counts a busy card as that many average cards: fraud on busy cards names no big merchant, a breach's cards are still named", () => {
    let seed = 21;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    // 20,000 cards; each visit goes to the market one time in twenty, else to one of 1,000 shops. The
    // first 4,000 are busy (40 visits: the market among them 87 % of the time), the rest make 3.
    const cardsPerMerchant = new Map<string, number>();
    const visitsOf: { merchantId: string; at: number }[][] = [];
    for (let c = 0; c < 20_000; c++) {
      const visits = Array.from({ length: c < 4_000 ? 40 : 3 }, () => ({
        merchantId: rnd() < 0.05 ? 'market' : `shop-${Math.floor(rnd() * 1_000)}`,
        at: (20 + rnd() * 60) * DAY,
      }));
      if (c >= 4_000 && c < 4_300) visits.push({ merchantId: 'breached', at: (20 + rnd() * 60) * DAY });
      for (const m of new Set(visits.map((v) => v.merchantId)))
        cardsPerMerchant.set(m, (cardsPerMerchant.get(m) ?? 0) + 1);
      visitsOf.push(visits);
    }
    const pairs = [...cardsPerMerchant.values()].reduce((a, b) => a + b, 0);
    const card = (c: number): FraudulentCard => ({
      card: `c${c}`,
      firstFraudAt: (100 + rnd() * 2) * DAY,
      weight: 1,
      fraudMerchants: ['web'],
      visits: visitsOf[c]!,
    });
    // 2,000 busy cards defrauded online, no breach: the market is among nearly all of their merchants.
    const busy = Array.from({ length: 2_000 }, (_, c) => card(c));
    const population = { cardsPerMerchant, totalCards: 20_000 };
    // Counted as average cards, they make the market and busy cards' shops suspects (up to maxSuspects).
    const uncontrolled = detectCommonPoints({ frauds: busy, ...population }).map((p) => p.merchantId);
    expect(uncontrolled[0]).toBe('market');
    expect(uncontrolled.length).toBeGreaterThan(5);
    const controlled = { ...population, merchantsPerCard: pairs / 20_000 };
    expect(controlled.merchantsPerCard).toBeGreaterThan(9);
    expect(detectCommonPoints({ frauds: busy, ...controlled })).toEqual([]);
    // 60 of the breached merchant's 300 cards (average ones) defrauded beside 200 of the busy ones: named all the same.
    const breach = [...busy.slice(0, 200), ...Array.from({ length: 60 }, (_, i) => card(4_000 + i * 5))];
    expect(detectCommonPoints({ frauds: breach, ...controlled }).map((p) => p.merchantId)).toEqual(['breached']);
  });

  it('counts a card as average when its merchants, less the one tested, are not more than the average card', () => {
    expect(activityOf(6, 5.15)).toBe(1);
    expect(activityOf(1, 0.5)).toBe(1);
    expect(activityOf(41, 10)).toBe(4);
    expect(activityOf(41, 0)).toBe(1);
    // r × share, at most certain.
    expect(
      expectedWeight(
        0.1,
        new Map([
          [1, 10],
          [4, 5],
        ]),
      ),
    ).toBeCloseTo(10 * 0.1 + 5 * 0.4);
    expect(expectedWeight(0.3, new Map([[4, 5]]))).toBe(5);
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

  it('weighs labels by trust: beside chargebacks, the same breach seen only through weak labels needs more cards', () => {
    const strong = world(4, { breach: true, fraudShare: 0.15 });
    expect(detectCommonPoints(strong.input).map((s) => s.merchantId)).toEqual([strong.breached!.merchantId]);
    const weak = world(4, { breach: true, fraudShare: 0.15, weight: (kind) => (kind === 'breach' ? 0.1 : 1) });
    expect(detectCommonPoints(weak.input)).toEqual([]);
    // Weak labels alone are as good as strong ones alone: a label's trust matters against other labels.
    const allWeak = world(4, { breach: true, fraudShare: 0.15, weight: () => 0.1 });
    expect(detectCommonPoints(allWeak.input).map((s) => s.merchantId)).toEqual([strong.breached!.merchantId]);
  });

  it('leaves out a card defrauded where it shops, and counts one defrauded elsewhere', () => {
    // 12 cards that all used 'shop' before their fraud, in a world where 1 card in 20 did.
    const cards = (fraudMerchant: string): FraudulentCard[] =>
      Array.from({ length: 12 }, (_, i) => ({
        card: `c${i}`,
        firstFraudAt: 100 * DAY,
        weight: 1,
        fraudMerchants: [fraudMerchant],
        visits: [
          { merchantId: 'shop', at: 60 * DAY },
          { merchantId: `regular-${i}`, at: 70 * DAY },
        ],
      }));
    const input = (fraudMerchant: string): CppInput => ({
      frauds: cards(fraudMerchant),
      cardsPerMerchant: new Map([
        ['shop', 500],
        ...Array.from({ length: 12 }, (_, i): [string, number] => [`regular-${i}`, 30]),
      ]),
      totalCards: 10_000,
    });
    expect(detectCommonPoints(input('web-shop')).map((s) => s.merchantId)).toEqual(['shop']);
    // Defrauded at 'shop' itself: on the spot, not stolen there to be used elsewhere.
    expect(detectCommonPoints(input('shop'))).toEqual([]);
  });

  it('finds a merchant with a large share from fewer cards than a Poisson tail would (k of k: p^k)', () => {
    // A chain that 20 % of all cards use; 14 fraudulent cards, all of which used it.
    const frauds: FraudulentCard[] = Array.from({ length: 14 }, (_, i) => ({
      card: `c${i}`,
      firstFraudAt: 100 * DAY,
      weight: 1,
      visits: [{ merchantId: 'chain', at: 60 * DAY }],
    }));
    const input: CppInput = {
      frauds,
      cardsPerMerchant: new Map([
        ['chain', 2_000],
        ...Array.from({ length: 999 }, (_, i): [string, number] => [`m${i}`, 50]),
      ]),
      totalCards: 10_000,
    };
    const [s] = detectCommonPoints(input, { alpha: 1e-6, minCards: 10 });
    expect(s?.merchantId).toBe('chain');
    // 0.2^14 ≈ 1.6e-10, × 1,000 merchants tested: 1.6e-7; a Poisson(2.8) tail at 14 is ≈ 2e-6 before the correction.
    expect(s!.log10PValue).toBeCloseTo(14 * Math.log10(0.2) + 3, 1);
    expect(logPoissonUpperTail(14, 2.8) / Math.LN10 + 3).toBeGreaterThan(Math.log10(1e-6));
  });

  it('names a chain used by more than a third of all cards when its breach is clear (3 times chance is out of reach there)', () => {
    // 10,000 cards, 4,000 of them at the chain; 200 fraudulent cards, all of which used it: 200
    // against 80 expected (2.5 times), p ≈ 1e-77. Its lift can never reach 3: at most 200 of 200.
    const chainWorld = (usedChain: number): CppInput => ({
      frauds: Array.from({ length: 200 }, (_, i) => ({
        card: `c${i}`,
        firstFraudAt: 100 * DAY,
        weight: 1,
        visits: [
          { merchantId: i < usedChain ? 'bigchain' : `m${i % 999}`, at: 60 * DAY },
          { merchantId: `m${(i * 7) % 999}`, at: 61 * DAY },
        ],
      })),
      cardsPerMerchant: new Map([
        ['bigchain', 4_000],
        ...Array.from({ length: 999 }, (_, i): [string, number] => [`m${i}`, 60]),
      ]),
      totalCards: 10_000,
    });
    const [s] = detectCommonPoints(chainWorld(200), { alpha: 1e-6, minCards: 10 });
    expect(s?.merchantId).toBe('bigchain');
    expect(s!.fraudCards).toBe(200);
    expect(s!.log10PValue).toBeLessThan(-70);
    // Its requirement is halfway from its share to all of them: 70 % of the fraudulent cards.
    expect(requiredFraudShare(0.4, 3)).toBeCloseTo(0.7, 12);
    expect(detectCommonPoints(chainWorld(140), { alpha: 1e-6, minCards: 10 })[0]?.merchantId).toBe('bigchain');
    // 130 of 200 (65 %, 1.6 times chance): significant (p ≈ 1e-26), but not named.
    expect(detectCommonPoints(chainWorld(130), { alpha: 1e-6, minCards: 10 })).toEqual([]);
    expect(detectCommonPoints(chainWorld(130), { alpha: 1e-6, minCards: 10, minLift: 1 })[0]?.merchantId).toBe(
      'bigchain',
    );
    // Below a share of 0.2 the requirement is 3 times chance, as before; continuous at 0.2.
    expect(requiredFraudShare(0.05, 3)).toBeCloseTo(0.15, 12);
    expect(requiredFraudShare(0.2, 3)).toBeCloseTo(0.6, 12);
    expect(requiredFraudShare(0.2 + 1e-9, 3)).toBeCloseTo(0.6, 6);
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

  it('takes no card as evidence against the merchant whose own suspicion asked for its failed step-up; against its other merchants it is', () => {
    // Twelve cards used shop-a (suspected already, its event lists them), then shop-b; their only
    // labels are failed step-ups that shop-a's suspicion asked for.
    const cards = (notEvidenceFor?: string[]): FraudulentCard[] =>
      Array.from({ length: 12 }, (_, i) => ({
        card: `c${i}`,
        firstFraudAt: 200 * DAY,
        weight: 0.5,
        ...(notEvidenceFor ? { notEvidenceFor } : {}),
        visits: [
          { merchantId: 'shop-a', at: (100 + i) * DAY },
          { merchantId: 'shop-b', at: (150 + i) * DAY },
        ],
      }));
    const input = (frauds: FraudulentCard[]): CppInput => ({
      frauds,
      cardsPerMerchant: new Map([
        ['shop-a', 12],
        ['shop-b', 12],
      ]),
      totalCards: 100_000,
    });
    // Counted for shop-a, its own challenges would keep it suspected (it is met first and explains shop-b away).
    expect(detectCommonPoints(input(cards())).map((p) => p.merchantId)).toEqual(['shop-a']);
    // Not evidence against shop-a: still against shop-b (a second breach whose cards had used the first).
    expect(detectCommonPoints(input(cards(['shop-a']))).map((p) => p.merchantId)).toEqual(['shop-b']);
    // Asked by both suspicions: evidence against neither.
    expect(detectCommonPoints(input(cards(['shop-a', 'shop-b'])))).toEqual([]);
  });

  it('breaks a tie by the order the cards met the merchants, counts a card given twice once, and dates a window by first and last visits', () => {
    // Ten cards used two shops of the same size, each at two times; the second shop first.
    const cards: FraudulentCard[] = Array.from({ length: 10 }, (_, i) => ({
      card: `c${i}`,
      firstFraudAt: 200 * DAY,
      weight: 1,
      visits: [
        { merchantId: 'shop-b', at: (100 + i) * DAY },
        { merchantId: 'shop-a', at: (120 + i) * DAY },
        { merchantId: 'shop-b', at: (90 - i) * DAY },
        { merchantId: 'shop-a', at: (130 + i) * DAY },
      ],
    }));
    const input = (frauds: FraudulentCard[]): CppInput => ({
      frauds,
      cardsPerMerchant: new Map([
        ['shop-a', 10],
        ['shop-b', 10],
      ]),
      totalCards: 100_000,
    });
    const [first, ...rest] = detectCommonPoints(input([...cards, cards[3]!]));
    // Equally significant: the first met is suspected, and explains the other away.
    expect(rest).toEqual([]);
    expect(first).toMatchObject({ merchantId: 'shop-b', fraudCards: 10, weightedFraudCards: 10 });
    expect([first!.windowStart, first!.windowEnd]).toEqual([81 * DAY, 109 * DAY]);
    // Their first frauds came 91 to 100 days after their last visit there: the 90th percentile, the 9th of 10.
    expect(first!.fraudDelayMs).toBe(99 * DAY);
    expect(first!.cards).toEqual(cards.map((c) => c.card).sort());
    const swapped = cards.map((c) => ({ ...c, visits: [...c.visits].reverse() }));
    expect(detectCommonPoints(input(swapped)).map((p) => p.merchantId)).toEqual(['shop-a']);
  });
});

describe('packed fraudulent cards (what a scan holds)', () => {
  it('answers for any subset of the cards (a scan window) what the detection answers for those cards alone', () => {
    for (const seed of [1, 2]) {
      const w = world(seed, { breach: true });
      const packed = new PackedFrauds();
      // Cards packed one by one without their visits kept: the scan's pages.
      for (const { visits, ...head } of w.input.frauds) packed.add(head, visits);
      for (const since of [0, 110 * DAY, 120 * DAY, 125 * DAY]) {
        const recent = w.input.frauds.filter((f) => f.firstFraudAt >= since);
        const numbers = packed.all().filter((c) => packed.cards[c]!.firstFraudAt >= since);
        const alone = detectCommonPoints({ ...w.input, frauds: recent });
        expect(detectPacked(packed, numbers, w.input)).toEqual(alone);
        if (since === 0) expect(alone.map((s) => s.merchantId)).toEqual([w.breached!.merchantId]);
      }
    }
  });

  it('answers the same when it hands the event loop turns (detectPackedYielding), and takes them', async () => {
    const w = world(1, { breach: true });
    const packed = new PackedFrauds();
    for (const { visits, ...head } of w.input.frauds) packed.add(head, visits);
    // The same cards many times over (the population as many times): several stretches of CARDS_BETWEEN_TURNS.
    const times = Math.ceil((3 * CARDS_BETWEEN_TURNS) / packed.cards.length);
    const cards = Array.from({ length: times }, () => packed.all()).flat();
    const population = {
      cardsPerMerchant: new Map([...w.input.cardsPerMerchant].map(([m, n]) => [m, n * times])),
      totalCards: w.input.totalCards * times,
    };
    let turns = 0;
    const counting = setInterval(() => turns++, 0);
    try {
      const yielding = await detectPackedYielding(packed, cards, population);
      expect(yielding).toEqual(detectPacked(packed, cards, population));
      expect(yielding.length).toBeGreaterThan(0);
    } finally {
      clearInterval(counting);
    }
    expect(turns).toBeGreaterThan(0);
  });

  it('keeps each card whole in one block across blocks, with its first and last visit per merchant', () => {
    // 4,000 cards of 100 merchants each: 1.2 million numbers, more than one block holds.
    const visitsOf = (i: number) =>
      Array.from({ length: 200 }, (_, j) => ({ merchantId: `m${(i + j) % 100}`, at: (j + 1) * DAY + (i % 7) }));
    const packed = new PackedFrauds(300 * DAY);
    const frauds: FraudulentCard[] = Array.from({ length: 4_000 }, (_, i) => ({
      card: `c${i}`,
      firstFraudAt: 250 * DAY,
      weight: 1,
      visits: visitsOf(i),
    }));
    for (const f of frauds) expect(packed.add(f, f.visits)).toBe(true);
    expect(packed.blocks.length).toBeGreaterThan(1);
    for (const c of [0, 1_234, 3_999]) {
      const triples = packed.blocks[packed.blockOf[c]!]!;
      const got = [];
      for (let k = packed.starts[c]!; k < packed.ends[c]!; k += 3)
        got.push([packed.names[triples[k]!], triples[k + 1], triples[k + 2]]);
      // Merchant m(c+j) is visited on days j + 1 and j + 101, first met in that order.
      const want = Array.from({ length: 100 }, (_, j) => [
        `m${(c + j) % 100}`,
        (j + 1) * DAY + (c % 7),
        (j + 101) * DAY + (c % 7),
      ]);
      expect(got).toEqual(want);
    }
  });

  it('numbers the merchants of every cardholder visit in a lookback (the candidates), packs only the cards it can test', () => {
    const packed = new PackedFrauds(100 * DAY);
    const at = 200 * DAY;
    const visit = (merchantId: string, day: number) => ({ merchantId, at: day * DAY });
    expect(packed.add({ card: 'a', firstFraudAt: at, weight: 1 }, [visit('old', 50), visit('kept', 150)])).toBe(true);
    // No weight, or defrauded where it shops: not tested, but its merchants were candidates.
    expect(packed.add({ card: 'b', firstFraudAt: at, weight: 0 }, [visit('weightless', 150)])).toBe(false);
    expect(
      packed.add({ card: 'c', firstFraudAt: at, weight: 1, fraudMerchants: ['home'] }, [
        visit('home', 120),
        visit('beside-home', 130),
      ]),
    ).toBe(false);
    // Visits at or after the first fraud, or at an earlier fraud's merchant since then: nobody's.
    expect(
      packed.add({ card: 'd', firstFraudAt: at, weight: 1, earlierFrauds: [{ merchantId: 'x', since: 140 * DAY }] }, [
        visit('after', 200),
        visit('x', 150),
      ]),
    ).toBe(false);
    expect(packed.names).toEqual(['kept', 'weightless', 'beside-home']);
    expect(packed.cards.map((f) => f.card)).toEqual(['a']);
    const triples = packed.blocks[packed.blockOf[0]!]!;
    expect([...triples.subarray(packed.starts[0], packed.ends[0])]).toEqual([0, 150 * DAY, 150 * DAY]);
  });
});

describe('the window and delay of a suspect: the last visit before each fraud', () => {
  it("takes each card's last visit there before its fraud; one seen there again since, known by its first visit alone, tells no delay", () => {
    const DAYS = (d: number) => d * DAY;
    // 8 cards of 'grocer' (a regular's first visit on day 1, its last before the fraud days 50–53),
    // 4 more seen there again after their fraud (first visit day 2, then day 99: what the stores keep).
    const frauds: FraudulentCard[] = [];
    for (let i = 0; i < 12; i++)
      frauds.push({
        card: `r${i}`,
        firstFraudAt: DAYS(55),
        weight: 1,
        visits:
          i < 8
            ? [
                { merchantId: 'grocer', at: DAYS(1) },
                { merchantId: 'grocer', at: DAYS(50 + (i % 4)) },
              ]
            : [
                { merchantId: 'grocer', at: DAYS(2) },
                { merchantId: 'grocer', at: DAYS(99) },
              ],
      });
    const [suspect] = detectCommonPoints(
      { frauds, cardsPerMerchant: new Map([['grocer', 20]]), totalCards: 100_000 },
      { minCards: 5 },
    );
    expect(suspect).toMatchObject({ merchantId: 'grocer', windowStart: DAYS(1), windowEnd: DAYS(53) });
    expect(suspect!.fraudDelayMs).toBe(DAYS(5));
    // None known: the first visits tell it.
    const [unknown] = detectCommonPoints(
      {
        frauds: frauds.slice(8).concat(frauds.slice(8).map((f) => ({ ...f, card: `${f.card}'` }))),
        cardsPerMerchant: new Map([['grocer', 20]]),
        totalCards: 100_000,
      },
      { minCards: 5 },
    );
    expect(unknown).toMatchObject({ windowEnd: DAYS(2), fraudDelayMs: DAYS(53) });
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

describe('the Chernoff–Hoeffding bound', () => {
  const binomialTail = (n: number, p: number, k: number) => {
    let sum = 0;
    for (let i = k; i <= n; i++)
      sum += Math.exp(
        logFactorial(n) - logFactorial(i) - logFactorial(n - i) + i * Math.log(p) + (n - i) * Math.log(1 - p),
      );
    return sum;
  };

  it('bounds the binomial tail from above, and is exact at k = n', () => {
    for (const n of [5, 20, 80])
      for (const p of [0.01, 0.1, 0.3])
        for (let k = Math.ceil(n * p) + 1; k <= n; k++)
          expect(logChernoffUpperTail(k, n * p, n)).toBeGreaterThanOrEqual(Math.log(binomialTail(n, p, k)) - 1e-9);
    expect(logChernoffUpperTail(12, 12 * 0.15, 12)).toBeCloseTo(12 * Math.log(0.15), 9);
  });

  it('says nothing at or below the mean, and is the smaller of the two bounds in logUpperTail', () => {
    expect(logChernoffUpperTail(3, 3, 10)).toBe(0);
    expect(logChernoffUpperTail(2, 3, 10)).toBe(0);
    expect(logUpperTail(12, 1.8, 12, 1)).toBeCloseTo(Math.min(logPoissonUpperTail(12, 1.8), 12 * Math.log(0.15)), 9);
    // Weights scale to [0, 1] by the largest: six cards of weight 0.5 are six cards.
    expect(logUpperTail(3, 0.45, 6, 0.5)).toBeCloseTo(
      Math.min(logPoissonUpperTail(3, 0.45), logChernoffUpperTail(6, 0.9, 6)),
      9,
    );
  });
});
