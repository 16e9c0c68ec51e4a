-- lock_renew.lua: the holder extends its lease.
-- KEYS[1] the lock's key. ARGV: [1] tag, [2] name, [3] token, [4] ttl_ms,
-- [5] reply key or ''. Returns the new lease end (ms since the epoch).
local name, token, ttl = ARGV[2], ARGV[3], tonumber(ARGV[4])
check_holder(name, token)
local now = clock()
redis.call('PEXPIRE', K.lock(name), ttl)
redis.call('HSET', K.lockinfo(name), 'ttl_ms', ttl, 'expires_at', now + ttl)
redis.call('ZADD', K.held, now + ttl, name)
reply_push(ARGV[5], { ok = true, name = name, ttl_ms = ttl,
  expires_at = now + ttl })
return now + ttl
