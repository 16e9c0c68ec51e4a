-- rsv_cleanup.lua: removes the reservations that ended longer than the
-- retention time ago, like cleanup.lua does for jobs.
-- KEYS[1] the reservation service's open set. ARGV: [1] tag,
-- [2] retention_ms, [3] limit (ids looked at per pass, 1..LIMIT.SCAN).
-- Ended: failed, released, or expired with its capacity back (returned_at
-- set), and out of the open set (no bookkeeping outstanding). Looked at in
-- the order of each state's index (score updated_at, which give_back
-- moves to when the capacity came back); removed when both ended_at and
-- returned_at are at least retention_ms old: the rsv hash (its item:,
-- undo:, failed:, out: fields with it), its index entry, and any entry
-- left in the expiry set and the jobs map. The jobs themselves follow
-- the board's retention. Returns {removed, looked_at}.
want_args(1, 3, 3)
want_key(1, K.rsv_open)
local retention = arg_int(2, 'retention_ms', 1, LIMIT.RETENTION_MAX_MS)
local limit = arg_int(3, 'limit', 1, LIMIT.SCAN)
local now = now_ms()
local before = now - retention
local removed, looked = 0, 0

-- Removes reservation id (in index state) when it ended before `before`.
local function sweep(id, state)
  local h = K.rsv(id)
  local f = redis.call('HMGET', h, 'state', 'ended_at', 'returned_at', 'job',
    'release_job')
  if f[1] ~= state then
    -- gone, or moved on: this entry is stale
    if not f[1] then redis.call('ZREM', K.rsvs(state), id) end
    return
  end
  local ended, back = tonumber(f[2]), tonumber(f[3])
  if not ended or not back or ended > before or back > before
      or redis.call('ZSCORE', K.rsv_open, id) then
    return
  end
  redis.call('DEL', h)
  redis.call('ZREM', K.rsvs(state), id)
  redis.call('ZREM', K.rsv_expiry, id)
  for _, j in ipairs({ f[4] or '', f[5] or '' }) do
    if j ~= '' then redis.call('HDEL', K.rsv_jobs, j) end
  end
  removed = removed + 1
end

for _, state in ipairs({ 'failed', 'released', 'expired' }) do
  if looked >= limit then break end
  local ids = redis.call('ZRANGEBYSCORE', K.rsvs(state), '-inf', before,
    'LIMIT', 0, limit - looked)
  for _, id in ipairs(ids) do sweep(id, state) end
  looked = looked + #ids
end
return { removed, looked }
