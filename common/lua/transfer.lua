-- transfer.lua: an operator hands a job to a named owner, or (owner '')
-- back to the board. The previous owner's token and fence become stale.
-- KEYS[1] job hash. ARGV: [1] tag, [2] id, [3] new owner or '',
-- [4] random token base (at most LIMIT.TOKEN - 2 bytes: the token is
-- base .. '.t'), [5] visibility_ms, [6] the id of the request ("ms-seq")
-- or '' / absent. Each request's answer is remembered apart (done_put,
-- without the token): that request served again (a replica died before
-- acknowledging it), even after other requests, gets the same answer,
-- with no second token, fence or redelivery record; the token is read
-- again from the job while it is still held under that answer's fence,
-- else it is ''.
-- [7] the request's deadline or 0 / '' / absent (arg_deadline).
-- Returns {state, owner, token, fence}.
want_args(1, 5, 7)
local id = arg_id(2)
want_key(1, K.job(id))
local to_owner = arg_text(3, 'owner', LIMIT.NAME, true)
local base = arg_token_base(4, #'.t')
local vis = arg_int(5, 'visibility_ms', LIMIT.LEASE_MIN_MS, LIMIT.LEASE_MAX_MS)
local request = arg_request(6)
arg_deadline(7)
local job = K.job(id)
local seen = done_get(request, 'transfer', id)
local f = redis.call('HMGET', job, 'state', 'owner', 'fence', 'entry',
  'token')
if not f[1] then fail('NOJOB job ' .. id .. ' does not exist') end
if seen then
  local fence = tonumber(seen.fence) or 0
  local held = seen.state == 'claimed' and f[1] == 'claimed'
    and tonumber(f[3]) == fence and f[2] == seen.owner
  return { seen.state, seen.owner, held and f[5] or '', fence }
end
local now, now_us = now_ms_us()

-- Answers out, remembering it (without the token) for a repeat.
local function answer(out)
  done_put(request, 'transfer', id,
    { state = out[1], owner = out[2], fence = int_str(out[4]) })
  return out
end

if to_owner == '' then
  next_state(id, f[1], 'release')
  to_board(id, f[1], now, 'released', f[2], f[3], 'handed back to the board')
  return answer({ 'posted', '', '', tonumber(f[3]) })
end
next_state(id, f[1], 'transfer')
if f[1] == 'posted' then
  redis.call('XACK', K.stream, GROUP, f[4])
  redis.call('XDEL', K.stream, f[4])
else
  record_delivery(id, 'transferred', f[2], f[3], 'to ' .. to_owner, now)
end
local fence = next_fence(id, now_us)
redis.call('HINCRBY', job, 'attempts', 1)
local token = base .. '.t'
local lease = now + vis
redis.call('HSET', job, 'state', 'claimed', 'owner', to_owner, 'token', token,
  'claimed_at', now, 'heartbeat_at', now, 'lease_until', lease,
  'entry', '', 'updated_at', now)
lease_set(K.leases, id, lease)
redis.call('ZADD', K.owners, now, to_owner)
move_index(id, f[1], 'claimed', now)
emit(id, 'claimed', to_owner, 'transferred from '
  .. (f[2] ~= '' and f[2] or 'the board') .. ', fence ' .. int_str(fence))
return answer({ 'claimed', to_owner, token, fence })
