-- A cluster, second step: record and read one slot group (every key shares one hash tag).
-- KEYS: the group's keys; ARGV[1] JSON {at, ref, tail, since, ops} (see runGroup in counters.lua).
freshCall()
return runGroup(KEYS, 0, cjson.decode(ARGV[1]))
