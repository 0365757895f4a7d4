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
  /**
   * Merchants this card is no evidence against: every label of its episode is a failed 3-D Secure
   * step-up that their own suspected breach asked for (the card was listed on it). About one genuine
   * holder in ten abandons a challenge; counted for the merchant whose suspicion asked, those
   * abandonments would keep any suspicion, true or false, alive for as long as its cards shop.
   */
  notEvidenceFor?: readonly string[];
}

export interface CppInput {
  frauds: readonly FraudulentCard[];
  /** Per merchant, how many distinct cards it saw in the period the frauds' lookbacks cover. */
  cardsPerMerchant: ReadonlyMap<string, number>;
  /** Distinct cards seen across all merchants in that period. */
  totalCards: number;
  /**
   * How many merchants the average card used in that period (distinct card–merchant pairs over
   * distinct cards): the control for card activity. Absent or 0: every card counts as average.
   */
  merchantsPerCard?: number;
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
  /**
   * The fewest times more fraudulent cards than chance (activity controlled: activityOf) a suspect
   * must have (default 3). The chance model takes no account of which merchants a kind of card
   * favours: over thousands of fraudulent cards, a merchant their kind of card favours (a region's
   * cards under a BIN attack) shows a steady excess of 2-3× with a vanishing p-value. A breach's
   * cards are many times chance.
   * Capped for a merchant of a large share, where the lift cannot be reached: requiredFraudShare.
   */
  minLift?: number;
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
  /**
   * The estimated exposure window: from the first visit of those cards there to the latest of
   * their last visits there before their frauds (each card's visit that explains its fraud at the
   * latest; a card whose last visit kept is after its fraud, a first visit alone known before it,
   * gives that one).
   */
  windowStart: number;
  windowEnd: number;
  /**
   * How long after their last visit there before their first fraud those cards showed it (the
   * 90th percentile, ms): a compromising visit older than this would, as a rule, have shown by now.
   * Told by the cards whose last visit before their fraud is known (a card seen there again since
   * is known by its first visit alone, which would overstate it), all of them when none is.
   */
  fraudDelayMs: number;
  /** The fingerprints of those cards. */
  cards: string[];
}

export const CPP_DEFAULTS: Required<CppOptions> = {
  lookbackMs: 120 * 86_400_000,
  minCards: 5,
  alpha: 0.001,
  maxSuspects: 10,
  minLift: 3,
};

/** The suspected points of compromise, most significant first. */
export function detectCommonPoints(input: CppInput, options: CppOptions = {}): SuspectedPoint[] {
  const o = { ...CPP_DEFAULTS, ...options };
  const packed = new PackedFrauds(o.lookbackMs);
  const taken = new Set<FraudulentCard>();
  for (const f of input.frauds)
    if (!taken.has(f)) {
      taken.add(f);
      packed.add(f, f.visits);
    }
  return detectPacked(packed, packed.all(), input, o);
}

/**
 * Visits in the day before a card's first fraud are not the cardholder's to test: a fraudster
 * tries a stolen card at a few weak merchants (approved, or declined without a label) minutes
 * before using it, the same ones for every card, and those merchants would be named as breaches.
 * Credentials stolen at a breach are used days later, once sold (the published generator's delay
 * is 3 days at least).
 */
export const TESTING_GAP_MS = 86_400_000;

/** A fraudulent card without its visits: what PackedFrauds keeps of it beside its packed merchants. */
export type FraudulentCardHead = Omit<FraudulentCard, 'visits'>;

/** Numbers a block of PackedFrauds holds at most (8 MiB); a card's triples never straddle two blocks. */
const BLOCK_NUMBERS = 3 * 349_525;
/** The first block's size: a small scan holds a small array. */
const FIRST_BLOCK_NUMBERS = 3 * 1024;

/**
 * Fraudulent cards as the detection reads them: each card's merchants inside its lookback (the
 * cardholder's visits only) as triples (merchant number, first visit, last visit), in the order of
 * its first visit to each (the last visit NaN when unknown: one visit there inside the lookback and
 * another after it, where the stores, which keep a card's first and last visit to a merchant, hold
 * none of those between), in blocks of one Float64Array for many cards. A scan holds every
 * fraudulent card of its windows (hundreds of thousands at scale) and packs each as its visits are
 * read, so that the visits' objects of one page of cards are alive at once: a map of visit lists per
 * card took ~1,090 bytes a card of ten merchants, these triples ~290 (bench:cpp, 100,000 cards).
 */
