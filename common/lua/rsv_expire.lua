-- rsv_expire.lua: ends the reservations not fulfilled within their TTL.
-- KEYS[1] the expiry lease set. ARGV: [1] tag, [2] limit (1..LIMIT.SCAN),
-- [3] retention_ms of a fulfilment job cancelled at once (absent:
-- LIMIT.RETENTION_DEFAULT_MS).
-- Each due id (lease_due) still pending -> expired, error "not fulfilled
-- within TTL ms", its fulfilment job cancelled (cancel_job, reason
-- 'reservation expired') while it runs; when the job has ended short of
-- completed (at once by the cancel, or before), its capacity comes back
-- now (give_back). A pending reservation whose job completed by its
-- expires_at is left to reconciling (it was fulfilled in time). Ids no
-- longer pending leave the lease set.
-- Returns {expired, now_ms, next_end_ms or -1} (lease_next).
want_args(1, 2, 3)
want_key(1, K.rsv_expiry)
local limit = arg_int(2, 'limit', 1, LIMIT.SCAN)
local retention = LIMIT.RETENTION_DEFAULT_MS
if ARGV[3] then
  retention = arg_int(3, 'retention_ms', 1, LIMIT.RETENTION_MAX_MS)
end
local now = now_ms()
local expired = 0

-- Expires id (pending, its TTL over) unless its job completed in time.
local function expire(id, f)
  local job, ttl = f[2], f[4] or '?'
  local js = job_end(job)
  local done_at = tonumber(redis.call('HGET', K.job(job), 'finished_at'))
  lease_drop(K.rsv_expiry, id)
  if js == 'completed' and done_at and done_at <= tonumber(f[3]) then
    return
  end
  local err = 'not fulfilled within ' .. ttl .. ' ms'
  redis.call('HSET', K.rsv(id), 'error', err)
  rsv_move(id, 'pending', 'expired', now, err)
  if js == 'posted' or js == 'claimed' then
    js = cancel_job(job, 'reservation expired', retention)
  end
  if JOB_ENDED[js] and js ~= 'completed' then
    redis.call('HDEL', K.rsv_jobs, job)
    give_back(id, now)
    emit_as('reservation', 'rsv', id, 'expired', '', 'capacity returned')
  end
  rsv_settle(id)
  expired = expired + 1
end

for _, id in ipairs(lease_due(K.rsv_expiry, now, limit)) do
  local f = redis.call('HMGET', K.rsv(id), 'state', 'job', 'expires_at',
    'ttl_ms')
  local ends = tonumber(f[3])
  if f[1] ~= 'pending' or not ends then
    lease_drop(K.rsv_expiry, id)
  elseif ends > now then
    lease_set(K.rsv_expiry, id, ends)
  else
    expire(id, f)
  end
end
return { expired, now, lease_next(K.rsv_expiry) }
