-- A watchlist hit, counted once per transaction whatever the retries: every key is in the
-- watchlist's `{w}` slot (watchlist-keys.ts). KEYS: per event its hash, merchants set and
-- transactions set (3 keys each, in args.events order), then one hit stream per issuer, then the
-- issuers' BIN ranges hash.
-- ARGV[1] JSON {transaction (merchant:transaction), merchant, now (ms), hit (JSON), events = {seq...},
-- issuers = {id...}, shownTo = {id...} (the issuers the engine found the card's full number in the
-- ranges of) or, from an engine that decided nothing, bin (the card's 6 digits), everyHitIssuer
-- (Leakguard's own events' issuer)}.
-- An event's statistics count the hit only when its issuer is shown it, as GET /v1/issuer/hits
-- filters (countsInEventStatistics in core/watchlist.ts): named in shownTo, else the BIN in its ranges.
-- Returns 1 when recorded now, 0 when it had been.
local a = cjson.decode(ARGV[1])
local rangesKey = KEYS[#a.events * 3 + #a.issuers + 1]
local shown = {}
if a.shownTo then
  for _, id in ipairs(a.shownTo) do shown[id] = true end
end
local function counts(eventKey)
  local meta = redis.call('HGET', eventKey, 'm')
  if not meta then return false end
  local issuer = cjson.decode(meta).issuerId
  if issuer == a.everyHitIssuer then return true end
  if a.shownTo then return shown[issuer] == true end
  local raw = redis.call('HGET', rangesKey, issuer)
  if not raw then return false end
  for _, r in ipairs(cjson.decode(raw)) do
    -- binInRanges: the card's first digits, as many as the range's, between its two ends.
    local prefix = string.sub(a.bin, 1, #r.from)
    if prefix >= r.from and prefix <= r.to then return true end
  end
  return false
end
local new = false
for i = 1, #a.events do
  local base = (i - 1) * 3
  if redis.call('SADD', KEYS[base + 3], a.transaction) == 1 then
    new = true
    redis.call('PEXPIRE', KEYS[base + 3], 35 * 86400000)
    if counts(KEYS[base + 1]) then
      redis.call('HINCRBY', KEYS[base + 1], 'hits', 1)
      redis.call('SADD', KEYS[base + 2], a.merchant)
      local last = tonumber(redis.call('HGET', KEYS[base + 1], 'lastHit') or '0')
      if a.now > last then redis.call('HSET', KEYS[base + 1], 'lastHit', a.now) end
    end
  end
end
if not new then return 0 end
for i = 1, #a.issuers do
  redis.call('XADD', KEYS[#a.events * 3 + i], 'MAXLEN', '~', 1000000, '*', 'h', a.hit)
end
return 1
