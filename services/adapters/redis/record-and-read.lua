-- One transaction, one atomic step: check the idempotency marker, record the transaction in
-- every counter, read every window. KEYS[1] marker, KEYS[2] stored response, the rest counters.
-- ARGV[1]: JSON {h = payload hash, t = occurredAt ms, e = entities JSON, mt = marker TTL ms, l = the plan's layout,
--   ops = list of {kind, writeKey, {readKeys}, member, retentionMs, cap, {windows}, {amountWindows}, {smallWindows}}
--   or, for kind 'delayed', {kind, writeKey, {readKeys}, member, retentionMs, cap, delayMs, {windows}, {fraudKeys}}}
--   (key fields are indexes into KEYS), w = optional watchlist lookup {slots = {{bucketKey, fieldHex}...}, logs = {cardLogKeys}},
--   n = optional list lookup: groups of key indexes (one group per negative kind, the allow-list group last).
-- Returns {status, storedResponse (replay) or counting time (pending), values..., [entryHex per slot..., usesSinceListed], [list flags...]}; numbers as strings.
-- The marker keeps that reading (field r) until the response is stored: a pending retry gets it back.
local plan = cjson.decode(ARGV[1])
local t = plan.t
local write = true
local status = 'new'

local known = redis.call('HGET', KEYS[1], 'h')
if known then
  if known ~= plan.h then return {'conflict', ''} end
  local stored = redis.call('GET', KEYS[2])
  if stored then return {'replay', stored} end
  -- Counted before, response never stored (crashed or in flight): the reading taken when it was
  -- counted, so that the decision comes out the same (reading again now would not: later
  -- transactions have moved the distinct sets' last-seen times past this one's).
  local kept = redis.call('HMGET', KEYS[1], 'r', 'rl', 't')
  local saved = kept[1]
  -- Only for a plan of the same shape (not across a deploy that changed the counters, a key
  -- rotation's end or a switch of the lists): otherwise read again, as for an old marker.
  if saved and kept[2] == plan.l then
    -- The second slot carries the time it was counted at (a retry without occurredAt has a new one).
    local again = {'pending', kept[3]}
    for v in string.gmatch(saved .. ',', '([^,]*),') do again[#again + 1] = v end
    return again
  end
  -- No reading kept (an old marker) or one of another shape: read, do not count again.
  status = 'pending'
  write = false
else
  redis.call('HSET', KEYS[1], 'h', plan.h, 'e', plan.e, 't', t)
  redis.call('PEXPIRE', KEYS[1], plan.mt)
end

local out = {status, ''}
local function push(v) out[#out + 1] = tostring(v) end
local function maxOf(list) local m = 0 for _, v in ipairs(list) do if v > m then m = v end end return m end

-- Trimming and capping only bound memory (windows never count what is out of range), so they
-- run on a sample of writes, chosen by the event time: every 4th and every 32nd millisecond.
local trimNow, capNow = t % 4 == 0, t % 32 == 0
local function remember(key, member, retention, cap, gt)
  if gt then redis.call('ZADD', key, 'GT', t, member) else redis.call('ZADD', key, t, member) end
  if trimNow then redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. (t - retention)) end
  if capNow and cap > 0 and redis.call('ZCARD', key) > cap then redis.call('ZREMRANGEBYRANK', key, 0, -(cap + 1)) end
  redis.call('PEXPIRE', key, retention + 3600000)
end

local function counts(readKeys, windows)
  for _, w in ipairs(windows) do
    local n = 0
    for _, k in ipairs(readKeys) do n = n + redis.call('ZCOUNT', KEYS[k], '(' .. (t - w), t) end
    push(n)
  end
end

for _, op in ipairs(plan.ops) do
  local kind, wk, rks = op[1], op[2], op[3]
  if kind == 'log' then
    local member, retention, cap, cw, aw, sw = op[4], op[5], op[6], op[7], op[8], op[9]
    if write then remember(KEYS[wk], member, retention, cap, false) end
    if #aw == 0 and #sw == 0 then
      counts(rks, cw)
    else
      -- Sums need the members: one range read over the longest window gives counts, sums and
      -- small-amount counts together, bucketed here.
      local horizon = math.max(maxOf(cw), maxOf(aw), maxOf(sw))
      local ns, sums, smalls = {}, {}, {}
      for i = 1, #cw do ns[i] = 0 end
      for i = 1, #aw do sums[i] = 0 end
      for i = 1, #sw do smalls[i] = 0 end
      for _, k in ipairs(rks) do
        local rows = redis.call('ZRANGEBYSCORE', KEYS[k], '(' .. (t - horizon), t, 'WITHSCORES')
        for i = 1, #rows, 2 do
          local _, _, amount, small = string.find(rows[i], '|(%d+)|(%d)$')
          local age = t - tonumber(rows[i + 1])
          for j, w in ipairs(cw) do if age < w then ns[j] = ns[j] + 1 end end
          for j, w in ipairs(aw) do if age < w then sums[j] = sums[j] + tonumber(amount) end end
          for j, w in ipairs(sw) do if age < w and small == '1' then smalls[j] = smalls[j] + 1 end end
        end
      end
      for i = 1, #cw do push(ns[i]) end
      for i = 1, #aw do push(sums[i]) end
      for i = 1, #sw do push(smalls[i]) end
    end
  elseif kind == 'distinct' then
    local member, retention, windows = op[4], op[5], op[7]
    -- GT: a late event never moves a member's last-seen time backwards.
    if write then remember(KEYS[wk], member, retention, 0, true) end
    if #rks == 1 then
      counts(rks, windows)
    else
      -- During key rotation the same entity has two identities: union their members.
      local lastSeen = {}
      local horizon = maxOf(windows)
      for _, k in ipairs(rks) do
        local rows = redis.call('ZRANGEBYSCORE', KEYS[k], '(' .. (t - horizon), t, 'WITHSCORES')
        for i = 1, #rows, 2 do
          local s = tonumber(rows[i + 1])
          if not lastSeen[rows[i]] or lastSeen[rows[i]] < s then lastSeen[rows[i]] = s end
        end
      end
      for _, w in ipairs(windows) do
        local n = 0
        for _, s in pairs(lastSeen) do if t - s < w then n = n + 1 end end
        push(n)
      end
    end
  elseif kind == 'delayed' then
    -- Windows (t - delay - w, t - delay]: transactions, then fraud labels (scored at their
    -- transaction's time). ZCARD and ZCOUNT are O(1) and O(log n): cheap on a big merchant.
    local member, retention, cap, delay, windows, fks = op[4], op[5], op[6], op[7], op[8], op[9]
    if write then remember(KEYS[wk], member, retention, cap, false) end
    local hi = t - delay
    -- A saturated log keeps only its newest events: both counts then start at its oldest event,
    -- so that the fraud share stays a share of the same transactions.
    local floor = nil
    for _, k in ipairs(rks) do
      if redis.call('ZCARD', KEYS[k]) >= cap then
        local oldest = redis.call('ZRANGE', KEYS[k], 0, 0, 'WITHSCORES')
        local f = tonumber(oldest[2]) - 1
        if not floor or f > floor then floor = f end
      end
    end
    local los = {}
    for i, w in ipairs(windows) do
      los[i] = hi - w
      if floor and floor > los[i] then los[i] = floor end
    end
    for i = 1, #windows do
      local n = 0
      if los[i] < hi then for _, k in ipairs(rks) do n = n + redis.call('ZCOUNT', KEYS[k], '(' .. los[i], hi) end end
      push(n)
    end
    -- Most merchants have no fraud label: one EXISTS spares a count per window.
    local any = 0
    for _, k in ipairs(fks) do any = any + redis.call('EXISTS', KEYS[k]) end
    for i = 1, #windows do
      local n = 0
      if any > 0 and los[i] < hi then for _, k in ipairs(fks) do n = n + redis.call('ZCOUNT', KEYS[k], '(' .. los[i], hi) end end
      push(n)
    end
  else
    -- Outcome sets are empty for most entities: one EXISTS spares a count per window.
    local any = 0
    for _, k in ipairs(rks) do any = any + redis.call('EXISTS', KEYS[k]) end
    if any == 0 then
      for _ = 1, #op[7] do push(0) end
    else
      counts(rks, op[7])
    end
  end
end
if plan.w then
  -- The watchlist entry of each fingerprint (primary, then previous key), hex-encoded.
  local firstListed = nil
  for _, slot in ipairs(plan.w.slots) do
    local field = string.gsub(slot[2], '..', function(h) return string.char(tonumber(h, 16)) end)
    local v = redis.call('HGET', KEYS[slot[1]], field)
    if v then
      if not firstListed then firstListed = struct.unpack('>I', v, 3) end
      out[#out + 1] = string.gsub(v, '.', function(c) return string.format('%02x', string.byte(c)) end)
    else
      out[#out + 1] = ''
    end
  end
  -- Earlier uses of the card since it was listed (the current transaction excluded).
  local uses = 0
  if firstListed then
    for _, k in ipairs(plan.w.logs) do uses = uses + redis.call('ZCOUNT', KEYS[k], '(' .. (firstListed * 1000), '(' .. t) end
  end
  push(uses)
end
if plan.n then
  -- Negative lists (any identity of the entity) and the card's allow-list entry for this merchant.
  for _, group in ipairs(plan.n) do
    local hit = 0
    for _, k in ipairs(group) do hit = hit + redis.call('EXISTS', KEYS[k]) end
    push(hit > 0 and 1 or 0)
  end
end
-- Kept until the response is stored (finalize.lua drops it): what a retry in between reads.
if write and #out > 2 then redis.call('HSET', KEYS[1], 'r', table.concat(out, ',', 3), 'rl', plan.l) end
return out
