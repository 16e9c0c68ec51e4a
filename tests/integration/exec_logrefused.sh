# wfp-executor, a task log write refused for another reason than STALE /
# NOJOB (here WRONGTYPE: the log key replaced by a string): the job is
# still the executor's, so it is not forgotten (it would come back at
# every claim until its attempts ran out). The refusal starts a rollback;
# when the rollback's own entries are refused too, nothing more runs and
# the job ends failed, its reason naming the refusal, on its first claim.
. "$(dirname "$0")/lib.sh"
start_board
start_executor r1 WFP_VISIBILITY_MS=3000
out="$TMP/out"
A='echo apply-$WFP_TASK >>"$WFP_IN_out"; sleep 0.5'
R='echo revert-$WFP_TASK >>"$WFP_IN_out"'
id=$(wf_post refused "{\"linear\": [$(task a "$A" "$R"), $(task b "$A" "$R")]}" "{\"out\": \"$out\"}")
ok "a runs" wfp_wait_for grep -q apply-a "$out"
rcli DEL "$tag:job:$id:log" >/dev/null
rcli SET "$tag:job:$id:log" broken >/dev/null
ok "the job ends failed" wait_state "$id" failed 6
err=$(rcli HGET "$tag:job:$id" error)
ok "reason names the refusal ($err)" bash -c "[[ '$err' == 'task log write refused: WRONGTYPE'*'rollback stopped: task log write refused: WRONGTYPE'* ]]"
eq "claimed once" "$(rcli HGET "$tag:job:$id" attempts)" 1
eq "b never ran, a's revert could not be logged" "$(tr '\n' ' ' <"$out")" "apply-a "
ok "the executor says so" grep -q "job $id: task log write refused" "$TMP/exec-r1.log"
ok "not lost" bash -c "! grep -q 'job $id lost' '$TMP/exec-r1.log'"