export class PackedFrauds {
  /**
   * Merchant ids by number: every merchant a cardholder's visit inside its card's lookback reached,
   * in the order first met, whether its card was packed or not (what a scan counts and tests).
   */
  readonly names: string[] = [];
  readonly cards: FraudulentCardHead[] = [];
  /** The triples, by block; per card, its block and its triples' first and past-the-last positions there. */
  readonly blocks: Float64Array[] = [];
  readonly blockOf: number[] = [];
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  private readonly numbers = new Map<string, number>();
  /** Numbers used in the last block. */
  private used = 0;
  /** Per merchant number n: at 2n the card (add's count) that last met it, at 2n + 1 where its triple is. */
  private met = new Int32Array(2 * 1024);
  private added = 0;
  private readonly lookbackMs: number;

  constructor(lookbackMs: number = CPP_DEFAULTS.lookbackMs) {
    this.lookbackMs = lookbackMs;
  }

  /** Packs a card (its visits are not kept); false when it has nothing to test (no weight, defrauded where it shops, no visit in its lookback). */
  add(f: FraudulentCardHead, visits: readonly CardVisit[]): boolean {
    const from = f.firstFraudAt - this.lookbackMs;
    const until = f.firstFraudAt - TESTING_GAP_MS;
    const stamp = ++this.added;
    // Room for every visit (the triples are fewer: one per merchant).
    const triples = this.room(3 * visits.length);
    const start = this.used;
    for (const v of visits) {
      if (v.at < from || v.at >= until || !isHoldersVisit(f, v) || f.notEvidenceFor?.includes(v.merchantId)) continue;
      const id = this.numberOf(v.merchantId);
      if (this.met[2 * id] !== stamp) {
        this.met[2 * id] = stamp;
        this.met[2 * id + 1] = this.used;
        triples[this.used] = id;
        triples[this.used + 1] = v.at;
        triples[this.used + 2] = v.at;
        this.used += 3;
      } else {
        const k = this.met[2 * id + 1]!;
        if (v.at < triples[k + 1]!) triples[k + 1] = v.at;
        else if (v.at > triples[k + 2]!) triples[k + 2] = v.at;
      }
    }
    // A merchant known by one visit before `until` and one since: the last visit before is unknown
    // (visits between those two are not kept), unless the one before is (first and last apart).
    for (const v of visits) {
      if (v.at < until || !isHoldersVisit(f, v) || f.notEvidenceFor?.includes(v.merchantId)) continue;
      const id = this.numbers.get(v.merchantId);
      if (id === undefined || this.met[2 * id] !== stamp) continue;
      const k = this.met[2 * id + 1]!;
      if (triples[k + 1] === triples[k + 2]) triples[k + 2] = NaN;
    }
    // Its merchants are numbered (candidates) either way; its triples are kept only if it is tested.
    if (this.used === start || !(f.weight > 0) || defraudedWhereItShops(f, visits, from)) {
      this.used = start;
      return false;
    }
    this.cards.push(f);
    this.blockOf.push(this.blocks.length - 1);
    this.starts.push(start);
    this.ends.push(this.used);
    return true;
  }

  private numberOf(merchantId: string): number {
    let id = this.numbers.get(merchantId);
    if (id === undefined) {
      this.numbers.set(merchantId, (id = this.names.length));
      this.names.push(merchantId);
      if (2 * id >= this.met.length) {
        const met = new Int32Array(2 * this.met.length);
        met.set(this.met);
        this.met = met;
      }
    }
    return id;
  }

  /** The last block, with room for n more numbers: grown (copied) while under BLOCK_NUMBERS, else a new block. */
  private room(n: number): Float64Array {
    const last = this.blocks.at(-1);
    if (last && this.used + n <= last.length) return last;
    if (last && last.length < BLOCK_NUMBERS) {
      const grown = new Float64Array(Math.max(this.used + n, Math.min(BLOCK_NUMBERS, 2 * last.length)));
      grown.set(last.subarray(0, this.used));
      this.blocks[this.blocks.length - 1] = grown;
      return grown;
    }
    const block = new Float64Array(Math.max(n, last ? BLOCK_NUMBERS : FIRST_BLOCK_NUMBERS));
    this.blocks.push(block);
    this.used = 0;
    return block;
  }

