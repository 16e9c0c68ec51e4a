-- heartbeat.lua: the owner extends its lease on a claimed job.
-- KEYS[1] job hash. ARGV: [1] tag, [2] id, [3] token, [4] visibility_ms.
-- Returns the new lease end (ms since the epoch); refuses a stale token.
want_args(1, 4, 4)
local id = arg_id(2)
want_key(1, K.job(id))
local token = arg_token(3, 'token')
local vis = arg_int(4, 'visibility_ms', LIMIT.LEASE_MIN_MS, LIMIT.LEASE_MAX_MS)
local j = check_owner(id, token, 0)
local now = now_ms()
local lease = now + vis
redis.call('HSET', K.job(id), 'heartbeat_at', now, 'lease_until', lease)
lease_set(K.leases, id, lease)
redis.call('ZADD', K.owners, now, j.owner)
return lease
