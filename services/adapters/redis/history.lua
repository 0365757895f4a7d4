-- Writes members of history sorted sets (a card's merchants, a merchant's cards, a fraud log) and
-- keeps each bounded. One key per script on a Redis Cluster (one slot each); every key of a batch
-- in one script on a single Redis. Arguments positional, per key in KEYS order (no JSON: decoding
-- it was a third of the script's time, measured on a replay of 256-key calls):
--   keep     'LT' (a member keeps its earliest time) or 'GT' (its latest)
--   floor    members older than this time go (the retention)
--   cap      at most this many members, the oldest go first (0: no cap)
--   ttlMs    the key's lifetime after this write
--   n        how many members follow, each as its time then the member
local i = 1
for _, historyKey in ipairs(KEYS) do
  local keep, floor, cap, ttlMs, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3], tonumber(ARGV[i + 4])
  i = i + 5
  for _ = 1, n do
    redis.call('ZADD', historyKey, keep, ARGV[i], ARGV[i + 1])
    i = i + 2
  end
  redis.call('ZREMRANGEBYSCORE', historyKey, '-inf', '(' .. floor)
  if cap > 0 and redis.call('ZCARD', historyKey) > cap then
    redis.call('ZREMRANGEBYRANK', historyKey, 0, -(cap + 1))
  end
  redis.call('PEXPIRE', historyKey, ttlMs)
end
return #KEYS
