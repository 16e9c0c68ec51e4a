# Transient Redis errors (here OOM: maxmemory reached with noeviction) are
# not final refusals: the board reports the command lost, retries it, and serves the
# request once the condition clears; the CLI says "redis unavailable".
# Uses a redis-server of its own (memory limits are server-wide), stopped
# when the test ends (own_redis).
. "$(dirname "$0")/lib.sh"
own_redis
req="$tag:svc:jobboard:requests"
start_board

# The blocking client: an OOM answer is "redis unavailable: ...", one line.
rcli CONFIG SET maxmemory 1 >/dev/null
rc=0; "$WFP" job post "$(job_file refused)" --timeout-ms 2000 2>"$TMP/err" || rc=$?
rcli CONFIG SET maxmemory 0 >/dev/null
eq "CLI fails" "$rc" 1
eq "one line" "$(wc -l <"$TMP/err")" 1
ok "says redis is unavailable ($(cat "$TMP/err"))" grep -q "^wfp: redis unavailable: OOM" "$TMP/err"

# The daemon: the request reaches the stopped board, Redis fills up, the
# board wakes and meets OOM; the client keeps waiting and is served once
# memory is back.
kill -STOP "$BOARD_PID"
"$WFP" job post "$(job_file waits '"id": "waits"')" --timeout-ms 15000 \
  >"$TMP/out" 2>"$TMP/err" &
poster=$!
for _ in $(seq 1 40); do
  [ "$(rcli XLEN "$req")" = 1 ] && break
  sleep 0.05
done
rcli CONFIG SET maxmemory 1 >/dev/null
kill -CONT "$BOARD_PID"
sleep 1.5
met=$(grep -c "redis answered 'OOM" "$TMP/board.log" || true)
waiting=$(kill -0 "$poster" 2>/dev/null && echo yes || echo no)
applied=$(rcli EXISTS "$tag:job:waits")
rcli CONFIG SET maxmemory 0 >/dev/null
ok "the board met OOM" test "$met" -gt 0
eq "the client still waits (not refused: $(cat "$TMP/err"))" "$waiting" yes
eq "nothing applied yet" "$applied" 0
rc=0; wait "$poster" || rc=$?
eq "served once memory is back ($(cat "$TMP/err"))" "$rc" 0
eq "the job exists" "$(rcli HGET "$tag:job:waits" state)" posted
ok "nothing pending" wfp_wait_for bash -c \
  "[ \"\$(redis-cli -u '$WFP_REDIS_URL' XPENDING '$req' jobboard | head -1)\" = 0 ]"
ok "still serving" "$WFP" job post "$(job_file after)"
stop_board
wfp_redis_stop
