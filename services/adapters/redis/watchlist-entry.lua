-- A listed card's packed entry, read and written by watchlist-add.lua and watchlist-remove.lua
-- (prepended to each: services/adapters/redis/watchlist-store.ts). As core/watchlist.ts
-- encodeEntry: uint16 elements | uint32 first listed | uint16 expiry tag | uint32 event seq;
-- listed in several events, bit 15 of the elements set and (uint32 seq | uint16 its tag) for each
-- further event. Without the bit and with several events (an earlier version's entry), the one tag
-- is every event's.
local PER_EVENT_TAGS = 32768

-- elements, first listed, and the events' seqs and tags in order.
local function decodeEntry(v)
  local word, first, headTag, pos = struct.unpack('>HIH', v)
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
  return bit.band(word, PER_EVENT_TAGS - 1), first, seqs, tags
end

-- The entry of at least one event: one event's without the bit, several with a tag each.
local function encodeEntry(elements, first, seqs, tags)
  if #seqs == 1 then return struct.pack('>HIHI', elements, first, tags[1], seqs[1]) end
  local parts = { struct.pack('>HIHI', bit.bor(elements, PER_EVENT_TAGS), first, tags[1], seqs[1]) }
  for j = 2, #seqs do parts[#parts + 1] = struct.pack('>IH', seqs[j], tags[j]) end
  return table.concat(parts)
end
