// Negative lists fed by analysts' decisions, read by the scoring path. Entities confirmed in fraud
// (device, IP, email, shipping address) are keyed by the engine's own keyed pseudonyms (the
// EntityHasher identities the velocity counters use), so the engine can look them up in its one
// round trip: in Redis, one key per entry in the entity's own slot (its hash tag, core/lists.ts),
// `lg:{d:IDENTITY}:neg` (d, i, e, s for device, IP, email, shipping; value: the case id, PX TTL);
// a card allow-listed for a merchant after a legitimate decision, in the card's slot:
// `lg:{c:FINGERPRINT}:allow:MERCHANT`. Keys of many slots are read with one GET each, concurrent
// (the client pipelines them per node): no MGET, which a Redis Cluster refuses across slots.
import type { RedisClient } from '../adapters/redis/connection.ts';
import { read } from '../adapters/redis/lua.ts';
import { allowKey, negativeKey, NEGATIVE_KINDS, type NegativeKind } from '../core/lists.ts';

export { allowKey, negativeKey, NEGATIVE_KINDS, type NegativeKind };

/** Reason codes the engine emits when a negative list matches (docs/console.md). */
export const NEGATIVE_REASON_CODES: Record<NegativeKind, string> = {
  device: 'DEVICE_CONFIRMED_FRAUD',
  ip: 'IP_CONFIRMED_FRAUD',
  email: 'EMAIL_CONFIRMED_FRAUD',
  shipping: 'SHIPPING_ADDRESS_CONFIRMED_FRAUD',
};

export interface NegativeListStore {
  add(kind: NegativeKind, identity: string, ttlMs: number, caseId: number): Promise<void>;
  /** Which kinds match any of the given identities (each kind: primary then previous key's identity). */
  matches(identities: Partial<Record<NegativeKind, string[]>>): Promise<NegativeKind[]>;
  allowCard(merchantId: string, fingerprint: string, ttlMs: number, caseId: number): Promise<void>;
  isCardAllowed(merchantId: string, fingerprints: string[]): Promise<boolean>;
}

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
    this.entries.set(negativeKey(kind, identity), this.now() + ttlMs);
  }

  async matches(identities: Partial<Record<NegativeKind, string[]>>): Promise<NegativeKind[]> {
    return NEGATIVE_KINDS.filter((kind) => (identities[kind] ?? []).some((id) => this.live(negativeKey(kind, id))));
  }

  async allowCard(merchantId: string, fingerprint: string, ttlMs: number, _caseId?: number): Promise<void> {
    this.entries.set(allowKey(merchantId, fingerprint), this.now() + ttlMs);
  }

  async isCardAllowed(merchantId: string, fingerprints: string[]): Promise<boolean> {
    return fingerprints.some((fp) => this.live(allowKey(merchantId, fp)));
  }
}

export class RedisNegativeListStore implements NegativeListStore {
  private readonly redis: RedisClient;
  constructor(redis: RedisClient) {
    this.redis = redis;
  }

  /** One GET; concurrent ones are written back to back to each node (lua.ts read(): right while a slot moves). */
  private get(key: string): Promise<string | null> {
    return read(this.redis, () => this.redis.get(key), 'get', [key]);
  }

  async add(kind: NegativeKind, identity: string, ttlMs: number, caseId: number): Promise<void> {
    await this.redis.set(negativeKey(kind, identity), String(caseId), 'PX', ttlMs);
  }

  async matches(identities: Partial<Record<NegativeKind, string[]>>): Promise<NegativeKind[]> {
    const asked = NEGATIVE_KINDS.flatMap((kind) =>
      (identities[kind] ?? []).map((id) => ({ kind, key: negativeKey(kind, id) })),
    );
    if (asked.length === 0) return [];
    const values = await Promise.all(asked.map((a) => this.get(a.key)));
    return NEGATIVE_KINDS.filter((kind) => asked.some((a, i) => a.kind === kind && values[i] !== null));
  }

  async allowCard(merchantId: string, fingerprint: string, ttlMs: number, caseId: number): Promise<void> {
    await this.redis.set(allowKey(merchantId, fingerprint), String(caseId), 'PX', ttlMs);
  }

  async isCardAllowed(merchantId: string, fingerprints: string[]): Promise<boolean> {
    if (fingerprints.length === 0) return false;
    const values = await Promise.all(fingerprints.map((fp) => this.get(allowKey(merchantId, fp))));
    return values.some((v) => v !== null);
  }
}
