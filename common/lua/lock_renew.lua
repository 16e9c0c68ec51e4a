-- lock_renew.lua: the holder extends its lease.
-- KEYS[1] the lock's key. ARGV: [1] tag, [2] name, [3] token, [4] ttl_ms,
-- [5] reply key or ''. Returns the new lease end (ms since the epoch);
-- refuses a token that does not hold it (STALE) and malformed arguments
-- (BADARG), before any write. The lock's info hash follows the lease.
check_call(5, 5)
local name = arg_name(2)
local token = arg_token(3)
local ttl = arg_int(4, 'ttl_ms', LOCK_TTL_MIN_MS, LOCK_TTL_MAX_MS)
local reply = arg_reply(5)
check_key(K.lock(name))
check_holder(name, token)
local now = clock()
redis.call('PEXPIRE', K.lock(name), ttl)
redis.call('HSET', K.lockinfo(name), 'ttl_ms', ttl, 'expires_at', now + ttl)
redis.call('PEXPIRE', K.lockinfo(name), ttl + LOCK_INFO_GRACE_MS)
held_until(name, now + ttl)
reply_push(reply, { ok = true, name = name, ttl_ms = ttl,
  expires_at = now + ttl })
return now + ttl
