// What a decision on a case feeds back: a label (stored with the decision; published through a
// LabelSink when configured, through an outbox so that none is lost: the Kafka one,
// services/adapters/kafka/labels-sink.ts, writes `leakguard.labels`), negative-list
// entries for the entities of a confirmed fraud, an optional allow-listing of a card for its
// merchant after a legitimate decision, and the labels breach discovery and backtests learn from.
// Those live outside the case database (Redis, the recorders): the decision writes what they are
// to be in its own transaction (decision_effects, an outbox, with its audit entries), then they are
// applied at once and, while that fails, by a worker with backoff until they are. Applying an
// effect twice changes nothing twice (a list entry set again, a label the learners already hold).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { scrubCardNumbers, scrubDeep } from '../core/scrub.ts';
import { backoffDelay } from '../webhooks/retry.ts';
import type { AuditInput, AuditLog } from './audit.ts';
import type {
  CaseAction,
  CaseStore,
  DecisionResult,
  ListName,
  PendingEffect,
  ReversalCategory,
  ReversalResult,
} from './model.ts';
import type { NegativeListStore } from './negative-lists.ts';

export interface LabelSink {
  send(messages: { key: string; value: string }[]): Promise<void>;
  close(): Promise<void>;
}

export interface FeedbackOptions {
  store: CaseStore;
  negativeLists: NegativeListStore;
  audit: AuditLog;
  labels?: LabelSink;
  negativeListTtlMs: number;
  allowListMaxDays: number;
  /** A fraud decision's card and transaction time, for whoever learns from fraud labels (breach discovery). */
  onFraudDecision?: (card: string, at: number, merchantId: string, transactionId: string) => void;
  /** Every label an analyst's decision gives (the recording for backtests). */
  onLabel?: (merchantId: string, transactionId: string, label: 'fraud' | 'legitimate', at: number) => void;
  /** A reversed fraud decision: breach discovery takes the card's analyst label back. */
  onFraudWithdrawn?: (card: string, at: number, merchantId: string, transactionId: string) => void;
  /** A reversed decision's label, withdrawn (the recording for backtests). */
  onLabelWithdrawn?: (merchantId: string, transactionId: string, label: 'fraud' | 'legitimate', at: number) => void;
  onError: (error: unknown) => void;
  /** This process, in the label outbox's lease (default: host, pid and a random part). */
  owner?: string;
  /** An effect could not be applied (it is retried): for a log line and a metric. */
  onEffectFailed?: (error: unknown, effect: PendingEffect) => void;
  /** How often the worker looks for effects due (ms; default 5 s). */
  effectPollMs?: number;
  /** Backoff between attempts at one effect: base and cap (ms; default 1 s to 5 min, for as long as it takes). */
  effectRetryBaseMs?: number;
  effectRetryMaxMs?: number;
}

/** What became of a decision's effects: applied now, or waiting for the worker's retry. */
export interface DecisionOutcome {
  result: DecisionResult;
  effects: 'applied' | 'pending' | 'none';
}

/** How long stop() waits for a label publication in flight (ms). */
const FLUSH_WAIT_AT_STOP_MS = 5_000;

/** How long an engine holds an effect it is applying before another may take it (ms). */
const EFFECT_LEASE_MS = 30_000;

/**
 * How long an engine holds the label outbox, renewed before each batch it reads (ms): longer than
 * the Kafka sink's longest send (labels-sink.ts: three tries of 3 s to connect and 10 s to answer).
 */
const LABEL_OUTBOX_LEASE_MS = 60_000;

export class Feedback {
  private readonly o: FeedbackOptions;
  private readonly owner: string;
  private flushing: Promise<void> | undefined;
  private applying: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  constructor(options: FeedbackOptions) {
    this.o = options;
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  }

  /** How long a fraud decision keeps its entities listed (days). */
  get negativeListDays(): number {
    return Math.round(this.o.negativeListTtlMs / 86_400_000);
  }

