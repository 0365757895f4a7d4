// The flagged-decision queue on a Redis stream (`lg:flagged`, consumer group `cases`). A message
// is acknowledged (XACK, then XDEL) only after its case row is committed; while PostgreSQL is
// down the consumer backs off and re-reads its pending messages, and a consumer that died leaves
// its pending messages to be claimed by another after a minute (XAUTOCLAIM). One key: works on a
// Redis Cluster as on a single Redis (the consumer is the client's duplicate, Cluster or not).
import { hostname } from 'node:os';
import { whenReady, type RedisClient } from './connection.ts';
import {
  DEFAULT_BACKOFF,
  FLAGGED_BATCH,
  FLAGGED_LINGER_MS,
  parseFlagged,
  Pause,
  sleep,
  type Backoff,
  type FlaggedQueue,
} from '../../cases/flagged.ts';
import type { FlaggedDecision } from '../../cases/model.ts';

export const FLAGGED_STREAM = 'lg:flagged';
export const FLAGGED_GROUP = 'cases';

type StreamEntries = [id: string, fields: string[]][];

export class RedisFlaggedQueue implements FlaggedQueue {
  readonly kind = 'redis-stream' as const;
  private readonly redis: RedisClient;
  private consumer: RedisClient | undefined;
  private readonly consumerName = `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly backoff: Backoff;
  private readonly claimIdleMs: number;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly linger = new Pause();

  /** `redis` publishes; a duplicate connection does the blocking reads. */
  constructor(redis: RedisClient, options: { backoff?: Backoff; claimIdleMs?: number } = {}) {
    this.redis = redis;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.claimIdleMs = options.claimIdleMs ?? 60_000;
  }

  async publish(flagged: FlaggedDecision): Promise<void> {
    await this.redis.xadd(FLAGGED_STREAM, 'MAXLEN', '~', '5000000', '*', 'f', JSON.stringify(flagged));
  }

  start(handler: (batch: FlaggedDecision[]) => Promise<void>, onError: (error: unknown) => void): void {
    if (this.running) return;
    this.running = true;
    const consumer: RedisClient = this.redis.duplicate();
    consumer.on('error', () => {});
    this.consumer = consumer;
    this.loop = (async () => {
      let delay = this.backoff.initialMs;
      let groupReady = false;
      let backlog = true; // our own pending entries first: delivered before, never acknowledged
      let lastClaim = 0;
      while (this.running) {
        try {
          // Commands are not queued while connecting (enableOfflineQueue off): wait for the link.
          if (consumer.status !== 'ready') await whenReady(consumer, 5_000);
          if (!groupReady) {
            await consumer.xgroup('CREATE', FLAGGED_STREAM, FLAGGED_GROUP, '0', 'MKSTREAM').catch((e: Error) => {
              if (!/BUSYGROUP/.test(e.message)) throw e;
            });
            groupReady = true;
          }
          let entries: StreamEntries = [];
          if (Date.now() - lastClaim > this.claimIdleMs / 2) {
            lastClaim = Date.now();
            const claimed = (await consumer.xautoclaim(
              FLAGGED_STREAM,
              FLAGGED_GROUP,
              this.consumerName,
              this.claimIdleMs,
              '0-0',
              'COUNT',
              FLAGGED_BATCH,
            )) as [string, StreamEntries];
            entries = claimed[1] ?? [];
          }
          if (entries.length === 0) {
            const reply = (await consumer.xreadgroup(
              'GROUP',
              FLAGGED_GROUP,
              this.consumerName,
              'COUNT',
              FLAGGED_BATCH,
              'BLOCK',
              backlog ? 1 : 1000,
              'STREAMS',
              FLAGGED_STREAM,
              backlog ? '0' : '>',
            )) as [string, StreamEntries][] | null;
            entries = reply?.[0]?.[1] ?? [];
            if (backlog && entries.length === 0) backlog = false;
          }
          if (entries.length > 0 && this.running) {
            const batch: FlaggedDecision[] = [];
            for (const [id, fields] of entries) {
              const json = fields[fields.indexOf('f') + 1];
              const flagged = fields.length >= 2 && json ? parseFlagged(json) : null;
              // A message that can never become a case (unparseable) is dropped, not retried forever.
              if (flagged) batch.push(flagged);
              else onError(new Error(`dropping unreadable flagged message ${id}`));
            }
            if (batch.length > 0) await handler(batch);
            const ids = entries.map(([id]) => id);
            await consumer
              .multi()
              .xack(FLAGGED_STREAM, FLAGGED_GROUP, ...ids)
              .xdel(FLAGGED_STREAM, ...ids)
              .exec();
          }
          delay = this.backoff.initialMs;
          if (entries.length > 0 && entries.length < FLAGGED_BATCH && this.running)
            await this.linger.wait(FLAGGED_LINGER_MS);
        } catch (error) {
          if (!this.running) break;
          onError(error);
          backlog = true;
          await sleep(delay);
          delay = Math.min(delay * 2, this.backoff.maxMs);
        }
      }
    })();
  }

  async pending(): Promise<number> {
    // Everything still in the stream is unacknowledged (acknowledged entries are deleted).
    return this.redis.xlen(FLAGGED_STREAM);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.linger.cancel();
    this.consumer?.disconnect();
    await Promise.race([this.loop, sleep(3_000)]);
  }
}
