-- The journal of writes, shared by a fleet: the SQLite journal's steps, each atomic in Redis.
--
-- KEYS[1]: the entry of the key in question (a hash: `intent`, `updated`, `derived`, `n` slots,
--          `holder` and `expires` of its lease, `s:i`/`p:i`/`d:i` the state, post id and
--          detail of slot i, `c:CHANNEL` for each channel, `snap:CHANNEL` each snapshot);
-- KEYS[2]: the claims, a hash from post id to `slot:key`;
-- KEYS[3]: every key by last update (a sorted set), for pruning;
-- KEYS[4]: the keys with a lease (a set), for `settling`;
-- KEYS[5]: the derived keys by last update (a sorted set), so forgetting derived keys walks
--          only them, not every given key kept.
-- ARGV[1] is the operation, ARGV[2] the entry prefix other entries' keys are made from (they
-- share KEYS[1]'s hash tag). Times are Redis's own, in microseconds.
local entry, claims, updated, held, derived = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local op, prefix = ARGV[1], ARGV[2]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local function fmt(x) return string.format('%.0f', x) end

local function live(key_entry, holder)
  local lease = redis.call('HMGET', key_entry, 'holder', 'expires')
  if not lease[1] then return false end
  if holder and lease[1] ~= holder then return false end
  return tonumber(lease[2]) > now
end

local function touch(key)
  redis.call('HSET', entry, 'updated', fmt(now))
  redis.call('ZADD', updated, now, key)
  if redis.call('HGET', entry, 'derived') == '1' then redis.call('ZADD', derived, now, key) end
end

if op == 'begin' then
  -- ARGV: key, intent JSON, derived, holder, hold (us), slots, channels...
  local key, holder, hold = ARGV[3], ARGV[6], tonumber(ARGV[7])
  if redis.call('EXISTS', entry) == 0 then
    redis.call('HSET', entry, 'intent', ARGV[4], 'derived', ARGV[5], 'n', ARGV[8],
      'holder', holder, 'expires', fmt(now + hold), 'updated', fmt(now))
    for i = 9, #ARGV do redis.call('HSET', entry, 'c:' .. ARGV[i], '1') end
    redis.call('ZADD', updated, now, key)
    if ARGV[5] == '1' then redis.call('ZADD', derived, now, key) end
    redis.call('SADD', held, key)
    return {'new', fmt(now)}
  end
  if live(entry, nil) then
    return {'held', redis.call('HGET', entry, 'expires')}
  end
  redis.call('HSET', entry, 'holder', holder, 'expires', fmt(now + hold))
  redis.call('SADD', held, key)
  local found = redis.call('HGETALL', entry)
  table.insert(found, 1, fmt(now))
  table.insert(found, 1, 'existing')
  return found
elseif op == 'record' then
  -- ARGV: key, holder, slot, state, post id ('' for none), detail ('' for none).
  local key, slot, state, post, detail = ARGV[3], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
  if not live(entry, ARGV[4]) then return {'lost'} end
  local n = tonumber(redis.call('HGET', entry, 'n'))
  if tonumber(slot) >= n then return {'range', fmt(n)} end
  local old = redis.call('HMGET', entry, 's:' .. slot, 'p:' .. slot, 'd:' .. slot)
  if old[1] == 'created' and (state ~= 'created' or post ~= old[2]) then
    return {'created', old[1], old[3] or ''}
  end
  if state == 'created' then
    local mine = slot .. ':' .. key
    local claim = redis.call('HGET', claims, post)
    if claim and claim ~= mine then return {'claimed', claim} end
    redis.call('HSET', claims, post, mine)
  end
  redis.call('HSET', entry, 's:' .. slot, state)
  if post ~= '' then redis.call('HSET', entry, 'p:' .. slot, post) else redis.call('HDEL', entry, 'p:' .. slot) end
  if detail ~= '' then redis.call('HSET', entry, 'd:' .. slot, detail) else redis.call('HDEL', entry, 'd:' .. slot) end
  touch(key)
  return {'ok'}
elseif op == 'snapshot' then
  -- ARGV: key, holder, channel, ids JSON.
  local key, channel = ARGV[3], ARGV[5]
  if not live(entry, ARGV[4]) then return {'lost'} end
  if redis.call('HEXISTS', entry, 'c:' .. channel) == 0 then return {'channel'} end
  redis.call('HSET', entry, 'snap:' .. channel, ARGV[6])
  touch(key)
  return {'ok'}
elseif op == 'renew' then
  -- ARGV: key, holder, hold (us).
  if not live(entry, ARGV[4]) then return {'lost'} end
  redis.call('HSET', entry, 'expires', fmt(now + tonumber(ARGV[5])))
  return {'ok', fmt(now)}
elseif op == 'release' then
  -- ARGV: key, holder.
  if redis.call('HGET', entry, 'holder') == ARGV[4] then
    redis.call('HDEL', entry, 'holder', 'expires')
    redis.call('SREM', held, ARGV[3])
  end
  return {'ok'}
elseif op == 'settling' then
  -- Every entry under a live lease, flattened: its key, its field count, its fields.
  local found = {}
  for _, key in ipairs(redis.call('SMEMBERS', held)) do
    local other = prefix .. key
    if live(other, nil) then
      local fields = redis.call('HGETALL', other)
      found[#found + 1] = key
      found[#found + 1] = tostring(#fields)
      for _, field in ipairs(fields) do found[#found + 1] = field end
    else
      redis.call('SREM', held, key)
    end
  end
  return found
elseif op == 'prune' then
  -- ARGV: '', before (us), derived only (0/1). Forgets unheld entries updated before
  -- `before`.
  local pruned = 0
  local index = ARGV[5] == '1' and derived or updated
  for _, key in ipairs(redis.call('ZRANGEBYSCORE', index, '-inf', '(' .. ARGV[4])) do
    local other = prefix .. key
    local derived = redis.call('HGET', other, 'derived')
    if (ARGV[5] == '0' or derived == '1') and not live(other, nil) then
      -- The entry's own post fields, not its slot count: a count is only a number.
      local fields = redis.call('HGETALL', other)
      for i = 1, #fields, 2 do
        local slot = string.match(fields[i], '^p:(%d+)$')
        local post = fields[i + 1]
        if slot and redis.call('HGET', claims, post) == (slot .. ':' .. key) then
          redis.call('HDEL', claims, post)
        end
      end
      redis.call('DEL', other)
      redis.call('ZREM', updated, key)
      redis.call('ZREM', derived, key)
      redis.call('SREM', held, key)
      pruned = pruned + 1
    end
  end
  return {'ok', tostring(pruned)}
end
return redis.error_reply('unknown journal operation')
