// What merchants reported about a case's transaction (POST /v1/transactions/{id}/outcome), for the
// analyst: an issuer's fraud chargeback, a failed 3-D Secure step-up, an authorisation after one.
// The engine that records an outcome notes it in the case database (CaseOutcomeNotes, fed by its
// observer `outcomeRecorded`): every engine writes to the same database, so the case page and the
// queue read one place whichever engine recorded it. Nothing here decides a case.
import { DISPUTED_CHARGEBACK, REVERSED_CHARGEBACK } from '../core/chargebacks.ts';
import type { CaseOutcome, CaseStore, OutcomeNote } from './model.ts';

export type { CaseOutcome, OutcomeNote } from './model.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

/**
 * The kinds noted whether or not the transaction has a case yet (its flagged decision may still be
 * queued): what an analyst must not miss, and rare. The others (authorized, declined, refund) only
 * for a transaction that has a case: every approved order is authorised.
 */
export const NOTED_WITHOUT_CASE: readonly string[] = [
  'chargeback',
  DISPUTED_CHARGEBACK,
  REVERSED_CHARGEBACK,
  'challenge_failed',
];

/** What the outcomes of a case's transaction say, for the page, the queue and the allow-list. */
export interface OutcomeSummary {
  /** A fraud chargeback is recorded and not reversed: the issuer says the card was used without its holder. */
  fraudChargeback: boolean;
  /** A fraud chargeback was recorded, then reversed (representment won, or withdrawn). */
  reversedChargeback: boolean;
  /** A holder's dispute (not fraud: goods not received, duplicate, ...). */
  disputeChargeback: boolean;
  /** The 3-D Secure step-up: failed (challenge_failed), passed (authorized after a challenge), or not reported. */
  stepUp: 'failed' | 'passed' | 'unknown';
}

export function summariseOutcomes(outcomes: readonly CaseOutcome[], decision: string): OutcomeSummary {
  const has = (kind: string) => outcomes.some((o) => o.outcome === kind);
  const chargeback = has('chargeback');
  const reversed = chargeback && has(REVERSED_CHARGEBACK);
  return {
    fraudChargeback: chargeback && !reversed,
    reversedChargeback: reversed,
    disputeChargeback: has(DISPUTED_CHARGEBACK),
    stepUp: has('challenge_failed') ? 'failed' : decision === 'challenge' && has('authorized') ? 'passed' : 'unknown',
  };
}

/** How an outcome reads on the page. */
export function outcomeLabel(kind: string): string {
  switch (kind) {
    case 'chargeback':
      return 'Chargeback — fraud';
    case DISPUTED_CHARGEBACK:
      return 'Chargeback — dispute (not fraud)';
    case REVERSED_CHARGEBACK:
      return 'Chargeback reversed';
    case 'challenge_failed':
      return 'Challenge failed (3-D Secure step-up not passed)';
    case 'authorized':
      return 'Authorized';
    case 'declined':
      return 'Declined by the issuer';
    case 'refund':
      return 'Refunded';
    default:
      return kind;
  }
}

/** The most notes held while the database is unreachable; the oldest go first past it. */
export const OUTCOME_NOTES_LIMIT = 10_000;

/**
 * Notes recorded outcomes in the case database off the outcome path: in batches, retried every
 * second while the database is not open or refuses them (an outcome is noted once per kind, so a
 * retry is harmless). Held in memory meanwhile, up to OUTCOME_NOTES_LIMIT: an engine that stops
 * with notes still held waits for them (`close`), then loses what the database still refuses; the
 * page then reads what the transaction archive noted (CaseStore.outcomesOf).
 */
export class CaseOutcomeNotes {
  private readonly held: OutcomeNote[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;
  dropped = 0;

  private readonly store: () => CaseStore | undefined;
  private readonly onError: (error: unknown) => void;
  private readonly onDropped: (count: number) => void;
  private readonly retryMs: number;

  constructor(
    store: () => CaseStore | undefined,
    onError: (error: unknown) => void,
    onDropped: (count: number) => void = () => {},
    retryMs = 1_000,
  ) {
    this.store = store;
    this.onError = onError;
    this.onDropped = onDropped;
    this.retryMs = retryMs;
  }

  note(merchantId: string, transactionId: string, outcome: string, at: number): void {
    if (this.held.length >= OUTCOME_NOTES_LIMIT) {
      this.held.shift();
      this.dropped++;
      this.onDropped(1);
    }
    this.held.push({ merchantId, transactionId, outcome, at });
    void this.flush();
  }

  get waiting(): number {
    return this.held.length;
  }

  /** Writes what is held; resolves once it is written, or the writer is closed. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async write(): Promise<void> {
    // Past the first await, so that `flushing` is set before the loop can end.
    await Promise.resolve();
    while (this.held.length > 0) {
      const store = this.store();
      if (store) {
        const batch = this.held.slice(0, 500);
        try {
          await store.noteOutcomes(batch);
          this.held.splice(0, batch.length);
          continue;
        } catch (error) {
          this.onError(error);
        }
      }
      if (this.closed) return;
      await sleep(this.retryMs);
    }
  }

  /** One last attempt at what is held (no more retries), then whatever remains is counted lost. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    if (this.held.length > 0) {
      this.dropped += this.held.length;
      this.onDropped(this.held.length);
      this.held.length = 0;
    }
  }
}
