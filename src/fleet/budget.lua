-- One credential's rate budget, shared by a fleet: the windows of `pacing::ledger`, in Redis.
--
-- KEYS[1]: the state hash (`heard`, `probe`, `blocked`, `windows`, and per window length L:
--          `l:L` its limit, `r:L` its real length, `c:L` requests counted);
-- KEYS[2]: the requests on their way, a sorted set of tickets scored by when they stop
--          counting as on their way if never answered (their worker died).
-- Per window L, `KEYS[1]:x:L` (sorted set) and `KEYS[1]:n:L` (hash) hold when counted
-- requests stop counting and how many stop then; they share KEYS[1]'s hash tag.
--
-- Every time is Redis's own, in microseconds. Answers: {code, at, now, left} where code 0 is
-- taken, 1 is wait until `at`, 2 is wait for another worker's answer (`at` is a bound).
-- The state hash is read once and written once per run: a run costs a dozen commands.
local state, tickets = KEYS[1], KEYS[2]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local MAX_WINDOWS = 8

local st, dirty, gone = {}, {}, {}
do
  local flat = redis.call('HGETALL', state)
  for i = 1, #flat, 2 do st[flat[i]] = flat[i + 1] end
end
local function num(field) return tonumber(st[field] or '0') end
local function set(field, value)
  st[field], dirty[field], gone[field] = value, true, nil
end
local function unset(field)
  st[field], dirty[field], gone[field] = nil, nil, true
end
local function fmt(x) return string.format('%.0f', x) end
local function xkey(len) return state .. ':x:' .. len end
local function nkey(len) return state .. ':n:' .. len end

