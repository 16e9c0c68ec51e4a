-- request_add.lua: adds a request to a service's request stream, unless
-- the stream already holds the cap (its service is stopped or far behind),
-- in one step, so no client can slip past the check.
-- KEYS[1] request stream. ARGV: [1] tag, [2] service, [3] cap (entries),
-- [4..] the entry's fields and values. Returns the entry id, or the error
-- "FULL request stream of wfp-SERVICE holds N requests: ...".
-- A bare script (no lib.lua prelude): it is on every request's path.
local function fail(msg) error({err = msg}) end
local cap = tonumber(ARGV[3])
if #ARGV < 5 or (#ARGV - 3) % 2 ~= 0 then
  fail('ARGS request_add takes tag, service, cap and field/value pairs')
end
if not cap or cap < 1 or cap ~= math.floor(cap) then
  fail('ARGS request stream cap ' .. tostring(ARGV[3]) .. ' is not a count')
end
local n = redis.call('XLEN', KEYS[1])
if n >= cap then
  fail('FULL request stream of wfp-' .. ARGV[2] .. ' holds ' .. n ..
    ' requests: is the service running?')
end
local args = { 'XADD', KEYS[1], '*' }
for i = 4, #ARGV do args[#args + 1] = ARGV[i] end
return redis.call(unpack(args))
