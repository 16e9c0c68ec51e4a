-- takeover.lua: finds the requests other replicas of a service read but
-- did not acknowledge, and decides their fate by the request's own
-- deadline (min(entry id time, field at) + timeout_ms, on Redis's clock)
-- and by whether the replica holding it is alive (its score in the replicas zset, its
-- last sign of life, is at most gone_ms old):
--   - past its deadline (or within margin_ms of it): acknowledged and
--     deleted, whoever holds it: it must never be served now;
--   - held by a replica that is gone: claimed for the caller (XCLAIM
--     JUSTID, so its delivery count is kept) and returned to be served;
--   - held by a live replica: left alone, however long it has been idle
--     (that replica retries it itself or it expires).
-- A pending entry whose stream entry was deleted is acknowledged. The
-- caller's own entries count as a live replica's (only dropped when
-- expired: a backstop for an entry it lost track of).
-- With adopt = 1 the caller's own pending entries are taken as a gone
-- replica's (its earlier life under the same name, read before a restart).
-- KEYS[1] request stream, KEYS[2] replicas zset. ARGV: [1] tag, [2] group,
-- [3] caller's consumer, [4] gone_ms, [5] at most this many entries
-- looked at, [6] margin_ms, [7] adopt (0/1), [8] idle_ms: a live
-- replica's entries younger than this are not looked at (they are being
-- served). Returns {claimed entries {id, fields}..., expired, vanished}.
local stream, replicas, group, me = KEYS[1], KEYS[2], ARGV[2], ARGV[3]
local gone_ms, budget = tonumber(ARGV[4]), tonumber(ARGV[5])
local margin, adopt, idle = tonumber(ARGV[6]), ARGV[7] == '1', ARGV[8]
local t = redis.call('TIME') -- a bare script: no lib.lua
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local claimed, expired, vanished = {}, 0, 0

-- A time or duration in ms: 1-15 digits and nothing else (service.c's
-- parse_ms), or nil.
local function ms_of(s)
  if type(s) ~= 'string' or #s > 15 or not string.match(s, '^%d+$') then
    return nil
  end
  return tonumber(s)
end

-- The deadline of entry {id, fields}: min(id ms, field at) + timeout_ms,
-- the first occurrence of each field (as service.c reads them), or nil
-- when one is unreadable (the replica serving it dead-letters it).
local function deadline(e)
  local ms = ms_of(string.match(e[1], '^(%d+)%-'))
  local at, t
  for i = 1, #e[2] - 1, 2 do
    local k = e[2][i]
    if k == 'timeout_ms' and t == nil then t = e[2][i + 1] end
    if k == 'at' and at == nil then at = e[2][i + 1] end
  end
  t = ms_of(t)
  if at ~= nil then
    at = ms_of(at)
    if at == nil then return nil end
    if ms and at < ms then ms = at end
  end
  if ms and t and t >= 1 then return ms + t end
  return nil
end

-- Whether consumer name is gone (no sign of life for gone_ms).
local function is_gone(name)
  if name == me then return adopt end
  local seen = tonumber(redis.call('ZSCORE', replicas, name))
  return seen == nil or now - seen > gone_ms
end

local summary = redis.call('XPENDING', stream, group)
if summary[1] == 0 or type(summary[4]) ~= 'table' then
  return { claimed, 0, 0 }
end
for _, c in ipairs(summary[4]) do
  if budget <= 0 then break end
  local gone = is_gone(c[1])
  local rows
  if gone then
    rows = redis.call('XPENDING', stream, group, '-', '+', budget, c[1])
  else
    rows = redis.call('XPENDING', stream, group, 'IDLE', idle, '-', '+',
      budget, c[1])
  end
  for _, row in ipairs(rows) do
    local id = row[1]
    local e = redis.call('XRANGE', stream, id, id)[1]
    budget = budget - 1
    if e == nil then
      redis.call('XACK', stream, group, id)
      vanished = vanished + 1
    else
      local dl = deadline(e)
      if dl and now + margin >= dl then
        redis.call('XACK', stream, group, id)
        redis.call('XDEL', stream, id)
        expired = expired + 1
      elseif gone then
        redis.call('XCLAIM', stream, group, me, 0, id, 'JUSTID')
        claimed[#claimed + 1] = e
      end
    end
  end
end
return { claimed, expired, vanished }
