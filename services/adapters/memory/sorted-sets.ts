// A small in-process stand-in for the Redis sorted-set and key-expiry commands the stores use.
// Each set is kept ordered by (score, member), as Redis orders it: counts are two binary searches
// (a 37-day merchant log holds up to 500,000 events) and in-order appends, the usual case, are O(1).
interface ZSet {
  scores: Map<string, number>;
  /** Ordered by score, then member: parallel arrays, live from `head` on (trims from the front are O(1)). */
  s: number[];
  m: string[];
  head: number;
}

const before = (s1: number, m1: string, s2: number, m2: string) => s1 < s2 || (s1 === s2 && m1 < m2);

export class SortedSets {
  private readonly sets = new Map<string, ZSet>();
  private readonly values = new Map<string, string>();
  private readonly hashes = new Map<string, Map<string, string>>();
  private readonly expiries = new Map<string, number>();

  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  private alive(key: string): boolean {
    const exp = this.expiries.get(key);
    if (exp !== undefined && exp <= this.now()) {
      this.del(key);
      return false;
    }
    return true;
  }

  del(key: string): void {
    this.sets.delete(key);
    this.values.delete(key);
    this.hashes.delete(key);
    this.expiries.delete(key);
  }

  private zset(key: string): ZSet | undefined {
    return this.alive(key) ? this.sets.get(key) : undefined;
  }

  /** First index whose score is > `score` (or ≥ when `inclusive`). */
  private static bound(z: ZSet, score: number, inclusive: boolean): number {
    let lo = z.head,
      hi = z.s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (inclusive ? z.s[mid]! < score : z.s[mid]! <= score) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Position of (score, member) in the order. */
  private static position(z: ZSet, score: number, member: string): number {
    let lo = z.head,
      hi = z.s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(z.s[mid]!, z.m[mid]!, score, member)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drops the `count` lowest-ranked members. */
  private static dropFront(z: ZSet, count: number): void {
    for (let i = z.head; i < z.head + count; i++) z.scores.delete(z.m[i]!);
    z.head += count;
    if (z.head > 1024 && z.head * 2 > z.s.length) {
      z.s = z.s.slice(z.head);
      z.m = z.m.slice(z.head);
      z.head = 0;
    }
  }

  zadd(key: string, score: number, member: string, onlyGreater = false): void {
    this.alive(key);
    let z = this.sets.get(key);
    if (!z) this.sets.set(key, (z = { scores: new Map(), s: [], m: [], head: 0 }));
    const old = z.scores.get(member);
    if (old !== undefined) {
      if (onlyGreater ? score <= old : score === old) return;
      const at = SortedSets.position(z, old, member);
      z.s.splice(at, 1);
      z.m.splice(at, 1);
    }
    z.scores.set(member, score);
    const n = z.s.length;
    if (n === z.head || before(z.s[n - 1]!, z.m[n - 1]!, score, member)) {
      z.s.push(score);
      z.m.push(member);
    } else {
      const at = SortedSets.position(z, score, member);
      z.s.splice(at, 0, score);
      z.m.splice(at, 0, member);
    }
  }

  /** ZSCORE: the member's score, undefined when absent. */
  zscore(key: string, member: string): number | undefined {
    return this.zset(key)?.scores.get(member);
  }

  /** ZREM of one member (a set left empty goes, as in Redis). */
  zrem(key: string, member: string): void {
    const z = this.zset(key);
    const score = z?.scores.get(member);
    if (!z || score === undefined) return;
    const at = SortedSets.position(z, score, member);
    z.s.splice(at, 1);
    z.m.splice(at, 1);
    z.scores.delete(member);
    if (z.s.length === z.head) this.del(key);
  }

  /** Removes members with score strictly below `min`. */
  trimBelow(key: string, min: number): void {
    const z = this.zset(key);
    if (!z) return;
    const n = SortedSets.bound(z, min, true) - z.head;
    if (n > 0) SortedSets.dropFront(z, n);
  }

  /** Keeps the `cap` highest-ranked members (ZREMRANGEBYRANK 0 -(cap+1)). */
  cap(key: string, cap: number): void {
    const z = this.sets.get(key);
    if (!z || z.s.length - z.head <= cap) return;
    SortedSets.dropFront(z, z.s.length - z.head - cap);
  }

  /** ZCARD. */
  size(key: string): number {
    const z = this.zset(key);
    return z ? z.s.length - z.head : 0;
  }

  /** The lowest-ranked member and its score (ZRANGE 0 0 WITHSCORES). */
  first(key: string): [string, number] | undefined {
    const z = this.zset(key);
    return z && z.s.length > z.head ? [z.m[z.head]!, z.s[z.head]!] : undefined;
  }

  /** Members with min < score <= max, with their scores, in order. */
  range(key: string, minExclusive: number, max: number): [string, number][] {
    const z = this.zset(key);
    if (!z) return [];
    const out: [string, number][] = [];
    for (let i = SortedSets.bound(z, minExclusive, false), end = SortedSets.bound(z, max, false); i < end; i++)
      out.push([z.m[i]!, z.s[i]!]);
    return out;
  }

  /** ZCOUNT (min, max]: two binary searches. */
  count(key: string, minExclusive: number, max: number): number {
    const z = this.zset(key);
    if (!z) return 0;
    return Math.max(0, SortedSets.bound(z, max, false) - SortedSets.bound(z, minExclusive, false));
  }

  expire(key: string, ttlMs: number): void {
    this.expiries.set(key, this.now() + ttlMs);
  }

  get(key: string): string | undefined {
    return this.alive(key) ? this.values.get(key) : undefined;
  }

  set(key: string, value: string, ttlMs?: number): void {
    this.values.set(key, value);
    if (ttlMs !== undefined) this.expire(key, ttlMs);
    else this.expiries.delete(key);
  }

  hget(key: string, field: string): string | undefined {
    return this.alive(key) ? this.hashes.get(key)?.get(field) : undefined;
  }

  hset(key: string, fields: Record<string, string>): void {
    this.alive(key);
    let hash = this.hashes.get(key);
    if (!hash) this.hashes.set(key, (hash = new Map()));
    for (const [f, v] of Object.entries(fields)) hash.set(f, v);
  }

  hsetnx(key: string, field: string, value: string): boolean {
    if (this.hget(key, field) !== undefined) return false;
    this.hset(key, { [field]: value });
    return true;
  }

  /** Drops expired keys; called from a timer so that memory stays bounded like Redis's. */
  sweep(): void {
    for (const key of [...this.expiries.keys()]) this.alive(key);
  }
}
