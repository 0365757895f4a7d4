-- Lists cards in one compromise event, merging with what other events listed. Touches the
-- buckets in KEYS only: on a Redis Cluster the caller sends one call per slot (watchlist-store.ts),
-- and adds the cards this returns as listed to the event's `listed` statistic itself.
-- KEYS: one bucket per card (a bucket may repeat).
-- ARGV[1] JSON {event = seq, mask = data elements, now = epoch s}; ARGV[2] the cards, in KEYS
-- order, packed 10 bytes each: field (8 bytes) | expiry tag (uint16 BE, 0 when none). One string
-- for the batch, not two arguments per card: each argument costs the client and Redis more than
-- the bytes it carries (bench:watchlist).
-- Entry (core/watchlist.ts encodeEntry): uint16 elements | uint32 first listed | uint16 expiry tag |
-- uint32 event seq; listed in several events, bit 15 of the elements set and (uint32 seq | uint16
-- its tag) for each further event. Without the bit and with several events (an earlier version's
-- entry), the one tag is every event's.
-- Returns one letter per card: n = newly listed, a = added to this event, d = already in it.
local a = cjson.decode(ARGV[1])
local seq, mask, now = tonumber(a.event), tonumber(a.mask), tonumber(a.now)
local cards = ARGV[2]
local PER_EVENT_TAGS = 32768
-- A new card's entry is the same but for its tag: packed once, concatenated per card.
local head, tail = struct.pack('>HI', mask, now), struct.pack('>I', seq)
local out = {}
for i = 1, #KEYS do
  local at = (i - 1) * 10
  local bucket, field, tagBytes = KEYS[i], string.sub(cards, at + 1, at + 8), string.sub(cards, at + 9, at + 10)
  -- Most cards of a list are new: one command lists them, a second reads the others.
  if redis.call('HSETNX', bucket, field, head .. tagBytes .. tail) == 1 then
    out[i] = 'n'
  else
    local tag = struct.unpack('>H', tagBytes)
    local v = redis.call('HGET', bucket, field)
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
    local found = nil
    for j = 1, #seqs do
      if seqs[j] == seq then found = j end
    end
    local changed = true
    if found then
      -- As mergedExpiryTag (core/watchlist.ts): a second, different expiry makes it 0xFFFF, "several".
      local old = tags[found]
      if tag ~= 0 and tag ~= old then
        if old == 0 then tags[found] = tag else tags[found] = 65535 end
      else
        changed = false
      end
      out[i] = 'd'
    else
      seqs[#seqs + 1], tags[#tags + 1] = seq, tag
      elements = bit.bor(elements, mask)
      out[i] = 'a'
    end
    if changed then
      local parts
      if #seqs == 1 then
        parts = { struct.pack('>HIHI', elements, first, tags[1], seqs[1]) }
      else
        parts = { struct.pack('>HIHI', bit.bor(elements, PER_EVENT_TAGS), first, tags[1], seqs[1]) }
        for j = 2, #seqs do parts[#parts + 1] = struct.pack('>IH', seqs[j], tags[j]) end
      end
      redis.call('HSET', bucket, field, table.concat(parts))
    end
  end
end
return table.concat(out)
