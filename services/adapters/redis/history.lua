-- Writes members of history sorted sets (a card's merchants, a merchant's cards, a fraud log) and
-- keeps each bounded. One key per script on a Redis Cluster (one slot each); every key of a batch
-- in one script on a single Redis. ARGV[1] JSON: a list, one entry per key, in KEYS order:
--   keep     'LT' (a member keeps its earliest time) or 'GT' (its latest)
--   members  [[time, member], ...]
--   floor    members older than this time go (the retention)
--   cap      at most this many members, the oldest go first (0: no cap)
--   ttlMs    the key's lifetime after this write
local writes = cjson.decode(ARGV[1])

for i, historyKey in ipairs(KEYS) do
  local a = writes[i]
  for _, m in ipairs(a.members) do
    redis.call('ZADD', historyKey, a.keep, m[1], m[2])
  end
  redis.call('ZREMRANGEBYSCORE', historyKey, '-inf', '(' .. a.floor)
  if a.cap > 0 and redis.call('ZCARD', historyKey) > a.cap then
    redis.call('ZREMRANGEBYRANK', historyKey, 0, -(a.cap + 1))
  end
  redis.call('PEXPIRE', historyKey, a.ttlMs)
end
return #KEYS
