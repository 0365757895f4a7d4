// The card histories in Redis or Redis Cluster (keys.ts HISTORY_KEYS). A batch of visits is one
// script per card and per merchant key touched (each one slot), one PFADD per week and one
// latest-time update; a batch of fraud labels one per card and per day's key touched: written off
// the scoring path, paced (KEYS_PER_SCRIPT), each following redirections.
import pMap from 'p-map';
import type { CardVisit } from '../../core/cpp.ts';
import { fnv1a, subIdentities, subIdentity } from '../../core/velocity.ts';
import {
  EXPOSED_PAGE,
  FRAUD_SOURCES,
  episodesSince,
  FRAUD_PAGE,
  HISTORY_DEFAULTS,
  labelDay,
  labelDaysWithin,
  dayLabelMember,
  labelMember,
  NO_SCAN_BUDGET,
  parseLabelMember,
  slotOf,
  weekOf,
  weeksBetween,
  type CardHistoryStore,
  type ExposedCard,
  type FraudLabel,
  type FraudSource,
  type FraudulentCardRecord,
  type FraudulentCardVisits,
  type HistoryOptions,
  type ScanBudget,
  type ScanCoverage,
  type StoredLabel,
  type VisitRecord,
} from '../../breach/history.ts';
import { isCluster, type RedisClient } from './connection.ts';
import { FRAUD_DAY_SHARDS, HISTORY_KEYS } from './keys.ts';
import { LuaScript, read, sendAlone } from './lua.ts';

/**
 * KEYS: the week before the period's, then each of its weeks, each week's distinct-card and pair
 * estimates in turn (one slot: {cpp}). The pairs of the period's weeks, or -1 when one of them, or
 * the week before (the first week may have begun keeping pairs part way through), saw cards but
 * kept no pairs (recorded before they were): a period part covered would make the average card
 * look quieter than it is.
 */
const COUNT_PAIRS = new LuaScript(`
local kept = {}
for i = 1, #KEYS, 2 do
  local withPairs = redis.call('EXISTS', KEYS[i + 1]) == 1
  if not withPairs and redis.call('EXISTS', KEYS[i]) == 1 then return -1 end
  if withPairs and i > 1 then kept[#kept + 1] = KEYS[i + 1] end
end
if #kept == 0 then return 0 end
return redis.call('PFCOUNT', unpack(kept))
`);

const HISTORY = LuaScript.file('./history.lua', import.meta.url);
/** A key outlives its newest member by this much (then the retention trims what is older). */
const TTL_MARGIN_MS = 86_400_000;

/**
 * history.lua's keep: PAIR writes `key` (latest times) and `firstKey` (earliest times) together;
 * SPAN keeps the latest time and the days since the earliest in one score (spanOf).
 */
type Keep = 'LT' | 'GT' | 'SPAN' | 'PAIR';
interface Write {
  key: string;
  firstKey?: string;
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
 * Members asked of each call reading a large sorted set: a ZSCAN of a day's labelled cards or a
 * legacy fraud log (readWhole), a ZRANGEBYSCORE page of a merchant's cards (merchantCards): ~1.5 ms
 * of Redis a call, where one ZRANGE of a million-label log held Redis 0.4-0.5 s at once (measured).
 */
const FRAUD_SCAN_COUNT = 1_000;
/** A card's merchants (at most LEAKGUARD_CPP_MERCHANTS_PER_CARD) or labels read at once by a scan: ~20 µs of Redis each. */
const READS_IN_FLIGHT = 32;
/** Labels of a legacy fraud log written into the per-card keys at a time (moveLegacyLogs). */
const LEGACY_LABELS_A_WRITE = 10_000;

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

  private entry(key: string, keep: Keep, members: [number, string][], cap = 0, firstKey?: string): Write {
    const newest = Math.max(...members.map((m) => m[0]));
    const floor = newest - this.options.retentionMs;
    return {
      key,
      ...(firstKey !== undefined ? { firstKey } : {}),
      args: {
        keep,
        // A key is trimmed before its members are written (history.lua): one past the retention is not written.
        members: members.filter(([at]) => at >= floor),
        floor,
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
          g.flatMap((w) => (w.firstKey !== undefined ? [w.key, w.firstKey] : [w.key])),
          historyArguments(g),
        ),
      { concurrency: cluster ? CLUSTER_SCRIPTS_IN_FLIGHT : SCRIPTS_IN_FLIGHT },
    );
  }

