# wfp-executor, a rollback resumed after its executor died while an apply
# ran: that apply may have done its work (its process outlives the
# executor), so the next owner runs it again (same WFP_TASK_KEY) before
# the reverts and reverts it when it applies, as a live rollback lets a
# running apply finish. It was forgotten: the job ended "reverted" with
# the apply's effect left behind.
. "$(dirname "$0")/lib.sh"
start_board
d="$TMP/d"
mkdir -p "$d"
A='sleep 1; touch "$WFP_IN_d/res"; echo "$WFP_TASK_KEY" >>"$WFP_IN_d/keys"'
R='rm -f "$WFP_IN_d/res"; echo revert >>"$WFP_IN_d/reverts"'
start_executor r1 WFP_VISIBILITY_MS=1000
r1=$EXEC_PID
id=$(wf_post resume "{\"unordered\": [$(task a "$A" "$R"), $(task b "exit 3")]}" "{\"d\": \"$d\"}")
ok "b failed for good while a runs" wfp_wait_for bash -c "redis-cli -u '$WFP_REDIS_URL' --raw XRANGE '$tag:job:$id:log' - + | grep -q '^apply-failed$'"
kill -9 "$r1"
start_executor r2 WFP_VISIBILITY_MS=1000
ok "reverted on r2" wait_state "$id" reverted 10
ok "the first run of a ended" wfp_wait_for test -s "$d/keys"
sleep 0.2
ok "a's effect was reverted" bash -c "! test -e '$d/res'"
eq "a ran twice" "$(wc -l <"$d/keys")" 2
eq "with one key" "$(sort -u "$d/keys")" "$id:1:a"
eq "reverted once" "$(cat "$d/reverts")" revert
eq "reason" "$(rcli HGET "$tag:job:$id" error)" "task b failed: exit 3"
eq "log" "$(log_states "$id" | tr ' ' '\n' | sort | tr '\n' ' ')" "a:applied a:reverted a:reverting a:running a:running b:apply-failed b:running "

# The same after a cancel: the apply that ran when the executor died
# runs again (a cancel refuses only applies that never started) and is
# reverted; the job ends "cancelled: stop".
stop_executors
rm -f "$d/keys" "$d/reverts"
start_executor r3 WFP_VISIBILITY_MS=1000
r3=$EXEC_PID
id=$(wf_post resume2 "{\"linear\": [$(task c "$A" "$R")]}" "{\"d\": \"$d\"}")
ok "c runs" wfp_wait_for bash -c "redis-cli -u '$WFP_REDIS_URL' --raw XRANGE '$tag:job:$id:log' - + | grep -q '^running$'"
"$WFP" job cancel "$id" --reason stop >/dev/null
kill -9 "$r3"
start_executor r4 WFP_VISIBILITY_MS=1000
ok "reverted on r4" wait_state "$id" reverted 10
ok "the first run of c ended" wfp_wait_for test -s "$d/keys"
sleep 0.2
ok "c's effect was reverted" bash -c "! test -e '$d/res'"
eq "reverted once" "$(cat "$d/reverts")" revert
eq "reason" "$(rcli HGET "$tag:job:$id" error)" "cancelled: stop"
finish
