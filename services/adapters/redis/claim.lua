-- A cluster, first step: claim the transaction's marker (its own slot); see claimMarker in counters.lua.
local markerKey, responseKey = KEYS[1], KEYS[2]
local claim = cjson.decode(ARGV[1])

return claimMarker(markerKey, responseKey, claim)
