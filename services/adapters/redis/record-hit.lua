-- A watchlist hit, counted once per transaction whatever the retries: every key is in the
-- watchlist's `{w}` slot (watchlist-keys.ts). KEYS: per event its hash, merchants set and
-- transactions set (3 keys each, in args.events order), then one hit stream per issuer.
-- ARGV[1] JSON {transaction (merchant:transaction), merchant, now (ms), hit (JSON), events = {seq...}, issuers = {id...}}.
-- Returns 1 when recorded now, 0 when it had been.
local a = cjson.decode(ARGV[1])
local new = false
for i = 1, #a.events do
  local base = (i - 1) * 3
  if redis.call('SADD', KEYS[base + 3], a.transaction) == 1 then
    new = true
    redis.call('PEXPIRE', KEYS[base + 3], 35 * 86400000)
    redis.call('HINCRBY', KEYS[base + 1], 'hits', 1)
    redis.call('SADD', KEYS[base + 2], a.merchant)
    local last = tonumber(redis.call('HGET', KEYS[base + 1], 'lastHit') or '0')
    if a.now > last then redis.call('HSET', KEYS[base + 1], 'lastHit', a.now) end
  end
end
if not new then return 0 end
for i = 1, #a.issuers do
  redis.call('XADD', KEYS[#a.events * 3 + i], 'MAXLEN', '~', 1000000, '*', 'h', a.hit)
end
return 1
