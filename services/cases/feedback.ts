// What a decision on a case feeds back: a label (stored with the decision; published through a
// LabelSink when configured, through an outbox so that none is lost: the Kafka one,
// services/adapters/kafka/labels-sink.ts, writes `leakguard.labels`), negative-list
// entries for the entities of a confirmed fraud, and an optional allow-listing of a card for its
// merchant after a legitimate decision.
import { scrubCardNumbers, scrubDeep } from '../core/scrub.ts';
import type { AuditLog } from './audit.ts';
import type { CaseStore, DecisionResult } from './model.ts';
import { NEGATIVE_KINDS, type NegativeListStore } from './negative-lists.ts';

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
  onFraudDecision?: (card: string, at: number, merchantId: string) => void;
  /** Every label an analyst's decision gives (the recording for backtests). */
  onLabel?: (merchantId: string, transactionId: string, label: 'fraud' | 'legitimate', at: number) => void;
  onError: (error: unknown) => void;
}

export class Feedback {
  private readonly o: FeedbackOptions;
  private flushing: Promise<void> | undefined;
  constructor(options: FeedbackOptions) {
    this.o = options;
  }

  /** After a decision was committed: negative lists, allow-list, label publication. */
  async applied(
    result: DecisionResult,
    actor: string,
    allowListDays = 0,
  ): Promise<{ negative: string[]; allowListedUntil: string | null }> {
    const c = result.case;
    const negative: string[] = [];
    let allowListedUntil: string | null = null;
    if (result.label === 'fraud') {
      this.o.onFraudDecision?.(c.card.fingerprint, Date.parse(c.occurredAt), c.merchantId);
      for (const kind of NEGATIVE_KINDS) {
        const identity = c.links[kind];
        if (!identity) continue;
        await this.o.negativeLists.add(kind, identity, this.o.negativeListTtlMs, c.id);
        negative.push(kind);
      }
      if (negative.length)
        await this.o.audit.append({
          actor,
          action: 'negative_list_add',
          target: `case:${c.id}`,
          detail: { kinds: negative, ttlDays: Math.round(this.o.negativeListTtlMs / 86_400_000) },
        });
    }
    if (result.label === 'legitimate' && allowListDays > 0) {
      const days = Math.min(allowListDays, this.o.allowListMaxDays);
      await this.o.negativeLists.allowCard(c.merchantId, c.card.fingerprint, days * 86_400_000, c.id);
      allowListedUntil = new Date(Date.now() + days * 86_400_000).toISOString();
      await this.o.audit.append({
        actor,
        action: 'allowlist_card',
        target: `case:${c.id}`,
        detail: { merchantId: c.merchantId, card: `${c.card.bin}******${c.card.last4}`, days },
      });
    }
    if (result.label) {
      this.o.onLabel?.(c.merchantId, c.transactionId, result.label, Date.now());
      void this.flushLabels();
    }
    return { negative, allowListedUntil };
  }

  /** Publishes stored labels not yet published (an outbox): at least once, in order. */
  flushLabels(): Promise<void> {
    if (!this.o.labels) return Promise.resolve();
    this.flushing ??= (async () => {
      try {
        for (;;) {
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
                }),
              ),
            })),
          );
          await this.o.store.markLabelsPublished(batch.map((l) => l.labelId));
        }
      } catch (error) {
        this.o.onError(error);
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }
}
