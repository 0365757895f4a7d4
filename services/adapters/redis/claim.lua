-- A cluster, first step: claim the transaction's marker (its own slot); see claimMarker in counters.lua.
-- KEYS[1] marker, KEYS[2] stored response, KEYS[3] kept reading; ARGV: the claim (see claimFrom).
freshCall()
return claimMarker(KEYS[1], KEYS[2], KEYS[3], (claimFrom(ARGV, 1)))
