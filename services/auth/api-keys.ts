// API keys: random, shown once, stored only as SHA-256 hashes (they carry 256 bits of entropy,
// so a fast hash is safe here, unlike for passwords). Each key has one role and one tenant.
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';

export const ROLES = ['merchant', 'issuer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const tenantIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, . _ -');

export const apiKeyRecordSchema = z.object({
  id: z.string(),
  hash: z.string(),
  role: z.enum(ROLES),
  merchantId: z.string().optional(),
  issuerId: z.string().optional(),
  label: z.string().optional(),
  createdAt: z.string(),
  /** Who made the change (a CLI user, an admin): carried into the audit log. */
  createdBy: z.string().optional(),
  revokedAt: z.string().optional(),
  revokedBy: z.string().optional(),
});
export type ApiKeyRecord = z.infer<typeof apiKeyRecordSchema>;

/** Who is calling: what auth hands to routes. */
export interface Principal {
  keyId: string;
  role: Role;
  merchantId?: string | undefined;
  issuerId?: string | undefined;
}

export interface ApiKeyStore {
  insert(record: ApiKeyRecord): Promise<void>;
  findByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  list(): Promise<ApiKeyRecord[]>;
  /** Returns false when no key has that id. */
  revoke(id: string, at: string, by?: string): Promise<boolean>;
}

export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex');

const PREFIX: Record<Role, string> = { merchant: 'lgm', issuer: 'lgi', admin: 'lga' };

export interface NewKey {
  role: Role;
  merchantId?: string | undefined;
  issuerId?: string | undefined;
  label?: string | undefined;
  /** Who asks: recorded on the key and in the audit log. */
  actor?: string | undefined;
}

export class KeyRequestError extends Error {}

/** Creates a key; the clear key is returned once and never stored. */
export async function createApiKey(store: ApiKeyStore, request: NewKey, now = new Date()): Promise<{ key: string; record: ApiKeyRecord }> {
  if (request.role === 'merchant' && !request.merchantId) throw new KeyRequestError('a merchant key needs --merchant <id>');
  if (request.role === 'issuer' && !request.issuerId) throw new KeyRequestError('an issuer key needs --issuer <id>');
  if (request.role !== 'merchant' && request.merchantId) throw new KeyRequestError('--merchant applies to merchant keys only');
  if (request.role !== 'issuer' && request.issuerId) throw new KeyRequestError('--issuer applies to issuer keys only');
  for (const id of [request.merchantId, request.issuerId]) {
    if (id !== undefined && !tenantIdSchema.safeParse(id).success) throw new KeyRequestError('merchant and issuer ids must be 1-64 letters, digits, . _ -');
  }
  const secret = randomBytes(32).toString('base64url');
  const key = `${PREFIX[request.role]}_${secret}`;
  const record: ApiKeyRecord = {
    id: `key_${randomBytes(6).toString('hex')}`,
    hash: hashApiKey(key),
    role: request.role,
    ...(request.merchantId ? { merchantId: request.merchantId } : {}),
    ...(request.issuerId ? { issuerId: request.issuerId } : {}),
    ...(request.label ? { label: request.label } : {}),
    createdAt: now.toISOString(),
    ...(request.actor ? { createdBy: request.actor } : {}),
  };
  await store.insert(record);
  return { key, record };
}

export class AuthUnavailable extends Error {
  constructor(cause: unknown) {
    super('API key store unavailable', { cause });
  }
}

/** Resolves bearer keys with a short in-process cache: auth must not cost a store round trip per request. */
export class ApiKeyAuthenticator {
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();

  private readonly store: ApiKeyStore;
  private readonly cacheMs: number;
  private readonly now: () => number;

  constructor(store: ApiKeyStore, cacheMs: number, now: () => number = Date.now) {
    this.store = store;
    this.cacheMs = cacheMs;
    this.now = now;
  }

  async authenticate(key: string): Promise<Principal | null> {
    const hash = hashApiKey(key);
    const cached = this.cache.get(hash);
    const t = this.now();
    if (cached && cached.until > t) return cached.principal;
    let record: ApiKeyRecord | undefined;
    try {
      record = await this.store.findByHash(hash);
    } catch (error) {
      // The key store is unreachable: a key we knew keeps working, an unknown one cannot be checked.
      if (cached) return cached.principal;
      throw new AuthUnavailable(error);
    }
    const principal: Principal | null =
      record && !record.revokedAt ? { keyId: record.id, role: record.role, merchantId: record.merchantId, issuerId: record.issuerId } : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { principal, until: t + this.cacheMs });
    return principal;
  }
}