  /** Every card's number, in the order added. */
  all(): number[] {
    return this.cards.map((_, c) => c);
  }
}

/**
 * The suspected points among some of the packed cards (`cards`: their numbers, in the order that
 * breaks ties), given how many cards each merchant saw.
 */
export function detectPacked(
  packed: PackedFrauds,
  cards: readonly number[],
  population: Omit<CppInput, 'frauds'>,
  options: CppOptions = {},
): SuspectedPoint[] {
  const steps = detectSteps(packed, cards, population, options);
  for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value;
}

/** Cards tallied between two turns of the event loop by detectPackedYielding (a few milliseconds of work). */
export const CARDS_BETWEEN_TURNS = 4096;

/** Merchants tested between two turns of the event loop by detectPackedYielding. */
const MERCHANTS_BETWEEN_TURNS = 256;

/**
 * detectPacked, handing the event loop a turn (setImmediate) every CARDS_BETWEEN_TURNS cards: a
 * scan of 500,000 fraudulent cards held the engine's thread 449 ms in one stretch (2 million:
 * 1.3 s), and the scorings on that engine, waiting behind it, missed their 50 ms deadline. The
 * same answer as detectPacked.
 */
export async function detectPackedYielding(
  packed: PackedFrauds,
  cards: readonly number[],
  population: Omit<CppInput, 'frauds'>,
  options: CppOptions = {},
): Promise<SuspectedPoint[]> {
  const steps = detectSteps(packed, cards, population, options);
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done) return step.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** detectPacked's work, yielding every CARDS_BETWEEN_TURNS cards it walks and every MERCHANTS_BETWEEN_TURNS merchants it tests. */
function* detectSteps(
  packed: PackedFrauds,
  cards: readonly number[],
  population: Omit<CppInput, 'frauds'>,
  options: CppOptions,
): Generator<void, SuspectedPoint[]> {
  let walked = 0,
    weighed = 0;
  const o = { ...CPP_DEFAULTS, ...options };
  const tested = [...population.cardsPerMerchant.values()].filter((n) => n > 0).length;
  if (tested === 0 || population.totalCards <= 0) return [];
  const averageMerchants = population.merchantsPerCard ?? 0;
  const logAlpha = Math.log(o.alpha);
  const { names, blocks, blockOf, starts, ends } = packed;
  // Each round's tallies by merchant number; `order`: the numbers in the order the round first met
  // them (cards in the order given, each card's merchants by first visit), which breaks ties
  // between equally significant merchants.
  const weights = new Float64Array(names.length);
  const counts = new Int32Array(names.length);
  const order: number[] = [];
  let remaining = [...cards];
  const suspects: SuspectedPoint[] = [];
  while (suspects.length < o.maxSuspects && remaining.length > 0) {
    weights.fill(0);
    counts.fill(0);
    order.length = 0;
    let fraudWeight = 0,
      maxWeight = 0;
    // The remaining cards' weight by how many times as many merchants as the average card they used.
    const weightByActivity = new Map<number, number>();
    for (const c of remaining) {
      if (++walked % CARDS_BETWEEN_TURNS === 0) yield;
      const weight = packed.cards[c]!.weight;
      fraudWeight += weight;
      maxWeight = Math.max(maxWeight, weight);
      const activity = activityOf((ends[c]! - starts[c]!) / 3, averageMerchants);
      weightByActivity.set(activity, (weightByActivity.get(activity) ?? 0) + weight);
      const triples = blocks[blockOf[c]!]!;
      for (let k = starts[c]!; k < ends[c]!; k += 3) {
        const id = triples[k]!;
        if (counts[id] === 0) order.push(id);
        weights[id]! += weight;
        counts[id]!++;
      }
    }
    let best: { id: number; weight: number; cards: number; expected: number; logP: number } | undefined;
    for (const id of order) {
      // A merchant's test can take thousands of terms (logPoissonUpperTail): a turn every few hundred.
      if (++weighed % MERCHANTS_BETWEEN_TURNS === 0) yield;
      const n = counts[id]!;
      if (n < o.minCards) continue;
      const seen = population.cardsPerMerchant.get(names[id]!) ?? n;
      const share = Math.min(1, Math.max(seen, n) / population.totalCards);
      const expected = expectedWeight(share, weightByActivity);
      // The lift is asked over what chance gives these cards, busy ones included.
      if (weights[id]! < fraudWeight * requiredFraudShare(expected / fraudWeight, o.minLift)) continue;
      const logP = logUpperTail(weights[id]!, expected, remaining.length, maxWeight) + Math.log(tested);
      if (!best || logP < best.logP) best = { id, weight: weights[id]!, cards: n, expected, logP };
    }
    if (!best || best.logP >= logAlpha) break;
    const explained: string[] = [];
    /** Delays from a known last visit before the fraud, and from a first visit where that is not known. */
    const delays: number[] = [];
    const delaysFromFirst: number[] = [];
    const rest: number[] = [];
    let windowStart = Infinity,
      windowEnd = -Infinity;
    for (const c of remaining) {
      if (++walked % CARDS_BETWEEN_TURNS === 0) yield;
      const triples = blocks[blockOf[c]!]!;
      let k = starts[c]!;
      while (k < ends[c]! && triples[k] !== best.id) k += 3;
      if (k === ends[c]) {
        rest.push(c);
        continue;
      }
      explained.push(packed.cards[c]!.card);
      const last = triples[k + 2]!;
      if (Number.isNaN(last)) delaysFromFirst.push(packed.cards[c]!.firstFraudAt - triples[k + 1]!);
      else delays.push(packed.cards[c]!.firstFraudAt - last);
      windowStart = Math.min(windowStart, triples[k + 1]!);
      windowEnd = Math.max(windowEnd, Number.isNaN(last) ? triples[k + 1]! : last);
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
      fraudDelayMs: percentile(delays.length > 0 ? delays : delaysFromFirst, 0.9),
      cards: explained.sort(),
    });
  }
  return suspects;
}

