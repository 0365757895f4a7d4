-- Lists cards in one compromise event, merging with what other events listed. Touches the
-- buckets in KEYS only: on a Redis Cluster the caller sends one call per slot (watchlist-store.ts),
-- and adds the cards this returns as listed to the event's `listed` statistic itself.
-- KEYS: one bucket per card (a bucket may repeat).
-- ARGV[1] JSON {event = seq, mask = data elements, now = epoch s}; ARGV[2] the cards, in KEYS
-- order, packed 10 bytes each: field (8 bytes) | expiry tag (uint16 BE, 0 when none). One string
-- for the batch, not two arguments per card: each argument costs the client and Redis more than
-- the bytes it carries (bench:watchlist).
-- Entries: watchlist-entry.lua (decodeEntry, encodeEntry), prepended.
-- Returns one letter per card: n = newly listed, a = added to this event, d = already in it.
local a = cjson.decode(ARGV[1])
local seq, mask, now = tonumber(a.event), tonumber(a.mask), tonumber(a.now)
local cards = ARGV[2]
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
    local elements, first, seqs, tags = decodeEntry(redis.call('HGET', bucket, field))
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
    if changed then redis.call('HSET', bucket, field, encodeEntry(elements, first, seqs, tags)) end
  end
end
return table.concat(out)
