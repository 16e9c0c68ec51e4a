# wfp-reservation after an expiry pass that failed: a reconcile that
# waited for that pass (its reservation's TTL was over) is not left
# waiting for a pass that never comes. Here every pass fails for a while
# (a member whose hash is not a hash makes rsv_expire.lua fail), the TTL
# of r1 ends meanwhile, then another caller expires r1 (as a second
# replica would, or as a pass whose reply was lost did): the service's
# expiry set is empty, so it runs no pass any more. When r1's fulfilment
# ends, its capacity must still come back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rsv_lib.bash"
noop_class ip
start_board
at_exit stop_reservation
start_reservation WFP_CLASSES_DIR="$CLASSES"
"$REQ" pool_set name=cpus capacity:=10 >/dev/null
exp="$tag:svc:reservation:expiry"

create r1 "$(rsv_file r1 "[$(item x cpus 3 ip)]" '"ttl_ms": 1000')" >/dev/null
read -r cid tok _ < <("$WFP" job claim --owner me) || fail "claim"
eq "claimed r1's fulfilment" "$cid" r1.fulfil

# Every pass fails until the poison goes.
rcli SET "$tag:rsv:poison" x >/dev/null
rcli ZADD "$exp" 0 poison >/dev/null
sleep 3.5 # r1's TTL ends; sweeps reconcile r1 (it waits for a pass)
ok "passes fail" grep -q "expiry pass refused" "$TMP/reservation.log"
eq "one log line for them, not one a look (every 50 ms)" \
  "$(grep -c "expiry pass refused" "$TMP/reservation.log")" 1
eq "r1 still pending" "$(rsv_state r1)" pending

# Someone else expires r1; the service's set is empty after.
kill -STOP "$RSV_PID"
rcli DEL "$tag:rsv:poison" >/dev/null
rcli ZREM "$exp" poison >/dev/null
rcli EVAL "$("$WFP_BIN/tests/script_text" rsv_expire)" 1 "$exp" "$tag" 100 \
  >"$TMP/expire.out" || fail "rsv_expire.lua: $(cat "$TMP/expire.out")"
eq "r1 expired" "$(rsv_state r1)" expired
eq "capacity still held (its job runs)" "$(pool_field cpus used)" 3
kill -CONT "$RSV_PID"

# The fulfilment ends: the service takes it in.
"$WFP" job fail r1.fulfil "$tok" --reason "rolled back" --final reverted \
  >/dev/null || fail "fail r1.fulfil"
ok "r1 capacity back" wait_returned r1 5
eq "capacity back" "$(pool_field cpus used)" 0
eq "not open" "$(rcli ZSCORE "$tag:svc:reservation:open" r1)" ""
finish
