// Feeds the card histories from what the engine sees, off the scoring path: each scored
// transaction becomes a visit, each fraud label (a chargeback, an analyst's fraud decision, the
// engine's own strongest decisions, a failed 3-D Secure step-up) a fraud of its card, and both are
// written in batches. The
// scoring never waits for them; a history store that is down loses the newest visits only past
// a bounded buffer (counted), never an answer.
import { REVERSED_CHARGEBACK } from '../core/chargebacks.ts';
import type { ScoreResult } from '../core/engine.ts';
import {
  transactionKey,
  WITHDRAWABLE_SOURCES,
  type CardHistoryStore,
  type FraudLabel,
  type FraudSource,
  type VisitRecord,
} from './history.ts';

/**
 * Reason codes the engine gives only on strong evidence that the card is in a fraudster's hands
 * (testing at many merchants, small-amount probing): a review or decline with one of them labels the
 * card at once, minutes after the first fraud instead of the weeks a chargeback takes.
 */
export const ENGINE_FRAUD_REASONS: ReadonlySet<string> = new Set([
  'CARD_TESTING_SMALL_AMOUNTS_1H',
  'CARD_MANY_MERCHANTS_10M',
  'CARD_MANY_MERCHANTS_1H',
]);

/** The outcomes that label a card, and as which source. */
const LABELLING_OUTCOMES: Readonly<Record<string, FraudSource>> = {
  chargeback: 'chargeback',
  challenge_failed: 'challenge',
};

/** A label the case system hands over: the scoring merchant and its transaction id, as the case has them. */
export interface RecordedLabel {
  card: string;
  at: number;
  source: FraudSource;
  merchantId?: string;
  transactionId?: string;
}

export interface RecorderOptions {
  store: CardHistoryStore;
  /** A transaction's card and time from the velocity store (for an outcome, which names only the transaction). */
  transactionOf: (merchantId: string, transactionId: string) => Promise<{ card: string; at: number } | undefined>;
  /**
   * The merchants whose suspected breach lists a card (suspicions.ts; default: none). A failed
   * step-up of such a card is labelled as asked by them: no evidence against them, as it is against
   * the card's other merchants. Otherwise a suspicion, true or false, fed on its own challenges.
   */
  suspicionsListing?: (card: string) => Promise<readonly string[]>;
  /**
   * The merchant the histories know a scoring merchant by, for visits and labels alike (default: the
   * same; a replay maps a chain's terminals to one merchant, as its one API key does in production).
   */
  merchantOf?: (merchantId: string) => string;
  flushMs?: number;
  /** Beyond this many waiting visits, the newest are dropped (and counted) until the store answers again. */
  maxBuffered?: number;
  onError?: (error: unknown) => void;
  onDropped?: (count: number) => void;
}

export class HistoryRecorder {
  private visits: VisitRecord[] = [];
  private frauds: FraudLabel[] = [];
  /** Labels taken back (reversed chargebacks), after the labels waiting with them are written. */
  private withdrawn: FraudLabel[] = [];
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  /** Labelling outcomes whose card is being looked up: a flush waits for them. */
  private readonly lookups = new Set<Promise<unknown>>();
  private readonly o: Required<Omit<RecorderOptions, 'onError' | 'onDropped' | 'merchantOf' | 'suspicionsListing'>> &
    Pick<RecorderOptions, 'onError' | 'onDropped' | 'suspicionsListing'>;
  private readonly merchantOf: (merchantId: string) => string;

  constructor(options: RecorderOptions) {
    this.o = { flushMs: 500, maxBuffered: 100_000, ...options };
    this.merchantOf = options.merchantOf ?? ((m) => m);
    this.timer = setInterval(() => void this.flush(), this.o.flushMs);
    this.timer.unref();
  }

  /** The engine observer's `scored`: a scoring is a visit (a stored answer sent again carries no evidence; a visit written twice is one). */
  scored(scoringMerchant: string, result: ScoreResult): void {
    if (result.kind !== 'scored' || !result.evidence) return;
    const merchantId = this.merchantOf(scoringMerchant);
    const { card, at } = result.evidence;
    if (this.visits.length >= this.o.maxBuffered) {
      this.o.onDropped?.(1);
      return;
    }
    this.visits.push({ card: card.fingerprint, bin: card.bin, merchantId, at });
    const { decision, reasons } = result.response;
    if ((decision === 'review' || decision === 'decline') && reasons.some((r) => ENGINE_FRAUD_REASONS.has(r.code)))
      this.frauds.push({ card: card.fingerprint, at, source: 'engine', merchantId });
  }

