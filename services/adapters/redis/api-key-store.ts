// API keys in Redis: records by id in one hash, an index from key hash to id in another.
import type { Redis } from 'ioredis';
import { apiKeyRecordSchema, type ApiKeyRecord, type ApiKeyStore } from '../../auth/api-keys.ts';

const RECORDS = 'lg:apikeys:records';
const BY_HASH = 'lg:apikeys:by-hash';

export class RedisApiKeyStore implements ApiKeyStore {
  private readonly redis: Redis;

  constructor(redis: Redis) {
    this.redis = redis;
  }

  async insert(record: ApiKeyRecord): Promise<void> {
    await this.redis.multi().hset(RECORDS, record.id, JSON.stringify(record)).hset(BY_HASH, record.hash, record.id).exec();
  }

  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const id = await this.redis.hget(BY_HASH, hash);
    if (!id) return undefined;
    const raw = await this.redis.hget(RECORDS, id);
    return raw ? apiKeyRecordSchema.parse(JSON.parse(raw)) : undefined;
  }

  async list(): Promise<ApiKeyRecord[]> {
    const all = await this.redis.hvals(RECORDS);
    return all.map((raw) => apiKeyRecordSchema.parse(JSON.parse(raw))).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async revoke(id: string, at: string, by?: string): Promise<boolean> {
    const raw = await this.redis.hget(RECORDS, id);
    if (!raw) return false;
    const record = apiKeyRecordSchema.parse(JSON.parse(raw));
    if (!record.revokedAt) await this.redis.hset(RECORDS, id, JSON.stringify({ ...record, revokedAt: at, ...(by ? { revokedBy: by } : {}) }));
    return true;
  }
}
