-- After a decision: store the response for idempotent retries and, once per transaction,
-- record a watchlist hit for the issuers whose events list the card.
-- KEYS[1] response, KEYS[2] transaction marker. ARGV[1] response, ARGV[2] response TTL ms,
-- ARGV[3] hit JSON ('' when none), ARGV[4] merchant, ARGV[5] now ms, ARGV[6] event seqs (comma list), ARGV[7] issuers (comma list).
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
-- Retries now replay the response: the reading kept for them (record-and-read.lua) can go.
redis.call('HDEL', KEYS[2], 'r', 'rl')
if ARGV[3] == '' or redis.call('HSETNX', KEYS[2], 'hit', '1') == 0 then return 0 end
for issuer in string.gmatch(ARGV[7], '[^,]+') do
  redis.call('XADD', 'lg:w:hits:{' .. issuer .. '}', 'MAXLEN', '~', 1000000, '*', 'h', ARGV[3])
end
for seq in string.gmatch(ARGV[6], '[^,]+') do
  local ev = 'lg:w:ev:' .. seq
  redis.call('HINCRBY', ev, 'hits', 1)
  redis.call('SADD', ev .. ':merchants', ARGV[4])
  local last = tonumber(redis.call('HGET', ev, 'lastHit') or '0')
  if tonumber(ARGV[5]) > last then redis.call('HSET', ev, 'lastHit', ARGV[5]) end
end
return 1
