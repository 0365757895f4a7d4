// Whether the API key that made a webhook subscription is still live: a subscription made with a
// key that is revoked later (a leaked key, say) receives nothing more (docs/webhooks.md). Asked of
// the key store every engine reads (Redis or the state directory's file), so it holds on every
// engine whatever revoked the key (`npm run keys -- revoke`). One listing of the store serves
// every subscription for LEAKGUARD_API_KEY_CACHE_MS, as authentication trusts a key that long: a
// revocation stops a subscription's deliveries within that time (and a webhook poll).
import type { ApiKeyStore } from '../auth/api-keys.ts';
import type { CreatingKeyState } from './model.ts';

export class CreatingKeys {
  private readonly store: Pick<ApiKeyStore, 'list'>;
  private readonly cacheMs: number;
  private readonly now: () => number;
  private known: { states: Map<string, 'live' | 'revoked'>; until: number } | undefined;
  private loading: Promise<void> | undefined;

  constructor(store: Pick<ApiKeyStore, 'list'>, cacheMs: number, now: () => number = Date.now) {
    this.store = store;
    this.cacheMs = cacheMs;
    this.now = now;
  }

  /**
   * The key's state: live, revoked, or unknown (the store does not hold it). With the store
   * unreachable, the last answer read stands (as authentication keeps a key it knew); with none
   * read yet, it throws.
   */
  async state(keyId: string): Promise<CreatingKeyState> {
    if (!this.known || this.known.until <= this.now()) {
      try {
        await (this.loading ??= this.load().finally(() => (this.loading = undefined)));
      } catch (error) {
        if (!this.known) throw error;
      }
    }
    return this.known!.states.get(keyId) ?? 'unknown';
  }

  private async load(): Promise<void> {
    const records = await this.store.list();
    const states = new Map(records.map((r) => [r.id, r.revokedAt ? ('revoked' as const) : ('live' as const)]));
    this.known = { states, until: this.now() + this.cacheMs };
  }
}
