-- lock_release.lua: the holder lets go of a lock; the first waiter gets it.
-- KEYS[1] the lock's key. ARGV: [1] tag, [2] name, [3] token,
-- [4] reply key or ''. Returns 1; refuses a token that does not hold it
-- (STALE) and malformed arguments (BADARG), before any write.
check_call(4, 4)
local name = arg_name(2)
local token = arg_token(3)
local reply = arg_reply(4)
check_key(K.lock(name))
check_holder(name, token)
local now, now_us = clock()
redis.call('DEL', K.lock(name), K.lockinfo(name))
lease_drop(K.held, name)
emit_as('lock', 'lock', name, 'released', token_owner(token), '')
wake({ name }, now, now_us)
reply_push(reply, { ok = true, name = name, state = 'released' })
return 1
