-- repost.lua: an operator puts a job back on the board: a finished job
-- (completed, reverted, failed, dead: job.c's transitions) gets a fresh
-- set of attempts, a claimed one is taken from its owner.
-- Keys that were set to expire are kept again. A cancel asked for
-- earlier (cancel.lua) is forgotten: the operator wants the job run.
-- KEYS[1] job hash. ARGV: [1] tag, [2] id, [3] the id of the request
-- ("ms-seq") or '' / absent: the same request served again (even after
-- other requests) answers 'posted' and changes nothing; its answer is
-- remembered apart from transfer's (done_put). [4] the request's deadline
-- or 0 / '' / absent (arg_deadline). Returns 'posted'.
-- The job's run (absent = 1) goes up by one: the executor that claims it
-- next starts a new run, ignoring the task log entries of older runs.
want_args(1, 2, 4)
local id = arg_id(2)
want_key(1, K.job(id))
local request = arg_request(3)
arg_deadline(4)
local job = K.job(id)
if done_get(request, 'repost', id) then return 'posted' end
local f = redis.call('HMGET', job, 'state', 'owner', 'fence', 'run')
if not f[1] then fail('NOJOB job ' .. id .. ' does not exist') end
-- A reservation's job (ID.fulfil, ID.release.N of a reservation that
-- exists) is wfp-reservation's: run again by hand, its effects would be
-- tracked by no reservation.
local rid, n = string.match(id, '^(.+)%.release%.(%d+)$')
if not rid then rid = string.match(id, '^(.+)%.fulfil$') end
local r = rid and redis.call('HMGET', K.rsv(rid), 'job', 'releases')
if r and (r[1] == id or (n and r[2] and tonumber(n) >= 1
    and tonumber(n) <= (tonumber(r[2]) or 0))) then
  fail('STATE job ' .. id .. ' belongs to reservation ' .. rid
    .. ': use wfp rsv release or wfp rsv create, not a repost')
end
next_state(id, f[1], 'repost')
local now = now_ms()
redis.call('HDEL', job, 'cancel', 'cancel_at')
for _, k in ipairs({ job, K.deliveries(id), K.log(id) }) do
  redis.call('PERSIST', k)
end
redis.call('HSET', job, 'attempts', 0, 'error', '', 'finished_at', 0,
  'run', (tonumber(f[4]) or 1) + 1)
done_put(request, 'repost', id, {})
to_board(id, f[1], now, 'reposted', f[2], f[3], 'reposted by an operator')
return 'posted'
