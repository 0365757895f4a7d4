// Which merchants the stream scores for. Over HTTP a merchant proves who it is with its API key;
// on the topic, merchantId is a field. A merchant is known when it holds an active merchant API
// key: the set is loaded from the key store, kept in process and reloaded periodically, and
// reloaded at once (at most every few seconds) when an unknown id shows up, so that a merchant
// onboarded a moment ago is not dead-lettered.
import type { ApiKeyRecord } from '../services/auth/api-keys.ts';
import type { Logger } from '../services/logger.ts';

export type MerchantStatus = 'known' | 'unknown' | 'unavailable';

export interface MerchantCheck {
  /** asOf: when the transaction was produced (ms); "unknown" means unknown to a directory loaded after that. */
  status(merchantId: string, asOf?: number): Promise<MerchantStatus>;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export class MerchantDirectory implements MerchantCheck {
  private known: Set<string> | undefined;
  /** When the load in force started (loads that failed do not count). */
  private loadedAt = Number.NEGATIVE_INFINITY;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private lastLoadFailed = false;
  private loading: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  private readonly list: () => Promise<ApiKeyRecord[]>;
  private readonly refreshMs: number;
  private readonly logger: Logger;
  private readonly minGapMs: number;
  private readonly now: () => number;

  constructor(
    list: () => Promise<ApiKeyRecord[]>,
    options: { refreshMs: number; logger: Logger; minGapMs?: number; now?: () => number },
  ) {
    this.list = list;
    this.refreshMs = options.refreshMs;
    this.logger = options.logger;
    this.minGapMs = options.minGapMs ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.known?.size ?? 0;
  }

  /** Loads the set now (one load at a time); keeps the previous set when the store fails. */
  refresh(): Promise<void> {
    this.loading ??= (async () => {
      const started = this.now();
      this.lastAttempt = started;
      try {
        const records = await this.list();
        this.known = new Set(
          records.filter((r) => r.role === 'merchant' && !r.revokedAt && r.merchantId).map((r) => r.merchantId!),
        );
        this.loadedAt = started;
        this.lastLoadFailed = false;
      } catch (error) {
        this.lastLoadFailed = true;
        this.logger.warn({ err: error }, 'could not load the merchant directory; keeping the previous one');
      }
    })().finally(() => (this.loading = undefined));
    return this.loading;
  }

  start(): void {
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * known / unknown; unavailable when the directory cannot be read. An id not in the set is
   * "unknown" only once a load that started after `asOf` (the transaction's time) confirms it,
   * so a merchant onboarded just before its first transaction is never turned away. Loads are
   * spaced by minGapMs and shared by every caller waiting for one: a flood of unknown ids costs
   * at most one key-store read per gap.
   */
  async status(merchantId: string, asOf: number = this.now()): Promise<MerchantStatus> {
    if (this.known?.has(merchantId)) return 'known';
    const since = Number.isFinite(asOf) ? Math.min(asOf, this.now()) : this.now();
    for (let attempt = 0; attempt < 4 && this.loadedAt <= since; attempt++) {
      if (this.loading) {
        await this.loading;
        continue;
      }
      const wait = this.lastAttempt + this.minGapMs - this.now();
      if (wait > 0) await sleep(wait);
      if (this.loadedAt > since) break;
      await this.refresh();
      if (this.lastLoadFailed) break;
    }
    if (this.known?.has(merchantId)) return 'known';
    if (!this.known || this.lastLoadFailed || this.loadedAt <= since) return 'unavailable';
    return 'unknown';
  }
}
