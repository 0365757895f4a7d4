// The velocity counters outlive a restart in Redis, and their amounts are in the reference currency
// of the rate table they were written with: an engine that starts with a table in another reference
// is refused (it would add euros and yen in the same windows), unless the operator names the
// reference it replaces (LEAKGUARD_REFERENCE_CHANGE_FROM). On a single Redis and a Redis Cluster.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RATES_PATH } from '../../services/adapters/files/rates-file.ts';
import { MemoryVelocityStore } from '../../services/adapters/memory/velocity-store.ts';
import { REFERENCE_KEY } from '../../services/adapters/redis/velocity-store.ts';
import { mastersOf } from '../../services/adapters/redis/connection.ts';
import { buildTestApp } from '../support/app.ts';
import { openRuntime } from '../support/runtime-on.ts';
import { singleAndCluster } from '../support/single-and-cluster.ts';

const dir = mkdtempSync(join(tmpdir(), 'lg-counting-reference-'));
const EUR_TABLE = join(dir, 'eur.yaml');
const JPY_TABLE = join(dir, 'jpy.yaml');
writeFileSync(EUR_TABLE, readFileSync(DEFAULT_RATES_PATH, 'utf8'));
writeFileSync(
  JPY_TABLE,
  `version: yen-1\nreference: JPY\nsmallAmount: 260\nrates:\n  EUR: [{ from: 2018-01-01, rate: 0.0077 }]\n`,
);

const MISMATCH =
  "reference currency mismatch: the velocity counters hold amounts in EUR, the rate table's reference is JPY: " +
  'counting on would add EUR and JPY amounts together in the same windows (up to 30 days). ' +
  'Start with a rate table whose reference is EUR; or, to change the reference (docs/currencies.md, ' +
  '"Changing the reference currency"), start on a velocity store without counters (an empty Redis), or set ' +
  'LEAKGUARD_REFERENCE_CHANGE_FROM=EUR to accept amount sums that mix both until the EUR entries age out';

describe.each(singleAndCluster())('the reference the counters were written in, on $name', ({ env, open }) => {
  it('is recorded by the first start, refuses a start in another reference, and changes only when the operator names it', async () => {
    const start = async (rates: string, more: Record<string, string> = {}) => {
      const t = await buildTestApp({ ...env(), LEAKGUARD_RATES: rates, ...more });
      const logs = t.logs.join('\n');
      await t.close();
      return logs;
    };
    expect(await start(EUR_TABLE)).toContain('velocity counters: amounts counted in EUR');
    const redis = await open();
    try {
      expect(await redis.get(REFERENCE_KEY)).toBe('EUR');
      // A restart with the same reference: nothing to say.
      expect(await start(EUR_TABLE)).not.toContain('amounts counted in');

      await expect(start(JPY_TABLE)).rejects.toThrow(MISMATCH);
      await expect(start(JPY_TABLE, { LEAKGUARD_REFERENCE_CHANGE_FROM: 'GBP' })).rejects.toThrow(
        "the rate table's reference is JPY (LEAKGUARD_REFERENCE_CHANGE_FROM names GBP, not EUR): counting on",
      );
      expect(await redis.get(REFERENCE_KEY)).toBe('EUR');

      expect(await start(JPY_TABLE, { LEAKGUARD_REFERENCE_CHANGE_FROM: 'EUR' })).toContain(
        'reference currency changed from EUR to JPY (LEAKGUARD_REFERENCE_CHANGE_FROM)',
      );
      expect(await redis.get(REFERENCE_KEY)).toBe('JPY');
      // The setting left in place changes nothing more (another engine of the fleet, a restart).
      expect(await start(JPY_TABLE, { LEAKGUARD_REFERENCE_CHANGE_FROM: 'EUR' })).not.toContain(
        'reference currency changed',
      );
      await expect(start(EUR_TABLE)).rejects.toThrow(
        "reference currency mismatch: the velocity counters hold amounts in JPY, the rate table's reference is EUR",
      );
    } finally {
      redis.disconnect();
    }
  });

  it('a Redis that refuses the first record (full) does not stop the start: said, and checked at the next one', async () => {
    const redis = await open();
    try {
      const masters = mastersOf(redis);
      await Promise.all(masters.map((m) => m.flushall()));
      await Promise.all(masters.map((m) => m.config('SET', 'maxmemory-policy', 'noeviction')));
      await Promise.all(masters.map((m) => m.config('SET', 'maxmemory', '1')));
      try {
        const { lines, dispose } = await openRuntime({ ...env(), LEAKGUARD_RATES: JPY_TABLE, LEAKGUARD_MODEL: 'off' });
        await dispose();
        expect(lines.join('\n')).toContain(
          'the reference currency of the velocity counters could not be checked: it will be at the next start',
        );
      } finally {
        await Promise.all(masters.map((m) => m.config('SET', 'maxmemory', '0')));
      }
      expect(await redis.get(REFERENCE_KEY)).toBeNull();
    } finally {
      redis.disconnect();
    }
  });
});

describe('the embedded store', () => {
  it('keeps the reference as long as its counters: recorded, the same, refused, replaced when named', async () => {
    const store = new MemoryVelocityStore();
    try {
      expect(await store.countingReference('EUR')).toEqual({ result: 'recorded', recorded: undefined });
      expect(await store.countingReference('EUR')).toEqual({ result: 'same', recorded: 'EUR' });
      expect(await store.countingReference('JPY')).toEqual({ result: 'mismatch', recorded: 'EUR' });
      expect(await store.countingReference('JPY', 'GBP')).toEqual({ result: 'mismatch', recorded: 'EUR' });
      expect(await store.countingReference('JPY', 'EUR')).toEqual({ result: 'replaced', recorded: 'EUR' });
      expect(await store.countingReference('EUR')).toEqual({ result: 'mismatch', recorded: 'JPY' });
    } finally {
      await store.close();
    }
  });
});
