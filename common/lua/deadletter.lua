-- deadletter.lua: moves an unreadable request off a service's request
-- stream: copies its fields and the reason to the dead-letter stream,
-- then acknowledges and deletes it, in one step so nothing is lost.
-- KEYS[1] request stream. ARGV: [1] tag, [2] group, [3] entry id,
-- [4] service, [5] reason, [6..] the entry's fields, flattened.
-- KEYS[1] must be ARGV[4]'s request stream and ARGV[2] its group (named
-- after the service). The fields are copied as they are: they are the
-- unreadable input being put aside; the reason (in the dead letter and in
-- the event's detail) is made UTF-8 text (as_text), since it may quote it.
if #KEYS ~= 1 or #ARGV < 5 or #ARGV % 2 ~= 1 then
  fail('BADARG expected 1 key and 5 + 2n arguments, got ' .. #KEYS
    .. ' keys and ' .. #ARGV)
end
want_args(1, 5, #ARGV)
if not string.match(ARGV[4], '^[%w_.%-]+$') or #ARGV[4] > LIMIT.NAME then
  bad_arg('service', ARGV[4], 'is not a service name')
end
want_key(1, K.requests(ARGV[4]))
if ARGV[2] ~= ARGV[4] then bad_arg('group', ARGV[2], 'is not the service') end
if not string.match(ARGV[3], '^%d+%-%d+$') or #ARGV[3] > LIMIT.REQUEST_ID then
  bad_arg('entry id', ARGV[3], 'is not a stream entry id')
end
if #ARGV[5] > LIMIT.DEADLETTER_REASON then
  bad_arg('reason', ARGV[5], 'is longer than ' .. LIMIT.DEADLETTER_REASON)
end
local reason = as_text(ARGV[5])
local now = now_ms()
local args = { 'XADD', K.dead, 'MAXLEN', '~', DEADLETTER_MAXLEN, '*',
  'source', ARGV[4], 'kind', 'request',
  'stream', KEYS[1], 'entry', ARGV[3], 'reason', reason, 'at', now }
for i = 6, #ARGV - 1, 2 do
  args[#args + 1] = 'orig_' .. ARGV[i]
  args[#args + 1] = ARGV[i + 1]
end
redis.call(unpack(args))
redis.call('XACK', KEYS[1], ARGV[2], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
redis.call('XADD', K.events, 'MAXLEN', '~', EVENTS_MAXLEN, '*',
  'service', ARGV[4], 'type', 'deadletter', 'id', ARGV[3], 'state', 'dead',
  'owner', '', 'detail', reason)
return 1
