// From the scoring path to the case store. The sink turns a non-approve decision into a
// FlaggedDecision (no PAN, no security code: the masked card and keyed pseudonyms only; the
// order's personal data sealed, personal-data.ts) and puts it on a durable queue; the ingester
// moves queued decisions into the store a batch at a time (up to FLAGGED_BATCH, one commit a batch),
// acknowledging only after the commit, retrying with backoff while PostgreSQL is unreachable.
import type { Evidence, ScoreResult } from '../core/engine.ts';
import type { ScoreRequest, ScoreResponse } from '../core/schemas.ts';
import { decodeEntry, entrySlot, eventIdOf, type WatchlistStore } from '../core/watchlist.ts';
import {
  flaggedDecisionSchema,
  sanitiseRequest,
  scrubFlagged,
  type CaseStore,
  type FlaggedDecision,
  LINK_KINDS,
} from './model.ts';
import { personalDataBinding, type PersonalDataCipher } from './personal-data.ts';

/** A queue that keeps flagged decisions until a handler has committed them. */
export interface FlaggedQueue {
  readonly kind: 'memory' | 'journal' | 'redis-stream';
  publish(flagged: FlaggedDecision): Promise<void>;
  /**
   * Delivers in order, in batches of what is waiting (at most FLAGGED_BATCH); a rejected handler
   * call is retried later, the whole batch (at least once delivery).
   */
  start(handler: (batch: FlaggedDecision[]) => Promise<void>, onError: (error: unknown) => void): void;
  /** How many decisions are waiting (published and not yet acknowledged). */
  pending(): Promise<number>;
  stop(): Promise<void>;
}

export interface Backoff {
  initialMs: number;
  maxMs: number;
}
export const DEFAULT_BACKOFF: Backoff = { initialMs: 100, maxMs: 5_000 };
/**
 * The most decisions a queue hands over at once. A batch is one transaction: a case costs the
 * engine ~1 ms of CPU on PGlite in batches of 100, ~5 ms one at a time (docs/capacity.md).
 */
export const FLAGGED_BATCH = 100;
/**
 * After a batch smaller than FLAGGED_BATCH, how long a queue lets decisions gather before it hands
 * over the next: a busy engine then makes cases by the dozen, and a case reaches the console at
 * most this much later. The first decision after a quiet spell is handed over at once.
 */
export const FLAGGED_LINGER_MS = 200;

/** A wait that stopping cuts short. */
export class Pause {
  private timer: NodeJS.Timeout | undefined;
  private end: (() => void) | undefined;
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.end = resolve;
      this.timer = setTimeout(resolve, ms);
      this.timer.unref();
    });
  }
  cancel(): void {
    clearTimeout(this.timer);
    this.end?.();
  }
}
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref?.());

/** An in-process FIFO (tests, and the base of the embedded journal queue). */
export class MemoryFlaggedQueue implements FlaggedQueue {
  readonly kind: FlaggedQueue['kind'] = 'memory';
  protected readonly items: FlaggedDecision[] = [];
  private wake: (() => void) | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly linger = new Pause();
  private readonly limit: number;
  private readonly backoff: Backoff;
  dropped = 0;

