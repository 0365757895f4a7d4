-- Removes cards from every event (the card was reissued or closed). Touches the buckets in KEYS
-- only: the caller counts the removals into the events' `removed` statistics (in the `{w}` slot).
-- KEYS: one bucket per card (all in one slot on a Redis Cluster); ARGV: the matching fields.
-- Returns {cards removed, then the event seq of every event each removed card was listed in}.
local removed = 0
local seqs = {}
for i = 1, #KEYS do
  local bucketKey, field = KEYS[i], ARGV[i]
  local v = redis.call('HGET', bucketKey, field)
  if v then
    redis.call('HDEL', bucketKey, field)
    removed = removed + 1
    local pos = 9
    while pos <= #v do
      local s
      s, pos = struct.unpack('>I', v, pos)
      seqs[#seqs + 1] = s
    end
  end
end
table.insert(seqs, 1, removed)
return seqs
