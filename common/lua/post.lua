-- post.lua: puts a new job on the board in one step: its hash, its entry
-- on the job stream, its index entry and an event.
-- KEYS[1] job hash. ARGV: [1] tag, [2] id, [3] name, [4] max_attempts,
-- [5] payload (JSON text), [6] idempotency key or '', [7] its TTL in ms,
-- [8] '1' when the id was derived from the request (a repeat of the same
-- request then answers with the job it posted), else '0' or absent.
-- Returns {id, 1} for a new job, or {first_id, 0} when the idempotency key
-- was seen within its TTL.
local id, name, max_attempts = ARGV[2], ARGV[3], tonumber(ARGV[4])
local payload, idem, idem_ttl = ARGV[5], ARGV[6], tonumber(ARGV[7])

if idem ~= '' then
  local first = redis.call('GET', K.idem(idem))
  -- (a first job already removed by retention does not count)
  if first and redis.call('EXISTS', K.job(first)) == 1 then
    return { first, 0 }
  end
end
if redis.call('EXISTS', K.job(id)) == 1 then
  if ARGV[8] == '1' then return { id, 0 } end
  fail('EXISTS job ' .. id .. ' already exists')
end
local now = now_ms()
local entry = redis.call('XADD', K.stream, '*', 'id', id)
redis.call('HSET', K.job(id), 'id', id, 'name', name, 'state', 'posted',
  'owner', '', 'attempts', 0, 'max_attempts', max_attempts, 'fence', 0,
  'redeliveries', 0, 'created_at', now, 'updated_at', now, 'entry', entry,
  'idempotency_key', idem, 'payload', payload)
redis.call('ZADD', K.index('posted'), now, id)
if idem ~= '' then
  redis.call('SET', K.idem(idem), id, 'PX', idem_ttl)
end
emit(id, 'posted', '', name)
return { id, 1 }
