# The streams that grow with every change are capped (XADD MAXLEN ~, so
# at most one stream node, <= 100 entries, over): {P}:events near 100,000
# (EVENTS_MAXLEN), {P}:deadletter near 100,000 (DEADLETTER_MAXLEN), a
# job's {P}:job:ID:deliveries near 100 (DELIVERIES_MAXLEN), all in
# common/lua/lib.lua. Each is filled past its cap, then one real append
# through the board trims it.
. "$(dirname "$0")/lib.sh"
start_board
# fill KEY N: N filler entries on stream KEY, 5,000 a script call (so
# Redis is never held long by one: other tests may share it).
fill() {
  local left=$2 k
  while [ "$left" -gt 0 ]; do
    k=$((left < 5000 ? left : 5000))
    rcli EVAL "for i = 1, tonumber(ARGV[1]) do redis.call('XADD', KEYS[1], '*', 'f', 'v') end" 1 "$1" "$k" >/dev/null
    left=$((left - k))
  done
}
at_exit flush_prefix
len() { rcli XLEN "$1"; }
# between N LO HI: LO <= N <= HI.
between() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

fill "$tag:events" 100500
fill "$tag:deadletter" 100500
id=$("$WFP" job post "$(job_file capped)")
n=$(len "$tag:events")
ok "events trimmed by a post ($n)" between "$n" 100000 100100
rcli XADD "$tag:svc:jobboard:requests" '*' op explode timeout_ms 60000 body x >/dev/null
last_dead() { rcli --raw XREVRANGE "$tag:deadletter" + - COUNT 1 | grep -q 'unknown op'; }
ok "the bad request is dead-lettered" wfp_wait_for last_dead
n=$(len "$tag:deadletter")
ok "deadletter trimmed ($n)" between "$n" 100000 100100

# Deliveries: a job reaped after a 300 ms lease, its record stream full.
fill "$tag:job:$id:deliveries" 250
a=$(WFP_VISIBILITY_MS=300 "$WFP" job claim --owner exec-a --json)
eq "claimed" "$(jq -r .id <<<"$a")" "$id"
ok "reaped" wait_state "$id" posted 10
n=$(len "$tag:job:$id:deliveries")
ok "deliveries trimmed ($n)" between "$n" 100 200
eq "the last one is the reap" "$(rcli --raw XREVRANGE "$tag:job:$id:deliveries" + - COUNT 1 | grep -c heartbeat-timeout)" 1
finish
