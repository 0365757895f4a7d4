-- Takes cards off events: off every event (an admin's removal: the card was reissued or closed),
-- or off some only (an issuer's: its own events'); an entry left with no event goes. Touches the
-- buckets in KEYS only: the caller counts the removals into the events' `removed` statistics (in
-- the `{w}` slot).
-- KEYS: one bucket per card (all in one slot on a Redis Cluster); ARGV[1] "*" (every event) or a
-- JSON array of the event seqs to take the cards off; ARGV[2..]: the matching fields.
-- Entry: as watchlist-add.lua (a tag per further event when bit 15 of the elements is set).
-- Returns {cards taken off at least one event, then the seq of every event each was taken off}.
local PER_EVENT_TAGS = 32768
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
    local word, first, headTag, pos = struct.unpack('>HIH', v)
    local elements = bit.band(word, PER_EVENT_TAGS - 1)
    local seqs, tags = {}, {}
    if bit.band(word, PER_EVENT_TAGS) == 0 then
      while pos <= #v do
        seqs[#seqs + 1], pos = struct.unpack('>I', v, pos)
        tags[#tags + 1] = headTag
      end
    else
      seqs[1], pos = struct.unpack('>I', v, pos)
      tags[1] = headTag
      while pos <= #v do
        local s, t
        s, t, pos = struct.unpack('>IH', v, pos)
        seqs[#seqs + 1], tags[#tags + 1] = s, t
      end
    end
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
      elseif #keptSeqs == 1 then
        redis.call('HSET', bucketKey, field, struct.pack('>HIHI', elements, first, keptTags[1], keptSeqs[1]))
      else
        local parts = { struct.pack('>HIHI', bit.bor(elements, PER_EVENT_TAGS), first, keptTags[1], keptSeqs[1]) }
        for j = 2, #keptSeqs do parts[#parts + 1] = struct.pack('>IH', keptSeqs[j], keptTags[j]) end
        redis.call('HSET', bucketKey, field, table.concat(parts))
      end
    end
  end
end
table.insert(out, 1, removed)
return out
