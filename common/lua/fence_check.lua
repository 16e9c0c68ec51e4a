-- fence_check.lua: the check a protected resource makes before a write:
-- refuses a fence lower than the highest it has seen, else records it.
-- Copy this check into the resource's own write script so check and write
-- are one step; this script alone serves resources that record fences in
-- Redis. KEYS[1] {p}:fence:RESOURCE. ARGV: [1] tag, [2] fence.
-- Returns the fence; refuses with STALE.
local seen = tonumber(redis.call('GET', KEYS[1]) or '0')
local fence = tonumber(ARGV[2])
if fence < seen then
  fail('STALE fence ' .. ARGV[2] .. ' is older than '
    .. string.format('%.0f', seen) .. ': a newer holder has written')
end
redis.call('SET', KEYS[1], ARGV[2])
return fence
