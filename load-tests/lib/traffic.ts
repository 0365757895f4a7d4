// Seeded benchmark traffic: the same transactions on every run and every commit, so that two runs
// compare back to back. `traffic()` is bench:cost's mix; `partitionAlignedTraffic()` is
// bench:scale's, the same kind of mix laid out so that its decisions do not depend on how
// partitions and merchants are spread over processes (see its comment).

/** A seeded generator (mulberry32): the same traffic on every run and every commit. */
export function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The body followed by its Luhn check digit. */
export function luhn(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) d *= 2;
    sum += d > 9 ? d - 9 : d;
  }
  return body + String((10 - (sum % 10)) % 10);
}

/**
 * bench:cost's mix: 60,000 cards used a few times each over a simulated day, 500 merchants of which
 * one takes 30 % of the traffic, 25 % yen, 3-D Secure on a third, a card-testing burst every 2,000.
 */
export function traffic(n: number) {
  const r = rng(12345);
  const pick = (k: number) => Math.floor(r() * k);
  const CARDS = 60_000,
    MERCHANTS = 500;
  const bins = ['411111', '424242', '453201', '510510', '555555', '400551', '520082', '371449'];
  const pan = (c: number) => luhn(`${bins[c % bins.length]}${String(c).padStart(9, '0')}`.slice(0, 15));
  const start = Date.parse('2026-11-20T00:00:00Z');
  const out = [];
  for (let i = 0; i < n; i++) {
    // A card-testing burst every 2,000 transactions: one device, small amounts, fresh cards.
    const burst = i % 2000 < 12;
    const card = burst ? 900_000 + i : pick(CARDS);
    const merchant = r() < 0.3 ? 'big-merchant' : `merchant-${pick(MERCHANTS)}`;
    const yen = r() < 0.25;
    const major = burst ? 1 : Math.exp(3.2 + r() * 1.6);
    out.push({
      merchant,
      body: {
        transactionId: `bench-${i}`,
        // Milliseconds as in life (the stores sample trimming by the event's millisecond).
        occurredAt: new Date(start + Math.floor((i / n) * 86_400_000) + pick(1000)).toISOString(),
        amount: yen ? Math.round(major * 160) : Math.round(major * 100),
        currency: yen ? 'JPY' : 'EUR',
        channel: r() < 0.8 ? 'ecommerce' : 'pos',
        card: {
          number: pan(card),
          expiryMonth: 1 + (card % 12),
          expiryYear: 2028 + (card % 4),
          cvvResult: r() < 0.99 ? 'match' : 'mismatch',
        },
        ...(r() < 0.33 ? { threeDS: { status: r() < 0.95 ? 'Y' : 'N' } } : {}),
        device: burst
          ? { id: 'burst-device', ip: '203.0.113.9' }
          : { id: `device-${card % 50_000}`, ip: `10.${card % 200}.${pick(250)}.${pick(250)}` },
        ...(r() < 0.7 ? { customer: { email: `holder${card}@example.com` } } : {}),
        ...(r() < 0.5
          ? {
              shippingAddress: {
                line1: `${card % 999} Main Street`,
                city: 'Osaka',
                postalCode: String(500_000 + (card % 9999)),
                country: 'JP',
              },
            }
          : {}),
      },
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Partition-aligned traffic (bench:scale)

/** One transaction: the merchant it is scored for, and the /v1/score request body. */
export interface MerchantTransaction {
  merchant: string;
  body: {
    transactionId: string;
    occurredAt: string;
    amount: number;
    currency: 'EUR' | 'JPY';
    channel: 'ecommerce' | 'pos';
    card: { number: string; expiryMonth: number; expiryYear: number; cvvResult: 'match' | 'mismatch' };
    threeDS?: { status: 'Y' | 'N' };
    device: { id: string; ip: string };
    customer?: { email: string };
    shippingAddress?: { line1: string; city: string; postalCode: string; country: string };
  };
}

export interface PartitionAlignedOptions {
  /** Transactions for the stream (Kafka) and for the HTTP door. */
  streamTransactions: number;
  httpTransactions: number;
  /** Merchants of each door: disjoint sets (stream-shop-N, web-shop-N). */
  streamMerchants: number;
  httpMerchants: number;
  seed: number;
  /** The simulated period the transactions spread over (occurredAt), from `startMs`. */
  startMs?: number;
  spanMs?: number;
  /**
   * 0 (default) or another small number: populations with different numbers share no merchant,
   * transaction id, card, BIN, device, IP, email or address (a warm-up that leaves the measured
   * population's counters alone). Names of population p > 0 start with `warmup${p}-`.
   */
  population?: number;
}

export interface PartitionAlignedTraffic {
  stream: MerchantTransaction[];
  http: MerchantTransaction[];
  streamMerchants: string[];
  httpMerchants: string[];
  /** Card-testing bursts laid into the traffic (stream, HTTP). */
  bursts: { stream: number; http: number };
}

const BINS_PER_MERCHANT = 3;
/** Roughly one card-testing burst per this many transactions (of a door). */
const BURST_EVERY = 700;

/**
 * Traffic whose every decision is the same however its merchants are spread over processes and
 * however those processes interleave: every entity a transaction is counted under (card, device,
 * IP, email, shipping address, merchant, BIN) belongs to exactly one merchant. A card, with its
 * devices, IP, email and address, is used at one merchant only; each merchant has BINs of its own;
 * a burst's device and IP attack one merchant. So the counters a transaction reads depend only on
 * the merchant's own transactions before it, which keep their order when each merchant's
 * transactions go through one ordered channel (one Kafka partition, keyed by merchant; one
 * sequential HTTP client loop).
 *
 * Otherwise a realistic mix: merchants of uneven size (the first takes 15 % of its door's traffic),
 * returning and new cards, a quarter of the cardholders paying in yen, amounts spread
 * log-normally (2 % above 1,000 EUR), 3-D Secure results on a third, 1 % security-code
 * mismatches, and now and then a card-testing burst at one merchant: one device and IP trying a
 * dozen fresh cards for 1 EUR, or one fresh card tried a few times with small amounts.
 */
export function partitionAlignedTraffic(o: PartitionAlignedOptions): PartitionAlignedTraffic {
  const startMs = o.startMs ?? Date.parse('2026-11-20T00:00:00Z');
  const spanMs = o.spanMs ?? 86_400_000;
  const population = o.population ?? 0;
  if (!Number.isInteger(population) || population < 0 || population > 4)
    throw new Error(`population ${population}: 0 to 4`);
  if (o.streamMerchants + o.httpMerchants > 5_000) throw new Error('at most 5,000 merchants (their BINs are numbered)');
  const name = population === 0 ? '' : `warmup${population}-`;
  const r = rng(o.seed);
  const streamMerchants = Array.from({ length: o.streamMerchants }, (_, i) => `${name}stream-shop-${i}`);
  const httpMerchants = Array.from({ length: o.httpMerchants }, (_, i) => `${name}web-shop-${i}`);
  // Global numbering, so that nothing is shared between the two doors, nor between populations.
  const counters = { card: population * 100_000_000, burst: population * 50_000, population };
  const merchantBase = population * 5_000;
  const stream = doorTraffic(r, counters, {
    n: o.streamTransactions,
    merchants: streamMerchants,
    merchantBase,
    bigShare: 0.15,
    prefix: `${name}stream`,
    startMs,
    spanMs,
  });
  const streamBursts = counters.burst;
  const http = doorTraffic(r, counters, {
    n: o.httpTransactions,
    merchants: httpMerchants,
    merchantBase: merchantBase + o.streamMerchants,
    bigShare: 0,
    prefix: `${name}http`,
    startMs,
    spanMs,
  });
  return {
    stream,
    http,
    streamMerchants,
    httpMerchants,
    bursts: { stream: streamBursts - population * 50_000, http: counters.burst - streamBursts },
  };
}

function doorTraffic(
  r: () => number,
  counters: { card: number; burst: number; population: number },
  d: {
    n: number;
    merchants: string[];
    merchantBase: number;
    bigShare: number;
    prefix: string;
    startMs: number;
    spanMs: number;
  },
): MerchantTransaction[] {
  const out: MerchantTransaction[] = [];
  if (d.n === 0 || d.merchants.length === 0) return out;
  const pick = (k: number) => Math.floor(r() * k);
  // Merchant sizes: the first takes bigShare (if any), the others a random share of the rest.
  const raw = d.merchants.map(() => 0.4 + r() * 1.2);
  const restSum = raw.reduce((a, b) => a + b, 0) - (d.bigShare > 0 ? raw[0]! : 0);
  const weights = raw.map((w, i) =>
    d.bigShare > 0 ? (i === 0 ? d.bigShare : ((1 - d.bigShare) * w) / restSum) : w / restSum,
  );
  const cumulative: number[] = [];
  weights.reduce((sum, w, i) => (cumulative[i] = sum + w), 0);
  const pickMerchant = () => {
    const x = r() * cumulative[cumulative.length - 1]!;
    const i = cumulative.findIndex((c) => x < c);
    return i < 0 ? cumulative.length - 1 : i;
  };
  // The merchant's BINs: first digit 4 (Visa) or 5 (Mastercard), then a number no other merchant has.
  const binOf = (m: number, j: number) =>
    `${j % 2 ? 5 : 4}${String(10_000 + (d.merchantBase + m) * BINS_PER_MERCHANT + j).padStart(5, '0')}`;
  const cardsOf: number[][] = d.merchants.map(() => []);
  const ownerOf = new Map<number, number>();
  const newCard = (m: number) => {
    const k = counters.card++;
    ownerOf.set(k, m);
    return k;
  };
  const panOf = (k: number) => {
    const m = ownerOf.get(k)!;
    return luhn(`${binOf(m, k % BINS_PER_MERCHANT)}${String(k).padStart(9, '0')}`);
  };
  // A cardholder's own attributes, fixed by the card number: currency, address, devices.
  const yenCard = (k: number) => Math.imul(k, 0x9e3779b1) >>> 30 === 0;
  const ipOf = (k: number) => `${10 + counters.population}.${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}`;
  const address = (k: number) =>
    yenCard(k)
      ? {
          line1: `${1 + (k % 97)}-${1 + (k % 13)} Namba ${k}`,
          city: 'Osaka',
          // As Japanese postcodes are written (〒540-0001): the engine keeps them compact (entities.ts).
          postalCode: `${540 + (k % 9)}-${String(k % 9_999).padStart(4, '0')}`,
          country: 'JP',
        }
      : { line1: `Hauptstrasse ${k}`, city: 'Berlin', postalCode: String(10_000 + (k % 89_999)), country: 'DE' };
  const time = (i: number) => new Date(d.startMs + Math.floor(((i + r()) * d.spanMs) / d.n)).toISOString();

  const normal = (i: number, m: number): MerchantTransaction => {
    const own = cardsOf[m]!;
    // Returning cardholders and new ones.
    const fresh = own.length === 0 || r() < 0.45;
    const k = fresh ? newCard(m) : own[pick(own.length)]!;
    if (fresh) own.push(k);
    const yen = yenCard(k);
    const major = r() < 0.02 ? Math.exp(6.95 + r()) : Math.exp(3.2 + r() * 1.6);
    const secondDevice = k % 11 === 0 && r() < 0.4;
    return {
      merchant: d.merchants[m]!,
      body: {
        transactionId: `${d.prefix}-${i}`,
        occurredAt: time(i),
        amount: yen ? Math.round(major * 160) : Math.round(major * 100),
        currency: yen ? 'JPY' : 'EUR',
        channel: r() < 0.8 ? 'ecommerce' : 'pos',
        card: {
          number: panOf(k),
          expiryMonth: 1 + (k % 12),
          expiryYear: 2028 + (k % 4),
          cvvResult: r() < 0.99 ? 'match' : 'mismatch',
        },
        ...(r() < 0.33 ? { threeDS: { status: r() < 0.95 ? ('Y' as const) : ('N' as const) } } : {}),
        device: { id: `device-${k}${secondDevice ? '-b' : ''}`, ip: ipOf(k) },
        ...(r() < 0.7 ? { customer: { email: `holder${k}@example.com` } } : {}),
        ...(r() < 0.5 ? { shippingAddress: address(k) } : {}),
      },
    };
  };

  // A card-testing burst at one merchant: transactions i..i+size-1.
  const burst = (i: number, m: number, size: number, kind: 'device' | 'card'): MerchantTransaction[] => {
    const b = counters.burst++;
    const device = { id: `burst-device-${b}`, ip: `${203 + counters.population}.0.${(b >>> 8) & 255}.${b & 255}` };
    const testedCard = newCard(m);
    return Array.from({ length: size }, (_, j) => {
      const k = kind === 'device' ? newCard(m) : testedCard;
      const yen = yenCard(k);
      return {
        merchant: d.merchants[m]!,
        body: {
          transactionId: `${d.prefix}-${i + j}`,
          occurredAt: time(i + j),
          amount: yen ? 150 + pick(100) : 100 + pick(90),
          currency: yen ? ('JPY' as const) : ('EUR' as const),
          channel: 'ecommerce' as const,
          card: {
            number: panOf(k),
            expiryMonth: 1 + (k % 12),
            expiryYear: 2028 + (k % 4),
            cvvResult: r() < 0.8 ? ('match' as const) : ('mismatch' as const),
          },
          device: kind === 'device' ? device : { id: `device-${k}`, ip: ipOf(k) },
          customer: { email: `holder${k}@example.com` },
        },
      };
    });
  };

  for (let i = 0; i < d.n;) {
    const m = pickMerchant();
    if (r() < 1 / BURST_EVERY && i + 16 <= d.n) {
      const kind = r() < 0.6 ? 'device' : 'card';
      const txs = burst(i, m, kind === 'device' ? 10 + pick(5) : 4 + pick(3), kind);
      out.push(...txs);
      i += txs.length;
    } else {
      out.push(normal(i, m));
      i++;
    }
  }
  return out;
}
