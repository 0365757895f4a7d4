// The negative and allow lists in Redis: one key per entry in the entity's own slot (its hash tag,
// keys.ts), `lg:{d:IDENTITY}:neg` (d, i, e, s for device, IP, email, shipping; value: the case
// id, PX TTL); a card allow-listed for a merchant after a legitimate decision, in the card's slot:
// `lg:{c:FINGERPRINT}:allow:MERCHANT`. Keys of many slots are read with one GET each, concurrent
// (the client pipelines them per node): no MGET, which a Redis Cluster refuses across slots.
import type { RedisClient } from './connection.ts';
import { read } from './lua.ts';
import { NEGATIVE_KINDS, type NegativeKind } from '../../core/lists.ts';
import { REDIS_KEYS } from './keys.ts';
import type { NegativeListStore } from '../../cases/negative-lists.ts';

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
    await this.redis.set(REDIS_KEYS.negative(kind, identity), String(caseId), 'PX', ttlMs);
  }

  async remove(kind: NegativeKind, identity: string): Promise<void> {
    await this.redis.del(REDIS_KEYS.negative(kind, identity));
  }

  async matches(identities: Partial<Record<NegativeKind, string[]>>): Promise<NegativeKind[]> {
    const asked = NEGATIVE_KINDS.flatMap((kind) =>
      (identities[kind] ?? []).map((id) => ({ kind, key: REDIS_KEYS.negative(kind, id) })),
    );
    if (asked.length === 0) return [];
    const values = await Promise.all(asked.map((a) => this.get(a.key)));
    return NEGATIVE_KINDS.filter((kind) => asked.some((a, i) => a.kind === kind && values[i] !== null));
  }

  async allowCard(merchantId: string, fingerprint: string, ttlMs: number, caseId: number): Promise<void> {
    await this.redis.set(REDIS_KEYS.allow(merchantId, fingerprint), String(caseId), 'PX', ttlMs);
  }

  async disallowCard(merchantId: string, fingerprint: string): Promise<void> {
    await this.redis.del(REDIS_KEYS.allow(merchantId, fingerprint));
  }

  async isCardAllowed(merchantId: string, fingerprints: string[]): Promise<boolean> {
    if (fingerprints.length === 0) return false;
    const values = await Promise.all(fingerprints.map((fp) => this.get(REDIS_KEYS.allow(merchantId, fp))));
    return values.some((v) => v !== null);
  }
}
