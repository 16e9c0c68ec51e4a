-- fence_check.lua: the check a protected resource makes before a write.
-- The resource records the last fence it accepted and the owner it came
-- from. A lower fence is refused; an equal fence is accepted only from
-- that same owner (one grant, one holder: an equal fence from anyone else
-- is a forgery or a mix-up); a higher fence is accepted and recorded.
-- Copy this check into the resource's own write script so check and write
-- are one step; this script alone serves resources that record fences in
-- Redis. KEYS[1] {p}:fence:RESOURCE (a hash: fence, owner, at; a plain
-- string fence left by an older version is read and replaced, its equal
-- fence accepted from the first owner that shows it).
-- ARGV: [1] tag, [2] fence (1..2^53-1), [3] the owner of the grant (a
-- lock's owner, or a job's owner when the fence is a job's).
-- Returns the fence; refuses with STALE, and malformed arguments (BADARG)
-- before any write. The limits are those of include/wfp/lock.h.
local FENCE_MAX = 9007199254740991 -- 2^53 - 1
-- An owner is a lock owner (1-64 of A-Za-z0-9_.:@-) or a job owner: both
-- are 1-LIMIT.NAME bytes of UTF-8 text without control characters.
local RESOURCE_MAX = 128           -- a resource: 1-128 of A-Za-z0-9_.:/-

-- Refuses the call before any write.
local function bad(what, v)
  fail('BADARG ' .. what .. ': got ' .. quoted(v))
end

if #KEYS ~= 1 or #ARGV ~= 3 then
  bad('expects 1 key and 3 arguments (tag, fence, owner)',
    #KEYS .. ' keys, ' .. #ARGV .. ' arguments')
end
local pre = P .. ':fence:'
local resource = string.sub(KEYS[1], #pre + 1)
if not string.match(P, '^{[A-Za-z0-9_.%-]+}$') or #P > 33 then
  bad('ARGV[1] tag is not {PREFIX}', P)
end
if string.sub(KEYS[1], 1, #pre) ~= pre or #resource > RESOURCE_MAX
    or not string.match(resource, '^[A-Za-z0-9_.:/%-]+$') then
  bad('KEYS[1] is not ' .. pre .. 'RESOURCE (1-128 of A-Za-z0-9_.:/-)',
    KEYS[1])
end
local fs, owner = ARGV[2], ARGV[3]
local fence = #fs <= 16 and string.match(fs, '^%d+$') and tonumber(fs)
if not fence or fence < 1 or fence > FENCE_MAX then
  bad('ARGV[2] fence is not an integer in 1..9007199254740991', fs)
end
if #owner < 1 or #owner > LIMIT.NAME or not utf8_ok(owner, true) then
  bad('ARGV[3] owner is not 1-' .. LIMIT.NAME ..
    ' bytes of UTF-8 text without control characters', owner)
end

local kind = redis.call('TYPE', KEYS[1]).ok
local seen, seen_owner = 0, nil
if kind == 'hash' then
  local h = redis.call('HMGET', KEYS[1], 'fence', 'owner')
  seen, seen_owner = tonumber(h[1] or '0') or 0, h[2]
elseif kind == 'string' then
  seen = tonumber(redis.call('GET', KEYS[1])) or 0
elseif kind ~= 'none' then
  fail('WRONGTYPE ' .. KEYS[1] .. ' is a ' .. kind .. ', not a fence record')
end
local shown = string.format('%.0f', seen)
if fence < seen then
  fail('STALE fence ' .. fs .. ' is older than ' .. shown
    .. ': a newer holder has written')
end
-- (A fence recorded without its owner, by an older version, is taken by
-- the first owner that shows it again.)
if fence == seen and seen_owner and owner ~= seen_owner then
  local was = seen_owner
  if not string.match(was, '^[A-Za-z0-9_.:@%-]+$') then was = quoted(was) end
  fail('STALE fence ' .. fs .. ' was accepted from ' .. was
    .. ', not from ' .. owner)
end
if kind == 'string' then redis.call('DEL', KEYS[1]) end
redis.call('HSET', KEYS[1], 'fence', string.format('%.0f', fence),
  'owner', owner, 'at', now_ms())
return fence
