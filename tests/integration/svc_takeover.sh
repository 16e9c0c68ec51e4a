# Takeover of requests by the request's own deadline and the holder's
# sign of life, not by a fixed idle time:
#  - a request held by a live replica (its replicas record is fresh) is
#    never taken over, however long it has been idle; once that replica
#    falls silent it is taken over and served;
#  - a request whose replica was killed is served by another replica well
#    before the client's timeout (9 s here; the old fixed 10 s idle missed it);
#  - a request whose deadline passed while its board was stopped is dropped,
#    never applied.
. "$(dirname "$0")/lib.sh"
req="$tag:svc:jobboard:requests"
replicas="$tag:svc:jobboard:replicas"
port=$(wfp_free_port)
rcli XGROUP CREATE "$req" jobboard 0 MKSTREAM >/dev/null

# A replica "live-replica" read a request and has been idle 30 s with it,
# while its record says it is alive.
redis_ms() { rcli EVAL "local t = redis.call('TIME') return t[1] * 1000 + math.floor(t[2] / 1000)" 0; }
rcli ZADD "$replicas" "$(redis_ms)" live-replica >/dev/null
printf '\x81\xa4name\xa4held' |
  rcli -x XADD "$req" '*' op post reply "$tag:reply:held" timeout_ms 600000 body >/dev/null
id=$(rcli XREADGROUP GROUP jobboard live-replica COUNT 1 STREAMS "$req" '>' | sed -n 2p)
rcli XCLAIM "$req" jobboard live-replica 0 "$id" IDLE 30000 JUSTID >/dev/null
start_board WFP_METRICS_ADDR="127.0.0.1:$port"
for _ in 1 2 3; do
  rcli ZADD "$replicas" "$(redis_ms)" live-replica >/dev/null
  sleep 1
done
eq "a live replica's idle request is not taken over" \
  "$(rcli XPENDING "$req" jobboard - + 10 live-replica | grep -c "$id")" 1
eq "nor answered by another replica" "$(rcli LLEN "$tag:reply:held")" 0
# The replica falls silent: its request is taken over and served.
ok "taken over once its replica is silent" \
  wfp_wait_for bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' LLEN '$tag:reply:held')\" = 1 ]"
ok "taken-over count" grep -q "^wfp_jobboard_requests_taken_over_total 1" \
  <<<"$(http_get 127.0.0.1 "$port" /metrics)"

# A replica is killed holding a request: another one serves it well before
# the client's 9 s timeout. The stopped board A reads the request (its
# blocking read, or a read made here in its name when that read had just
# ended), then A is killed.
a=$BOARD_PID
ok "board A recorded itself" wfp_wait_for bash -c \
  "redis-cli -u '$WFP_REDIS_URL' ZRANGE '$replicas' 0 -1 | grep -q -- '-$a\$'"
consumer_a=$(rcli ZRANGE "$replicas" 0 -1 | grep -- "-$a\$" || true)
kill -STOP "$a"
t0=$(date +%s%N)
"$WFP" job post "$(job_file killed)" --timeout-ms 9000 >"$TMP/killed.out" 2>"$TMP/killed.err" &
poster=$!
for _ in $(seq 1 100); do
  [ "$(rcli XLEN "$req")" = 1 ] && break
  sleep 0.02
done
if [ "$(rcli XPENDING "$req" jobboard | head -1)" = 0 ]; then
  rcli XREADGROUP GROUP jobboard "$consumer_a" COUNT 1 STREAMS "$req" '>' >/dev/null
fi
pending=$(rcli XPENDING "$req" jobboard - + 10 "$consumer_a" | grep -c . || true)
kill -9 "$a"; kill -CONT "$a" 2>/dev/null || true; wait "$a" 2>/dev/null || true
BOARD_PID=""
[ "$pending" -ge 1 ] || { wait "$poster" || true; fail "request not read by the stopped board"; }
start_board
rc=0; wait "$poster" || rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
eq "the client got its reply ($(cat "$TMP/killed.err"))" "$rc" 0
ok "served before the deadline (${ms} ms)" test "$ms" -lt 9000
eq "the job exists" "$(rcli HGET "$tag:job:$(cat "$TMP/killed.out")" state)" posted
eq "nothing pending" "$(rcli XPENDING "$req" jobboard | head -1)" 0

# A request whose deadline passes while its board is stopped is dropped,
# never applied (the job id is fixed so its absence can be checked).
kill -STOP "$BOARD_PID"
rc=0
"$WFP" job post "$(job_file late '"id": "late-job"')" --timeout-ms 500 \
  >/dev/null 2>"$TMP/late.err" || rc=$?
ok "the client gave up" test "$rc" -ne 0
ok "it says no reply came" grep -q "no reply from wfp-jobboard" "$TMP/late.err"
sleep 0.5
kill -CONT "$BOARD_PID"
ok "dropped" wfp_wait_for bash -c "grep -q 'dropped: its deadline passed' '$TMP/board.log'"
eq "never applied" "$(rcli EXISTS "$tag:job:late-job")" 0
eq "nothing pending after the drop" "$(rcli XPENDING "$req" jobboard | head -1)" 0
eq "nothing left on the stream" "$(rcli XLEN "$req")" 0
