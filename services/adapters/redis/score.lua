-- One Redis: a transaction in one atomic call. Claims the marker, reads the watchlist entries,
-- records and reads every slot group, keeps the reading on the marker for a retry.
-- KEYS[1] marker, KEYS[2] stored response, then the watchlist buckets, then each group's keys.
-- ARGV[1] JSON {claim (see claimMarker), ref, tail, buckets = {{key, field (hex)}...},
--   groups = {{base = index before the group's first key, ops}...}}.
-- Returns claimMarker's answer, or {status, counting time, kept reading (encodeReading)}.
freshCall()
local markerKey, responseKey = KEYS[1], KEYS[2]
local args = cjson.decode(ARGV[1])
local claimed = claimMarker(markerKey, responseKey, args.claim)
local status = claimed[1]
if status == 'conflict' or status == 'replay' or (status == 'pending' and claimed[3]) then return claimed end
local at, tail = args.claim.at, args.tail
if status == 'pending' then at, tail = tonumber(claimed[2]), claimed[4] end

local entries, since = {}, nil
for i, b in ipairs(args.buckets) do
  local field = string.gsub(b.field, '..', function(h) return string.char(tonumber(h, 16)) end)
  local v = redis.call('HGET', KEYS[b.key], field)
  if v then
    if not since then since = struct.unpack('>I', v, 3) end
    entries[i] = string.gsub(v, '.', function(c) return string.format('%02x', string.byte(c)) end)
  else
    entries[i] = ''
  end
end
local groups = {}
for i, g in ipairs(args.groups) do
  groups[i] = runGroup(KEYS, g.base, { at = at, ref = args.ref, tail = tail, since = since, ops = g.ops })
end
local kept = encodeReading(entries, groups)
redis.call('HSET', markerKey, 'r', kept, 'rl', args.claim.layout)
return {status, tostring(at), kept}