  async recordVisits(visits: readonly VisitRecord[]): Promise<void> {
    if (visits.length === 0) return;
    const byCard = new Map<string, [number, string][]>();
    const byMerchant = new Map<string, [number, string][]>();
    // Each week's estimates (HyperLogLogs): its distinct cards, its distinct card-merchant pairs.
    const estimates = new Map<string, Set<string>>();
    const estimate = (key: string, element: string) => {
      let elements = estimates.get(key);
      if (!elements) estimates.set(key, (elements = new Set()));
      elements.add(element);
    };
    let latest = -Infinity;
    for (const v of visits) {
      push(byCard, v.card, [v.at, v.merchantId]);
      const slot = slotOf(v.card);
      // A dominant merchant's cards spread over its sub-identities (velocity.ts SPREAD), each card in one.
      push(byMerchant, subIdentity('merchant', v.merchantId, slot), [v.at, `${slot}.${v.bin}`]);
      const week = weekOf(v.at);
      estimate(HISTORY_KEYS.week(week), v.card);
      estimate(HISTORY_KEYS.pairsWeek(week), `${slot}|${v.merchantId}`);
      latest = Math.max(latest, v.at);
    }
    const ttl = this.options.retentionMs + TTL_MARGIN_MS;
    await Promise.all([
      this.write([
        // A card's merchants at its last visit, and at its first beside (PAIR, one slot): the cap
        // drops the merchants it used least recently.
        ...[...byCard].map(([card, m]) =>
          this.entry(
            HISTORY_KEYS.cardMerchants(card),
            'PAIR',
            m,
            this.options.merchantsPerCard,
            HISTORY_KEYS.cardFirstVisits(card),
          ),
        ),
        // A merchant's cards at their last visit, with the days since their first (SPAN).
        ...[...byMerchant].map(([sub, m]) => this.entry(HISTORY_KEYS.merchantCards(sub), 'SPAN', m)),
        this.entry(HISTORY_KEYS.latest, 'GT', [[latest, 'latest']]),
      ]),
      ...[...estimates].map(async ([key, elements]) => {
        await sendAlone(this.redis, 'pfadd', [key, ...elements]);
        await sendAlone(this.redis, 'pexpire', [key, ttl + 7 * 86_400_000]);
      }),
    ]);
  }

  async recordFrauds(labels: readonly FraudLabel[]): Promise<void> {
    if (labels.length === 0) return;
    const byCard = new Map<string, [number, string][]>();
    const byDay = new Map<string, [number, string][]>();
    let latest = -Infinity;
    for (const l of labels) {
      const day = labelDay(l.at);
      push(byCard, HISTORY_KEYS.cardFrauds(l.card), [l.at, labelMember(l, day)]);
      push(byDay, HISTORY_KEYS.fraudDay(day, dayShardOf(l.card)), [l.at, l.card]);
      latest = Math.max(latest, l.at);
    }
    await this.write([
      ...[...byCard].map(([key, m]) => this.entry(key, 'LT', m)),
      ...[...byDay].map(([key, m]) => this.entry(key, 'LT', m)),
      this.entry(HISTORY_KEYS.latestFraud, 'GT', [[latest, 'latest']]),
    ]);
  }

  /**
   * A ZREM per label (its card's key, one slot), and a second for a label written before
   * transaction keys (dayLabelMember) when its own was not there: withdrawals are rare (a reversal).
   * The day's index keeps the card, whose labels the scan reads.
   */
  async withdrawFrauds(labels: readonly FraudLabel[]): Promise<void> {
    await pMap(
      labels,
      async (l) => {
        const key = HISTORY_KEYS.cardFrauds(l.card);
        const member = labelMember(l, labelDay(l.at));
        const legacy = dayLabelMember(l, labelDay(l.at));
        const removed = await sendAlone<number>(this.redis, 'zrem', [key, member]);
        if (removed === 0 && legacy !== member) await sendAlone<number>(this.redis, 'zrem', [key, legacy]);
      },
      { concurrency: READS_IN_FLIGHT },
    );
  }

