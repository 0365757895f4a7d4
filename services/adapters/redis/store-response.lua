-- After a decision: store the response for idempotent retries and drop the reading kept for them
-- on the transaction's marker. Both keys share a slot.
local responseKey, markerKey = KEYS[1], KEYS[2]
local response, ttlMs = ARGV[1], ARGV[2]

redis.call('SET', responseKey, response, 'PX', ttlMs)
redis.call('HDEL', markerKey, 'r', 'rl')
return 1
