// No training/serving skew: the handbook features computed offline (over the dataset in time
// order, as for training) equal the features the engine serves, read from its velocity counters
// (a real Redis running the engine's Lua script, and the embedded in-memory store), row by row.
// Tolerance: none. Counts are integers; amounts are summed in integer cents on both paths and
// divided the same way, so every value must be bit-identical (Object.is, in replayParity).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryVelocityStore } from '../../services/adapters/memory/velocity-store.ts';
import { RedisVelocityStore } from '../../services/adapters/redis/velocity-store.ts';
import { connectRedis, whenReady } from '../../services/adapters/redis/connection.ts';
import type { VelocityStore } from '../../services/core/velocity.ts';
import { datasetFromBatches, type Dataset } from '../../models/simulator/csv.ts';
import { HANDBOOK_DEFAULTS, generateHandbook } from '../../models/simulator/handbook.ts';
import { HANDBOOK_FEATURE_SET, missingEngineCounters, type WindowAggregate } from '../../services/model/definitions.ts';
import { computeOffline, type FeatureMatrix } from '../../models/features/offline.ts';
import { replayParity, type WindowSource } from '../../models/features/online.ts';
import { EngineWindowSource } from '../../models/features/engine-source.ts';
import { RedisServer } from '../support/redis-server.ts';

// Small but long enough for the 30-day windows and the 37-day reach of the delayed terminal
// windows; few terminals, so scenario 2 (compromised terminals) labels many of their transactions.
const OPTS = { ...HANDBOOK_DEFAULTS, customers: 100, terminals: 200, days: 70, seed: 21 };

let ds: Dataset;
let offline: FeatureMatrix;
let redisServer: RedisServer;

beforeAll(async () => {
  ds = datasetFromBatches(OPTS.startDate, generateHandbook(OPTS));
  offline = computeOffline(ds, HANDBOOK_FEATURE_SET);
  redisServer = await RedisServer.start();
});
afterAll(async () => {
  await redisServer?.stop();
});

/** Counts what the engine's windows held, so that the comparison cannot pass on empty windows. */
class Witness implements WindowSource {
  readonly inner: WindowSource;
  frauds = 0;
  fractionalShares = 0;
  delayedCounts = 0;
  constructor(inner: WindowSource) {
    this.inner = inner;
  }
  async recordAndRead(...args: Parameters<WindowSource['recordAndRead']>): Promise<WindowAggregate[]> {
    const aggregates = await this.inner.recordAndRead(...args);
    args[1].forEach((f, i) => {
      const a = aggregates[i]!;
      if (f.stat === 'fraud_share' && a.frauds > 0) {
        this.frauds++;
        if (a.frauds < a.count) this.fractionalShares++;
      }
      if (f.entity === 'terminal' && f.stat === 'count' && a.count > 0) this.delayedCounts++;
    });
    return aggregates;
  }
}

const replay = async (store: VelocityStore) => {
  const witness = new Witness(new EngineWindowSource(store));
  const report = await replayParity(ds, HANDBOOK_FEATURE_SET, witness, offline);
  return { report, witness };
};

const expectExercised = (witness: Witness) => {
  expect(witness.delayedCounts).toBeGreaterThan(ds.n); // 3 terminal windows per row, most of them non-empty
  expect(witness.frauds).toBeGreaterThan(1000); // TERMINAL_ID_RISK_* > 0
  expect(witness.fractionalShares).toBeGreaterThan(1000); // shares strictly between 0 and 1
};

/** Every feature of every row equal, on data that exercised the delayed, labelled windows. */
const expectParity = async (store: VelocityStore) => {
  try {
    const { report, witness } = await replay(store);
    expect(report.rows).toBe(ds.n);
    expect(report.mismatches).toEqual([]);
    expectExercised(witness);
  } finally {
    await store.close();
  }
};

describe("offline handbook features equal the engine's online features", () => {
  it('are all served by engine counters', () => {
    expect(missingEngineCounters(HANDBOOK_FEATURE_SET)).toEqual([]);
    expect(ds.n).toBeGreaterThan(10_000);
  });

  it('through a real Redis velocity store: every feature of every row, exactly', async () => {
    const redis = await whenReady(connectRedis(redisServer.url));
    await redis.flushall();
    await expectParity(new RedisVelocityStore(redis));
  }, 120_000);

  it('through the embedded in-memory store: every feature of every row, exactly', async () => {
    await expectParity(new MemoryVelocityStore());
  });

  it('catches a store whose fraud labels never arrive: only the terminal risk features differ', async () => {
    const memory = new MemoryVelocityStore();
    const unlabelled: VelocityStore = {
      keys: memory.keys,
      recordAndRead: (plan) => memory.recordAndRead(plan),
      recordAndReadMany: (plans) => memory.recordAndReadMany(plans),
      saveResponse: (plan, response, hit) => memory.saveResponse(plan, response, hit),
      recordOutcome: async () => 'recorded',
      joinOutcome: async () => undefined,
      withdrawOutcome: async () => 'absent',
      leaveOutcome: async () => undefined,
      transactionOf: (...a) => memory.transactionOf(...a),
      countingReference: (...a) => memory.countingReference(...a),
      ping: () => memory.ping(),
      close: () => memory.close(),
    };
    try {
      const report = await replayParity(ds, HANDBOOK_FEATURE_SET, new EngineWindowSource(unlabelled), offline, 50);
      expect(report.mismatches.length).toBeGreaterThan(50); // 50 listed, then a "… more" line
      expect(new Set(report.mismatches.slice(0, 50).map((m) => m.feature.replace(/_\d+DAY_WINDOW$/, '')))).toEqual(
        new Set(['TERMINAL_ID_RISK']),
      );
    } finally {
      await unlabelled.close();
    }
  });
});
