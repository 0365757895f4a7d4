-- Removes cards from every event (the card was reissued or closed). Touches the buckets in KEYS
-- only: the caller counts the removals into the events' `removed` statistics (in the `{w}` slot).
-- KEYS: one bucket per card (all in one slot on a Redis Cluster); ARGV: the matching fields.
-- Entry: as watchlist-add.lua (a tag per further event when bit 15 of the elements is set).
-- Returns {cards removed, then the event seq of every event each removed card was listed in}.
local removed = 0
local seqs = {}
for i = 1, #KEYS do
  local bucketKey, field = KEYS[i], ARGV[i]
  local v = redis.call('HGET', bucketKey, field)
  if v then
    redis.call('HDEL', bucketKey, field)
    removed = removed + 1
    local word = struct.unpack('>H', v)
    local stride = 4
    if bit.band(word, 32768) ~= 0 then stride = 6 end
    local pos = 9
    while pos <= #v do
      seqs[#seqs + 1] = struct.unpack('>I', v, pos)
      if pos == 9 then pos = 13 else pos = pos + stride end
    end
  end
end
table.insert(seqs, 1, removed)
return seqs
