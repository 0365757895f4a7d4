// Loads the fingerprint keys (and, through loadKeys, the personal-data keys: data-keys.ts). They
// live outside every data store: in the environment, in a file the operator provides, or
// (development only) in a generated file under the state dir.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CardKey, CardKeyring } from './core/card.ts';
import { ConfigError, type Config } from './config.ts';

const BASE64_CHAR = /[A-Za-z0-9+/]/;

/** Why a string is not strict base64 (standard alphabet, = padding to a multiple of 4), or null. */
function base64Problem(v: string): string | null {
  const data = v.replace(/={1,2}$/, '');
  for (let i = 0; i < data.length; i++) {
    // The position only: the character itself is part of a secret.
    if (!BASE64_CHAR.test(data[i]!))
      return data[i] === '='
        ? '= may only pad the end'
        : `character ${i + 1} is outside the base64 alphabet (A-Z a-z 0-9 + /)`;
  }
  if (v.length % 4 !== 0) return `base64 is padded with = to a multiple of 4 characters (this has ${v.length})`;
  // Node's decoder ignores bits past the data; a string that does not round-trip was not made by an encoder.
  if (Buffer.from(v, 'base64').toString('base64') !== v)
    return 'not canonical base64 (the last character carries bits past the data)';
  return null;
}

/**
 * A key is 64 or more hex characters, or strict base64 of at least 32 bytes. Anything else (a
 * passphrase, base64url, a truncated key) is refused: Node's base64 decoder skips what it does
 * not know, so a 43-character sentence used to pass as "32 bytes".
 */
export function parseKeyMaterial(value: string, variable: string): Buffer {
  const v = value.trim();
  const refuse = (reason: string) => new ConfigError(`invalid configuration:\n  ${variable}: ${reason}`);
  const short = 'must hold at least 32 random bytes (64 hex characters or base64)';
  let bytes: Buffer;
  if (/^[0-9a-fA-F]+$/.test(v)) {
    // All hex digits: read as hex (a base64 key made only of them is vanishingly unlikely).
    if (v.length % 2 !== 0) throw refuse(`${short}: ${v.length} hex characters, an odd count`);
    bytes = Buffer.from(v, 'hex');
  } else {
    const problem = base64Problem(v);
    if (problem) throw refuse(`must be 64 hex characters or base64 of at least 32 bytes: ${problem}`);
    bytes = Buffer.from(v, 'base64');
  }
  if (bytes.length < 32) throw refuse(`${short}: this holds ${bytes.length}`);
  return bytes;
}

const keyIdOf = (secret: Buffer) => createHash('sha256').update(secret).digest('hex').slice(0, 8);

