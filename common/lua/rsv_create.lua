-- rsv_create.lua: makes reservation ID pending in one step: takes its
-- capacity from every pool it needs (all or nothing), and posts its
-- fulfilment job ID.fulfil as post.lua posts (post_seen, post_new).
-- KEYS[1] rsv hash. ARGV: [1] tag, [2] id (1..LIMIT.RSV_ID of
-- A-Za-z0-9_-), [3] name (1..LIMIT.RSV_NAME of A-Za-z0-9_.-), [4] ttl_ms
-- (1..LIMIT.RSV_TTL_MS), [5] max_attempts of the job, [6] plan (a JSON
-- object of at most LIMIT.RSV_PLAN bytes), [7] the job's payload (a JSON
-- object), [8] the id of the request ("ms-seq") or '', [9] its deadline
-- or 0 / '' (arg_deadline),
-- [10] npools (1..LIMIT.RSV_ITEMS), then npools pairs pool name, amount
-- (1..LIMIT.RSV_AMOUNT; each pool once), then the item names (1..
-- LIMIT.RSV_ITEMS of them, each 1..LIMIT.RSV_ITEM_NAME of A-Za-z0-9_-,
-- unique).
-- Refusals, before any write: NOPOOL pool 'X' does not exist, NOROOM pool
-- 'X' has F free of C; N asked, EXISTS (the id, or its job, is taken).
-- Then: each pool's used += amount and reservations + 1, the id among the
-- pool's holders, the rsv hash (id name state=pending job created_at
-- updated_at expires_at ttl_ms max_attempts plan request pools, item:NAME
-- = none), the pending index, the expiry lease set (expires_at = now +
-- ttl_ms), the jobs map (job -> id), the open set, the events.
-- The same request served again answers as the first time (done_put);
-- after that answer is forgotten, a reservation made by this request
-- answers {id, job, 0}.
-- Returns {id, job, created 0|1}.
want_args(1, 13, 10 + 3 * LIMIT.RSV_ITEMS)
local id = arg_rsv_id(2)
want_key(1, K.rsv(id))
local name = arg_name(3, 'reservation name', LIMIT.RSV_NAME, '%w_.%-',
  'A-Za-z0-9_.-')
local ttl = arg_int(4, 'ttl_ms', 1, LIMIT.RSV_TTL_MS)
local max_attempts = arg_int(5, 'max_attempts', 1, LIMIT.MAX_ATTEMPTS)
local plan, payload = ARGV[6], ARGV[7]
local request = arg_request(8)
arg_deadline(9)
local npools = arg_int(10, 'npools', 1, LIMIT.RSV_ITEMS)
local first_item = 11 + 2 * npools
local nitems = #ARGV - first_item + 1
if nitems < 1 or nitems > LIMIT.RSV_ITEMS then
  fail('BADARG expected 1-' .. LIMIT.RSV_ITEMS .. ' item names after '
    .. npools .. ' pools, got ' .. nitems)
end
if #plan > LIMIT.RSV_PLAN or not utf8_ok(plan, false)
    or not json_object_ok(plan) then
  bad_arg('plan', plan, 'is not a JSON object of at most '
    .. LIMIT.RSV_PLAN .. ' bytes')
end
check_payload(payload)
local pools, amounts, words = {}, {}, {}
for i = 11, first_item - 1, 2 do
  local pool = arg_pool(i)
  if amounts[pool] then bad_arg('pool name', pool, 'is given twice') end
  amounts[pool] = arg_int(i + 1, 'amount', 1, LIMIT.RSV_AMOUNT)
  pools[#pools + 1] = pool
  words[#words + 1] = pool .. ' ' .. int_str(amounts[pool])
end
local items, seen_item = {}, {}
for i = first_item, #ARGV do
  local item = arg_name(i, 'item name', LIMIT.RSV_ITEM_NAME, '%w_%-',
    'A-Za-z0-9_-')
  if seen_item[item] then bad_arg('item name', item, 'is given twice') end
  seen_item[item] = true
  items[#items + 1] = item
end

local job = id .. '.fulfil'
local seen = done_get(request, 'create', id, 'reservation')
if seen then return { id, seen.job, seen.created } end
local h = K.rsv(id)
if redis.call('EXISTS', h) == 1 then
  if request ~= '' and redis.call('HGET', h, 'request') == request then
    return { id, redis.call('HGET', h, 'job'), 0 }
  end
  fail('EXISTS reservation ' .. id .. ' already exists')
end
if post_seen(job, '', '') then
  fail('EXISTS job ' .. job .. ' already exists')
end
for _, pool in ipairs(pools) do
  local f = redis.call('HMGET', K.pool(pool), 'capacity', 'used')
  if not f[1] then fail('NOPOOL pool ' .. quoted(pool) .. ' does not exist') end
end
for _, pool in ipairs(pools) do
  local f = redis.call('HMGET', K.pool(pool), 'capacity', 'used')
  local cap, used = tonumber(f[1]) or 0, tonumber(f[2]) or 0
  local free = math.max(0, cap - used)
  if amounts[pool] > free then
    fail('NOROOM pool ' .. quoted(pool) .. ' has ' .. int_str(free)
      .. ' free of ' .. int_str(cap) .. '; ' .. int_str(amounts[pool])
      .. ' asked')
  end
end

local now = now_ms()
for _, pool in ipairs(pools) do
  local p = K.pool(pool)
  local used = redis.call('HINCRBY', p, 'used', amounts[pool])
  redis.call('HINCRBY', p, 'reservations', 1)
  redis.call('HSET', p, 'updated_at', now)
  redis.call('ZADD', K.poolrsv(pool), now, id)
  emit_as('reservation', 'pool', pool, 'taken', '', id .. ' '
    .. int_str(amounts[pool]) .. ': used ' .. used .. ' of '
    .. redis.call('HGET', p, 'capacity'))
end
local expires = now + ttl
redis.call('HSET', h, 'id', id, 'name', name, 'state', 'pending', 'job', job,
  'created_at', now, 'updated_at', now, 'expires_at', int_str(expires),
  'ttl_ms', ttl, 'max_attempts', max_attempts, 'plan', plan,
  'request', request, 'pools', table.concat(words, ' '), 'error', '',
  'release_job', '', 'releases', 0, 'release_requested', 0)
for _, item in ipairs(items) do
  redis.call('HSET', h, 'item:' .. item, 'none')
end
redis.call('ZADD', K.rsvs('pending'), now, id)
lease_set(K.rsv_expiry, id, expires)
redis.call('HSET', K.rsv_jobs, job, id)
redis.call('ZADD', K.rsv_open, now, id)
emit_as('reservation', 'rsv', id, 'pending', '', name)
post_new(job, name, max_attempts, payload, '', 1, request)
done_put(request, 'create', id, { job = job, created = 1 }, 'reservation')
return { id, job, 1 }
