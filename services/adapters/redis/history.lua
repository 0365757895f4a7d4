-- Writes members of history sorted sets (a card's merchants, a merchant's cards, a fraud log) and
-- keeps each bounded. One key per script on a Redis Cluster (one slot each); every key of a batch
-- in one script on a single Redis. Arguments positional, per key in KEYS order (no JSON: decoding
-- it was a third of the script's time, measured on a replay of 256-key calls):
--   keep     'LT' (a member keeps its earliest time) or 'GT' (its latest)
--   floor    members older than this time go (the retention)
--   cap      at most this many members, the oldest go first (0: no cap)
--   ttlMs    the key's lifetime after this write
--   n        how many members follow, each as its time then the member
-- A key's members go in one ZADD (a batch holds several visits of a busy merchant), in batches of
-- ZADD_PAIRS pairs: unpack's arguments live on Lua's C stack, which holds a few thousand.
local ZADD_PAIRS = 1000
local i = 1
for _, historyKey in ipairs(KEYS) do
  local keep, floor, cap, ttlMs, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3], tonumber(ARGV[i + 4])
  i = i + 5
  local added = 0
  if n == 1 then -- most keys of a batch (a card's one visit): no unpack
    added = redis.call('ZADD', historyKey, keep, ARGV[i], ARGV[i + 1])
    i, n = i + 2, 0
  end
  while n > 0 do
    local batch = math.min(n, ZADD_PAIRS)
    added = added + redis.call('ZADD', historyKey, keep, unpack(ARGV, i, i + 2 * batch - 1))
    i, n = i + 2 * batch, n - batch
  end
  redis.call('ZREMRANGEBYSCORE', historyKey, '-inf', '(' .. floor)
  -- Only a write that added a member can take the set past its cap (a card's visit to a merchant it
  -- was seen at before adds none): no ZCARD for the others. A cap lowered in the configuration
  -- applies to a set from its next new member.
  if cap > 0 and added > 0 and redis.call('ZCARD', historyKey) > cap then
    redis.call('ZREMRANGEBYRANK', historyKey, 0, -(cap + 1))
  end
  redis.call('PEXPIRE', historyKey, ttlMs)
end
return #KEYS
