// Common point of purchase (CPP) detection: which merchant did the cards that turned fraudulent
// pass through before their first fraud, more often than chance allows? Pure: the card histories,
// the fraud labels and the merchants' card counts come in, suspected points of compromise go out.
//
// The test, per merchant m: among the F fraudulent cards (each weighted by how far its label can be
// trusted), k visited m inside the lookback before their first fraud; by chance one would expect
// λ = F × (cards that visited m) / (all cards). An upper bound on the chance of k or more (the
// smaller of the Poisson tail and the Chernoff–Hoeffding bound: logUpperTail; exact enough for small
// merchants, where a normal approximation is not) is corrected for the number of merchants tested
// (Bonferroni: a false suspect anywhere is what costs genuine customers friction). A merchant needs
// at least `minCards` fraudulent cards besides. Cards defrauded where they shop are left out
// (defraudedWhereItShops): their fraud is not a stolen credential used elsewhere.
//
// Cardholders shop near each other, so a breached merchant's neighbours see some of its cards too.
// The scan is greedy and explains away: the most significant merchant is suspected, the fraudulent
// cards that passed through it are set aside, and the rest are tested again; a neighbour whose
// excess came from the breached merchant's cards falls back to chance.

export interface CardVisit {
  merchantId: string;
  /** Epoch ms, the transaction's own time (occurredAt). */
  at: number;
}

export interface FraudulentCard {
  /** The card's fingerprint (never a PAN). */
  card: string;
  /** Epoch ms of its first fraud. */
  firstFraudAt: number;
  /** How far the labels say it is fraud, 0..1 (a chargeback 1, an analyst's decision less, ...). */
  weight: number;
  /** The merchants it was used at (any order; visits at or after firstFraudAt are ignored). */
  visits: readonly CardVisit[];
  /**
   * Where its frauds happened: not where it leaked. A terminal compromised on the spot (skimmed,
   * defrauded there) would otherwise look like a common point for its own regular customers.
   */
  fraudMerchants?: readonly string[];
  /**
   * Where its earlier episodes' frauds happened, each from when: a visit there since then came from
   * a fraudster (the first of its frauds there), not the cardholder; it is never counted.
   */
  earlierFrauds?: readonly { merchantId: string; since: number }[];
}

export interface CppInput {
  frauds: readonly FraudulentCard[];
  /** Per merchant, how many distinct cards it saw in the period the frauds' lookbacks cover. */
  cardsPerMerchant: ReadonlyMap<string, number>;
  /** Distinct cards seen across all merchants in that period. */
  totalCards: number;
}

export interface CppOptions {
  /** How far before a card's first fraud its visits count (default 120 days). */
  lookbackMs?: number;
  /** The fewest fraudulent cards (unweighted) at a merchant to suspect it (default 5). */
  minCards?: number;
  /** Family-wise false-suspicion rate across all merchants tested (default 0.001). */
  alpha?: number;
  /** At most this many suspects per scan (default 10). */
  maxSuspects?: number;
}

export interface SuspectedPoint {
  merchantId: string;
  /** Fraudulent cards that passed through it before their first fraud (still unexplained at its turn). */
  fraudCards: number;
  /** Their weight sum, the k of the test. */
  weightedFraudCards: number;
  /** What chance would give: λ. */
  expected: number;
  /** log10 of the Bonferroni-corrected p-value (−12: one in a million million). */
  log10PValue: number;
  /** The estimated exposure window: the first and last visits of those cards there. */
  windowStart: number;
  windowEnd: number;
  /** The fingerprints of those cards. */
  cards: string[];
}

export const CPP_DEFAULTS: Required<CppOptions> = {
  lookbackMs: 120 * 86_400_000,
  minCards: 5,
  alpha: 0.001,
  maxSuspects: 10,
};

