// The friction a merchant's customers meet: the share of its orders challenged, held for review and
// declined over a rolling window, beside the merchant's budget (rules.ts `frictionBudget`). Pure
// bookkeeping with an injected clock; the engine's observer feeds it, metrics and the console read it.
import type { Decision } from './schemas.ts';
import type { FrictionBudget } from './rules.ts';

const COUNTED = ['challenge', 'review', 'decline'] as const;
type Counted = (typeof COUNTED)[number];
const SLOT: Record<Decision, number> = { approve: 0, challenge: 1, review: 2, decline: 3 };
const FIELDS = 4; // orders, challenges, reviews, declines

export interface FrictionShare {
  merchantId: string;
  orders: number;
  /** Shares of the orders, 0..1. */
  challenge: number;
  review: number;
  decline: number;
  budget: FrictionBudget;
  /** The budget lines spent beyond their target. */
  over: ('challenge' | 'review')[];
}

interface Ring {
  /** FIELDS counters per bucket. */
  counts: Int32Array;
  /** The absolute bucket number each slot holds (to clear a slot when the window moves on). */
  stamps: Float64Array;
}

export interface FrictionTrackerOptions {
  windowMs?: number;
  buckets?: number;
  /** Merchants remembered at most; past it, the quietest half is forgotten. */
  maxMerchants?: number;
  now?: () => number;
}

export class FrictionTracker {
  readonly windowMs: number;
  private readonly buckets: number;
  private readonly bucketMs: number;
  private readonly maxMerchants: number;
  private readonly now: () => number;
  private readonly merchants = new Map<string, Ring>();

  constructor(o: FrictionTrackerOptions = {}) {
    this.windowMs = o.windowMs ?? 86_400_000;
    this.buckets = o.buckets ?? 24;
    this.bucketMs = this.windowMs / this.buckets;
    this.maxMerchants = o.maxMerchants ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  record(merchantId: string, decision: Decision): void {
    let ring = this.merchants.get(merchantId);
    if (!ring) {
      if (this.merchants.size >= this.maxMerchants) this.forgetQuietest();
      ring = { counts: new Int32Array(this.buckets * FIELDS), stamps: new Float64Array(this.buckets).fill(-1) };
      this.merchants.set(merchantId, ring);
    }
    const bucket = Math.floor(this.now() / this.bucketMs);
    const slot = bucket % this.buckets;
    if (ring.stamps[slot] !== bucket) {
      ring.counts.fill(0, slot * FIELDS, slot * FIELDS + FIELDS);
      ring.stamps[slot] = bucket;
    }
    ring.counts[slot * FIELDS]!++;
    if (decision !== 'approve') ring.counts[slot * FIELDS + SLOT[decision]]!++;
  }

  /** One merchant's shares over the window; undefined when it had no order in it. */
  share(merchantId: string, budget: FrictionBudget): FrictionShare | undefined {
    const ring = this.merchants.get(merchantId);
    if (!ring) return undefined;
    const sums = this.sum(ring);
    if (sums[0] === 0) return undefined;
    const orders = sums[0]!;
    const shares = Object.fromEntries(COUNTED.map((d) => [d, sums[SLOT[d]]! / orders])) as Record<Counted, number>;
    const over = (['challenge', 'review'] as const).filter((k) => shares[k] > budget[k]);
    return { merchantId, orders, ...shares, budget, over };
  }

  /** The busiest merchants of the window first, at most `limit`. */
  shares(budgetOf: (merchantId: string) => FrictionBudget, limit = 100): FrictionShare[] {
    const out: FrictionShare[] = [];
    for (const merchantId of this.merchants.keys()) {
      const s = this.share(merchantId, budgetOf(merchantId));
      if (s) out.push(s);
    }
    return out.sort((a, b) => b.orders - a.orders || (a.merchantId < b.merchantId ? -1 : 1)).slice(0, limit);
  }

  private sum(ring: Ring): number[] {
    const oldest = Math.floor(this.now() / this.bucketMs) - this.buckets + 1;
    const sums = [0, 0, 0, 0];
    for (let slot = 0; slot < this.buckets; slot++) {
      if (ring.stamps[slot]! < oldest) continue;
      for (let f = 0; f < FIELDS; f++) sums[f]! += ring.counts[slot * FIELDS + f]!;
    }
    return sums;
  }

  private forgetQuietest(): void {
    const byOrders = [...this.merchants]
      .map(([id, ring]) => [id, this.sum(ring)[0]!] as const)
      .sort((a, b) => a[1] - b[1]);
    for (const [id] of byOrders.slice(0, Math.ceil(byOrders.length / 2))) this.merchants.delete(id);
  }
}