  /**
   * Only a card labelled on a day from `since`'s on can have an episode that began since: the scan
   * reads those days' cards (its windows, not the whole retention), then each one's labels, in its
   * own slot (all of them, back to the retention: its earlier episodes count too).
   */
  async fraudsSince(since: number): Promise<FraudulentCardRecord[]> {
    const labelled = await this.labelledSince(since);
    if (!labelled) return [];
    const lists = await pMap(labelled.cards, (card) => this.readAll(HISTORY_KEYS.cardFrauds(card)), {
      concurrency: READS_IN_FLIGHT,
    });
    return episodesSince(
      labelled.cards.map((card, i) => [card, labelsOf(lists[i]!)] as const),
      labelled.floor,
      since,
    );
  }

  async fraudsWithVisitsSince(
    since: number,
    page: (cards: FraudulentCardVisits[]) => void,
    budget?: ScanBudget,
  ): Promise<ScanCoverage> {
    const labelled = await this.labelledSince(since, budget);
    if (!labelled) return { coveredSince: since, labelledCards: 0 };
    const { coveredSince, labelledCards } = labelled;
    const merchants = new Map<string, string>();
    for (let i = 0; i < labelled.cards.length; i += FRAUD_PAGE) {
      // A card's labels and merchants are in its slot: asked for together, one round trip a card.
      const read = await pMap(
        labelled.cards.slice(i, i + FRAUD_PAGE),
        async (card) => {
          const [labels, visits] = await Promise.all([
            this.readAll(HISTORY_KEYS.cardFrauds(card)),
            this.visitsOfCard(card, merchants),
          ]);
          const [record] = episodesSince([[card, labelsOf(labels)]], labelled.floor, coveredSince);
          return record && { record, visits };
        },
        { concurrency: READS_IN_FLIGHT },
      );
      page(read.filter((c) => c !== undefined));
    }
    return { coveredSince, labelledCards };
  }

  /**
   * The cards labelled on the days from `since` on (within a budget, the most recent up to its
   * `until` that fit: labelDaysWithin), the time they cover from, and the labels'
   * floor (the retention before the newest); undefined when none was ever labelled.
   */
  private async labelledSince(
    since: number,
    budget: ScanBudget = NO_SCAN_BUDGET,
  ): Promise<({ cards: string[]; floor: number } & ScanCoverage) | undefined> {
    await this.moveLegacyLogs();
    const newest = await this.latestScore(HISTORY_KEYS.latestFraud);
    if (newest === undefined) return undefined;
    // The labels kept: the retention before the newest (each card's key is trimmed when written).
    const floor = newest - this.options.retentionMs;
    const days: number[] = [];
    const last = labelDay(Math.min(newest, budget.until));
    for (let day = labelDay(Math.max(since, floor)); day <= last; day++) days.push(day);
    const shards = Array.from({ length: FRAUD_DAY_SHARDS }, (_, shard) => shard);
    const within = await labelDaysWithin(
      { since, until: budget.until, floor },
      days,
      async (day) => {
        // Each day's key keeps a card at its earliest label that day.
        const read = await pMap(shards, (shard) => this.readWhole(HISTORY_KEYS.fraudDay(day, shard)), {
          concurrency: READS_IN_FLIGHT,
        });
        return read.flatMap((members) => [...members]);
      },
      budget.maxCards,
    );
    return { ...within, floor };
  }

  /**
   * Before labels were kept per card, each source had one log (HISTORY_KEYS.legacyFrauds): a scan
   * moves such a log into the per-card keys. Set aside first (RENAMENX: an engine of the old
   * version still writing starts a new log, moved by the next scan), read in pages, written as
   * labels, then deleted; a log set aside by an engine that stopped half-way is moved again by the
   * next scan (the writes are idempotent). Two commands a source when there is nothing to move.
   */
  private async moveLegacyLogs(): Promise<void> {
    for (const source of Object.keys(FRAUD_SOURCES) as FraudSource[]) {
      const log = HISTORY_KEYS.legacyFrauds(source);
      const aside = `${log}:moving`;
      if (!(await sendAlone<number>(this.redis, 'exists', [aside]))) {
        const renamed = await sendAlone<number>(this.redis, 'renamenx', [log, aside]).catch((error: Error) => {
          if (/no such key/i.test(error.message)) return 0;
          throw error;
        });
        if (!renamed) continue;
      }
      const labels: FraudLabel[] = [];
      for (const [member, at] of await this.readWhole(aside)) {
        // card day merchant; written before labels were kept per day: card [merchant].
        const fields = member.split(' ');
        const merchantId = fields.length === 3 ? fields[2] : fields[1];
        labels.push({ card: fields[0]!, at, source, ...(merchantId ? { merchantId } : {}) });
      }
      for (let i = 0; i < labels.length; i += LEGACY_LABELS_A_WRITE)
        await this.recordFrauds(labels.slice(i, i + LEGACY_LABELS_A_WRITE));
      await sendAlone(this.redis, 'unlink', [aside]);
    }
  }

