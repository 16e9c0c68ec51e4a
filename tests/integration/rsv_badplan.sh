# wfp-reservation with a reservation whose stored plan it cannot parse
# (a plan written by another version, a hand-edited hash): the state
# still follows the jobs and the capacity still comes back; only a
# teardown, which needs the plan, is refused (and said in the log).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rsv_lib.bash"
noop_class ip
start_board
at_exit stop_reservation
start_reservation WFP_CLASSES_DIR="$CLASSES"
"$REQ" pool_set name=cpus capacity:=10 >/dev/null

# Fulfilled by hand after the plan went bad: pending -> active.
create b1 "$(rsv_file b1 "[$(item x cpus 3 ip)]")" >/dev/null
rcli HSET "$tag:rsv:b1" plan '{"bad": 1}' >/dev/null
read -r cid tok _ < <("$WFP" job claim --owner me) || fail "claim"
eq "claimed b1's fulfilment" "$cid" b1.fulfil
"$WFP" job complete b1.fulfil "$tok" >/dev/null || fail "complete b1.fulfil"
ok "b1 active" wait_rsv b1 active 5
ok "the log says the plan is bad" grep -q "reservation b1: its plan does not parse" \
  "$TMP/reservation.log"
out=$("$REQ" release id=b1 2>&1) && fail "release of b1 without a plan: $out"
ok "its release says why it cannot tear down" \
  grep -q "reservation b1 cannot be torn down: its plan does not parse" <<<"$out"

# Failed by hand after the plan went bad: pending -> failed, capacity back.
create b2 "$(rsv_file b2 "[$(item y cpus 4 ip)]")" >/dev/null
rcli HSET "$tag:rsv:b2" plan 'not json' >/dev/null
read -r cid tok _ < <("$WFP" job claim --owner me) || fail "claim"
eq "claimed b2's fulfilment" "$cid" b2.fulfil
"$WFP" job fail b2.fulfil "$tok" --reason "broken" --final failed >/dev/null ||
  fail "fail b2.fulfil"
ok "b2 failed" wait_rsv b2 failed 5
ok "b2 capacity back" wait_returned b2 5
eq "only b1's capacity is used" "$(pool_field cpus used)" 3
eq "b2 not open" "$(rcli ZSCORE "$tag:svc:reservation:open" b2)" ""
finish
