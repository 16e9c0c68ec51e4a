-- cleanup.lua: removes finished jobs older than the retention time with
-- all their keys, and forgets owners not seen for owner_ttl_ms.
-- KEYS[1] events stream. ARGV: [1] tag, [2] retention_ms, [3] limit,
-- [4] owner_ttl_ms. Returns the number of jobs removed.
want_args(1, 4, 4)
want_key(1, K.events)
local retention = arg_int(2, 'retention_ms', 1, LIMIT.RETENTION_MAX_MS)
local limit = arg_int(3, 'limit', 1, LIMIT.SCAN)
local owner_ttl = arg_int(4, 'owner_ttl_ms', 1, LIMIT.RETENTION_MAX_MS)
local now = now_ms()
local removed = 0
for _, state in ipairs({ 'completed', 'reverted', 'failed', 'dead' }) do
  local ids = redis.call('ZRANGEBYSCORE', K.index(state), '-inf',
    now - retention, 'LIMIT', 0, limit)
  for _, id in ipairs(ids) do
    redis.call('DEL', K.job(id), K.deliveries(id), K.log(id))
    redis.call('ZREM', K.index(state), id)
    removed = removed + 1
  end
end
redis.call('ZREMRANGEBYSCORE', K.owners, '-inf', now - owner_ttl)
return removed
