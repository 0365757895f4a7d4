// The merchant directory of the stream: which merchantIds are scored (an active merchant API key),
// without a key-store read per message, and without turning away a merchant onboarded a moment
// before its first transaction.
import { describe, expect, it } from 'vitest';
import type { ApiKeyRecord } from '../../services/auth/api-keys.ts';
import { createLogger } from '../../services/logger.ts';
import { MerchantDirectory } from '../../streams/merchants.ts';

const logger = createLogger('silent');
const key = (merchantId: string, revokedAt?: string): ApiKeyRecord => ({
  id: `key_${merchantId}`,
  hash: 'h',
  role: 'merchant',
  merchantId,
  createdAt: '2026-01-01T00:00:00Z',
  ...(revokedAt ? { revokedAt } : {}),
});

function directory(records: ApiKeyRecord[], minGapMs = 50) {
  let loads = 0;
  let failing = false;
  const dir = new MerchantDirectory(
    async () => {
      loads++;
      if (failing) throw new Error('redis down');
      return [...records];
    },
    { refreshMs: 60_000, logger, minGapMs },
  );
  return { dir, loads: () => loads, fail: (f: boolean) => (failing = f) };
}

describe('merchant directory', () => {
  it('knows merchants with an active merchant key, not revoked ones, issuers or admins', async () => {
    const { dir, loads } = directory([
      key('a'),
      key('b', '2026-02-01T00:00:00Z'),
      { ...key('c'), role: 'issuer', merchantId: undefined, issuerId: 'c' },
    ]);
    await dir.refresh();
    expect(await dir.status('a')).toBe('known');
    expect(await dir.status('b', 0)).toBe('unknown');
    expect(await dir.status('c', 0)).toBe('unknown');
    // Old transactions of unknown merchants cost no further load.
    expect(loads()).toBe(1);
  });

  it('reloads before calling unknown a merchant onboarded after the last load', async () => {
    const records = [key('a')];
    const { dir, loads } = directory(records);
    await dir.refresh();
    records.push(key('late'));
    expect(await dir.status('late', Date.now())).toBe('known');
    expect(loads()).toBe(2);
  });

  it('shares one load among many unknown ids arriving at once', async () => {
    const { dir, loads } = directory([key('a')], 100);
    await dir.refresh();
    const asOf = Date.now();
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => dir.status(`nobody-${i}`, asOf)));
    expect(new Set(answers)).toEqual(new Set(['unknown']));
    expect(loads()).toBe(2);
  });

  it('answers unavailable, not unknown, when the key store cannot be read', async () => {
    const { dir, fail } = directory([key('a')]);
    fail(true);
    await dir.refresh();
    expect(await dir.status('a')).toBe('unavailable');
    fail(false);
    await dir.refresh();
    expect(await dir.status('a')).toBe('known');
    fail(true);
    // A known merchant stays known on the cached set; an unknown one cannot be confirmed.
    expect(await dir.status('a')).toBe('known');
    expect(await dir.status('other', Date.now())).toBe('unavailable');
  });
});
