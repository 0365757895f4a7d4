// API keys: random, shown once, stored only as SHA-256 hashes (they carry 256 bits of entropy,
// so a fast hash is safe here, unlike for passwords). Each key has one role and one tenant.
import { CPP_ISSUER } from '../core/watchlist.ts';
import { containsCardNumber, scrubCardNumbers } from '../core/scrub.ts';
import { issueDetails, LeakguardError, type LeakguardErrorOptions } from '../core/errors.ts';
import { hash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { addressKey } from './client-address.ts';
import { tenantIdSchema } from '../core/identifiers.ts';

export const ROLES = ['merchant', 'issuer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Merchant and issuer ids: the same ids rulesets name in their per-merchant overrides. */
export { tenantIdSchema };

export const apiKeyRecordSchema = z.object({
  id: z.string(),
  hash: z.string(),
  role: z.enum(ROLES),
  merchantId: z.string().optional(),
  issuerId: z.string().optional(),
  // Masked on reading too: a label stored before labels were scrubbed is never shown in clear.
  label: z
    .string()
    .transform((v) => scrubCardNumbers(v))
    .optional(),
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
  /** The key's label, when it has one (`npm run keys -- create --label`): named with the id in the audit log. */
  label?: string | undefined;
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

/** On every request: the one-shot `hash`, about a third of createHash's cost (no Hash object). */
export const hashApiKey = (key: string) => hash('sha256', key, 'hex');

const PREFIX: Record<Role, string> = { merchant: 'lgm', issuer: 'lgi', admin: 'lga' };

export interface NewKey {
  role: Role;
  merchantId?: string | undefined;
  issuerId?: string | undefined;
  label?: string | undefined;
  /** Who asks: recorded on the key and in the audit log. */
  actor?: string | undefined;
}

export class KeyRequestError extends LeakguardError {
  constructor(message: string, options?: LeakguardErrorOptions) {
    super('KEY_REQUEST_INVALID', message, options);
  }
}

/**
 * A key's public id (`key_` and 12 hex digits). Ids are shown and audited everywhere, where the
 * card-number scrubber masks any 12-19 digit run that passes Luhn: an id drawn all decimal and
 * passing it (about 1 in 28,000) would be masked there and never found again. Drawn again then.
 */
export function newKeyId(random: (size: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = `key_${random(6).toString('hex')}`;
    if (!containsCardNumber(id)) return id;
  }
}

/** Creates a key; the clear key is returned once and never stored. */
const CONTROL_NAMES: Record<string, string> = {
  '\t': 'tab',
  '\n': 'line feed',
  '\r': 'carriage return',
  '\u001b': 'escape',
  '\u2028': 'line separator',
  '\u2029': 'paragraph separator',
};

/**
 * The first control character of a label (C0, DEL, C1, or a Unicode line or paragraph separator),
 * named with its place: a label is listed on one line, and a newline in it forges a line of
 * `npm run keys -- list` (an escape sequence repaints the terminal).
 */
function controlCharacterIn(label: string): string | undefined {
  const at = label.search(/[\p{Cc}\u2028\u2029]/u);
  if (at < 0) return undefined;
  const c = label[at]!;
  const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  return `${code}${CONTROL_NAMES[c] ? ` (${CONTROL_NAMES[c]})` : ''} at character ${Array.from(label.slice(0, at)).length + 1}`;
}

export async function createApiKey(
  store: ApiKeyStore,
  request: NewKey,
  now = new Date(),
): Promise<{ key: string; record: ApiKeyRecord }> {
  if (request.role === 'merchant' && !request.merchantId)
    throw new KeyRequestError('a merchant key needs --merchant <id>');
  if (request.role === 'issuer' && !request.issuerId) throw new KeyRequestError('an issuer key needs --issuer <id>');
  if (request.role !== 'merchant' && request.merchantId)
    throw new KeyRequestError('--merchant applies to merchant keys only');
  if (request.role !== 'issuer' && request.issuerId) throw new KeyRequestError('--issuer applies to issuer keys only');
  if (request.issuerId === CPP_ISSUER)
    throw new KeyRequestError(
      `the issuer id ${CPP_ISSUER} is Leakguard's own (breach discovery's events): choose another`,
    );
  const control = request.label === undefined ? undefined : controlCharacterIn(request.label);
  if (control)
    throw new KeyRequestError(`--label must not contain control characters (${control}): a label is one line of text`);
  for (const id of [request.merchantId, request.issuerId]) {
    const invalid = id === undefined ? undefined : tenantIdSchema.safeParse(id).error;
    const problem = invalid ? issueDetails(invalid)[0]?.message : undefined;
    if (problem) throw new KeyRequestError(`merchant and issuer ids ${problem}`);
  }
  const secret = randomBytes(32).toString('base64url');
  const key = `${PREFIX[request.role]}_${secret}`;
  const record: ApiKeyRecord = {
    id: newKeyId(),
    hash: hashApiKey(key),
    role: request.role,
    ...(request.merchantId ? { merchantId: request.merchantId } : {}),
    ...(request.issuerId ? { issuerId: request.issuerId } : {}),
    // Free text, kept and listed: a card number in it is masked like everywhere else.
    ...(request.label ? { label: scrubCardNumbers(request.label) } : {}),
    createdAt: now.toISOString(),
    ...(request.actor ? { createdBy: request.actor } : {}),
  };
  await store.insert(record);
  return { key, record };
}

export class AuthUnavailable extends LeakguardError {
  constructor(cause: unknown) {
    super('AUTH_UNAVAILABLE', 'API key store unavailable', { cause });
  }
}

/** A Map used as a bounded LRU: a hit moves the entry to the end, the oldest goes first when full. */
class BoundedCache<V> {
  private readonly entries = new Map<string, V>();
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  get(key: string): V | undefined {
    const v = this.entries.get(key);
    if (v !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, v);
  }
  delete(key: string): void {
    this.entries.delete(key);
  }
  get size(): number {
    return this.entries.size;
  }
}

const FAILURE_WINDOW_MS = 60_000;

/** Fixed one-minute windows of failed authentications per client address, in a bounded map. */
class FailureWindows {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly limit: number;
  private readonly max: number;
  constructor(limit: number, max: number) {
    this.limit = limit;
    this.max = max;
  }
  /** Seconds until the address may try again; 0 while it is under the limit. */
  blockedFor(address: string, now: number): number {
    const w = this.windows.get(address);
    if (!w || now - w.start >= FAILURE_WINDOW_MS || w.count < this.limit) return 0;
    return Math.max(1, Math.ceil((w.start + FAILURE_WINDOW_MS - now) / 1000));
  }
  record(address: string, now: number): void {
    const w = this.windows.get(address);
    if (w && now - w.start < FAILURE_WINDOW_MS) {
      w.count++;
      return;
    }
    this.windows.delete(address);
    if (this.windows.size >= this.max) {
      for (const [a, v] of this.windows) if (now - v.start >= FAILURE_WINDOW_MS) this.windows.delete(a);
      // Still full of live windows (addresses by the thousand): the oldest window goes.
      if (this.windows.size >= this.max) this.windows.delete(this.windows.keys().next().value!);
    }
    this.windows.set(address, { start: now, count: 1 });
  }
}

export interface AuthenticatorOptions {
  /** How long a lookup is trusted before the store is asked again. */
  cacheMs: number;
  /** Failed authentications (missing, unknown or revoked keys) per client address per minute. */
  failuresPerMinute?: number;
  /** Known keys kept, least recently used out first; unknown tokens never take their place. */
  maxKnownKeys?: number;
  /** Unknown or revoked tokens remembered, apart from known keys: a flood only churns this one. */
  maxUnknownKeys?: number;
  /** Client addresses whose failures are counted at once. */
  maxAddresses?: number;
  now?: () => number;
}

/** The answer for a client address that failed too often: refused without a key-store lookup. */
export class AuthRateLimited extends LeakguardError {
  readonly retryAfterSeconds: number;
  readonly limit: number;
  constructor(retryAfterSeconds: number, limit: number) {
    super('AUTH_RATE_LIMITED', 'too many failed authentications');
    this.retryAfterSeconds = retryAfterSeconds;
    this.limit = limit;
  }
}

/**
 * Resolves bearer keys with a short in-process cache: auth must not cost a store round trip per
 * request. Known keys and unknown tokens live in separate bounded caches, so random tokens can
 * never evict a real key (which keeps working while the store is down), and failures are counted
 * per client address.
 */
export class ApiKeyAuthenticator {
  private readonly known: BoundedCache<{ principal: Principal; until: number }>;
  private readonly unknown: BoundedCache<number>;
  private readonly failures: FailureWindows;
  private readonly store: ApiKeyStore;
  private readonly cacheMs: number;
  readonly failuresPerMinute: number;
  private readonly now: () => number;

  constructor(store: ApiKeyStore, options: AuthenticatorOptions) {
    this.store = store;
    this.cacheMs = options.cacheMs;
    this.now = options.now ?? Date.now;
    this.failuresPerMinute = options.failuresPerMinute ?? Infinity;
    this.known = new BoundedCache(options.maxKnownKeys ?? 10_000);
    this.unknown = new BoundedCache(options.maxUnknownKeys ?? 1_000);
    this.failures = new FailureWindows(this.failuresPerMinute, options.maxAddresses ?? 10_000);
  }

  /**
   * The key's principal, or null for a missing, unknown or revoked key (counted against the
   * address). Throws AuthRateLimited when the address failed too often and the key is not one the
   * engine holds as valid (fresh or stale in the cache), AuthUnavailable when the store cannot be asked.
   */
  async authenticate(key: string | undefined, address = 'unknown'): Promise<Principal | null> {
    const t = this.now();
    const hash = key === undefined ? undefined : hashApiKey(key);
    const cached = hash === undefined ? undefined : this.known.get(hash);
    if (cached && cached.until > t) return cached.principal;
    // Counted as every per-address defence counts a client: an IPv6 one by its /64, or it could
    // change address per try. Only past the cache: a known key's request never needs it.
    const counted = addressKey(address);
    // An address over its limit gets no lookup for a key the engine does not know. A key it has
    // seen valid is looked up again even then (its entry is only stale): refusing it would let
    // anyone sharing the address (a NAT, a gateway, a load balancer's peer) lock it out with junk.
    // Revoked, it is dropped from the known keys below and meets the limit like any other.
    if (!cached) {
      const blocked = this.failures.blockedFor(counted, t);
      if (blocked > 0) throw new AuthRateLimited(blocked, this.failuresPerMinute);
    }
    const principal = hash === undefined ? null : await this.lookup(hash, cached, t);
    if (!principal) this.failures.record(counted, t);
    return principal;
  }

  private async lookup(
    hash: string,
    cached: { principal: Principal } | undefined,
    t: number,
  ): Promise<Principal | null> {
    const unknownUntil = this.unknown.get(hash);
    if (unknownUntil !== undefined && unknownUntil > t) return null;
    let record: ApiKeyRecord | undefined;
    try {
      record = await this.store.findByHash(hash);
    } catch (error) {
      // The key store is unreachable: a key we knew keeps working (even past its cache time),
      // one we knew as unknown stays refused, any other cannot be checked.
      if (cached) return cached.principal;
      if (unknownUntil !== undefined) return null;
      throw new AuthUnavailable(error);
    }
    if (!record || record.revokedAt) {
      this.known.delete(hash);
      this.unknown.set(hash, t + this.cacheMs);
      return null;
    }
    const principal: Principal = {
      keyId: record.id,
      ...(record.label ? { label: record.label } : {}),
      role: record.role,
      merchantId: record.merchantId,
      issuerId: record.issuerId,
    };
    this.unknown.delete(hash);
    this.known.set(hash, { principal, until: t + this.cacheMs });
    return principal;
  }

  /** For tests and metrics: how many lookups each cache holds. */
  cacheSizes(): { known: number; unknown: number } {
    return { known: this.known.size, unknown: this.unknown.size };
  }
}
