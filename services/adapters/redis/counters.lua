-- The top level of the velocity function library (lua.ts LuaLibrary; its functions are the
-- bodies of score.lua, claim.lua and group.lua): claiming a transaction's marker and running one
-- slot group's counter operations. Runs once per load, not per call: what lives here outlives a
-- call (DEF_LIST, generated ahead of this file, never changes; the parsed shapes, SHAPES, the
-- number caches and a call's buffers are kept from call to call, each bounded).
-- Arguments travel positionally (ARGV), named at the head of each function; an operation list
-- as its shape (parseGroup), its own values (members) after the named arguments.

-- The globals the functions use, as locals (upvalues): in a function library each read of a
-- global goes through Redis's guard of the global table, ~150 instructions (measured), and a
-- scoring reads them hundreds of times, in its inner loops. Taken at the start of each call
-- (useGlobals), not at load: a library's load may not read them.
local function globalsNow()
  return redis.call, string, math, table, struct, type, tonumber, tostring, ipairs, unpack
end
local call, string, math, table, struct, type, tonumber, tostring, ipairs, unpack
local function useGlobals()
  if not call then call, string, math, table, struct, type, tonumber, tostring, ipairs, unpack = globalsNow() end
end

-- What a call allocates, Lua's collector pays for again: each table, closure or string made per
-- call costs its marking and sweeping besides its making (ten tables of ten numbers: ~80,000
-- instructions a call, more than eight commands; a replay of bench:cost's calls under callgrind).
-- So a call's state lives in this file's locals, set at each call, its buffers are reused, and
-- the helpers below are made once, at load: a call allocates little beyond the strings it must.
-- Formatting a number (tostring) costs Lua a printf of 14 significant digits: ~1,500 instructions.
-- The numbers here are integers (times, counts, sums of cents), formatted by %d, each once: small
-- ones kept from call to call, the others (a call's time and its windows' bounds) for a while.
local SMALL, FORMATTED, EXCLUSIVE, CACHED = {}, {}, {}, 0
-- Whether the call's numbers include a union's rows (member and last seen, as strings: key rotation):
-- such a reading is kept as text (packReading).
local UNION_ROWS = false
-- Whether every key the call only probes (probe) is absent.
local ABSENT = false
local function freshCall()
  useGlobals()
  UNION_ROWS, ABSENT = false, false
  -- Bounded: each call adds a handful of entries.
  if CACHED > 512 then FORMATTED, EXCLUSIVE, CACHED = {}, {}, 0 end
end
local function formatted(n)
  local s = SMALL[n] or FORMATTED[n]
  if s then return s end
  local integer = n == math.floor(n)
  s = integer and string.format('%d', n) or tostring(n)
  if integer and n >= 0 and n < 1024 then SMALL[n] = s else FORMATTED[n], CACHED = s, CACHED + 1 end
  return s
end
-- A score range's exclusive bound, '(n'.
local function exclusive(n)
  local s = EXCLUSIVE[n]
  if not s then s = '(' .. formatted(n); EXCLUSIVE[n], CACHED = s, CACHED + 1 end
  return s
end

-- The reading as text, in the format of services/core/velocity.ts encodeRawReading: watchlist
-- entries joined by ',', '|', then each group's numbers joined by ',', groups by ';'. Only for a
-- reading holding a union's rows (packReading packs the others). The groups' values are
-- out[1..ends[count]], group i's ending at ends[i]; numbers are formatted in place (out is the
-- call's buffer: READING), the rows' strings left as they are.
local PARTS = {}
local function encodeReading(entries, out, ends, count)
  local first = 1
  for i = 1, count do
    local last = ends[i]
    for j = first, last do
      local v = out[j]
      if type(v) == 'number' then out[j] = formatted(v) end
    end
    PARTS[i] = table.concat(out, ',', first, last)
    first = last + 1
  end
  return table.concat(entries, ',') .. '|' .. table.concat(PARTS, ';', 1, count)
end

-- The reading as score.lua keeps and returns it on one Redis: its numbers as 8-byte doubles (exact
-- for every integer below 2^53), packed in one call instead of formatted one by one (~50,000
-- instructions a call less, measured on the replay). A 0 byte first (the text format never starts
-- so), the entries as text with their length, the group count and each group's end (2 bytes each),
-- then the numbers; big-endian (velocity-store.ts unpackReading). A union's rows hold strings:
-- that reading stays text.
-- struct formats of n items of one kind ('H' an end, 'd' a number), by kind then n: made once per
-- size (a few layouts exist, so a few sizes; n is at most 65,535, the ends' range).
local PACK_FORMATS = { H = {}, d = {} }
local function packFormat(kind, n)
  local format = PACK_FORMATS[kind][n]
  if not format then
    format = '>' .. string.rep(kind, n)
    PACK_FORMATS[kind][n] = format
  end
  return format
end
local function packReading(entries, out, ends, count)
  if UNION_ROWS or count == 0 then return encodeReading(entries, out, ends, count) end
  local text = table.concat(entries, ',')
  return '\0' .. struct.pack('>H', #text) .. text .. struct.pack('>H', count)
    .. struct.pack(packFormat('H', count), unpack(ends, 1, count))
    .. struct.pack(packFormat('d', ends[count]), unpack(out, 1, ends[count]))
end

-- A watchlist field sent as hex (always 8 bytes: core/watchlist.ts slotFromBytes) to its bytes. Hex,
-- not the bytes themselves: one binary argument turns the client's whole command into buffers
-- (ioredis), which cost the engine ~10 % of its time (CPU profile), far more than this costs Redis.
local function fromHex(h)
  return struct.pack('>I4I4', tonumber(string.sub(h, 1, 8), 16), tonumber(string.sub(h, 9, 16), 16))
end

-- The claim's arguments, from argv[i] on: payload hash, counting time (ms), log member's tail,
-- marker TTL (ms), plan layout, claim time (wall clock, ms; '' on one Redis, where a claim and its
-- recording are one atomic call: no retry finds one in flight), kept reading's TTL (ms), the
-- number of entity fields n, then n pairs of marker field and identity (velocity-store.ts claimArgs). Times stay as
-- sent where they are stored (no number formatted back); `at` is also a number, for the windows.
-- Returns the claim and the index of the argument after it.
local function claimFrom(argv, i)
  local count = tonumber(argv[i + 7])
  return {
    hash = argv[i], atText = argv[i + 1], at = tonumber(argv[i + 1]), tail = argv[i + 2],
    markerTtl = argv[i + 3], layout = argv[i + 4], now = argv[i + 5], keptTtl = argv[i + 6],
    argv = argv, entities = i + 8, entityCount = count,
  }, i + 8 + 2 * count
end

-- The transaction marker (hash): h payload hash, t counting time (ms), a the log member's tail
-- (cents|small; core/velocity.ts logMember is the one encoder, mirrored here), c claim wall-clock
-- time (ms; on a cluster only, until the response is stored: store-response.lua), e:<kind letter>
-- each entity's identity (core/store-keys.ts MARKER_ENTITY_FIELDS: short values keep the hash a
-- compact listpack for its life). The reading kept for a retry until the
-- response is stored lives apart, under the kept key (its layout, a newline, the reading), so that
-- the marker never holds a long value (a hash, once converted to a table, stays one).
-- Returns {'new', t} | {'conflict'} | {'replay', response} | {'pending', t, keptReading}
-- | {'pending', t, false, tail, claimedAt} (counted or being counted, no reading kept: the
-- caller records again, which changes nothing already recorded, and reads).
local MARKER_ARGS = {}
local function claimMarker(markerKey, responseKey, keptKey, claim)
  local known = call('HGET', markerKey, 'h')
  if known then
    if known ~= claim.hash then return {'conflict'} end
    local stored = call('GET', responseKey)
    if stored then return {'replay', stored} end
    local marked = call('HMGET', markerKey, 't', 'a', 'c')
    local kept = call('GET', keptKey)
    if kept then
      local layoutEnd = string.find(kept, '\n', 1, true)
      if layoutEnd and string.sub(kept, 1, layoutEnd - 1) == claim.layout then
        return {'pending', marked[1], string.sub(kept, layoutEnd + 1)}
      end
    end
    return {'pending', marked[1], false, marked[2] or claim.tail, marked[3] or '0'}
  end
  MARKER_ARGS[1], MARKER_ARGS[2], MARKER_ARGS[3], MARKER_ARGS[4], MARKER_ARGS[5] = markerKey, 'h', claim.hash, 't', claim.atText
  MARKER_ARGS[6], MARKER_ARGS[7] = 'a', claim.tail
  local n, argv = 7, claim.argv
  if claim.now ~= '' then MARKER_ARGS[8], MARKER_ARGS[9], n = 'c', claim.now, 9 end
  for j = claim.entities, claim.entities + 2 * claim.entityCount - 1 do n = n + 1; MARKER_ARGS[n] = argv[j] end
  call('HSET', unpack(MARKER_ARGS, 1, n))
  call('PEXPIRE', markerKey, claim.markerTtl)
  return {'new', claim.atText}
end

-- Operation lists travel as shapes (velocity-store.ts appendGroup), the same for every transaction
-- of one kind: groups separated by '/', operations by ','; an operation is its definition's index
-- in DEF_LIST (generated ahead of this file) then its flags: 'a' again (the previous operation's key),
-- 'w' write, 'u' union, 'm' member (the next value), 't<letter>' tag (a distinct counter kept in
-- the log: its members' '#<letter>'), 'A<n>' also (the next n values: the distinct members a log
-- keeps), 'R<i>' replaces (an earlier form of the i-th of them, a value after them: remember),
-- 'L<n>' retires (the member, then n forms of it under the previous card key: retireForms),
-- 'c<n>' cap (overriding the definition's). A shape is parsed once and kept across calls
-- (a few dozen exist): decoding each scoring's argument as JSON cost Redis more than the commands
-- of a group. keys: how many keys the group's operations take (a delayed one two); probes: the
-- positions among them of the keys its operations only ask the existence of (probe).
local SHAPES, SHAPE_COUNT = {}, 0
local function parseGroup(text)
  local ops, keys, probes = {}, 0, {}
  for item in string.gmatch(text, '[^,]+') do
    local _, last, index = string.find(item, '^(%d+)')
    local op = { d = DEF_LIST[tonumber(index) + 1] }
    local i = last + 1
    while i <= #item do
      local flag = string.sub(item, i, i)
      if flag == 'a' then op.again = true
      elseif flag == 'w' then op.write = true
      elseif flag == 'u' then op.union = true
      elseif flag == 'm' then op.member = true
      elseif flag == 't' then i = i + 1; op.tag = string.byte(item, i) -- compared bytewise with members
      elseif flag == 'A' or flag == 'c' or flag == 'R' or flag == 'L' then
        local _, e, n = string.find(item, '^(%d+)', i + 1)
        if flag == 'A' then op.also = tonumber(n)
        elseif flag == 'L' then op.retire = tonumber(n)
        elseif flag == 'R' then
          op.replaces = op.replaces or {}
          op.replaces[#op.replaces + 1] = tonumber(n)
        else op.cap = tonumber(n) end
        i = e
      else error('unknown operation flag ' .. flag) end
      i = i + 1
    end
    if not op.again then keys = keys + 1 end
    local kind = op.d.op
    if kind == 'count' or kind == 'exists' then probes[#probes + 1] = keys end
    if kind == 'delayed' then keys = keys + 1; probes[#probes + 1] = keys end
    ops[#ops + 1] = op
  end
  return { ops = ops, keys = keys, probes = probes }
end
-- A shape's groups, parsed or kept; keys: how many keys they take together.
local function shapeOf(text)
  local groups = SHAPES[text]
  if not groups then
    -- Bounded: shapes come from the engine's code, but a store must not grow without limit.
    if SHAPE_COUNT >= 1000 then SHAPES, SHAPE_COUNT = {}, 0 end
    groups = { keys = 0 }
    for g in string.gmatch(text, '[^/]+') do
      local group = parseGroup(g)
      groups[#groups + 1] = group
      groups.keys = groups.keys + group.keys
    end
    SHAPES[text], SHAPE_COUNT = groups, SHAPE_COUNT + 1
  end
  return groups
end

-- Outcome sets, fraud labels and list entries: a scoring only asks whether each exists (and
-- counts in the few that do), and most identities have none. One EXISTS over all of them, before
-- the groups run, spares one call per key when none exists (ABSENT; ~14 calls a scoring on
-- bench:cost's mix). A call never writes these keys, so the answer holds for all of it.
-- groups: parsed groups (shapeOf), whose keys start after keys[base].
local PROBE_KEYS = {}
local function probe(keys, groups, base)
  local n = 0
  for _, g in ipairs(groups) do
    for _, at in ipairs(g.probes) do n = n + 1; PROBE_KEYS[n] = keys[base + at] end
    base = base + g.keys
  end
  ABSENT = n > 1 and call('EXISTS', unpack(PROBE_KEYS, 1, n)) == 0
end

-- One group's state while runGroup runs it (file locals, not closures: see the head of this file).
-- T, TS: the counting time and its text; OUT[1..N]: the numbers read so far; VALUES[NEXT]: the
-- next member to take; READ_KEY, READ_ROWS: the log read whole in this group (a card's).
local T, TS, TRIM_NOW, CAP_NOW, OUT, N, VALUES, NEXT, READ_KEY, READ_ROWS
-- A call's buffers: the reading's numbers (score.lua), where each group's numbers end, one ZADD's
-- arguments, a log's earlier forms of its distinct members and those of them it holds.
local READING, ENDS, ZADD_ARGS, FORMERS, FOUND = {}, {}, {}, {}, {}

-- Numbers go back as integer replies: formatting each as a string costs more than the command.
local function push(v) N = N + 1; OUT[N] = v end
local function zeros(n)
  local first = N + 1
  for _ = 1, n do N = N + 1; OUT[N] = 0 end
  return first
end
-- Number arguments are formatted once, not once per command: a window's lower bound '(t - w',
-- the time, a retention's TTL.
local function above(w) return exclusive(T - w) end
local function ttl(retention) return formatted(retention + 3600000) end
-- Earlier forms of the distinct members ZADD_ARGS holds (velocity.ts formerMembers: an address's
-- pseudonym before 2026-12-07), the next values, the i-th's member at ZADD_ARGS[4 + 2 * i]: those
-- the log holds leave it, before the ZADD, and their member takes the latest of their times and
-- its own (its score, ZADD_ARGS[3 + 2 * i]): one entity, one member, seen when either form last was.
-- One ZMSCORE; a ZREM when a form is found (once per card and address).
local function replaceFormers(key, replaces)
  local count, found = #replaces, 0
  for j = 1, count do FORMERS[j], NEXT = VALUES[NEXT], NEXT + 1 end
  local scores = call('ZMSCORE', key, unpack(FORMERS, 1, count))
  for j = 1, count do
    local seen = tonumber(scores[j])
    if seen then
      found = found + 1
      FOUND[found] = FORMERS[j]
      local at = 3 + 2 * replaces[j]
      if seen > tonumber(ZADD_ARGS[at]) then ZADD_ARGS[at] = formatted(seen) end
    end
  end
  if found > 0 then call('ZREM', key, unpack(FOUND, 1, found)) end
end
-- A distinct member's forms under the previous card key (velocity.ts retire), the next values after
-- the member: they leave the key, so that the entity is one member in later readings too. `keep`
-- (the key is written here, or its rows are unioned with the other identity's): the member takes
-- the latest of their times (GT); else (another sub-identity of a spread entity, where the member
-- is written elsewhere) a form leaves only when the member's write covers it (seen by T).
-- One ZMSCORE; a ZREM and a ZADD when a form is found (once per card and key, during a rotation).
-- Returns whether the member now lies after T (a form seen after this late event): not in its windows.
local function retireForms(key, count, keep)
  local member = VALUES[NEXT]
  NEXT = NEXT + 1
  for j = 1, count do FORMERS[j], NEXT = VALUES[NEXT], NEXT + 1 end
  local scores = call('ZMSCORE', key, unpack(FORMERS, 1, count))
  local found, latest = 0, nil
  for j = 1, count do
    local seen = tonumber(scores[j])
    if seen and (keep or seen <= T) then
      found = found + 1
      FOUND[found] = FORMERS[j]
      if not latest or seen > latest then latest = seen end
    end
  end
  if found == 0 then return false end
  call('ZREM', key, unpack(FOUND, 1, found))
  if keep then call('ZADD', key, 'GT', formatted(latest), member) end
  if READ_KEY == key then READ_KEY = nil end -- read again (readLog) if another op needs it
  return keep and latest > T
end
-- Returns whether `member` is now in the log at t (counts' `least`): so after a plain ZADD, and
-- after a GT one that changed it (CH: added, or moved up to t), unless the cap just trimmed the log.
local function remember(key, member, retention, cap, gt, also, replaces)
  local own = true
  if also then
    -- The distinct members a log keeps (velocity.ts sharesLog), in the same ZADD; GT keeps each
    -- one's latest time and leaves the transaction's own member (new, or the same score) as it is.
    ZADD_ARGS[1], ZADD_ARGS[2], ZADD_ARGS[3], ZADD_ARGS[4] = key, 'GT', TS, member
    local n = 4
    for _ = 1, also do
      ZADD_ARGS[n + 1], ZADD_ARGS[n + 2] = TS, VALUES[NEXT]
      n, NEXT = n + 2, NEXT + 1
    end
    if replaces then replaceFormers(key, replaces) end
    call('ZADD', unpack(ZADD_ARGS, 1, n))
    own = false -- its changes count the distinct members too
  elseif gt then own = call('ZADD', key, 'GT', 'CH', TS, member) == 1
  else call('ZADD', key, TS, member) end
  if TRIM_NOW then call('ZREMRANGEBYSCORE', key, '-inf', above(retention)) end
  if CAP_NOW and cap > 0 and call('ZCARD', key) > cap then
    call('ZREMRANGEBYRANK', key, 0, -(cap + 1))
    own = false -- only ~cap later events could have pushed it out: not worth knowing
  end
  call('PEXPIRE', key, ttl(retention))
  return own
end
-- One window's count over (max(hi - w, floor), hi] (his: hi as text); 0 when that is empty.
local function countIn(key, w, hi, his, floor)
  local lo = hi - w
  if lo < floor then lo = floor end
  return lo < hi and call('ZCOUNT', key, exclusive(lo), his) or 0
end
-- Counts per window over (max(hi - w, floor), hi]: (t - w, t] unless given (a delayed op's
-- windows end earlier, a saturated log's start later). Windows ascend, so their counts do too,
-- and a count settles the smaller windows' when it is at the least they can be: `least`, 1 when
-- the transaction's own member is in the log at t (each window holds it), else 0. Most identities
-- are new or seen in one burst: the largest window's count, and the smallest's, often settle the
-- rest. Exact: the same numbers as a count per window, fewer commands (each ZCOUNT ~10,000
-- instructions with its call).
local function counts(key, windows, least, hi, his, floor)
  hi, his, floor = hi or T, his or TS, floor or -math.huge
  local n = #windows
  local first = N + 1
  N = N + n
  local top = countIn(key, windows[n], hi, his, floor)
  OUT[N] = top
  if n == 1 then return end
  if top <= least then
    for i = first, N - 1 do OUT[i] = top end
    return
  end
  local low = countIn(key, windows[1], hi, his, floor)
  OUT[first] = low
  -- The windows between, largest first: once one counts as the smallest does, so do the rest.
  local settled = low == top
  for i = n - 1, 2, -1 do
    local c = settled and low or countIn(key, windows[i], hi, his, floor)
    OUT[first + i - 1] = c
    settled = c == low
  end
end
-- A log read whole over (t - horizon, t], once per group and after its write (the log's op comes
-- first): rows of member and score, its transactions' and the distinct members it keeps
-- ('#<letter>...'). Each op scans them for its own (no table per row: tables cost more here
-- than the scan) and adds into its numbers in place (zeros pushed first).
local function readLog(key, horizon)
  if READ_KEY ~= key then
    READ_ROWS = call('ZRANGEBYSCORE', key, above(horizon), TS, 'WITHSCORES')
    READ_KEY = key
  end
  return READ_ROWS
end

-- Runs one slot group: args = {at, ref, tail, since (epoch s of the first watchlist entry, or
-- absent), ops (a parsed group: each op with its definition d, from DEF_LIST, generated from
-- services/core/velocity.ts ahead of this file: windows, retention, cap), values and next
-- (members, from values[next] on, taken in the ops' order), out and n (the numbers go to
-- out[n + 1] on)}; advances args.next and args.n. Keys come in the order the ops use them, from
-- keys[base + 1]: each op takes the next (a delayed op two: its log, then its fraud labels), but
-- an op marked again uses the previous op's key. Writes are idempotent: a
-- transaction's members name it, at its counting time, so recording it twice changes nothing.
-- Its numbers: every op's, in order (a distinct union's rows: member and last seen as strings).
local function runGroup(keys, base, args)
  local t = args.at
  T, TS, OUT, N, VALUES, NEXT, READ_KEY, READ_ROWS = t, formatted(t), args.out, args.n, args.values, args.next, nil, nil
  -- Trimming and capping only bound memory (windows never count what is out of range), so they
  -- run on a sample of writes, chosen by the event time's seconds plus its milliseconds: 1 in 16
  -- and 1 in 32 whether times come to the millisecond or to the second (times in whole seconds,
  -- as most merchants send them, made a sample by milliseconds trim at every write).
  local sample = math.floor(t / 1000) + t % 1000
  TRIM_NOW, CAP_NOW = sample % 16 == 0, sample % 32 == 0

  local k = base
  for _, op in ipairs(args.ops.ops) do
    if not op.again then k = k + 1 end
    local key = keys[k]
    local d = op.d
    local kind = d.op
    if kind == 'log' then
      local own = op.write and remember(key, args.ref .. '|' .. args.tail, d.retentionMs, op.cap or d.cap, false, op.also, op.replaces)
      if #d.amounts == 0 and #d.smalls == 0 then
        counts(key, d.counts, own and 1 or 0)
      else
        -- Sums need the members (`ref|cents|small`): one range read over the longest window
        -- gives counts, sums and small-amount counts together, bucketed here.
        local cs, as, ss = d.counts, d.amounts, d.smalls
        local nc, na = #cs, #as
        local first = zeros(nc + na + #ss)
        local rows = readLog(key, d.retentionMs)
        for i = 1, #rows, 2 do
          local m = rows[i]
          if string.byte(m, 1) ~= 35 then
            local _, _, amount, small = string.find(m, '|(%d+)|(%d)$')
            local age, cents = t - tonumber(rows[i + 1]), tonumber(amount)
            for j = 1, nc do if age < cs[j] then OUT[first + j - 1] = OUT[first + j - 1] + 1 end end
            for j = 1, na do if age < as[j] then OUT[first + nc + j - 1] = OUT[first + nc + j - 1] + cents end end
            if small == '1' then
              for j = 1, #ss do if age < ss[j] then OUT[first + nc + na + j - 1] = OUT[first + nc + na + j - 1] + 1 end end
            end
          end
        end
      end
    elseif kind == 'distinct' then
      -- GT: a late event never moves a member's last-seen time backwards.
      local own = false
      if op.member then
        local member = VALUES[NEXT]
        NEXT = NEXT + 1
        if op.write then own = remember(key, member, d.retentionMs, 0, true) end
      end
      if op.retire and retireForms(key, op.retire, op.union or op.write) then own = false end
      if op.tag then
        -- Kept in the log (its op wrote the member): the rows of the log's read with this tag.
        local rows, letter, ws = readLog(key, d.retentionMs), op.tag, d.windows
        local first = op.union and zeros(1) or zeros(#ws)
        for i = 1, #rows, 2 do
          local m = rows[i]
          if string.byte(m, 2) == letter and string.byte(m, 1) == 35 then
            if op.union then
              UNION_ROWS = true
              OUT[first] = OUT[first] + 1
              push(m); push(rows[i + 1])
            else
              local age = t - tonumber(rows[i + 1])
              for j = 1, #ws do if age < ws[j] then OUT[first + j - 1] = OUT[first + j - 1] + 1 end end
            end
          end
        end
      elseif op.union then
        -- One of several identities of the entity (key rotation): the caller unions the rows.
        local rows = call('ZRANGEBYSCORE', key, above(d.retentionMs), TS, 'WITHSCORES')
        UNION_ROWS = true
        push(#rows / 2)
        for i = 1, #rows do push(rows[i]) end
      else
        counts(key, d.windows, own and 1 or 0)
      end
    elseif kind == 'delayed' then
      -- Windows (t - delay - w, t - delay]: transactions, then fraud labels (scored at their
      -- transaction's time). ZCARD and ZCOUNT are O(1) and O(log n): cheap on a big merchant.
      local cap = op.cap or d.cap
      if op.write then remember(key, args.ref, d.retentionMs, cap, false) end
      local hi = t - d.delayMs
      local his, ws = formatted(hi), d.windows
      -- A saturated log keeps only its newest events: both counts then start at its oldest
      -- event, so that the fraud share stays a share of the same transactions. A window's lower
      -- bound: the later of t - delay - w and that start.
      local floor = -math.huge
      if call('ZCARD', key) >= cap then floor = tonumber(call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]) - 1 end
      counts(key, ws, 0, hi, his, floor)
      -- Most merchants have no fraud label: one EXISTS spares a count per window.
      k = k + 1
      local frauds = keys[k]
      if not ABSENT and call('EXISTS', frauds) == 1 then counts(frauds, ws, 0, hi, his, floor) else zeros(#ws) end
    elseif kind == 'count' then
      -- Outcome sets are empty for most entities: one EXISTS spares a count per window.
      if ABSENT or call('EXISTS', key) == 0 then
        zeros(#d.windows)
      else
        counts(key, d.windows, 0)
      end
    elseif kind == 'since' then
      -- Earlier uses of the card since it was listed (the current transaction excluded).
      -- Counted in the card log's read (which holds distinct members too): times in (since, t).
      local n = 0
      if args.since then
        local rows, since = readLog(key, d.horizonMs), args.since * 1000
        for i = 1, #rows, 2 do
          if string.byte(rows[i], 1) ~= 35 then
            local s = tonumber(rows[i + 1])
            if s > since and s < t then n = n + 1 end
          end
        end
      end
      push(n)
    elseif kind == 'exists' then
      push(ABSENT and 0 or call('EXISTS', key))
    end
  end
  args.n, args.next = N, NEXT
end
