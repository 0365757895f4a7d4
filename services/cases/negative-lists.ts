// Negative lists fed by analysts' decisions, read by the scoring path. Entities confirmed in fraud
// (device, IP, email, shipping address) are keyed by the engine's own keyed pseudonyms (the
// EntityHasher identities the velocity counters use), so the engine can look them up in its one
// round trip. The stores: services/adapters/memory/negative-list-store.ts and
// services/adapters/redis/negative-list-store.ts.
import { NEGATIVE_KINDS, type NegativeKind } from '../core/lists.ts';

export { NEGATIVE_KINDS, type NegativeKind };

/** Reason codes the engine emits when a negative list matches (docs/console.md). */
export const NEGATIVE_REASON_CODES: Record<NegativeKind, string> = {
  device: 'DEVICE_CONFIRMED_FRAUD',
  ip: 'IP_CONFIRMED_FRAUD',
  email: 'EMAIL_CONFIRMED_FRAUD',
  shipping: 'SHIPPING_ADDRESS_CONFIRMED_FRAUD',
};

export interface NegativeListStore {
  add(kind: NegativeKind, identity: string, ttlMs: number, caseId: number): Promise<void>;
  /** Which kinds match any of the given identities (each kind: primary then previous key's identity). */
  matches(identities: Partial<Record<NegativeKind, string[]>>): Promise<NegativeKind[]>;
  /** Takes an entity off a negative list (no entry in force lists it any more: a reversed decision). */
  remove(kind: NegativeKind, identity: string): Promise<void>;
  allowCard(merchantId: string, fingerprint: string, ttlMs: number, caseId: number): Promise<void>;
  /** Takes a card off a merchant's allow-list. */
  disallowCard(merchantId: string, fingerprint: string): Promise<void>;
  isCardAllowed(merchantId: string, fingerprints: string[]): Promise<boolean>;
}
