-- A fixed-window counter, shared by every engine: the window starts at the first hit and lasts
-- ARGV[1] ms (the key expires with it). One key: runs on any node of a Redis Cluster.
-- KEYS[1] the counter. ARGV[1] window (ms). Returns {hits in this window, ms left in it}.
local current = redis.call('INCR', KEYS[1])
if current == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  return {current, tonumber(ARGV[1])}
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  -- A counter without expiry (never left by this script; written by hand): give it one.
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}
