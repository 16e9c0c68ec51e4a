-- lock_tick.lua: the lock service's pass over its two lease sets (run by
-- its lease watch at each end, see common/lease.c). Locks whose lease ran
-- out produce an `expired` event naming the owner that lost them, and go
-- to their first waiter; waiters whose wait ran out are told so.
-- KEYS[1] the held set. ARGV: [1] tag, [2] limit (leases and waiters
-- looked at, 1..LOCK_TICK_LIMIT_MAX). Refuses malformed arguments (BADARG).
-- Returns {expired, timed_out, granted, now_ms, next_end_ms}: the server
-- clock and the earliest end left in the held and waiters sets (-1 when
-- both are empty), so the caller can arm a timer for that exact end.
check_call(2, 2)
local limit = arg_int(2, 'limit', 1, LOCK_TICK_LIMIT_MAX)
check_key(K.held)
local now, now_us = clock()
local work, expired, timed_out = {}, 0, 0

for _, name in ipairs(lease_due(K.held, now, limit)) do
  local pttl = redis.call('PTTL', K.lock(name))
  -- PTTL 0: the lease ends in this millisecond, but Redis deletes the
  -- key only after it: still held (taken for expired, its waiters would
  -- find it held and never be woken again). The next pass, at now + 1,
  -- sees it gone.
  if pttl >= 0 then
    held_until(name, now + pttl)   -- renewed meanwhile
  else
    local info = redis.call('HMGET', K.lockinfo(name), 'owner', 'fence',
      'expires_at')
    emit_as('lock', 'lock', name, 'expired', info[1] or '',
      'lease ended ' .. (now - tonumber(info[3] or now)) .. ' ms ago; fence '
      .. (info[2] or '?') .. ' is void')
    redis.call('DEL', K.lockinfo(name))
    lease_drop(K.held, name)
    work[#work + 1] = name
    expired = expired + 1
  end
end
for _, id in ipairs(lease_due(K.waiters, now, limit)) do
  time_out(id, redis.call('HGET', K.waiter(id), 'reply'), work)
  timed_out = timed_out + 1
end
local granted = wake(work, now, now_us)
local held_next, wait_next = lease_next(K.held), lease_next(K.waiters)
local next_end = held_next
if wait_next >= 0 and (next_end < 0 or wait_next < next_end) then
  next_end = wait_next
end
return { expired, timed_out, granted, now, next_end }
