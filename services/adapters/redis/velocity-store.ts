// Velocity store on Redis, one Redis or a Redis Cluster (docs/redis-cluster.md).
// One Redis: one FCALL per scored transaction (score.lua). A cluster: the transaction's marker
// is claimed first (claim.lua, with the watchlist entries read alongside), then every slot group
// is recorded and read by its own call (group.lua), all at once: the client pipelines them to
// their nodes, one round trip per node.
import {
  checkWithdrawalOrder,
  combineReading,
  encodeRawReading,
  firstListedSeconds,
  parseRawReading,
  outcomePlan,
  markedTransaction,
  tagOfInLogMember,
  retentionOf,
  SLOT_DEFINITIONS,
  type CounterPlan,
  type MarkedTransaction,
  type HitRecord,
  type RawReading,
  type SlotGroup,
  type StoreReading,
  type VelocityStore,
  type Retention,
  type CountingReference,
} from '../../core/velocity.ts';
import { CPP_ISSUER } from '../../core/watchlist.ts';
import type { EntityKind } from '../../core/entities.ts';
import { appendMarkerEntities, keptValue, markerEntities, MARKER_ENTITY_FIELDS } from '../../core/store-keys.ts';
import { REDIS_KEYS, watchlistBucketKey } from './keys.ts';
import type { Redis } from 'ioredis';
import { oversizedMember, type OversizedMember } from './compact-encoding.ts';
import { isCluster, type RedisClient } from './connection.ts';
import { isRedirection, isTryAgain, LuaLibrary, LuaScript, sendAlone } from './lua.ts';
import { refusesWrites } from '../store-unavailable.ts';
import { TurnBatch } from './turn-batch.ts';
import { watchlistKeys } from './watchlist-keys.ts';

/**
 * The velocity functions: the generated definitions and the shared core at the library's top
 * level (built once per load), each entry point a function (`score` on one Redis; `claim`, then
 * `group` per slot group, on a cluster).
 */
function velocityLibrary(): LuaLibrary {
  const file = (n: string) => LuaScript.file(n, import.meta.url).source;
  return new LuaLibrary(`${luaDefinitions()}${file('counters.lua')}`, {
    score: file('score.lua'),
    claim: file('claim.lua'),
    group: file('group.lua'),
  });
}

/** A claim still young without a kept reading is another engine counting it now: wait for its reading this long at most. */
const IN_FLIGHT_MS = 250;
const IN_FLIGHT_POLL_MS = 5;
/** Responses stored in one call at most (one Redis): a stream batch's, or what concluded within the gathering time. */
const RESPONSES_PER_CALL = 500;
/**
 * How long a response waits for others to be stored with it (one Redis; LEAKGUARD_RESPONSE_GATHER_MS).
 * At 1,000 scorings a second one call in five instead of one per scoring, each call a socket write
 * and a script run saved; a retry arriving meanwhile is answered from the kept reading, as one
 * arriving before the store's answer is.
 */
export const RESPONSE_GATHER_MS = 5;

/** Each definition's index in the library's DEF_LIST (luaDefinitions), as the shape writes it. */
const DEF_INDEX = new Map(Object.keys(SLOT_DEFINITIONS).map((name, i) => [name, String(i)]));

/**
 * A slot group as its function reads it (counters.lua parseGroup): its keys in the order its
 * operations use them (each operation takes the next, a delayed one two; `a`gain: the previous
 * operation's key once more, as the distinct counters kept in a card's log do: no key passed
 * twice), appended to `keys`; its operations' own values (members) appended to `values`; and its
 * shape, returned: each operation's definition (by index) and flags, the same for every
 * transaction of its kind, which Redis parses once and keeps. What every transaction shares
 * (windows, retention, caps) is in the library already (DEF_LIST); a cap differing from the
 * definition's travels in the shape.
 */