local lengths = {}
if st['windows'] then
  for len in string.gmatch(st['windows'], '[^,]+') do lengths[#lengths + 1] = len end
end

-- Abandoned budgets leave nothing behind: every key lives a day past its longest window.
local function ttl()
  local longest = 0
  for _, len in ipairs(lengths) do longest = math.max(longest, num('r:' .. len)) end
  return math.floor(longest / 1000) + 86400000
end

local function add_window(len, real, limit)
  if st['l:' .. len] == nil then
    set('l:' .. len, limit)
    set('r:' .. len, real)
    set('c:' .. len, '0')
    lengths[#lengths + 1] = len
    set('windows', table.concat(lengths, ','))
  end
end

-- `n` requests that stop counting at `at`, rounded up to a 1024th of the window, so a
-- window keeps at most about 2048 entries however many requests it counts (a request counts
-- at most 0.1 % of a window longer: 0.9 s of 15 minutes).
local function count(len, at, n)
  if n <= 0 then return end
  local quantum = math.max(math.floor(num('r:' .. len) / 1024), 1)
  at = math.ceil(at / quantum) * quantum
  local field = fmt(at)
  if redis.call('ZADD', xkey(len), at, field) == 1 then
    redis.call('PEXPIRE', xkey(len), ttl())
  end
  if redis.call('HINCRBY', nkey(len), field, n) == n then
    redis.call('PEXPIRE', nkey(len), ttl())
  end
  set('c:' .. len, fmt(num('c:' .. len) + n))
end

local pruned = {}
local function prune(len)
  if pruned[len] then return end
  pruned[len] = true
  local gone_at = redis.call('ZRANGEBYSCORE', xkey(len), '-inf', now)
  if #gone_at == 0 then return end
  local freed = 0
  for _, n in ipairs(redis.call('HMGET', nkey(len), unpack(gone_at))) do
    freed = freed + tonumber(n or '0')
  end
  redis.call('HDEL', nkey(len), unpack(gone_at))
  redis.call('ZREMRANGEBYSCORE', xkey(len), '-inf', now)
  set('c:' .. len, fmt(math.max(num('c:' .. len) - freed, 0)))
end

-- Requests whose worker never answered count as answered when their bound passed.
local function reap()
  local dead = redis.call('ZRANGEBYSCORE', tickets, '-inf', now, 'WITHSCORES')
  if #dead == 0 then return end
  for i = 1, #dead, 2 do
    local bound = tonumber(dead[i + 1])
    for _, len in ipairs(lengths) do count(len, bound + num('r:' .. len), 1) end
    if dead[i] == st['probe'] then unset('probe') end
  end
  redis.call('ZREMRANGEBYSCORE', tickets, '-inf', now)
end

-- When one more request fits in window `len`, and whether that time is exact (2 when it
-- waits for requests on their way to be answered).
local function free_at(len, pending)
  local limit, counted = num('l:' .. len), num('c:' .. len)
  local over = pending + counted + 1 - limit
  if over <= 0 then return now, 0 end
  if over > counted then return now + num('r:' .. len), 2 end
  local freed, start = 0, 0
  while true do
    local batch = redis.call('ZRANGE', xkey(len), start, start + 63, 'WITHSCORES')
    if #batch == 0 then break end
    local members = {}
    for i = 1, #batch, 2 do members[#members + 1] = batch[i] end
    local counts = redis.call('HMGET', nkey(len), unpack(members))
    for i, n in ipairs(counts) do
      freed = freed + tonumber(n or '0')
      if freed >= over then return tonumber(batch[2 * i]), 1 end
    end
    start = start + 64
  end
  return now + num('r:' .. len), 2
end

-- Requests left in the tightest window, after this run's changes.
local function left()
  local pending, least = redis.call('ZCARD', tickets), nil
  for _, len in ipairs(lengths) do
    prune(len)
    local room = math.max(num('l:' .. len) - pending - num('c:' .. len), 0)
    if least == nil or room < least then least = room end
  end
  return least and fmt(least) or '-1'
end

-- Writes what changed in the state hash, and keeps both main keys alive.
local function flush()
  local args = {}
  for field in pairs(dirty) do
    args[#args + 1] = field
    args[#args + 1] = st[field]
  end
  if #args > 0 then redis.call('HSET', state, unpack(args)) end
  local removed = {}
  for field in pairs(gone) do removed[#removed + 1] = field end
  if #removed > 0 then redis.call('HDEL', state, unpack(removed)) end
  redis.call('PEXPIRE', state, ttl())
  redis.call('PEXPIRE', tickets, ttl())
end

local op = ARGV[1]
if op == 'take' then
  -- ARGV: 'take', ticket, bound (us), quotas, then per quota: length, real length, limit.
  local ticket, bound = ARGV[2], tonumber(ARGV[3])
  for i = 0, tonumber(ARGV[4]) - 1 do
    add_window(ARGV[5 + 3 * i], ARGV[6 + 3 * i], ARGV[7 + 3 * i])
  end
  reap()
  -- No block lasts past the longest window and a second, whatever the hash holds (a value
  -- planted or left by another version included).
  local longest = 0
  for _, len in ipairs(lengths) do longest = math.max(longest, num('r:' .. len)) end
  if num('blocked') > now + longest + 1000000 then set('blocked', fmt(now + longest + 1000000)) end
  local answer
  local heard = st['heard'] == '1'
  if num('blocked') > now then
    answer = {1, st['blocked']}
  elseif not heard and st['probe'] then
    answer = {2, fmt(redis.call('ZSCORE', tickets, st['probe']) or now)}
  else
    local pending, ready, code = redis.call('ZCARD', tickets), now, 0
    for _, len in ipairs(lengths) do
      prune(len)
      local at, kind = free_at(len, pending)
      if at > ready then ready, code = at, kind end
    end
    if ready > now then
      answer = {code, fmt(ready)}
    else
      redis.call('ZADD', tickets, now + bound, ticket)
      if not heard then set('probe', ticket) end
      answer = {0, fmt(now)}
    end
  end
  local room = left()
  flush()
  return {answer[1], answer[2], fmt(now), room}
elseif op == 'replay' then
  -- ARGV: 'replay', '', '', quotas as for 'take', then pairs of how long ago requests sent
  -- without Redis were answered (us, negative when still to come) and how many.
  local quotas = tonumber(ARGV[4])
  for i = 0, quotas - 1 do
    add_window(ARGV[5 + 3 * i], ARGV[6 + 3 * i], ARGV[7 + 3 * i])
  end
  for i = 5 + 3 * quotas, #ARGV - 1, 2 do
    local answered, n = now - tonumber(ARGV[i]), tonumber(ARGV[i + 1])
    for _, len in ipairs(lengths) do
      local at = answered + num('r:' .. len)
      if at > now then count(len, at, n) end
    end
  end
  local room = left()
  flush()
  return {0, fmt(now), fmt(now), room}
elseif op == 'answer' then
  -- ARGV: 'answer', ticket, refused (0/1), the 429's wait (real us, -1 none), a second in
  -- real us, reported windows, then per window: length ('' for none), real length, limit,
  -- remaining, reset (real us); -1 for what was not reported. Clamped by the caller.
  local ticket, refused, wait, second = ARGV[2], ARGV[3] == '1', tonumber(ARGV[4]), tonumber(ARGV[5])
  redis.call('ZREM', tickets, ticket)
  if st['heard'] ~= '1' then set('heard', '1') end
  if st['probe'] then unset('probe') end
  for _, len in ipairs(lengths) do count(len, now + num('r:' .. len), 1) end
  local pending = redis.call('ZCARD', tickets)
  for i = 0, tonumber(ARGV[6]) - 1 do
    local base = 7 + 5 * i
    local len, real = ARGV[base], tonumber(ARGV[base + 1])
    local limit, remaining, reset = tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3]), tonumber(ARGV[base + 4])
    if len == '' then
      -- A window without a length is the only one, or the shortest.
      len = nil
      for _, l in ipairs(lengths) do
        if len == nil or num('r:' .. l) < num('r:' .. len) then len = l end
      end
    end
    local known = len and st['l:' .. len] ~= nil
    if len and not known and limit >= 0 and #lengths < MAX_WINDOWS then
      add_window(len, real, 1)
      known = true
    end
    if known then
      if limit >= 0 then set('l:' .. len, fmt(math.max(limit, 1))) end
      prune(len)
      if remaining >= 0 then
        local used = pending + num('c:' .. len)
        local unknown = math.max(num('l:' .. len) - remaining, 0) - used
        count(len, reset >= 0 and now + reset or now + num('r:' .. len), unknown)
      end
    end
  end
  if refused then
    local till
    if wait >= 0 then
      till = now + wait
    else
      -- Until the oldest window's newest request stops counting.
      for _, len in ipairs(lengths) do
        local last = redis.call('ZRANGE', xkey(len), -1, -1, 'WITHSCORES')
        if #last == 2 and (till == nil or tonumber(last[2]) < till) then till = tonumber(last[2]) end
      end
      till = till or now + second
    end
    set('blocked', fmt(math.max(till, num('blocked'))))
  end
  local room = left()
  flush()
  return {0, fmt(now), fmt(now), room}
end
return redis.error_reply('unknown budget operation')
