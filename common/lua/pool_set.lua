-- pool_set.lua: creates a pool or sets its capacity.
-- KEYS[1] pool hash. ARGV: [1] tag, [2] name (1..LIMIT.POOL_NAME of
-- A-Za-z0-9_.-), [3] capacity (0..LIMIT.POOL_CAPACITY), [4] the id of the
-- request ("ms-seq") or '' / absent: the same request served again answers
-- as the first time and changes nothing, [5] the request's deadline or
-- 0 / '' / absent (arg_deadline).
-- A capacity below what reservations hold now is refused with INUSE. A new
-- pool: hash name capacity used 0 reservations 0 created_at updated_at,
-- and its name in the pools zset; an event of type pool, state 'created'
-- or (a capacity changed) 'set', detail "capacity C used U".
-- Returns {capacity, used, created 0|1}.
want_args(1, 3, 5)
local name = arg_pool(2)
want_key(1, K.pool(name))
local capacity = arg_int(3, 'capacity', 0, LIMIT.POOL_CAPACITY)
local request = arg_request(4)
arg_deadline(5)
local seen = done_get(request, 'pool_set', name, 'reservation')
if seen then
  return { tonumber(seen.capacity), tonumber(seen.used), seen.created }
end
local pool = K.pool(name)
local f = redis.call('HMGET', pool, 'capacity', 'used')
local used = tonumber(f[2]) or 0
if f[1] and capacity < used then
  fail('INUSE pool ' .. quoted(name) .. ' has ' .. int_str(used)
    .. ' used; capacity ' .. int_str(capacity) .. ' would be below it')
end
local now = now_ms()
local created = 0
if not f[1] then
  created = 1
  redis.call('HSET', pool, 'name', name, 'capacity', int_str(capacity),
    'used', 0, 'reservations', 0, 'created_at', now, 'updated_at', now)
  redis.call('ZADD', K.pools, now, name)
elseif tonumber(f[1]) ~= capacity then
  redis.call('HSET', pool, 'capacity', int_str(capacity), 'updated_at', now)
end
if created == 1 or tonumber(f[1]) ~= capacity then
  emit_as('reservation', 'pool', name, created == 1 and 'created' or 'set',
    '', 'capacity ' .. int_str(capacity) .. ' used ' .. int_str(used))
end
local answer = { capacity, used, created }
-- (as digits: cjson writes 14 significant digits of a number)
done_put(request, 'pool_set', name, { capacity = int_str(capacity),
  used = int_str(used), created = created }, 'reservation')
return answer
