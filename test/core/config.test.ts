import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKeyring } from '../../services/card-keys.ts';
import { ConfigError, loadConfig } from '../../services/config.ts';
import { loadDataKeyring } from '../../services/data-keys.ts';
import { KNOWN_SETTINGS, unknownSettings, unknownSettingWarnings } from '../../services/settings-names.ts';

const message = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return '';
};

describe('configuration', () => {
  it('has defaults for embedded mode', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      HOST: '127.0.0.1',
      PORT: 8080,
      LEAKGUARD_STATE_DIR: '.leakguard',
      LEAKGUARD_DEADLINE_MS: 50,
      LEAKGUARD_RESPONSE_RETENTION_HOURS: 24,
      LEAKGUARD_ARCHIVE: 'on',
      LEAKGUARD_ARCHIVE_RETENTION_DAYS: 180,
      NODE_ENV: 'development',
    });
    expect(c.REDIS_URL).toBeUndefined();
    // Unset: 3 days where the process archives its transactions, else 35 (test/archive/).
    expect(c.LEAKGUARD_MARKER_RETENTION_DAYS).toBeUndefined();
  });

  it('names the variable and what is wrong with it', () => {
    expect(message(() => loadConfig({ PORT: 'eighty' }))).toMatch(/PORT: .*number/);
    expect(message(() => loadConfig({ PORT: '70000' }))).toMatch(/PORT: /);
    expect(message(() => loadConfig({ REDIS_URL: 'localhost:6379' }))).toContain(
      'REDIS_URL: must be a redis:// or rediss:// URL',
    );
    expect(message(() => loadConfig({ NODE_ENV: 'staging' }))).toContain('NODE_ENV');
    // A marker must outlive the stored response (24 h) that a retry replays.
    expect(message(() => loadConfig({ LEAKGUARD_MARKER_RETENTION_DAYS: '1' }))).toMatch(
      /LEAKGUARD_MARKER_RETENTION_DAYS: .*2/,
    );
    // A stored response never outlives the shortest marker (2 days): a retry must find both.
    expect(message(() => loadConfig({ LEAKGUARD_RESPONSE_RETENTION_HOURS: '49' }))).toMatch(
      /LEAKGUARD_RESPONSE_RETENTION_HOURS: .*48/,
    );
    expect(message(() => loadConfig({ LEAKGUARD_RESPONSE_RETENTION_HOURS: '0' }))).toMatch(
      /LEAKGUARD_RESPONSE_RETENTION_HOURS: .*1/,
    );
    expect(message(() => loadConfig({ LEAKGUARD_CARD_KEY: 'a'.repeat(64), LEAKGUARD_CARD_KEY_FILE: '/x' }))).toContain(
      'LEAKGUARD_CARD_KEY_FILE',
    );
  });

  it('refuses to start in production without a card key, and refuses short keys', () => {
    expect(message(() => loadKeyring(loadConfig({ NODE_ENV: 'production' })))).toContain(
      'LEAKGUARD_CARD_KEY: required in production',
    );
    expect(message(() => loadKeyring(loadConfig({ LEAKGUARD_CARD_KEY: 'abcd' })))).toContain(
      'LEAKGUARD_CARD_KEY: must hold at least 32 random bytes',
    );
  });

  it('takes a card key only as 64+ hex characters or strict base64 of at least 32 bytes, naming the variable', () => {
    const key = (value: string, name = 'LEAKGUARD_CARD_KEY') =>
      loadKeyring(loadConfig({ [name]: value })).keyring.primary.secret;
    const bytes = randomBytes(32);
    expect(key(bytes.toString('hex')).equals(bytes)).toBe(true);
    expect(key(bytes.toString('base64')).equals(bytes)).toBe(true);
    expect(key(`${randomBytes(48).toString('base64')}\n`)).toHaveLength(48);
    // Not keys: a passphrase (any 43+ characters used to pass as base64), and near misses.
    const passphrase = 'correct horse battery staple and a few more words to be long enough';
    expect(message(() => key(passphrase))).toBe(
      'invalid configuration:\n  LEAKGUARD_CARD_KEY: must be 64 hex characters or base64 of at least 32 bytes: character 8 is outside the base64 alphabet (A-Z a-z 0-9 + /)',
    );
    expect(message(() => key(passphrase))).not.toContain('horse');
    // base64url is another alphabet: refused rather than guessed.
    expect(message(() => key(Buffer.alloc(32, 0xfb).toString('base64url')))).toBe(
      'invalid configuration:\n  LEAKGUARD_CARD_KEY: must be 64 hex characters or base64 of at least 32 bytes: character 1 is outside the base64 alphabet (A-Z a-z 0-9 + /)',
    );
    expect(message(() => key(bytes.toString('base64').replace(/=+$/, '')))).toBe(
      'invalid configuration:\n  LEAKGUARD_CARD_KEY: must be 64 hex characters or base64 of at least 32 bytes: base64 is padded with = to a multiple of 4 characters (this has 43)',
    );
    expect(message(() => key(`${bytes.toString('base64').slice(0, 20)}=${bytes.toString('base64').slice(21)}`))).toBe(
      'invalid configuration:\n  LEAKGUARD_CARD_KEY: must be 64 hex characters or base64 of at least 32 bytes: = may only pad the end',
    );
    expect(message(() => key(`${'A'.repeat(42)}B=`))).toBe(
      'invalid configuration:\n  LEAKGUARD_CARD_KEY: must be 64 hex characters or base64 of at least 32 bytes: not canonical base64 (the last character carries bits past the data)',
    );
    expect(message(() => key(randomBytes(31).toString('base64')))).toBe(
      'invalid configuration:\n  LEAKGUARD_CARD_KEY: must hold at least 32 random bytes (64 hex characters or base64): this holds 31',
    );
    expect(message(() => key('a'.repeat(63)))).toBe(
      'invalid configuration:\n  LEAKGUARD_CARD_KEY: must hold at least 32 random bytes (64 hex characters or base64): 63 hex characters, an odd count',
    );
    expect(
      message(() =>
        key(`${bytes.toString('hex').slice(0, 32)} ${bytes.toString('hex').slice(32)}`, 'LEAKGUARD_PREVIOUS_CARD_KEY'),
      ),
    ).toContain(
      'LEAKGUARD_PREVIOUS_CARD_KEY: must be 64 hex characters or base64 of at least 32 bytes: character 33 is outside the base64 alphabet',
    );
  });

  it('creates a development key once, with mode 0600, and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-cfg-'));
    const first = loadKeyring(loadConfig({ LEAKGUARD_STATE_DIR: dir }));
    expect(first.createdDevelopmentKey).toBe(true);
    expect(statSync(first.developmentKeyFile!).mode & 0o777).toBe(0o600);
    const second = loadKeyring(loadConfig({ LEAKGUARD_STATE_DIR: dir }));
    expect(second.createdDevelopmentKey).toBe(false);
    expect(second.keyring.primary.secret.equals(first.keyring.primary.secret)).toBe(true);
  });

  it('reads keys from files and configures the previous key for rotation', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-cfg-'));
    writeFileSync(join(dir, 'k'), `${'b'.repeat(64)}\n`);
    const { keyring } = loadKeyring(
      loadConfig({
        LEAKGUARD_CARD_KEY_FILE: join(dir, 'k'),
        LEAKGUARD_CARD_KEY_ID: 'k2026',
        LEAKGUARD_PREVIOUS_CARD_KEY: 'c'.repeat(64),
      }),
    );
    expect(keyring.primary.id).toBe('k2026');
    expect(keyring.primary.secret.toString('hex')).toBe(readFileSync(join(dir, 'k'), 'utf8').trim());
    expect(keyring.previous?.secret.toString('hex')).toBe('c'.repeat(64));
    expect(message(() => loadKeyring(loadConfig({ LEAKGUARD_CARD_KEY_FILE: join(dir, 'missing') })))).toContain(
      'LEAKGUARD_CARD_KEY_FILE: cannot read the key file',
    );
  });

  it('refuses a previous key given both as a value and as a file, as for the current key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-cfg-'));
    writeFileSync(join(dir, 'prev'), `${'e'.repeat(64)}\n`);
    for (const name of ['LEAKGUARD_PREVIOUS_CARD_KEY', 'LEAKGUARD_PREVIOUS_DATA_KEY', 'LEAKGUARD_CARD_KEY']) {
      expect(message(() => loadConfig({ [name]: 'c'.repeat(64), [`${name}_FILE`]: join(dir, 'prev') }))).toBe(
        `invalid configuration:\n  ${name}_FILE: set either ${name} or ${name}_FILE, not both`,
      );
    }
    // Either one alone is taken.
    const fromFile = loadKeyring(
      loadConfig({ LEAKGUARD_CARD_KEY: 'c'.repeat(64), LEAKGUARD_PREVIOUS_CARD_KEY_FILE: join(dir, 'prev') }),
    );
    expect(fromFile.keyring.previous?.secret.toString('hex')).toBe('e'.repeat(64));
    const data = loadDataKeyring(
      loadConfig({
        LEAKGUARD_CARD_KEY: 'c'.repeat(64),
        LEAKGUARD_DATA_KEY: 'd'.repeat(64),
        LEAKGUARD_DATA_KEY_ID: 'd2',
        LEAKGUARD_PREVIOUS_DATA_KEY_FILE: join(dir, 'prev'),
      }),
    );
    expect(data.keyring.previous?.secret.toString('hex')).toBe('e'.repeat(64));
  });

  it('names each LEAKGUARD_* variable nothing reads, with the setting it is a near miss of', () => {
    expect(
      unknownSettings({
        LEAKGUARD_PREVIOUS_CARD_KEY_FLIE: '/tmp/prev.key',
        LEAKGUARD_CARD_KEYID: 'k2',
        LEAKGUARD_NOTHING_LIKE_IT: '1',
        LEAKGUARD_PREVIOUS_CARD_KEY_FILE: '/tmp/prev.key',
        LEAKGUARD_STREAM_BATCH_SIZE: '100',
        LEAKGUARD_METRICS_TOKEN: 't',
        LEAKGUARD_API_KEY: 'k',
        LEAKGUARD_TEST_REDIS_SERVER: '/usr/bin/redis-server',
        PATH: '/usr/bin',
      }),
    ).toEqual([
      { name: 'LEAKGUARD_CARD_KEYID', meant: 'LEAKGUARD_CARD_KEY_ID' },
      { name: 'LEAKGUARD_NOTHING_LIKE_IT' },
      { name: 'LEAKGUARD_PREVIOUS_CARD_KEY_FLIE', meant: 'LEAKGUARD_PREVIOUS_CARD_KEY_FILE' },
    ]);
    expect(unknownSettingWarnings({ LEAKGUARD_PREVIOUS_CARD_KEY_FLIE: 'c'.repeat(64) })).toEqual([
      'LEAKGUARD_PREVIOUS_CARD_KEY_FLIE is not a Leakguard setting and is ignored: did you mean LEAKGUARD_PREVIOUS_CARD_KEY_FILE?',
    ]);
    // Every name the code reads is known: none of them is ever warned of.
    const root = new URL('../..', import.meta.url).pathname;
    const read = new Set<string>();
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(join(dir, entry.name));
        // settings-names.ts tells of a misspelt one.
        else if (entry.name.endsWith('.ts') && entry.name !== 'settings-names.ts')
          for (const m of readFileSync(join(dir, entry.name), 'utf8').matchAll(/\bLEAKGUARD_[A-Z0-9_]*[A-Z0-9]\b/g))
            read.add(m[0]);
      }
    };
    for (const dir of ['services', 'streams']) walk(join(root, dir));
    expect(read.size).toBeGreaterThan(50);
    expect(unknownSettings(Object.fromEntries([...read].map((name) => [name, '1'])))).toEqual([]);
    expect(KNOWN_SETTINGS).toContain('LEAKGUARD_PREVIOUS_DATA_KEY_FILE');
  });

  it('reads numbers only as plain decimal digits: a blank, hex or an exponent is refused, naming the variable', () => {
    for (const [name, value] of [
      ['PORT', ' '],
      ['PORT', '0x10'],
      ['PORT', '1e3'],
      ['LEAKGUARD_CPP_SCAN_MINUTES', ' '],
      ['LEAKGUARD_CPP_SCAN_MINUTES', '\t'],
      ['LEAKGUARD_DEADLINE_MS', '0x32'],
      ['LEAKGUARD_DEADLINE_MS', '5e1'],
      ['LEAKGUARD_DEADLINE_MS', '50.0'],
      ['LEAKGUARD_DEADLINE_MS', '+50'],
      ['LEAKGUARD_MARKER_RETENTION_DAYS', ' '],
      ['LEAKGUARD_UPLOAD_THREADS', '0b11'],
    ] as const) {
      expect(
        message(() => loadConfig({ [name]: value })),
        `${name}=${JSON.stringify(value)}`,
      ).toMatch(
        new RegExp(`^invalid configuration:\\n  ${name}: must be a whole number from \\d+ to \\d+, in decimal digits$`),
      );
    }
    for (const value of [' ', '0x1', 'Infinity', '-0.1', '0.5']) {
      expect(
        message(() => loadConfig({ LEAKGUARD_CPP_ALPHA: value })),
        value,
      ).toContain('LEAKGUARD_CPP_ALPHA: must be a number above 0 and below 0.5');
    }
    const c = loadConfig({
      PORT: ' 8081 ',
      LEAKGUARD_CPP_SCAN_MINUTES: '0',
      LEAKGUARD_MARKER_RETENTION_DAYS: '35',
      LEAKGUARD_CPP_ALPHA: '1e-6',
    });
    expect([c.PORT, c.LEAKGUARD_CPP_SCAN_MINUTES, c.LEAKGUARD_MARKER_RETENTION_DAYS, c.LEAKGUARD_CPP_ALPHA]).toEqual([
      8081, 0, 35, 1e-6,
    ]);
    expect(loadConfig({ LEAKGUARD_CPP_ALPHA: '0.001' }).LEAKGUARD_CPP_ALPHA).toBe(0.001);
  });
});
