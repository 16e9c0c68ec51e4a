# Redis restarted under a running board: it reconnects and serves again.
# A board started while Redis is down waits for it instead of exiting.
# Uses a redis-server of its own (it is stopped and started here).
. "$(dirname "$0")/lib.sh"
REDIS_PORT=$(wfp_free_port)
export WFP_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
mport=$(wfp_free_port)
own_stop() { wfp_redis_stop; }
at_exit own_stop

# Started before Redis: it keeps retrying.
env WFP_METRICS_ADDR="127.0.0.1:$mport" "$WFP_BIN/wfp-jobboard" >"$TMP/board.log" 2>&1 &
BOARD_PID=$!
sleep 0.5
ok "board waits for redis" kill -0 "$BOARD_PID"
ok "healthz says unavailable" grep -q "503" <<<"$(http_get 127.0.0.1 "$mport" /healthz)"
wfp_redis_start "$TMP/redis"
ok "board connects" wfp_wait_for grep -q "redis-reader: connected" "$TMP/board.log"
id=$("$WFP" job post "$(job_file before)")
eq "serving" "$(rcli HGET "$tag:job:$id" state)" posted

# Kill Redis hard, start it again on the same port (empty: no persistence).
kill -9 "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true; REDIS_PID=""
sleep 0.5
ok "board survives the outage" kill -0 "$BOARD_PID"
eq "CLI reports redis down" "$(status_of "$WFP" status)" 1
wfp_redis_start "$TMP/redis"
ok "reconnected" wfp_wait_for bash -c "[ \$(grep -c 'redis-reader: connected' '$TMP/board.log') -ge 2 ]"
id=$("$WFP" job post "$(job_file after)")
eq "serving after restart" "$(rcli HGET "$tag:job:$id" state)" posted
eq "claim after restart" "$("$WFP" job claim --owner x --json | jq -r .id)" "$id"
ok "healthz ok again" grep -q "200 OK" <<<"$(http_get 127.0.0.1 "$mport" /healthz)"
ok "reconnects counted" grep -q "^wfp_redis_connects_total 2" <<<"$(http_get 127.0.0.1 "$mport" /metrics)"

# A Redis that stops answering without closing (SIGSTOP): every command
# has a timeout, the board drops the link and keeps trying; after SIGCONT
# it serves again.
stop_board
start_board WFP_TIMEOUT_MS=300
kill -STOP "$REDIS_PID"
sleep 2
ok "board dropped the silent link" grep -q "dropping the connection" "$TMP/board.log"
ok "board alive while redis is frozen" kill -0 "$BOARD_PID"
kill -CONT "$REDIS_PID"
ok "serving after redis thaws" wfp_wait_for "$WFP" job post "$(job_file thawed)"