  constructor(options: { limit?: number; backoff?: Backoff } = {}) {
    this.limit = options.limit ?? 100_000;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  async publish(flagged: FlaggedDecision): Promise<void> {
    if (this.items.length >= this.limit) {
      this.items.shift();
      this.dropped++;
    }
    this.items.push(flagged);
    this.wake?.();
  }

  start(handler: (batch: FlaggedDecision[]) => Promise<void>, onError: (error: unknown) => void): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      let delay = this.backoff.initialMs;
      while (this.running) {
        if (this.items.length === 0) {
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
          this.wake = undefined;
          continue;
        }
        const batch = this.items.slice(0, FLAGGED_BATCH);
        try {
          await handler(batch);
          // Those dropped meanwhile (the limit) are no longer at the head.
          const handled: FlaggedDecision[] = [];
          for (const flagged of batch) if (this.items[handled.length] === flagged) handled.push(flagged);
          // Recorded first, then taken off: a record that fails leaves them queued, handed over again.
          if (handled.length > 0) this.acknowledged(handled);
          this.items.splice(0, handled.length);
          delay = this.backoff.initialMs;
          if (batch.length < FLAGGED_BATCH && this.running) await this.linger.wait(FLAGGED_LINGER_MS);
        } catch (error) {
          onError(error);
          // Cut short by stop(), as the linger is: a stop while the case store (or the journal)
          // refuses must not wait out the backoff, nor hang on its timer, which holds no process up.
          if (this.running) await this.linger.wait(delay);
          delay = Math.min(delay * 2, this.backoff.maxMs);
        }
      }
    })();
  }

  /**
   * Called once decisions are handled (stored as cases), before they leave the queue (the first
   * `handled.length` of `items`): durable subclasses record it, and throw if they cannot.
   */
  protected acknowledged(_handled: readonly FlaggedDecision[]): void {}

  async pending(): Promise<number> {
    return this.items.length;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    this.linger.cancel();
    await this.loop;
  }
}

/** A flagged decision read back from a queue or a journal, validated and scrubbed; null when it is not one. */
export function validFlagged(value: unknown): FlaggedDecision | null {
  const parsed = flaggedDecisionSchema.safeParse(value);
  return parsed.success ? scrubFlagged(parsed.data as unknown as FlaggedDecision) : null;
}

export function parseFlagged(json: string): FlaggedDecision | null {
  try {
    return validFlagged(JSON.parse(json));
  } catch {
    return null;
  }
}

/** Why flagged decisions were given up: the waiting buffer was full, or the process stopped with them. */
export const FLAGGED_LOSSES = ['buffer_full', 'shutdown'] as const;
export type FlaggedLoss = (typeof FLAGGED_LOSSES)[number];
/** Decisions the queue refused, held for retrying (a few KB each): about an hour of 30 flagged a second. */
export const FLAGGED_WAITING_LIMIT = 100_000;

/**
 * A case's links from the identities the engine counted the transaction under (Evidence.entities,
 * primary first): each entity's primary identity is its link, and the others (the previous key's
 * during a rotation, an address's previous normalisation's) are aliases, so that its cases link
 * across both (case-store.ts linked).
 */
function linksOf(entities: Evidence['entities']): Pick<FlaggedDecision, 'links'> & { linkAliases: string[] } {
  const links: FlaggedDecision['links'] = {};
  const aliases = new Set<string>();
  for (const kind of LINK_KINDS) {
    const [primary, ...others] = entities[kind] ?? [];
    if (!primary) continue;
    if (kind !== 'card') links[kind] = primary;
    for (const other of others) if (other !== primary) aliases.add(`${kind}:${other}`);
  }
  return { links, linkAliases: [...aliases] };
}

