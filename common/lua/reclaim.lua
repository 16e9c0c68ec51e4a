-- reclaim.lua: fetches again requests this replica read but could not
-- finish (its link to Redis was lost under them), to serve them again.
-- An entry another replica has taken over meanwhile is skipped (never
-- stolen back); one whose stream entry is gone is acknowledged.
-- KEYS[1] request stream. ARGV: [1] tag, [2] group, [3] this consumer,
-- [4..] entry ids. Returns {{id, fields}...} of the entries still ours.
local stream, group, me = KEYS[1], ARGV[2], ARGV[3]
local out = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  local row = redis.call('XPENDING', stream, group, id, id, 1)[1]
  if row and row[2] == me then
    local e = redis.call('XRANGE', stream, id, id)[1]
    if e then
      out[#out + 1] = e
    else
      redis.call('XACK', stream, group, id)
    end
  end
end
return out
