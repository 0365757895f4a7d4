// Generated card histories with a known answer, for breach discovery's tests: cardholders shop
// near home (so a breached merchant's neighbours share its cards), a breach leaks the cards used
// at one merchant in a window, some of them turn fraudulent weeks later, amid background fraud.
import type { CardVisit, CppInput, FraudulentCard } from '../../services/core/cpp.ts';

export const DAY = 86_400_000;

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface World {
  /** Every card's visits (the breach's added). */
  histories: Map<string, CardVisit[]>;
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
export function world(
  seed: number,
  o: {
    merchants?: number;
    cards?: number;
    backgroundShare?: number;
    breach?: boolean;
    /** Cardholders from anywhere who also buy at the breached shop (an online shop). */
    breachCustomers?: number;
    fraudShare?: number;
    /** Each fraudulent card's label weight, by what made it fraudulent (default 1). */
    weight?: (kind: 'background' | 'breach') => number;
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
  const fraud = (card: string, firstFraudAt: number, kind: 'background' | 'breach') =>
    frauds.set(card, { card, firstFraudAt, weight: o.weight?.(kind) ?? 1, visits: histories.get(card)! });
  for (const card of histories.keys())
    if (rnd() < (o.backgroundShare ?? 0.004)) fraud(card, (100 + rnd() * 30) * DAY, 'background');
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
    for (const card of leaked) if (rnd() < (o.fraudShare ?? 0.3)) fraud(card, (80 + rnd() * 30) * DAY, 'breach');
    breached = { merchantId, from, to, leaked };
  }
  const cardsPerMerchant = new Map([...seen].map(([m, s]) => [m, s.size]));
  return {
    histories,
    input: { frauds: [...frauds.values()], cardsPerMerchant, totalCards: cards },
    ...(breached ? { breached } : {}),
  };
}
