# wfp-executor, a job lost to its owner: an operator reposts a job while
# its executor runs a task; the executor's next log write is refused
# (STALE), it kills the task and forgets the job, writing nothing more;
# the repost starts run 2, which runs every task again with new keys.
. "$(dirname "$0")/lib.sh"
start_board
out="$TMP/out"
A='echo "$WFP_TASK_KEY" >>"$WFP_IN_out"'
B='echo "$WFP_TASK_KEY" >>"$WFP_IN_out"; if [ ! -e "$WFP_IN_out.first" ]; then echo $$ >"$WFP_IN_out.first"; sleep 30; fi'
start_executor x1 WFP_VISIBILITY_MS=600
id=$(wf_post lost "{\"linear\": [$(task a "$A"), $(task b "$B")]}" "{\"out\": \"$out\"}")
ok "b runs" wfp_wait_for test -s "$out.first"
ok "repost" "$WFP" job repost "$id"
eq "run 2" "$(rcli HGET "$tag:job:$id" run)" 2
ok "x1 lost it" wfp_wait_for grep -q "job $id lost" "$TMP/exec-x1.log"
ok "the task was killed" wfp_wait_for bash -c "! kill -0 $(cat "$out.first") 2>/dev/null"
ok "run 2 completes" wait_state "$id" completed
eq "keys of both runs" "$(tr '\n' ' ' <"$out")" "$id:1:a $id:1:b $id:2:a $id:2:b "
runs=$(rcli --raw XRANGE "$tag:job:$id:log" - + | awk '$0 == "run" { getline; print }' | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
eq "run 1 wrote nothing after the repost" "$runs" "1x3 2x4 "
