-- finish.lua: the owner reports the end of its attempt.
-- KEYS[1] job hash. ARGV: [1] tag, [2] id, [3] token, [4] fence (0: any),
-- [5] outcome: complete | revert | fail | retry | release | dead (nothing
-- else),
-- [6] reason ('' or text), [7] retention_ms.
-- retry puts the job back on the board while attempts remain, else it
-- goes dead onto the dead-letter stream. release hands back a claim the
-- owner never started (say its output failed): back on the board with
-- the attempt not counted and a redelivery record 'released'. dead ends
-- the job dead at once whatever attempts remain, with reason as its error
-- (an executor that cannot read the job: trying again cannot help).
-- Returns the job's new state.
want_args(1, 7, 7)
local id = arg_id(2)
want_key(1, K.job(id))
local token = arg_token(3, 'token')
local fence = arg_int(4, 'fence', 0, LIMIT.FENCE_MAX)
local outcome = arg_one_of(5, 'outcome', { 'complete', 'revert', 'fail', 'retry',
  'release', 'dead' })
local reason = arg_text(6, 'reason', LIMIT.REASON, true)
local retention = arg_int(7, 'retention_ms', 1, LIMIT.RETENTION_MAX_MS)
local j = check_owner(id, token, fence)
local op = outcome
if op == 'retry' and j.attempts >= j.max_attempts then op = 'give_up' end
if op == 'dead' then op = 'give_up' end
local to = next_state(id, 'claimed', op)
local now = now_ms()

if op == 'release' then
  redis.call('HINCRBY', K.job(id), 'attempts', -1)
  to_board(id, 'claimed', now, 'released', j.owner, j.fence, reason)
elseif to == 'posted' then
  to_board(id, 'claimed', now, 'failed', j.owner, j.fence, reason)
  redis.call('HSET', K.job(id), 'error', reason)
elseif outcome == 'dead' then
  finalize(id, 'claimed', 'dead', now, reason, retention, j.owner)
elseif to == 'dead' then
  finalize(id, 'claimed', 'dead', now, 'gave up after ' .. j.attempts
    .. ' attempts: ' .. reason, retention, j.owner)
else
  finalize(id, 'claimed', to, now, reason, retention, j.owner)
end
return to
