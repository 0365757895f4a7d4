// The port through which the core names what a store keeps. The core plans which counters and
// lists a transaction touches and which of them must be written together; the store adapter names
// them (services/adapters/redis/keys.ts: hash tags, one Redis Cluster slot per identity) and the
// embedded store keeps the same names.
import type { EntityKind } from './entities.ts';

export const OUTCOME_KINDS = ['declines', 'chargebacks', 'challenge_failures'] as const;
export type CountedOutcome = (typeof OUTCOME_KINDS)[number];

export interface StoreKeys {
  /** An identity's transaction log (members `ref|cents|small`, velocity.ts logMember). */
  log(kind: EntityKind, id: string): string;
  /** The distinct identities of kind `of` seen with an identity. */
  distinct(kind: EntityKind, id: string, of: EntityKind): string;
  /** An identity's reported outcomes of one kind (declines, chargebacks, failed challenges). */
  outcomes(kind: EntityKind, id: string, outcome: CountedOutcome): string;
  /** The delayed counters' transaction log and fraud-label log. */
  delayed(kind: EntityKind, id: string): string;
  frauds(kind: EntityKind, id: string): string;
  /** A transaction's idempotency marker and its stored response. */
  marker(merchantId: string, transactionId: string): string;
  response(merchantId: string, transactionId: string): string;
  /** An analyst's negative-list entry for an entity, and a card allow-listed for a merchant. */
  negative(kind: EntityKind, identity: string): string;
  allow(merchantId: string, fingerprint: string): string;
  /**
   * The group a key belongs to: keys of one group are written in one script (one cluster slot).
   * Every key of one identity (log, distinct, outcomes, delayed, frauds) is in the group of its log.
   */
  groupOf(key: string): string;
}
