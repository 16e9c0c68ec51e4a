-- deadletter.lua: moves an unreadable request off a service's request
-- stream: copies its fields and the reason to the dead-letter stream,
-- then acknowledges and deletes it, in one step so nothing is lost.
-- KEYS[1] request stream. ARGV: [1] tag, [2] group, [3] entry id,
-- [4] service, [5] reason, [6..] the entry's fields, flattened.
local now = now_ms()
local args = { 'XADD', K.dead, 'MAXLEN', '~', DEADLETTER_MAXLEN, '*',
  'source', ARGV[4], 'kind', 'request',
  'stream', KEYS[1], 'entry', ARGV[3], 'reason', ARGV[5], 'at', now }
for i = 6, #ARGV - 1, 2 do
  args[#args + 1] = 'orig_' .. ARGV[i]
  args[#args + 1] = ARGV[i + 1]
end
redis.call(unpack(args))
redis.call('XACK', KEYS[1], ARGV[2], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
redis.call('XADD', K.events, 'MAXLEN', '~', EVENTS_MAXLEN, '*',
  'service', ARGV[4], 'type', 'deadletter', 'id', ARGV[3], 'state', 'dead',
  'owner', '', 'detail', ARGV[5])
return 1
