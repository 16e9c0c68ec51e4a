-- claim.lua: hands up to `count` posted jobs to one owner. Each claim gets
-- a new owner token and the job's next fencing token (previous + 1,
-- floored at the server clock in microseconds), and a lease that ends
-- visibility_ms from now unless heartbeats extend it.
-- The stream entry is acknowledged and deleted here: from now on the job's
-- hash and the lease set say who holds it, so the stream only ever holds
-- jobs waiting on the board.
-- KEYS[1] job stream. ARGV: [1] tag, [2] owner, [3] count, [4] random token
-- base (128 bits, hex), [5] visibility_ms.
-- Returns {last_stream_id, {id, token, fence, attempts, max_attempts,
-- name, payload}, ...}; last_stream_id lets an idle claimer block on XREAD
-- for anything newer.
want_args(1, 5, 5)
want_key(1, K.stream)
local owner = arg_text(2, 'owner', LIMIT.NAME)
local count = arg_int(3, 'count', 1, LIMIT.CLAIM_BATCH)
local base = arg_token_base(4, 1 + #tostring(count))
local vis = arg_int(5, 'visibility_ms', LIMIT.LEASE_MIN_MS, LIMIT.LEASE_MAX_MS)
local out = { '0-0' }
local now, now_us = now_ms_us()

local function read()
  return redis.pcall('XREADGROUP', 'GROUP', GROUP, 'claim', 'COUNT', count,
    'STREAMS', K.stream, '>')
end
local res = read()
if type(res) == 'table' and res.err and string.sub(res.err, 1, 7) == 'NOGROUP' then
  -- First claim on this board: the group reads from the stream's start.
  redis.call('XGROUP', 'CREATE', K.stream, GROUP, '0', 'MKSTREAM')
  res = read()
end
if type(res) ~= 'table' or res.err or not res[1] then
  local top = redis.call('XREVRANGE', K.stream, '+', '-', 'COUNT', 1)
  if top[1] then out[1] = top[1][1] end
  return out
end

local eids = {}
for i, e in ipairs(res[1][2]) do eids[i] = e[1] end
redis.call('XACK', K.stream, GROUP, unpack(eids))
redis.call('XDEL', K.stream, unpack(eids))

for i, e in ipairs(res[1][2]) do
  local eid = e[1]
  local id = field(e[2], 'id')
  local f = id and redis.call('HMGET', K.job(id), 'state', 'entry', 'name',
    'max_attempts', 'payload')
  if not id or not f[1] then
    redis.call('XADD', K.dead, 'MAXLEN', '~', DEADLETTER_MAXLEN, '*',
      'source', 'jobboard', 'kind', 'job-entry',
      'entry', eid, 'id', id or '', 'at', now, 'reason',
      id and 'job hash missing for stream entry' or 'stream entry without an id')
  elseif f[1] == 'posted' and f[2] == eid then
    next_state(id, 'posted', 'claim')
    local job = K.job(id)
    local fence = next_fence(id, now_us)
    local attempts = redis.call('HINCRBY', job, 'attempts', 1)
    local token = base .. '.' .. i
    local lease = now + vis
    redis.call('HSET', job, 'state', 'claimed', 'owner', owner, 'token', token,
      'claimed_at', now, 'heartbeat_at', now, 'lease_until', lease,
      'updated_at', now)
    lease_set(K.leases, id, lease)
    move_index(id, 'posted', 'claimed', now)
    emit(id, 'claimed', owner, 'attempt ' .. attempts .. ', fence '
      .. int_str(fence))
    out[#out + 1] = { id, token, fence, attempts, tonumber(f[4]), f[3], f[5] }
  end
end
redis.call('ZADD', K.owners, now, owner)
return out