  /**
   * The engine observer's `outcomeRecorded`: a chargeback, or a failed step-up (minutes after the
   * fraud, where a chargeback takes weeks), labels its card at the transaction's time.
   */
  outcome(merchantId: string, transactionId: string, outcome: string): void {
    if (outcome === REVERSED_CHARGEBACK) {
      // The chargeback's label, as it was written: a reversal takes it back.
      this.lookUp(merchantId, transactionId, async (t) => {
        this.withdrawn.push({
          card: t.card,
          at: t.at,
          source: 'chargeback',
          merchantId: this.merchantOf(merchantId),
          transaction: transactionKey(merchantId, transactionId),
        });
      });
      return;
    }
    const source = LABELLING_OUTCOMES[outcome];
    if (!source) return;
    this.lookUp(merchantId, transactionId, async (t) => {
      // A watchlist that does not answer: labelled as before this was asked (against every merchant).
      const askedBy =
        source === 'challenge'
          ? await this.o.suspicionsListing?.(t.card).catch((error: unknown) => void this.o.onError?.(error))
          : undefined;
      this.frauds.push({
        card: t.card,
        at: t.at,
        source,
        merchantId: this.merchantOf(merchantId),
        ...(askedBy?.length ? { askedBy } : {}),
        // Its own label, which its reversal takes back (another chargeback of the card that day stays).
        ...(WITHDRAWABLE_SOURCES.has(source) ? { transaction: transactionKey(merchantId, transactionId) } : {}),
      });
    });
  }

  /** An outcome's transaction looked up (its card and time), then `then`: a flush waits for it. */
  private lookUp(
    merchantId: string,
    transactionId: string,
    then: (t: { card: string; at: number }) => Promise<void>,
  ): void {
    const lookup = this.o.transactionOf(merchantId, transactionId).then(
      (t) => t && then(t),
      (error: unknown) => this.o.onError?.(error),
    );
    this.lookups.add(lookup);
    void lookup.finally(() => this.lookups.delete(lookup));
  }

  /**
   * An analyst decided a case was fraud (its merchant as the scoring knew it, mapped like a visit's;
   * its transaction, so that a reversal takes back this label and not another analyst's).
   */
  fraud(label: RecordedLabel): void {
    this.frauds.push(this.asLabel(label));
  }

  /** An analyst's fraud decision reversed: its label goes (the same label fraud() gave). */
  withdrawFraud(label: RecordedLabel): void {
    this.withdrawn.push(this.asLabel(label));
  }

  private asLabel({ merchantId, transactionId, ...rest }: RecordedLabel): FraudLabel {
    return {
      ...rest,
      ...(merchantId ? { merchantId: this.merchantOf(merchantId) } : {}),
      ...(merchantId && transactionId ? { transaction: transactionKey(merchantId, transactionId) } : {}),
    };
  }

  /** Writes what waits (one flush at a time). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      await Promise.all(this.lookups);
      const visits = this.visits,
        frauds = this.frauds,
        withdrawn = this.withdrawn;
      if (visits.length === 0 && frauds.length === 0 && withdrawn.length === 0) return;
      this.visits = [];
      this.frauds = [];
      this.withdrawn = [];
      try {
        await this.o.store.recordVisits(visits);
        await this.o.store.recordFrauds(frauds);
        // After the labels that waited with them: a chargeback and its reversal in one flush leave no label.
        await this.o.store.withdrawFrauds(withdrawn);
      } catch (error) {
        // Kept for the next flush, within the buffer's bound (written again, each write changes nothing twice).
        this.visits = visits.concat(this.visits).slice(0, this.o.maxBuffered);
        this.frauds = frauds.concat(this.frauds);
        this.withdrawn = withdrawn.concat(this.withdrawn);
        this.o.onError?.(error);
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
