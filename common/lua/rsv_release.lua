-- rsv_release.lua: releases reservation ID.
-- KEYS[1] rsv hash. ARGV: [1] tag, [2] id, [3] the teardown job's payload
-- (a JSON object) or '' when the caller has none, [4] the id of the
-- request ("ms-seq") or '' / absent: the same request served again
-- answers as the first time and changes nothing, [5] its deadline or
-- 0 / '' / absent (arg_deadline), [6] retention_ms of a fulfilment job
-- cancelled at once (absent: LIMIT.RETENTION_DEFAULT_MS).
-- - active, or expired with its fulfilment completed and its capacity not
--   back, and no teardown in flight: posts the teardown job ID.release.N
--   (N = releases + 1) with the payload (refused with STATE when there is
--   none) -> {state, job, 'posted'};
-- - a teardown in flight -> {state, release_job, 'running'};
-- - pending: cancels the fulfilment job (cancel_job, reason 'released')
--   while it runs and sets release_requested; reconciling then ends the
--   reservation released -> {'pending', job, 'cancelling'}; expired with
--   its fulfilment not yet reconciled -> {'expired', job, 'cancelling'};
-- - failed, released, expired with its capacity back: refused, STATE
--   reservation X is S; nothing to release.
want_args(1, 3, 6)
local id = arg_rsv_id(2)
want_key(1, K.rsv(id))
local payload = ARGV[3]
local request = arg_request(4)
arg_deadline(5)
local retention = LIMIT.RETENTION_DEFAULT_MS
if ARGV[6] then
  retention = arg_int(6, 'retention_ms', 1, LIMIT.RETENTION_MAX_MS)
end
if payload ~= '' then check_payload(payload) end
local seen = done_get(request, 'release', id, 'reservation')
if seen then return { seen.state, seen.job, seen.action } end
local h = K.rsv(id)
local f = redis.call('HMGET', h, 'state', 'job', 'release_job', 'releases',
  'returned_at', 'name', 'max_attempts', 'release_requested')
if not f[1] then fail('NORSV reservation ' .. quoted(id) .. ' does not exist') end
local state, job = f[1], f[2]
local returned = f[5] and f[5] ~= ''

-- Answers {state, job, action}, remembered for the request.
local function answer_with(s, j, action)
  done_put(request, 'release', id, { state = s, job = j, action = action },
    'reservation')
  return { s, j, action }
end

if (state == 'active' or state == 'expired') and f[3] ~= ''
    and not returned then
  return answer_with(state, f[3], 'running')
end
if state == 'pending' or (state == 'expired' and not returned
    and job_end(job) ~= 'completed') then
  local js = job_end(job)
  if js == 'posted' or js == 'claimed' then
    cancel_job(job, state == 'pending' and 'released'
      or 'reservation expired', retention)
  end
  if state == 'pending' and f[8] ~= '1' then
    redis.call('HSET', h, 'release_requested', 1,
      'updated_at', now_ms())
    emit_as('reservation', 'rsv', id, state, '', 'release-requested')
  end
  return answer_with(state, job, 'cancelling')
end
if state == 'active' or (state == 'expired' and not returned) then
  if payload == '' then
    fail('STATE need a teardown payload to release reservation ' .. id)
  end
  local n = (tonumber(f[4]) or 0) + 1
  local tjob = id .. '.release.' .. n
  if post_seen(tjob, '', '') then
    fail('EXISTS job ' .. tjob .. ' already exists')
  end
  local now = now_ms()
  redis.call('HSET', h, 'release_job', tjob, 'releases', n, 'error', '',
    'updated_at', now)
  redis.call('HSET', K.rsv_jobs, tjob, id)
  redis.call('ZADD', K.rsv_open, 'NX', now, id)
  emit_as('reservation', 'rsv', id, state, '', 'release-posted ' .. tjob)
  post_new(tjob, f[6], tonumber(f[7]) or 1, payload, '', 1, request)
  return answer_with(state, tjob, 'posted')
end
fail('STATE reservation ' .. id .. ' is ' .. state .. '; nothing to release')