  /**
   * Decides a case: the status, its label, its audit entries (`audit`) and the outbox row of its
   * effects commit together, or nothing does; then the effects are applied. An effect that fails
   * now (Redis down) is not an error for the one deciding: it waits for the worker's retry.
   */
  async decide(
    id: number,
    action: CaseAction,
    actor: string,
    options: {
      note?: string | undefined;
      mayDecideEscalated?: boolean;
      mayDecideOthers?: boolean;
      allowListDays?: number;
      audit?: (result: Omit<DecisionResult, 'effect'>) => AuditInput[];
    } = {},
  ): Promise<DecisionOutcome> {
    const result = await this.o.store.decide(id, action, actor, options.note, {
      ...(options.mayDecideEscalated !== undefined ? { mayDecideEscalated: options.mayDecideEscalated } : {}),
      ...(options.mayDecideOthers !== undefined ? { mayDecideOthers: options.mayDecideOthers } : {}),
      ...(options.audit ? { audit: options.audit } : {}),
      negativeListTtlMs: this.o.negativeListTtlMs,
      allowListDays:
        action === 'mark_legitimate' ? Math.min(Math.max(0, options.allowListDays ?? 0), this.o.allowListMaxDays) : 0,
      leaseMs: EFFECT_LEASE_MS,
    });
    if (result.label) void this.flushLabels();
    if (!result.effect) return { result, effects: 'none' };
    return { result, effects: (await this.apply(result.effect)) ? 'applied' : 'pending' };
  }

  /** Applies one effect; on failure records the attempt (retried later) and answers false. */
  async apply(effect: PendingEffect): Promise<boolean> {
    try {
      await this.o.store.effectApplied(effect.id, await this.perform(effect));
      return true;
    } catch (error) {
      this.o.onEffectFailed?.(error, effect);
      const retryInMs = backoffDelay(
        {
          baseMs: this.o.effectRetryBaseMs ?? 1000,
          maxDelayMs: this.o.effectRetryMaxMs ?? 300_000,
          retryForMs: Infinity,
        },
        effect.attempts + 1,
      );
      await this.o.store
        .effectFailed(effect.id, error instanceof Error ? error.message : String(error), retryInMs)
        .catch((e: unknown) => this.o.onError(e));
      return false;
    }
  }

  /**
   * Sets an entity's list key to what its entries in force say (list_entries): the furthest expiry
   * while one is live, none when none is. The same for a decision and a reversal, in any order.
   */
  private async settle(list: ListName, merchantId: string, identity: string): Promise<void> {
    const [live] = await this.o.store.liveListEntries(list, merchantId, identity);
    const ttlMs = live ? Date.parse(live.expiresAt) - Date.now() : 0;
    if (list === 'allow') {
      if (live && ttlMs > 0) await this.o.negativeLists.allowCard(merchantId, identity, ttlMs, live.caseId);
      else await this.o.negativeLists.disallowCard(merchantId, identity);
    } else if (live && ttlMs > 0) await this.o.negativeLists.add(list, identity, ttlMs, live.caseId);
    else await this.o.negativeLists.remove(list, identity);
  }

  /** Does what an effect says (each step idempotent); returns the audit entries that record it. */
  private async perform(effect: PendingEffect): Promise<AuditInput[]> {
    const e = effect.effects;
    const audit: AuditInput[] = [];
    const target = `case:${e.caseId}`;
    const reversed = effect.kind === 'reversed';
    for (const { kind, identity } of e.negative) await this.settle(kind, '', identity);
    if (e.allow) await this.settle('allow', e.merchantId, e.card);
    if (e.negative.length)
      audit.push({
        actor: effect.actor,
        action: reversed ? 'negative_list_remove' : 'negative_list_add',
        target,
        detail: {
          kinds: e.negative.map((n) => n.kind),
          ...(reversed ? {} : { ttlDays: Math.round(this.o.negativeListTtlMs / 86_400_000), until: e.negativeUntil }),
        },
      });
    if (e.allow) {
      const c = await this.o.store.get(e.caseId);
      audit.push({
        actor: effect.actor,
        action: reversed ? 'allowlist_card_remove' : 'allowlist_card',
        target,
        detail: {
          merchantId: e.merchantId,
          ...(c ? { card: `${c.card.bin}******${c.card.last4}` } : {}),
          ...(reversed ? {} : { days: e.allow.days, until: e.allow.until }),
        },
      });
    }
    // The learners' buffers retry on their own; given twice, a label (or its withdrawal) is the same.
    const at = Date.parse(e.occurredAt);
    if (reversed) {
      if (e.label === 'fraud') this.o.onFraudWithdrawn?.(e.card, at, e.merchantId, e.transactionId);
      this.o.onLabelWithdrawn?.(e.merchantId, e.transactionId, e.label, Date.parse(effect.createdAt));
    } else {
      if (e.label === 'fraud') this.o.onFraudDecision?.(e.card, at, e.merchantId, e.transactionId);
      this.o.onLabel?.(e.merchantId, e.transactionId, e.label, Date.parse(effect.createdAt));
    }
    return audit;
  }

