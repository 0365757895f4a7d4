import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKeyring } from '../../services/card-keys.ts';
import { ConfigError, loadConfig } from '../../services/config.ts';

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
    expect(c).toMatchObject({ HOST: '127.0.0.1', PORT: 8080, LEAKGUARD_STATE_DIR: '.leakguard', LEAKGUARD_DEADLINE_MS: 50, NODE_ENV: 'development' });
    expect(c.REDIS_URL).toBeUndefined();
  });

  it('names the variable and what is wrong with it', () => {
    expect(message(() => loadConfig({ PORT: 'eighty' }))).toMatch(/PORT: .*number/);
    expect(message(() => loadConfig({ PORT: '70000' }))).toMatch(/PORT: /);
    expect(message(() => loadConfig({ REDIS_URL: 'localhost:6379' }))).toContain('REDIS_URL: must be a redis:// or rediss:// URL');
    expect(message(() => loadConfig({ NODE_ENV: 'staging' }))).toContain('NODE_ENV');
    expect(message(() => loadConfig({ LEAKGUARD_CARD_KEY: 'a'.repeat(64), LEAKGUARD_CARD_KEY_FILE: '/x' }))).toContain('LEAKGUARD_CARD_KEY_FILE');
  });

  it('refuses to start in production without a card key, and refuses short keys', () => {
    expect(message(() => loadKeyring(loadConfig({ NODE_ENV: 'production' })))).toContain('LEAKGUARD_CARD_KEY: required in production');
    expect(message(() => loadKeyring(loadConfig({ LEAKGUARD_CARD_KEY: 'abcd' })))).toContain('LEAKGUARD_CARD_KEY: must hold at least 32 random bytes');
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
    const { keyring } = loadKeyring(loadConfig({ LEAKGUARD_CARD_KEY_FILE: join(dir, 'k'), LEAKGUARD_CARD_KEY_ID: 'k2026', LEAKGUARD_PREVIOUS_CARD_KEY: 'c'.repeat(64) }));
    expect(keyring.primary.id).toBe('k2026');
    expect(keyring.primary.secret.toString('hex')).toBe(readFileSync(join(dir, 'k'), 'utf8').trim());
    expect(keyring.previous?.secret.toString('hex')).toBe('c'.repeat(64));
    expect(message(() => loadKeyring(loadConfig({ LEAKGUARD_CARD_KEY_FILE: join(dir, 'missing') })))).toContain('LEAKGUARD_CARD_KEY_FILE: cannot read the key file');
  });
});
