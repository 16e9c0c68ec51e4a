-- lib.lua: helpers every job-board script starts with.
--
-- Each script is sent as: the NEXT table (rendered from common/job.c, the
-- one place that says which operation moves a job from which state), the
-- shared constants (REPLY_TTL_MS, from scripts.h) and the LIMIT table (the
-- C limits of client.h and scripts.h, rendered by scripts.c), this file,
-- then the script itself; the function library (scripts.c) holds them
-- once, each script a function. ARGV[1] is always the hash tag "{prefix}"
-- that every key shares, so the scripts run unchanged on Redis Cluster.
-- Key names here mirror common/keys.c; the README lists them.
-- Errors are raised as {err = "CODE message"} before any write, so a
-- refused call changes nothing.

-- KEYS and ARGV are locals of the prelude (scripts.c): EVAL's globals,
-- or in the function library tables that bind_call() sets at each call's
-- entry, so these helpers are made once per library, not once per call.
-- P is the tag ARGV[1]; each script's want_args (or its own checks)
-- checks it, and '' stands in for a missing one so building the names
-- below cannot stop the call with a Lua error first.
local P = ''
local K = {}
function K.job(id) return P .. ':job:' .. id end
function K.deliveries(id) return P .. ':job:' .. id .. ':deliveries' end
function K.log(id) return P .. ':job:' .. id .. ':log' end
function K.index(state) return P .. ':jobs:' .. state end
function K.idem(key) return P .. ':idem:' .. key end
function K.lock(name) return P .. ':lock:' .. name end
function K.lockinfo(name) return P .. ':lockinfo:' .. name end
function K.lockfence(name) return P .. ':lockfence:' .. name end
function K.lockq(name) return P .. ':lockq:' .. name end
function K.waiter(id) return P .. ':waiter:' .. id end
function K.requests(service) return P .. ':svc:' .. service .. ':requests' end
function K.replicas(service) return P .. ':svc:' .. service .. ':replicas' end
-- The remembered answer of one request (stream entry id) of a service.
function K.done(service, entry)
  return P .. ':svc:' .. service .. ':done:' .. entry
end
function K.reply(nonce) return P .. ':reply:' .. nonce end
function K.fence(resource) return P .. ':fence:' .. resource end
-- Pools and reservations (the wfp-reservation service).
function K.pool(name) return P .. ':pool:' .. name end
function K.poolrsv(name) return P .. ':poolrsv:' .. name end
function K.rsv(id) return P .. ':rsv:' .. id end
function K.rsvs(state) return P .. ':rsvs:' .. state end

-- Binds one call: its keys and arguments, the tag P and the key names
-- made of it. Runs below for EVAL, and first in every library function.
local find, match, byte
local function bind_call(keys, args)
  KEYS, ARGV, P = keys, args, args[1] or ''
  if not LOADING then
    find, match, byte = string.find, string.match, string.byte
  end
  K.held = P .. ':locks:held'
  K.waiters = P .. ':locks:waiters'
  K.waiter_seq = P .. ':locks:seq'
  K.stream = P .. ':jobs:stream'
  K.leases = P .. ':jobs:leases'
  K.owners = P .. ':owners'
  K.dead = P .. ':deadletter'
  K.events = P .. ':events'
  K.pools = P .. ':pools'
  K.rsv_expiry = P .. ':svc:reservation:expiry'
  K.rsv_jobs = P .. ':svc:reservation:jobs'
  K.rsv_open = P .. ':svc:reservation:open'
end
bind_call(KEYS, ARGV)

local GROUP = 'executors'
local EVENTS_MAXLEN = 100000     -- the events stream is capped near this
local DEADLETTER_MAXLEN = 100000 -- and the dead-letter stream near this
local DELIVERIES_MAXLEN = 100    -- redelivery records kept per job
local TTL_MARGIN_MS = 60000      -- keys outlive retention by this, so the
                                 -- cleaner normally removes them first

local function fail(msg) error({err = msg}) end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The server clock once: milliseconds and microseconds since the epoch
-- (exact in a double: below 2^53 for another 250 years).
local function now_ms_us()
  local t = redis.call('TIME')
  local us = tonumber(t[1]) * 1000000 + tonumber(t[2])
  return math.floor(us / 1000), us
end

-- A fence (or any integer) as digits: tostring would print 1.7e+15.
local function int_str(n) return string.format('%.0f', n) end

-- The job's next fencing token: the previous one + 1, floored at the
-- server clock in microseconds (as lock fences are), so a fence never
-- repeats even after a failover to a replica that missed the last claim.
-- Stores it as digits and returns it as a number.
local function next_fence(id, now_us)
  local prev = tonumber(redis.call('HGET', K.job(id), 'fence')) or 0
  local f = math.max(prev + 1, now_us)
  redis.call('HSET', K.job(id), 'fence', int_str(f))
  return f
end

