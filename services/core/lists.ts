// Negative lists and allow-lists fed by analysts' decisions, read in the scoring round trip:
// entities confirmed in fraud raise the risk of the next order using them; a card confirmed
// legitimate can be allow-listed for a merchant for a while.
import type { EntityKind } from './entities.ts';
import type { StoreKeys } from './store-keys.ts';

export const NEGATIVE_KINDS = ['device', 'ip', 'email', 'shipping'] as const satisfies readonly EntityKind[];
export type NegativeKind = (typeof NEGATIVE_KINDS)[number];

export const LIST_FEATURES = [
  'negative_device',
  'negative_ip',
  'negative_email',
  'negative_shipping',
  'card_allowlisted',
] as const;

export interface ListLookup {
  /** Per negative kind, the keys of each identity of the transaction's entity. */
  negative: { kind: NegativeKind; keys: string[] }[];
  allow: string[];
}

/**
 * The keys to look up: entries are keyed by the engine's own pseudonyms (primary identity), so a
 * lookup needs no extra hashing, and grouped with the entity's counters (keys.groupOf), so that
 * the lookup rides in the entity's counter script.
 */
export function listLookup(
  merchantId: string,
  entities: Partial<Record<EntityKind, string[]>>,
  keys: StoreKeys,
): ListLookup {
  return {
    negative: NEGATIVE_KINDS.filter((k) => entities[k]?.length).map((kind) => ({
      kind,
      keys: entities[kind]!.map((id) => keys.negative(kind, id)),
    })),
    allow: (entities.card ?? []).map((fp) => keys.allow(merchantId, fp)),
  };
}

/** Features from the lookup's answers: one flag per negative kind (in lookup order), then the allow flag. */
export function listFeatures(lookup: ListLookup, found: boolean[]): Record<(typeof LIST_FEATURES)[number], boolean> {
  const features = {
    negative_device: false,
    negative_ip: false,
    negative_email: false,
    negative_shipping: false,
    card_allowlisted: false,
  };
  lookup.negative.forEach((n, i) => (features[`negative_${n.kind}`] = found[i] === true));
  features.card_allowlisted = found[lookup.negative.length] === true;
  return features;
}
