// Kafka security settings (KAFKA_SASL_*, KAFKA_TLS*) as every Kafka client of Leakguard reads them:
// each problem names its variable, the password is never repeated, and a bad setting stops
// `npm run stream` (and the engine, whose labels producer connects with them) at start-up.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../services/config.ts';
import { kafkaSecurityOptions } from '../../services/adapters/kafka/kafkajs-client.ts';
import { kafkaSecurityProblems, kafkaSecuritySummary } from '../../services/adapters/kafka/security.ts';
import { loadKafkaSecurity, loadStreamConfig } from '../../streams/config.ts';
import { REPO } from './support.ts';

const dir = mkdtempSync(join(tmpdir(), 'lg-kafka-security-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'correct-horse-battery-staple-7f3a';
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
};
const problems = (env: Record<string, string>) => kafkaSecurityProblems(env).problems;

/** A self-signed CA certificate (its key thrown away): the CA file check needs one that parses. */
const TEST_CA_PEM = `-----BEGIN CERTIFICATE-----
MIIBjzCCATWgAwIBAgIUfIYt/DoiVnKLrf4tiFeqNlQVeVAwCgYIKoZIzj0EAwIw
HDEaMBgGA1UEAwwRbGVha2d1YXJkIHRlc3QgQ0EwIBcNMjYxMjAyMTI0NjMzWhgP
MjEyNjExMDgxMjQ2MzNaMBwxGjAYBgNVBAMMEWxlYWtndWFyZCB0ZXN0IENBMFkw
EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEugt/Xj7CK6bcaOuSANqOSnhXlwOi8j2P
kRLLxNW891c7k0pxMelwNzqOwqOJLm9ng25vNSCt5aGsCHed95YyPKNTMFEwHQYD
VR0OBBYEFNAwRpJtfy50k3CbNArWQaOId+LuMB8GA1UdIwQYMBaAFNAwRpJtfy50
k3CbNArWQaOId+LuMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIh
APvOY4Qn52ddFamaW9875LjkE8dHf+3iv1nJB/AvdGLtAiBp6MQwAdLw+VC0a0Yc
hKCG0fBlTOKHXI11zqp6YX7zqQ==
-----END CERTIFICATE-----
`;

describe('Kafka security settings', () => {
  it('takes SCRAM credentials with the password inline or from a file (one trailing newline dropped)', () => {
    const inline = loadKafkaSecurity({
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'leakguard-stream',
      KAFKA_SASL_PASSWORD: SECRET,
    });
    expect(inline).toEqual({ sasl: { mechanism: 'scram-sha-512', username: 'leakguard-stream', password: SECRET } });
    const fromFile = loadKafkaSecurity({
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD_FILE: file('pw', `${SECRET}\n`),
    });
    expect(fromFile.sasl).toEqual({ mechanism: 'scram-sha-256', username: 'u', password: SECRET });
    expect(kafkaSecurityOptions(fromFile)).toEqual({
      sasl: { mechanism: 'scram-sha-256', username: 'u', password: SECRET },
    });
    // The summary that reaches the logs never holds the password.
    expect(JSON.stringify(kafkaSecuritySummary(fromFile))).not.toContain(SECRET);
    expect(kafkaSecuritySummary(fromFile)).toEqual({ tls: false, sasl: 'scram-sha-256', username: 'u' });
    // Nothing set: plaintext, as before.
    expect(loadKafkaSecurity({})).toEqual({});
    expect(kafkaSecurityOptions({})).toEqual({});
  });

  it('takes TLS, with a private CA when KAFKA_TLS_CA_FILE names one', () => {
    expect(kafkaSecurityOptions(loadKafkaSecurity({ KAFKA_TLS: '1' }))).toEqual({ ssl: true });
    const ca = TEST_CA_PEM;
    const security = loadKafkaSecurity({
      KAFKA_TLS: 'true',
      KAFKA_TLS_CA_FILE: file('ca.pem', ca),
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: SECRET,
    });
    expect(kafkaSecurityOptions(security)).toEqual({
      ssl: { ca: [ca] },
      sasl: { mechanism: 'scram-sha-512', username: 'u', password: SECRET },
    });
    expect(kafkaSecuritySummary(security)).toEqual({ tls: true, sasl: 'scram-sha-512', username: 'u' });
    expect(loadKafkaSecurity({ KAFKA_TLS: '0' })).toEqual({});
  });

  it('names the variable of every problem and never repeats the password', () => {
    const cases: [Record<string, string>, string][] = [
      [
        { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: SECRET },
        'KAFKA_SASL_MECHANISM: plain is refused',
      ],
      [
        { KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: SECRET },
        'KAFKA_SASL_MECHANISM: must be scram-sha-512 or scram-sha-256',
      ],
      [
        { KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: SECRET },
        'KAFKA_SASL_MECHANISM: is required when KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD are set',
      ],
      [
        { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_PASSWORD: SECRET },
        'KAFKA_SASL_USERNAME: is required with KAFKA_SASL_MECHANISM',
      ],
      [
        { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: ' u', KAFKA_SASL_PASSWORD: SECRET },
        'KAFKA_SASL_USERNAME: must be 1-255 characters',
      ],
      [
        { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u' },
        'KAFKA_SASL_PASSWORD: is required with KAFKA_SASL_MECHANISM',
      ],
      [
        {
          KAFKA_SASL_MECHANISM: 'scram-sha-512',
          KAFKA_SASL_USERNAME: 'u',
          KAFKA_SASL_PASSWORD: SECRET,
          KAFKA_SASL_PASSWORD_FILE: file('both', SECRET),
        },
        'KAFKA_SASL_PASSWORD_FILE: set either KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both',
      ],
      [
        {
          KAFKA_SASL_MECHANISM: 'scram-sha-512',
          KAFKA_SASL_USERNAME: 'u',
          KAFKA_SASL_PASSWORD_FILE: join(dir, 'missing'),
        },
        'KAFKA_SASL_PASSWORD_FILE: cannot read the file (ENOENT)',
      ],
      [
        {
          KAFKA_SASL_MECHANISM: 'scram-sha-512',
          KAFKA_SASL_USERNAME: 'u',
          KAFKA_SASL_PASSWORD_FILE: file('empty', '\n'),
        },
        'KAFKA_SASL_PASSWORD_FILE: the file is empty',
      ],
      [
        {
          KAFKA_SASL_MECHANISM: 'scram-sha-512',
          KAFKA_SASL_USERNAME: 'u',
          KAFKA_SASL_PASSWORD_FILE: file('two-lines', `${SECRET}\nsecond ${SECRET}\n`),
        },
        'KAFKA_SASL_PASSWORD_FILE: the password must be one line',
      ],
      [{ KAFKA_TLS: 'yes' }, 'KAFKA_TLS: must be 1 or 0 (true or false)'],
      [{ KAFKA_TLS_CA_FILE: file('ca-without-tls.pem', TEST_CA_PEM) }, 'KAFKA_TLS_CA_FILE: set KAFKA_TLS=1 too'],
      [{ KAFKA_TLS: '1', KAFKA_TLS_CA_FILE: file('not-pem', SECRET) }, 'KAFKA_TLS_CA_FILE: holds no PEM certificate'],
      [
        {
          KAFKA_TLS: '1',
          KAFKA_TLS_CA_FILE: file('broken.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
        },
        'KAFKA_TLS_CA_FILE: certificate 1 of 1 is not a valid X.509 certificate',
      ],
    ];
    for (const [env, expected] of cases) {
      const found = problems(env);
      expect(found.join('\n'), JSON.stringify(Object.keys(env))).toContain(expected);
      expect(found.join('\n')).not.toContain(SECRET);
      expect(() => loadKafkaSecurity(env)).toThrow(ConfigError);
    }
    const unreadable = file('unreadable', SECRET);
    chmodSync(unreadable, 0o000);
    // root reads any file: only a real user sees EACCES.
    if (process.getuid?.() !== 0)
      expect(
        problems({
          KAFKA_SASL_MECHANISM: 'scram-sha-512',
          KAFKA_SASL_USERNAME: 'u',
          KAFKA_SASL_PASSWORD_FILE: unreadable,
        }),
      ).toEqual(['  KAFKA_SASL_PASSWORD_FILE: cannot read the file (EACCES)']);
  });

  it('is part of the stream configuration and of the engine configuration when KAFKA_BROKERS is set', () => {
    const base = { KAFKA_BROKERS: '127.0.0.1:9092', REDIS_URL: 'redis://127.0.0.1:6379' };
    const stream = loadStreamConfig({
      ...base,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'leakguard-stream',
      KAFKA_SASL_PASSWORD_FILE: file('stream.pw', `${SECRET}\n`),
    });
    expect(stream.kafkaSecurity).toEqual({
      sasl: { mechanism: 'scram-sha-512', username: 'leakguard-stream', password: SECRET },
    });
    expect(loadStreamConfig(base).kafkaSecurity).toEqual({});
    expect(() => loadStreamConfig({ ...base, KAFKA_SASL_MECHANISM: 'scram-sha-512' })).toThrow(
      /KAFKA_SASL_USERNAME: is required/,
    );

    // The engine: its labels producer connects with these, so they are checked at start-up...
    expect(() => loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092', KAFKA_SASL_MECHANISM: 'scram-sha-1' })).toThrow(
      /KAFKA_SASL_MECHANISM: must be scram-sha-512 or scram-sha-256/,
    );
    expect(
      loadConfig({
        KAFKA_BROKERS: '127.0.0.1:9092',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'leakguard-console',
        KAFKA_SASL_PASSWORD: SECRET,
      }).KAFKA_BROKERS,
    ).toBe('127.0.0.1:9092');
    // ...and only when it has a broker to connect to.
    expect(loadConfig({ KAFKA_SASL_MECHANISM: 'scram-sha-1' }).KAFKA_BROKERS).toBeUndefined();
  });

  it('stops npm run stream with exit 2, every bad variable named, the password nowhere', () => {
    const run = spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'streams/main.ts'], {
      cwd: REPO,
      env: {
        PATH: process.env.PATH ?? '',
        KAFKA_BROKERS: '127.0.0.1:9',
        REDIS_URL: 'redis://127.0.0.1:1',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_PASSWORD: SECRET,
        KAFKA_TLS: 'yes',
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('KAFKA_SASL_USERNAME: is required with KAFKA_SASL_MECHANISM');
    expect(run.stderr).toContain('KAFKA_TLS: must be 1 or 0');
    expect(run.stderr + run.stdout).not.toContain(SECRET);
  });
});
