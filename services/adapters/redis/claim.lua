-- A cluster, first step: claim the transaction's marker (its own slot); see claimMarker in counters.lua.
-- KEYS[1] marker, KEYS[2] stored response; ARGV: the claim (see claimFrom).
freshCall()
return claimMarker(KEYS[1], KEYS[2], claimFrom(ARGV, 1))
