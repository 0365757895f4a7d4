-- A cluster, second step: record and read one slot group (every key shares one hash tag).
-- KEYS: the group's keys. ARGV: the group's shape (see parseGroup), the counting time (ms), the
-- transaction's reference, its log member's tail, the epoch second of its first watchlist entry
-- ('' when none), then the group's values (members) in order.
freshCall()
local shape, at, ref, tail, since = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], tonumber(ARGV[5])
local groups = shapeOf(shape)
probe(KEYS, groups, 0)
local args = { at = at, ref = ref, tail = tail, since = since, ops = groups[1], values = ARGV, next = 6, out = {}, n = 0 }
runGroup(KEYS, 0, args)
return args.out
