-- transfer.lua: an operator hands a job to a named owner, or (owner '')
-- back to the board. The previous owner's token and fence become stale.
-- KEYS[1] job hash. ARGV: [1] tag, [2] id, [3] new owner or '',
-- [4] random token base, [5] visibility_ms.
-- Returns {state, owner, token, fence}.
local id, to_owner, base, vis = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local job = K.job(id)
local f = redis.call('HMGET', job, 'state', 'owner', 'fence', 'entry')
if not f[1] then fail('NOJOB job ' .. id .. ' does not exist') end
local now = now_ms()

if to_owner == '' then
  next_state(id, f[1], 'release')
  to_board(id, f[1], now, 'released', f[2], f[3], 'handed back to the board')
  return { 'posted', '', '', tonumber(f[3]) }
end
next_state(id, f[1], 'transfer')
if f[1] == 'posted' then
  redis.call('XACK', K.stream, GROUP, f[4])
  redis.call('XDEL', K.stream, f[4])
else
  record_delivery(id, 'transferred', f[2], f[3], 'to ' .. to_owner, now)
end
local fence = redis.call('HINCRBY', job, 'fence', 1)
redis.call('HINCRBY', job, 'attempts', 1)
local token = base .. '.t'
local lease = now + vis
redis.call('HSET', job, 'state', 'claimed', 'owner', to_owner, 'token', token,
  'claimed_at', now, 'heartbeat_at', now, 'lease_until', lease,
  'entry', '', 'updated_at', now)
redis.call('ZADD', K.leases, lease, id)
redis.call('ZADD', K.owners, now, to_owner)
move_index(id, f[1], 'claimed', now)
emit(id, 'claimed', to_owner, 'transferred from ' .. (f[2] ~= '' and f[2] or 'the board'))
return { 'claimed', to_owner, token, fence }
