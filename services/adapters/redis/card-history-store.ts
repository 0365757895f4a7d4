// The card histories in Redis or Redis Cluster (keys.ts HISTORY_KEYS). A batch of visits is one
// script per card and per merchant key touched (each one slot), one PFADD per week and one
// latest-time update: written off the scoring path, paced (KEYS_PER_SCRIPT), each following redirections.
import pMap from 'p-map';
import type { CardVisit } from '../../core/cpp.ts';
import { subIdentities, subIdentity } from '../../core/velocity.ts';
import {
  FRAUD_SOURCES,
  episodesSince,
  HISTORY_DEFAULTS,
  labelDay,
  slotOf,
  weekOf,
  weeksBetween,
  type CardHistoryStore,
  type ExposedCard,
  type FraudLabel,
  type FraudSource,
  type FraudulentCardRecord,
  type HistoryOptions,
  type VisitRecord,
} from '../../breach/history.ts';
import { isCluster, type RedisClient } from './connection.ts';
import { HISTORY_KEYS } from './keys.ts';
import { LuaScript, read, sendAlone } from './lua.ts';

const HISTORY = LuaScript.file('./history.lua', import.meta.url);
/** A key outlives its newest member by this much (then the retention trims what is older). */
const TTL_MARGIN_MS = 86_400_000;

type Keep = 'LT' | 'GT';
interface Write {
  key: string;
  args: { keep: Keep; members: [number, string][]; floor: number; cap: number; ttlMs: number };
}
/**
 * A flush's writes are paced so that the scorings' calls go between them. Redis runs one script at
 * a time, and a scoring's call sent meanwhile waits behind every script sent before it: a flush
 * sent at once (~12 µs of Redis a key, a flush every 500 ms: ~12 ms of scripts at 2,000 scorings a
 * second) held the scorings that came meanwhile, about twice their p99 at that rate
 * (docs/capacity.md, `bench:cost --rate`). On a single Redis a script takes KEYS_PER_SCRIPT keys
 * (~0.4 ms) and SCRIPTS_IN_FLIGHT go at once (one runs while the next travels: Redis never waits
 * for the engine); on a cluster each key is a script of its own, CLUSTER_SCRIPTS_IN_FLIGHT at once
 * across the nodes.
 */
const KEYS_PER_SCRIPT = 32;
const SCRIPTS_IN_FLIGHT = 2;
const CLUSTER_SCRIPTS_IN_FLIGHT = 32;
/**
 * Members asked of each ZSCAN call reading a fraud log (readWhole). On a log of a million: 1.5 ms of
 * Redis a call, 1.5 s in all, where one ZRANGE of it held Redis 0.4-0.5 s at once (measured).
 */
const FRAUD_SCAN_COUNT = 1_000;
/** A card's merchants (at most LEAKGUARD_CPP_MERCHANTS_PER_CARD) read at once by a scan (visitsOf): ~20 µs of Redis each. */
const READS_IN_FLIGHT = 32;

/** history.lua's arguments for its keys, in order: keep, floor, cap, ttlMs, n, then n times time and member. */
function historyArguments(writes: readonly Write[]): (string | number)[] {
  const out: (string | number)[] = [];
  for (const { args } of writes) {
    out.push(args.keep, args.floor, args.cap, args.ttlMs, args.members.length);
    for (const [at, member] of args.members) out.push(at, member);
  }
  return out;
}

export class RedisCardHistoryStore implements CardHistoryStore {
  readonly options: HistoryOptions;
  private readonly redis: RedisClient;

  constructor(redis: RedisClient, options: Partial<HistoryOptions> = {}) {
    this.redis = redis;
    this.options = { ...HISTORY_DEFAULTS, ...options };
  }

  private entry(key: string, keep: Keep, members: [number, string][], cap = 0): Write {
    const newest = Math.max(...members.map((m) => m[0]));
    return {
      key,
      args: {
        keep,
        members,
        floor: newest - this.options.retentionMs,
        cap,
        ttlMs: this.options.retentionMs + TTL_MARGIN_MS,
      },
    };
  }

