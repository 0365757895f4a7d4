-- Takes cards off events: off every event (an admin's removal: the card was reissued or closed),
-- or off some only (an issuer's: its own events'); an entry left with no event goes. Touches the
-- buckets in KEYS only: the caller counts the removals into the events' `removed` statistics (in
-- the `{w}` slot).
-- KEYS: one bucket per card (all in one slot on a Redis Cluster); ARGV[1] "*" (every event) or a
-- JSON array of the event seqs to take the cards off; ARGV[2..]: the matching fields.
-- Entries: watchlist-entry.lua (decodeEntry, encodeEntry), prepended.
-- Returns {cards taken off at least one event, then the seq of every event each was taken off}.
local only = nil
if ARGV[1] ~= '*' then
  only = {}
  for _, s in ipairs(cjson.decode(ARGV[1])) do only[tonumber(s)] = true end
end
local removed = 0
local out = {}
for i = 1, #KEYS do
  local bucketKey, field = KEYS[i], ARGV[i + 1]
  local v = redis.call('HGET', bucketKey, field)
  if v then
    local elements, first, seqs, tags = decodeEntry(v)
    local keptSeqs, keptTags, taken = {}, {}, 0
    for j = 1, #seqs do
      if only == nil or only[seqs[j]] then
        out[#out + 1] = seqs[j]
        taken = taken + 1
      else
        keptSeqs[#keptSeqs + 1], keptTags[#keptTags + 1] = seqs[j], tags[j]
      end
    end
    if taken > 0 then
      removed = removed + 1
      if #keptSeqs == 0 then
        redis.call('HDEL', bucketKey, field)
      else
        redis.call('HSET', bucketKey, field, encodeEntry(elements, first, keptSeqs, keptTags))
      end
    end
  end
end
table.insert(out, 1, removed)
return out