  /**
   * A sorted set read whole by ZSCAN calls of about FRAUD_SCAN_COUNT members each, one after
   * another: a day's labelled cards, or a legacy log, can hold hundreds of thousands, and one reply
   * of them would hold Redis, and every scoring behind it (half a second a million). A member ZSCAN
   * returns twice (the set written meanwhile) is kept once; one present throughout is never missed.
   * In no particular order (sorting a million would hold the engine's thread ~1.4 s, measured).
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
    const merchants = new Map<string, string>();
    const lists = await pMap(cards, (card) => this.visitsOfCard(card, merchants), { concurrency: READS_IN_FLIGHT });
    return new Map(cards.map((card, i) => [card, lists[i]!]));
  }

  /** A card's merchants at their first and last visits (one slot: its two keys asked together). */
  private async visitsOfCard(card: string, merchants: Map<string, string>): Promise<CardVisit[]> {
    const [firsts, lasts] = await Promise.all([
      this.readAll(HISTORY_KEYS.cardFirstVisits(card)),
      this.readAll(HISTORY_KEYS.cardMerchants(card)),
    ]);
    return visitsFrom(firsts, lasts, merchants);
  }

  /** A small sorted set (a card's merchants or labels, bounded) in one reply: member, time, member, time... */
  private readAll(key: string): Promise<string[]> {
    return read<string[]>(this.redis, () => this.redis.zrange(key, 0, -1, 'WITHSCORES'), 'zrange', [
      key,
      0,
      -1,
      'WITHSCORES',
    ]);
  }

  async merchantCardCount(merchantId: string, from: number, to: number): Promise<number> {
    const counts = await Promise.all(
      subIdentities('merchant', merchantId).map((sub) => {
        const key = HISTORY_KEYS.merchantCards(sub);
        const until = upTo(to);
        return read<number>(this.redis, () => this.redis.zcount(key, from, until), 'zcount', [key, from, until]);
      }),
    );
    return counts.reduce((a, b) => a + Number(b), 0);
  }

  async merchantCards(
    merchantId: string,
    from: number,
    to: number,
    page: (cards: ExposedCard[]) => Promise<void>,
    firstVisitBy?: number,
  ): Promise<void> {
    let out: ExposedCard[] = [];
    for (const sub of subIdentities('merchant', merchantId)) {
      const key = HISTORY_KEYS.merchantCards(sub);
      // In pages of FRAUD_SCAN_COUNT by last visit, each from the time the previous ended at, less
      // the cards read at that time: by name, not by count, so that a card moved meanwhile (a new
      // visit: later, never earlier) costs no other card its turn. Moved, it may come twice (its
      // listing is idempotent; the counts of the evidence then include it twice).
      let since = from;
      let readAtSince = new Set<string>();
      for (;;) {
        const asked = FRAUD_SCAN_COUNT + readAtSince.size;
        const args = [key, since, upTo(to), 'WITHSCORES', 'LIMIT', 0, asked] as const;
        const flat = await read<string[]>(this.redis, () => this.redis.zrangebyscore(...args), 'zrangebyscore', [
          ...args,
        ]);
        const fresh: [string, number][] = [];
        for (let j = 0; j < flat.length; j += 2) {
          const member = flat[j]!;
          const at = Number(flat[j + 1]);
          if (at === since && readAtSince.has(member)) continue;
          fresh.push([member, at]);
          if (at !== since) [since, readAtSince] = [at, new Set()];
          readAtSince.add(member);
        }
        for (const [member, score] of fresh) {
          const { lastVisitAt, firstDay } = spanOf(score);
          // Those first seen there after firstVisitBy's day are left.
          if (firstVisitBy !== undefined && firstDay > Math.floor(firstVisitBy / DAY_MS)) continue;
          const [slot, bin] = member.split('.') as [string, string];
          out.push({ slot, bin, lastVisitAt });
          if (out.length === EXPOSED_PAGE) {
            await page(out);
            out = [];
          }
        }
        if (fresh.length === 0 || flat.length < 2 * asked) break;
      }
    }
    if (out.length > 0) await page(out);
  }

