// API keys in Redis: records by id in one hash, an index from key hash to id in another. Both
// under one hash tag, `{apikeys}`: one Redis Cluster slot, so that an insert stays one MULTI.
import { apiKeyRecordSchema, type ApiKeyRecord, type ApiKeyStore } from '../../auth/api-keys.ts';
import type { RedisClient } from './connection.ts';

export const API_KEY_KEYS = { records: 'lg:{apikeys}:records', byHash: 'lg:{apikeys}:by-hash' } as const;
/** Before the cluster layout: renamed by key-migration.ts on a single Redis. */
export const LEGACY_API_KEY_KEYS = { records: 'lg:apikeys:records', byHash: 'lg:apikeys:by-hash' } as const;
const RECORDS = API_KEY_KEYS.records;
const BY_HASH = API_KEY_KEYS.byHash;

export class RedisApiKeyStore implements ApiKeyStore {
  private readonly redis: RedisClient;

  constructor(redis: RedisClient) {
    this.redis = redis;
  }

  async insert(record: ApiKeyRecord): Promise<void> {
    await this.redis
      .multi()
      .hset(RECORDS, record.id, JSON.stringify(record))
      .hset(BY_HASH, record.hash, record.id)
      .exec();
  }

  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const id = await this.redis.hget(BY_HASH, hash);
    if (!id) return undefined;
    const raw = await this.redis.hget(RECORDS, id);
    return raw ? apiKeyRecordSchema.parse(JSON.parse(raw)) : undefined;
  }

  async list(): Promise<ApiKeyRecord[]> {
    const all = await this.redis.hvals(RECORDS);
    return all
      .map((raw) => apiKeyRecordSchema.parse(JSON.parse(raw)))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async revoke(id: string, at: string, by?: string): Promise<boolean> {
    const raw = await this.redis.hget(RECORDS, id);
    if (!raw) return false;
    const record = apiKeyRecordSchema.parse(JSON.parse(raw));
    if (!record.revokedAt)
      await this.redis.hset(
        RECORDS,
        id,
        JSON.stringify({ ...record, revokedAt: at, ...(by ? { revokedBy: by } : {}) }),
      );
    return true;
  }
}
