-- Lists cards in one compromise event, merging with what other events listed. Touches the
-- buckets in KEYS only: on a Redis Cluster the caller sends one call per slot (watchlist-store.ts),
-- and adds the cards this returns as listed to the event's `listed` statistic itself.
-- KEYS: one bucket per card (a bucket may repeat).
-- ARGV[1] JSON {event = seq, mask = data elements, now = epoch s}; then per card, in KEYS order:
-- field (8 bytes), expiry tag (0 when none).
-- Entry: uint16 elements | uint32 first listed | uint16 expiry tag | uint32 event seq × n.
-- Returns one letter per card: n = newly listed, a = added to this event, d = already in it.
local a = cjson.decode(ARGV[1])
local seq, mask, now = tonumber(a.event), tonumber(a.mask), tonumber(a.now)
local out = {}
for i = 1, #KEYS do
  local bucket, field, tag = KEYS[i], ARGV[2 * i], tonumber(ARGV[2 * i + 1])
  local v = redis.call('HGET', bucket, field)
  if not v then
    redis.call('HSET', bucket, field, struct.pack('>HIHI', mask, now, tag, seq))
    out[i] = 'n'
  else
    local elements, first, oldTag, pos = struct.unpack('>HIH', v)
    local present = false
    while pos <= #v do
      local s
      s, pos = struct.unpack('>I', v, pos)
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
    end
  end
end
return table.concat(out)
