-- finish.lua: the owner reports the end of its attempt.
-- KEYS[1] job hash. ARGV: [1] tag, [2] id, [3] token, [4] fence (0: any),
-- [5] outcome: complete | revert | fail | retry, [6] reason,
-- [7] retention_ms.
-- retry puts the job back on the board while attempts remain, else it
-- goes dead onto the dead-letter stream. Returns the job's new state.
local id, token, fence = ARGV[2], ARGV[3], tonumber(ARGV[4])
local outcome, reason, retention = ARGV[5], ARGV[6], tonumber(ARGV[7])
local j = check_owner(id, token, fence)
local op = outcome
if op == 'retry' and j.attempts >= j.max_attempts then op = 'give_up' end
local to = next_state(id, 'claimed', op)
local now = now_ms()

if to == 'posted' then
  to_board(id, 'claimed', now, 'failed', j.owner, j.fence, reason)
  redis.call('HSET', K.job(id), 'error', reason)
elseif to == 'dead' then
  finalize(id, 'claimed', 'dead', now, 'gave up after ' .. j.attempts
    .. ' attempts: ' .. reason, retention, j.owner)
else
  finalize(id, 'claimed', to, now, reason, retention, j.owner)
end
return to
