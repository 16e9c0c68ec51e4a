# `wfp job watch` follows a job until it ends, and misses no change made
# after it started: not even one that lands between its read of the job's
# state and its first read of the events. hold_proxy sits between watch
# and Redis and holds watch's first XREAD while the test completes the job.
. "$(dirname "$0")/lib.sh"
start_board
rport=$(sed -E 's#^redis://([^@/]*@)?[^:/]*:([0-9]+).*#\2#' <<<"$WFP_REDIS_URL")
pport=$(wfp_free_port)
"$WFP_BIN/tests/hold_proxy" "$pport" "$rport" XREAD "$TMP/held" "$TMP/go" &
proxy=$!
at_exit kill "$proxy"
via_proxy="redis://127.0.0.1:$pport"

# The job completes after watch read "claimed" and before it reads events.
id=$("$WFP" job post "$(job_file watched)")
token=$("$WFP" job claim --owner w1 --json | jq -r .token)
"$WFP" job watch "$id" --timeout 3000 --redis "$via_proxy" >"$TMP/watch.out" 2>&1 &
w=$!
ok "watch read the state and holds before reading events" wfp_wait_for test -e "$TMP/held"
ok "the job completes in the gap" "$WFP" job complete "$id" "$token"
touch "$TMP/go"
rc=0; wait "$w" || rc=$?
eq "watch saw the completion (not its timeout)" "$rc" 0
ok "it said the job was claimed" grep -q "$id is claimed" "$TMP/watch.out"
ok "then printed the completion" grep -q " completed " "$TMP/watch.out"

# Plain runs: the changes of a live job as JSON lines; a finished job at once.
id=$("$WFP" job post "$(job_file live)")
"$WFP" job watch "$id" --timeout 5000 --json >"$TMP/live.out" 2>&1 &
w=$!
token=$("$WFP" job claim --owner w2 --json | jq -r .token)
"$WFP" job fail "$id" "$token" --reason "test" --final reverted >/dev/null
rc=0; wait "$w" || rc=$?
eq "watch of a reverted job exits 1" "$rc" 1
eq "the last event is the end" "$(tail -1 "$TMP/live.out" | jq -r .state)" reverted
eq "watch of a finished job returns at once" "$(status_of timeout 2 "$WFP" job watch "$id")" 1
