// A chargeback on an order answered degraded (found by an audit): with Redis unreachable the scoring
// was answered `degraded: true` and nothing marked it, so its outcome was refused 404
// TRANSACTION_NOT_FOUND. Now the archive keeps such a scoring flagged uncounted: its outcome counts
// against its entities (no fraud label in the merchant's delayed windows, which never counted it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveWriter } from '../../services/archive-writer.ts';
import { DEFAULT_RULESET_PATH, readRulesetFile } from '../../services/adapters/files/ruleset-file.ts';
import { readRatesFile } from '../../services/adapters/files/rates-file.ts';
import { MemoryVelocityStore } from '../../services/adapters/memory/velocity-store.ts';
import { PgTransactionArchive } from '../../services/adapters/postgres/transaction-archive.ts';
import type { SqlClient } from '../../services/adapters/postgres/sql-client.ts';
import { Engine } from '../../services/core/engine.ts';
import { ALL_FEATURES } from '../../services/core/features.ts';
import { scoreRequestSchema } from '../../services/core/schemas.ts';
import type { VelocityStore } from '../../services/core/velocity.ts';
import { pgliteDriver, type Driver } from '../console/fixtures.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-02T10:00:00Z');

let driver: Driver;
let sql: SqlClient;
let archive: PgTransactionArchive;
beforeAll(async () => {
  driver = await pgliteDriver();
  sql = await driver.open();
  archive = new PgTransactionArchive(sql);
}, 60_000);
afterAll(async () => {
  await sql?.close();
  await driver?.stop();
});

function engineOn(down: { now: boolean }, clock: { t: number }) {
  const memory = new MemoryVelocityStore({ now: () => clock.t });
  // Redis refusing while `down`: the scoring is answered degraded, nothing counted or marked.
  const store: VelocityStore = Object.assign(Object.create(memory) as VelocityStore, {
    recordAndRead: (...a: Parameters<VelocityStore['recordAndRead']>) =>
      down.now ? Promise.reject(new Error('ECONNREFUSED')) : memory.recordAndRead(...a),
  });
  const writer = new ArchiveWriter({ archive, flushMs: 60_000 });
  const ruleset = readRulesetFile(DEFAULT_RULESET_PATH, new Set(ALL_FEATURES));
  const rates = readRatesFile();
  const engine = new Engine({
    store,
    keyring: { primary: { id: 'k', secret: Buffer.alloc(32, 9) } },
    ruleset: () => ruleset,
    rates: () => rates,
    deadlineMs: 1000,
    now: () => clock.t,
    archive: () => archive,
    observer: { scored: (merchantId, _req, result) => writer.scored(merchantId, result) },
  });
  return { engine, writer };
}
const order = (transactionId: string, at: number) =>
  scoreRequestSchema.parse({
    transactionId,
    occurredAt: new Date(at).toISOString(),
    amount: 4200,
    currency: 'EUR',
    channel: 'ecommerce',
    card: { number: '4111111111111111', expiryMonth: 12, expiryYear: 2030, cvvResult: 'match' },
    device: { id: 'device-degraded' },
  });

describe('an outcome on a scoring answered degraded', () => {
  it('finds it in the archive and counts the chargeback against its card and device, labelling no fraud', async () => {
    const down = { now: true };
    const clock = { t: T0 };
    const { engine, writer } = engineOn(down, clock);
    const scored = await engine.score('m1', order('deg-1', T0));
    expect(scored).toMatchObject({ kind: 'scored', response: { degraded: true } });
    await writer.flush();
    down.now = false;
    clock.t = T0 + 20 * DAY;
    expect(await engine.recordOutcome('m1', 'deg-1', 'chargeback', clock.t, '10.4')).toBe('recorded');
    expect(await engine.recordOutcome('m1', 'deg-1', 'chargeback', clock.t)).toBe('duplicate');
    expect(await engine.transactionOf('m1', 'deg-1')).toMatchObject({ at: T0 });
    const next = await engine.score('m1', order('deg-2', clock.t + 60_000));
    if (next.kind !== 'scored') throw new Error('not scored');
    const f = next.evidence!.features;
    expect([f.card_chargebacks_30d, f.device_chargebacks_30d]).toEqual([1, 1]);
    // Counted nowhere: neither a transaction of the card nor a fraud of the merchant's delayed windows.
    expect(f.card_count_30d).toBe(1);
    expect(f.merchant_delayed_frauds_30d).toBe(0);
    await writer.close();
  });

  it('a counted scoring of the same transaction replaces the uncounted entry, in one batch or later', async () => {
    const base = { merchantId: 'm2', countedAt: T0, entities: { card: 'card-x', device: 'device-x' } };
    await archive.append([
      { ...base, transactionId: 'u-1', uncounted: true },
      { ...base, transactionId: 'u-1', countedAt: T0 + 5 },
    ]);
    expect(await archive.find('m2', 'u-1')).toEqual({ ...base, transactionId: 'u-1', countedAt: T0 + 5, outcomes: {} });
    await archive.append([{ ...base, transactionId: 'u-2', uncounted: true }]);
    expect(await archive.find('m2', 'u-2')).toEqual({ ...base, transactionId: 'u-2', uncounted: true, outcomes: {} });
    await archive.append([{ ...base, transactionId: 'u-2', countedAt: T0 + 7 }]);
    expect(await archive.find('m2', 'u-2')).toEqual({ ...base, transactionId: 'u-2', countedAt: T0 + 7, outcomes: {} });
    // A counted entry is never replaced, by an uncounted one least of all.
    await archive.append([{ ...base, transactionId: 'u-2', countedAt: T0 + 9, uncounted: true }]);
    expect(await archive.find('m2', 'u-2')).toMatchObject({ countedAt: T0 + 7 });
  });
});
