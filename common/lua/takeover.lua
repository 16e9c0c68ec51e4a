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
-- served), [9] others (0/1): 0 while the caller's link is new (an
-- outage of Redis made every record old): no replica with a record
-- counts as gone (one without any still does). Returns {claimed entries {id, fields}..., expired, vanished,
-- done}: done is 1 when every gone replica's entry was looked at (with
-- adopt = 1: our earlier life's entries are all adopted).
local stream, replicas, group, me = KEYS[1], KEYS[2], ARGV[2], ARGV[3]
local gone_ms, budget = tonumber(ARGV[4]), tonumber(ARGV[5])
local margin, adopt, idle = tonumber(ARGV[6]), ARGV[7] == '1', ARGV[8]
local others = ARGV[9] == '1'
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
  if seen == nil then return true end -- never alive, or forgotten
  return others and now - seen > gone_ms
end

-- Decides the fate of the pending entries in rows (of a consumer gone
-- or not); each costs one unit of budget.
local function judge(rows, gone)
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

local summary = redis.call('XPENDING', stream, group)
if summary[1] == 0 or type(summary[4]) ~= 'table' then
  return { claimed, 0, 0, 1 }
end
-- Gone replicas first, so live replicas' entries (looked at only to drop
-- expired ones) never use up the budget a gone replica's entries need.
local live, done = {}, 1
for _, c in ipairs(summary[4]) do
  if is_gone(c[1]) then
    if budget <= 0 then done = 0 break end
    local n = tonumber(c[2])
    if n > budget then done = 0 end
    judge(redis.call('XPENDING', stream, group, '-', '+', budget, c[1]), true)
  else
    live[#live + 1] = c[1]
  end
end
-- Then live replicas' idle entries, starting at a consumer that changes
-- every second, so one replica's many idle entries cannot hide another's.
local first = #live > 0 and math.floor(now / 1000) % #live or 0
for k = 1, #live do
  if budget <= 0 then break end
  local name = live[(first + k - 1) % #live + 1]
  judge(redis.call('XPENDING', stream, group, 'IDLE', idle, '-', '+',
    budget, name), false)
end
return { claimed, expired, vanished, done }
