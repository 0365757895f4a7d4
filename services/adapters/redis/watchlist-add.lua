-- Lists a batch of cards in one compromise event, merging with what other events listed.
-- KEYS: one bucket per card, then the event's statistics hash last.
-- ARGV[1] event seq, ARGV[2] element mask, ARGV[3] now (epoch s), then per card: field (8 bytes), expiry tag.
-- Entry: uint16 elements | uint32 first listed | uint16 expiry tag | uint32 event seq × n.
-- Returns one letter per card: n = newly listed, a = added to this event, d = already in it.
local seq, mask, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local n = #KEYS - 1
local out = {}
local listed = 0
for i = 1, n do
  local bucket, field, tag = KEYS[i], ARGV[2 + 2 * i], tonumber(ARGV[3 + 2 * i])
  local v = redis.call('HGET', bucket, field)
  if not v then
    redis.call('HSET', bucket, field, struct.pack('>HIHI', mask, now, tag, seq))
    out[i] = 'n'
    listed = listed + 1
  else
    local elements, first, oldTag, pos = struct.unpack('>HIH', v)
    local seqs = {}
    local present = false
    while pos <= #v do
      local s
      s, pos = struct.unpack('>I', v, pos)
      seqs[#seqs + 1] = s
      if s == seq then present = true end
    end
    local newTag = oldTag
    if tag ~= 0 then newTag = tag end
    if present then
      if newTag ~= oldTag then redis.call('HSET', bucket, field, struct.pack('>HIH', elements, first, newTag) .. string.sub(v, 9)) end
      out[i] = 'd'
    else
      redis.call('HSET', bucket, field, struct.pack('>HIH', bit.bor(elements, mask), first, newTag) .. string.sub(v, 9) .. struct.pack('>I', seq))
      out[i] = 'a'
      listed = listed + 1
    end
  end
end
if listed > 0 then redis.call('HINCRBY', KEYS[#KEYS], 'listed', listed) end
return table.concat(out)
