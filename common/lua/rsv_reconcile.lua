-- rsv_reconcile.lua: brings reservation ID up to date with its jobs.
-- KEYS[1] rsv hash. ARGV: [1] tag, [2] id, [3] nfields (0..4 *
-- LIMIT.RSV_ITEMS), then nfields pairs field, value written as given:
-- item:NAME (a phase word: none reserved configured acquired), undo:NAME
-- (undo steps that ran, comma-separated: destroy poweroff unconfigure
-- unreserve; '' removes the field), failed:NAME (a step word; '' removes
-- it), out:NAME (the item's merged fulfilment outputs: one JSON object of
-- at most LIMIT.LOG_OUTPUTS bytes; '' removes it), NAME an item of the
-- reservation; then, optional, the guard the fields were computed for:
-- [4 + 2 * nfields] the reservation's releases count and [5 + 2 * nfields]
-- the id of the last entry read of its newest job's task log
-- (ID.release.N, or the fulfilment when N is 0; '' when none). When either
-- changed meanwhile (another replica, a later job, wrote newer fields) the
-- fields are checked but not written.
-- Reads the reservation and the states of its jobs (a job gone from Redis
-- counts as ended dead, "job gone") and moves:
-- - pending, fulfilment ended after expires_at (its finished_at) ->
--   nothing here: action 'expire' (the id stays in the expiry lease set,
--   whose pass expires it or, had it completed in time, hands it back);
-- - pending, fulfilment completed -> active (action 'teardown' when a
--   release was asked while pending); fulfilment reverted/failed/dead ->
--   failed (error = the job's), or released when a release was asked;
--   capacity back;
-- - expired, fulfilment reverted/failed/dead -> capacity back (stays
--   expired); fulfilment completed and no teardown posted yet -> action
--   'teardown'; teardown completed -> capacity back; teardown ended
--   otherwise -> error "teardown failed: ...", release_job cleared (a
--   later release retries);
-- - active, teardown completed -> released, capacity back; teardown ended
--   otherwise -> stays active, error "release failed: ...", release_job
--   cleared.
-- Capacity back is give_back (once). The open set loses the id when
-- nothing is outstanding (rsv_settle); the jobs map loses each job whose
-- end was taken in.
-- Returns {state, action ('none'|'teardown'|'expire'), returned_now 0|1}.
want_args(1, 3, 5 + 8 * LIMIT.RSV_ITEMS)
local id = arg_rsv_id(2)
want_key(1, K.rsv(id))
local nfields = arg_int(3, 'nfields', 0, 4 * LIMIT.RSV_ITEMS)
local guarded = #ARGV == 5 + 2 * nfields
if #ARGV ~= 3 + 2 * nfields and not guarded then
  fail('BADARG expected ' .. (3 + 2 * nfields) .. ' arguments for '
    .. nfields .. ' fields, got ' .. #ARGV)
end
local PHASES = { none = true, reserved = true, configured = true,
  acquired = true }
local UNDO = { destroy = true, poweroff = true, unconfigure = true,
  unreserve = true }
-- Releases of one reservation a guard may name (the service reads as
-- many teardown jobs' logs at most).
local RELEASES_MAX = 999999
local STEPS = { reserve = true, configure = true, acquire = true,
  destroy = true, poweroff = true, unconfigure = true, unreserve = true }
local h = K.rsv(id)
local f = redis.call('HMGET', h, 'state', 'job', 'release_job', 'releases',
  'returned_at', 'release_requested', 'expires_at')
if not f[1] then fail('NORSV reservation ' .. id .. ' does not exist') end

-- Checks the field/value pair at ARGV[i], ARGV[i + 1].
local function check_field(i)
  local k, v = ARGV[i], ARGV[i + 1]
  local kind, item = string.match(k, '^(%l+):([%w_%-]+)$')
  if not kind or #item > LIMIT.RSV_ITEM_NAME
      or redis.call('HEXISTS', h, 'item:' .. item) == 0 then
    bad_arg('field', k, 'is not item:, undo:, failed: or out: of an item')
  end
  local ok = false
  if kind == 'out' then
    if v ~= '' and (#v > LIMIT.LOG_OUTPUTS or not utf8_ok(v, false)
        or not json_object_ok(v)) then
      bad_arg(k, '', 'is not a JSON object of at most '
        .. LIMIT.LOG_OUTPUTS .. ' bytes')
    end
    return
  elseif kind == 'item' then
    ok = PHASES[v]
  elseif kind == 'failed' then
    ok = v == '' or STEPS[v]
  elseif kind == 'undo' then
    ok = true
    for word in string.gmatch(v, '[^,]+') do ok = ok and UNDO[word] end
    ok = ok and (v == '' or string.match(v, '^[%l,]*%l$') ~= nil)
      and not string.find(v, ',,', 1, true)
  end
  if not ok then bad_arg(k, v, 'is not a value of ' .. kind .. ':') end
end
local last_field = 3 + 2 * nfields
for i = 4, last_field, 2 do check_field(i) end

-- True when the guard says the fields were computed from what is now
-- out of date.
local function stale()
  if not guarded then return false end
  local g_rel = arg_int(last_field + 1, 'releases', 0, RELEASES_MAX)
  local g_entry = ARGV[last_field + 2]
  local n = tonumber(f[4]) or 0
  if g_rel ~= n then return true end
  local newest = n > 0 and (id .. '.release.' .. n) or (f[2] or '')
  local last = redis.call('XREVRANGE', K.log(newest), '+', '-', 'COUNT', 1)
  return (last[1] and last[1][1] or '') ~= g_entry
end

local now = now_ms()
for i = 4, stale() and 3 or last_field, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', h, ARGV[i])
  else
    redis.call('HSET', h, ARGV[i], ARGV[i + 1])
  end
end
local state, job, rjob = f[1], f[2], f[3] or ''
local returned = f[5] and f[5] ~= ''
local asked = f[6] == '1'
local releases = tonumber(f[4]) or 0
local action, back = 'none', 0

-- Takes in the end of job j: it leaves the jobs map.
local function taken(j) redis.call('HDEL', K.rsv_jobs, j) end

-- The error field and an event of the unchanged state.
local function note(err)
  redis.call('HSET', h, 'error', err, 'updated_at', now)
  emit_as('reservation', 'rsv', id, state, '', err)
end

-- True when job j ended after the reservation's expires_at.
local function late(j)
  local done = tonumber(redis.call('HGET', K.job(j), 'finished_at'))
  local ends = tonumber(f[7])
  return done and ends and done > ends
end

if state == 'pending' then
  local js, jerr = job_end(job)
  if JOB_ENDED[js] and late(job) then
    lease_set(K.rsv_expiry, id, tonumber(f[7]))
    action = 'expire'
  elseif js == 'completed' then
    taken(job)
    lease_drop(K.rsv_expiry, id)
    rsv_move(id, 'pending', 'active', now, 'fulfilled by ' .. job)
    state = 'active'
    if asked and releases == 0 then action = 'teardown' end
  elseif JOB_ENDED[js] then
    taken(job)
    lease_drop(K.rsv_expiry, id)
    local to = asked and 'released' or 'failed'
    local err = asked and '' or (jerr ~= '' and jerr
      or 'fulfilment job ' .. js)
    redis.call('HSET', h, 'error', err)
    rsv_move(id, 'pending', to, now, asked and 'released before fulfilment'
      or err)
    state = to
    back = give_back(id, now)
  end
elseif state == 'expired' and not returned then
  local js = job_end(job)
  -- (a release may have posted the teardown before any reconcile took
  -- the fulfilment's end in: it is taken here, or it stays in the map)
  if rjob ~= '' and JOB_ENDED[js] then taken(job) end
  if rjob ~= '' then
    local ts, terr = job_end(rjob)
    if ts == 'completed' then
      taken(rjob)
      back = give_back(id, now)
      emit_as('reservation', 'rsv', id, state, '', 'torn down by ' .. rjob)
    elseif JOB_ENDED[ts] then
      taken(rjob)
      redis.call('HSET', h, 'release_job', '')
      note('teardown failed: ' .. ts .. ': ' .. terr)
    end
  elseif js == 'completed' then
    taken(job)
    if releases == 0 then action = 'teardown' end
  elseif JOB_ENDED[js] then
    taken(job)
    back = give_back(id, now)
    emit_as('reservation', 'rsv', id, state, '', 'capacity returned')
  end
elseif state == 'active' then
  if rjob ~= '' then
    local ts, terr = job_end(rjob)
    if ts == 'completed' then
      taken(rjob)
      redis.call('HSET', h, 'error', '')
      rsv_move(id, 'active', 'released', now, 'torn down by ' .. rjob)
      state = 'released'
      back = give_back(id, now)
    elseif JOB_ENDED[ts] then
      taken(rjob)
      redis.call('HSET', h, 'release_job', '')
      note('release failed: ' .. ts .. ': ' .. terr)
    end
  elseif asked and releases == 0 then
    action = 'teardown'
  end
end
rsv_settle(id)
return { state, action, back }
