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
local state, tickets = KEYS[1], KEYS[2]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local MAX_WINDOWS = 8

local function fmt(x) return string.format('%.0f', x) end
local function xkey(len) return state .. ':x:' .. len end
local function nkey(len) return state .. ':n:' .. len end
local function num(field) return tonumber(redis.call('HGET', state, field) or '0') end

local function windows()
  local list = redis.call('HGET', state, 'windows')
  local out = {}
  if list then
    for len in string.gmatch(list, '[^,]+') do out[#out + 1] = len end
  end
  return out
end

local function add_window(len, real, limit)
  if redis.call('HSETNX', state, 'l:' .. len, limit) == 1 then
    redis.call('HSET', state, 'r:' .. len, real, 'c:' .. len, 0)
    local list = redis.call('HGET', state, 'windows')
    redis.call('HSET', state, 'windows', list and (list .. ',' .. len) or len)
  end
end

-- `n` requests that stop counting at `at`.
local function count(len, at, n)
  if n <= 0 then return end
  local field = fmt(at)
  redis.call('ZADD', xkey(len), at, field)
  redis.call('HINCRBY', nkey(len), field, n)
  redis.call('HINCRBY', state, 'c:' .. len, n)
end

local function prune(len)
  local gone = redis.call('ZRANGEBYSCORE', xkey(len), '-inf', now)
  if #gone == 0 then return end
  local freed = 0
  for _, field in ipairs(gone) do
    freed = freed + tonumber(redis.call('HGET', nkey(len), field) or '0')
    redis.call('HDEL', nkey(len), field)
  end
  redis.call('ZREMRANGEBYSCORE', xkey(len), '-inf', now)
  redis.call('HSET', state, 'c:' .. len, math.max(num('c:' .. len) - freed, 0))
end

-- Requests whose worker never answered count as answered when their bound passed.
local function reap()
  local dead = redis.call('ZRANGEBYSCORE', tickets, '-inf', now, 'WITHSCORES')
  if #dead == 0 then return end
  local probe = redis.call('HGET', state, 'probe')
  for i = 1, #dead, 2 do
    local bound = tonumber(dead[i + 1])
    for _, len in ipairs(windows()) do count(len, bound + num('r:' .. len), 1) end
    if dead[i] == probe then redis.call('HDEL', state, 'probe') end
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
    for i = 1, #batch, 2 do
      freed = freed + tonumber(redis.call('HGET', nkey(len), batch[i]) or '0')
      if freed >= over then return tonumber(batch[i + 1]), 1 end
    end
    start = start + 64
  end
  return now + num('r:' .. len), 2
end

local function left()
  local pending, least = redis.call('ZCARD', tickets), nil
  for _, len in ipairs(windows()) do
    prune(len)
    local room = math.max(num('l:' .. len) - pending - num('c:' .. len), 0)
    if least == nil or room < least then least = room end
  end
  return least and fmt(least) or '-1'
end

-- Abandoned budgets leave nothing behind: every key lives a day past its longest window.
local function keep()
  local longest = 0
  for _, len in ipairs(windows()) do longest = math.max(longest, num('r:' .. len)) end
  local ttl = math.floor(longest / 1000) + 86400000
  redis.call('PEXPIRE', state, ttl)
  redis.call('PEXPIRE', tickets, ttl)
  for _, len in ipairs(windows()) do
    redis.call('PEXPIRE', xkey(len), ttl)
    redis.call('PEXPIRE', nkey(len), ttl)
  end
end

local op = ARGV[1]
if op == 'take' then
  -- ARGV: 'take', ticket, bound (us), quotas, then per quota: length, real length, limit.
  local ticket, bound = ARGV[2], tonumber(ARGV[3])
  for i = 0, tonumber(ARGV[4]) - 1 do
    add_window(ARGV[5 + 3 * i], ARGV[6 + 3 * i], ARGV[7 + 3 * i])
  end
  reap()
  local answer
  local blocked = num('blocked')
  local heard = redis.call('HGET', state, 'heard') == '1'
  local probe = redis.call('HGET', state, 'probe')
  if blocked > now then
    answer = {1, fmt(blocked)}
  elseif not heard and probe then
    answer = {2, fmt(redis.call('ZSCORE', tickets, probe) or now)}
  else
    local pending, ready, code = redis.call('ZCARD', tickets), now, 0
    for _, len in ipairs(windows()) do
      prune(len)
      local at, kind = free_at(len, pending)
      if at > ready then ready, code = at, kind end
    end
    if ready > now then
      answer = {code, fmt(ready)}
    else
      redis.call('ZADD', tickets, now + bound, ticket)
      if not heard then redis.call('HSET', state, 'probe', ticket) end
      answer = {0, fmt(now)}
    end
  end
  keep()
  return {answer[1], answer[2], fmt(now), left()}
elseif op == 'answer' then
  -- ARGV: 'answer', ticket, refused (0/1), the 429's wait (real us, -1 none), a second in
  -- real us, reported windows, then per window: length ('' for none), real length, limit,
  -- remaining, reset (real us); -1 for what was not reported. Clamped by the caller.
  local ticket, refused, wait, second = ARGV[2], ARGV[3] == '1', tonumber(ARGV[4]), tonumber(ARGV[5])
  redis.call('ZREM', tickets, ticket)
  redis.call('HSET', state, 'heard', '1')
  redis.call('HDEL', state, 'probe')
  local lengths = windows()
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
      if len then real = num('r:' .. len) end
    end
    local known = len and redis.call('HEXISTS', state, 'l:' .. len) == 1
    if len and not known and limit >= 0 and #windows() < MAX_WINDOWS then
      add_window(len, real, 1)
      known = true
    end
    if known then
      if limit >= 0 then redis.call('HSET', state, 'l:' .. len, math.max(limit, 1)) end
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
      for _, len in ipairs(windows()) do
        local last = redis.call('ZRANGE', xkey(len), -1, -1, 'WITHSCORES')
        if #last == 2 and (till == nil or tonumber(last[2]) < till) then till = tonumber(last[2]) end
      end
      till = till or now + second
    end
    redis.call('HSET', state, 'blocked', fmt(math.max(till, num('blocked'))))
  end
  keep()
  return {0, fmt(now), fmt(now), left()}
end
return redis.error_reply('unknown budget operation')
