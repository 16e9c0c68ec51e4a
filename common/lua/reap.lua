-- reap.lua: takes jobs back from owners whose lease ran out (they stopped
-- heartbeating). A job with attempts left goes back on the board with a
-- redelivery record; one without goes dead onto the dead-letter stream.
-- KEYS[1] lease set. ARGV: [1] tag, [2] limit, [3] retention_ms.
-- Returns {reposted, dead, now_ms, next_lease_ms}: the server clock and the
-- earliest lease still running (-1 when none), so the caller can arm a
-- timer for that exact end.
want_args(1, 3, 3)
want_key(1, K.leases)
local limit = arg_int(2, 'limit', 1, LIMIT.SCAN)
local retention = arg_int(3, 'retention_ms', 1, LIMIT.RETENTION_MAX_MS)
local now = now_ms()
local reposted, buried = 0, 0
local ids = lease_due(K.leases, now, limit)

for _, id in ipairs(ids) do
  local f = redis.call('HMGET', K.job(id), 'state', 'owner', 'fence',
    'attempts', 'max_attempts', 'lease_until')
  local lease = tonumber(f[6] or 0) or 0
  if f[1] ~= 'claimed' then
    lease_drop(K.leases, id)
  elseif lease > now then
    lease_set(K.leases, id, lease)
  else
    local why = 'owner ' .. f[2] .. ' stopped heartbeating (lease ended '
      .. (now - lease) .. ' ms ago)'
    if tonumber(f[4]) >= tonumber(f[5]) then
      next_state(id, 'claimed', 'give_up')
      finalize(id, 'claimed', 'dead', now, 'gave up after ' .. f[4]
        .. ' attempts: ' .. why, retention, f[2])
      buried = buried + 1
    else
      next_state(id, 'claimed', 'expire')
      to_board(id, 'claimed', now, 'heartbeat-timeout', f[2], f[3], why)
      reposted = reposted + 1
    end
  end
end
return { reposted, buried, now, lease_next(K.leases) }