-- ---------------------------------------------------------------------
-- Lease sets: one mechanism for everything that ends at a time (job
-- claims in K.leases, lock leases in K.held and lock waits in K.waiters,
-- reservation TTLs). A lease set is a sorted set of members scored by
-- their end, in ms on the server clock. The pass script of each takes
-- lease_due, acts, and returns lease_next so that its service
-- (common/lease.c) can arm a timer for that exact end.
-- ---------------------------------------------------------------------

-- Up to limit members of zkey whose end is at or before now, earliest
-- first.
local function lease_due(zkey, now, limit)
  return redis.call('ZRANGEBYSCORE', zkey, '-inf', now, 'LIMIT', 0, limit)
end

-- The earliest end in zkey, or -1 when it is empty.
local function lease_next(zkey)
  local first = redis.call('ZRANGE', zkey, 0, 0, 'WITHSCORES')
  return first[2] and tonumber(first[2]) or -1
end

-- Sets (or moves) member's end in zkey to end_ms.
local function lease_set(zkey, member, end_ms)
  redis.call('ZADD', zkey, end_ms, member)
end

-- Forgets member's lease in zkey.
local function lease_drop(zkey, member)
  redis.call('ZREM', zkey, member)
end

-- ---------------------------------------------------------------------
-- Argument checks. Every board script checks its KEYS and ARGV with these
-- before any write, whoever calls it (the C library, the board, another
-- language): a refusal is {err = "BADARG ..."} and changes nothing.
-- ---------------------------------------------------------------------

-- A value for a message: short, printable.
local function shown(v)
  v = tostring(v)
  if #v > 40 then v = string.sub(v, 1, 40) .. '...' end
  return "'" .. string.gsub(v, '[^%w%p ]', '?') .. "'"
end

