# wfp-executor, a task that loses its lock while it runs: the lock is
# taken from the executor (its renew is refused): the task is no longer
# protected, so it is killed at once and its apply logged failed with
# "lock ... lost", never left running without the lock.
. "$(dirname "$0")/lib.sh"
start_board
start_lock
at_exit stop_lock
start_executor k1 WFP_VISIBILITY_MS=900
out="$TMP/out"
A='echo $$ >"$WFP_IN_out"; sleep 30'
id=$(wf_post lockloss "{\"linear\": [$(task a "$A" "" '{"locks": ["L"]}')]}" "{\"out\": \"$out\"}")
ok "a runs holding L" wfp_wait_for test -s "$out"
ok "L held by k1" wfp_wait_for bash -c "[ -n \"\$(redis-cli -u '$WFP_REDIS_URL' GET '$tag:lock:L')\" ]"
# An outsider takes L (as after an expiry during an outage).
rcli SET "$tag:lock:L" "outsider/0" >/dev/null
ok "ends reverted in time" wait_state "$id" reverted 5
ok "the task was killed" wfp_wait_for bash -c "! kill -0 $(cat "$out") 2>/dev/null"
eq "log" "$(log_states "$id")" "a:running a:apply-failed"
err=$(rcli HGET "$tag:job:$id" error)
ok "reason names the lost lock ($err)" grep -q "lock L lost" <<<"$err"
eq "the outsider still holds L" "$(rcli GET "$tag:lock:L")" "outsider/0"
finish
