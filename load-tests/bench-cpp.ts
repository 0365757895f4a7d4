// `npm run bench:cpp`: a benchmark, not a test. Breach discovery's card histories at scale, on a
// private Redis: generated cardholders (each using a handful of merchants near home over 120 days,
// as test/support/cpp-world.ts does), written through the Redis store in the recorder's batches,
// then a breach at one merchant and a scan. Prints:
//   - write rate (visits per second, batches of 2,000 as the recorder flushes) and Redis commands per visit;
//   - Redis memory per card (INFO used_memory before and after), split into the card's own key,
//     its share of the merchants' keys and of the weekly distinct-card estimates (MEMORY USAGE);
//   - the embedded store's heap per card on the same histories, and the ratio of the two;
//   - Redis memory per fraud label (its card's key and its day's), scan time (median of 3) with its
//     fraud count, and whether the breached merchant was named;
//   - then, on an emptied Redis, --labels fraud labels spread over 120 days (two per card): memory
//     per label, and what a scan's read of its last 30 days costs (time, Redis time, commands), then
//     a read within a budget of half its episodes (LEAKGUARD_CPP_SCAN_MAX_CARDS): the days it reads (one
//     run, the cards' visits read too);
//   - what a scan holds per fraudulent card on Redis (--detect-cards of them, ten merchants each),
//     against the 1 KB a card its budget counts (SCAN_BYTES_PER_CARD);
//   - the detection alone (services/core/cpp.ts) on --detect-cards fraudulent cards of ten merchants
//     (100,000; 20,000 with --quick): its time, whom it names, and the memory a card takes as the
//     store reads it (record and visits) and packed as a scan keeps it (PackedFrauds).
//
//   npm run bench:cpp                    200,000 cards, 5,000 merchants (about a minute)
//   npm run bench:cpp -- --quick         20,000 cards, 1,000 merchants
//   npm run bench:cpp -- --cards 1000000 --merchants 20000 --labels 2000000
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Redis } from 'ioredis';
import { MemoryCardHistoryStore } from '../services/adapters/memory/card-history-store.ts';
import { MemoryWatchlistStore } from '../services/adapters/memory/watchlist-store.ts';
import { RedisCardHistoryStore } from '../services/adapters/redis/card-history-store.ts';
import { HISTORY_KEYS } from '../services/adapters/redis/keys.ts';
import { weeksBetween, type CardHistoryStore, type VisitRecord } from '../services/breach/history.ts';
import { BreachScanner, SCAN_BYTES_PER_CARD } from '../services/breach/scanner.ts';
import { detectCommonPoints, PackedFrauds, type FraudulentCard } from '../services/core/cpp.ts';
import { mulberry32 } from '../test/support/cpp-world.ts';
import {
  benchWorkDir,
  cleanup,
  installSignalHandlers,
  median,
  parseCommandStats,
  type CommandStat,
  provisionTools,
  redisInfo,
  redisUsedMemory,
  startPrivateRedis,
} from './lib/harness.ts';

