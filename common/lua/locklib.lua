-- locklib.lua: helpers of the lock scripts (sent after lib.lua).
--
-- A lock NAME is the string key {p}:lock:NAME whose value is the owner's
-- token, with the lease as its TTL, so GET and PTTL show holder and time
-- left. Beside it: {p}:lockinfo:NAME (owner, token, fence, acquired_at,
-- ttl_ms, expires_at) while held, {p}:lockfence:NAME (the fencing counter,
-- kept forever so fences never go backwards), {p}:lockq:NAME (waiters'
-- tokens by arrival number). {p}:locks:held has every held name by lease
-- end; {p}:locks:waiters every waiter's token by deadline;
-- {p}:waiter:TOKEN the waiting request. Waiters are served strictly in arrival order per lock, and a
-- request for several locks is granted all at once or not at all, so two
-- requests for overlapping sets can never deadlock.

-- The server clock: milliseconds and microseconds since the epoch.
local function clock()
  local t = redis.call('TIME')
  local us = tonumber(t[1]) * 1000000 + tonumber(t[2])
  return math.floor(us / 1000), us
end

-- The owner named in a token "OWNER/hex".
local function token_owner(token)
  return string.match(token, '^(.*)/') or token
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
    redis.call('ZADD', K.held, now + ttl, name)
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
  redis.call('ZREM', K.waiters, id)
  redis.call('DEL', K.waiter(id))
  return names
end

-- The owner holding name, for messages.
local function holder(name)
  return redis.call('HGET', K.lockinfo(name), 'owner') or 'someone'
end

-- Tells waiter id (reply key `reply`) its wait on name ran out, forgets
-- it, and adds its locks to work: their queues may move on now.
local function time_out(id, reply, name, work)
  reply_push(reply, { ok = false, error = 'TIMEOUT lock ' .. name
    .. ' still held by ' .. holder(name) })
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
    elseif id and tonumber(w[6]) < now then
      time_out(id, w[5], name, work)
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