function keyFrom(
  value: string | undefined,
  file: string | undefined,
  id: string | undefined,
  name: string,
): CardKey | undefined {
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

/**
 * The card and data keys the operator configured (value or file; never a development key, nor one
 * created here): what another key, the audit key, must not repeat.
 */
export function configuredKeys(
  config: Pick<
    Config,
    | 'LEAKGUARD_CARD_KEY'
    | 'LEAKGUARD_CARD_KEY_FILE'
    | 'LEAKGUARD_PREVIOUS_CARD_KEY'
    | 'LEAKGUARD_PREVIOUS_CARD_KEY_FILE'
    | 'LEAKGUARD_DATA_KEY'
    | 'LEAKGUARD_DATA_KEY_FILE'
    | 'LEAKGUARD_PREVIOUS_DATA_KEY'
    | 'LEAKGUARD_PREVIOUS_DATA_KEY_FILE'
  >,
): { variable: string; secret: Buffer }[] {
  const found: { variable: string; secret: Buffer }[] = [];
  for (const [variable, value, file] of [
    ['LEAKGUARD_CARD_KEY', config.LEAKGUARD_CARD_KEY, config.LEAKGUARD_CARD_KEY_FILE],
    ['LEAKGUARD_PREVIOUS_CARD_KEY', config.LEAKGUARD_PREVIOUS_CARD_KEY, config.LEAKGUARD_PREVIOUS_CARD_KEY_FILE],
    ['LEAKGUARD_DATA_KEY', config.LEAKGUARD_DATA_KEY, config.LEAKGUARD_DATA_KEY_FILE],
    ['LEAKGUARD_PREVIOUS_DATA_KEY', config.LEAKGUARD_PREVIOUS_DATA_KEY, config.LEAKGUARD_PREVIOUS_DATA_KEY_FILE],
  ] as const) {
    const key = keyFrom(value, file, undefined, variable);
    if (key) found.push({ variable, secret: key.secret });
  }
  return found;
}

/** Where one key comes from: the variable itself, its _FILE, its _ID. */
export interface KeySource {
  value: string | undefined;
  file: string | undefined;
  id: string | undefined;
}

/** A key pair as the operator configures it (card key, personal-data key): same parsing, same rules. */
export interface KeySpec {
  /** `LEAKGUARD_CARD_KEY`: names the variables in errors (`_FILE`, and `LEAKGUARD_PREVIOUS_…` for the previous key). */
  variable: string;
  previousVariable: string;
  primary: KeySource;
  previous: KeySource;
  /** What production refuses to start without, e.g. "a card fingerprint key". */
  purpose: string;
  /** File name of the generated development key under the state directory. */
  developmentFile: string;
}

export interface LoadedKeys {
  primary: CardKey;
  previous?: CardKey;
  /** Set when a development key was created or reused: the caller says so loudly. */
  developmentKeyFile?: string;
  createdDevelopmentKey?: boolean;
}

export function loadKeys(config: Pick<Config, 'NODE_ENV' | 'LEAKGUARD_STATE_DIR'>, spec: KeySpec): LoadedKeys {
  const previous = keyFrom(spec.previous.value, spec.previous.file, spec.previous.id, spec.previousVariable);
  const primary = keyFrom(spec.primary.value, spec.primary.file, spec.primary.id, spec.variable);
  if (primary) return previous ? { primary, previous } : { primary };
  if (config.NODE_ENV === 'production') {
    throw new ConfigError(
      `invalid configuration:\n  ${spec.variable}: required in production (or ${spec.variable}_FILE); refusing to start without ${spec.purpose}`,
    );
  }
  const file = join(config.LEAKGUARD_STATE_DIR, spec.developmentFile);
  let created = false;
  if (!existsSync(file)) {
    mkdirSync(config.LEAKGUARD_STATE_DIR, { recursive: true, mode: 0o700 });
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    created = true;
  }
  const secret = parseKeyMaterial(readFileSync(file, 'utf8'), file);
  const key = { id: `dev-${keyIdOf(secret)}`, secret };
  return {
    ...(previous ? { primary: key, previous } : { primary: key }),
    developmentKeyFile: file,
    createdDevelopmentKey: created,
  };
}

export interface LoadedKeyring {
  keyring: CardKeyring;
  /** Set when a development key was created or reused: the caller says so loudly. */
  developmentKeyFile?: string;
  createdDevelopmentKey?: boolean;
}

export function loadKeyring(config: Config): LoadedKeyring {
  const { primary, previous, ...development } = loadKeys(config, {
    variable: 'LEAKGUARD_CARD_KEY',
    previousVariable: 'LEAKGUARD_PREVIOUS_CARD_KEY',
    primary: {
      value: config.LEAKGUARD_CARD_KEY,
      file: config.LEAKGUARD_CARD_KEY_FILE,
      id: config.LEAKGUARD_CARD_KEY_ID,
    },
    previous: {
      value: config.LEAKGUARD_PREVIOUS_CARD_KEY,
      file: config.LEAKGUARD_PREVIOUS_CARD_KEY_FILE,
      id: config.LEAKGUARD_PREVIOUS_CARD_KEY_ID,
    },
    purpose: 'a card fingerprint key',
    developmentFile: 'development-card-key',
  });
  return { keyring: previous ? { primary, previous } : { primary }, ...development };
}
