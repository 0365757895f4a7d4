// Loads the fingerprint keys. They live outside every data store: in the environment, in a
// file the operator provides, or (development only) in a generated file under the state dir.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CardKey, CardKeyring } from './core/card.ts';
import { ConfigError, type Config } from './config.ts';

export function parseKeyMaterial(value: string, variable: string): Buffer {
  const v = value.trim();
  const bytes = /^[0-9a-fA-F]+$/.test(v) && v.length % 2 === 0 ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64');
  if (bytes.length < 32) throw new ConfigError(`invalid configuration:\n  ${variable}: must hold at least 32 random bytes (64 hex characters or base64)`);
  return bytes;
}

const keyIdOf = (secret: Buffer) => createHash('sha256').update(secret).digest('hex').slice(0, 8);

function keyFrom(value: string | undefined, file: string | undefined, id: string | undefined, name: string): CardKey | undefined {
  let material: string | undefined = value;
  let variable = name;
  if (file) {
    variable = `${name}_FILE`;
    try {
      material = readFileSync(file, 'utf8');
    } catch {
      throw new ConfigError(`invalid configuration:\n  ${variable}: cannot read the key file`);
    }
  }
  if (material === undefined) return undefined;
  const secret = parseKeyMaterial(material, variable);
  return { id: id ?? keyIdOf(secret), secret };
}

export interface LoadedKeyring {
  keyring: CardKeyring;
  /** Set when a development key was created or reused: the caller says so loudly. */
  developmentKeyFile?: string;
  createdDevelopmentKey?: boolean;
}

export function loadKeyring(config: Config): LoadedKeyring {
  const previous = keyFrom(config.LEAKGUARD_PREVIOUS_CARD_KEY, config.LEAKGUARD_PREVIOUS_CARD_KEY_FILE, config.LEAKGUARD_PREVIOUS_CARD_KEY_ID, 'LEAKGUARD_PREVIOUS_CARD_KEY');
  const primary = keyFrom(config.LEAKGUARD_CARD_KEY, config.LEAKGUARD_CARD_KEY_FILE, config.LEAKGUARD_CARD_KEY_ID, 'LEAKGUARD_CARD_KEY');
  if (primary) return { keyring: previous ? { primary, previous } : { primary } };
  if (config.NODE_ENV === 'production') {
    throw new ConfigError('invalid configuration:\n  LEAKGUARD_CARD_KEY: required in production (or LEAKGUARD_CARD_KEY_FILE); refusing to start without a card fingerprint key');
  }
  const file = join(config.LEAKGUARD_STATE_DIR, 'development-card-key');
  let created = false;
  if (!existsSync(file)) {
    mkdirSync(config.LEAKGUARD_STATE_DIR, { recursive: true, mode: 0o700 });
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    created = true;
  }
  const secret = parseKeyMaterial(readFileSync(file, 'utf8'), file);
  const key = { id: `dev-${keyIdOf(secret)}`, secret };
  return { keyring: previous ? { primary: key, previous } : { primary: key }, developmentKeyFile: file, createdDevelopmentKey: created };
}
