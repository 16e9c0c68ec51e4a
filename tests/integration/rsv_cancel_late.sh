# `wfp rsv release ID --wait` of a pending reservation whose fulfilment
# completes before the cancel takes effect (the cancel came between the
# last task's log entry and the job's completion): the service then tears
# the reservation down itself (release_requested), and the follow goes on
# with that teardown to "released" (exit 0), not "release it again"
# (exit 1). The late completion is made by hand (the job's hash says
# completed while the executor that holds it is stopped); the sweep of
# wfp-reservation then moves the reservation and posts the teardown as
# after a real one.
. "$(dirname "$0")/lib.sh"

classes="$TMP/classes"
mkdir -p "$classes"
noop='{"plugin": "noop"}'
cat >"$classes/slow.json" <<EOF
{"reserve": $noop, "configure": $noop,
 "acquire": {"plugin": "sleep", "args": {"ms": 3000}}, "destroy": $noop}
EOF
start_board
start_executor x1
x1=$EXEC_PID
start_reservation WFP_CLASSES_DIR="$classes"
at_exit stop_reservation

# field_is FIELD VALUE: c1's hash holds VALUE in FIELD.
field_is() { [ "$(rcli HGET "$tag:rsv:c1" "$1")" = "$2" ]; }
log_has() { rcli XRANGE "$tag:job:c1.fulfil:log" - + | grep -qx "$1"; }

"$WFP" pool set p --capacity 10 >/dev/null
echo '{"name": "late", "items": [{"name": "a", "pool": "p", "amount": 1, "class": "slow"}]}' >"$TMP/r.json"
ok "create" "$WFP" rsv create "$TMP/r.json" --id c1
ok "acquire running" wfp_wait_for log_has a.acquire
# cont_x1: lets a stopped x1 go on (so that it can be stopped at the end).
cont_x1() { kill -CONT "$x1" 2>/dev/null || true; }
at_exit cont_x1
kill -STOP "$x1"
"$WFP" rsv release c1 --wait --timeout 30000 >"$TMP/out" 2>"$TMP/err" &
follower=$!
ok "release asked" wfp_wait_for field_is release_requested 1
sleep 0.5
# The fulfilment completed as the cancel came (its executor was past its
# last log entry): the job's hash says completed; wfp-reservation's sweep
# makes the reservation active and, as release was asked, tears it down.
rcli HSET "$tag:job:c1.fulfil" state completed >/dev/null
ok "the service posts the teardown" wfp_wait_for field_is release_job c1.release.1
kill -KILL "$x1"
start_executor x2
code=0
wait "$follower" || code=$?
cat "$TMP/out" "$TMP/err" >&2
eq "release --wait: 0" "$code" 0
ok "ends released" grep -qx "c1 released" "$TMP/out"
ok "no 'release it again'" sh -c "! grep -q 'release it again' '$TMP/err'"
finish