  async cardMerchantPairs(from: number, to: number): Promise<number | undefined> {
    const weeks = weeksBetween(from, to);
    const keys = [weeks[0]! - 1, ...weeks].flatMap((w) => [HISTORY_KEYS.week(w), HISTORY_KEYS.pairsWeek(w)]);
    const pairs = Number(await COUNT_PAIRS.run(this.redis, keys, []));
    return pairs < 0 ? undefined : pairs;
  }

  async distinctCards(from: number, to: number): Promise<number> {
    const keys = weeksBetween(from, to).map(HISTORY_KEYS.week);
    // One tag: the weeks share a slot, so one PFCOUNT takes their union.
    return Number(await read<number>(this.redis, () => this.redis.pfcount(...keys), 'pfcount', keys));
  }

  latestVisitAt(): Promise<number | undefined> {
    return this.latestScore(HISTORY_KEYS.latest);
  }

  async takeScanTurn(holder: string, forMs: number): Promise<boolean> {
    // Alone, not auto-pipelined: ioredis then follows a slot that moved (lua.ts).
    const taken = await sendAlone<string | null>(this.redis, 'set', [
      HISTORY_KEYS.scanTurn,
      holder,
      'PX',
      Math.max(1, Math.round(forMs)),
      'NX',
    ]);
    return taken === 'OK';
  }

  private async latestScore(key: string): Promise<number | undefined> {
    const score = await read<string | null>(this.redis, () => this.redis.zscore(key, 'latest'), 'zscore', [
      key,
      'latest',
    ]);
    return score === null ? undefined : Number(score);
  }
}

/**
 * A card's merchants as visits (each reply member, time, member, time...): its first visit to each,
 * in the order of those, then its last visit to each where later, in the order of those (a merchant
 * kept before first visits were: its one time, among the last). Made as the replies come (their
 * strings then go), one string per merchant id for all the cards read with `merchants` (~1,070 →
 * ~750 bytes a card of ten merchants, measured on 100,000).
 */
function visitsFrom(firsts: readonly string[], lasts: readonly string[], merchants: Map<string, string>): CardVisit[] {
  const visits: CardVisit[] = [];
  const firstOf = new Map<string, number>();
  for (let j = 0; j < firsts.length; j += 2) {
    const at = Number(firsts[j + 1]);
    firstOf.set(firsts[j]!, at);
    visits.push({ merchantId: shared(merchants, firsts[j]!), at });
  }
  for (let j = 0; j < lasts.length; j += 2) {
    const at = Number(lasts[j + 1]);
    const first = firstOf.get(lasts[j]!);
    if (first === undefined || at > first) visits.push({ merchantId: shared(merchants, lasts[j]!), at });
  }
  return visits;
}

const DAY_MS = 86_400_000;

/**
 * A merchant's card as its score keeps it (history.lua SPAN): its last visit (whole ms) and the UTC
 * day of its first (one more than the days back to it in the fraction, over 256; none: written
 * before first visits were kept, unknown, -Infinity).
 */
function spanOf(score: number): { lastVisitAt: number; firstDay: number } {
  const lastVisitAt = Math.floor(score);
  const span = Math.round((score - lastVisitAt) * 256);
  return { lastVisitAt, firstDay: span === 0 ? -Infinity : Math.floor(lastVisitAt / DAY_MS) - (span - 1) };
}

/** A range's end for a merchant's scores, whose fraction is under 1 ms: up to the next whole ms, excluded. */
const upTo = (to: number) => (Number.isFinite(to) ? `(${Math.floor(to) + 1}` : '+inf');

/** One string per merchant id across a scan's cards. */
function shared(merchants: Map<string, string>, id: string): string {
  let merchantId = merchants.get(id);
  if (merchantId === undefined) merchants.set(id, (merchantId = id));
  return merchantId;
}

/** A card's labels as its key keeps them (labelMember, at their time). */
function labelsOf(flat: readonly string[]): StoredLabel[] {
  const labels: StoredLabel[] = [];
  for (let j = 0; j < flat.length; j += 2) {
    const label = parseLabelMember(flat[j]!, Number(flat[j + 1]));
    if (label) labels.push(label);
  }
  return labels;
}

/** The key of the day's labelled cards that holds a card (HISTORY_KEYS.fraudDay): always the same for one card. */
const dayShardOf = (card: string) => fnv1a(card) % FRAUD_DAY_SHARDS;

function push<K, V>(map: Map<K, V[]>, key: K, value: V) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