function appendGroup(group: SlotGroup, keys: string[], values: string[]): string {
  let shape = '';
  let lastKey: string | undefined;
  for (const op of group.ops) {
    shape += `${shape ? ',' : ''}${DEF_INDEX.get(op.def)!}`;
    if (op.key === lastKey) shape += 'a';
    else keys.push((lastKey = op.key));
    if ('write' in op && op.write) shape += 'w';
    if (op.op === 'distinct') {
      // Kept in the log: its members were written with the log's (`also`), read under their tag.
      if (op.inLog) shape += `t${tagOfInLogMember(op.member).slice(1)}`;
      else if (op.write) {
        shape += 'm';
        values.push(op.member);
      }
      if (op.union) shape += 'u';
      // `L` and how many: the member's forms under the previous key to retire, after the member itself.
      if (op.retire) {
        shape += `L${op.retire.length}`;
        values.push(op.member, ...op.retire);
      }
    }
    if (op.op === 'log' && op.write && op.distinctMembers.length > 0) {
      shape += `A${op.distinctMembers.length}`;
      for (const m of op.distinctMembers) values.push(m);
      // Each earlier form: `R` and the position (from 1) of its member among them; the form a value after them.
      for (const f of op.formerMembers) shape += `R${f.of + 1}`;
      for (const f of op.formerMembers) values.push(f.member);
    }
    if (op.op === 'delayed') keys.push((lastKey = op.frauds));
    if ('cap' in op && op.cap !== (SLOT_DEFINITIONS[op.def] as { cap?: number }).cap) shape += `c${op.cap}`;
  }
  return shape;
}

/**
 * The slot definitions as a Lua table literal ahead of counters.lua: in the script's source, never
 * sent (decoding a scoring's argument costs 30–50 µs, measured). Built at every call, so each
 * distinct list of windows is built once and shared (the script never changes them).
 */
function luaDefinitions(): string {
  const lists = new Map<string, string>();
  const lua = (v: unknown): string => {
    if (!Array.isArray(v)) return typeof v === 'string' ? `'${v}'` : String(v);
    const literal = `{${v.join(',')}}`;
    let name = lists.get(literal);
    if (!name) lists.set(literal, (name = `W${lists.size}`));
    return name;
  };
  // In DEF_INDEX's order, each entry named in a comment for whoever reads the loaded script.
  const entries = Object.entries(SLOT_DEFINITIONS).map(([name, d]) => {
    const fields = Object.entries(d).map(([k, v]) => `${k}=${lua(v)}`);
    return `--[[${name}]] {${fields.join(',')}}`;
  });
  const shared = [...lists].map(([literal, name]) => `local ${name} = ${literal}\n`).join('');
  return `${shared}local DEF_LIST = {${entries.join(',\n')}}\n`;
}

/**
 * The claim's arguments, in counters.lua claimFrom's order; `layout`: what a kept reading is filed
 * under; `claimedAt`: the claim time a cluster's retry reads to know the transaction is being
 * recorded ('' on one Redis, whose claim and recording are one atomic call: not written).
 */
function claimArgs(
  plan: CounterPlan,
  retention: Retention,
  layout: string,
  claimedAt: number | '',
): (string | number)[] {
  const { markerTtlMs, responseTtlMs } = retention;
  const args = [plan.payloadHash, plan.at, plan.tail, markerTtlMs, layout, claimedAt, responseTtlMs, 0];
  args[7] = appendMarkerEntities(plan.entities, args); // the count, then the fields and identities
  return args;
}

/**
 * The layout a reading kept by score.lua is filed under: the plan's, marked as packed (counters.lua
 * packReading), so that an engine expecting the text format (a previous version, the cluster path)
 * never reads one: it records again and reads afresh, which changes nothing already counted.
 */
const packedLayout = (plan: CounterPlan) => `${plan.layout}.p`;

/** score.lua's keys and arguments for a plan (one Redis, one call): text and numbers only, no Buffer, which would switch ioredis to building the whole command as bytes. */
function scoreArguments(plan: CounterPlan, retention: Retention): { keys: string[]; args: (string | number)[] } {
  const keys = [plan.marker, plan.response, plan.kept];
  const slots = plan.watch?.slots ?? [];
  for (const s of slots) keys.push(watchlistBucketKey(s.bucket));
  const values: string[] = [];
  let shape = '';
  for (const g of plan.groups) shape += `${shape ? '/' : ''}${appendGroup(g, keys, values)}`;
  return {
    keys,
    args: [
      shape,
      ...claimArgs(plan, retention, packedLayout(plan), ''),
      plan.ref,
      ...slots.map((s) => s.field.toString('hex')),
      ...values,
    ],
  };
}

