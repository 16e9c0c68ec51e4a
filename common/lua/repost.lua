-- repost.lua: an operator puts a job back on the board: a dead or failed
-- job gets a fresh set of attempts, a claimed one is taken from its owner.
-- Keys that were set to expire are kept again.
-- KEYS[1] job hash. ARGV: [1] tag, [2] id, [3] the id of the request
-- ("ms-seq") or '' / absent: the same request served again answers
-- 'posted' and changes nothing. Returns 'posted'.
want_args(1, 2, 3)
local id = arg_id(2)
want_key(1, K.job(id))
local request = arg_request(3)
local job = K.job(id)
local f = redis.call('HMGET', job, 'state', 'owner', 'fence', 'op_request')
if not f[1] then fail('NOJOB job ' .. id .. ' does not exist') end
if request ~= '' and f[4] == request then return 'posted' end
next_state(id, f[1], 'repost')
local now = now_ms()
for _, k in ipairs({ job, K.deliveries(id), K.log(id) }) do
  redis.call('PERSIST', k)
end
redis.call('HSET', job, 'attempts', 0, 'error', '', 'finished_at', 0)
if request ~= '' then
  redis.call('HSET', job, 'op_request', request, 'op_reply', 'posted')
end
to_board(id, f[1], now, 'reposted', f[2], f[3], 'reposted by an operator')
return 'posted'