  /**
   * Reverses a decision (a lead's correction): the store reopens the case, withdraws its label and
   * its own list entries and writes the audit entries and the outbox row in one transaction; then
   * the lists are settled and the learners told, now or by the worker.
   */
  async reverse(
    id: number,
    actor: string,
    reason: string,
    options: { audit?: (result: ReversalResult) => AuditInput[]; category?: ReversalCategory } = {},
  ): Promise<{ result: ReversalResult; effect: PendingEffect; effects: 'applied' | 'pending' }> {
    const { effect, ...result } = await this.o.store.reverse(id, actor, reason, {
      ...(options.audit ? { audit: options.audit } : {}),
      ...(options.category ? { category: options.category } : {}),
      leaseMs: EFFECT_LEASE_MS,
    });
    void this.flushLabels();
    return { result, effect, effects: (await this.apply(effect)) ? 'applied' : 'pending' };
  }

  /** Applies the effects due (their first attempt failed, or their engine stopped before it): one pass at a time. */
  applyDue(): Promise<void> {
    this.applying ??= (async () => {
      try {
        for (;;) {
          const due = await this.o.store.claimEffects(100, EFFECT_LEASE_MS);
          if (due.length === 0) return;
          let applied = 0;
          for (const effect of due) if (await this.apply(effect)) applied++;
          // All failed (Redis still down): the next pass waits for their backoff.
          if (applied === 0) return;
        }
      } catch (error) {
        this.o.onError(error);
      } finally {
        this.applying = undefined;
      }
    })();
    return this.applying;
  }

  /**
   * Starts the worker: a pass now and every `effectPollMs`, over the effects due and the labels not
   * yet published (Kafka was down when they were decided: no later decision need come to send them).
   */
  start(): void {
    if (this.timer) return;
    const pass = () => {
      void this.applyDue();
      void this.flushLabels();
    };
    pass();
    this.timer = setInterval(pass, this.o.effectPollMs ?? 5000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    // A publication in flight is waited for a few seconds, not for a broker that does not answer:
    // what it did not mark published is sent again by the next engine's flush.
    const flushWait = new Promise((resolve) => setTimeout(resolve, FLUSH_WAIT_AT_STOP_MS).unref());
    await Promise.all([this.applying, Promise.race([this.flushing, flushWait])]);
  }

  /**
   * Publishes stored labels not yet published (an outbox): at least once, in order. Every engine
   * flushes, one at a time publishes (the outbox's lease): two reading the same labels sent each
   * twice, and one could send a withdrawal ahead of the label another was still sending. A flush
   * that finds the outbox held leaves its labels to the holder, or to the next pass (5 s).
   */
  flushLabels(): Promise<void> {
    if (!this.o.labels) return Promise.resolve();
    this.flushing ??= (async () => {
      let held = false;
      try {
        for (;;) {
          held = await this.o.store.holdLabelOutbox(this.owner, LABEL_OUTBOX_LEASE_MS);
          if (!held) return;
          const batch = await this.o.store.unpublishedLabels(500);
          if (batch.length === 0) return;
          await this.o.labels!.send(
            batch.map((l) => ({
              // From the case store (scrubbed already); scrubbed again at the door all the same.
              key: scrubCardNumbers(`${l.merchantId}:${l.transactionId}`),
              value: JSON.stringify(
                scrubDeep({
                  caseId: l.caseId,
                  merchantId: l.merchantId,
                  transactionId: l.transactionId,
                  label: l.label,
                  decidedAt: l.decidedAt,
                  decidedBy: l.decidedBy,
                  occurredAt: l.occurredAt,
                  score: l.score,
                  reasonCodes: l.reasonCodes,
                  // A reversed decision: the label is withdrawn (consumers drop it).
                  ...(l.withdrawnAt ? { withdrawn: true, withdrawnAt: l.withdrawnAt } : {}),
                }),
              ),
            })),
          );
          await this.o.store.markLabelsPublished(batch);
        }
      } catch (error) {
        this.o.onError(error);
      } finally {
        // Given up at once, not held until it runs out: a broker this engine cannot reach may
        // answer another, and a label decided on another engine meanwhile is its to send.
        if (held) await this.o.store.releaseLabelOutbox(this.owner).catch((error: unknown) => this.o.onError(error));
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }
}
