-- Joins one outcome set or fraud-label log (one key, one slot). Idempotent: the member is the
-- transaction's reference. ARGV[1] JSON {member, at, retention, cap (0: none)}.
local setKey = KEYS[1]
local a = cjson.decode(ARGV[1])

redis.call('ZADD', setKey, a.at, a.member)
redis.call('ZREMRANGEBYSCORE', setKey, '-inf', '(' .. (a.at - a.retention))
if a.cap > 0 and redis.call('ZCARD', setKey) > a.cap then redis.call('ZREMRANGEBYRANK', setKey, 0, -(a.cap + 1)) end
redis.call('PEXPIRE', setKey, a.retention + 3600000)
return 1