// The heap figures need a full collection before each reading: the flag set at run time, not on
// the command line, so that `npm run bench:cpp` needs none.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
/** Live JavaScript heap and typed arrays' memory (off the heap), after a full collection. */
const heldBytes = () => {
  collectGarbage();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

const DAY = 86_400_000;
const T0 = Date.parse('2026-06-01T00:00:00Z');
const BATCH = 2_000;

const USAGE = `usage: npm run bench:cpp -- [--quick] [--cards <n>] [--merchants <n>] [--labels <n>] [--detect-cards <n>]
  --quick           20,000 cards, 1,000 merchants, 40,000 labels, 20,000 cards detected
  --cards N         cardholders (default 200,000)
  --merchants N     merchants (default 5,000)
  --labels N        fraud labels spread over 120 days (default 400,000)
  --detect-cards N  fraudulent cards for the scan's memory and the detection alone (default 100,000)`;

function parseOptions() {
  try {
    return parseArgs({
      options: {
        cards: { type: 'string' },
        merchants: { type: 'string' },
        labels: { type: 'string' },
        'detect-cards': { type: 'string' },
        quick: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    process.stderr.write(`bench:cpp: ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
}
const args = parseOptions();
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const CARDS = Number(args.cards ?? (args.quick ? 20_000 : 200_000));
const MERCHANTS = Number(args.merchants ?? (args.quick ? 1_000 : 5_000));
const LABELS = Number(args.labels ?? (args.quick ? 40_000 : 400_000));
const DETECT_CARDS = Number(args['detect-cards'] ?? (args.quick ? 20_000 : 100_000));
if (!(CARDS > 0 && MERCHANTS > 1 && LABELS >= 2 && DETECT_CARDS > 0)) {
  process.stderr.write(
    `bench:cpp: --cards, --merchants, --labels and --detect-cards must be positive numbers\n${USAGE}\n`,
  );
  process.exit(2);
}

const fingerprint = (i: number) => createHash('sha256').update(`card-${i}`).digest('base64url');
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

/** Each cardholder: 3–6 merchants within ±8 of home, 1–3 visits each over 120 days; a breached merchant's customers on days 20–60. */
function* histories(breached: string): Generator<VisitRecord> {
  const rnd = mulberry32(42);
  for (let c = 0; c < CARDS; c++) {
    const card = fingerprint(c);
    const bin = c % 2 === 0 ? '411111' : '555555';
    const home = Math.floor(rnd() * MERCHANTS);
    for (let i = 0, n = 3 + Math.floor(rnd() * 4); i < n; i++) {
      const m = (home + Math.floor(rnd() * 17) - 8 + MERCHANTS) % MERCHANTS;
      for (let j = 0, times = 1 + Math.floor(rnd() * 3); j < times; j++)
        yield { card, bin, merchantId: `m${m}`, at: T0 + Math.floor(rnd() * 120 * DAY) };
    }
    if (c % 40 === 0) yield { card, bin, merchantId: breached, at: T0 + (20 + rnd() * 40) * DAY };
  }
}

async function writeAll(store: CardHistoryStore, breached: string): Promise<{ visits: number; seconds: number }> {
  let batch: VisitRecord[] = [];
  let visits = 0;
  const started = performance.now();
  for (const v of histories(breached)) {
    batch.push(v);
    visits++;
    if (batch.length === BATCH) {
      await store.recordVisits(batch);
      batch = [];
    }
  }
  await store.recordVisits(batch);
  return { visits, seconds: (performance.now() - started) / 1000 };
}

/** A quarter of the breached merchant's cards turn fraudulent on days 100–115, beside background fraud on 0.4 % of all cards. */
async function labelFrauds(store: CardHistoryStore): Promise<number> {
  const rnd = mulberry32(7);
  const labels = [];
  for (let c = 0; c < CARDS; c++) {
    const breachedCard = c % 40 === 0 && rnd() < 0.25;
    if (breachedCard || rnd() < 0.004)
      labels.push({ card: fingerprint(c), at: T0 + (100 + rnd() * 15) * DAY, source: 'chargeback' as const });
  }
  await store.recordFrauds(labels);
  return labels.length;
}

/** A scan's time (median of 3), whom it names, and, given Redis's command totals, what it ran there. */
async function scanTimes(store: CardHistoryStore, redisTotals?: () => Promise<{ calls: number; usec: number }>) {
  const times: number[] = [];
  const usecs: number[] = [];
  const commands: number[] = [];
  let named: string[] = [];
  let fraudulentCards = 0;
  for (let i = 0; i < 3; i++) {
    const scanner = new BreachScanner(store, new MemoryWatchlistStore(), { windowsMs: [30 * DAY] });
    const before = await redisTotals?.();
    const started = performance.now();
    const report = await scanner.scan(T0 + 118 * DAY);
    times.push(performance.now() - started);
    const after = await redisTotals?.();
    if (before && after) {
      usecs.push(after.usec - before.usec);
      commands.push(after.calls - before.calls);
    }
    named = report.findings.map((f) => f.point.merchantId);
    fraudulentCards = report.fraudulentCards;
  }
  return { ms: median(times), named, fraudulentCards, redisMs: median(usecs) / 1000, commands: median(commands) };
}

/** Redis's calls and µs summed over all its commands, from INFO commandstats (harness's commandTotals keeps them by command). */
const allCommands = (commands: () => Promise<CommandStat[]>) => async () => {
  const stats = await commands();
  return { calls: stats.reduce((a, s) => a + s.calls, 0), usec: stats.reduce((a, s) => a + s.usec, 0) };
};

/**
 * Fraud labels across the whole retention: LABELS of them, two per card within a few days (a
 * cash-out's chargebacks), spread evenly over 120 days; then what a scan's read of its 30 days
 * costs (fraudsSince), which only the labels of those days should (docs/breach-discovery.md, "Cost").
 */
async function labelsAcrossRetention(
  redis: Redis,
  store: CardHistoryStore,
  figures: { usedMemory: () => Promise<number>; commands: () => Promise<CommandStat[]> },
) {
  await redis.flushall();
  const { usedMemory } = figures;
  const totals = allCommands(figures.commands);
  const rnd = mulberry32(11);
  const memoryBefore = await usedMemory();
  const cards = LABELS / 2;
  for (let from = 0; from < LABELS; from += BATCH) {
    const labels = [];
    for (let i = from; i < Math.min(LABELS, from + BATCH); i++) {
      const card = Math.floor(i / 2);
      labels.push({
        card: fingerprint(card),
        at: T0 + Math.floor((card / cards) * 120 * DAY + rnd() * 3 * DAY),
        source: i % 3 === 0 ? ('challenge' as const) : ('chargeback' as const),
        merchantId: `m${Math.floor(rnd() * MERCHANTS)}`,
      });
    }
    await store.recordFrauds(labels);
  }
  const bytes = (await usedMemory()) - memoryBefore;
  const times: number[] = [];
  const usecs: number[] = [];
  const commands: number[] = [];
  let episodes = 0;
  for (let i = 0; i < 3; i++) {
    const [before, t0] = [await totals(), performance.now()];
    episodes = (await store.fraudsSince(T0 + 93 * DAY)).length;
    times.push(performance.now() - t0);
    const after = await totals();
    usecs.push(after.usec - before.usec);
    commands.push(after.calls - before.calls);
  }
  // A read within a scan's budget of half those episodes (LEAKGUARD_CPP_SCAN_MAX_CARDS): the most
  // recent cards that fit, from the newest back (docs/breach-discovery.md, "Cost"). One run, with
  // the cards' visits: not the median above.
  const since = T0 + 93 * DAY;
  const started = performance.now();
  let budgeted = 0;
  const { coveredSince } = await store.fraudsWithVisitsSince(since, (page) => (budgeted += page.length), {
    maxCards: Math.floor(episodes / 2),
    until: Infinity,
  });
  return {
    bytesPerLabel: bytes / LABELS,
    ms: median(times),
    redisMs: median(usecs) / 1000,
    commands: median(commands),
    episodes,
    budget: {
      maxCards: Math.floor(episodes / 2),
      days: (T0 + 123 * DAY - coveredSince) / DAY,
      episodes: budgeted,
      ms: performance.now() - started,
    },
  };
}

/**
 * What a scan holds per fraudulent card on Redis, against what its budget counts
 * (SCAN_BYTES_PER_CARD): DETECT_CARDS cards of ten merchants each, each labelled once over 15
 * days, scanned whole (one 30-day window, no budget); the heap after a full collection when the
 * scan has read every card (before the detection) and at most after each page it read.
 */
async function scanHeap(redis: Redis) {
  await redis.flushall();
  const store = new RedisCardHistoryStore(redis);
  const rnd = mulberry32(13);
  for (let from = 0; from < DETECT_CARDS; from += 10_000) {
    const visits: VisitRecord[] = [];
    const labels = [];
    for (let c = from; c < Math.min(DETECT_CARDS, from + 10_000); c++) {
      const card = fingerprint(c);
      for (let v = 0; v < 10; v++)
        visits.push({
          card,
          bin: '411111',
          merchantId: `m${Math.floor(rnd() * MERCHANTS)}`,
          at: T0 + Math.floor(rnd() * 95 * DAY),
        });
      labels.push({ card, at: T0 + Math.floor((100 + rnd() * 15) * DAY), source: 'chargeback' as const });
    }
    await store.recordVisits(visits);
    await store.recordFrauds(labels);
  }
  const before = heldBytes();
  let read = 0;
  let most = 0;
  const readAll = store.fraudsWithVisitsSince.bind(store);
  store.fraudsWithVisitsSince = (since, page, budget) =>
    readAll(
      since,
      (cards) => {
        page(cards);
        most = Math.max(most, heldBytes());
      },
      budget,
    );
  const count = store.distinctCards.bind(store);
  store.distinctCards = (from, to) => {
    read = heldBytes();
    return count(from, to);
  };
  const report = await new BreachScanner(store, new MemoryWatchlistStore(), { windowsMs: [30 * DAY] }).scan(
    T0 + 118 * DAY,
  );
  const cards = report.fraudulentCards;
  return { cards, heldBytes: (read - before) / cards, mostBytes: (most - before) / cards };
}

/**
 * The detection alone (services/core/cpp.ts), on what a scan of a busy deployment hands it:
 * DETECT_CARDS fraudulent cards of ten merchants each (as the Redis store reads them: each visit its
 * own object, one string per merchant id), a breach at one merchant among MERCHANTS. Median of 3.
 */
function detectionAlone() {
  const rnd = mulberry32(5);
  const merchantIds = Array.from({ length: MERCHANTS }, (_, m) => `m${m}`);
  const frauds: FraudulentCard[] = [];
  const beforeCards = heldBytes();
  for (let c = 0; c < DETECT_CARDS; c++) {
    const firstFraudAt = T0 + (100 + rnd() * 15) * DAY;
    const visits = Array.from({ length: 10 }, () => ({
      merchantId: merchantIds[Math.floor(rnd() * MERCHANTS)]!,
      at: Math.floor(T0 + rnd() * 95 * DAY),
    }));
    if (c % 20 === 0) visits[0] = { merchantId: 'm-breached', at: T0 + (20 + rnd() * 40) * DAY };
    frauds.push({ card: fingerprint(c), firstFraudAt, weight: 1, visits });
  }
  const visitBytes = (heldBytes() - beforeCards) / DETECT_CARDS;
  // What a scan keeps of them once packed (its records aside, which it keeps either way).
  const beforePacking = heldBytes();
  const packed = new PackedFrauds();
  for (const f of frauds) packed.add(f, f.visits);
  const packedBytes = (heldBytes() - beforePacking) / DETECT_CARDS;
  // Of DETECT_CARDS × 100 cards in all, each merchant saw its share of ten visits a card (as the
  // fraudulent cards did, by chance); the breached one 0.5 % (a twentieth of the fraudulent cards).
  const cardsPerMerchant = new Map<string, number>([['m-breached', DETECT_CARDS / 2]]);
  for (let m = 0; m < MERCHANTS; m++) cardsPerMerchant.set(`m${m}`, (DETECT_CARDS * 1000) / MERCHANTS);
  const times: number[] = [];
  let named: string[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const found = detectCommonPoints({ frauds, cardsPerMerchant, totalCards: DETECT_CARDS * 100 }, { alpha: 1e-6 });
    times.push(performance.now() - started);
    named = found.map((p) => p.merchantId);
  }
  // `packed` stays alive to here: measured, not collected before its reading.
  return { ms: median(times), named, visitBytes, packedBytes, packedCards: packed.cards.length };
}

async function main() {
  installSignalHandlers((m) => process.stderr.write(`${m}\n`), 'bench:cpp');
  const tools = provisionTools();
  const { redisDir } = benchWorkDir('lg-bench-cpp-');
  const server = await startPrivateRedis(tools.redisBin, redisDir);
  const redis = new Redis(server.url, { enableAutoPipelining: true });
  const breached = 'm-breached';
  process.stdout.write(
    `bench:cpp — ${fmt(CARDS)} cards, ${fmt(MERCHANTS)} merchants, Redis ${tools.redisVersion}, batches of ${fmt(BATCH)} visits\n\n`,
  );

  // Redis.
  const usedMemory = () => redisUsedMemory(server.port);
  const commandStats = async () => parseCommandStats(await redisInfo(server.port, 'commandstats'));
  const calls = async () => (await commandStats()).reduce((a, s) => a + s.calls, 0);
  const memBefore = await usedMemory();
  const callsBefore = await calls();
  const store = new RedisCardHistoryStore(redis);
  const written = await writeAll(store, breached);
  const commands = (await calls()) - callsBefore;
  const redisBytes = (await usedMemory()) - memBefore;
  const sample = Array.from({ length: 200 }, (_, i) => Math.floor((i * CARDS) / 200));
  const usage = async (key: string) => Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
  let cardKeys = 0;
  for (const i of sample) cardKeys += await usage(HISTORY_KEYS.cardMerchants(fingerprint(i)));
  let merchantKeys = 0;
  for (let m = 0; m < MERCHANTS; m++) merchantKeys += await usage(HISTORY_KEYS.merchantCards(`m${m}`));
  let weekKeys = 0;
  for (const w of weeksBetween(T0, T0 + 120 * DAY)) weekKeys += await usage(HISTORY_KEYS.week(w));
  const memBeforeLabels = await usedMemory();
  const frauds = await labelFrauds(store);
  const labelBytes = (await usedMemory()) - memBeforeLabels;
  const redisScan = await scanTimes(store, allCommands(commandStats));

  // The embedded store on the same histories.
  const heapBefore = heldBytes();
  const memory = new MemoryCardHistoryStore();
  const memoryWrite = await writeAll(memory, breached);
  const heapBytes = heldBytes() - heapBefore;
  await labelFrauds(memory);
  const memoryScan = await scanTimes(memory);

  const labels = await labelsAcrossRetention(redis, store, { usedMemory, commands: commandStats });
  const detection = detectionAlone();
  const heap = await scanHeap(redis);

  const perCard = redisBytes / CARDS;
  const rows: [string, string][] = [
    ['visits written', `${fmt(written.visits)} (${fmt(written.visits / CARDS, 1)} per card)`],
    ['write rate, Redis', `${fmt(written.visits / written.seconds)} visits/s`],
    ['write rate, embedded', `${fmt(memoryWrite.visits / memoryWrite.seconds)} visits/s`],
    ['Redis commands per visit', fmt(commands / written.visits, 2)],
    ['Redis memory per card (used_memory)', `${fmt(perCard)} bytes`],
    ['  its own key (MEMORY USAGE, 200 sampled)', `${fmt(cardKeys / sample.length)} bytes`],
    ['  its share of the merchants’ keys', `${fmt(merchantKeys / CARDS)} bytes`],
    ['  its share of the weekly estimates', `${fmt(weekKeys / CARDS, 1)} bytes`],
    ['embedded heap per card', `${fmt(heapBytes / CARDS)} bytes`],
    ['Redis ÷ embedded', `${fmt(perCard / (heapBytes / CARDS), 2)}×`],
    ['fraudulent cards scanned', fmt(frauds)],
    ['Redis memory per fraud label (used_memory)', `${fmt(labelBytes / frauds)} bytes`],
    [
      'scan time, Redis (median of 3)',
      `${fmt(redisScan.ms)} ms, ${fmt(redisScan.redisMs)} ms of Redis (${fmt((redisScan.redisMs * 1000) / redisScan.fraudulentCards)} µs a fraudulent card), ${fmt(redisScan.commands)} commands`,
    ],
    ['scan time, embedded (median of 3)', `${fmt(memoryScan.ms)} ms`],
    [
      'named (Redis / embedded)',
      `${redisScan.named.join(', ') || 'nobody'} / ${memoryScan.named.join(', ') || 'nobody'}`,
    ],
    [`${fmt(LABELS)} labels over 120 days (another run, Redis only)`, ''],
    ['  Redis memory per label (used_memory)', `${fmt(labels.bytesPerLabel)} bytes`],
    [
      '  a scan reading its 30 days (median of 3)',
      `${fmt(labels.ms)} ms, ${fmt(labels.redisMs)} ms of Redis, ${fmt(labels.commands)} commands: ${fmt(labels.episodes)} episodes`,
    ],
    [
      `  within a scan's budget of ${fmt(labels.budget.maxCards)} cards (one run)`,
      `the last ${fmt(labels.budget.days, 1)} days: ${fmt(labels.budget.episodes)} episodes, with their visits, in ${fmt(labels.budget.ms)} ms`,
    ],
    [
      `a scan's heap per fraudulent card, ${fmt(heap.cards)} of 10 merchants on Redis`,
      `${fmt(heap.heldBytes)} bytes held once read, ${fmt(heap.mostBytes)} at most while reading (its budget counts ${fmt(SCAN_BYTES_PER_CARD)}: ${fmt(SCAN_BYTES_PER_CARD / heap.mostBytes, 2)}× room)`,
    ],
    [
      `detection alone, ${fmt(DETECT_CARDS)} fraudulent cards of 10 merchants (median of 3)`,
      `${fmt(detection.ms)} ms: ${detection.named.join(', ') || 'nobody'}`,
    ],
    [
      '  held per card: as read (records and visits), packed for the scan',
      `${fmt(detection.visitBytes)} bytes, ${fmt(detection.packedBytes)} bytes`,
    ],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
  process.stdout.write(
    `\nA card kept 120 days costs ${fmt(perCard)} bytes in Redis: ${fmt((perCard * 1_000_000) / 2 ** 20)} MiB per million cards.\n`,
  );
  redis.disconnect();
  await cleanup();
}

main().catch(async (error: unknown) => {
  process.stderr.write(`bench:cpp failed: ${(error as Error).stack ?? String(error)}\n`);
  await cleanup();
  process.exit(1);
});
