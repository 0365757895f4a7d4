// Loads the personal-data keys: the keys that encrypt what cases keep of an order's customer
// (services/cases/personal-data.ts). Parsed and rotated like the card key (card-keys.ts), and like
// it never written to any store: a stolen database holds ciphertext only.
import type { CardKeyring } from './core/card.ts';
import type { DataKeyring } from './cases/personal-data.ts';
import { loadKeys, type LoadedKeys } from './card-keys.ts';
import { ConfigError, type Config } from './config.ts';

export interface LoadedDataKeyring {
  keyring: DataKeyring;
  /** Set when a development key was created or reused: the caller says so loudly. */
  developmentKeyFile?: string;
  createdDevelopmentKey?: boolean;
}

/** `cards`: the card keys in force, which the data keys must not repeat (one stolen key must not open both). */
export function loadDataKeyring(config: Config, cards?: CardKeyring): LoadedDataKeyring {
  const { primary, previous, ...development }: LoadedKeys = loadKeys(config, {
    variable: 'LEAKGUARD_DATA_KEY',
    previousVariable: 'LEAKGUARD_PREVIOUS_DATA_KEY',
    primary: {
      value: config.LEAKGUARD_DATA_KEY,
      file: config.LEAKGUARD_DATA_KEY_FILE,
      id: config.LEAKGUARD_DATA_KEY_ID,
    },
    previous: {
      value: config.LEAKGUARD_PREVIOUS_DATA_KEY,
      file: config.LEAKGUARD_PREVIOUS_DATA_KEY_FILE,
      id: config.LEAKGUARD_PREVIOUS_DATA_KEY_ID,
    },
    purpose: 'a personal-data encryption key',
    developmentFile: 'development-data-key',
  });
  const refuse = (line: string) => new ConfigError(`invalid configuration:\n  ${line}`);
  const cardSecrets = cards ? [cards.primary, cards.previous].filter((k) => k !== undefined).map((k) => k.secret) : [];
  for (const [key, variable] of [
    [primary, 'LEAKGUARD_DATA_KEY'],
    [previous, 'LEAKGUARD_PREVIOUS_DATA_KEY'],
  ] as const) {
    if (key && cardSecrets.some((s) => s.equals(key.secret)))
      throw refuse(
        `${variable}: must differ from the card key (LEAKGUARD_CARD_KEY): one stolen key must not open both`,
      );
  }
  // Ciphertexts name their key by id: two keys under one id could not be told apart, and what the
  // old key sealed would pass for current, never sealed again under the new one.
  if (previous && previous.id === primary.id && !previous.secret.equals(primary.secret)) {
    throw refuse(
      `LEAKGUARD_DATA_KEY_ID: the new data key has the id of the previous one (${primary.id}), which what the previous key sealed names: give the new key a new id (LEAKGUARD_DATA_KEY_ID), and the previous key the id it had (LEAKGUARD_PREVIOUS_DATA_KEY_ID=${primary.id})`,
    );
  }
  return { keyring: previous ? { primary, previous } : { primary }, ...development };
}
