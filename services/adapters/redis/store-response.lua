-- After decisions: store each response for idempotent retries and drop the reading kept for them.
-- One Redis: the responses that concluded together, in one call; a cluster: one transaction a
-- call (its keys share a slot).
-- KEYS: per transaction, its response key then its kept reading's key
-- ARGV[1]: how long a response is kept, ms; ARGV[1 + i]: the i-th transaction's response
local ttlMs = ARGV[1]
for i = 1, #ARGV - 1 do
  redis.call('SET', KEYS[2 * i - 1], ARGV[i + 1], 'PX', ttlMs)
  redis.call('DEL', KEYS[2 * i])
end
return #ARGV - 1
