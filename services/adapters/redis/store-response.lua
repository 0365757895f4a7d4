-- After a decision: store the response for idempotent retries (KEYS[1], PX ARGV[2] ms) and drop
-- the reading kept for them on the transaction's marker (KEYS[2]). Both keys share a slot.
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('HDEL', KEYS[2], 'r', 'rl')
return 1
