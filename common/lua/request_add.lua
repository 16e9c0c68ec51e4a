-- request_add.lua: adds a request to a service's request stream, unless
-- the stream already holds the cap (its service is stopped or far behind),
-- in one step, so no client can slip past the check.
-- KEYS[1] request stream. ARGV: [1] tag, [2] service, [3] cap (entries),
-- [4..] the entry's fields and values. The entry gets a first field `at`:
-- Redis's TIME in ms when it was added. Its id's time is not that: Redis
-- gives `*` ids max(now, last id's ms), so after one entry with a future
-- id (or a step back of Redis's clock, a failover to a host behind) every
-- later id would carry the future time and its deadline with it. The
-- service takes min(id ms, at) as the request's start (first `at` wins,
-- so a client cannot put an earlier one in front). Returns the entry id,
-- or the error
-- "FULL request stream of wfp-SERVICE holds N requests: ...".
-- A bare script (no lib.lua prelude): it is on every request's path.
-- Its prelude is REPLY_TTL_MS and REQUEST_STREAM_MAX (scripts.c).
local function fail(msg) error({err = msg}) end
local cap = tonumber(ARGV[3])
if #KEYS ~= 1 or #ARGV < 5 or (#ARGV - 3) % 2 ~= 0 then
  fail('BADARG request_add takes 1 key, then tag, service, cap and ' ..
    'field/value pairs')
end
if not string.match(ARGV[1], '^{[%w_.%-]+}$') or
   not string.match(ARGV[2], '^[a-z]+$') or
   KEYS[1] ~= ARGV[1] .. ':svc:' .. ARGV[2] .. ':requests' then
  fail('BADARG KEYS[1] must be {PREFIX}:svc:SERVICE:requests of ARGV[1] ' ..
    'and ARGV[2]')
end
if not cap or cap < 1 or cap > REQUEST_STREAM_MAX or cap ~= math.floor(cap) then
  fail('BADARG request stream cap ' .. tostring(ARGV[3]) ..
    ' is not a count of 1-' .. REQUEST_STREAM_MAX)
end
local n = redis.call('XLEN', KEYS[1])
if n >= cap then
  fail('FULL request stream of wfp-' .. ARGV[2] .. ' holds ' .. n ..
    ' requests: is the service running?')
end
local t = redis.call('TIME')
local at = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local args = { 'XADD', KEYS[1], '*', 'at', string.format('%d', at) }
for i = 4, #ARGV do args[#args + 1] = ARGV[i] end
return redis.call(unpack(args))
