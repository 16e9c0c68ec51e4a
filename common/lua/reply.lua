-- reply.lua: pushes a service's reply onto the client's reply list and
-- gives the list its TTL in one step, so a dropped link can never leave a
-- reply list without a TTL.
-- A bare script (only the constants): it is on every request's path.
-- KEYS[1] reply list. ARGV: [1] tag, [2] the packed reply.
redis.call('LPUSH', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], REPLY_TTL_MS)
return 1
