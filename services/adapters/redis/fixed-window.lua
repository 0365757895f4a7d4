-- A fixed-window counter, shared by every engine: the window starts at the first hit and lasts
-- windowMs (the key expires with it). One key: runs on any node of a Redis Cluster.
-- ARGV: windowMs, then how many hits to count (1 unless an engine takes a lease of them).
-- Returns {hits in this window, these included; ms left in it}.
local counterKey = KEYS[1]
local windowMs = tonumber(ARGV[1])
local hits = tonumber(ARGV[2] or '1')

local current = redis.call('INCRBY', counterKey, hits)
if current == hits then
  redis.call('PEXPIRE', counterKey, windowMs)
  return {current, windowMs}
end
local ttl = redis.call('PTTL', counterKey)
if ttl < 0 then
  -- A counter without expiry (never left by this script; written by hand): give it one.
  redis.call('PEXPIRE', counterKey, windowMs)
  ttl = windowMs
end
return {current, ttl}
