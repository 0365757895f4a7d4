// How Leakguard's Kafka clients authenticate and encrypt: SASL/SCRAM credentials and TLS from the
// environment, read once at start-up and shared by every client (the stream processor, the labels
// producer, the CLIs), so that all of them can reach a cluster whose topics are guarded by ACLs.
// No imports beyond node: services/config.ts validates these too, and must not pull in kafkajs.
// (A bad setting becomes a ConfigError in services/config.ts and streams/config.ts: loadKafkaSecurity.)
// The password never appears in a problem, a summary or a log line.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

export type ScramMechanism = 'scram-sha-512' | 'scram-sha-256';
export const SCRAM_MECHANISMS: readonly ScramMechanism[] = ['scram-sha-512', 'scram-sha-256'];

export interface KafkaSecurity {
  sasl?: { mechanism: ScramMechanism; username: string; password: string };
  /** TLS to the brokers; `ca` (PEM) replaces the system's trust store when set: a private CA. */
  tls?: { ca?: string };
}

export const KAFKA_SECURITY_VARIABLES = [
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'KAFKA_SASL_PASSWORD_FILE',
  'KAFKA_TLS',
  'KAFKA_TLS_CA_FILE',
] as const;

type Env = Record<string, string | undefined>;

/** Unset and empty are the same, as everywhere in the configuration. */
const read = (env: Env, name: string): string | undefined => {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
};

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException).code ?? 'error';

/** A C0 control character or DEL (what /[\u0000-\u001f\u007f]/ matches), counted in UTF-16 units. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit <= 0x1f || unit === 0x7f) return true;
  }
  return false;
}

/** One line: a trailing newline (echo, editors) is dropped; anything else is kept as written. */
function passwordFrom(raw: string, variable: string, problems: string[]): string | undefined {
  const password = raw.replace(/\r?\n$/, '');
  if (password === '') {
    problems.push(`  ${variable}: ${variable.endsWith('_FILE') ? 'the file is empty' : 'is empty'}`);
    return undefined;
  }
  // Never quoted back: say what is wrong, not what was given.
  if (hasControlCharacter(password)) {
    problems.push(`  ${variable}: the password must be one line without control characters`);
    return undefined;
  }
  return password;
}

/**
 * Reads the Kafka security settings. Each problem names its variable, as the other settings'
 * problems do ("  KAFKA_SASL_USERNAME: ..."); `security` is meaningful only without problems.
 */
export function kafkaSecurityProblems(env: Env): { security: KafkaSecurity; problems: string[] } {
  const problems: string[] = [];
  const security: KafkaSecurity = {};

  const mechanismRaw = read(env, 'KAFKA_SASL_MECHANISM');
  const username = read(env, 'KAFKA_SASL_USERNAME');
  const password = read(env, 'KAFKA_SASL_PASSWORD');
  const passwordFile = read(env, 'KAFKA_SASL_PASSWORD_FILE');
  if (mechanismRaw === undefined) {
    // Credentials without a mechanism would be ignored: a broker that requires them would then
    // refuse the connection with a far less helpful message.
    const stray = (['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'KAFKA_SASL_PASSWORD_FILE'] as const).filter(
      (name) => read(env, name) !== undefined,
    );
    if (stray.length > 0)
      problems.push(
        `  KAFKA_SASL_MECHANISM: is required when ${stray.join(', ')} ${stray.length > 1 ? 'are' : 'is'} set (scram-sha-512 or scram-sha-256)`,
      );
  } else {
    const mechanism = mechanismRaw.trim().toLowerCase();
    if (mechanism === 'plain') {
      problems.push(
        '  KAFKA_SASL_MECHANISM: plain is refused: it sends the password itself to the broker; use scram-sha-512 (or scram-sha-256)',
      );
    } else if (!(SCRAM_MECHANISMS as readonly string[]).includes(mechanism)) {
      problems.push('  KAFKA_SASL_MECHANISM: must be scram-sha-512 or scram-sha-256');
    }
    if (username === undefined) {
      problems.push('  KAFKA_SASL_USERNAME: is required with KAFKA_SASL_MECHANISM');
    } else if (username.length > 255 || hasControlCharacter(username) || username.trim() !== username) {
      problems.push(
        '  KAFKA_SASL_USERNAME: must be 1-255 characters, without control characters or surrounding spaces',
      );
    }
    let secret: string | undefined;
    if (password !== undefined && passwordFile !== undefined) {
      problems.push('  KAFKA_SASL_PASSWORD_FILE: set either KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both');
    } else if (passwordFile !== undefined) {
      let raw: string | undefined;
      try {
        raw = readFileSync(passwordFile, 'utf8');
      } catch (error) {
        problems.push(`  KAFKA_SASL_PASSWORD_FILE: cannot read the file (${errorCode(error)})`);
      }
      if (raw !== undefined) secret = passwordFrom(raw, 'KAFKA_SASL_PASSWORD_FILE', problems);
    } else if (password !== undefined) {
      secret = passwordFrom(password, 'KAFKA_SASL_PASSWORD', problems);
    } else {
      problems.push(
        '  KAFKA_SASL_PASSWORD: is required with KAFKA_SASL_MECHANISM (or KAFKA_SASL_PASSWORD_FILE: a file holding it)',
      );
    }
    if (problems.length === 0 && username !== undefined && secret !== undefined) {
      security.sasl = { mechanism: mechanism as ScramMechanism, username, password: secret };
    }
  }

  const tlsRaw = read(env, 'KAFKA_TLS');
  let tls = false;
  if (tlsRaw !== undefined) {
    const value = tlsRaw.trim().toLowerCase();
    if (value === '1' || value === 'true') tls = true;
    else if (value !== '0' && value !== 'false') problems.push('  KAFKA_TLS: must be 1 or 0 (true or false)');
  }
  const caFile = read(env, 'KAFKA_TLS_CA_FILE');
  let ca: string | undefined;
  if (caFile !== undefined) {
    if (!tls) {
      problems.push('  KAFKA_TLS_CA_FILE: set KAFKA_TLS=1 too (the CA verifies TLS connections, which are off)');
    } else {
      try {
        ca = readFileSync(caFile, 'utf8');
      } catch (error) {
        problems.push(`  KAFKA_TLS_CA_FILE: cannot read the file (${errorCode(error)})`);
      }
      if (ca !== undefined) {
        const blocks = ca.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
        if (blocks.length === 0) {
          problems.push('  KAFKA_TLS_CA_FILE: holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
        } else {
          blocks.forEach((block, i) => {
            try {
              new X509Certificate(block);
            } catch {
              problems.push(
                `  KAFKA_TLS_CA_FILE: certificate ${i + 1} of ${blocks.length} is not a valid X.509 certificate`,
              );
            }
          });
        }
      }
    }
  }
  if (tls) security.tls = ca === undefined ? {} : { ca };
  return { security, problems };
}

/** What the logs may say about the connection: never the password. */
/** KAFKA_SASL_* and KAFKA_TLS* of this process, which loadConfig validated at start-up already. */
export function securityFromEnvironment(): KafkaSecurity {
  const { security, problems } = kafkaSecurityProblems(process.env);
  if (problems.length > 0) throw new Error(`invalid configuration:\n${problems.join('\n')}`);
  return security;
}

export function kafkaSecuritySummary(security: KafkaSecurity): { tls: boolean; sasl: string; username?: string } {
  return {
    tls: security.tls !== undefined,
    sasl: security.sasl?.mechanism ?? 'none',
    ...(security.sasl ? { username: security.sasl.username } : {}),
  };
}