-- v quoted for a message (the lock scripts' and fence_check's): its first
-- SHOWN_MAX bytes, each byte outside printable ASCII as \xNN (so a message
-- is always clean text and never ends inside a character), '...' after it
-- when cut.
local SHOWN_MAX = 140
local function quoted(v)
  v = tostring(v)
  local s = string.gsub(string.sub(v, 1, SHOWN_MAX), '[^ -~]',
    function(c) return string.format('\\x%02X', string.byte(c)) end)
  return "'" .. s .. "'" .. (#v > SHOWN_MAX and '...' or '')
end

local function bad_arg(what, v, rule)
  fail('BADARG ' .. what .. ' ' .. shown(v) .. ' ' .. rule)
end

-- find, match and byte (declared before bind_call, which sets them: the
-- string table cannot be read while Redis loads a function library) are
-- the string functions the scanners call most, as upvalues: each call
-- through the string table costs a global and a field lookup more.

-- The code point and length of the multibyte UTF-8 character whose bytes
-- are c b1 b2 b3 (nil past the end), or nil: a bad lead or continuation
-- byte, an overlong form, a surrogate or a value above U+10FFFF.
local function utf8_char(c, b1, b2, b3)
  local len, cp, min
  if c >= 0xc2 and c <= 0xdf then len, cp, min = 2, c - 0xc0, 0x80
  elseif c >= 0xe0 and c <= 0xef then len, cp, min = 3, c - 0xe0, 0x800
  elseif c >= 0xf0 and c <= 0xf4 then len, cp, min = 4, c - 0xf0, 0x10000
  else return nil end
  for k = 1, len - 1 do
    local b = k == 1 and b1 or k == 2 and b2 or b3
    if not b or b < 0x80 or b > 0xbf then return nil end
    cp = cp * 64 + (b - 0x80)
  end
  if cp < min or cp > 0x10ffff or (cp >= 0xd800 and cp <= 0xdfff) then
    return nil
  end
  return cp, len
end

-- True when s is valid UTF-8 (shortest forms, no surrogates, at most
-- U+10FFFF) and, with text, holds no control character (C0, DEL, C1).
-- Each ASCII run is skipped by one anchored find (a one-range class: about
-- 8 ns a byte in Redis 7.0, where an unanchored search costs about 25)
-- and each multibyte character takes one string.byte.
local function utf8_ok(s, text)
  if text and find(s, '[%z\1-\31\127]') then return false end
  local i, n = 1, #s
  while true do
    local _, e = find(s, '^[^\128-\255]*', i)
    if e == n then return true end
    local cp, len = utf8_char(byte(s, e + 1, e + 4))
    if not cp or (text and cp <= 0x9f) then return false end
    i = e + 1 + len
  end
end

-- ---------------------------------------------------------------------
-- JSON as strict as the C side (jansson with JSON_REJECT_DUPLICATES):
-- cjson.decode accepts repeated keys, 0x10, nan, Infinity, 1e999, \u0000,
-- raw control bytes in strings and bytes after the value, which C then
-- cannot read. One pass over the text, at most LIMIT.PAYLOAD bytes.
-- ---------------------------------------------------------------------

-- Index after the whitespace (JSON's four characters) at i. Most
-- tokens have none before them: one byte look first.
local function json_ws(s, i)
  local b = byte(s, i)
  if b ~= 32 and b ~= 10 and b ~= 13 and b ~= 9 then return i end
  local _, e = find(s, '^[ \t\n\r]*', i)
  return e + 1
end

-- Index after the \uXXXX escape at k (a pair for a surrogate), or nil
-- for \u0000, a lone surrogate or bad hex.
local function json_uescape(s, k)
  local h = match(s, '^\\u(%x%x%x%x)', k)
  local cp = h and tonumber(h, 16)
  if not cp or cp == 0 or (cp >= 0xdc00 and cp <= 0xdfff) then return nil end
  if cp < 0xd800 or cp > 0xdbff then return k + 6 end
  local l = match(s, '^\\u(%x%x%x%x)', k + 6)
  local lo = l and tonumber(l, 16)
  if not lo or lo < 0xdc00 or lo > 0xdfff then return nil end
  return k + 12
end

-- The escapes JSON has besides \u.
local JSON_ESCAPES = {['"'] = true, ['\\'] = true, ['/'] = true, b = true,
  f = true, n = true, r = true, t = true}

-- Index after the string that opens at i, or nil: no raw control byte,
-- only JSON's escapes. (UTF-8 is checked on the whole text; a NUL byte is
-- refused before the scan.) One anchored match per plain run, which also
-- gives the two bytes after it.
local function json_string(s, i)
  local j = i + 1
  while true do
    local k, q, x = match(s, '^[^"\\\1-\31]*()(.?)(.?)', j)
    if q ~= '\\' then return q == '"' and k + 1 or nil end
    if x == 'u' then
      j = json_uescape(s, k)
      if not j then return nil end
    elseif JSON_ESCAPES[x] then
      j = k + 2
    else
      return nil
    end
  end
end

-- Index after the number at i, or nil: JSON's grammar (no leading zero,
-- digits both sides of '.'), a real that fits a double, an integer that
-- fits 64 bits (as jansson's json_int_t). Plain integers take two finds.
local function json_number(s, i)
  local d = byte(s, i) == 45 and i + 1 or i
  local _, e = find(s, '^%d+', d)
  if not e or (e > d and byte(s, d) == 48) then return nil end
  local b = byte(s, e + 1)
  if b == 46 or b == 101 or b == 69 then
    local _, f = find(s, '^%.%d+', e + 1)
    local _, x = find(s, '^[eE][%+%-]?%d+', (f or e) + 1)
    local j = (x or f or e) + 1
    if b == 46 and not f then return nil end
    local v = tonumber(string.sub(s, i, j - 1))
    if not v or v == math.huge or v == -math.huge then return nil end
    return j
  end
  if e - d >= 18 then
    local digits = string.sub(s, d, e)
    local max = d > i and '9223372036854775808' or '9223372036854775807'
    if #digits > 19 or (#digits == 19 and digits > max) then return nil end
  end
  return e + 1
end

-- Index after the scalar (string, number, true, false, null) at i, or nil.
local function json_scalar(s, i)
  local c = byte(s, i)
  if c == 34 then return json_string(s, i) end
  if c == 116 then return string.sub(s, i, i + 3) == 'true' and i + 4 or nil end
  if c == 102 then return string.sub(s, i, i + 4) == 'false' and i + 5 or nil end
  if c == 110 then return string.sub(s, i, i + 3) == 'null' and i + 4 or nil end
  return json_number(s, i)
end

-- Records the key (string at i..j-1) in the object's set; false when the
-- object has it already (compared decoded, as jansson does).
local function json_key_new(keys, s, i, j)
  local key = string.sub(s, i + 1, j - 2)
  if find(key, '\\', 1, true) then
    local ok, v = pcall(cjson.decode, '"' .. key .. '"')
    if not ok then return false end
    key = v
  end
  if keys[key] then return false end
  keys[key] = true
  return true
end

-- Fast lanes of json_object_ok: one anchored find (with the whitespace
-- around) for each common token: a plain key with its colon (and the
-- byte after them), a plain string value, a plain integer, a literal,
-- each value with the separator after it, and a lone separator. "Plain":
-- no escape, no control byte (a NUL is refused before the scan), so the
-- text is the decoded string. In Redis a call costs far more than the
-- bytes it scans (about 150 ns against 8 ns a byte): fewer calls is what
-- makes the scan fast. When a lane does not match, the general path reads
-- the same place. Value lanes capture: the index after the value and its
-- whitespace, the separator there (, ] } or ''), the index after it and
-- its whitespace.
local JSON_WS = '[ \t\n\r]*'
local JSON_SEP = JSON_WS .. '()([,%]}]?)' .. JSON_WS .. '()'
local JSON_LANE = {
  key = '^' .. JSON_WS .. '"([^"\\\1-\31]*)"' .. JSON_WS .. ':' .. JSON_WS
    .. '()(.?)',
  string = '^' .. JSON_WS .. '"[^"\\\1-\31]*"' .. JSON_SEP,
  int = '^' .. JSON_WS .. '%-?(%d+)' .. JSON_SEP,
  word = '^' .. JSON_WS .. '(%l+)' .. JSON_SEP,
  next = '^([,%]}])' .. JSON_WS .. '()',
}
local JSON_WORDS = {['true'] = true, ['false'] = true, null = true}

