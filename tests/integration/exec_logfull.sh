# wfp-executor and a full task log (log_append.lua's LOGFULL): once a
# job's log holds WFP_LOG_BYTES_MAX bytes (64 MiB) no task of it starts;
# the tasks that ran are reverted within the log's reserve, their ends
# and reverts logged, and the job ends reverted with the refusal as its
# reason. The executor keeps running and runs the next job.
. "$(dirname "$0")/lib.sh"
start_board
start_executor r1 WFP_VISIBILITY_MS=3000
out="$TMP/out"
# a waits for the file go, made once the log is "full".
A='echo apply-$WFP_TASK >>"$WFP_IN_out"; [ "$WFP_TASK" != a ] || until [ -e "$WFP_IN_go" ]; do sleep 0.05; done'
R='echo revert-$WFP_TASK >>"$WFP_IN_out"'
wf="{\"linear\": [$(task a "$A" "$R"), $(task b "$A" "$R"), $(task c "$A" "$R")]}"
id=$(wf_post full "$wf" "{\"out\": \"$out\", \"go\": \"$TMP/go\"}")
ok "a runs" wfp_wait_for grep -q apply-a "$out"
# The log as if it had grown to its size (64 MiB - 1 byte) while a ran.
rcli HSET "$tag:job:$id" log_bytes $((64 * 1024 * 1024 - 1)) >/dev/null
touch "$TMP/go"
ok "the job ends reverted" wait_state "$id" reverted 10
err=$(rcli HGET "$tag:job:$id" error)
ok "reason names the refusal ($err)" bash -c "[[ '$err' == 'task log write refused: LOGFULL task log of job $id holds '*' bytes: no task starts past 100000 entries or 67108864 bytes'* ]]"
eq "b never ran, a reverted" "$(tr '\n' ' ' <"$out")" "apply-a revert-a "
eq "a's end and revert are logged" "$(log_states "$id")" \
  "a:running a:applied b:apply-failed a:reverting a:reverted"
eq "claimed once" "$(rcli HGET "$tag:job:$id" attempts)" 1
ok "the executor says so" grep -q "job $id: task log full: LOGFULL" "$TMP/exec-r1.log"
ok "the executor still runs" kill -0 "$EXEC_PID"
: >"$out"
id2=$(wf_post next "$wf" "{\"out\": \"$out\", \"go\": \"$TMP/go\"}")
ok "the next job completes" wait_state "$id2" completed 10
eq "its tasks ran" "$(tr '\n' ' ' <"$out")" "apply-a apply-b apply-c "
finish
