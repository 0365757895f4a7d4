-- Joins one outcome set or fraud-label log (one key, one slot). Idempotent: the member is the
-- transaction's reference. KEYS[1] the set; ARGV[1] JSON {member, at, retention, cap (0: none)}.
local a = cjson.decode(ARGV[1])
redis.call('ZADD', KEYS[1], a.at, a.member)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (a.at - a.retention))
if a.cap > 0 and redis.call('ZCARD', KEYS[1]) > a.cap then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(a.cap + 1)) end
redis.call('PEXPIRE', KEYS[1], a.retention + 3600000)
return 1
