# wfp-executor, cancel (the job hash's `cancel` field, set here with HSET
# as cancel.lua does: `wfp job cancel` is another branch's): a running
# job stops starting tasks, lets the running one finish within
# WFP_GRACE_MS (or kills it after), reverts what applied and ends
# reverted with "cancelled: REASON"; a job whose executor was killed
# before the cancel arrived is rolled back by the next executor.
# Leases are 2-2.5 s: a shorter one can run out on a loaded machine and the
# board then hands the job out again, running b twice.
. "$(dirname "$0")/lib.sh"
start_board
out="$TMP/out"
IN="{\"out\": \"$out\"}"
A='echo apply-$WFP_TASK >>"$WFP_IN_out"'
R='echo revert-$WFP_TASK >>"$WFP_IN_out"'
SLOW='echo start-$WFP_TASK >>"$WFP_IN_out"; sleep "$WFP_IN_secs"; echo apply-$WFP_TASK >>"$WFP_IN_out"'
three() { echo "{\"linear\": [$(task a "$A" "$R"), $(task b "$SLOW" "$R"), $(task c "$A" "$R")]}"; }
cancel() { rcli HSET "$tag:job:$1" cancel "$2" cancel_at "$(date +%s%3N)" >/dev/null; }

# b runs 1 s, grace 5 s: b finishes, then b and a are reverted.
start_executor c1 WFP_VISIBILITY_MS=2500 WFP_GRACE_MS=5000
c1=$EXEC_PID
id=$(wf_post cancel1 "$(three)" "{\"out\": \"$out\", \"secs\": \"1\"}")
ok "b started" wfp_wait_for grep -q start-b "$out"
cancel "$id" "operator asked"
ok "cancelled job reverted" wait_state "$id" reverted
eq "reason" "$(rcli HGET "$tag:job:$id" error)" "cancelled: operator asked"
eq "b let finish, both reverted, c never ran" "$(tr '\n' ' ' <"$out")" \
  "apply-a start-b apply-b revert-b revert-a "
eq "log" "$(log_states "$id")" \
  "a:running a:applied b:running b:applied b:reverting b:reverted a:reverting a:reverted"
stop_daemon "$c1"

# b runs 30 s, grace 200 ms: b is killed (not reverted), a reverted.
: >"$out"
start_executor c2 WFP_VISIBILITY_MS=2500 WFP_GRACE_MS=200
c2=$EXEC_PID
id=$(wf_post cancel2 "$(three)" "{\"out\": \"$out\", \"secs\": \"30\"}")
ok "b started" wfp_wait_for grep -q start-b "$out"
t0=$(date +%s%N)
cancel "$id" "too slow"
ok "killed and reverted" wait_state "$id" reverted 5
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
ok "within the grace plus a heartbeat ($ms ms)" [ "$ms" -lt 2500 ]
eq "reason" "$(rcli HGET "$tag:job:$id" error)" "cancelled: too slow"
eq "side effects" "$(tr '\n' ' ' <"$out")" "apply-a start-b revert-a "
eq "log" "$(log_states "$id")" \
  "a:running a:applied b:running b:apply-failed a:reverting a:reverted"
stop_daemon "$c2"

# The executor is killed while b runs; the cancel comes meanwhile. b's
# process outlives the executor and applies: the next executor runs b
# again (same key; a cancel refuses only applies that never started) to
# learn its outcome, then reverts b and a, as a live cancel lets a
# running apply finish within the grace.
: >"$out"
start_executor c3 WFP_VISIBILITY_MS=2000
c3=$EXEC_PID
id=$(wf_post cancel3 "$(three)" "{\"out\": \"$out\", \"secs\": \"4\"}")
ok "b started" wfp_wait_for grep -q start-b "$out"
kill -9 "$c3"
cancel "$id" "owner gone"
start_executor c4 WFP_VISIBILITY_MS=2000
ok "rolled back by c4" wait_state "$id" reverted 20
eq "owner" "$(rcli HGET "$tag:job:$id" owner)" c4
eq "reason" "$(rcli HGET "$tag:job:$id" error)" "cancelled: owner gone"
eq "b run again" "$(grep -c start-b "$out")" 2
eq "b reverted" "$(grep -c revert-b "$out")" 1
eq "a reverted" "$(grep -c revert-a "$out")" 1
eq "b reverted after a's apply" "$(grep -E 'revert-(a|b)' "$out" | tr '\n' ' ')" "revert-b revert-a "

# The grace kills applies only: a revert running when it ends goes on.
: >"$out"
start_executor c5 WFP_VISIBILITY_MS=2500 WFP_GRACE_MS=700
SLOWR='sleep 1.5; echo revert-$WFP_TASK >>"$WFP_IN_out"'
id=$(wf_post cancel5 "{\"linear\": [$(task a "$A" "$R"), $(task b "$SLOW" "$SLOWR"), $(task c "$A" "$R")]}" "{\"out\": \"$out\", \"secs\": \"0.5\"}")
ok "b started" wfp_wait_for grep -q start-b "$out"
cancel "$id" "stop"
ok "reverted, the slow revert not killed" wait_state "$id" reverted 10
eq "side effects" "$(tr '\n' ' ' <"$out")" "apply-a start-b apply-b revert-b revert-a "
