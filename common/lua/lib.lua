-- lib.lua: helpers every job-board script starts with.
--
-- Each script is sent as: the NEXT table (rendered from common/job.c, the
-- one place that says which operation moves a job from which state) and
-- the shared constants (REPLY_TTL_MS, from scripts.h), this file, then the
-- script itself. ARGV[1] is always the hash tag "{prefix}"
-- that every key shares, so the scripts run unchanged on Redis Cluster.
-- Key names here mirror common/keys.c; the README lists them.
-- Errors are raised as {err = "CODE message"} before any write, so a
-- refused call changes nothing.

local P = ARGV[1]
local K = {}
function K.job(id) return P .. ':job:' .. id end
function K.deliveries(id) return P .. ':job:' .. id .. ':deliveries' end
function K.log(id) return P .. ':job:' .. id .. ':log' end
function K.index(state) return P .. ':jobs:' .. state end
function K.idem(key) return P .. ':idem:' .. key end
function K.lock(name) return P .. ':lock:' .. name end
function K.lockinfo(name) return P .. ':lockinfo:' .. name end
function K.lockfence(name) return P .. ':lockfence:' .. name end
function K.lockq(name) return P .. ':lockq:' .. name end
function K.waiter(id) return P .. ':waiter:' .. id end
K.held = P .. ':locks:held'
K.waiters = P .. ':locks:waiters'
K.waiter_seq = P .. ':locks:seq'
K.stream = P .. ':jobs:stream'
K.leases = P .. ':jobs:leases'
K.owners = P .. ':owners'
K.dead = P .. ':deadletter'
K.events = P .. ':events'

local GROUP = 'executors'
local EVENTS_MAXLEN = 100000     -- the events stream is capped near this
local DEADLETTER_MAXLEN = 100000 -- and the dead-letter stream near this
local DELIVERIES_MAXLEN = 100    -- redelivery records kept per job
local TTL_MARGIN_MS = 60000      -- keys outlive retention by this, so the
                                 -- cleaner normally removes them first

local function fail(msg) error({err = msg}) end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The state that op moves a job in `from` to; refuses moves NEXT lacks.
local function next_state(id, from, op)
  local row = NEXT[from]
  local to = row and row[op]
  if not to then
    fail('STATE job ' .. id .. ' is ' .. tostring(from) .. ': cannot ' .. op)
  end
  return to
end

-- Appends one state change of any service to the capped events stream.
local function emit_as(service, kind, id, state, owner, detail)
  redis.call('XADD', K.events, 'MAXLEN', '~', EVENTS_MAXLEN, '*',
    'service', service, 'type', kind, 'id', id, 'state', state,
    'owner', owner or '', 'detail', detail or '')
end

-- A job's state change.
local function emit(id, state, owner, detail)
  emit_as('jobboard', 'job', id, state, owner, detail)
end

-- Pushes a msgpack reply map onto a client's reply list; an unread one
-- expires after REPLY_TTL_MS (rendered from scripts.h).
local function reply_push(key, map)
  if key == nil or key == '' then return end
  redis.call('LPUSH', key, cmsgpack.pack(map))
  redis.call('PEXPIRE', key, REPLY_TTL_MS)
end

-- Moves id from the index of one state to another's, scored by time.
local function move_index(id, from, to, now)
  if from ~= to then redis.call('ZREM', K.index(from), id) end
  redis.call('ZADD', K.index(to), now, id)
end

-- Refuses a write unless id is claimed under this token (and fence, when
-- fence > 0). Returns the job's fields as a table.
local function check_owner(id, token, fence)
  local f = redis.call('HMGET', K.job(id), 'state', 'token', 'fence',
    'owner', 'attempts', 'max_attempts')
  if not f[1] then fail('NOJOB job ' .. id .. ' does not exist') end
  local j = { state = f[1], token = f[2], fence = tonumber(f[3]),
    owner = f[4], attempts = tonumber(f[5]), max_attempts = tonumber(f[6]) }
  if j.state ~= 'claimed' or j.token ~= token
      or (fence > 0 and j.fence ~= fence) then
    fail('STALE token of job ' .. id .. ' is stale: the job is ' .. j.state
      .. ' with fence ' .. tostring(j.fence) .. ' owned by '
      .. (j.owner ~= '' and j.owner or 'nobody'))
  end
  return j
end

-- Records one redelivery: its number, why, and who had the job before.
local function record_delivery(id, why, prev_owner, prev_fence, detail, now)
  local n = redis.call('HINCRBY', K.job(id), 'redeliveries', 1)
  redis.call('XADD', K.deliveries(id), 'MAXLEN', '~', DELIVERIES_MAXLEN, '*',
    'n', n, 'reason', why, 'prev_owner', prev_owner or '',
    'prev_fence', prev_fence or 0, 'detail', detail or '', 'at', now)
  return n
end

-- Puts id back on the board: a new stream entry, no owner.
local function to_board(id, from, now, why, prev_owner, prev_fence, detail)
  local entry = redis.call('XADD', K.stream, '*', 'id', id)
  redis.call('HSET', K.job(id), 'state', 'posted', 'owner', '', 'token', '',
    'lease_until', 0, 'entry', entry, 'updated_at', now)
  redis.call('ZREM', K.leases, id)
  move_index(id, from, 'posted', now)
  record_delivery(id, why, prev_owner, prev_fence, detail, now)
  emit(id, 'posted', '', why .. (detail and detail ~= '' and (': ' .. detail) or ''))
end

-- Ends id in a final state; its keys expire after the retention time.
local function finalize(id, from, to, now, reason, retention_ms, owner)
  local job = K.job(id)
  redis.call('HSET', job, 'state', to, 'finished_at', now, 'updated_at', now,
    'lease_until', 0, 'error', reason or '')
  redis.call('ZREM', K.leases, id)
  move_index(id, from, to, now)
  local ttl = retention_ms + TTL_MARGIN_MS
  redis.call('PEXPIRE', job, ttl)
  redis.call('PEXPIRE', K.log(id), ttl)
  if redis.call('HGET', job, 'redeliveries') ~= '0' then
    redis.call('PEXPIRE', K.deliveries(id), ttl)
  end
  if to == 'dead' then
    redis.call('XADD', K.dead, 'MAXLEN', '~', DEADLETTER_MAXLEN, '*',
      'source', 'jobboard', 'kind', 'job',
      'id', id, 'reason', reason or '', 'at', now)
  end
  emit(id, to, owner, reason)
end

-- Value of field name in a flat {k1, v1, k2, v2, ...} reply, or nil.
local function field(flat, name)
  if type(flat) ~= 'table' then return nil end
  for i = 1, #flat - 1, 2 do
    if flat[i] == name then return flat[i + 1] end
  end
  return nil
end