/** Builds flagged decisions from scoring results and publishes them. Never throws into scoring. */
export class FlaggedSink {
  private readonly cipher: PersonalDataCipher;
  private readonly queue: FlaggedQueue;
  private readonly watchlist: WatchlistStore | undefined;
  private readonly onError: (error: unknown) => void;
  private readonly onLost: (lost: FlaggedDecision[], reason: FlaggedLoss) => void;
  private readonly limit: number;
  private readonly inflight = new Set<Promise<void>>();
  /** Decisions whose publication failed (queue unreachable): retried before newer ones. */
  private readonly retry: FlaggedDecision[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  published = 0;

  constructor(options: {
    cipher: PersonalDataCipher;
    queue: FlaggedQueue;
    watchlist?: WatchlistStore;
    onError: (error: unknown) => void;
    /** Decisions given up (the buffer full, or waiting at close): said, never silently dropped. */
    onLost?: (lost: FlaggedDecision[], reason: FlaggedLoss) => void;
    /** How many refused decisions are held for retrying (FLAGGED_WAITING_LIMIT). */
    limit?: number;
  }) {
    this.cipher = options.cipher;
    this.queue = options.queue;
    this.watchlist = options.watchlist;
    this.onError = options.onError;
    this.onLost = options.onLost ?? (() => {});
    this.limit = options.limit ?? FLAGGED_WAITING_LIMIT;
  }

  /** Decisions the queue refused so far, held for retrying. */
  waiting(): number {
    return this.retry.length;
  }

  /** Called after every scoring; acts on fresh, non-approve decisions. */
  observe(merchantId: string, req: ScoreRequest, result: ScoreResult): void {
    if (result.kind !== 'scored' || !result.evidence || result.response.decision === 'approve') return;
    const job = this.flag(merchantId, req, result.response, result.evidence).catch(this.onError);
    this.inflight.add(job);
    void job.finally(() => this.inflight.delete(job));
  }

  async flag(merchantId: string, req: ScoreRequest, response: ScoreResponse, evidence: Evidence): Promise<void> {
    const { links, linkAliases } = linksOf(evidence.entities);
    const now = new Date().toISOString();
    // Sealed here, before any queue or journal sees them: personal data never travel in clear.
    const { request, personal } = sanitiseRequest(req, evidence.card);
    const flagged: FlaggedDecision = scrubFlagged({
      merchantId,
      transactionId: req.transactionId,
      flaggedAt: now,
      occurredAt: req.occurredAt ? new Date(req.occurredAt).toISOString() : now,
      request,
      ...(personal ? { personal: this.cipher.seal(personal, personalDataBinding(merchantId, req.transactionId)) } : {}),
      response,
      card: {
        bin: evidence.card.bin,
        last4: evidence.card.last4,
        keyId: evidence.card.keyId,
        fingerprint: evidence.card.fingerprint,
      },
      features: evidence.features,
      links,
      ...(linkAliases.length > 0 ? { linkAliases } : {}),
      watchlistEvents: evidence.features.card_listed === true ? await this.listedEvents(evidence.card.fingerprint) : [],
    });
    await this.publish(flagged);
  }

  private async listedEvents(fingerprint: string): Promise<string[]> {
    if (!this.watchlist) return [];
    try {
      const [raw] = await this.watchlist.getEntries([entrySlot(fingerprint)]);
      const entry = raw ? decodeEntry(raw) : null;
      return entry ? entry.eventSeqs.map(eventIdOf) : [];
    } catch {
      return [];
    }
  }

  private async publish(flagged: FlaggedDecision): Promise<void> {
    try {
      await this.queue.publish(flagged);
      this.published++;
    } catch (error) {
      // Bounded: a queue down for hours must not take the process's memory; the oldest go first.
      if (this.retry.length >= this.limit)
        this.onLost(this.retry.splice(0, this.retry.length - this.limit + 1), 'buffer_full');
      this.retry.push(flagged);
      this.scheduleRetry();
      throw error;
    }
  }

  /** Publishes the oldest decision waiting for the queue (rejects as the queue does), within `timeoutMs` if given. */
  private async publishOldest(timeoutMs?: number): Promise<void> {
    const publishing = this.queue.publish(this.retry[0]!);
    // A queue that hangs rather than refuses is not waited for past a deadline.
    await (timeoutMs === undefined
      ? publishing
      : Promise.race([publishing, sleep(timeoutMs).then(() => Promise.reject(new Error('flagged queue timed out')))]));
    this.retry.shift();
    this.published++;
  }

  /** Publishes the decisions waiting for the queue, in order; never rejects (a failure reschedules). */
  private async drainRetries(delay: number): Promise<void> {
    this.retryTimer = undefined;
    while (this.retry.length > 0) {
      try {
        await this.publishOldest();
      } catch {
        this.scheduleRetry(Math.min(delay * 2, 5_000));
        return;
      }
    }
  }

  private scheduleRetry(delay = 500): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => void this.drainRetries(delay), delay);
    this.retryTimer.unref();
  }

  /** Waits until every observed decision has been published (or failed into the retry buffer). */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /**
   * Stops: every observed decision published, or given up after `timeoutMs` of retrying the
   * queue (told through onLost: the process is going, and what it holds with it).
   */
  async close(timeoutMs: number): Promise<void> {
    await this.drain();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const deadline = Date.now() + timeoutMs;
    while (this.retry.length > 0 && Date.now() < deadline) {
      try {
        await this.publishOldest(Math.max(0, deadline - Date.now()));
      } catch {
        await sleep(Math.min(200, Math.max(0, deadline - Date.now())));
      }
    }
    if (this.retry.length > 0) this.onLost(this.retry.splice(0), 'shutdown');
  }
}