/**
 * A reading kept by score.lua: packed (counters.lua packReading: a 0 byte, the entries' text with
 * its length, the group count, each group's end, then the numbers as doubles, big-endian), or text
 * (parseRawReading) when it holds a union's rows.
 */
function unpackReading(kept: Buffer): RawReading {
  if (kept.length === 0 || kept[0] !== 0) return parseRawReading(kept.toString('utf8'));
  let at = 1;
  const textLength = kept.readUInt16BE(at);
  const text = kept.toString('latin1', at + 2, at + 2 + textLength);
  at += 2 + textLength;
  const count = kept.readUInt16BE(at);
  at += 2;
  const ends: number[] = [];
  for (let i = 0; i < count; i++, at += 2) ends.push(kept.readUInt16BE(at));
  const groups: number[][] = [];
  let first = 0;
  for (const end of ends) {
    const group = new Array<number>(end - first);
    for (let j = 0; j < group.length; j++, at += 8) group[j] = kept.readDoubleBE(at);
    groups.push(group);
    first = end;
  }
  return { entries: text === '' ? [] : text.split(','), groups };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A transaction claimed, to be recorded: at its counting time, with its log member's tail. */
interface Claimed {
  status: 'new' | 'pending';
  at: number;
  tail: string;
  entries: (Buffer | null)[];
  /** Claimed a moment ago by another attempt that has not kept its reading yet. */
  inFlight: boolean;
}

/** A batch's plans in rounds: a plan repeating an earlier one's transaction goes one round later. */
export function rounds(plans: readonly CounterPlan[]): number[][] {
  const seen = new Map<string, number>();
  const out: number[][] = [];
  plans.forEach((plan, i) => {
    const round = seen.get(plan.marker) ?? 0;
    seen.set(plan.marker, round + 1);
    (out[round] ??= []).push(i);
  });
  return out;
}

/**
 * The reference currency the counters' amounts are in (VelocityStore.countingReference): one key of
 * its own slot, read and written by one script (single Redis and Redis Cluster alike). No time to
 * live: it must outlast every window it speaks of, and is a few bytes.
 */
export const REFERENCE_KEY = 'lg:{reference}:currency';
/** KEYS[1] REFERENCE_KEY; ARGV[1] the table's reference, ARGV[2] the one it may replace ('' none). */
const COUNTING_REFERENCE = new LuaScript(`
local recorded = redis.call('GET', KEYS[1])
if not recorded then redis.call('SET', KEYS[1], ARGV[1]); return {'recorded', ''} end
if recorded == ARGV[1] then return {'same', recorded} end
if ARGV[2] ~= '' and ARGV[2] == recorded then redis.call('SET', KEYS[1], ARGV[1]); return {'replaced', recorded} end
return {'mismatch', recorded}
`);

export class RedisVelocityStore implements VelocityStore {
  readonly keys = REDIS_KEYS;
  private readonly redis: RedisClient;
  private readonly cluster: boolean;
  private readonly velocity = velocityLibrary();
  private readonly hitScript = LuaScript.file('record-hit.lua', import.meta.url);
  private readonly outcome = LuaScript.file('outcome.lua', import.meta.url);
  private readonly storeResponse = LuaScript.file('store-response.lua', import.meta.url);
  /**
   * One Redis: the responses of the scorings that concluded within RESPONSE_GATHER_MS, stored by
   * one call (a response is off the critical path: until it is stored a retry recomputes the same
   * decision from the kept reading). A cluster: one call per transaction, the client pipelining them.
   */
  private readonly responses: TurnBatch<{ plan: CounterPlan; response: string }>;

  /** How long a transaction's marker and its stored response live (LEAKGUARD_MARKER_RETENTION_DAYS, LEAKGUARD_RESPONSE_RETENTION_HOURS). */
  private readonly retention: Retention;

  /** Told of a transaction whose log member Redis will not keep compact (compact-encoding.ts), once the limit is known (setMemberLimit). */
  private readonly onOversized: ((member: OversizedMember) => void) | undefined;
  private memberLimit: number | undefined;

  constructor(
    redis: RedisClient,
    options: { responseGatherMs?: number; onOversized?: (member: OversizedMember) => void } & Partial<Retention> = {},
  ) {
    this.redis = redis;
    this.retention = retentionOf(options);
    this.onOversized = options.onOversized;
    this.responses = new TurnBatch(
      (batch) =>
        this.storeResponse.run(
          this.redis,
          batch.flatMap(({ plan }) => [plan.response, plan.kept]),
          [this.retention.responseTtlMs, ...batch.map(({ response }) => response)],
        ),
      RESPONSES_PER_CALL,
      options.responseGatherMs ?? RESPONSE_GATHER_MS,
    );
    this.cluster = isCluster(redis);
    // Loaded now, so that the first scorings find it (a call finding it missing loads it too).
    this.velocity.load(redis).catch(() => {});
  }

  recordAndRead(plan: CounterPlan): Promise<StoreReading> {
    if (this.memberLimit !== undefined) this.checkCompact(plan, this.memberLimit);
    const reading = this.cluster ? this.recordAcrossSlots(plan) : this.recordInOneCall(plan);
    // Redis refuses writes (full, say): a transaction answered before is answered again from what
    // it stored (a retry keeps its decision, a reused id is still refused); others fail.
    return reading.catch(async (error: unknown) => {
      if (!refusesWrites(error)) throw error;
      const answered = await this.answeredBefore(plan);
      if (answered) return answered;
      throw error;
    });
  }

  /** A transaction's stored answer, read only: its replay, a conflict, or undefined (not answered yet). */
  private async answeredBefore(plan: CounterPlan): Promise<StoreReading | undefined> {
    // Marker and response share the transaction's slot; both read through any redirection.
    const [hash, stored] = await Promise.all([
      sendAlone<string | null>(this.redis, 'hget', [plan.marker, 'h']),
      sendAlone<string | null>(this.redis, 'get', [plan.response]),
    ]);
    if (hash === null) return undefined;
    if (hash !== plan.payloadHash) return { status: 'conflict' };
    return stored === null ? undefined : { status: 'replay', storedResponse: stored };
  }

  /**
   * A batch. One Redis: the scripts leave in the batch's order in one write and run in that
   * order. A cluster: every claim at once, then every slot group at once, issued in the batch's
   * order (each slot's node runs them in that order): one round trip per node per step. A plan
   * repeating an earlier one's transaction goes in a later round, after it.
   */
  async recordAndReadMany(plans: readonly CounterPlan[]): Promise<StoreReading[]> {
    const limit = this.memberLimit;
    if (limit !== undefined) for (const plan of plans) this.checkCompact(plan, limit);
    const readings: StoreReading[] = new Array(plans.length);
    for (const round of rounds(plans)) {
      const got = this.cluster
        ? await this.claimedThenRecorded(round.map((i) => plans[i]!))
        : await Promise.all(this.together(() => round.map((i) => this.recordInOneCall(plans[i]!))));
      round.forEach((i, j) => (readings[i] = got[j]!));
    }
    return readings;
  }

  /**
   * Commands issued together on the single-Redis connection leave in one write (a batch's scripts
   * and responses: one system call instead of one each). Only where all are issued at the same
   * moment: corking every tick made scorings wait for each other (connection.ts).
   */
  together<T>(issue: () => T): T {
    const socket = this.cluster ? undefined : (this.redis as Redis).stream;
    socket?.cork();
    try {
      return issue();
    } finally {
      socket?.uncork();
    }
  }

  /**
   * Redis's zset-max-listpack-value, read by whoever watches Redis (redis-watch.ts; undefined when it
   * cannot be read): from then on each plan's log member is checked against it, and onOversized told.
   */
  setMemberLimit(limit: number | undefined): void {
    this.memberLimit = this.onOversized ? limit : undefined;
  }

  private checkCompact(plan: CounterPlan, limit: number): void {
    const over = oversizedMember(limit, plan);
    if (over) this.onOversized!(over);
  }

  /** One Redis: everything in one atomic call (the reply in bytes: the kept reading is packed). */
  private async recordInOneCall(plan: CounterPlan): Promise<StoreReading> {
    const { keys, args } = scoreArguments(plan, this.retention);
    const reply = (await this.velocity.call(this.redis, 'score', keys, args, { buffers: true })) as (Buffer | null)[];
    return this.answer(plan, reply) ?? { status: 'pending' };
  }

  /** The answers every path shares: conflict, replay, or a reading (fresh or kept: text, or packed bytes from score.lua). */
  private answer(plan: CounterPlan, reply: (string | Buffer | null)[]): StoreReading | undefined {
    const text = (v: string | Buffer | null | undefined) => (Buffer.isBuffer(v) ? v.toString('utf8') : v);
    const [status, second, kept] = [text(reply[0]), text(reply[1]), reply[2]];
    if (status === 'conflict') return { status: 'conflict' };
    if (status === 'replay') return { status: 'replay', storedResponse: second! };
    if (!kept) return undefined;
    const t = Number(second);
    const raw = Buffer.isBuffer(kept) ? unpackReading(kept) : parseRawReading(kept);
    const reading: StoreReading = {
      status: status as 'new' | 'pending',
      ...combineReading(plan, raw, t),
    };
    if (status === 'pending') reading.countedAt = t;
    return reading;
  }

  /**
   * A cluster: claim, then every slot group at once. What makes it exactly-once across slots
   * (docs/redis-cluster.md): the claim is written first; every group's writes are idempotent
   * (members name the transaction, at its counting time, with the tail kept on the marker); a
   * retry that finds no kept reading records again, which changes nothing already recorded.
   */
  private async recordAcrossSlots(plan: CounterPlan): Promise<StoreReading> {
    for (let attempt = 0; ; attempt++) {
      const claimed = await this.claimOf(plan);
      if ('reading' in claimed) return claimed.reading;
      // Another engine claimed it a moment ago and is recording it: its reading (hence the same
      // decision) is a few milliseconds away.
      if (claimed.inFlight && attempt * IN_FLIGHT_POLL_MS < IN_FLIGHT_MS) {
        await sleep(IN_FLIGHT_POLL_MS);
        continue;
      }
      return this.recorded(plan, claimed);
    }
  }

  /** A cluster batch: the claims, then the groups of every transaction still to record, in order. */
  private async claimedThenRecorded(plans: CounterPlan[]): Promise<StoreReading[]> {
    const claims = await Promise.all(plans.map((p) => this.claimOf(p)));
    // Issued synchronously in the batch's order: each slot's node receives them in that order.
    return Promise.all(
      plans.map((plan, i) => {
        const c = claims[i]!;
        if ('reading' in c) return Promise.resolve(c.reading);
        // Another engine is recording it now (rare): waited for on its own, as a single scoring would.
        if (c.inFlight) return this.recordAcrossSlots(plan);
        return this.recorded(plan, c);
      }),
    );
  }

  /** The claim, with the watchlist entries read alongside: a reading when there is one already. */
  private async claimOf(plan: CounterPlan): Promise<{ reading: StoreReading } | Claimed> {
    const slots = plan.watch?.slots ?? [];
    const [claimed, entries] = await Promise.all([
      this.velocity.call(
        this.redis,
        'claim',
        [plan.marker, plan.response, plan.kept],
        claimArgs(plan, this.retention, plan.layout, Date.now()),
      ) as Promise<(string | null)[]>,
      Promise.all(
        slots.map((s) =>
          this.redis.hgetBuffer(watchlistBucketKey(s.bucket), s.field).catch((error: unknown) => {
            if (!isRedirection(error)) throw error;
            return sendAlone<Buffer | null>(this.redis, 'hget', [watchlistBucketKey(s.bucket), s.field], {
              buffers: true,
            });
          }),
        ),
      ),
    ]);
    const answered = this.answer(plan, claimed);
    if (answered) return { reading: answered };
    const [status, counted, , keptTail, claimedAt] = claimed;
    return {
      status: status as 'new' | 'pending',
      at: Number(counted),
      entries,
      tail: status === 'pending' ? (keptTail ?? plan.tail) : plan.tail,
      inFlight: status === 'pending' && Date.now() - Number(claimedAt) < IN_FLIGHT_MS,
    };
  }

  /** Records and reads every slot group of a claimed transaction (its calls leave synchronously). */
  private async recorded(plan: CounterPlan, claimed: Claimed): Promise<StoreReading> {
    const { status, at, tail, entries } = claimed;
    const since = firstListedSeconds(entries);
    const call = (g: SlotGroup) => {
      const keys: string[] = [],
        values: string[] = [];
      const shape = appendGroup(g, keys, values);
      const args = [shape, at, plan.ref, tail, since ?? '', ...values];
      return this.velocity.call(this.redis, 'group', keys, args, { splitOnTryAgain: true }) as Promise<string[]>;
    };
    const outputs = await Promise.all(
      plan.groups.map(async (g) => {
        try {
          return await call(g);
        } catch (error) {
          // The slot is being migrated with this identity's keys on both sides (TRYAGAIN: nothing
          // ran). Each operation reads and writes its own key (a log's, with the distinct
          // counters it keeps): run them key by key, which the client redirects (ASK), until the
          // migration is over. A group's operations on one key are adjacent (buildCounterPlan):
          // the numbers join in the group's order.
          const byKey = Map.groupBy(g.ops, (op) => op.key);
          if (byKey.size === 1 || !isTryAgain(error)) throw error;
          return (await Promise.all([...byKey.values()].map((ops) => call({ ops })))).flat();
        }
      }),
    );
    const raw: RawReading = { entries: entries.map((e) => e?.toString('hex') ?? ''), groups: outputs };
    // Kept for a retry until the response is stored; on the marker's node, before the response.
    sendAlone(this.redis, 'set', [
      plan.kept,
      keptValue(plan.layout, encodeRawReading(raw)),
      'PX',
      this.retention.responseTtlMs,
    ]).catch(() => {});
    const reading: StoreReading = { status, ...combineReading(plan, raw, at) };
    if (status === 'pending') reading.countedAt = at;
    return reading;
  }

  async saveResponse(plan: CounterPlan, response: string, hit?: HitRecord): Promise<void> {
    // Retries now replay the response: the reading kept for them, and a cluster's claim time, can
    // go. The transaction's keys share its slot.
    const stored = this.cluster
      ? this.storeResponse.run(
          this.redis,
          [plan.response, plan.kept, plan.marker],
          [this.retention.responseTtlMs, response],
        )
      : this.responses.add({ plan, response });
    const recorded = hit && hit.eventSeqs.length > 0 ? this.recordHit(hit) : undefined;
    await Promise.all([stored, recorded]);
  }

  private recordHit(hit: HitRecord): Promise<number> {
    const hitKeys = [
      ...hit.eventSeqs.flatMap((s) => [
        watchlistKeys.event(s),
        watchlistKeys.eventMerchants(s),
        watchlistKeys.eventHitTransactions(s),
      ]),
      ...hit.issuerIds.map((i) => watchlistKeys.hits(i)),
      watchlistKeys.binRanges,
    ];
    const arg = {
      transaction: `${hit.merchantId}:${hit.transactionId}`,
      merchant: hit.merchantId,
      now: Date.now(),
      hit: JSON.stringify(hit),
      events: hit.eventSeqs,
      issuers: hit.issuerIds,
      // An event counts the hit when its issuer is shown it (countsInEventStatistics): as the engine
      // decided (issuer ids, never more of the card), else by the 6-digit BIN against its ranges.
      ...(hit.shownTo ? { shownTo: hit.shownTo } : { bin: hit.bin }),
      everyHitIssuer: CPP_ISSUER,
    };
    return this.hitScript.run(this.redis, hitKeys, [JSON.stringify(arg)]) as Promise<number>;
  }

  /**
   * Exactly once across slots: the sets are joined first (idempotent: the member is the
   * transaction), the marker's `o:<outcome>` field last; a crash in between is repaired by the retry.
   */
  async recordOutcome(
    merchantId: string,
    transactionId: string,
    outcome: string,
    at: number,
  ): Promise<'recorded' | 'duplicate' | 'unknown'> {
    const marker = this.keys.marker(merchantId, transactionId);
    const marked = await this.marked(marker, [`o:${outcome}`]);
    if (!marked) return 'unknown';
    if (marked.also[0] !== null) return 'duplicate';
    const { entities, countedAt } = marked;
    await this.joinOutcome({ merchantId, transactionId, entities, countedAt: Number(countedAt) }, outcome, at);
    return (await sendAlone<number>(this.redis, 'hsetnx', [marker, `o:${outcome}`, String(at)])) === 1
      ? 'recorded'
      : 'duplicate';
  }

  async joinOutcome(
    { merchantId, transactionId, entities, countedAt, uncounted }: MarkedTransaction,
    outcome: string,
    at: number,
  ): Promise<void> {
    const p = outcomePlan(merchantId, transactionId, entities, outcome, this.keys, !uncounted);
    const join = (key: string, when: number, retention: number, cap: number) =>
      this.outcome.run(this.redis, [key], [JSON.stringify({ member: p.ref, at: when, retention, cap })]);
    await Promise.all([
      ...p.counted.map((key) => join(key, at, p.retentionMs, 0)),
      // Fraud labels join at the transaction's own time.
      ...p.labels.map((key) => join(key, countedAt, p.labelRetentionMs, p.labelCap)),
    ]);
  }

  /**
   * The mirror of recordOutcome: the sets and logs are left first (idempotent), the marker's
   * `o:<reversal>` field set last; a crash in between is repaired by the retry.
   */
  async withdrawOutcome(
    merchantId: string,
    transactionId: string,
    outcome: string,
    reversal: string,
    at: number,
  ): Promise<'recorded' | 'duplicate' | 'absent' | 'unknown'> {
    const marker = this.keys.marker(merchantId, transactionId);
    const marked = await this.marked(marker, [`o:${outcome}`, `o:${reversal}`]);
    if (!marked) return 'unknown';
    const [recorded, reversed] = marked.also;
    if (reversed !== null) return 'duplicate';
    if (recorded === null) return 'absent';
    checkWithdrawalOrder(reversal, outcome, at, recorded);
    const { entities, countedAt } = marked;
    await this.leaveOutcome({ merchantId, transactionId, entities, countedAt: Number(countedAt) }, outcome);
    return (await sendAlone<number>(this.redis, 'hsetnx', [marker, `o:${reversal}`, String(at)])) === 1
      ? 'recorded'
      : 'duplicate';
  }

  /** One ZREM per set or log: each command is one key, so one slot, on a cluster as on one Redis. */
  async leaveOutcome(
    { merchantId, transactionId, entities, uncounted }: MarkedTransaction,
    outcome: string,
  ): Promise<void> {
    const p = outcomePlan(merchantId, transactionId, entities, outcome, this.keys, !uncounted);
    await Promise.all([...p.counted, ...p.labels].map((key) => sendAlone<number>(this.redis, 'zrem', [key, p.ref])));
  }

  async transactionOf(merchantId: string, transactionId: string): Promise<{ card: string; at: number } | undefined> {
    const marked = await this.marked(this.keys.marker(merchantId, transactionId));
    return markedTransaction(marked?.entities, marked?.countedAt);
  }

  /**
   * A marker's counting time, entities and the further fields asked for (undefined: no marker). Sent
   * alone: followed through redirections (not on the hot path). A marker written before each
   * entity had a field of its own holds them as JSON in `e`, for its 35 days.
   */
  private async marked(
    marker: string,
    also: readonly string[] = [],
  ): Promise<
    { countedAt: string | null; entities: Partial<Record<EntityKind, string>>; also: (string | null)[] } | undefined
  > {
    const fields = ['h', 't', 'e', ...MARKER_ENTITY_FIELDS.map(([, field]) => field), ...also];
    const values = await sendAlone<(string | null)[]>(this.redis, 'hmget', [marker, ...fields]);
    const [hash, countedAt, legacy] = values;
    if (hash === null || hash === undefined) return undefined;
    const entities = legacy
      ? (JSON.parse(legacy) as Partial<Record<EntityKind, string>>)
      : markerEntities(values.slice(3, 3 + MARKER_ENTITY_FIELDS.length));
    const base = 3 + MARKER_ENTITY_FIELDS.length;
    return { countedAt: countedAt ?? null, entities, also: also.map((_, i) => values[base + i] ?? null) };
  }

  async countingReference(currency: string, replacing?: string): Promise<CountingReference> {
    const [result, recorded] = (await COUNTING_REFERENCE.run(
      this.redis,
      [REFERENCE_KEY],
      [currency, replacing ?? ''],
    )) as [CountingReference['result'], string];
    return { result, recorded: recorded === '' ? undefined : recorded };
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    await this.responses.drain();
    this.redis.disconnect();
  }
}
