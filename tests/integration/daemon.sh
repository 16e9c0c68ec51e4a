# The daemon's start-up checks and shutdown: bad settings name the
# variable; an evicting maxmemory-policy is refused with the fix; SIGTERM
# stops it cleanly.
. "$(dirname "$0")/lib.sh"

out=$(WFP_VISIBILITY_MS=soon "$WFP_BIN/wfp-jobboard" 2>&1 || echo "rc=$?")
ok "bad variable named" grep -q "WFP_VISIBILITY_MS: 'soon'" <<<"$out"
ok "non-zero exit" grep -q "rc=2" <<<"$out"
out=$("$WFP_BIN/wfp-jobboard" --redis nope 2>&1 || echo "rc=$?")
ok "bad flag named" grep -q -- "--redis" <<<"$out"
out=$("$WFP_BIN/wfp-jobboard" --bogus 2>&1 || echo "rc=$?")
ok "unknown flag" grep -q "unknown argument '--bogus'" <<<"$out"
out=$(WFP_METRICS_ADDR=localhost "$WFP_BIN/wfp-jobboard" 2>&1 || echo "rc=$?")
ok "bad metrics address" grep -q "WFP_METRICS_ADDR" <<<"$out"

# A Redis that may evict keys would lose jobs: the board refuses to run.
REDIS_PORT=$(wfp_free_port)
wfp_redis_start "$TMP/redis" --maxmemory-policy allkeys-lru
at_exit wfp_redis_stop
rc=0
out=$(timeout 10 "$WFP_BIN/wfp-jobboard" --redis "redis://127.0.0.1:$REDIS_PORT" 2>&1) || rc=$?
eq "refuses an evicting redis" "$rc" 3
ok "says how to fix it" grep -q "CONFIG SET maxmemory-policy noeviction" <<<"$out"
wfp_redis_stop

# SIGTERM: a clean stop with status 0.
start_board
kill -TERM "$BOARD_PID"
rc=0; wait "$BOARD_PID" || rc=$?
BOARD_PID=""
eq "clean stop" "$rc" 0
ok "logged" grep -q "stopped" "$TMP/board.log"

# SIGTERM under load: what the board served is acknowledged before it
# exits, so nothing is left pending to be served twice.
start_board
f=$(job_file busy)
( for i in $(seq 1 40); do "$WFP" job post "$f" --timeout-ms 3000 >/dev/null 2>&1; done ) &
poster=$!
sleep 0.3
kill -TERM "$BOARD_PID"
rc=0; wait "$BOARD_PID" || rc=$?
BOARD_PID=""
eq "clean stop under load" "$rc" 0
eq "nothing left pending" "$(rcli XPENDING "$tag:svc:jobboard:requests" jobboard | head -1)" 0
start_board
wait "$poster"