-- Index after the key, its colon and the whitespace around them at i
-- (general path: escapes) in the object whose key set is keys, or nil (a
-- bad or repeated key).
local function json_key(s, i, keys)
  i = json_ws(s, i)
  local j = byte(s, i) == 34 and json_string(s, i)
  if not j or not json_key_new(keys, s, i, j) then return nil end
  j = json_ws(s, j)
  if byte(s, j) ~= 58 then return nil end -- :
  return json_ws(s, j + 1)
end

-- The scalar at i (c is its first byte, i is past whitespace) as a value
-- lane's captures (index after it and its whitespace, separator, index
-- after that), or nil. A plain string, integer or literal takes its
-- lane (an integer lane takes only what jansson reads as an int64 for
-- sure: at most 18 digits, no leading zero, a separator after it),
-- anything else the general path, which gives no separator ('').
local function json_value(s, i, c)
  local d, j, sep, k
  if c == 34 then -- "
    j, sep, k = match(s, JSON_LANE.string, i)
  elseif c == 45 or (c >= 48 and c <= 57) then -- - 0-9
    d, j, sep, k = match(s, JSON_LANE.int, i)
    if d and (#d > 18 or (#d > 1 and byte(d) == 48)) then j = nil end
  elseif c >= 97 and c <= 122 then -- a-z
    d, j, sep, k = match(s, JSON_LANE.word, i)
    if d and not JSON_WORDS[d] then return nil end
  end
  -- a number or a word ends only at a separator: 1.5, 1e5, true1
  if j and (sep ~= '' or c == 34) then return j, sep, k end
  j = json_scalar(s, i)
  return j and json_ws(s, j), '', nil
end

-- The byte of each one-byte string: the key lane captures the byte after
-- the colon as a string, and string.byte would cost a call. Built on the
-- first payload check of a script run.
local json_byte_of = nil

-- The first byte of the value at i when the caller does not know it (c
-- nil) and i moved past the whitespace, or the captures of a plain string
-- value there (an array's elements mostly are: its lane is tried first).
local function json_value_start(s, i, c)
  if c then return c, i end
  local j, sep, k = match(s, JSON_LANE.string, i)
  if j then return 34, i, j, sep, k end
  i = json_ws(s, i)
  return byte(s, i), i
end

-- True when s is exactly one JSON object (whitespace around it) that the
-- C side reads too: strict grammar, no repeated key in any object, at most
-- LIMIT.PAYLOAD_DEPTH levels of nesting. Iterative: stack holds a key set
-- per open object and false per open array; first is true right after
-- an opening bracket (where the closing one may come); c is the byte at i
-- when the key lane told it. In the next state i is past whitespace; the
-- lanes skip it in the others.
local function json_object_ok(s)
  if find(s, '\0', 1, true) then return false end
  local stack, n, want, first, c = {}, 0, 'value', false, 123
  local i = json_ws(s, 1)
  if byte(s, i) ~= 123 then return false end
  if not json_byte_of then
    json_byte_of = {}
    for b = 0, 255 do json_byte_of[string.char(b)] = b end
  end
  while true do
    local top = stack[n]
    local j, sep, k
    if want == 'key' then
      local key, at, ch = match(s, JSON_LANE.key, i)
      if key then
        if top[key] then return false end
        top[key], i, c = true, at, json_byte_of[ch]
      elseif first and byte(s, json_ws(s, i)) == 125 then -- }
        j, sep, k = i, '}', json_ws(s, json_ws(s, i) + 1)
      else
        i = json_key(s, i, top)
        if not i then return false end
      end
      want, first = 'value', false
    elseif want == 'value' then
      c, i, j, sep, k = json_value_start(s, i, c)
      if j then -- a plain string
      elseif c == 123 or c == 91 then -- { [
        if n >= LIMIT.PAYLOAD_DEPTH then return false end
        n = n + 1
        stack[n], i, first = c == 123 and {} or false, i + 1, true
        want = c == 123 and 'key' or 'value'
      elseif first and c == 93 then -- ]
        j, sep, k = i, ']', json_ws(s, i + 1)
      else
        if not c then return false end
        j, sep, k = json_value(s, i, c)
        if not j then return false end
      end
      c = nil
    elseif n == 0 then
      return i == #s + 1
    else
      sep, k = match(s, JSON_LANE.next, i)
      if not sep then return false end
      j = i
    end
    if j then -- a value ended at j, sep after it
      first = false
      if sep == ',' then
        i, want = k, top and 'key' or 'value'
      elseif sep ~= '' and sep == (top and '}' or ']') then
        stack[n], n, i, want = nil, n - 1, k, 'next'
      elseif sep ~= '' then
        return false
      else
        i, want = j, 'next'
      end
    end
  end
end

-- s as UTF-8 text for a stream read by consumers (events, dead letters):
-- s itself when it is text, else with every byte outside printable ASCII
-- (and every \) written \xNN.
local function as_text(s)
  if utf8_ok(s, true) then return s end
  return (string.gsub(s, '[%z\1-\31\\\127-\255]', function(c)
    return string.format('\\x%02x', string.byte(c))
  end))
end

-- Refuses a call without exactly nkeys keys and nmin..nmax arguments, or
-- whose ARGV[1] is not a hash tag "{prefix}".
local function want_args(nkeys, nmin, nmax)
  if #KEYS ~= nkeys then
    fail('BADARG expected ' .. nkeys .. ' keys, got ' .. #KEYS)
  end
  if #ARGV < nmin or #ARGV > nmax then
    fail('BADARG expected ' .. nmin .. '-' .. nmax .. ' arguments, got '
      .. #ARGV)
  end
  if #P > LIMIT.PREFIX + 2 or not string.match(P, '^{[%w_.%-]+}$') then
    bad_arg('tag', P, 'is not {PREFIX}')
  end
end

-- Refuses KEYS[i] unless it is the key want (the script's own key).
local function want_key(i, want)
  if KEYS[i] ~= want then bad_arg('key', KEYS[i], 'should be ' .. want) end
end

-- ARGV[i] as a job id: 1..LIMIT.ID of A-Za-z0-9_.-
local function arg_id(i)
  local v = ARGV[i]
  if #v < 1 or #v > LIMIT.ID or string.find(v, '[^%w_.%-]') then
    bad_arg('job id', v, 'is not 1-' .. LIMIT.ID .. ' of A-Za-z0-9_.-')
  end
  return v
end

-- ARGV[i] as an integer in min..max (digits only: no 1e3, no 0x10).
local function arg_int(i, what, min, max)
  local v = ARGV[i]
  local n = string.match(v, '^%-?%d+$') and #v <= 17 and tonumber(v)
  if not n or n < min or n > max then
    bad_arg(what, v, 'is not an integer in ' .. int_str(min) .. '..'
      .. int_str(max))
  end
  return n
end

-- ARGV[i] as text of 1..max bytes ('' too when optional): UTF-8 without
-- control characters.
local function arg_text(i, what, max, optional)
  local v = ARGV[i]
  if v == '' and optional then return v end
  if #v < 1 or #v > max or not utf8_ok(v, true) then
    bad_arg(what, v, 'is not 1-' .. max .. ' bytes of UTF-8 text')
  end
  return v
end

-- ARGV[i] as an owner token: 1..LIMIT.TOKEN of A-Za-z0-9_.-
local function arg_token(i, what)
  local v = ARGV[i]
  if #v < 1 or #v > LIMIT.TOKEN or string.find(v, '[^%w_.%-]') then
    bad_arg(what, v, 'is not 1-' .. LIMIT.TOKEN .. ' of A-Za-z0-9_.-')
  end
  return v
end

-- ARGV[i] as the random base of tokens the script builds by appending
-- at most suffix bytes: the built token stays within LIMIT.TOKEN, so
-- heartbeat and finish accept it.
local function arg_token_base(i, suffix)
  local v = ARGV[i]
  local max = LIMIT.TOKEN - suffix
  if #v < 1 or #v > max or string.find(v, '[^%w_.%-]') then
    bad_arg('token base', v, 'is not 1-' .. max .. ' of A-Za-z0-9_.-')
  end
  return v
end

-- ARGV[i] when it is one of the words in list.
local function arg_one_of(i, what, list)
  for _, w in ipairs(list) do
    if ARGV[i] == w then return w end
  end
  bad_arg(what, ARGV[i], 'is not one of ' .. table.concat(list, ' '))
end

-- ARGV[i] as a request (stream entry) id "ms-seq", or '' when absent.
local function arg_request(i)
  local v = ARGV[i] or ''
  if v ~= '' and (#v > LIMIT.REQUEST_ID
      or not string.match(v, '^%d+%-%d+$')) then
    bad_arg('request id', v, 'is not a stream entry id')
  end
  return v
end

-- ARGV[i]: the deadline of the request that runs the script, in ms on
-- Redis's clock (the service passes its entry time + timeout_ms); 0, ''
-- or absent for a direct call, which has none. Then refuses with TIMEOUT,
-- before any write, a request run at or after its deadline: its client has
-- given up, so it must never be applied (the service checks before sending
-- the script, but the script can run later: a stalled link, a paused
-- Redis, a failover).
local function arg_deadline(i)
  if ARGV[i] == nil or ARGV[i] == '' then return 0 end
  local deadline = arg_int(i, 'deadline_ms', 0, LIMIT.FENCE_MAX)
  local now = now_ms()
  if deadline > 0 and now >= deadline then
    fail('TIMEOUT the request ran ' .. int_str(now - deadline) ..
      ' ms after its deadline: not applied')
  end
  return deadline
end

-- The state that op moves a job in `from` to; refuses moves NEXT lacks.
local function next_state(id, from, op)
  local row = NEXT[from]
  local to = row and row[op]
  if not to then
    fail('STATE job ' .. id .. ' is ' .. tostring(from) .. ': cannot ' .. op)
  end
  return to
end

-- Appends one state change of any service to the capped events stream.
local function emit_as(service, kind, id, state, owner, detail)
  redis.call('XADD', K.events, 'MAXLEN', '~', EVENTS_MAXLEN, '*',
    'service', service, 'type', kind, 'id', id, 'state', state,
    'owner', owner or '', 'detail', detail or '')
end

-- A job's state change.
local function emit(id, state, owner, detail)
  emit_as('jobboard', 'job', id, state, owner, detail)
end

-- Pushes a msgpack reply map onto a client's reply list; an unread one
-- expires after REPLY_TTL_MS (rendered from scripts.h).
local function reply_push(key, map)
  if key == nil or key == '' then return end
  redis.call('LPUSH', key, cmsgpack.pack(map))
  redis.call('PEXPIRE', key, REPLY_TTL_MS)
end

-- Moves id from the index of one state to another's, scored by time.
local function move_index(id, from, to, now)
  if from ~= to then redis.call('ZREM', K.index(from), id) end
  redis.call('ZADD', K.index(to), now, id)
end

-- Refuses a write unless id is claimed under this token (and fence, when
-- fence > 0). Returns the job's fields as a table, and the HMGET's reply,
-- whose items 7.. are the extra fields named after fence (read in the
-- same call).
local function check_owner(id, token, fence, ...)
  local f = redis.call('HMGET', K.job(id), 'state', 'token', 'fence',
    'owner', 'attempts', 'max_attempts', ...)
  if not f[1] then fail('NOJOB job ' .. id .. ' does not exist') end
  local j = { state = f[1], token = f[2], fence = tonumber(f[3]),
    owner = f[4], attempts = tonumber(f[5]), max_attempts = tonumber(f[6]) }
  if j.state ~= 'claimed' or j.token ~= token
      or (fence > 0 and j.fence ~= fence) then
    fail('STALE token of job ' .. id .. ' is stale: the job is ' .. j.state
      .. ' with fence ' .. int_str(j.fence or 0) .. ' owned by '
      .. (j.owner ~= '' and j.owner or 'nobody'))
  end
  return j, f
end

-- Records one redelivery: its number, why, and who had the job before.
local function record_delivery(id, why, prev_owner, prev_fence, detail, now)
  local n = redis.call('HINCRBY', K.job(id), 'redeliveries', 1)
  redis.call('XADD', K.deliveries(id), 'MAXLEN', '~', DELIVERIES_MAXLEN, '*',
    'n', n, 'reason', why, 'prev_owner', prev_owner or '',
    'prev_fence', prev_fence or 0, 'detail', detail or '', 'at', now)
  return n
end

-- Puts id back on the board: a new stream entry, no owner.
local function to_board(id, from, now, why, prev_owner, prev_fence, detail)
  local entry = redis.call('XADD', K.stream, '*', 'id', id)
  redis.call('HSET', K.job(id), 'state', 'posted', 'owner', '', 'token', '',
    'lease_until', 0, 'entry', entry, 'updated_at', now)
  lease_drop(K.leases, id)
  move_index(id, from, 'posted', now)
  record_delivery(id, why, prev_owner, prev_fence, detail, now)
  emit(id, 'posted', '', why .. (detail and detail ~= '' and (': ' .. detail) or ''))
end

-- Ends id in a final state; its keys expire after the retention time.
local function finalize(id, from, to, now, reason, retention_ms, owner)
  local job = K.job(id)
  redis.call('HSET', job, 'state', to, 'finished_at', now, 'updated_at', now,
    'lease_until', 0, 'error', reason or '')
  lease_drop(K.leases, id)
  move_index(id, from, to, now)
  local ttl = retention_ms + TTL_MARGIN_MS
  redis.call('PEXPIRE', job, ttl)
  redis.call('PEXPIRE', K.log(id), ttl)
  if redis.call('HGET', job, 'redeliveries') ~= '0' then
    redis.call('PEXPIRE', K.deliveries(id), ttl)
  end
  if to == 'dead' then
    redis.call('XADD', K.dead, 'MAXLEN', '~', DEADLETTER_MAXLEN, '*',
      'source', 'jobboard', 'kind', 'job',
      'id', id, 'reason', reason or '', 'at', now)
  end
  emit(id, to, owner, reason)
end

-- ---------------------------------------------------------------------
-- Answers remembered per request: an operator's request (transfer,
-- repost) served twice (a replica died before acknowledging it) gets its
-- first answer again, whatever other requests did in between. The answer
-- lives in its own key {P}:svc:SERVICE:done:ENTRY (the board's, or the
-- reservation service's for create, release, pool_set) for the longest
-- request deadline (after that the request is never served again), never
-- in the job hash, and never holds a token.
-- ---------------------------------------------------------------------

-- The remembered answer (a table with op and id) of request for op on
-- job id, or nil; refuses a request id that answered another operation.
-- service: whose request it is ('jobboard' when nil).
local function done_get(request, op, id, service)
  if request == '' then return nil end
  local v = redis.call('GET', K.done(service or 'jobboard', request))
  if not v then return nil end
  local ok, r = pcall(cjson.decode, v)
  if not ok or type(r) ~= 'table' or r.op ~= op or r.id ~= id then
    bad_arg('request id', request, 'answered another operation')
  end
  return r
end

-- Remembers answer (a table) for request, with op and id (service as
-- done_get's).
local function done_put(request, op, id, answer, service)
  if request == '' then return end
  answer.op, answer.id = op, id
  redis.call('SET', K.done(service or 'jobboard', request),
    cjson.encode(answer), 'PX',
    LIMIT.REQUEST_TIMEOUT_MAX_MS)
end

-- Value of field name in a flat {k1, v1, k2, v2, ...} reply, or nil.
local function field(flat, name)
  if type(flat) ~= 'table' then return nil end
  for i = 1, #flat - 1, 2 do
    if flat[i] == name then return flat[i + 1] end
  end
  return nil
end

-- ---------------------------------------------------------------------
-- Posting and cancelling a job: the board's rules, shared by post.lua,
-- cancel.lua and the reservation scripts that post and cancel the jobs
-- of a reservation.
-- ---------------------------------------------------------------------

-- Refuses a job payload the board would not take: at most LIMIT.PAYLOAD
-- bytes of one JSON object the C side reads too.
local function check_payload(payload)
  if #payload > LIMIT.PAYLOAD or not utf8_ok(payload, false)
      or not json_object_ok(payload) then
    bad_arg('payload', payload, 'is not a JSON object of at most '
      .. LIMIT.PAYLOAD .. ' bytes')
  end
end

-- The board's answer to a post that was made before, without writing:
-- {first_id, 0} when the idempotency key idem ('' none) names a live job,
-- or when job id exists and was posted by this same request ('' none);
-- nil when id is free. Refuses with EXISTS an id that is taken.
local function post_seen(id, idem, request)
  if idem ~= '' then
    local first = redis.call('GET', K.idem(idem))
    -- (a first job already removed by retention does not count)
    if first and redis.call('EXISTS', K.job(first)) == 1 then
      return { first, 0 }
    end
  end
  if redis.call('EXISTS', K.job(id)) == 1 then
    if request ~= '' and redis.call('HGET', K.job(id), 'request') == request then
      return { id, 0 }
    end
    fail('EXISTS job ' .. id .. ' already exists')
  end
  return nil
end

-- Puts the new job id on the board (its arguments checked, check_payload
-- and post_seen passed): its hash, its stream entry, its index entry, the
-- idempotency key (idem, '' none, kept idem_ttl ms) and an event.
-- Returns {id, 1}.
local function post_new(id, name, max_attempts, payload, idem, idem_ttl,
                        request)
  local now = now_ms()
  local entry = redis.call('XADD', K.stream, '*', 'id', id)
  redis.call('HSET', K.job(id), 'id', id, 'name', name, 'state', 'posted',
    'owner', '', 'attempts', 0, 'max_attempts', max_attempts, 'fence', 0,
    'redeliveries', 0, 'created_at', now, 'updated_at', now, 'entry', entry,
    'idempotency_key', idem, 'request', request, 'payload', payload)
  redis.call('ZADD', K.index('posted'), now, id)
  if idem ~= '' then
    redis.call('SET', K.idem(idem), id, 'PX', idem_ttl)
  end
  emit(id, 'posted', '', name)
  return { id, 1 }
end

-- What a cancelled job's error starts with.
local CANCEL_PREFIX = 'cancelled: '

-- Cancels job id for reason ('' none; at most LIMIT.REASON -
-- #CANCEL_PREFIX bytes), the board's rules:
-- - posted, and nothing of its current run in its task log: nothing ran,
--   so the job is reverted at once (its board entry removed, error
--   "cancelled: REASON", or "cancelled" without one; kept retention ms);
-- - claimed, or posted with entries of its current run in its log: the
--   job keeps its state and owner and gets the fields `cancel` (the
--   reason, "cancelled" when none) and `cancel_at` (ms); the executor
--   that holds or next claims it rolls back what was applied. A second
--   cancel of such a job changes nothing (the first reason stays);
-- - completed, reverted, failed, dead: refused with STATE naming the state;
--   a missing job with NOJOB (both before any write).
-- Returns the job's state after: 'reverted', 'claimed' or 'posted'.
local function cancel_job(id, reason, retention)
  local job = K.job(id)
  local f = redis.call('HMGET', job, 'state', 'owner', 'entry', 'run',
    'cancel')
  if not f[1] then fail('NOJOB job ' .. id .. ' does not exist') end
  local state = f[1]
  local now = now_ms()
  -- True when the task log holds an entry of the job's current run: the
  -- last entry is of the newest run written (runs only grow).
  local function ran()
    local last = redis.call('XREVRANGE', K.log(id), '+', '-', 'COUNT', 1)
    local run = tonumber(f[4]) or 1
    return last[1] ~= nil and tonumber(field(last[1][2], 'run')) == run
  end

  if state == 'posted' and not ran() then
    next_state(id, state, 'cancel')
    if f[3] and f[3] ~= '' then
      redis.call('XACK', K.stream, GROUP, f[3])
      redis.call('XDEL', K.stream, f[3])
    end
    redis.call('HSET', job, 'entry', '')
    finalize(id, state, 'reverted', now,
      reason ~= '' and CANCEL_PREFIX .. reason or 'cancelled', retention, '')
  elseif state == 'claimed' or state == 'posted' then
    if not f[5] or f[5] == '' then
      local why = reason ~= '' and reason or 'cancelled'
      redis.call('HSET', job, 'cancel', why, 'cancel_at', now)
      emit(id, state, f[2], 'cancel-requested: ' .. why)
    end
  else
    next_state(id, state, 'cancel') -- refused: a final state
  end
  return redis.call('HGET', job, 'state')
end

-- ---------------------------------------------------------------------
-- Pools and reservations (pool_set.lua, rsv_*.lua). A reservation holds
-- capacity of its pools from its create until give_back, which runs once.
-- ---------------------------------------------------------------------

-- The states a job ends in (a job gone from Redis counts as dead).
local JOB_ENDED = { completed = true, reverted = true, failed = true,
  dead = true }

-- ARGV[i] as a name of 1..max bytes of the characters of class set
-- (a Lua pattern class body, e.g. '%w_.%-'); rule names them.
local function arg_name(i, what, max, set, rule)
  local v = ARGV[i]
  if #v < 1 or #v > max or string.find(v, '[^' .. set .. ']') then
    bad_arg(what, v, 'is not 1-' .. max .. ' of ' .. rule)
  end
  return v
end

-- ARGV[i] as a reservation id: 1..LIMIT.RSV_ID of A-Za-z0-9_-
local function arg_rsv_id(i)
  return arg_name(i, 'reservation id', LIMIT.RSV_ID, '%w_%-', 'A-Za-z0-9_-')
end

-- ARGV[i] as a pool name: 1..LIMIT.POOL_NAME of A-Za-z0-9_.-
local function arg_pool(i)
  return arg_name(i, 'pool name', LIMIT.POOL_NAME, '%w_.%-', 'A-Za-z0-9_.-')
end

-- A job's state and error; 'dead', 'job gone' when it is gone.
local function job_end(id)
  local f = redis.call('HMGET', K.job(id), 'state', 'error')
  if not f[1] then return 'dead', 'job gone' end
  return f[1], f[2] or ''
end

-- Moves reservation id from state `from` to `to` (its index too) with an
-- event whose detail is detail; a final state (and expired) sets ended_at.
local function rsv_move(id, from, to, now, detail)
  local h = K.rsv(id)
  redis.call('HSET', h, 'state', to, 'updated_at', now)
  if to == 'failed' or to == 'released' or to == 'expired' then
    redis.call('HSET', h, 'ended_at', now)
  end
  if from ~= to then redis.call('ZREM', K.rsvs(from), id) end
  redis.call('ZADD', K.rsvs(to), now, id)
  emit_as('reservation', 'rsv', id, to, '', detail)
end

-- Gives the capacity reservation id holds back to its pools, once: only
-- while returned_at is unset. Per pool: used -= amount (never below 0),
-- reservations - 1, the id leaves the pool's holders, an event. Then
-- returned_at. Returns 1 when it gave back now, else 0.
local function give_back(id, now)
  local h = K.rsv(id)
  local f = redis.call('HMGET', h, 'returned_at', 'pools', 'state')
  if not f[3] or (f[1] and f[1] ~= '') then return 0 end
  local w = {}
  for word in string.gmatch(f[2] or '', '%S+') do w[#w + 1] = word end
  for i = 1, #w - 1, 2 do
    local pool, amount = K.pool(w[i]), tonumber(w[i + 1])
    local p = redis.call('HMGET', pool, 'used', 'reservations', 'capacity')
    if p[1] then
      local used = math.max(0, (tonumber(p[1]) or 0) - amount)
      local n = math.max(0, (tonumber(p[2]) or 0) - 1)
      redis.call('HSET', pool, 'used', int_str(used), 'reservations', n,
        'updated_at', now)
      emit_as('reservation', 'pool', w[i], 'returned', '', id .. ' '
        .. int_str(amount) .. ': used ' .. int_str(used) .. ' of ' .. p[3])
    end
    redis.call('ZREM', K.poolrsv(w[i]), id)
  end
  redis.call('HSET', h, 'returned_at', now, 'updated_at', now)
  -- the index is by updated_at: retention (rsv_cleanup.lua) counts from here
  redis.call('ZADD', K.rsvs(f[3]), 'XX', now, id)
  return 1
end

-- Takes reservation id out of the open set when its bookkeeping is over:
-- not pending, no teardown in flight, capacity back unless active, and no
-- teardown owed to a release asked while it was pending.
local function rsv_settle(id)
  local f = redis.call('HMGET', K.rsv(id), 'state', 'release_job',
    'returned_at', 'release_requested', 'releases')
  local state, returned = f[1], f[3] and f[3] ~= ''
  local open = state == 'pending'
    or (f[2] and f[2] ~= '' and not returned)
    or (state == 'expired' and not returned)
    or (state == 'active' and f[4] == '1' and (tonumber(f[5]) or 0) == 0)
  if not open then redis.call('ZREM', K.rsv_open, id) end
end
