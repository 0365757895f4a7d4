-- A merchant's outcome for a scored transaction, counted once per kind.
-- KEYS[1] marker, KEYS[2..] outcome sets to join. ARGV: outcome kind, member, at (ms), retention ms.
if redis.call('EXISTS', KEYS[1]) == 0 then return 'unknown' end
if redis.call('HSETNX', KEYS[1], 'o:' .. ARGV[1], ARGV[3]) == 0 then return 'duplicate' end
local at, retention = tonumber(ARGV[3]), tonumber(ARGV[4])
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], at, ARGV[2])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. (at - retention))
  redis.call('PEXPIRE', KEYS[i], retention + 3600000)
end
return 'recorded'
