-- post.lua: puts a new job on the board in one step: its hash, its entry
-- on the job stream, its index entry and an event.
-- KEYS[1] job hash. ARGV: [1] tag, [2] id, [3] name, [4] max_attempts,
-- [5] payload (a JSON object as text), [6] idempotency key or '', [7] its
-- TTL in ms, [8] the id of the request that asks for the post ("ms-seq")
-- or '' / absent: a request served twice (a replica died before
-- acknowledging it) then answers with the job it posted. [9] the
-- request's deadline (ms, Redis's clock) or 0 / '' / absent: a request
-- run at or after it is refused with TIMEOUT (arg_deadline).
-- Returns {id, 1} for a new job, or {first_id, 0} when the idempotency key
-- was seen within its TTL or the request was served before.
want_args(1, 7, 9)
local id = arg_id(2)
want_key(1, K.job(id))
local name = arg_text(3, 'name', LIMIT.NAME)
local max_attempts = arg_int(4, 'max_attempts', 1, LIMIT.MAX_ATTEMPTS)
local payload = ARGV[5]
local idem = arg_text(6, 'idempotency key', LIMIT.IDEM_KEY, true)
local idem_ttl = arg_int(7, 'idempotency TTL', 1, LIMIT.IDEM_TTL_MS)
local request = arg_request(8)
arg_deadline(9)
if #payload > LIMIT.PAYLOAD or not utf8_ok(payload, false)
    or not json_object_ok(payload) then
  bad_arg('payload', payload, 'is not a JSON object of at most '
    .. LIMIT.PAYLOAD .. ' bytes')
end

if idem ~= '' then
  local first = redis.call('GET', K.idem(idem))
  -- (a first job already removed by retention does not count)
  if first and redis.call('EXISTS', K.job(first)) == 1 then
    return { first, 0 }
  end
end
if redis.call('EXISTS', K.job(id)) == 1 then
  if request ~= '' and redis.call('HGET', K.job(id), 'request') == request then
    return { id, 0 }
  end
  fail('EXISTS job ' .. id .. ' already exists')
end
local now = now_ms()
local entry = redis.call('XADD', K.stream, '*', 'id', id)
redis.call('HSET', K.job(id), 'id', id, 'name', name, 'state', 'posted',
  'owner', '', 'attempts', 0, 'max_attempts', max_attempts, 'fence', 0,
  'redeliveries', 0, 'created_at', now, 'updated_at', now, 'entry', entry,
  'idempotency_key', idem, 'request', request, 'payload', payload)
redis.call('ZADD', K.index('posted'), now, id)
if idem ~= '' then
  redis.call('SET', K.idem(idem), id, 'PX', idem_ttl)
end
emit(id, 'posted', '', name)
return { id, 1 }
