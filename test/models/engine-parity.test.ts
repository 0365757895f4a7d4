// The engine feature set: its offline path (a replay of a breach dataset through the engine on the
// in-memory stores, as training uses it) and its online path (the same engine on a real Redis, as
// serving uses it) give the same vector for every row, bit for bit. Stated tolerance: none.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisVelocityStore } from '../../services/adapters/redis/velocity-store.ts';
import { connectRedis, whenReady } from '../../services/adapters/redis/connection.ts';
import { RedisWatchlistStore } from '../../services/adapters/redis/watchlist-store.ts';
import { ENGINE_FEATURE_SET, featureNames } from '../../services/model/definitions.ts';
import { servingVector } from '../../services/model/serving.ts';
import { engineFeatureMatrix } from '../../models/replay/engine-features.ts';
import { replayThroughEngine } from '../../models/replay/engine-replay.ts';
import { BREACH_DEFAULTS } from '../../models/simulator/breach.ts';
import { readDataset } from '../../models/simulator/csv.ts';
import { HANDBOOK_DEFAULTS } from '../../models/simulator/handbook.ts';
import { simulate } from '../../models/simulator/run.ts';
import { RedisServer } from '../support/redis-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'lg-engine-parity-'));
simulate({ ...HANDBOOK_DEFAULTS, customers: 150, terminals: 300, days: 40, seed: 4 }, dir, {
  ...BREACH_DEFAULTS,
  breaches: 1,
  breachDay: 8,
  exposureDays: 8,
  merchantTerminals: 12,
  useShare: 0.7,
  delayMinDays: 1,
  delayMaxDays: 4,
  issuerLagMinDays: 2,
  issuerLagMaxDays: 6,
});
const ds = readDataset(dir, { keepExtra: true });
const fs = ENGINE_FEATURE_SET;
const names = featureNames(fs);
const col = (name: string) => names.indexOf(name);

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis?.stop();
});

describe('engine feature set: offline replay vs the engine on a real Redis', () => {
  // Two replays of a few thousand transactions, one through a real Redis: generous on a busy machine.
  it('gives the same vector for every row', { timeout: 240_000 }, async () => {
    const offline = await engineFeatureMatrix(ds, fs, dir, 0, ds.n);
    const client = await whenReady(connectRedis(redis.url));
    const online = new Float64Array(offline.values.length);
    try {
      await replayThroughEngine(ds, {
        dataDir: dir,
        watchlists: true,
        stores: { velocity: new RedisVelocityStore(client), watchlist: new RedisWatchlistStore(client) },
        onRow: (row, _response, evidence) => {
          servingVector(
            fs,
            evidence.features,
            ds.epochSeconds[row]! * 1000,
            online.subarray(row * fs.features.length, (row + 1) * fs.features.length),
          );
        },
      });
    } finally {
      client.disconnect();
    }
    const cols = fs.features.length;
    const mismatches: string[] = [];
    for (let i = 0; i < offline.values.length && mismatches.length < 10; i++) {
      if (!Object.is(offline.values[i], online[i]))
        mismatches.push(
          `row ${Math.floor(i / cols)} ${names[i % cols]}: offline ${offline.values[i]}, Redis ${online[i]}`,
        );
    }
    expect(mismatches).toEqual([]);

    // Not vacuous: the replay exercised the watchlist, shared entities, labels and the handbook windows.
    const rowsWhere = (name: string, test: (v: number) => boolean) => {
      let n = 0;
      for (let r = 0; r < offline.rows; r++) if (test(offline.values[r * cols + col(name)]!)) n++;
      return n;
    };
    expect(ds.n).toBeGreaterThan(3000);
    expect(rowsWhere('card_listed', (v) => v === 1)).toBeGreaterThan(0);
    expect(rowsWhere('shipping_distinct_cards_7d', (v) => v > 1)).toBeGreaterThan(0);
    expect(rowsWhere('card_distinct_merchants_1h', (v) => v > 1)).toBeGreaterThan(0);
    expect(rowsWhere('TERMINAL_ID_RISK_30DAY_WINDOW', (v) => v > 0)).toBeGreaterThan(0);
    expect(rowsWhere('CUSTOMER_ID_AVG_AMOUNT_7DAY_WINDOW', (v) => v > 0 && !Number.isInteger(v))).toBeGreaterThan(0);
  });
});