/**
 * An error the database gives a statement for its data, the same at every retry: a data exception
 * (SQLSTATE class 22: a value it cannot store). Not an integrity violation (class 23): a CHECK a
 * newer engine's value breaks before its migration has run passes once it has.
 */
export const isDataError = (error: unknown) => /^22/.test(String((error as { code?: unknown })?.code ?? ''));

/**
 * Moves queued decisions into the case store, a batch at a time. A batch the database refuses for
 * its data is stored one decision at a time, and a decision it refuses by itself is set aside
 * (onRefused): retried, it would hold every case behind it out of the store for good.
 */
export class CaseIngester {
  private readonly queue: FlaggedQueue;
  private readonly store: CaseStore;
  created = 0;
  duplicates = 0;
  failures = 0;
  refused = 0;
  private onRefused: ((flagged: FlaggedDecision, error: unknown) => void) | undefined;
  constructor(queue: FlaggedQueue, store: CaseStore) {
    this.queue = queue;
    this.store = store;
  }

  start(
    onError: (error: unknown) => void,
    onCreated?: (id: number, flagged: FlaggedDecision) => void,
    onRefused?: (flagged: FlaggedDecision, error: unknown) => void,
  ): void {
    this.onRefused = onRefused;
    // Counted as the database confirms each: a retry after a transient error midway finds the
    // cases made before it as duplicates, so they are counted (and announced) here or never.
    const tally = (result: { id: number; created: boolean }, flagged: FlaggedDecision) => {
      if (result.created) {
        this.created++;
        onCreated?.(result.id, flagged);
      } else this.duplicates++;
    };
    this.queue.start(
      async (batch) => {
        let results: { id: number; created: boolean }[];
        try {
          results = await this.store.createManyFromFlagged(batch);
        } catch (error) {
          if (!isDataError(error)) throw error;
          return this.oneByOne(batch, tally);
        }
        results.forEach((result, i) => tally(result, batch[i]!));
      },
      (error) => {
        this.failures++;
        onError(error);
      },
    );
  }

  /** Each decision alone: one the database refuses for its data is set aside; any other error retries the batch. */
  private async oneByOne(
    batch: FlaggedDecision[],
    tally: (result: { id: number; created: boolean }, flagged: FlaggedDecision) => void,
  ): Promise<void> {
    for (const flagged of batch) {
      let result: { id: number; created: boolean };
      try {
        result = (await this.store.createManyFromFlagged([flagged]))[0]!;
      } catch (error) {
        if (!isDataError(error)) throw error;
        this.refused++;
        this.onRefused?.(flagged, error);
        continue;
      }
      tally(result, flagged);
    }
  }

  /** Resolves when nothing is waiting (tests, shutdown). */
  async idle(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await this.queue.pending()) === 0) return true;
      await sleep(25);
    }
    return false;
  }

  stop(): Promise<void> {
    return this.queue.stop();
  }
}
