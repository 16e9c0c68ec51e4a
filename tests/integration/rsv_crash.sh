# wfp-reservation catches up after a crash between a job's end and its
# bookkeeping (SIGSTOP, the job ends, SIGKILL, restart), for a fulfilment
# and for a teardown; and after Redis goes away and comes back (its links
# reconnect, the events link reads on).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rsv_lib.bash"
own_redis --appendonly yes --appendfsync always
file_class vm "sleep 1; " "sleep 1; "
start_board
at_exit stop_reservation
start_reservation WFP_CLASSES_DIR="$CLASSES"
start_executor e1
"$REQ" pool_set name=cpus capacity:=10 >/dev/null

# The fulfilment ends while the service is stopped, then it is killed.
create k1 "$(rsv_file k1 "[$(item kvm cpus 4 vm)]")" >/dev/null
kill -STOP "$RSV_PID"
ok "fulfilment completes" wait_state k1.fulfil completed
sleep 0.3
eq "no bookkeeping while stopped" "$(rsv_state k1)" pending
kill -KILL "$RSV_PID"; wait "$RSV_PID" 2>/dev/null || true; RSV_PID=""
start_reservation WFP_CLASSES_DIR="$CLASSES"
ok "k1 active after the restart" wait_rsv k1 active
eq "phase recorded" "$(rsv_field k1 item:kvm)" acquired

# The same for a teardown.
out=$("$REQ" release id=k1)
ok "teardown posted" grep -qx "action=posted" <<<"$out"
kill -STOP "$RSV_PID"
ok "teardown completes" wait_state k1.release.1 completed
sleep 0.3
eq "still active while stopped" "$(rsv_state k1)" active
eq "capacity still taken" "$(pool_field cpus used)" 4
kill -KILL "$RSV_PID"; wait "$RSV_PID" 2>/dev/null || true; RSV_PID=""
start_reservation WFP_CLASSES_DIR="$CLASSES"
ok "k1 released after the restart" wait_rsv k1 released
eq "capacity back" "$(pool_field cpus used)" 0
eq "files gone" "$(files kvm)" ""

# Redis goes away while a fulfilment runs, and comes back with its data.
before=$(rsv_connects)
create k2 "$(rsv_file k2 "[$(item k2vm cpus 2 vm)]")" >/dev/null
rcli SHUTDOWN >/dev/null 2>&1 || true
wait "$REDIS_PID" 2>/dev/null || true
REDIS_PID=""
sleep 1.5
ok "reservation survives the outage" kill -0 "$RSV_PID"
wfp_redis_start "$TMP/redis" --appendonly yes --appendfsync always
ok "both links reconnect" wfp_wait_for rsv_connected_since "$before"
ok "k2 active after the outage" wait_rsv k2 active 30
eq "k2 capacity" "$(pool_field cpus used)" 2
"$REQ" release id=k2 >/dev/null
ok "k2 released" wait_rsv k2 released 20
eq "capacity back after the outage" "$(pool_field cpus used)" 0
eq "no files left" "$(ls "$OUT" | wc -l)" 0
finish
