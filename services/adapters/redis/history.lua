-- Writes members of history sorted sets (a card's merchants, a merchant's cards, a fraud log) and
-- keeps each bounded. One key (or pair, below) per script on a Redis Cluster (one slot each); every
-- key of a batch in one script on a single Redis. Arguments positional, per key in KEYS order (no
-- JSON: decoding it was a third of the script's time, measured on a replay of 256-key calls):
--   keep     'LT' (a member keeps its earliest time), 'GT' (its latest), 'SPAN' (its latest, and
--            the days since its earliest in the score's fraction: below), or 'PAIR': two keys of
--            one slot, the first keeping each member's latest time, the second its earliest (a
--            card's merchants at its last and first visits), bounded together by the latest: a
--            member whose latest time is past the retention, or beyond the cap, goes from both
--   floor    members older than this time go (the retention), before the new ones are written (none
--            of which is older: the engine leaves those out)
--   cap      at most this many members, the oldest go first (0: no cap)
--   ttlMs    the key's lifetime after this write
--   n        how many members follow, each as its time then the member
-- A key's members go in one ZADD (a batch holds several visits of a busy merchant), in batches of
-- ZADD_PAIRS pairs: unpack's arguments live on Lua's C stack, which holds a few thousand.
local ZADD_PAIRS = 1000

-- SPAN (a merchant's cards): a member's score is its latest time (whole ms) plus, over 256, one
-- more than the days from the UTC day of its earliest to that of its latest (1 to 255: 254 days
-- and more read as 254, more than the retention's; exact in a double while the time is below 2^45
-- ms, the year 3084). Ranges by time read the same members as before (the fraction is under
-- 1 ms). A whole score was written before SPAN: its earliest time is unknown, and once written
-- again its latest time then is the earliest known.
local DAY_MS = 86400000
local function spanScore(old, at)
  local last, firstDay = at, math.floor(at / DAY_MS)
  if old then
    local oldScore = tonumber(old)
    local oldLast = math.floor(oldScore)
    local span = math.floor((oldScore - oldLast) * 256 + 0.5)
    local oldFirstDay = math.floor(oldLast / DAY_MS) - math.max(0, span - 1)
    if oldLast > last then last = oldLast end
    if oldFirstDay < firstDay then firstDay = oldFirstDay end
  end
  return last + (1 + math.min(254, math.floor(last / DAY_MS) - firstDay)) / 256
end

local function removeFrom(key, members)
  for j = 1, #members, ZADD_PAIRS do
    redis.call('ZREM', key, unpack(members, j, math.min(#members, j + ZADD_PAIRS - 1)))
  end
end

local i, k = 1, 1
while k <= #KEYS do
  local historyKey = KEYS[k]
  local keep, floor, cap, ttlMs, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3], tonumber(ARGV[i + 4])
  i = i + 5
  if keep == 'PAIR' then
    local firstKey = KEYS[k + 1]
    k = k + 2
    -- What the retention drops goes first, from both keys: a member back after it starts afresh.
    local gone = redis.call('ZRANGEBYSCORE', historyKey, '-inf', '(' .. floor)
    if #gone > 0 then
      redis.call('ZREMRANGEBYSCORE', historyKey, '-inf', '(' .. floor)
      removeFrom(firstKey, gone)
    end
    local added = 0
    for j = i, i + 2 * n - 1, 2 do
      local at, member = tonumber(ARGV[j]), ARGV[j + 1]
      local first = redis.call('ZSCORE', firstKey, member)
      if not first then
        -- A member kept before its earliest time was (an upgrade): its time then is the earliest known.
        local known = redis.call('ZSCORE', historyKey, member)
        if known and tonumber(known) < at then
          redis.call('ZADD', firstKey, known, member)
        else
          redis.call('ZADD', firstKey, at, member)
        end
      elseif at < tonumber(first) then
        redis.call('ZADD', firstKey, at, member)
      end
      added = added + redis.call('ZADD', historyKey, 'GT', at, member)
    end
    i = i + 2 * n
    if cap > 0 and added > 0 and redis.call('ZCARD', historyKey) > cap then
      local over = redis.call('ZRANGE', historyKey, 0, -(cap + 1))
      redis.call('ZREMRANGEBYRANK', historyKey, 0, -(cap + 1))
      removeFrom(firstKey, over)
    end
    redis.call('PEXPIRE', historyKey, ttlMs)
    redis.call('PEXPIRE', firstKey, ttlMs)
  elseif keep == 'SPAN' then
    k = k + 1
    redis.call('ZREMRANGEBYSCORE', historyKey, '-inf', '(' .. floor)
    for j = i, i + 2 * n - 1, 2 do
      local member = ARGV[j + 1]
      redis.call('ZADD', historyKey, spanScore(redis.call('ZSCORE', historyKey, member), tonumber(ARGV[j])), member)
    end
    i = i + 2 * n
    redis.call('PEXPIRE', historyKey, ttlMs)
  else
    k = k + 1
    -- What the retention drops goes before the members are written: a member whose kept time is
    -- past it (an LT key's first visit 130 days ago) is written afresh, not kept at its old time
    -- and then dropped with it.
    redis.call('ZREMRANGEBYSCORE', historyKey, '-inf', '(' .. floor)
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
    -- Only a write that added a member can take the set past its cap (a card's visit to a merchant it
    -- was seen at before adds none): no ZCARD for the others. A cap lowered in the configuration
    -- applies to a set from its next new member.
    if cap > 0 and added > 0 and redis.call('ZCARD', historyKey) > cap then
      redis.call('ZREMRANGEBYRANK', historyKey, 0, -(cap + 1))
    end
    redis.call('PEXPIRE', historyKey, ttlMs)
  end
end
return #KEYS
