-- Removes cards from every event (the card was reissued or closed).
-- KEYS: buckets; ARGV: the matching fields. Returns how many cards were listed and are removed.
local removed = 0
for i = 1, #KEYS do
  local v = redis.call('HGET', KEYS[i], ARGV[i])
  if v then
    redis.call('HDEL', KEYS[i], ARGV[i])
    removed = removed + 1
    local pos = 9
    while pos <= #v do
      local s
      s, pos = struct.unpack('>I', v, pos)
      redis.call('HINCRBY', 'lg:w:ev:' .. s, 'removed', 1)
    end
  end
end
return removed
