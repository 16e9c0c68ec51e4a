-- lock_release.lua: the holder lets go of a lock; the first waiter gets it.
-- KEYS[1] the lock's key. ARGV: [1] tag, [2] name, [3] token,
-- [4] reply key or ''. Returns 1; refuses a token that does not hold it.
local name, token = ARGV[2], ARGV[3]
check_holder(name, token)
local now, now_us = clock()
redis.call('DEL', K.lock(name), K.lockinfo(name))
redis.call('ZREM', K.held, name)
emit_as('lock', 'lock', name, 'released', token_owner(token), '')
wake({ name }, now, now_us)
reply_push(ARGV[4], { ok = true, name = name, state = 'released' })
return 1
