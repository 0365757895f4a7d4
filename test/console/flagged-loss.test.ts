// Flagged decisions the case queue (Redis) refuses are held and retried, counted while they wait,
// and never dropped in silence: a bounded buffer gives up its oldest, a stopping engine what it
// still holds, each counted (leakguard_flagged_lost_total) and logged with the transactions' ids.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlaggedSink, type FlaggedQueue } from '../../services/cases/flagged.ts';
import type { FlaggedDecision } from '../../services/cases/model.ts';
import { scoreRequestSchema } from '../../services/core/schemas.ts';
import type { Runtime } from '../../services/runtime.ts';
import { scoreBody } from '../support/app.ts';
import { RedisServer } from '../support/redis-server.ts';
import { openRuntime } from '../support/runtime-on.ts';
import { until } from '../support/wait.ts';

/** A decision the default ruleset flags whatever the counters say: a security-code mismatch. */
const flaggedRequest = () =>
  scoreRequestSchema.parse(
    scoreBody({ card: { number: '4000056655665556', expiryMonth: 1, expiryYear: 2030, cvvResult: 'mismatch' } }),
  );

const metric = async (runtime: Runtime, name: string) =>
  (await runtime.metrics.registry.getSingleMetricAsString(name)).split('\n').filter((l) => !l.startsWith('#'));

describe('flagged decisions while Redis refuses them', () => {
  /** A Redis, and an engine runtime on it. */
  let world: { redis: RedisServer } & Awaited<ReturnType<typeof openRuntime>>;
  beforeEach(async () => {
    const redis = await RedisServer.start();
    world = { redis, ...(await openRuntime({ REDIS_URL: redis.url, LEAKGUARD_MODEL: 'off' })) };
  });
  afterEach(async () => {
    await world.dispose();
    await world.redis.stop();
  });

  it('holds them while Redis is down, counted, and queues them when it is back', async () => {
    await world.redis.kill();
    const req = flaggedRequest();
    const result = await world.runtime.engine.score('m1', req);
    expect(result.kind === 'scored' && result.response.decision).not.toBe('approve');
    expect(
      await until(
        () => metric(world.runtime, 'leakguard_flagged_waiting'),
        (m) => m.includes('leakguard_flagged_waiting 1'),
      ),
    ).toContain('leakguard_flagged_waiting 1');
    await world.redis.resume();
    expect(
      await until(
        () => world.runtime.flaggedQueue.pending().catch(() => 0),
        (n) => n === 1,
      ),
    ).toBe(1);
    expect(await metric(world.runtime, 'leakguard_flagged_waiting')).toContain('leakguard_flagged_waiting 0');
    expect(await metric(world.runtime, 'leakguard_flagged_lost_total')).not.toContainEqual(
      expect.stringMatching(/ [1-9]/),
    );
  });

  it('says which ones it gives up when it stops with Redis still down, and counts them', async () => {
    await world.redis.kill();
    const req = flaggedRequest();
    await world.runtime.engine.score('m1', req);
    expect(
      await until(
        () => metric(world.runtime, 'leakguard_flagged_waiting'),
        (m) => m.includes('leakguard_flagged_waiting 1'),
      ),
    ).toContain('leakguard_flagged_waiting 1');
    const started = Date.now();
    await world.close();
    // It kept trying for a while (FLAGGED_CLOSE_MS), not forever.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await metric(world.runtime, 'leakguard_flagged_lost_total')).toContain(
      'leakguard_flagged_lost_total{reason="shutdown"} 1',
    );
    const said = world.lines
      .map((l) => JSON.parse(l))
      .find((l) => l.msg?.startsWith('flagged decisions lost at shutdown'));
    expect(said).toMatchObject({
      level: 50,
      lost: 1,
      transactions: [{ merchantId: 'm1', transactionId: req.transactionId }],
    });
    // Ids only: nothing of the card.
    expect(JSON.stringify(said)).not.toContain('4000056655665556');
  });
});

it('keeps at most its limit of refused decisions, giving up the oldest first', async () => {
  const redis = await RedisServer.start();
  const { runtime, dispose } = await openRuntime({ REDIS_URL: redis.url, LEAKGUARD_MODEL: 'off' });
  try {
    const refusing: FlaggedQueue = {
      kind: 'redis-stream',
      publish: () => Promise.reject(new Error('Connection is closed.')),
      start: () => {},
      pending: async () => 0,
      stop: async () => {},
    };
    const lost: [string[], string][] = [];
    const sink = new FlaggedSink({
      cipher: { seal: (v: unknown) => v } as never,
      queue: refusing,
      onError: () => {},
      onLost: (decisions: FlaggedDecision[], reason) => lost.push([decisions.map((d) => d.transactionId), reason]),
      limit: 2,
    });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const req = flaggedRequest();
      ids.push(req.transactionId);
      const r = await runtime.engine.score('m1', req);
      if (r.kind !== 'scored' || !r.evidence) throw new Error('not scored');
      await sink.flag('m1', req, r.response, r.evidence).catch(() => {});
    }
    expect(sink.waiting()).toBe(2);
    expect(lost).toEqual([[[ids[0]], 'buffer_full']]);
    await sink.close(0);
    expect(lost).toEqual([
      [[ids[0]], 'buffer_full'],
      [[ids[1], ids[2]], 'shutdown'],
    ]);
  } finally {
    await dispose();
    await redis.stop();
  }
});
