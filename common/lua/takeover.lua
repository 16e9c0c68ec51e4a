-- takeover.lua: finds the requests other replicas of a service read but
-- did not acknowledge, and decides their fate by the request's own
-- deadline (entry id time + timeout_ms, on Redis's clock) and by whether
-- the replica holding it is alive (its score in the replicas zset, its
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

-- The deadline of entry {id, fields}, or nil when timeout_ms is unreadable.
local function deadline(e)
  local ms = tonumber(string.match(e[1], '^(%d+)%-'))
  for i = 1, #e[2] - 1, 2 do
    if e[2][i] == 'timeout_ms' then
      local t = tonumber(e[2][i + 1])
      if ms and t and t >= 1 then return ms + t end
    end
  end
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
