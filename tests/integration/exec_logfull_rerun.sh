# wfp-executor, a full task log and an apply a lost owner left running:
# the log shows b `running` without an end (its executor was SIGKILLed,
# the action may have done its work). The next owner runs b again with
# the same key to learn its outcome, but the log is full for starts
# (LOGFULL "no task starts"): b's new `running` entry is refused. b must
# still run (its start is already in the log) and be reverted with a,
# not be taken for "not started" and left applied while the job says
# reverted.
. "$(dirname "$0")/lib.sh"
start_board
start_executor r1 WFP_VISIBILITY_MS=2000
out="$TMP/out"
A='echo apply-$WFP_TASK >>"$WFP_IN_out"; [ "$WFP_TASK" != b ] || until [ -e "$WFP_IN_go" ]; do sleep 0.05; done'
R='echo revert-$WFP_TASK >>"$WFP_IN_out"'
wf="{\"linear\": [$(task a "$A" "$R"), $(task b "$A" "$R")]}"
id=$(wf_post rerun "$wf" "{\"out\": \"$out\", \"go\": \"$TMP/go\"}")
ok "b runs" wfp_wait_for grep -q apply-b "$out"
{ kill -9 "$EXEC_PID"; wait "$EXEC_PID"; } 2>/dev/null || true
touch "$TMP/go" # the orphaned b ends
eq "the log shows b running" "$(log_states "$id")" \
  "a:running a:applied b:running"
# The log as if it had grown to its size (64 MiB - 1 byte).
rcli HSET "$tag:job:$id" log_bytes $((64 * 1024 * 1024 - 1)) >/dev/null
start_executor r2 WFP_VISIBILITY_MS=2000
ok "the job ends reverted" wait_state "$id" reverted 20
eq "b ran again and both were reverted" "$(tr '\n' ' ' <"$out")" \
  "apply-a apply-b apply-b revert-b revert-a "
eq "b's end and the reverts are logged" "$(log_states "$id")" \
  "a:running a:applied b:running b:applied b:reverting b:reverted a:reverting a:reverted"

# The same with a cancel: the next owner resumes in rollback and runs b
# again as a recover; the log refuses its entry (no task starts) while a
# rollback runs. That refusal concerns the start only: b still runs and
# the rollback goes on (it is not stopped with a left applied).
out2="$TMP/out2"
id2=$(wf_post rerun2 "$wf" "{\"out\": \"$out2\", \"go\": \"$TMP/go2\"}")
ok "b of the second job runs" wfp_wait_for grep -q apply-b "$out2"
{ kill -9 "$EXEC_PID"; wait "$EXEC_PID"; } 2>/dev/null || true
touch "$TMP/go2"
"$WFP" job cancel "$id2" --reason "operator" >/dev/null
rcli HSET "$tag:job:$id2" log_bytes $((64 * 1024 * 1024 - 1)) >/dev/null
start_executor r3 WFP_VISIBILITY_MS=2000
ok "the second job ends reverted" wait_state "$id2" reverted 20
eq "its b ran again and both were reverted" "$(tr '\n' ' ' <"$out2")" \
  "apply-a apply-b apply-b revert-b revert-a "
finish
