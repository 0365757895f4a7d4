// A small in-process stand-in for the Redis sorted-set and key-expiry commands the stores use.
// Linear scans are fine here: the embedded mode serves one developer, not a fleet of merchants.
export class SortedSets {
  private readonly sets = new Map<string, Map<string, number>>();
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
      this.sets.delete(key);
      this.values.delete(key);
      this.hashes.delete(key);
      this.expiries.delete(key);
      return false;
    }
    return true;
  }

  zadd(key: string, score: number, member: string, onlyGreater = false): void {
    this.alive(key);
    let set = this.sets.get(key);
    if (!set) this.sets.set(key, (set = new Map()));
    const old = set.get(member);
    if (!onlyGreater || old === undefined || score > old) set.set(member, score);
  }

  /** Removes members with score strictly below `min`. */
  trimBelow(key: string, min: number): void {
    const set = this.alive(key) ? this.sets.get(key) : undefined;
    if (!set) return;
    for (const [m, s] of set) if (s < min) set.delete(m);
  }

  /** Keeps the `cap` highest-scored members. */
  cap(key: string, cap: number): void {
    const set = this.sets.get(key);
    if (!set || set.size <= cap) return;
    const sorted = [...set].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
    for (const [m] of sorted.slice(0, set.size - cap)) set.delete(m);
  }

  /** Members with min < score <= max, with their scores. */
  range(key: string, minExclusive: number, max: number): [string, number][] {
    const set = this.alive(key) ? this.sets.get(key) : undefined;
    if (!set) return [];
    return [...set].filter(([, s]) => s > minExclusive && s <= max);
  }

  count(key: string, minExclusive: number, max: number): number {
    return this.range(key, minExclusive, max).length;
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
