-- cancel.lua: an operator cancels a job (cancel_job in lib.lua, which
-- the reservation scripts share):
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
local reason = arg_text(3, 'reason', LIMIT.REASON - #CANCEL_PREFIX, true)
local request = arg_request(4)
arg_deadline(5)
local retention = arg_int(6, 'retention_ms', 1, LIMIT.RETENTION_MAX_MS)
local seen = done_get(request, 'cancel', id)
if seen then return seen.state end
local after = cancel_job(id, reason, retention)
done_put(request, 'cancel', id, { state = after })
return after