  /**
   * On a cluster one script per key (each its own slot); on a single Redis KEYS_PER_SCRIPT keys a
   * script (a script call costs more than the few commands inside it). Paced: see KEYS_PER_SCRIPT.
   */
  private async write(writes: Write[]): Promise<void> {
    const cluster = isCluster(this.redis);
    const groups = cluster
      ? writes.map((w) => [w])
      : Array.from({ length: Math.ceil(writes.length / KEYS_PER_SCRIPT) }, (_, i) =>
          writes.slice(i * KEYS_PER_SCRIPT, (i + 1) * KEYS_PER_SCRIPT),
        );
    await pMap(
      groups,
      (g) =>
        HISTORY.run(
          this.redis,
          g.map((w) => w.key),
          historyArguments(g),
        ),
      { concurrency: cluster ? CLUSTER_SCRIPTS_IN_FLIGHT : SCRIPTS_IN_FLIGHT },
    );
  }

  async recordVisits(visits: readonly VisitRecord[]): Promise<void> {
    if (visits.length === 0) return;
    const byCard = new Map<string, [number, string][]>();
    const byMerchant = new Map<string, [number, string][]>();
    const byWeek = new Map<number, Set<string>>();
    let latest = -Infinity;
    for (const v of visits) {
      push(byCard, HISTORY_KEYS.cardMerchants(v.card), [v.at, v.merchantId]);
      const slot = slotOf(v.card);
      // A dominant merchant's cards spread over its sub-identities (velocity.ts SPREAD), each card in one.
      push(byMerchant, HISTORY_KEYS.merchantCards(subIdentity('merchant', v.merchantId, slot)), [
        v.at,
        `${slot}.${v.bin}`,
      ]);
      const week = weekOf(v.at);
      let cards = byWeek.get(week);
      if (!cards) byWeek.set(week, (cards = new Set()));
      cards.add(v.card);
      latest = Math.max(latest, v.at);
    }
    const ttl = this.options.retentionMs + TTL_MARGIN_MS;
    await Promise.all([
      this.write([
        ...[...byCard].map(([key, m]) => this.entry(key, 'LT', m, this.options.merchantsPerCard)),
        ...[...byMerchant].map(([key, m]) => this.entry(key, 'GT', m)),
        this.entry(HISTORY_KEYS.latest, 'GT', [[latest, 'latest']]),
      ]),
      ...[...byWeek].map(async ([week, cards]) => {
        await sendAlone(this.redis, 'pfadd', [HISTORY_KEYS.week(week), ...cards]);
        await sendAlone(this.redis, 'pexpire', [HISTORY_KEYS.week(week), ttl + 7 * 86_400_000]);
      }),
    ]);
  }

  async recordFrauds(labels: readonly FraudLabel[]): Promise<void> {
    const bySource = new Map<string, [number, string][]>();
    // A member per card, day and merchant of the fraud (labelDay; a fingerprint holds no space, a
    // merchant id neither; an empty last field: no merchant told).
    for (const l of labels)
      push(bySource, HISTORY_KEYS.frauds(l.source), [l.at, `${l.card} ${labelDay(l.at)} ${l.merchantId ?? ''}`]);
    await this.write([...bySource].map(([key, m]) => this.entry(key, 'LT', m)));
  }

  /** Each fraud log read whole (kept 120 days; frauds are few beside transactions), grouped by card. */
  async fraudsSince(since: number): Promise<FraudulentCardRecord[]> {
    const cards = new Map<string, { at: number; weight: number; merchantId?: string }[]>();
    for (const source of Object.keys(FRAUD_SOURCES) as FraudSource[]) {
      for (const [member, at] of await this.readWhole(HISTORY_KEYS.frauds(source))) {
        const fields = member.split(' ');
        // Three fields (card, day, merchant); written before labels were kept per day: card [merchant].
        const [card, merchantId] = fields.length === 3 ? [fields[0]!, fields[2]] : [fields[0]!, fields[1]];
        let labels = cards.get(card);
        if (!labels) cards.set(card, (labels = []));
        labels.push({ at, weight: FRAUD_SOURCES[source], ...(merchantId ? { merchantId } : {}) });
      }
    }
    // Each source's log is trimmed when written; read, they all keep the retention before the newest label.
    let newest = -Infinity;
    for (const labels of cards.values()) for (const l of labels) newest = Math.max(newest, l.at);
    return episodesSince(cards, newest - this.options.retentionMs, since);
  }

