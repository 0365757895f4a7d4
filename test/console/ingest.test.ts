// Flagged decisions reach the case store through the durable queue: a Redis stream in front of a
// real PostgreSQL that is stopped while decisions are flagged, then restarted. Every case
// arrives, none twice. Embedded mode (in-process queue, PGlite) flags the same way.
import { appendFileSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../services/config.ts';
import { createLogger } from '../../services/logger.ts';
import { createRuntime, type Runtime } from '../../services/runtime.ts';
import { FLAGGED_STREAM } from '../../services/adapters/redis/flagged-queue.ts';
import { caseQuerySchema, type CaseStore, type FlaggedDecision } from '../../services/cases/model.ts';
import { scoreRequestSchema, type ScoreRequestInput } from '../../services/core/schemas.ts';
import { TEST_CARD_KEY } from '../support/app.ts';
import { PostgresServer } from '../support/postgres-server.ts';
import { RedisServer } from '../support/redis-server.ts';
import { flagged } from './fixtures.ts';
import { JournalFlaggedQueue } from '../../services/adapters/files/journal-flagged-queue.ts';
import { CaseIngester, FLAGGED_BATCH, MemoryFlaggedQueue } from '../../services/cases/flagged.ts';

const CARD = { number: '5555555555554444', expiryMonth: 12, expiryYear: 2030, cvvResult: 'mismatch' } as const;
const order = (id: string, over: Partial<ScoreRequestInput> = {}) =>
  scoreRequestSchema.parse({
    transactionId: id,
    amount: 2500,
    currency: 'EUR',
    channel: 'ecommerce',
    card: CARD,
    customer: { email: 'x@example.com' },
    device: { id: 'dev-1', ip: '198.51.100.4' },
    ...over,
  });

function runtimeWith(env: Record<string, string>): { runtime: Runtime; logs: string[] } {
  const logs: string[] = [];
  const config = loadConfig({
    LEAKGUARD_STATE_DIR: mkdtempSync(join(tmpdir(), 'lg-ingest-')),
    LEAKGUARD_CARD_KEY: TEST_CARD_KEY,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    ...env,
  });
  return {
    runtime: createRuntime(config, createLogger(config.LOG_LEVEL, { write: (l: string) => logs.push(l) })),
    logs,
  };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out');
}

describe('Redis stream in front of a real PostgreSQL', () => {
  let redis: RedisServer;
  let pg: PostgresServer;
  let runtime: Runtime;
  let logs: string[];
  beforeAll(async () => {
    [redis, pg] = await Promise.all([RedisServer.start(), PostgresServer.start()]);
    ({ runtime, logs } = runtimeWith({ REDIS_URL: redis.url, DATABASE_URL: pg.url }));
    expect(await runtime.waitForStores()).toBe(true);
    await runtime.openCases();
  });
  afterAll(async () => {
    await runtime?.close();
    await Promise.all([redis?.stop(), pg?.stop()]);
  });

  it('makes a case of every non-approve decision, with the masked card only', async () => {
    const approved = await runtime.engine.score('shop-a', order('ok-1', { card: { ...CARD, cvvResult: 'match' } }));
    const flaggedResult = await runtime.engine.score('shop-a', order('flag-1'));
    expect(approved.kind === 'scored' && approved.response.decision).toBe('approve');
    expect(flaggedResult.kind === 'scored' && flaggedResult.response.decision).not.toBe('approve');
    await runtime.flaggedSink.drain();
    await runtime.cases!.ingester.idle();
    const c = await runtime.cases!.store.getByTransaction('shop-a', 'flag-1');
    expect(c).toMatchObject({ status: 'open', card: { bin: '555555', last4: '4444' }, reasonCodes: ['CVV_MISMATCH'] });
    expect(c!.links.device).toBeTruthy();
    expect(JSON.stringify(c)).not.toContain('5555555555554444');
    expect(await runtime.cases!.store.getByTransaction('shop-a', 'ok-1')).toBeUndefined();
    // Scoring the same transaction again (an idempotent retry) does not make a second case.
    await runtime.engine.score('shop-a', order('flag-1'));
    await runtime.flaggedSink.drain();
    await runtime.cases!.ingester.idle();
    expect((await runtime.cases!.store.list(caseQuerySchema.parse({ merchant: 'shop-a', status: 'all' }))).total).toBe(
      1,
    );
  });

  it('keeps flagged decisions in the stream while PostgreSQL is down and delivers each once after', async () => {
    const store = runtime.cases!.store;
    const before = await store.count();
    await pg.halt('fast');
    const ids = Array.from({ length: 30 }, (_, i) => `down-${i}`);
    for (const id of ids) await runtime.engine.score('shop-b', order(id, { device: { id: `dev-${id}` } }));
    // A redelivered duplicate (at-least-once) must not become a second case either.
    await runtime.flaggedQueue.publish(flagged({ merchantId: 'shop-b', transactionId: 'down-0' }));
    await runtime.flaggedSink.drain();
    await new Promise((r) => setTimeout(r, 500));
    const queued = await runtime.flaggedQueue.pending();
    expect(queued).toBeGreaterThanOrEqual(30);
    await pg.resume();
    await waitFor(async () => (await runtime.flaggedQueue.pending()) === 0);
    const cases = await store.list(caseQuerySchema.parse({ merchant: 'shop-b', status: 'all', pageSize: 200 }));
    expect(cases.items.map((c) => c.transactionId).sort()).toEqual([...ids].sort());
    expect(await store.count()).toBe(before + 30);
    expect(logs.join('')).toMatch(/case system: will retry/);
  });

  it('picks up messages left pending by a consumer that died', async () => {
    const { RedisFlaggedQueue } = await import('../../services/adapters/redis/flagged-queue.ts');
    const { connectRedis } = await import('../../services/adapters/redis/connection.ts');
    const conn = connectRedis(redis.url);
    conn.on('error', () => {});
    await new Promise((r) => conn.once('ready', r));
    await runtime.cases!.ingester.stop();
    // A consumer reads one message and dies before acknowledging it.
    const dying = new RedisFlaggedQueue(conn);
    await dying.publish(flagged({ merchantId: 'shop-c', transactionId: 'orphan-1' }));
    await new Promise<void>((resolve) =>
      dying.start(
        async () => {
          resolve();
          throw new Error('crash');
        },
        () => {},
      ),
    );
    await dying.stop();
    expect(await conn.xlen(FLAGGED_STREAM)).toBe(1);
    // Another consumer claims it once it has been idle long enough.
    const rescuer = new RedisFlaggedQueue(conn, { claimIdleMs: 200 });
    await new Promise((r) => setTimeout(r, 300));
    const seen: string[] = [];
    rescuer.start(
      async (batch) => {
        seen.push(...batch.map((f) => f.transactionId));
        await runtime.cases!.store.createManyFromFlagged(batch);
      },
      () => {},
    );
    await waitFor(async () => (await conn.xlen(FLAGGED_STREAM)) === 0, 10_000);
    await rescuer.stop();
    conn.disconnect();
    expect(seen).toEqual(['orphan-1']);
    expect(await runtime.cases!.store.getByTransaction('shop-c', 'orphan-1')).toBeDefined();
  });
});

describe('negative lists on Redis', () => {
  it('stores confirmed-fraud entities and card allow-lists under the keys the engine will read, with a TTL', async () => {
    const { REDIS_KEYS } = await import('../../services/adapters/redis/keys.ts');
    const negativeKey = REDIS_KEYS.negative;
    const allowKey = REDIS_KEYS.allow;
    const { RedisNegativeListStore } = await import('../../services/adapters/redis/negative-list-store.ts');
    const { connectRedis } = await import('../../services/adapters/redis/connection.ts');
    const server = await RedisServer.start();
    const conn = connectRedis(server.url);
    conn.on('error', () => {});
    await new Promise((r) => conn.once('ready', r));
    try {
      const lists = new RedisNegativeListStore(conn);
      await lists.add('device', 'dev-id', 60_000, 7);
      await lists.add('shipping', 'ship-id', 50, 7);
      await lists.allowCard('m1', 'fp-1', 60_000, 8);
      expect(await conn.get(negativeKey('device', 'dev-id'))).toBe('7');
      expect(await conn.pttl(negativeKey('device', 'dev-id'))).toBeGreaterThan(59_000);
      expect(await conn.get(allowKey('m1', 'fp-1'))).toBe('8');
      expect(await lists.matches({ device: ['other', 'dev-id'], email: ['dev-id'] })).toEqual(['device']);
      expect(await lists.isCardAllowed('m1', ['fp-0', 'fp-1'])).toBe(true);
      expect(await lists.isCardAllowed('m2', ['fp-1'])).toBe(false);
      await new Promise((r) => setTimeout(r, 100));
      expect(await lists.matches({ shipping: ['ship-id'] })).toEqual([]);
    } finally {
      conn.disconnect();
      await server.stop();
    }
  });
});

describe('embedded mode: the journal queue', () => {
  it('keeps what was published and not yet a case across a crash, in order, and nothing twice', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lg-journal-')), 'state', 'flagged.journal');
    const first = new JournalFlaggedQueue(path);
    const [a, b, c] = [
      flagged({ transactionId: 'j-a' }),
      flagged({ transactionId: 'j-b' }),
      flagged({ transactionId: 'j-c' }),
    ];
    await first.publish(a);
    const handled: string[][] = [];
    first.start(
      async (batch) => {
        handled.push(batch.map((f) => f.transactionId));
        if (handled.length === 1) return;
        throw new Error('database down');
      },
      () => {},
    );
    await waitFor(async () => (await first.pending()) === 0);
    for (const f of [b, c]) await first.publish(f);
    await waitFor(async () => handled.length >= 2);
    expect(handled[0]).toEqual(['j-a']);
    expect(handled[1]![0]).toBe('j-b');
    // The process dies here: no stop(), no flush. A torn line as a crash mid-write would leave.
    const size = statSync(path).size;
    appendFileSync(path, '{"add":{"merchantId":"m1","transa');
    const second = new JournalFlaggedQueue(path);
    expect(second.torn).toMatchObject({ path, offset: size, bytes: 33, reason: 'no line break at its end' });
    expect(await second.pending()).toBe(2);
    const again: string[][] = [];
    second.start(
      async (batch) => void again.push(batch.map((f) => f.transactionId)),
      () => {},
    );
    await waitFor(async () => (await second.pending()) === 0);
    // What waited is handed over as one batch, in order.
    expect(again).toEqual([['j-b', 'j-c']]);
    await second.stop();
    await first.stop();
    const third = new JournalFlaggedQueue(path);
    expect(await third.pending()).toBe(0);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await third.stop();
  });

  it('hands over what waits in batches of at most FLAGGED_BATCH, in order, and a failed batch again whole', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lg-journal-')), 'state', 'flagged.journal');
    const queue = new JournalFlaggedQueue(path, { backoff: { initialMs: 10, maxMs: 10 } });
    const all = Array.from({ length: 250 }, (_, i) => flagged({ transactionId: `jb-${i}` }));
    for (const f of all) await queue.publish(f);
    const batches: string[][] = [];
    queue.start(
      async (batch) => {
        batches.push(batch.map((f) => f.transactionId));
        if (batches.length === 2) throw new Error('database down');
      },
      () => {},
    );
    await waitFor(async () => (await queue.pending()) === 0);
    await queue.stop();
    expect(FLAGGED_BATCH).toBe(100);
    expect(batches.map((b) => b.length)).toEqual([100, 100, 100, 50]);
    expect(batches[2]).toEqual(batches[1]);
    expect([...batches[0]!, ...batches.slice(2).flat()]).toEqual(all.map((f) => f.transactionId));
    const reopened = new JournalFlaggedQueue(path);
    expect(await reopened.pending()).toBe(0);
    await reopened.stop();
  });

  it('sets aside a decision the database refuses for its data, making the cases of the rest; retries any other error', async () => {
    const queue = new MemoryFlaggedQueue({ backoff: { initialMs: 10, maxMs: 10 } });
    const stored: string[] = [];
    let outages = 1;
    // A database that cannot store one value (SQLSTATE 22P05), and is down once (08006: retried, not refused).
    const store = {
      createManyFromFlagged: async (batch: readonly FlaggedDecision[]) => {
        if (outages > 0 && batch.length > 1) {
          outages--;
          throw Object.assign(new Error('connection lost'), { code: '08006' });
        }
        if (batch.some((f) => f.transactionId === 'poison'))
          throw Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05' });
        stored.push(...batch.map((f) => f.transactionId));
        return batch.map((_, i) => ({ id: stored.length - batch.length + i + 1, created: true }));
      },
    } as unknown as CaseStore;
    const ingester = new CaseIngester(queue, store);
    const refused: string[] = [];
    ingester.start(
      () => {},
      undefined,
      (f, error) => refused.push(`${f.transactionId}: ${(error as { code: string }).code}`),
    );
    for (const id of ['a', 'b', 'poison', 'c']) await queue.publish(flagged({ transactionId: id }));
    await waitFor(async () => (await queue.pending()) === 0);
    await waitFor(async () => stored.length === 3);
    const afterward = flagged({ transactionId: 'd' });
    await queue.publish(afterward);
    await waitFor(async () => stored.includes('d'));
    await ingester.stop();
    expect(stored).toEqual(['a', 'b', 'c', 'd']);
    expect(refused).toEqual(['poison: 22P05']);
    expect([ingester.created, ingester.refused, ingester.failures]).toEqual([4, 1, 1]);
  });

  it('counts and announces the cases made one by one before a transient error, which the retry finds as duplicates', async () => {
    const queue = new MemoryFlaggedQueue({ backoff: { initialMs: 10, maxMs: 10 } });
    const stored = new Map<string, number>();
    let outages = 1;
    // A batch refused for one value (22P05), then the connection lost (08006) after "a" was stored alone.
    const store = {
      createManyFromFlagged: async (batch: readonly FlaggedDecision[]) => {
        if (batch.length > 1 && batch.some((f) => f.transactionId === 'poison'))
          throw Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05' });
        if (batch[0]!.transactionId === 'poison')
          throw Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05' });
        if (batch[0]!.transactionId === 'b' && outages-- > 0)
          throw Object.assign(new Error('connection lost'), { code: '08006' });
        return batch.map((f) => {
          const known = stored.get(f.transactionId);
          if (known !== undefined) return { id: known, created: false };
          stored.set(f.transactionId, stored.size + 1);
          return { id: stored.size, created: true };
        });
      },
    } as unknown as CaseStore;
    const ingester = new CaseIngester(queue, store);
    const announced: string[] = [];
    // Queued before the ingester starts: one batch of three.
    for (const id of ['a', 'poison', 'b']) await queue.publish(flagged({ transactionId: id }));
    ingester.start(
      () => {},
      (id, f) => announced.push(`${id}:${f.transactionId}`),
      () => {},
    );
    await waitFor(async () => (await queue.pending()) === 0);
    await ingester.stop();
    expect([...stored.keys()]).toEqual(['a', 'b']);
    expect(announced).toEqual(['1:a', '2:b']);
    expect([ingester.created, ingester.duplicates, ingester.refused, ingester.failures]).toEqual([2, 1, 2, 1]);
  });

  it('hands over the first decision after a quiet spell alone, and lets the next ones gather into one batch', async () => {
    const queue = new MemoryFlaggedQueue();
    const batches: string[][] = [];
    queue.start(
      async (batch) => void batches.push(batch.map((f) => f.transactionId)),
      () => {},
    );
    try {
      await queue.publish(flagged({ transactionId: 'q-1' }));
      await waitFor(async () => batches.length === 1);
      // Published while the queue lingers after its batch of one (FLAGGED_LINGER_MS).
      for (const id of ['q-2', 'q-3', 'q-4']) await queue.publish(flagged({ transactionId: id }));
      await waitFor(async () => (await queue.pending()) === 0);
      expect(batches).toEqual([['q-1'], ['q-2', 'q-3', 'q-4']]);
    } finally {
      await queue.stop();
    }
  });

  // PGlite's first start runs initdb in a child process: slow on a busy machine.
  it(
    'restarts an embedded engine killed before its flagged decisions became cases, and makes them cases',
    { timeout: 180_000 },
    async () => {
      const stateDir = mkdtempSync(join(tmpdir(), 'lg-journal-rt-'));
      const { runtime: before } = runtimeWith({ LEAKGUARD_STATE_DIR: stateDir });
      await before.waitForStores();
      await before.engine.score('shop-j', order('crash-1'));
      await before.flaggedSink.drain();
      expect(await before.flaggedQueue.pending()).toBe(1);
      // Dropped without close(): the in-process queue is gone, the journal is not.
      const { runtime: after } = runtimeWith({ LEAKGUARD_STATE_DIR: stateDir });
      await after.waitForStores();
      const cases = await after.openCases();
      await cases.ingester.idle();
      expect(await cases.store.getByTransaction('shop-j', 'crash-1')).toMatchObject({ status: 'open' });
      expect(await after.flaggedQueue.pending()).toBe(0);
      await after.close();
      await before.close();
    },
  );
});

describe('embedded mode: in-process queue feeding PGlite', () => {
  let runtime: Runtime;
  beforeAll(async () => {
    ({ runtime } = runtimeWith({}));
    await runtime.waitForStores();
  });
  afterAll(() => runtime?.close());

  it(
    'queues decisions flagged before the database is open and stores them once it is',
    { timeout: 180_000 },
    async () => {
      await runtime.engine.score('shop-e', order('early-1'));
      await runtime.flaggedSink.drain();
      expect(await runtime.flaggedQueue.pending()).toBe(1);
      const cases = await runtime.openCases();
      await cases.ingester.idle();
      expect(await cases.store.getByTransaction('shop-e', 'early-1')).toMatchObject({ status: 'open' });
    },
  );
});
