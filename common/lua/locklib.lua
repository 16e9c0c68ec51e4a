-- locklib.lua: helpers of the lock scripts (sent after lib.lua).
--
-- A lock NAME is the string key {p}:lock:NAME whose value is the owner's
-- token, with the lease as its TTL, so GET and PTTL show holder and time
-- left. Beside it: {p}:lockinfo:NAME (owner, token, fence, acquired_at,
-- ttl_ms, expires_at) while held, with the lease + LOCK_INFO_GRACE_MS as
-- its TTL (so the tick can still name the owner of an expired lease),
-- {p}:lockfence:NAME (the fencing counter, kept forever so fences never
-- go backwards), {p}:lockq:NAME (waiters' tokens by arrival number).
-- {p}:locks:held has every held name by lease end; {p}:locks:waiters
-- every waiter's token by deadline; {p}:waiter:TOKEN the waiting request.
-- Waiters are served strictly in arrival order per lock, and a request
-- for several locks is granted all at once or not at all, so two
-- requests for overlapping sets can never deadlock. Every script checks
-- its keys and arguments first and refuses (BADARG) before any write,
-- whoever calls it.

-- Limits, the same numbers as include/wfp/lock.h (the unit test
-- tests/unit/test_lock_parse.c checks that they agree).
local LOCK_NAME_MAX = 128              -- a lock name: 1-128 of A-Za-z0-9_.:/-
local LOCK_OWNER_MAX = 64              -- an owner: 1-64 of A-Za-z0-9_.:@-
local LOCK_PREFIX_MAX = 31             -- the prefix inside the tag {PREFIX}
local LOCK_MULTI_MAX = 16              -- locks in one acquire
local LOCK_TTL_MIN_MS = 10
local LOCK_TTL_MAX_MS = 86400000       -- one day
local LOCK_WAIT_MAX_MS = 3600000       -- one hour
local LOCK_TIME_MAX_MS = 9007199254740991 -- 2^53 - 1: deadlines, fences
local LOCK_TICK_LIMIT_MAX = 10000      -- leases and waiters per tick
local LOCK_KEY_MAX = 319               -- a reply key's length
local LOCK_REPLY_MARGIN_MS = 100       -- a waiter ends this long before
                                       -- its request's deadline
local LOCK_INFO_GRACE_MS = 10000       -- lockinfo outlives the lease by
                                       -- this, so expiry can name the owner
local LOCK_WAITERS_MAX = 10000         -- requests queued on one lock
local LOCK_WAITERS_ALL_MAX = 100000    -- requests queued on all locks

-- (quoted(), the safe quoting of bad values, is lib.lua's.)

-- Records in the held set (a lease set, see lib.lua) that name's lease,
-- set now to end_ms, is over: at end_ms + 1, as Redis deletes a key only
-- in the millisecond after its end (at end_ms the lock is still held, and
-- a pass then would only have to look again).
local function held_until(name, end_ms)
  lease_set(K.held, name, end_ms + 1)
end

-- Refuses the call before any write: argument i is not what it must be.
local function bad_arg(i, what, v)
  fail('BADARG ARGV[' .. i .. '] ' .. what .. ': got ' .. quoted(v))
end

-- Refuses a call whose KEYS or ARGV count is not as expected (ARGV
-- between lo and hi words), or whose tag ARGV[1] is not {PREFIX}.
local function check_call(lo, hi)
  if #KEYS ~= 1 then
    fail('BADARG expects 1 key, got ' .. #KEYS)
  end
  if #ARGV < lo or #ARGV > hi then
    fail('BADARG expects ' .. (lo == hi and lo or (lo .. '-' .. hi))
      .. ' arguments, got ' .. #ARGV)
  end
  local p = string.match(ARGV[1], '^{([A-Za-z0-9_.%-]+)}$')
  if not p or #p > LOCK_PREFIX_MAX then
    bad_arg(1, 'tag is not {PREFIX} with 1-31 of A-Za-z0-9_.-', ARGV[1])
  end
end

-- Refuses the call unless KEYS[1] is key (what the arguments name).
local function check_key(key)
  if KEYS[1] ~= key then
    fail("BADARG KEYS[1] is not " .. quoted(key) .. ': got '
      .. quoted(KEYS[1]))
  end
end

-- ARGV[i] as a lock name (1-128 of A-Za-z0-9_.:/-).
local function arg_name(i)
  local v = ARGV[i]
  if #v < 1 or #v > LOCK_NAME_MAX
      or not string.match(v, '^[A-Za-z0-9_.:/%-]+$') then
    bad_arg(i, 'lock name is not 1-128 of A-Za-z0-9_.:/-', v)
  end
  return v
end

-- True when s is an owner name (1-64 of A-Za-z0-9_.:@-).
local function owner_ok(s)
  return #s >= 1 and #s <= LOCK_OWNER_MAX
    and string.match(s, '^[A-Za-z0-9_.:@%-]+$') ~= nil
end

-- ARGV[i] as an owner name.
local function arg_owner(i)
  if not owner_ok(ARGV[i]) then
    bad_arg(i, 'owner is not 1-64 of A-Za-z0-9_.:@-', ARGV[i])
  end
  return ARGV[i]
end

-- ARGV[i] as a token OWNER/32 hex (of owner, when given).
local function arg_token(i, owner)
  local o, hex = string.match(ARGV[i], '^(.*)/([0-9a-f]+)$')
  if not o or #hex ~= 32 or not owner_ok(o) then
    bad_arg(i, 'token is not OWNER/32 lowercase hex', ARGV[i])
  end
  if owner and o ~= owner then
    bad_arg(i, "token does not name the owner '" .. owner .. "'", ARGV[i])
  end
  return ARGV[i]
end

-- ARGV[i] as a decimal integer in lo..hi.
local function arg_int(i, what, lo, hi)
  local v = ARGV[i]
  local n = #v <= 16 and string.match(v, '^%d+$') and tonumber(v)
  if not n or n < lo or n > hi then
    bad_arg(i, what .. ' is not an integer in ' .. lo .. '..'
      .. string.format('%.0f', hi), v)
  end
  return n
end

-- ARGV[i] as a reply key: '' (none) or {PREFIX}:reply:SOMETHING.
local function arg_reply(i)
  local v, pre = ARGV[i], P .. ':reply:'
  if v ~= '' and (#v <= #pre or #v > LOCK_KEY_MAX
      or string.sub(v, 1, #pre) ~= pre) then
    bad_arg(i, "reply key is not '' or " .. pre .. '...', v)
  end
  return v
end

-- The server clock: milliseconds and microseconds since the epoch.
local function clock()
  local t = redis.call('TIME')
  local us = tonumber(t[1]) * 1000000 + tonumber(t[2])
  return math.floor(us / 1000), us
end

-- The owner named in a token "OWNER/hex", for messages and events: a
-- value not written by these scripts is shown quoted (see quoted() in lib.lua).
local function token_owner(token)
  local o = string.match(token, '^(.*)/') or token
  if owner_ok(o) then return o end
  return quoted(o)
end

-- The next fence of name: +1, floored at the server clock in microseconds,
-- so it never goes backwards even if Redis lost its last writes.
local function next_fence(name, now_us)
  local f = redis.call('INCR', K.lockfence(name))
  if f < now_us then
    f = now_us
    redis.call('SET', K.lockfence(name), string.format('%.0f', f))
  end
  return f
end

-- True when every name is free and (for a new request, waiter nil) has no
-- queue, or (for a waiter) the waiter is first in every queue. With
-- first_free the caller already knows names[1] is not held.
local function grantable(names, waiter, first_free)
  for i, name in ipairs(names) do
    if not (i == 1 and first_free)
        and redis.call('EXISTS', K.lock(name)) == 1 then
      return false
    end
    local head = redis.call('ZRANGE', K.lockq(name), 0, 0)[1]
    if waiter == nil and head then return false end
    if waiter ~= nil and head ~= waiter then return false end
  end
  return true
end

-- Gives every name to owner under token; returns the fences, in order.
local function grant(names, owner, token, ttl, now, now_us)
  local fences = {}
  for i, name in ipairs(names) do
    local f = next_fence(name, now_us)
    redis.call('SET', K.lock(name), token, 'PX', ttl)
    redis.call('HSET', K.lockinfo(name), 'owner', owner, 'token', token,
      'fence', string.format('%.0f', f), 'acquired_at', now, 'ttl_ms', ttl,
      'expires_at', now + ttl)
    redis.call('PEXPIRE', K.lockinfo(name), ttl + LOCK_INFO_GRACE_MS)
    held_until(name, now + ttl)
    emit_as('lock', 'lock', name, 'acquired', owner,
      'fence ' .. string.format('%.0f', f))
    fences[i] = f
  end
  return fences
end

-- The reply map of a grant.
local function grant_reply(names, owner, token, ttl, fences)
  return { ok = true, name = names[1], names = names, owner = owner,
    token = token, ttl_ms = ttl, fence = fences[1], fences = fences }
end

-- Splits a space-separated list.
local function words(s)
  local out = {}
  for w in string.gmatch(s or '', '%S+') do out[#out + 1] = w end
  return out
end

-- Forgets a waiter everywhere; returns its names (to wake their queues).
local function drop_waiter(id)
  local names = words(redis.call('HGET', K.waiter(id), 'names'))
  for _, name in ipairs(names) do redis.call('ZREM', K.lockq(name), id) end
  lease_drop(K.waiters, id)
  redis.call('DEL', K.waiter(id))
  return names
end

-- The owner holding name (from its token), for messages.
local function holder(name)
  local cur = redis.call('GET', K.lock(name))
  return cur and token_owner(cur) or 'nobody'
end

-- Why a waiter (token id) does not have names: each lock held by
-- another owner, or else the first with waiters ahead of it.
local function blockers(names, id)
  local held = {}
  for _, name in ipairs(names) do
    local cur = redis.call('GET', K.lock(name))
    if cur and cur ~= id then
      held[#held + 1] = 'lock ' .. name .. ' still held by ' .. token_owner(cur)
    end
  end
  if #held > 0 then return table.concat(held, ', ') end
  for _, name in ipairs(names) do
    local head = redis.call('ZRANGE', K.lockq(name), 0, 0)[1]
    if head and head ~= id then
      return 'lock ' .. name .. ' has waiters ahead'
    end
  end
  return 'lock ' .. table.concat(names, ' ') .. ' not granted in time'
end

-- Tells waiter id (reply key `reply`) its wait ran out, naming the locks
-- held by others, forgets it, and adds its locks to work: their queues
-- may move on now.
local function time_out(id, reply, work)
  local names = words(redis.call('HGET', K.waiter(id), 'names'))
  reply_push(reply or '', { ok = false,
    error = 'TIMEOUT ' .. blockers(names, id) })
  for _, n in ipairs(drop_waiter(id)) do work[#work + 1] = n end
end

-- Serves the queues of the names in work (a list that may grow): grants
-- each queue's first waiter when all its locks are free, answers waiters
-- whose wait ran out. Returns the number of grants.
local function wake(work, now, now_us)
  local grants, i = 0, 1
  while i <= #work do
    local name = work[i]
    local id = redis.call('ZRANGE', K.lockq(name), 0, 0)[1]
    local w = id and redis.call('HMGET', K.waiter(id), 'names', 'owner',
      'token', 'ttl_ms', 'reply', 'deadline')
    if id and not w[1] then
      redis.call('ZREM', K.lockq(name), id)       -- stale entry: look again
    elseif id and tonumber(w[6]) <= now then
      time_out(id, w[5], work)  -- a waiter at its deadline is never granted
    elseif id and grantable(words(w[1]), id) then
      local names = words(w[1])
      local fences = grant(names, w[2], w[3], tonumber(w[4]), now, now_us)
      reply_push(w[5], grant_reply(names, w[2], w[3], tonumber(w[4]), fences))
      drop_waiter(id)
      grants = grants + 1
      i = i + 1
    else
      i = i + 1
    end
  end
  return grants
end

-- Refuses a write unless name is held under token.
local function check_holder(name, token)
  local cur = redis.call('GET', K.lock(name))
  if not cur then
    fail('STALE lock ' .. name .. ' is not held (expired or released)')
  end
  if cur ~= token then
    fail('STALE lock ' .. name .. ' is held by ' .. token_owner(cur)
      .. ' under another token')
  end
end
