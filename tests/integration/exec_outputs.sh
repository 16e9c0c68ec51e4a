# wfp-executor, outputs the task log cannot hold: a task whose last
# stdout line is a JSON object nested deeper than the board accepts
# (WFP_PAYLOAD_DEPTH_MAX) fails with a clear error; the job is never
# lost to its own executor (log_append refused the whole batch, the
# executor forgot the job and it came back again and again).
. "$(dirname "$0")/lib.sh"
start_board
start_executor o1 WFP_VISIBILITY_MS=1000
deep=$(python3 -c 'print("{\"a\":" + "[" * 600 + "1" + "]" * 600 + "}")')
A="echo '$deep'"
id=$(wf_post deep "{\"linear\": [$(task a "$A")]}")
ok "ends reverted" wait_state "$id" reverted 5
eq "log" "$(log_states "$id")" "a:running a:apply-failed"
err=$(rcli HGET "$tag:job:$id" error)
ok "reason says why ($err)" grep -q "outputs nest deeper than" <<<"$err"
ok "never lost" bash -c "! grep -q 'lost' '$TMP/exec-o1.log'"
# At the limit is fine.
ok512=$(python3 -c 'print("{\"a\":" + "[" * 511 + "1" + "]" * 511 + "}")')
id2=$(wf_post deep2 "{\"linear\": [$(task a "echo '$ok512'")]}")
ok "512 levels complete" wait_state "$id2" completed 5
# A revert that prints such outputs succeeded: its outputs are not used
# (nor logged) and the rollback ends reverted.
id3=$(wf_post deep3 "{\"linear\": [$(task a "true" "echo '$deep'"), $(task b "exit 3")]}")
ok "the revert counts as done" wait_state "$id3" reverted 5
eq "log" "$(log_states "$id3")" "a:running a:applied b:running b:apply-failed a:reverting a:reverted"
ok "still never lost" bash -c "! grep -q 'lost' '$TMP/exec-o1.log'"
finish
