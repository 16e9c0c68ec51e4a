-- log_append.lua: the owner of a claimed job appends entries to its task
-- log, and (visibility_ms > 0) extends its lease in the same step.
-- KEYS[1] job hash, KEYS[2] its log. ARGV: [1] tag, [2] id, [3] token,
-- [4] fence (the claim's, > 0), [5] visibility_ms (0: the lease is not
-- extended; else LIMIT.LEASE_MIN_MS..LIMIT.LEASE_MAX_MS: also a
-- heartbeat), [6] n entries (0..LIMIT.LOG_BATCH; 0 is a heartbeat that
-- also reports a cancel), then n groups of 8: task, state, attempt,
-- outputs ('' none, else a JSON object of at most LIMIT.LOG_OUTPUTS
-- bytes), error ('' none, else one line of text), final ('' or '0': no,
-- '1': an apply-failed that will not be retried), stdout, stderr ('' or
-- UTF-8 of at most LIMIT.LOG_TAIL bytes: tails of a failed task).
-- Each entry gets, in this order: run, task, state, attempt, fence, at,
-- owner, then the optional fields that are not ''. run, fence, at and
-- owner come from the job hash and Redis's clock, never from the caller.
-- Refuses (STALE) a token or fence that is not the job's current owner's:
-- a writer that lost the job writes nothing. Refuses (LOGFULL) a call
-- that would take the log past its size: a call with a `running` entry
-- (a task's apply starting) past LIMIT.LOG_ENTRIES entries or
-- LIMIT.LOG_BYTES bytes, any call past those plus LIMIT.LOG_ENTRIES_RESERVE
-- / LIMIT.LOG_BYTES_RESERVE (room for the rollback that follows). The
-- bytes are the lengths of every field name and value of every entry,
-- counted in the job hash's log_bytes. Returns {lease_until, cancel
-- reason or ''}.
want_args(2, 6, 6 + 8 * LIMIT.LOG_BATCH)
local id = arg_id(2)
want_key(1, K.job(id))
want_key(2, K.log(id))
local token = arg_token(3, 'token')
local fence = arg_int(4, 'fence', 1, LIMIT.FENCE_MAX)
local vis = arg_int(5, 'visibility_ms', 0, LIMIT.LEASE_MAX_MS)
if vis > 0 and vis < LIMIT.LEASE_MIN_MS then
  bad_arg('visibility_ms', ARGV[5], 'is not 0 or ' .. LIMIT.LEASE_MIN_MS
    .. '..' .. int_str(LIMIT.LEASE_MAX_MS))
end
local n = arg_int(6, 'entry count', 0, LIMIT.LOG_BATCH)
if #ARGV ~= 6 + 8 * n then
  fail('BADARG ' .. n .. ' entries take ' .. (6 + 8 * n)
    .. ' arguments, got ' .. #ARGV)
end
local STATES = { 'running', 'applied', 'apply-failed', 'reverting',
  'reverted', 'revert-failed', 'skipped' }
local LOG = K.log(id)

-- Appends name and v to t unless v is ''.
local function opt(t, name, v)
  if v ~= '' then
    t[#t + 1] = name
    t[#t + 1] = v
  end
end

-- Checks a stdout/stderr tail (argument i) and returns it.
local function tail(i, name)
  local v = ARGV[i]
  if #v > LIMIT.LOG_TAIL or not utf8_ok(v, false) then
    bad_arg(name, v, 'is not UTF-8 of at most ' .. LIMIT.LOG_TAIL .. ' bytes')
  end
  return v
end

-- Checks entry k (0-based) and returns its XADD, whose run (5), fence
-- (13), at (15) and owner (17) are filled in once the owner is checked.
local function entry(k)
  local b = 6 + 8 * k
  local task = ARGV[b + 1]
  if #task < 1 or #task > LIMIT.TASK_NAME or string.find(task, '[^%w_.%-]') then
    bad_arg('task', task, 'is not 1-' .. LIMIT.TASK_NAME .. ' of A-Za-z0-9_.-')
  end
  local state = arg_one_of(b + 2, 'state', STATES)
  local attempt = arg_int(b + 3, 'attempt', 1, LIMIT.LOG_ATTEMPT)
  local outputs, err = ARGV[b + 4], arg_text(b + 5, 'error', LIMIT.REASON, true)
  if outputs ~= '' and (#outputs > LIMIT.LOG_OUTPUTS
      or not utf8_ok(outputs, false) or not json_object_ok(outputs)) then
    bad_arg('outputs', outputs, 'is not a JSON object of at most '
      .. LIMIT.LOG_OUTPUTS .. ' bytes')
  end
  local final = ARGV[b + 6]
  if final ~= '' and final ~= '0' and final ~= '1' then
    bad_arg('final', final, 'is not 0 or 1')
  end
  local x = { 'XADD', LOG, '*', 'run', '', 'task', task, 'state', state,
    'attempt', int_str(attempt), 'fence', '', 'at', '', 'owner', '' }
  opt(x, 'outputs', outputs)
  opt(x, 'error', err)
  opt(x, 'final', final == '1' and '1' or '')
  opt(x, 'stdout', tail(b + 7, 'stdout'))
  opt(x, 'stderr', tail(b + 8, 'stderr'))
  return x
end

local entries = {}
for k = 0, n - 1 do entries[k + 1] = entry(k) end
local j, f = check_owner(id, token, fence, 'run', 'cancel', 'lease_until',
  'log_bytes')
local run, fence_s, now = f[7] or '1', int_str(j.fence), now_ms()
local bytes, starts = 0, false
for _, x in ipairs(entries) do
  x[5], x[13], x[15], x[17] = run, fence_s, int_str(now), j.owner
  for i = 4, #x do bytes = bytes + #x[i] end
  if x[9] == 'running' then starts = true end
end

-- Refuses the call (LOGFULL) when the log would pass max_n entries or
-- max_b bytes with it.
local function log_room(max_n, max_b, what)
  local have_n = redis.call('XLEN', LOG)
  local have_b = tonumber(f[10]) or 0
  if have_n + n > max_n or have_b + bytes > max_b then
    fail('LOGFULL task log of job ' .. id .. ' holds ' .. have_n
      .. ' entries, ' .. int_str(have_b) .. ' bytes: ' .. what
      .. ' past ' .. max_n .. ' entries or ' .. int_str(max_b) .. ' bytes')
  end
end
if n > 0 then
  if starts then
    log_room(LIMIT.LOG_ENTRIES, LIMIT.LOG_BYTES, 'no task starts')
  end
  log_room(LIMIT.LOG_ENTRIES + LIMIT.LOG_ENTRIES_RESERVE,
    LIMIT.LOG_BYTES + LIMIT.LOG_BYTES_RESERVE, 'nothing is written')
  redis.call('HINCRBY', K.job(id), 'log_bytes', bytes)
end
for _, x in ipairs(entries) do redis.call(unpack(x)) end
local lease = tonumber(f[9]) or 0
if vis > 0 then
  lease = now + vis
  redis.call('HSET', K.job(id), 'heartbeat_at', now, 'lease_until', lease)
  lease_set(K.leases, id, lease)
  redis.call('ZADD', K.owners, now, j.owner)
end
return { lease, f[8] or '' }
