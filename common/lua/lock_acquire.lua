-- lock_acquire.lua: takes one or several locks, all or nothing.
-- KEYS[1] the first lock's key. ARGV: [1] tag, [2] owner, [3] token
-- (OWNER/32 hex, of this owner), [4] ttl_ms, [5] wait_ms, [6] reply key
-- ('' for a direct call: no waiting, the answer is returned),
-- [7] deadline_ms (the request's deadline on the Redis clock, 0 = none),
-- [8..] lock names (1 to 16, distinct).
-- A request served LOCK_REPLY_MARGIN_MS or less before its deadline, or
-- after it, is refused with TIMEOUT (unless it is a repeat of a grant
-- still held). Free locks with no earlier waiter are granted at once. Otherwise, with
-- a reply key and wait_ms > 0, the request waits in every lock's queue
-- and is answered on its reply key when granted or when the wait runs
-- out; without, or when a lock already has LOCK_WAITERS_MAX waiters or
-- all locks LOCK_WAITERS_ALL_MAX, it is refused with BUSY. A waiter's wait ends at
-- now + wait_ms or LOCK_REPLY_MARGIN_MS before the request's deadline,
-- whichever is first, so a client that gave up is never granted a lock.
-- Refuses malformed arguments (BADARG) before any write.
-- Returns {'granted', fence...}, {'queued'}, {'busy', message} or
-- {'timeout', message}.
check_call(8, 7 + LOCK_MULTI_MAX)
local owner = arg_owner(2)
local token = arg_token(3, owner)
local ttl = arg_int(4, 'ttl_ms', LOCK_TTL_MIN_MS, LOCK_TTL_MAX_MS)
local wait = arg_int(5, 'wait_ms', 0, LOCK_WAIT_MAX_MS)
local reply = arg_reply(6)
local deadline = arg_int(7, 'deadline_ms', 0, LOCK_TIME_MAX_MS)
local names, seen = {}, {}
for i = 8, #ARGV do
  local name = arg_name(i)
  if seen[name] then bad_arg(i, 'lock named twice', name) end
  seen[name] = true
  names[#names + 1] = name
end
check_key(K.lock(names[1]))
local now, now_us = clock()

-- Answers a grant: the client's reply, and {'granted', fence...}.
local function granted(fences)
  reply_push(reply, grant_reply(names, owner, token, ttl, fences))
  local out = { 'granted' }
  for i, f in ipairs(fences) do out[i + 1] = f end
  return out
end

-- Answers a refusal (code BUSY or TIMEOUT) on the reply key and returns it.
local function refused(code, why)
  local msg = code .. ' ' .. why
  reply_push(reply, { ok = false, error = msg })
  return { string.lower(code), msg }
end
local first = redis.call('GET', K.lock(names[1]))

-- A request served twice (a replica died before acknowledging it) is
-- answered as the first time: same grant, or still waiting.
if first == token then
  local fences = {}
  for i, name in ipairs(names) do
    fences[i] = tonumber(redis.call('HGET', K.lockinfo(name), 'fence'))
  end
  return granted(fences)
end

-- A request served at or after its deadline (less the reply margin) is
-- never granted, even with its locks free: its client is gone (the script
-- ran late after a stall, a takeover served it again, or a repeat came
-- after its first grant was released). A waiter already queued under this
-- token stays queued: the tick answers it.
if deadline > 0 and now >= deadline - LOCK_REPLY_MARGIN_MS then
  if reply ~= '' and redis.call('EXISTS', K.waiter(token)) == 1 then
    return { 'queued' }
  end
  return refused('TIMEOUT', 'lock ' .. table.concat(names, ' ')
    .. ' not granted: the request was served after its deadline')
end

if not first and grantable(names, nil, true) then
  return granted(grant(names, owner, token, ttl, now, now_us))
end
if reply == '' or wait <= 0 then
  local busy = names[1]
  for _, name in ipairs(names) do
    if redis.call('EXISTS', K.lock(name)) == 1 then busy = name break end
  end
  if redis.call('EXISTS', K.lock(busy)) == 0 then
    return refused('BUSY', 'lock ' .. busy .. ' has waiters ahead')
  end
  return refused('BUSY', 'lock ' .. busy .. ' is held by ' .. holder(busy))
end
if redis.call('EXISTS', K.waiter(token)) == 1 then return { 'queued' } end
for _, name in ipairs(names) do
  if redis.call('ZCARD', K.lockq(name)) >= LOCK_WAITERS_MAX then
    return refused('BUSY', 'lock ' .. name .. ' has ' .. LOCK_WAITERS_MAX
      .. ' waiters, the most one lock queues')
  end
end
if redis.call('ZCARD', K.waiters) >= LOCK_WAITERS_ALL_MAX then
  return refused('BUSY', LOCK_WAITERS_ALL_MAX
    .. ' lock requests wait, the most wfp-lock queues')
end
local until_ms = now + wait
if deadline > 0 and deadline - LOCK_REPLY_MARGIN_MS < until_ms then
  until_ms = deadline - LOCK_REPLY_MARGIN_MS
end
if until_ms <= now then
  return refused('TIMEOUT', blockers(names, token))
end
-- A waiter is known by its token, ordered by one arrival sequence.
local seq = redis.call('INCR', K.waiter_seq)
redis.call('HSET', K.waiter(token), 'names', table.concat(names, ' '),
  'owner', owner, 'token', token, 'ttl_ms', ttl, 'reply', reply,
  'deadline', until_ms)
for _, name in ipairs(names) do
  redis.call('ZADD', K.lockq(name), seq, token)
end
lease_set(K.waiters, token, until_ms)
return { 'queued' }
