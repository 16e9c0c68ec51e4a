# wfp-executor, linear workflows: tasks apply in order; a failure in task
# k reverts k-1..1 in that order (side effects in a file prove it) and the
# job ends reverted; a failing revert leaves it failed with the reason in
# its error and its log, every other revert still tried; an unreadable
# workflow and a payload without one end dead with the reason.
. "$(dirname "$0")/lib.sh"
start_board
out="$TMP/out"
IN="{\"out\": \"$out\"}"
A='echo apply-$WFP_TASK >>"$WFP_IN_out"'
R='echo revert-$WFP_TASK >>"$WFP_IN_out"'

# Post while no executor runs (the last two are spoiled below), then start one.
ok_id=$(wf_post ok "{\"linear\": [$(task a "$A" "$R"), $(task b "$A" "$R"), $(task c "$A" "$R")]}" "$IN")
bad=$(wf_post bad "{\"linear\": [$(task x "true")]}")
plain=$(wf_post plain "{\"linear\": [$(task y "true")]}")
rcli HSET "$tag:job:$bad" payload '{"workflow": {"linear": [{"task": "x"}]}}' >/dev/null
rcli HSET "$tag:job:$plain" payload '{"step": 1}' >/dev/null
mport=$(wfp_free_port)
start_executor e1 WFP_METRICS_ADDR=127.0.0.1:$mport
ok "linear completes" wait_state "$ok_id" completed
eq "applied in order" "$(tr '\n' ' ' <"$out")" "apply-a apply-b apply-c "
eq "log of the run" "$(log_states "$ok_id")" \
  "a:running a:applied b:running b:applied c:running c:applied"
# One round trip per boundary: a task's `applied` and the next one's
# `running` go in one log_append: 6 entries in 4 calls.
m=$(http_get 127.0.0.1 "$mport" /metrics)
ok "6 entries" grep -q "^wfp_executor_log_entries_total 6$" <<<"$m"
ok "in 4 calls" grep -q "^wfp_executor_log_calls_total 4$" <<<"$m"
ok "redis connected" grep -q "^wfp_redis_connected 1$" <<<"$m"
ok "connected once" grep -q "^wfp_redis_connects_total 1$" <<<"$m"
ok "unreadable workflow is dead" wait_state "$bad" dead
err=$(rcli HGET "$tag:job:$bad" error)
ok "dead with the parser's message ($err)" grep -q "apply" <<<"$err"
ok "payload without workflow is dead" wait_state "$plain" dead
eq "its reason" "$(rcli HGET "$tag:job:$plain" error)" "payload holds no workflow"

# Task d of 5 fails: c, b, a reverted in that order; e never runs.
: >"$out"
id=$(wf_post fail4 "{\"linear\": [$(task a "$A" "$R"), $(task b "$A" "$R"), $(task c "$A" "$R"), $(task d "$A; exit 3" "$R"), $(task e "$A" "$R")]}" "$IN")
ok "failure reverts" wait_state "$id" reverted
eq "side effects" "$(tr '\n' ' ' <"$out")" \
  "apply-a apply-b apply-c apply-d revert-c revert-b revert-a "
eq "reason" "$(rcli HGET "$tag:job:$id" error)" "task d failed: exit 3"
eq "log" "$(log_states "$id")" \
  "a:running a:applied b:running b:applied c:running c:applied d:running d:apply-failed c:reverting c:reverted b:reverting b:reverted a:reverting a:reverted"

# A task without a revert is skipped; a revert that fails (b) leaves the
# job failed naming it, and a is still reverted.
: >"$out"
id=$(wf_post failrev "{\"linear\": [$(task a "$A" "$R"), $(task b "$A" "$R; echo cannot >&2; exit 5"), $(task n "$A"), $(task c "$A; exit 4" "$R")]}" "$IN")
ok "failed revert ends failed" wait_state "$id" failed
eq "side effects" "$(tr '\n' ' ' <"$out")" \
  "apply-a apply-b apply-n apply-c revert-b revert-a "
eq "reason names the revert" "$(rcli HGET "$tag:job:$id" error)" \
  "task c failed: exit 4; revert failed: b (exit 5: cannot)"
eq "log" "$(log_states "$id")" \
  "a:running a:applied b:running b:applied n:running n:applied c:running c:apply-failed n:skipped b:reverting b:revert-failed a:reverting a:reverted"
ok "stderr tail kept on the failure" bash -c \
  "redis-cli -u '$WFP_REDIS_URL' --raw XRANGE '$tag:job:$id:log' - + | grep -qx cannot"
m=$(http_get 127.0.0.1 "$mport" /metrics)
for want in "jobs_claimed_total 5" "jobs_completed_total 1" \
  "jobs_reverted_total 1" "jobs_failed_total 1" "jobs_dead_total 2" \
  "tasks_applied_total 9" "tasks_reverted_total 4" "tasks_running 0"; do
  ok "metric $want" grep -q "^wfp_executor_$want$" <<<"$m"
done
# Claims come from wake-ups, not from every task's end (16 here).
claims=$(awk '/^wfp_executor_claim_calls_total/ {print $2}' <<<"$m")
ok "few claim calls ($claims)" [ "$claims" -le 10 ]
ok "healthz" grep -q "^ok" <<<"$(http_get 127.0.0.1 "$mport" /healthz)"
