// Velocity store on Redis: one EVALSHA per scored transaction (record-and-read.lua).
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import {
  keys, outcomePlan, readingFrom, RESPONSE_TTL_MS,
  type CounterPlan, type HitRecord, type StoreReading, type VelocityStore,
} from '../../core/velocity.ts';

export const script = (name: string) => readFileSync(new URL(name, import.meta.url), 'utf8');

declare module 'ioredis' {
  interface RedisCommander<Context> {
    lgRecordAndRead(...args: (string | number)[]): Promise<string[]>;
    lgRecordOutcome(...args: (string | number)[]): Promise<string>;
    lgFinalize(...args: (string | number)[]): Promise<number>;
  }
}

export function connectRedis(url: string, options: { connectTimeoutMs?: number } = {}): Redis {
  return new Redis(url, {
    // Fail fast instead of queueing: scoring has a deadline and falls back to a degraded answer.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    lazyConnect: false,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
    // Concurrent requests' commands leave in one socket write: fewer syscalls per scoring.
    enableAutoPipelining: true,
  });
}

/** Resolves once the connection is ready (commands are not queued while connecting). */
export function whenReady(redis: Redis, timeoutMs = 5000): Promise<Redis> {
  if (redis.status === 'ready') return Promise.resolve(redis);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis not reachable within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(redis);
    };
    redis.once('ready', onReady);
  });
}

export class RedisVelocityStore implements VelocityStore {
  private readonly redis: Redis;

  constructor(redis: Redis) {
    this.redis = redis;
    redis.defineCommand('lgRecordAndRead', { lua: script('record-and-read.lua') });
    redis.defineCommand('lgRecordOutcome', { lua: script('record-outcome.lua') });
    redis.defineCommand('lgFinalize', { lua: script('finalize.lua') });
  }

  async recordAndRead(plan: CounterPlan): Promise<StoreReading> {
    const keyList: string[] = [plan.marker, plan.response];
    const index = new Map<string, number>();
    const ref = (key: string) => {
      let i = index.get(key);
      if (i === undefined) {
        keyList.push(key);
        i = keyList.length; // Lua arrays start at 1
        index.set(key, i);
      }
      return i;
    };
    const ops = plan.ops.map((op) => {
      switch (op.op) {
        case 'log': return ['log', ref(op.write), op.read.map(ref), op.member, op.retentionMs, op.cap, op.counts, op.amounts, op.smalls];
        case 'distinct': return ['distinct', ref(op.write), op.read.map(ref), op.member, op.retentionMs, 0, op.windows];
        case 'count': return ['count', 0, op.read.map(ref), '', 0, 0, op.windows];
        case 'delayed': return ['delayed', ref(op.write), op.read.map(ref), op.member, op.retentionMs, op.cap, op.delayMs, op.windows, op.frauds.map(ref)];
      }
    });
    const w = plan.watch
      ? { slots: plan.watch.slots.map((s) => [ref(s.bucket), s.field.toString('hex')]), logs: plan.watch.cardLogs.map(ref) }
      : undefined;
    const n = plan.lists ? [...plan.lists.negative.map((g) => g.keys.map(ref)), plan.lists.allow.map(ref)] : undefined;
    const arg = JSON.stringify({ h: plan.payloadHash, t: plan.at, e: plan.entitiesJson, mt: plan.markerTtlMs, l: plan.layout, ops, ...(w ? { w } : {}), ...(n ? { n } : {}) });
    const [status, stored, ...values] = await this.redis.lgRecordAndRead(keyList.length, ...keyList, arg);
    if (status === 'conflict') return { status: 'conflict' };
    if (status === 'replay') return { status: 'replay', storedResponse: stored! };
    let at = plan.features.length;
    const reading: StoreReading = { status: status as 'new' | 'pending', velocity: readingFrom(plan, values.slice(0, at).map(Number)) };
    if (status === 'pending' && stored) reading.countedAt = Number(stored);
    if (plan.watch) {
      const found = values.slice(at, at + plan.watch.slots.length);
      reading.watchlist = { entries: found.map((hex) => (hex ? Buffer.from(hex, 'hex') : null)), usesSinceListed: Number(values[at + plan.watch.slots.length] ?? 0) };
      at += plan.watch.slots.length + 1;
    }
    if (plan.lists) reading.lists = values.slice(at, at + plan.lists.negative.length + 1).map((v) => v === '1');
    return reading;
  }

  async saveResponse(plan: CounterPlan, response: string, hit?: HitRecord): Promise<void> {
    await this.redis.lgFinalize(
      2, plan.response, plan.marker, response, RESPONSE_TTL_MS,
      hit ? JSON.stringify(hit) : '', hit?.merchantId ?? '', Date.now(), hit?.eventSeqs.join(',') ?? '', hit?.issuerIds.join(',') ?? '',
    );
  }

  async recordOutcome(merchantId: string, transactionId: string, outcome: string, at: number): Promise<'recorded' | 'duplicate' | 'unknown'> {
    const marker = keys.marker(merchantId, transactionId);
    const entitiesJson = await this.redis.hget(marker, 'e');
    if (entitiesJson === null) return 'unknown';
    const p = outcomePlan(entitiesJson, outcome);
    const result = await this.redis.lgRecordOutcome(
      1 + p.counted.length + p.labels.length, marker, ...p.counted, ...p.labels,
      outcome, `${merchantId}:${transactionId}`, at, p.retentionMs, p.counted.length, p.labelRetentionMs, p.labelCap,
    );
    return result as 'recorded' | 'duplicate' | 'unknown';
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
