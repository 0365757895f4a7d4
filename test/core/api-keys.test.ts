// The API key authenticator's cache (issue #13): unknown tokens must not push known keys out, so
// that a flood of random tokens cannot take real merchants down with the key store.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ApiKeyAuthenticator,
  AuthRateLimited,
  AuthUnavailable,
  createApiKey,
  tenantIdSchema,
  type ApiKeyRecord,
  type ApiKeyStore,
} from '../../services/auth/api-keys.ts';

/** An in-memory key store that can be made unreachable, counting its lookups. */
function flakyStore() {
  const records: ApiKeyRecord[] = [];
  const state = { down: false, lookups: 0 };
  const store: ApiKeyStore = {
    async insert(r) {
      records.push(r);
    },
    async findByHash(hash) {
      state.lookups++;
      if (state.down) throw new Error('connect ECONNREFUSED');
      return records.find((r) => r.hash === hash);
    },
    async list() {
      return records;
    },
    async revoke(id, at) {
      const r = records.find((x) => x.id === id);
      if (r) r.revokedAt = at;
      return r !== undefined;
    },
  };
  return { store, state };
}

const randomToken = () => `lgm_${randomBytes(32).toString('base64url')}`;

describe('API key authentication', () => {
  it('keeps a real key working after 10,001 random tokens, while the key store is unreachable', async () => {
    const { store, state } = flakyStore();
    let clock = 1_000_000;
    const auth = new ApiKeyAuthenticator(store, { cacheMs: 30_000, now: () => clock });
    const { key, record } = await createApiKey(store, { role: 'merchant', merchantId: 'm1' });
    expect(await auth.authenticate(key)).toMatchObject({ keyId: record.id, role: 'merchant', merchantId: 'm1' });
    for (let i = 0; i < 10_001; i++) expect(await auth.authenticate(randomToken())).toBeNull();
    // The store goes down and the cached lookup has aged: the key we knew keeps working.
    state.down = true;
    clock += 60_000;
    expect(await auth.authenticate(key)).toMatchObject({ keyId: record.id, role: 'merchant', merchantId: 'm1' });
    // An unknown token cannot be checked: unavailable, not silently accepted nor refused.
    await expect(auth.authenticate(randomToken())).rejects.toBeInstanceOf(AuthUnavailable);
  });

  it('bounds its caches: known keys by recency, unknown tokens apart and small', async () => {
    const { store, state } = flakyStore();
    const auth = new ApiKeyAuthenticator(store, { cacheMs: 30_000, maxKnownKeys: 3, maxUnknownKeys: 2 });
    const keys = await Promise.all(
      [1, 2, 3, 4].map((n) => createApiKey(store, { role: 'merchant', merchantId: `m${n}` })),
    );
    for (const { key } of keys.slice(0, 3)) await auth.authenticate(key);
    await auth.authenticate(keys[0]!.key); // m1 used again: m2 is now the least recently used
    await auth.authenticate(keys[3]!.key); // a fourth known key evicts m2
    state.lookups = 0;
    for (const n of [0, 2, 3]) await auth.authenticate(keys[n]!.key);
    expect(state.lookups).toBe(0);
    await auth.authenticate(keys[1]!.key);
    expect(state.lookups).toBe(1);
    // A repeated unknown token is answered from its own cache; a flood of others does not grow it.
    const bad = randomToken();
    await auth.authenticate(bad);
    state.lookups = 0;
    expect(await auth.authenticate(bad)).toBeNull();
    expect(state.lookups).toBe(0);
    for (let i = 0; i < 100; i++) await auth.authenticate(randomToken());
    expect(auth.cacheSizes()).toEqual({ known: 3, unknown: 2 });
  });

  it('forgets a revoked key once its cached lookup has aged', async () => {
    const { store } = flakyStore();
    let clock = 0;
    const auth = new ApiKeyAuthenticator(store, { cacheMs: 30_000, now: () => clock });
    const { key, record } = await createApiKey(store, { role: 'issuer', issuerId: 'i1' });
    expect(await auth.authenticate(key)).not.toBeNull();
    await store.revoke(record.id, new Date().toISOString());
    clock += 30_001;
    expect(await auth.authenticate(key)).toBeNull();
    expect(auth.cacheSizes()).toEqual({ known: 0, unknown: 1 });
  });

  it('refuses an address that failed too often for the rest of its minute, without asking the store', async () => {
    const { store, state } = flakyStore();
    let clock = 0;
    const auth = new ApiKeyAuthenticator(store, { cacheMs: 30_000, failuresPerMinute: 3, now: () => clock });
    const known = await createApiKey(store, { role: 'merchant', merchantId: 'm1' });
    const other = await createApiKey(store, { role: 'merchant', merchantId: 'm2' });
    expect(await auth.authenticate(known.key, '10.0.0.1')).not.toBeNull();
    // Three failures (a missing key is one) are answered; past them nothing more is looked up.
    for (let i = 0; i < 2; i++) expect(await auth.authenticate(randomToken(), '10.0.0.2')).toBeNull();
    expect(await auth.authenticate(undefined, '10.0.0.2')).toBeNull();
    clock += 15_000;
    state.lookups = 0;
    await expect(auth.authenticate(randomToken(), '10.0.0.2')).rejects.toMatchObject({
      retryAfterSeconds: 45,
      limit: 3,
    });
    await expect(auth.authenticate(other.key, '10.0.0.2')).rejects.toBeInstanceOf(AuthRateLimited);
    expect(state.lookups).toBe(0);
    // A key already known and fresh in the cache costs nothing and guesses nothing: it passes.
    expect(await auth.authenticate(known.key, '10.0.0.2')).toMatchObject({ merchantId: 'm1' });
    expect(await auth.authenticate(other.key, '10.0.0.3')).toMatchObject({ merchantId: 'm2' });
    clock += 45_000;
    expect(await auth.authenticate(randomToken(), '10.0.0.2')).toBeNull();
  });
});

describe('tenant ids', () => {
  it('refuse a card number as a merchant or issuer id, however it is separated, without repeating it', () => {
    for (const id of ['4111111111111111', '4111.1111.1111.1111', 'shop-4111-1111-1111-1111']) {
      const r = tenantIdSchema.safeParse(id);
      expect(r.success, id).toBe(false);
      expect(JSON.stringify(r.error?.issues)).not.toContain('1111');
    }
    expect(tenantIdSchema.safeParse('shop-7').success).toBe(true);
  });
});
