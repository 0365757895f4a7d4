// The key that signs the audit log's checkpoints, and where the checkpoints go. Both live outside
// the database on purpose: whoever holds its credentials can cut the log's tail, and must be able
// neither to sign a checkpoint of the shorter log nor to rewrite the ones already written.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { configuredKeys, parseKeyMaterial } from './card-keys.ts';
import { ConfigError, type Config } from './config.ts';
import type { AuditKey } from './cases/audit-checkpoints.ts';

type AuditKeyConfig = Pick<
  Config,
  'NODE_ENV' | 'LEAKGUARD_STATE_DIR' | 'LEAKGUARD_AUDIT_KEY' | 'LEAKGUARD_AUDIT_KEY_FILE'
> &
  Parameters<typeof configuredKeys>[0];

export interface LoadedAuditKey {
  key: AuditKey;
  /** Set when a development key was created or reused: the caller says so loudly. */
  developmentKeyFile?: string;
  createdDevelopmentKey?: boolean;
}

const keyIdOf = (secret: Buffer) => createHash('sha256').update(secret).digest('hex').slice(0, 8);

/**
 * LEAKGUARD_AUDIT_KEY or _FILE; in production nothing else. Elsewhere the development key under
 * the state directory, created when `create` (a writer) and only read otherwise: `npm run audit --
 * verify` must not make up a key that signed nothing. Undefined: no key and none made.
 */
export function loadAuditKey(config: AuditKeyConfig, options: { create: boolean }): LoadedAuditKey | undefined {
  let material = config.LEAKGUARD_AUDIT_KEY;
  let variable = 'LEAKGUARD_AUDIT_KEY';
  if (config.LEAKGUARD_AUDIT_KEY_FILE) {
    variable = 'LEAKGUARD_AUDIT_KEY_FILE';
    try {
      material = readFileSync(config.LEAKGUARD_AUDIT_KEY_FILE, 'utf8');
    } catch {
      throw new ConfigError('invalid configuration:\n  LEAKGUARD_AUDIT_KEY_FILE: cannot read the key file');
    }
  }
  if (material !== undefined) {
    const secret = parseKeyMaterial(material, variable);
    // Stream processors hold the card key and may be many; the audit key is held by what writes
    // the audit log. One key for both would let any of them sign a checkpoint of a cut log.
    const same = configuredKeys(config).find((k) => k.secret.equals(secret));
    if (same)
      throw new ConfigError(
        `invalid configuration:\n  ${variable}: must differ from ${same.variable}: stream processors hold the card and data keys, and must not be able to sign a checkpoint of a cut audit log; give the audit key one of its own (openssl rand -hex 32)`,
      );
    return { key: { id: keyIdOf(secret), secret } };
  }
  if (config.NODE_ENV === 'production') {
    throw new ConfigError(
      'invalid configuration:\n  LEAKGUARD_AUDIT_KEY: required in production (or LEAKGUARD_AUDIT_KEY_FILE); refusing to start without a key to sign audit checkpoints',
    );
  }
  const file = join(config.LEAKGUARD_STATE_DIR, 'development-audit-key');
  let created = false;
  if (options.create) {
    mkdirSync(config.LEAKGUARD_STATE_DIR, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
      created = true;
    } catch (error) {
      // Already there (or made by a process starting beside this one): use it.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !options.create) return undefined;
    throw error;
  }
  const secret = parseKeyMaterial(text, file);
  return { key: { id: `dev-${keyIdOf(secret)}`, secret }, developmentKeyFile: file, createdDevelopmentKey: created };
}

/**
 * LEAKGUARD_AUDIT_CHECKPOINT_FILE, or one file per key and database under $XDG_STATE_HOME
 * (~/.local/state): outside the state directory, so that resetting it (or rewriting the embedded
 * database in it) leaves the checkpoints; per key and database, so that two checkouts, a reset
 * development key or another database never read each other's checkpoints as their own.
 */
export function checkpointFileOf(
  config: Pick<Config, 'LEAKGUARD_AUDIT_CHECKPOINT_FILE' | 'LEAKGUARD_STATE_DIR' | 'DATABASE_URL'>,
  keyId: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (config.LEAKGUARD_AUDIT_CHECKPOINT_FILE) return resolve(config.LEAKGUARD_AUDIT_CHECKPOINT_FILE);
  const base = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'leakguard', 'audit-checkpoints', `${keyId}-${databaseIdOf(config)}.ndjson`);
}

/** Which database a log lives in, without credentials: the server and database name, or PGlite's directory. */
function databaseIdOf(config: Pick<Config, 'LEAKGUARD_STATE_DIR' | 'DATABASE_URL'>): string {
  let where: string;
  if (config.DATABASE_URL) {
    const url = new URL(config.DATABASE_URL);
    where = `postgres://${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } else {
    where = `pglite:${resolve(config.LEAKGUARD_STATE_DIR, 'pglite')}`;
  }
  return createHash('sha256').update(where).digest('hex').slice(0, 8);
}
