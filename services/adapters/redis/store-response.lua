-- After decisions: store each response for idempotent retries and drop the reading kept for them.
-- One Redis: the responses that concluded together, in one call; a cluster: one transaction a
-- call (its keys share a slot).
-- KEYS: per transaction, its response key, its kept reading's key, and on a cluster its marker,
-- whose claim time `c` (what tells a retry that the transaction is being recorded) goes: 32 bytes
-- of the marker's ~330 for its 35 days (MEMORY USAGE). One Redis writes none (counters.lua claimFrom).
-- ARGV[1]: how long a response is kept, ms; ARGV[1 + i]: the i-th transaction's response
local ttlMs = ARGV[1]
local count = #ARGV - 1
local stride = #KEYS / count
for i = 1, count do
  local at = stride * (i - 1)
  redis.call('SET', KEYS[at + 1], ARGV[i + 1], 'PX', ttlMs)
  redis.call('DEL', KEYS[at + 2])
  if stride == 3 then redis.call('HDEL', KEYS[at + 3], 'c') end
end
return count
