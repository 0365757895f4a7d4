// The negative and allow lists in memory (embedded mode): entries with their expiry, by the same
// keys as in Redis.
import { NEGATIVE_KINDS, type NegativeKind } from '../../core/lists.ts';
import { REDIS_KEYS } from '../redis/keys.ts';
import type { NegativeListStore } from '../../cases/negative-lists.ts';

export class MemoryNegativeListStore implements NegativeListStore {
  private readonly entries = new Map<string, number>(); // key -> expiry (epoch ms)
  private readonly now: () => number;
  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  private live(key: string): boolean {
    const until = this.entries.get(key);
    if (until === undefined) return false;
    if (until <= this.now()) {
      this.entries.delete(key);
      return false;
    }
    return true;
  }

  /** Synchronous lookups, for the in-memory velocity store's round trip. */
  has(key: string): boolean {
    return this.live(key);
  }

  async add(kind: NegativeKind, identity: string, ttlMs: number, _caseId?: number): Promise<void> {
    this.entries.set(REDIS_KEYS.negative(kind, identity), this.now() + ttlMs);
  }

  async remove(kind: NegativeKind, identity: string): Promise<void> {
    this.entries.delete(REDIS_KEYS.negative(kind, identity));
  }

  async matches(identities: Partial<Record<NegativeKind, string[]>>): Promise<NegativeKind[]> {
    return NEGATIVE_KINDS.filter((kind) =>
      (identities[kind] ?? []).some((id) => this.live(REDIS_KEYS.negative(kind, id))),
    );
  }

  async allowCard(merchantId: string, fingerprint: string, ttlMs: number, _caseId?: number): Promise<void> {
    this.entries.set(REDIS_KEYS.allow(merchantId, fingerprint), this.now() + ttlMs);
  }

  async disallowCard(merchantId: string, fingerprint: string): Promise<void> {
    this.entries.delete(REDIS_KEYS.allow(merchantId, fingerprint));
  }

  async isCardAllowed(merchantId: string, fingerprints: string[]): Promise<boolean> {
    return fingerprints.some((fp) => this.live(REDIS_KEYS.allow(merchantId, fp)));
  }
}
