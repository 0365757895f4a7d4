-- A cluster, first step: claim the transaction's marker (its own slot). KEYS[1] marker,
-- KEYS[2] stored response; ARGV[1] JSON claim (see claimMarker in counters.lua).
return claimMarker(KEYS[1], KEYS[2], cjson.decode(ARGV[1]))