  /**
   * A sorted set read whole by ZSCAN calls of about FRAUD_SCAN_COUNT members each, one after
   * another: a fraud log can hold millions (every scan reads them, hourly), and one ZRANGE of them
   * held Redis, and every scoring behind it, for half a second a million. A member ZSCAN returns
   * twice (the log written meanwhile) is kept once; one present throughout is never missed. In no
   * particular order: a card's labels are ordered where they are used (fraudEpisode), and sorting a
   * million here would hold the engine's thread ~1.4 s (measured).
   */
  private async readWhole(key: string): Promise<Map<string, number>> {
    const members = new Map<string, number>();
    let cursor = '0';
    do {
      const [next, flat] = await read<[string, string[]]>(
        this.redis,
        () => this.redis.zscan(key, cursor, 'COUNT', FRAUD_SCAN_COUNT),
        'zscan',
        [key, cursor, 'COUNT', FRAUD_SCAN_COUNT],
      );
      for (let i = 0; i < flat.length; i += 2) members.set(flat[i]!, Number(flat[i + 1]));
      cursor = next;
    } while (cursor !== '0');
    return members;
  }

  async visitsOf(cards: readonly string[]): Promise<Map<string, CardVisit[]>> {
    // A scan asks for every fraudulent card of its windows (thousands at scale): READS_IN_FLIGHT
    // at a time, so that the scorings' calls go between them (see KEYS_PER_SCRIPT).
    const lists = await pMap(
      cards,
      (card) => {
        const key = HISTORY_KEYS.cardMerchants(card);
        return read<string[]>(this.redis, () => this.redis.zrange(key, 0, -1, 'WITHSCORES'), 'zrange', [
          key,
          0,
          -1,
          'WITHSCORES',
        ]);
      },
      { concurrency: READS_IN_FLIGHT },
    );
    const out = new Map<string, CardVisit[]>();
    cards.forEach((card, i) => {
      const flat = lists[i]!;
      const visits: CardVisit[] = [];
      for (let j = 0; j < flat.length; j += 2) visits.push({ merchantId: flat[j]!, at: Number(flat[j + 1]) });
      out.set(card, visits);
    });
    return out;
  }

  async merchantCardCount(merchantId: string, from: number, to: number): Promise<number> {
    const counts = await Promise.all(
      subIdentities('merchant', merchantId).map((sub) => {
        const key = HISTORY_KEYS.merchantCards(sub);
        return read<number>(this.redis, () => this.redis.zcount(key, from, to), 'zcount', [key, from, to]);
      }),
    );
    return counts.reduce((a, b) => a + Number(b), 0);
  }

  async merchantCards(merchantId: string, from: number, to: number): Promise<ExposedCard[]> {
    const lists = await Promise.all(
      subIdentities('merchant', merchantId).map((sub) => {
        const key = HISTORY_KEYS.merchantCards(sub);
        return read<string[]>(
          this.redis,
          () => this.redis.zrangebyscore(key, from, to, 'WITHSCORES'),
          'zrangebyscore',
          [key, from, to, 'WITHSCORES'],
        );
      }),
    );
    const out: ExposedCard[] = [];
    for (const flat of lists)
      for (let j = 0; j < flat.length; j += 2) {
        const [slot, bin] = flat[j]!.split('.') as [string, string];
        out.push({ slot, bin, lastVisitAt: Number(flat[j + 1]) });
      }
    return out;
  }

  async distinctCards(from: number, to: number): Promise<number> {
    const keys = weeksBetween(from, to).map(HISTORY_KEYS.week);
    // One tag: the weeks share a slot, so one PFCOUNT takes their union.
    return Number(await read<number>(this.redis, () => this.redis.pfcount(...keys), 'pfcount', keys));
  }

  async latestVisitAt(): Promise<number | undefined> {
    const score = await read<string | null>(
      this.redis,
      () => this.redis.zscore(HISTORY_KEYS.latest, 'latest'),
      'zscore',
      [HISTORY_KEYS.latest, 'latest'],
    );
    return score === null ? undefined : Number(score);
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
