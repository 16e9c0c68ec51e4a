-- heartbeat.lua: the owner extends its lease on a claimed job.
-- KEYS[1] job hash. ARGV: [1] tag, [2] id, [3] token, [4] visibility_ms.
-- Returns the new lease end (ms since the epoch); refuses a stale token.
local id, token, vis = ARGV[2], ARGV[3], tonumber(ARGV[4])
local j = check_owner(id, token, 0)
local now = now_ms()
local lease = now + vis
redis.call('HSET', K.job(id), 'heartbeat_at', now, 'lease_until', lease)
redis.call('ZADD', K.leases, lease, id)
redis.call('ZADD', K.owners, now, j.owner)
return lease
