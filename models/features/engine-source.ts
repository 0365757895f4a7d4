// The online path through the engine's own velocity store: each transaction is recorded and read
// with the counter plan the engine builds (services/core/velocity.ts), so the windows come from the
// same counters, Lua script or in-memory twin that serve scoring. The handbook's customer is the
// card identity, its terminal the merchant; a fraud is reported as a chargeback outcome.
import {
  buildCounterPlan,
  type TransactionFacts,
  type VelocityReading,
  type VelocityStore,
} from '../../services/core/velocity.ts';
import { engineAggregate, type WindowAggregate, type WindowFeature } from '../../services/model/definitions.ts';
import type { OnlineTransaction, WindowSource } from './online.ts';

/** The facts the engine would build for one simulated transaction (pseudonymous ids only: no PAN). */
export function engineFacts(tx: OnlineTransaction, transactionId: string): TransactionFacts {
  const merchantId = `t${tx.terminal}`;
  return {
    merchantId,
    transactionId,
    payloadHash: `${tx.customer}:${tx.terminal}:${tx.epochSeconds}:${tx.amountCents}`,
    occurredAt: tx.epochSeconds * 1000,
    amountCents: tx.amountCents,
    small: false,
    entities: { card: [`c${tx.customer}`], merchant: [merchantId] },
  };
}

export class EngineWindowSource implements WindowSource {
  private readonly store: VelocityStore;
  private next = 0;
  /** The last reading, for tests that look at the counters themselves. */
  last: VelocityReading | undefined;

  constructor(store: VelocityStore) {
    this.store = store;
  }

  async recordAndRead(tx: OnlineTransaction, windows: readonly WindowFeature[]): Promise<WindowAggregate[]> {
    const facts = engineFacts(tx, String(tx.id ?? `n${this.next++}`));
    const reading = await this.store.recordAndRead(buildCounterPlan(facts, this.store.keys));
    if (reading.status !== 'new' || !reading.velocity)
      throw new Error(`transaction ${facts.transactionId} not counted: ${reading.status}`);
    // Labelled right after scoring: the windows only read labels of transactions 7+ days old, so
    // this is "every label known within 7 days", the offline path's assumption.
    if (tx.fraud) {
      const outcome = await this.store.recordOutcome(
        facts.merchantId,
        facts.transactionId,
        'chargeback',
        facts.occurredAt,
      );
      if (outcome !== 'recorded') throw new Error(`label for ${facts.transactionId} not recorded: ${outcome}`);
    }
    this.last = reading.velocity;
    return windows.map((f) => {
      if (!f.engine) throw new Error(`${f.name} has no engine counter`);
      return engineAggregate(f.engine, reading.velocity!);
    });
  }
}
