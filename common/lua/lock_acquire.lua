-- lock_acquire.lua: takes one or several locks, all or nothing.
-- KEYS[1] the first lock's key. ARGV: [1] tag, [2] owner, [3] token,
-- [4] ttl_ms, [5] wait_ms, [6] reply key ('' for a direct call: no
-- waiting, the answer is returned), [7..] lock names.
-- Free locks with no earlier waiter are granted at once. Otherwise, with
-- a reply key and wait_ms > 0, the request waits in every lock's queue
-- and is answered on its reply key when granted or when the wait runs
-- out; without, it is refused with BUSY.
-- Returns {'granted', fence...}, {'queued'} or {'busy', message}.
local owner, token, ttl = ARGV[2], ARGV[3], tonumber(ARGV[4])
local wait, reply = tonumber(ARGV[5]), ARGV[6]
local names = {}
for i = 7, #ARGV do names[#names + 1] = ARGV[i] end
local now, now_us = clock()

-- Answers a grant: the client's reply, and {'granted', fence...}.
local function granted(fences)
  reply_push(reply, grant_reply(names, owner, token, ttl, fences))
  local out = { 'granted' }
  for i, f in ipairs(fences) do out[i + 1] = f end
  return out
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

if not first and grantable(names, nil, true) then
  return granted(grant(names, owner, token, ttl, now, now_us))
end
if reply == '' or wait <= 0 then
  local busy = names[1]
  for _, name in ipairs(names) do
    if redis.call('EXISTS', K.lock(name)) == 1 then busy = name break end
  end
  local msg = 'BUSY lock ' .. busy .. ' is held by ' .. holder(busy)
  if redis.call('EXISTS', K.lock(busy)) == 0 then
    msg = 'BUSY lock ' .. busy .. ' has waiters ahead'
  end
  reply_push(reply, { ok = false, error = msg })
  return { 'busy', msg }
end
if redis.call('EXISTS', K.waiter(token)) == 1 then return { 'queued' } end
-- A waiter is known by its token, ordered by one arrival sequence.
local seq = redis.call('INCR', K.waiter_seq)
redis.call('HSET', K.waiter(token), 'names', table.concat(names, ' '),
  'owner', owner, 'token', token, 'ttl_ms', ttl, 'reply', reply,
  'deadline', now + wait)
for _, name in ipairs(names) do
  redis.call('ZADD', K.lockq(name), seq, token)
end
redis.call('ZADD', K.waiters, now + wait, token)
return { 'queued' }