/**
 * A card's activity: how many times as many merchants as the average card it used (at least 1).
 * Fraud falls more on busy cards (shopping online, at many merchants), and a busy card has used any
 * given merchant more often than an average one: counted as average, a big merchant would show a
 * steady excess among fraudulent cards without any breach. Its merchants are counted less one: the
 * merchant tested may be one of them, and a breach's cards, each of which used the breached
 * merchant, must not look busier for it. A quieter card counts as average: the control only ever
 * asks for more, never less, than the chance model without it (its own visits span its lookback,
 * the average card's the longer period the population is counted over).
 */
export function activityOf(merchants: number, averageMerchants: number): number {
  return averageMerchants > 0 ? Math.max(1, (merchants - 1) / averageMerchants) : 1;
}

/**
 * What chance gives a merchant used by `share` of all cards among fraudulent cards of these
 * activities (weight by activity): a card r times as active as the average one counts as r average
 * cards, r × share, at most certain. That is the most a merchant's share can give such a card (a
 * card's merchants drawn one by one: 1 − (1 − share / r̄ ...)^…, below it), so what it names is
 * named against the busiest reading of chance; r = 1 gives the share itself.
 */
export function expectedWeight(share: number, weightByActivity: ReadonlyMap<number, number>): number {
  let expected = 0;
  for (const [activity, weight] of weightByActivity) expected += weight * Math.min(1, activity * share);
  return expected;
}

/** The p-quantile of some numbers, nearest rank (sorts them). */
function percentile(values: number[], p: number): number {
  values.sort((a, b) => a - b);
  return values[Math.max(0, Math.ceil(p * values.length) - 1)]!;
}

/**
 * The share of the fraudulent cards (by weight) that must have used a merchant used by `share` of
 * all cards: `minLift` times that share, capped halfway from the share to all of them,
 * min(minLift × share, share + (1 − share) / 2). The lift alone could never be met by a merchant
 * used by more than 1 / minLift of all cards (a third at 3×: the fraudulent cards that used it are
 * at most all of them), however clear its breach: a large chain's. The cap keeps the requirement
 * reachable, and still far above chance (its excess over the share is half of what is left); at
 * 3×, the two meet at a share of 0.2, below which nothing changes.
 */
export function requiredFraudShare(share: number, minLift: number): number {
  const s = Math.min(1, share);
  return Math.min(minLift * s, s + (1 - s) / 2);
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
function defraudedWhereItShops(f: FraudulentCardHead, visits: readonly CardVisit[], from: number): boolean {
  const fraudMerchants = f.fraudMerchants;
  if (!fraudMerchants?.length) return false;
  return visits.some((v) => v.at >= from && v.at < f.firstFraudAt && fraudMerchants.includes(v.merchantId));
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
