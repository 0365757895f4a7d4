// Batched scoring (what the stream does with a Kafka batch) gives, bit for bit, what scoring the
// same transactions one at a time gives: decisions, scores, reasons, every feature the rules and
// the model read (velocity counters included). On the in-memory store, a real Redis and a real
// three-master Redis Cluster, with the starter model on; the traffic shares cards, devices, IPs
// and merchants across a batch, repeats a transaction inside a batch and sends a conflict.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../services/config.ts';
import type { ScoreResult } from '../../services/core/engine.ts';
import { scoreRequestSchema, type ScoreRequest, type ScoreResponse } from '../../services/core/schemas.ts';
import { createLogger } from '../../services/logger.ts';
import { createRuntime, type Runtime } from '../../services/runtime.ts';
import { TEST_CARD_KEY, TEST_DATA_KEY } from '../support/app.ts';
import { RedisCluster } from '../support/redis-cluster.ts';
import { RedisServer } from '../support/redis-server.ts';

const PANS = [
  '4111111111111111',
  '5555555555554444',
  '4000056655665556',
  '4242424242424242',
  '5105105105105100',
  '4012888888881881',
];
const T0 = Date.parse('2026-11-20T10:00:00Z');

function traffic(): { merchantId: string; request: ScoreRequest }[] {
  const out: { merchantId: string; request: ScoreRequest }[] = [];
  for (let i = 0; i < 240; i++) {
    const burst = i >= 100 && i < 130; // one device trying many cards in a few minutes
    out.push({
      merchantId: i % 3 === 0 ? 'm1' : 'm2',
      request: scoreRequestSchema.parse({
        transactionId: `b-${i}`,
        occurredAt: new Date(T0 + i * 7_000 + (i % 7)).toISOString(),
        amount: burst ? 100 : 1_000 + (i % 13) * 700,
        currency: i % 4 === 0 ? 'JPY' : 'EUR',
        channel: 'ecommerce',
        card: {
          number: PANS[i % PANS.length]!,
          expiryMonth: 12,
          expiryYear: 2030,
          cvvResult: i % 29 === 0 ? 'mismatch' : 'match',
        },
        device: { id: burst ? 'burst-device' : `device-${i % 9}`, ip: `198.51.100.${i % 11}` },
        customer: { email: `holder${i % 5}@example.com` },
        // Postcodes with a dash have a pseudonym before 2026-12-07 too, which the card's log replaces.
        shippingAddress: {
          line1: `${i % 5}-2-3 Ginza`,
          postalCode: i % 2 === 0 ? '150-0002' : '1500002',
          city: 'Tokyo',
          country: 'JP',
        },
      }),
    });
  }
  // A transaction repeated inside one batch, and one id sent again with another payload.
  out.splice(50, 0, out[48]!);
  out.push({ ...out[10]!, request: { ...out[10]!.request, amount: 777 } });
  return out;
}

/** What must be equal: everything the decision came from and everything it says. */
type View = { response: ScoreResponse; replayed: boolean; features: unknown } | { conflict: true } | { error: string };
const view = (r: ScoreResult | { kind: 'error'; error: unknown }): View =>
  r.kind === 'scored'
    ? { response: r.response, replayed: r.replayed, features: r.evidence?.features }
    : r.kind === 'conflict'
      ? { conflict: true }
      : { error: String(r.error) };

interface Subject {
  name: string;
  env(): Record<string, string>;
  reset(): Promise<void>;
}
let single: RedisServer;
let cluster: RedisCluster;
const subjects: Subject[] = [
  { name: 'memory', env: () => ({ REDIS_URL: '' }), reset: async () => {} },
  {
    name: 'redis',
    env: () => ({ REDIS_URL: single.url }),
    reset: async () =>
      void (await import('ioredis').then(async ({ Redis }) => {
        const r = new Redis(single.url);
        await r.flushall();
        r.disconnect();
      })),
  },
  { name: 'redis cluster', env: () => ({ REDIS_CLUSTER_NODES: cluster.seeds }), reset: () => cluster.flushAll() },
];

beforeAll(async () => {
  [single, cluster] = await Promise.all([RedisServer.start(), RedisCluster.start()]);
});
afterAll(async () => {
  await Promise.all([single.stop(), cluster.stop()]);
});

async function engineOn(subject: Subject, settings: Record<string, string> = {}): Promise<Runtime> {
  await subject.reset();
  const config = loadConfig({
    NODE_ENV: 'test',
    LEAKGUARD_STATE_DIR: mkdtempSync(join(tmpdir(), 'lg-batch-')),
    LEAKGUARD_CARD_KEY: TEST_CARD_KEY,
    LEAKGUARD_DATA_KEY: TEST_DATA_KEY,
    LOG_LEVEL: 'silent',
    LEAKGUARD_DEADLINE_MS: '5000',
    ...subject.env(),
    ...settings,
  });
  const runtime = createRuntime(config, createLogger('silent'));
  if (!(await runtime.waitForStores())) throw new Error('store did not connect');
  return runtime;
}

describe.each(subjects)('batched scoring equals one at a time: $name', (subject) => {
  it('the same decisions, scores, reasons and features, batch after batch', async () => {
    const items = traffic();
    // One at a time: each response stored before the next scoring (not gathered a few ms with
    // others), so that a repeated transaction is a replay of the stored response, as in a batch.
    const one = await engineOn(subject, { LEAKGUARD_RESPONSE_GATHER_MS: '0' });
    const sequential = [];
    try {
      for (const item of items) sequential.push(view(await one.engine.score(item.merchantId, item.request)));
    } finally {
      await one.close();
    }
    const batched = [];
    const many = await engineOn(subject);
    try {
      for (let from = 0; from < items.length; from += 64)
        batched.push(...(await many.engine.scoreBatch(items.slice(from, from + 64))).map(view));
    } finally {
      await many.close();
    }
    // The mix exercises what it should: flagged orders, a replay inside a batch, a conflict, the model.
    expect(sequential.filter((r) => 'response' in r && r.response.decision !== 'approve').length).toBeGreaterThan(5);
    expect(sequential.filter((r) => 'replayed' in r && r.replayed).length).toBeGreaterThan(0);
    expect(sequential.filter((r) => 'conflict' in r)).toHaveLength(1);
    expect(sequential.every((r) => !('response' in r) || r.response.degraded === false)).toBe(true);
    expect(sequential.some((r) => 'response' in r && r.response.checks.model === 'evaluated')).toBe(true);
    for (let i = 0; i < items.length; i++) expect(batched[i], `transaction ${i}`).toEqual(sequential[i]);
  }, 120_000);
});
