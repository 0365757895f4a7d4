-- One Redis: a transaction in one atomic call. Claims the marker, reads the watchlist entries,
-- records and reads every slot group, keeps the reading for a retry (under the kept key).
-- KEYS[1] marker, KEYS[2] stored response, KEYS[3] kept reading, then the watchlist buckets,
-- then each group's keys.
-- ARGV: the groups' shape (see parseGroup), the claim (see claimFrom), the transaction's
-- reference, a watchlist field (hex) per bucket, then the groups' values (members) in order.
-- Returns claimMarker's answer, or {status, counting time, kept reading (packReading)}.
freshCall()
local markerKey, responseKey, keptKey = KEYS[1], KEYS[2], KEYS[3]
local shape = shapeOf(ARGV[1])
local claim, afterClaim = claimFrom(ARGV, 2)
local ref = ARGV[afterClaim]
local firstField = afterClaim + 1
local claimed = claimMarker(markerKey, responseKey, keptKey, claim)
local status = claimed[1]
if status == 'conflict' or status == 'replay' or (status == 'pending' and claimed[3]) then return claimed end
local at, atText, tail = claim.at, claim.atText, claim.tail
if status == 'pending' then at, atText, tail = tonumber(claimed[2]), claimed[2], claimed[4] end

-- The keys that are not the transaction's or the groups' are watchlist buckets.
local buckets = #KEYS - 3 - shape.keys
local entries, since = {}, nil
for i = 1, buckets do
  local v = call('HGET', KEYS[3 + i], fromHex(ARGV[firstField + i - 1]))
  if v then
    if not since then since = struct.unpack('>I', v, 3) end
    entries[i] = string.gsub(v, '.', function(c) return string.format('%02x', string.byte(c)) end)
  else
    entries[i] = ''
  end
end
-- The groups' numbers go to the call's buffer (READING), each group's end noted in ENDS.
local base = 3 + buckets
probe(KEYS, shape, base)
local args = { at = at, ref = ref, tail = tail, since = since, values = ARGV, next = firstField + buckets, out = READING, n = 0 }
for i, g in ipairs(shape) do
  args.ops = g
  runGroup(KEYS, base, args)
  ENDS[i] = args.n
  base = base + g.keys
end
local kept = packReading(entries, READING, ENDS, #shape)
call('SET', keptKey, claim.layout .. '\n' .. kept, 'PX', claim.keptTtl)
return {status, atText, kept}
