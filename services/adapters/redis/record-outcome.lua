-- A merchant's outcome for a scored transaction, counted once per kind.
-- KEYS[1] marker, KEYS[2 .. n+1] outcome sets to join at the outcome's time, KEYS[n+2 ..] fraud-label
-- logs to join at the transaction's own time (the marker's t).
-- ARGV: outcome kind, member, at (ms), retention ms, n, label retention ms, label cap.
if redis.call('EXISTS', KEYS[1]) == 0 then return 'unknown' end
if redis.call('HSETNX', KEYS[1], 'o:' .. ARGV[1], ARGV[3]) == 0 then return 'duplicate' end
local at, retention, n = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
for i = 2, n + 1 do
  redis.call('ZADD', KEYS[i], at, ARGV[2])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. (at - retention))
  redis.call('PEXPIRE', KEYS[i], retention + 3600000)
end
if #KEYS > n + 1 then
  local t = tonumber(redis.call('HGET', KEYS[1], 't'))
  local lr, cap = tonumber(ARGV[6]), tonumber(ARGV[7])
  for i = n + 2, #KEYS do
    redis.call('ZADD', KEYS[i], t, ARGV[2])
    -- Trimmed relative to the labelled transaction, as its log is trimmed relative to each event.
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. (t - lr))
    if redis.call('ZCARD', KEYS[i]) > cap then redis.call('ZREMRANGEBYRANK', KEYS[i], 0, -(cap + 1)) end
    redis.call('PEXPIRE', KEYS[i], lr + 3600000)
  end
end
return 'recorded'
