-- lock_tick.lua: the lock service's periodic pass. Locks whose lease ran
-- out produce an `expired` event naming the owner that lost them, and go
-- to their first waiter; waiters whose wait ran out are told so.
-- KEYS[1] the held set. ARGV: [1] tag, [2] limit (leases and waiters
-- looked at, 1..LOCK_TICK_LIMIT_MAX). Refuses malformed arguments (BADARG).
-- Returns {expired, timed_out, granted}.
check_call(2, 2)
local limit = arg_int(2, 'limit', 1, LOCK_TICK_LIMIT_MAX)
check_key(K.held)
local now, now_us = clock()
local work, expired, timed_out = {}, 0, 0

for _, name in ipairs(redis.call('ZRANGEBYSCORE', K.held, '-inf', now,
    'LIMIT', 0, limit)) do
  local pttl = redis.call('PTTL', K.lock(name))
  -- PTTL 0: the lease ends in this millisecond, but Redis deletes the
  -- key only after it: still held (taken for expired, its waiters would
  -- find it held and never be woken again). A later tick sees it gone.
  if pttl >= 0 then
    redis.call('ZADD', K.held, now + pttl + 1, name)   -- renewed meanwhile
  else
    local info = redis.call('HMGET', K.lockinfo(name), 'owner', 'fence',
      'expires_at')
    emit_as('lock', 'lock', name, 'expired', info[1] or '',
      'lease ended ' .. (now - tonumber(info[3] or now)) .. ' ms ago; fence '
      .. (info[2] or '?') .. ' is void')
    redis.call('DEL', K.lockinfo(name))
    redis.call('ZREM', K.held, name)
    work[#work + 1] = name
    expired = expired + 1
  end
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', K.waiters, '-inf', now,
    'LIMIT', 0, limit)) do
  time_out(id, redis.call('HGET', K.waiter(id), 'reply'), work)
  timed_out = timed_out + 1
end
return { expired, timed_out, wake(work, now, now_us) }
