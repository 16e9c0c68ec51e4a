-- cancel.lua: an operator cancels a job.
-- - posted, and nothing of its current run in its task log: nothing ran,
--   so the job is reverted at once (its board entry removed, error
--   "cancelled: REASON", or "cancelled" without one);
-- - claimed, or posted with entries of its current run in its log (an
--   earlier attempt applied tasks, then its lease ran out or it was handed
--   back): the job keeps its state and owner and gets the fields `cancel`
--   (the reason, "cancelled" when none is given) and `cancel_at` (ms);
--   the executor that holds or next claims it reads them (log_append.lua
--   returns the reason) and rolls back what was applied. A second cancel
--   of such a job changes nothing (the first reason stays);
-- - completed, reverted, failed, dead: refused with STATE naming the state.
-- Emits the event of the job's new state, or for a requested cancel an
-- event of its unchanged state whose detail starts 'cancel-requested'.
-- KEYS[1] job hash. ARGV: [1] tag, [2] id, [3] reason ('' or text of at
-- most LIMIT.REASON - #'cancelled: ' bytes), [4] the id of the request
-- ("ms-seq") or '': the same request served again (even after other
-- requests) answers as the first time and changes nothing (done_put),
-- [5] the request's deadline or 0 / '' (arg_deadline), [6] retention_ms.
-- Returns the job's state after: 'reverted', 'claimed' or 'posted'.
want_args(1, 6, 6)
local id = arg_id(2)
want_key(1, K.job(id))
local PREFIX = 'cancelled: '
local reason = arg_text(3, 'reason', LIMIT.REASON - #PREFIX, true)
local request = arg_request(4)
arg_deadline(5)
local retention = arg_int(6, 'retention_ms', 1, LIMIT.RETENTION_MAX_MS)
local job = K.job(id)
local seen = done_get(request, 'cancel', id)
if seen then return seen.state end
local f = redis.call('HMGET', job, 'state', 'owner', 'entry', 'run',
  'cancel')
if not f[1] then fail('NOJOB job ' .. id .. ' does not exist') end
local state = f[1]
local now = now_ms()

-- True when the task log holds an entry of the job's current run: the
-- last entry is of the newest run written (runs only grow).
local function ran()
  local last = redis.call('XREVRANGE', K.log(id), '+', '-', 'COUNT', 1)
  local run = tonumber(f[4]) or 1
  return last[1] ~= nil and tonumber(field(last[1][2], 'run')) == run
end

if state == 'posted' and not ran() then
  next_state(id, state, 'cancel')
  if f[3] and f[3] ~= '' then
    redis.call('XACK', K.stream, GROUP, f[3])
    redis.call('XDEL', K.stream, f[3])
  end
  redis.call('HSET', job, 'entry', '')
  finalize(id, state, 'reverted', now,
    reason ~= '' and PREFIX .. reason or 'cancelled', retention, '')
elseif state == 'claimed' or state == 'posted' then
  if not f[5] or f[5] == '' then
    local why = reason ~= '' and reason or 'cancelled'
    redis.call('HSET', job, 'cancel', why, 'cancel_at', now)
    emit(id, state, f[2], 'cancel-requested: ' .. why)
  end
else
  next_state(id, state, 'cancel') -- refused: a final state
end
local after = redis.call('HGET', job, 'state')
done_put(request, 'cancel', id, { state = after })
return after
