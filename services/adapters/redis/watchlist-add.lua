-- Lists cards in one compromise event, merging with what other events listed. Touches the
-- buckets in KEYS only: on a Redis Cluster the caller sends one call per slot (watchlist-store.ts),
-- and adds the cards this returns as listed to the event's `listed` statistic itself.
-- KEYS: one bucket per card (a bucket may repeat).
-- ARGV[1] JSON {event = seq, mask = data elements, now = epoch s}; ARGV[2] the cards, in KEYS
-- order, packed 10 bytes each: field (8 bytes) | expiry tag (uint16 BE, 0 when none). One string
-- for the batch, not two arguments per card: each argument costs the client and Redis more than
-- the bytes it carries (bench:watchlist).
-- Entry: uint16 elements | uint32 first listed | uint16 expiry tag | uint32 event seq × n.
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
    local v = redis.call('HGET', bucket, field)
    local elements, first, oldTag, pos = struct.unpack('>HIH', v)
    local present = false
    while pos <= #v do
      local s
      s, pos = struct.unpack('>I', v, pos)
      if s == seq then present = true end
    end
    -- As mergedExpiryTag (core/watchlist.ts): a second, different expiry makes it 0xFFFF, "several".
    local newTag = oldTag
    if tag ~= 0 and tag ~= oldTag then
      if oldTag == 0 then newTag = tag else newTag = 65535 end
    end
    if present then
      if newTag ~= oldTag then redis.call('HSET', bucket, field, struct.pack('>HIH', elements, first, newTag) .. string.sub(v, 9)) end
      out[i] = 'd'
    else
      redis.call('HSET', bucket, field, struct.pack('>HIH', bit.bor(elements, mask), first, newTag) .. string.sub(v, 9) .. struct.pack('>I', seq))
      out[i] = 'a'
    end
  end
end
return table.concat(out)
