// A card's distinct merchants, addresses, devices and IPs now live in its log (core/velocity.ts
// sharesLog); the previous version kept each in a set of its own (`lg:{c:<fp>}:dm`, `:ds`, `:dd`,
// `:di`). This moves what an existing deployment holds, so that an upgrade keeps every card's
// distinct counts instead of restarting them from nothing.
//
// - Single Redis and Redis Cluster alike: every master is scanned once (MATCH narrowed to the
//   cards' keys), every old set found moves in one script on its own slot (the set and the log
//   share the card's hash tag).
// - Safe to repeat and to run while engines score: members join the log tagged, at their
//   last-seen time, with GT (a later time the engine wrote meanwhile stays); the log keeps the
//   later of the two expiries; then the set goes. A set written again by an engine of the
//   previous version (a rolling upgrade) is moved at the next start.
// - Cost: one SCAN of the keyspace per master, one script per old set. Engines run it in the
//   background once they are ready: scoring does not wait for it.
import { DISTINCT_COUNTERS, inLogTag, sharesLog } from '../../core/velocity.ts';
import { mastersOf, type RedisClient } from './connection.ts';
import { REDIS_KEYS } from './keys.ts';
import { LuaScript } from './lua.ts';

/** Members moved per script call: a big set moves in several calls (the caller calls again while a call moves this many). */
const BATCH = 1000;
/** KEYS[1] the old set, KEYS[2] the log; ARGV[1] the members' tag ('#m'), ARGV[2] the batch. */
const MOVE = new LuaScript(`
local batch = tonumber(ARGV[2])
local rows = redis.call('ZRANGE', KEYS[1], 0, batch - 1, 'WITHSCORES')
if #rows == 0 then return 0 end
local args = {KEYS[2], 'GT'}
for i = 1, #rows, 2 do args[#args + 1] = rows[i + 1]; args[#args + 1] = ARGV[1] .. rows[i] end
redis.call('ZADD', unpack(args))
local ttl, logTtl = redis.call('PTTL', KEYS[1]), redis.call('PTTL', KEYS[2])
if ttl > 0 and (logTtl < 0 or ttl > logTtl) then redis.call('PEXPIRE', KEYS[2], ttl) end
if #rows < 2 * batch then redis.call('DEL', KEYS[1]) else redis.call('ZREMRANGEBYRANK', KEYS[1], 0, batch - 1) end
return #rows / 2
`);

/** The sets that moved: one per distinct counter kept in its entity's log. */
const MOVED = DISTINCT_COUNTERS.filter(sharesLog).map((c) => {
  // The old set's name around its identity.
  const [head, tail] = REDIS_KEYS.distinct(c.entity, '\u0000', c.of).split('\u0000') as [string, string];
  return {
    head,
    identityOf: (key: string) =>
      key.startsWith(head) && key.endsWith(tail) && key.length > head.length + tail.length
        ? key.slice(head.length, key.length - tail.length)
        : undefined,
    log: (id: string) => REDIS_KEYS.log(c.entity, id),
    tag: inLogTag(c.of),
  };
});
/** One SCAN per master for them all: MATCH every key of their entities (`lg:{c:*`), sorted out here. */
const MATCHES = [...new Set(MOVED.map((m) => `${m.head}*`))];

export interface DistinctMigrationResult {
  /** Old sets moved into their logs. */
  sets: number;
  members: number;
}

/** Moves every old distinct set into its card's log, on every master. */
export async function moveDistinctSetsIntoLogs(
  redis: RedisClient,
  options: { scanCount?: number } = {},
): Promise<DistinctMigrationResult> {
  const result: DistinctMigrationResult = { sets: 0, members: 0 };
  const moveSet = async (set: string, log: string, tag: string) => {
    let n: number,
      members = 0;
    do {
      n = Number(await MOVE.run(redis, [set, log], [tag, BATCH]));
      members += n;
    } while (n === BATCH);
    if (members > 0) {
      result.sets++;
      result.members += members;
    }
  };
  for (const node of mastersOf(redis))
    for (const match of MATCHES) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', options.scanCount ?? 5000);
        cursor = next;
        await Promise.all(
          keys.flatMap((key) =>
            MOVED.flatMap((moved) => {
              const id = moved.identityOf(key);
              return id === undefined ? [] : [moveSet(key, moved.log(id), moved.tag)];
            }),
          ),
        );
      } while (cursor !== '0');
    }
  return result;
}