/** The suspected points of compromise, most significant first. */
export function detectCommonPoints(input: CppInput, options: CppOptions = {}): SuspectedPoint[] {
  const o = { ...CPP_DEFAULTS, ...options };
  const tested = [...input.cardsPerMerchant.values()].filter((n) => n > 0).length;
  if (tested === 0 || input.totalCards <= 0) return [];
  const logAlpha = Math.log(o.alpha);

  // Each fraudulent card's merchants inside its lookback (the cardholder's visits only), as
  // triples (merchant id, first visit, last visit) in one array for all cards, each card's in the
  // order of its first visit to each merchant: cards[c] has triples[starts[c]] up to ends[c]. A scan
  // holds every fraudulent card of its windows (hundreds of thousands at scale): a map of visit
  // lists per card took ~1,090 bytes a card of ten merchants, this ~500 (measured, 100,000 cards).
  const ids = new Map<string, number>();
  const names: string[] = [];
  const cards: FraudulentCard[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const taken = new Set<FraudulentCard>();
  let size = 0;
  for (const f of input.frauds) size += 3 * f.visits.length;
  const triples = new Float64Array(size);
  let used = 0;
  for (const f of input.frauds) {
    if (!(f.weight > 0) || taken.has(f)) continue;
    taken.add(f);
    const from = f.firstFraudAt - o.lookbackMs;
    if (defraudedWhereItShops(f, from)) continue;
    const start = used;
    const at = new Map<number, number>(); // merchant id → its triple's position
    for (const v of f.visits) {
      if (v.at < from || v.at >= f.firstFraudAt || !isHoldersVisit(f, v)) continue;
      let id = ids.get(v.merchantId);
      if (id === undefined) {
        ids.set(v.merchantId, (id = names.length));
        names.push(v.merchantId);
      }
      const k = at.get(id);
      if (k === undefined) {
        at.set(id, used);
        triples[used] = id;
        triples[used + 1] = v.at;
        triples[used + 2] = v.at;
        used += 3;
      } else if (v.at < triples[k + 1]!) triples[k + 1] = v.at;
      else if (v.at > triples[k + 2]!) triples[k + 2] = v.at;
    }
    if (used === start) continue;
    cards.push(f);
    starts.push(start);
    ends.push(used);
  }

  // Each round's tallies by merchant id; `order`: the ids in the order the round first met them
  // (cards in input order, each card's merchants by first visit), which breaks ties between
  // equally significant merchants.
  const weights = new Float64Array(names.length);
  const counts = new Int32Array(names.length);
  const order: number[] = [];
  let remaining = cards.map((_, c) => c);
  const suspects: SuspectedPoint[] = [];
  while (suspects.length < o.maxSuspects && remaining.length > 0) {
    weights.fill(0);
    counts.fill(0);
    order.length = 0;
    let fraudWeight = 0,
      maxWeight = 0;
    for (const c of remaining) {
      const weight = cards[c]!.weight;
      fraudWeight += weight;
      maxWeight = Math.max(maxWeight, weight);
      for (let k = starts[c]!; k < ends[c]!; k += 3) {
        const id = triples[k]!;
        if (counts[id] === 0) order.push(id);
        weights[id]! += weight;
        counts[id]!++;
      }
    }
    let best: { id: number; weight: number; cards: number; expected: number; logP: number } | undefined;
    for (const id of order) {
      const n = counts[id]!;
      if (n < o.minCards) continue;
      const population = input.cardsPerMerchant.get(names[id]!) ?? n;
      const expected = (fraudWeight * Math.max(population, n)) / input.totalCards;
      const logP = logUpperTail(weights[id]!, expected, remaining.length, maxWeight) + Math.log(tested);
      if (!best || logP < best.logP) best = { id, weight: weights[id]!, cards: n, expected, logP };
    }
    if (!best || best.logP >= logAlpha) break;
    const explained: string[] = [];
    const rest: number[] = [];
    let windowStart = Infinity,
      windowEnd = -Infinity;
    for (const c of remaining) {
      let k = starts[c]!;
      while (k < ends[c]! && triples[k] !== best.id) k += 3;
      if (k === ends[c]) {
        rest.push(c);
        continue;
      }
      explained.push(cards[c]!.card);
      windowStart = Math.min(windowStart, triples[k + 1]!);
      windowEnd = Math.max(windowEnd, triples[k + 2]!);
    }
    remaining = rest;
    suspects.push({
      merchantId: names[best.id]!,
      fraudCards: best.cards,
      weightedFraudCards: best.weight,
      expected: best.expected,
      log10PValue: Math.min(0, best.logP / Math.LN10),
      windowStart,
      windowEnd,
      cards: explained.sort(),
    });
  }
  return suspects;
}

/** A visit that can be the cardholder's: not at this episode's fraud merchants, nor at an earlier episode's since its fraud there. */
export function isHoldersVisit(f: Pick<FraudulentCard, 'fraudMerchants' | 'earlierFrauds'>, v: CardVisit): boolean {
  if (f.fraudMerchants?.includes(v.merchantId)) return false;
  return !f.earlierFrauds?.some((e) => e.merchantId === v.merchantId && v.at >= e.since);
}

/**
 * A card defrauded at a merchant it had used before (a terminal compromised on the spot, a
 * household member, a disputed purchase at the cardholder's own shop) says nothing about where
 * credentials were stolen to be used elsewhere: it is left out of the test. Breach fraud happens
 * at merchants the card never used.
 */
function defraudedWhereItShops(f: FraudulentCard, from: number): boolean {
  const fraudMerchants = f.fraudMerchants;
  if (!fraudMerchants?.length) return false;
  return f.visits.some((v) => v.at >= from && v.at < f.firstFraudAt && fraudMerchants.includes(v.merchantId));
}

/**
 * ln of an upper bound on P(S ≥ k): S the weighted count of the n fraudulent cards that visited a
 * merchant, each term in [0, maxWeight], mean λ. The smaller of two valid bounds: the Poisson tail
 * (tight when few of the cards visited it) and the Chernoff–Hoeffding bound on the terms scaled to
 * [0, 1], which holds for any mix of card activity and label weights and is tight when most of them
 * did (k of k at a merchant with a share p: p^k, where the Poisson tail is far weaker).
 */
export function logUpperTail(k: number, lambda: number, n: number, maxWeight: number): number {
  const w = maxWeight > 0 ? maxWeight : 1;
  return Math.min(logPoissonUpperTail(k, lambda), logChernoffUpperTail(k / w, lambda / w, n));
}

/** ln of the Chernoff–Hoeffding bound on P(S ≥ k), S a sum of n independent terms in [0, 1] with mean λ. */
export function logChernoffUpperTail(k: number, lambda: number, n: number): number {
  if (!(k > lambda) || !(lambda > 0) || !(n > 0) || !Number.isFinite(n)) return 0;
  const a = Math.min(1, k / n),
    mu = lambda / n;
  if (mu <= 0) return -Infinity;
  if (mu >= 1) return 0;
  const kl = a * Math.log(a / mu) + (a < 1 ? (1 - a) * Math.log((1 - a) / (1 - mu)) : 0);
  return -n * kl;
}

/**
 * ln P(X ≥ k) for X ~ Poisson(λ), k real ≥ 0 (a weighted count: the tail from ⌈k⌉, the
 * conservative side). Summed upwards from ⌈k⌉ in log space: exact where the tail is tiny.
 */
export function logPoissonUpperTail(k: number, lambda: number): number {
  const start = Math.ceil(k - 1e-9);
  if (start <= 0) return 0;
  if (!(lambda > 0)) return -Infinity;
  // Far below the mean the tail is ~1: the complement's sum is then the accurate one.
  if (start <= lambda) {
    let below = 0;
    for (let i = 0; i < start; i++) below += Math.exp(-lambda + i * Math.log(lambda) - logFactorial(i));
    return Math.log(Math.max(1 - below, Number.MIN_VALUE));
  }
  const first = -lambda + start * Math.log(lambda) - logFactorial(start);
  // Terms fall by λ / (i + 1) < 1 from here: add them relative to the first.
  let sum = 1,
    term = 1;
  for (let i = start + 1; term > 1e-17 * sum && i < start + 10_000; i++) {
    term *= lambda / i;
    sum += term;
  }
  return first + Math.log(sum);
}

const LOG_FACTORIALS: number[] = [0];
/** ln n!, exact by sums up to 1,000, Stirling's series above. */
export function logFactorial(n: number): number {
  if (n < LOG_FACTORIALS.length) return LOG_FACTORIALS[n]!;
  if (n <= 1000) {
    for (let i = LOG_FACTORIALS.length; i <= n; i++) LOG_FACTORIALS[i] = LOG_FACTORIALS[i - 1]! + Math.log(i);
    return LOG_FACTORIALS[n]!;
  }
  return n * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI * n) + 1 / (12 * n) - 1 / (360 * n ** 3);
}
