-- post.lua: puts a new job on the board in one step: its hash, its entry
-- on the job stream, its index entry and an event (post_seen, post_new
-- in lib.lua: rsv_create.lua posts the same way).
-- KEYS[1] job hash. ARGV: [1] tag, [2] id, [3] name, [4] max_attempts,
-- [5] payload (a JSON object as text), [6] idempotency key or '', [7] its
-- TTL in ms, [8] the id of the request that asks for the post ("ms-seq")
-- or '' / absent: a request served twice (a replica died before
-- acknowledging it) then answers with the job it posted. [9] the
-- request's deadline (ms, Redis's clock) or 0 / '' / absent: a request
-- run at or after it is refused with TIMEOUT (arg_deadline).
-- Returns {id, 1} for a new job, or {first_id, 0} when the idempotency key
-- was seen within its TTL or the request was served before.
want_args(1, 7, 9)
local id = arg_id(2)
want_key(1, K.job(id))
local name = arg_text(3, 'name', LIMIT.NAME)
local max_attempts = arg_int(4, 'max_attempts', 1, LIMIT.MAX_ATTEMPTS)
local payload = ARGV[5]
local idem = arg_text(6, 'idempotency key', LIMIT.IDEM_KEY, true)
local idem_ttl = arg_int(7, 'idempotency TTL', 1, LIMIT.IDEM_TTL_MS)
local request = arg_request(8)
arg_deadline(9)
check_payload(payload)
return post_seen(id, idem, request)
  or post_new(id, name, max_attempts, payload, idem, idem_ttl, request)
