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
eq "--json: a finished job's state on stdout" "$(timeout 2 "$WFP" job watch "$id" --json | jq -c .)" "{\"type\":\"job\",\"id\":\"$id\",\"state\":\"reverted\"}"

# An unrelated event that is not valid UTF-8 (another job's detail) is
# never converted: watch prints its own job's completion and exits 0.
# An event of the watched job itself with such bytes is shown with U+FFFD
# and watch then exits 1, naming it.
for mode in "" --json; do
  id=$("$WFP" job post "$(job_file "bytes$mode")")
  "$WFP" job watch "$id" --timeout 5000 $mode >"$TMP/bytes.out" 2>"$TMP/bytes.err" &
  w=$!
  ok "watch$mode is blocked reading events" wfp_wait_for sh -c "redis-cli -u '$WFP_REDIS_URL' CLIENT LIST | grep -q 'cmd=xread '"
  rcli XADD "$tag:events" '*' type job id other-job state failed owner x detail $'bad\xff\xfe' >/dev/null
  token=$("$WFP" job claim --owner w3 --json | jq -r .token)
  "$WFP" job complete "$id" "$token" >/dev/null
  rc=0; wait "$w" || rc=$?
  eq "watch$mode past a bad unrelated event exits 0" "$rc" 0
  ok "watch$mode printed the completion" grep -q "completed" "$TMP/bytes.out"
  eq "watch$mode said nothing on stderr" "$(wc -c <"$TMP/bytes.err")" 0
done
id=$("$WFP" job post "$(job_file own)")
"$WFP" job watch "$id" --timeout 5000 --json >"$TMP/own.out" 2>"$TMP/own.err" &
w=$!
ok "watch is blocked reading events" wfp_wait_for sh -c "redis-cli -u '$WFP_REDIS_URL' CLIENT LIST | grep -q 'cmd=xread '"
rcli XADD "$tag:events" '*' type job id "$id" state posted owner x detail $'own\xff' >/dev/null
token=$("$WFP" job claim --owner w4 --json | jq -r .token)
"$WFP" job complete "$id" "$token" >/dev/null
rc=0; wait "$w" || rc=$?
eq "watch of a job with a bad event exits 1" "$rc" 1
ok "it printed the bad event with U+FFFD" grep -q '"own�"' "$TMP/own.out"
ok "and the completion" grep -q '"completed"' "$TMP/own.out"
ok "it names the field in one line" grep -q "^wfp: field 'detail' of '$id' is not valid UTF-8" "$TMP/own.err"
